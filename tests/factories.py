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
    period: str | None = None,
    event_date=None,
    published_at=None,
    table: dict | None = None,
):
    """A published disclosure, taken through the real workflow services (draft → submit →
    approve [→ endorse] → publish) so that every hook runs as in production. Officers and
    approvers are created on the unit when not given. ``published_at`` travels in time.
    Without ``period``: 2026-Q3, or the latest quarter before it that the unit has not
    disclosed for the entry yet (one disclosure per obligation and period)."""
    import time_machine

    from gongkai.disclosure.models import CatalogEntry
    from gongkai.disclosure.services import (
        STEP_OF,
        Transition,
        disclosure_create,
        disclosure_transition,
    )
    from gongkai.org.models import Role
    from gongkai.org.services import role_grant
    from gongkai.policy.rules import Action, approval_chain

    def person_with(role: str, on: OrgUnit | None = None) -> User:
        user = UserFactory(unit=on or unit)
        role_grant(actor=None, user=user, role=role, unit=on or unit)
        return User.objects.get(pk=user.pk)

    author = author or person_with(Role.DEPT_OFFICER)
    head = person_with(Role.UNIT_HEAD)
    entry = CatalogEntry.objects.get(code=entry_code)
    if period is None and event_date is None:
        from gongkai.core.periods import Period
        from gongkai.disclosure.obligations import holding_disclosure

        quarter = Period.parse("2026-Q3")
        while holding_disclosure(unit, entry, quarter.key) is not None:
            quarter = quarter.previous()
        period = quarter.key
    disclosure = disclosure_create(
        actor=author,
        unit=unit,
        entry=entry,
        title=title,
        procedure=procedure,
        result=result,
        period=(period or "") if event_date is None else "",
        event_date=event_date,
        table=table,
        scope=scope,
    )
    disclosure_transition(actor=author, disclosure=disclosure, transition=Transition.SUBMIT)
    for step in approval_chain(unit):  # each level of the chain, by a holder on its unit
        role = Role.LEADERSHIP if step.action == Action.DISCLOSURE_ENDORSE else Role.UNIT_HEAD
        approver = (
            head if step.unit == unit and role == Role.UNIT_HEAD else person_with(role, step.unit)
        )
        disclosure_transition(
            actor=approver, disclosure=disclosure, transition=STEP_OF[step.action]
        )
    if published_at is None:
        return disclosure_transition(
            actor=author, disclosure=disclosure, transition=Transition.PUBLISH
        )
    with time_machine.travel(published_at, tick=False):
        return disclosure_transition(
            actor=author, disclosure=disclosure, transition=Transition.PUBLISH
        )
