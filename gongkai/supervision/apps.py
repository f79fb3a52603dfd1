from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from gongkai.core.deadlines import register as register_deadline_source


class SupervisionConfig(AppConfig):
    name = "gongkai.supervision"
    verbose_name = _("Supervision")

    def ready(self) -> None:
        # The deadlines read the models, which can be imported only once the app registry
        # is ready, i.e. here.
        from gongkai.supervision.deadlines import SOURCE

        register_deadline_source(SOURCE)
        # The document jobs read the models too: registered here for the same reason.
        from gongkai.supervision import jobs  # noqa: F401
