"""Local passwords beside a directory (AUTHENTICATION_BACKENDS, after the directory's)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils.translation import gettext as _

from gongkai.accounts.directory_config import DirectoryRefused, configured
from gongkai.accounts.models import DirectoryPolicy, User


class LocalPasswordBackend(ModelBackend):
    """Django's password check, refused for an account linked to a directory entry and,
    while the union office requires the directory, for every account. The refusal comes
    with its reason only when the password was right (otherwise: the plain "wrong")."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if not isinstance(user, User) or not configured():
            return user
        if user.directory_dn:
            raise DirectoryRefused(
                "directory_account",
                _(
                    "This account signs in with the directory: use your directory login name "
                    "and directory password."
                ),
            )
        if DirectoryPolicy.is_required():
            raise DirectoryRefused(
                "directory_required",
                _(
                    "Signing in through the directory is required for everyone: use your "
                    "directory login name and password. If you have no directory account, "
                    "ask the union office."
                ),
            )
        return user
