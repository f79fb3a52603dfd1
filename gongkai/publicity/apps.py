from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from gongkai.core.handling import register_handling_source


class PublicityConfig(AppConfig):
    name = "gongkai.publicity"
    verbose_name = _("Publicity and objections")

    def ready(self) -> None:
        # The selectors import the models, which can be imported only once the app
        # registry is ready, i.e. here.
        from gongkai.publicity.selectors import HANDLING_SOURCE

        register_handling_source(HANDLING_SOURCE)
