from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "gongkai.core"
    verbose_name = _("Core")

    def ready(self) -> None:
        autodiscover_modules("board")  # the parts' board.py register their board sections
