from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from gongkai.policy.rules import Action, can


class May:
    """``{% if may.audit_browse %}`` in templates: may the user do this anywhere?"""

    def __init__(self, user: Any) -> None:
        self._user = user

    def __getattr__(self, name: str) -> bool:
        try:
            action = Action[name.upper()]
        except KeyError as exc:
            raise AttributeError(name) from exc
        return can(self._user, action)


def policy(request: HttpRequest) -> dict[str, Any]:
    return {"may": May(getattr(request, "user", None))}
