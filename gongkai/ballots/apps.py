from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from gongkai.core.deadlines import register as register_deadline_source


class BallotsConfig(AppConfig):
    name = "gongkai.ballots"
    verbose_name = _("Secret ballots")

    def ready(self) -> None:
        # The deadlines read the models, which can be imported only once the app registry
        # is ready, i.e. here.
        from gongkai.ballots.deadlines import SOURCE

        register_deadline_source(SOURCE)
