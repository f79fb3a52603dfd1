"""The one workflow mechanism: a typed transition table over a model's status field, and
:meth:`Workflow.apply`, which moves a row with a conditional UPDATE.

A table is a list of :class:`Transition` rows, one per (step, from-state, to-state), each
naming the permission the step needs. ``apply`` updates ``… WHERE pk = <pk> AND status =
<seen>``: of two people acting on the same row at once only one matches, the other gets a
clear :class:`ServiceError` and nothing changes. The permission itself, the audit event and
the notifications are the caller's (``gongkai.notify.workflow`` does the last two).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from django.db import models
from django.utils.functional import Promise

from gongkai.core.errors import ServiceError

Text: TypeAlias = str | Promise  # a message, translated when the error is raised


@dataclass(frozen=True)
class Transition:
    """One row of a table: the step ``name`` takes an item from ``source`` (None: the
    field is still empty) to ``target`` and needs ``action`` (a policy action's value, or
    the name of the rule that decides, such as "author")."""

    name: str
    source: str | None
    target: str
    action: str


def rows(name: str, sources: Iterable[str | None], target: str, action: str) -> list[Transition]:
    """The rows of a step that leaves several states for the same one."""
    return [Transition(name, source, target, action) for source in sources]


class Workflow:
    """The transition table of ``model``'s ``field`` and the messages it refuses with.

    ``stale`` is raised when the item is no longer in a state the step leaves; it may use
    ``%(status)s`` (the state it is in) and ``%(to)s`` (the state asked for), and is put on
    the form field ``stale_field``. ``lost`` is raised when someone else moved the row
    between reading it and the UPDATE.
    """

    def __init__(
        self,
        *,
        model: type[models.Model],
        table: Iterable[Transition],
        stale: Text,
        lost: Text,
        field: str = "status",
        stale_field: str | None = None,
    ) -> None:
        self.model = model
        self.field = field
        self.table: tuple[Transition, ...] = tuple(table)
        self.stale = stale
        self.stale_field = stale_field
        self.lost = lost
        seen: set[tuple[str, str | None, str]] = set()
        for row in self.table:
            key = (row.name, row.source, row.target)
            if key in seen:
                raise ValueError(f"duplicate transition {key}")
            seen.add(key)

    # --- Reading the table ------------------------------------------------------------------

    def steps(self) -> list[str]:
        """The step names, in the table's order."""
        return list(dict.fromkeys(row.name for row in self.table))

    def sources(self, name: str) -> frozenset[str | None]:
        return frozenset(row.source for row in self.table if row.name == name)

    def row(self, name: str, source: str | None, target: str | None = None) -> Transition | None:
        """The row of step ``name`` from ``source`` (to ``target``, or the step's first
        target from there); None when the step does not leave ``source``."""
        for row in self.table:
            if row.name == name and row.source == source and target in (None, row.target):
                return row
        return None

    def allows(self, name: str, source: str | None) -> bool:
        return self.row(name, source) is not None

    def leaving(self, source: str | None) -> list[Transition]:
        """The rows that leave ``source``: what may happen next."""
        return [row for row in self.table if row.source == source]

    # --- Moving -----------------------------------------------------------------------------

    def label(self, state: str | None) -> str:
        field = self.model._meta.get_field(self.field)
        assert isinstance(field, models.Field)  # noqa: S101 - a status column, not a relation
        return str(dict(field.flatchoices).get(state, state))

    def stale_error(
        self, item: models.Model, to: str = "", *, seen: str | None = None
    ) -> ServiceError:
        status = self.label(getattr(item, self.field) if seen is None else seen)
        message = str(self.stale) % {"status": status, "to": self.label(to) if to else ""}
        return ServiceError(message, field=self.stale_field)

    def check(
        self, item: models.Model, name: str, target: str | None = None, *, seen: str | None = None
    ) -> Transition:
        """The row that applies to ``item`` in the state read (``seen``, or the item's own);
        the ``stale`` error when there is none."""
        source = getattr(item, self.field) if seen is None else seen
        row = self.row(name, source, target)
        if row is None:
            if target is not None and self.allows(name, source):
                raise ValueError(f"{name} does not lead from {source} to {target}")
            raise self.stale_error(item, target or "", seen=source)
        return row

    def apply(
        self,
        item: models.Model,
        name: str,
        *,
        changes: Mapping[str, Any] | None = None,
        target: str | None = None,
        seen: str | None = None,
    ) -> str | None:
        """Take step ``name`` on ``item`` as the caller read it inside its transaction (in
        state ``seen``, or the item's own): one conditional UPDATE of the state and
        ``changes``, then the same values set on ``item``. ``target`` picks one of the
        step's rows when it has several from this state. Returns the state it came from."""
        seen = getattr(item, self.field) if seen is None else seen
        row = self.check(item, name, target, seen=seen)
        values = {self.field: row.target, **(changes or {})}
        manager = self.model._default_manager
        if not manager.filter(pk=item.pk, **{self.field: seen}).update(**values):
            raise ServiceError(str(self.lost))
        for key, value in values.items():
            setattr(item, key, value)
        return seen
