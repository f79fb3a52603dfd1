from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from gongkai.core import access


class PolicyConfig(AppConfig):
    name = "gongkai.policy"
    verbose_name = _("Policy")

    def ready(self) -> None:
        # Imported here, not at the top: the rules read org's models, which Django loads
        # only after every app's config (the documented place is ready()).
        from gongkai.policy.rules import GATE

        access.install(GATE)
