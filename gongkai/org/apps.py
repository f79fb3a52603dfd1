from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "gongkai.org"
    verbose_name = _("Org")

    def ready(self) -> None:
        # The roster jobs read the models, which can be imported only once the app registry
        # is ready, i.e. here.
        from gongkai.org import jobs  # noqa: F401
