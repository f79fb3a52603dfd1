from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo company (``manage.py seed_demo``): at the top of the house, so it may seed
    every part; nothing imports it."""

    name = "gongkai.demo"
    verbose_name = _("Demo company")
