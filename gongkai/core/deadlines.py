"""Deadlines every part knows, read by the one reminder engine (``gongkai.notify.reminders``).

A part registers a :class:`DeadlineSource` in its ``AppConfig.ready()``: the catalog's
obligations (disclosure), suggestions (voice), objections' findings and windows (publicity),
motions (congress), rectifications (supervision), surveys and votes. The engine asks each
source, once a day, for the deadlines that are **still open** and fall due between two
dates; a deadline that has been met is simply no longer yielded, so its reminders stop.

A source answers in batches (lists of a bounded size) with a constant number of queries per
batch, so the daily scan stays flat however many obligations exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from django.db.models import QuerySet


@dataclass(frozen=True)
class Deadline:
    """Something ``people`` must do on ``unit_id`` by ``due`` (a working day or not).

    ``key`` identifies it within its kind for good (a reminder is sent once per kind, key
    and stage). ``title`` says what is due, in words that may go to a group chat unless
    ``private``: then every message outside the site says only "you have a new item".
    ``lead`` is the number of working days before ``due`` of the first reminder (None: the
    kind's default). ``escalate`` is False where nothing can be overdue (a vote closes).
    ``group`` says the unit's chat robot may be told (a unit's own obligation, not one
    person's task).
    """

    kind: str
    key: str
    due: date
    unit_id: int
    title: str
    url: str
    people: frozenset[int] = field(default_factory=frozenset)
    lead: int | None = None
    escalate: bool = True
    group: bool = False
    private: bool = False


class DeadlineSource(Protocol):
    kind: str  # short, stable: "obligation", "suggestion", …

    def label(self) -> str:
        """What this kind of deadline is, for people (translated)."""
        ...

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        """The deadlines not yet met, due on ``first`` … ``last`` (both included), in
        batches; ``today`` is the day of the scan (what is met is judged as of then)."""
        ...


_SOURCES: dict[str, DeadlineSource] = {}


def register(source: DeadlineSource) -> None:
    if source.kind in _SOURCES and _SOURCES[source.kind] is not source:
        raise ValueError(f"a deadline source of kind {source.kind!r} is already registered")
    _SOURCES[source.kind] = source


def sources() -> list[DeadlineSource]:
    return list(_SOURCES.values())


def source(kind: str) -> DeadlineSource:
    return _SOURCES[kind]


def batches(rows: QuerySet[Any], size: int) -> Iterator[list[dict[str, Any]]]:
    """The rows of ``rows`` (a ``values()`` queryset with ``pk``), by primary key, ``size``
    at a time: one query per batch (keyset pagination), however many there are."""
    after = 0
    while True:
        found = list(rows.filter(pk__gt=after).order_by("pk")[:size])
        if found:
            yield found
        if len(found) < size:
            return
        after = found[-1]["pk"]
