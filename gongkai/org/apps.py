from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "gongkai.org"
    verbose_name = _("Org")

    def ready(self) -> None:
        # The roster jobs read the models, which can be imported only once the app registry
        # is ready, i.e. here; so do the roles that directory logins (gongkai.accounts,
        # below) bring in line through the org services (org/directory_roles.py).
        from gongkai.accounts.directory_config import install_roles
        from gongkai.org import jobs  # noqa: F401
        from gongkai.org.directory_roles import OrgDirectoryRoles  # (the same reason)

        install_roles(OrgDirectoryRoles())
