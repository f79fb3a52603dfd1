from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from gongkai.core.deadlines import register as register_deadline_source


class SurveysConfig(AppConfig):
    name = "gongkai.surveys"
    verbose_name = _("Satisfaction surveys")

    def ready(self) -> None:
        # The deadlines read the models, which can be imported only once the app registry
        # is ready, i.e. here.
        from gongkai.surveys.deadlines import SOURCE

        register_deadline_source(SOURCE)
