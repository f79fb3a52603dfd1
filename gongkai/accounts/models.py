"""Users log in with their employee number (工号)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Employee numbers of service accounts (gongkai.api: another system acting through API
# tokens). No roster number can hold ":" (org.roster_parse), so the two never meet.
SERVICE_NUMBER_PREFIX = "svc:"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, employee_no: str, password: str | None = None, **fields: Any) -> User:
        if not employee_no:
            raise ValueError("employee_no is required")
        user = self.model(employee_no=employee_no.strip(), **fields)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(
        self, employee_no: str, password: str | None = None, **fields: Any
    ) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(employee_no, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    employee_no = models.CharField(_("employee number"), max_length=32, unique=True)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=64)
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
    )
    position = models.CharField(_("position"), max_length=64, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Per-account login throttling (accounts.services.login_attempt): guesses counted since
    # the last success, when the last one was counted, and no guess is checked before
    # ``locked_until``.
    failed_logins = models.PositiveSmallIntegerField(_("failed logins"), default=0)
    failed_login_at = models.DateTimeField(_("last failed login"), null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    # Set when the union office issues a temporary password: the next login must change it.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    # Directory sign-in (gongkai.accounts.directory): the entry this account signed in with,
    # set at its first directory login (then its local password is refused and unusable);
    # a login never clears it, only the server's `manage.py directory unlink`.
    directory_dn = models.CharField(_("directory entry"), max_length=512, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "employee_no"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["employee_no"]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    @property
    def is_service(self) -> bool:
        """A service account: it holds roles, but is never told, asked or counted as a
        person (policy.rules.holders leaves it out)."""
        return self.employee_no.startswith(SERVICE_NUMBER_PREFIX)

    def is_locked(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.locked_until is not None and self.locked_until > now


class PasswordHistory(models.Model):
    """A password the account had before its current one: only the hash (the same hasher
    as ``User.password``), so that a new password can be refused when it is an old one."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="password_history", verbose_name=_("user")
    )
    password = models.CharField(_("password hash"), max_length=128)
    replaced_at = models.DateTimeField(_("replaced at"), default=timezone.now)

    class Meta:
        verbose_name = _("former password")
        verbose_name_plural = _("former passwords")
        ordering = ["-replaced_at", "-id"]
        indexes = [models.Index(fields=["user", "-replaced_at"], name="accounts_pwhist_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.replaced_at:%Y-%m-%d}"


class DirectoryPolicy(models.Model):
    """The one row (pk 1) of the site's directory sign-in policy: whether every login must
    go through the directory (local passwords refused for every account). Changed only by
    ``accounts.services.directory_require_set``."""

    ONLY = 1

    required = models.BooleanField(_("directory required for everyone"), default=False)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    changed_by = models.ForeignKey(
        User,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("directory policy")
        verbose_name_plural = _("directory policy")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="directory_policy_one_row")
        ]

    def __str__(self) -> str:
        return f"directory required: {self.required}"

    @classmethod
    def is_required(cls) -> bool:
        return cls.objects.filter(pk=cls.ONLY, required=True).exists()
