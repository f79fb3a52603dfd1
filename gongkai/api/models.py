"""Access tokens for the JSON API, and the service accounts that other systems act as."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ServiceAccount(models.Model):
    """Another system (the HR system, the OA, the union's own web page) as an account of its
    own: a user with no unit (so it is never an employee, an elector or on a roster) and no
    password, holding the roles the union office granted it, and acting only through its
    tokens. Its actions are audited under its own name."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="service_account",
        verbose_name=_("account"),
    )
    company = models.ForeignKey(
        "org.OrgUnit",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("company"),
    )
    description = models.CharField(_("what it is for"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("service account")
        verbose_name_plural = _("service accounts")
        ordering = ["company__path", "user__name"]

    def __str__(self) -> str:
        return self.user.name


class AccessToken(models.Model):
    """A bearer token for the API. Only the SHA-256 of the token is stored; the token itself
    is shown once, when it is created. It acts as its user, never with more: the policy
    decides as for the pages, and the token narrows further to reading (``read``) and to
    the subtrees of its units (none: wherever its user may act)."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("personal")
        SERVICE = "service", _("service")

    class Scope(models.TextChoices):
        READ = "read", _("read only")
        WRITE = "write", _("read and write")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="access_tokens",
        verbose_name=_("acts as"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    units = models.ManyToManyField(
        "org.OrgUnit", blank=True, related_name="+", verbose_name=_("units")
    )
    prefix = models.CharField(_("token starts with"), max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="token_user_newest")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def active(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.revoked_at is None and self.expires_at > moment  # type: ignore[operator]
