from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "gongkai.ledger"
    verbose_name = _("Ledger")

    def ready(self) -> None:
        from gongkai.ledger.checks import signing_key_present  # checks load once apps are ready

        checks.register(signing_key_present, checks.Tags.security, deploy=True)
