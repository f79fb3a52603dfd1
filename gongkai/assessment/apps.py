from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "gongkai.assessment"
    verbose_name = _("Compliance and assessment")

    def ready(self) -> None:
        # The report job reads the models, which can be imported only once the app
        # registry is ready, i.e. here.
        from gongkai.assessment import jobs  # noqa: F401
