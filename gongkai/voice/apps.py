from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    name = "gongkai.voice"
    verbose_name = _("Employee voice")
