"""Who may read a published item: the employees it concerns (internal) or everyone (public).
A catalog rule's default, a disclosure's and its revisions' scope, and the search index's
visibility tokens all use it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    INTERNAL = "internal", _("Internal (employees)")
    PUBLIC = "public", _("Also public")
