from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongkai.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # The directory configuration's system checks register themselves on import.
        from gongkai.accounts import checks  # noqa: F401
