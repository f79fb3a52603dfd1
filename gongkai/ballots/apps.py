from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BallotsConfig(AppConfig):
    name = "gongkai.ballots"
    verbose_name = _("Secret ballots")
