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


def person_with(role: str, unit: OrgUnit) -> User:
    """A new person of ``unit`` holding ``role`` on it."""
    from gongkai.org.services import role_grant

    user: User = UserFactory.create(unit=unit)
    role_grant(actor=None, user=user, role=role, unit=unit)
    return User.objects.get(pk=user.pk)


def approve_through(disclosure, *, levels: int | None = None, head: User | None = None):
    """Take the remaining approvals of a disclosure in review, level by level, each by a
    holder of the level's own unit (never the author; one is created on the unit when it has
    none), so that no step needs ``acting_for``. ``levels`` stops after that many approvals;
    ``head`` is used for the levels whose unit is the disclosure's own and whose action is a
    unit head's. Returns the disclosure as it then stands."""
    from gongkai.disclosure.models import Disclosure, DisclosureStatus
    from gongkai.disclosure.services import STEP_OF, disclosure_transition
    from gongkai.org.models import OrgUnit as Unit
    from gongkai.org.models import Role
    from gongkai.policy.rules import Action, approval_after, next_approvers

    taken = 0
    while True:
        disclosure = Disclosure.objects.select_related("unit").get(pk=disclosure.pk)
        if levels is not None and taken >= levels:
            break
        chain = list(Unit.objects.ancestors_of(disclosure.unit))
        step = approval_after(disclosure.unit, disclosure.approvals, chain)
        if step is None or disclosure.status not in (
            DisclosureStatus.SUBMITTED,
            DisclosureStatus.HEAD_APPROVED,
        ):
            break
        role = Role.LEADERSHIP if step.action == Action.DISCLOSURE_ENDORSE else Role.UNIT_HEAD
        found = next_approvers(step, chain, author_id=disclosure.author_id)
        if head is not None and step.unit == disclosure.unit and role == Role.UNIT_HEAD:
            approver = head
        elif found.unit == step.unit:
            approver = User.objects.get(pk=min(found.people))
        else:
            approver = person_with(role, step.unit)
        disclosure_transition(
            actor=approver, disclosure=disclosure, transition=STEP_OF[step.action]
        )
        taken += 1
    return disclosure


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
    from gongkai.disclosure.services import Transition, disclosure_create, disclosure_transition
    from gongkai.org.models import Role

    author = author or person_with(Role.DEPT_OFFICER, unit)
    head = person_with(Role.UNIT_HEAD, unit)
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
    approve_through(disclosure, head=head)
    if published_at is None:
        return disclosure_transition(
            actor=author, disclosure=disclosure, transition=Transition.PUBLISH
        )
    with time_machine.travel(published_at, tick=False):
        return disclosure_transition(
            actor=author, disclosure=disclosure, transition=Transition.PUBLISH
        )
