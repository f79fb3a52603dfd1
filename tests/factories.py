"""factory_boy factories; units go through the org service so paths are always right."""

from __future__ import annotations

import factory

from gongkai.accounts.models import User
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.org.services import unit_create

PASSWORD = "gongkai-demo"


def make_unit(
    name: str,
    kind: str = UnitKind.DEPARTMENT,
    parent: OrgUnit | None = None,
    code: str | None = None,
) -> OrgUnit:
    code = code or f"u{OrgUnit.objects.count() + 1}-{abs(hash(name)) % 10_000}"
    return unit_create(actor=None, code=code, name=name, kind=kind, parent=parent)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("employee_no",)
        skip_postgeneration_save = True

    employee_no = factory.Sequence(lambda n: f"E{n:05d}")
    name = factory.Sequence(lambda n: f"职工{n}")
    password = factory.django.Password(PASSWORD)


def published_disclosure(
    *,
    unit: OrgUnit,
    entry_code: str = "entertainment",
    title: str = "2026年第三季度业务招待费公开",
    procedure: str = "<p>按制度审批</p>",
    result: str = "<p>共计 1,234.50 元</p>",
    scope: str | None = None,
    author: User | None = None,
    period: str = "2026-Q3",
    event_date=None,
    published_at=None,
    table: dict | None = None,
):
    """A published disclosure, taken through the real workflow services (draft → submit →
    approve [→ endorse] → publish) so that every hook runs as in production. Officers and
    approvers are created on the unit when not given. ``published_at`` travels in time."""
    import time_machine

    from gongkai.disclosure.models import CatalogEntry
    from gongkai.disclosure.services import (
        Transition,
        disclosure_create,
        disclosure_transition,
    )
    from gongkai.org.models import Role, UnitKind
    from gongkai.org.services import role_grant

    def person_with(role: str) -> User:
        user = UserFactory(unit=unit)
        role_grant(actor=None, user=user, role=role, unit=unit)
        return User.objects.get(pk=user.pk)

    author = author or person_with(Role.DEPT_OFFICER)
    head = person_with(Role.UNIT_HEAD)
    entry = CatalogEntry.objects.get(code=entry_code)
    disclosure = disclosure_create(
        actor=author,
        unit=unit,
        entry=entry,
        title=title,
        procedure=procedure,
        result=result,
        period=period if event_date is None else "",
        event_date=event_date,
        table=table,
        scope=scope,
    )
    disclosure_transition(actor=author, disclosure=disclosure, transition=Transition.SUBMIT)
    disclosure_transition(actor=head, disclosure=disclosure, transition=Transition.APPROVE)
    if unit.kind == UnitKind.COMPANY:
        leader = person_with(Role.LEADERSHIP)
        disclosure_transition(actor=leader, disclosure=disclosure, transition=Transition.ENDORSE)
    if published_at is None:
        return disclosure_transition(
            actor=author, disclosure=disclosure, transition=Transition.PUBLISH
        )
    with time_machine.travel(published_at, tick=False):
        return disclosure_transition(
            actor=author, disclosure=disclosure, transition=Transition.PUBLISH
        )
