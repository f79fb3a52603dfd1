"""The request of a signed-in user, as views behind ``@login_required`` see it."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

from gongkai.accounts.models import User


class AuthedRequest(HttpRequest):
    """A request behind @login_required: its user is a real account (for annotations)."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The account behind a request that ``@login_required`` has let through."""
    return cast(User, request.user)
