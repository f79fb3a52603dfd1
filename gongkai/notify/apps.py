from contextlib import suppress

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "gongkai.notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Imported here, not at the top: the queue reads settings.HUEY and the hook writes
        # this app's models, both usable only once every app is loaded (Django's ready()).
        from huey.signals import SIGNAL_ERROR, SIGNAL_TIMEOUT

        from gongkai.core.queue import HUEY  # reads settings.HUEY: only in ready()
        from gongkai.notify.admin_services import on_task_error  # uses the models: ready()

        # Every failed attempt of every task is recorded; the last one tells the union
        # office. Disconnected first, so that a second ready() never connects it twice
        # (Huey raises KeyError for a signal nobody listens to yet).
        for signal in (SIGNAL_ERROR, SIGNAL_TIMEOUT):
            with suppress(KeyError):
                HUEY.disconnect_signal(on_task_error, signal)
        HUEY.signal(SIGNAL_ERROR, SIGNAL_TIMEOUT)(on_task_error)
