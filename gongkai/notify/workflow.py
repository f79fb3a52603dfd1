"""A workflow step with its consequences: the move (``gongkai.core.workflow``), its audit
event in the same transaction, and a notice to whoever acts next.

Who acts next is the policy's answer (``holders`` of the next step's permission on the
item's unit), never a hand-picked list of roles; a notice may also go to the people who
follow the item (its author, proposer or followers). Nobody is told of their own step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.workflow import Workflow
from gongkai.notify.services import notify
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, holders


@dataclass(frozen=True)
class Notice:
    """``message`` with a link to ``url``, for the holders of ``next_action`` on each of
    ``units`` and for ``people``."""

    message: str
    url: str
    next_action: Action | None = None
    units: tuple[OrgUnit, ...] = ()
    people: Iterable[User] = ()


def recipients(notice: Notice, *, actor: User | None) -> list[User]:
    found: dict[int, User] = {u.pk: u for u in notice.people}
    if notice.next_action is not None:
        for unit in notice.units:
            found |= {u.pk: u for u in holders(notice.next_action, unit)}
    return [u for u in found.values() if actor is None or u.pk != actor.pk]


def tell(notice: Notice, *, actor: User | None) -> None:
    notify(users=recipients(notice, actor=actor), message=notice.message, url=notice.url)


def take_step(
    flow: Workflow,
    item: models.Model,
    name: str,
    *,
    actor: User | None,
    audit: str,
    unit: OrgUnit | None,
    changes: Mapping[str, Any] | None = None,
    target: str | None = None,
    seen: str | None = None,
    after: Mapping[str, Any] | None = None,
    target_label: str = "",
    notice: Notice | None = None,
) -> str | None:
    """Apply step ``name`` of ``flow`` to ``item`` (see :meth:`Workflow.apply`), record the
    audit event ``audit`` (the state before and after, and ``after``) on ``unit``, and send
    ``notice``. Call inside the service's transaction. Returns the state it came from."""
    before = flow.apply(item, name, changes=changes, target=target, seen=seen)
    record_event(
        actor=actor,
        action=audit,
        target=item,
        unit=unit,
        target_label=target_label,
        before={flow.field: before},
        after={flow.field: getattr(item, flow.field), **(after or {})},
    )
    if notice is not None:
        tell(notice, actor=actor)
    return before
