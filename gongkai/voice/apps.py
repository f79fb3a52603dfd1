from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from gongkai.core.deadlines import register as register_deadline_source
from gongkai.core.handling import register_handling_source


class VoiceConfig(AppConfig):
    name = "gongkai.voice"
    verbose_name = _("Employee voice")

    def ready(self) -> None:
        # The selectors import the models, which can be imported only once the app
        # registry is ready, i.e. here.
        from gongkai.voice.selectors import HANDLING_SOURCE

        register_handling_source(HANDLING_SOURCE)
        # The deadlines read the models too: registered once the registry is ready.
        from gongkai.voice.deadlines import SOURCE

        register_deadline_source(SOURCE)
