from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from gongkai.core.deadlines import register as register_deadline_source
from gongkai.core.handling import register_handling_source


class PublicityConfig(AppConfig):
    name = "gongkai.publicity"
    verbose_name = _("Publicity and objections")

    def ready(self) -> None:
        # The selectors import the models, which can be imported only once the app
        # registry is ready, i.e. here.
        from gongkai.publicity.selectors import HANDLING_SOURCE

        register_handling_source(HANDLING_SOURCE)
        # The deadlines read the models too: registered once the registry is ready.
        from gongkai.publicity.deadlines import FINDING_SOURCE, WINDOW_SOURCE

        register_deadline_source(WINDOW_SOURCE)
        register_deadline_source(FINDING_SOURCE)
