"""``/me``: who the caller is, what they hold, and what the token may do."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from gongkai.api.auth import caller, token_of
from gongkai.api.schemas import UnitRef, responses
from gongkai.org.models import Role

router = Router(tags=["me"])


class RoleOut(Schema):
    role: str
    role_name: str
    unit: UnitRef


class TokenInfo(Schema):
    name: str
    kind: str
    scope: str
    units: list[str]
    expires_at: datetime


class Me(Schema):
    employee_no: str
    name: str
    unit: UnitRef | None
    roles: list[RoleOut]
    token: TokenInfo | None


def unit_ref(unit: object) -> dict[str, str] | None:
    if unit is None:
        return None
    return {"code": unit.code, "name": unit.name, "kind": unit.kind}  # type: ignore[attr-defined]


@router.get("/me", response=responses(Me), summary="Who I am")
def me(request: HttpRequest) -> dict[str, object]:
    user = caller(request)
    token = token_of(request)
    assignments = user.role_assignments.select_related("unit").filter(unit__is_active=True)
    return {
        "employee_no": user.employee_no,
        "name": user.name,
        "unit": unit_ref(user.unit),
        "roles": [
            {"role": a.role, "role_name": str(Role(a.role).label), "unit": unit_ref(a.unit)}
            for a in assignments.order_by("unit__path", "role")
        ],
        "token": None
        if token is None
        else {
            "name": token.name,
            "kind": token.kind,
            "scope": token.scope,
            "units": [unit.code for unit in token.units.all()],
            "expires_at": token.expires_at,
        },
    }
