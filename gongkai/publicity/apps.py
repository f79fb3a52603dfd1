from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicityConfig(AppConfig):
    name = "gongkai.publicity"
    verbose_name = _("Publicity and objections")
