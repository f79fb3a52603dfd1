from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running an installation: backups and restores, the metrics a monitor scrapes. At the
    top of the house, so it may read every part (a backup counts every table); nothing
    imports it."""

    name = "gongkai.ops"
    label = "ops"
    verbose_name = _("Operations")
