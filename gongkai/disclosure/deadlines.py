"""The catalog's obligations as deadlines for the reminder engine (``gongkai.core.deadlines``).

Every active unit owes, for each catalog entry whose rule applies to its kind, each calendar
period it is charged with (``OrgUnit.charged_for``); the obligation is due on the rule's
deadline for that period, the rule being the one in force when the period began, moved past
rest days on the working-day calendar. All of this is the compliance engine's
(:mod:`gongkai.disclosure.compliance`: :func:`~compliance.active_catalog`,
:func:`~compliance.windows_by_kind` for the periods, rules and deadlines,
:func:`~compliance.publications` for what is met); this module only turns its open
obligations into :class:`~gongkai.core.deadlines.Deadline` rows. An obligation is met, and
no longer yielded, once a disclosure of that unit, entry and period is published and not
withdrawn, on time or late, exactly as the compliance engine judges it.

The daily scan stays flat: only the periods whose deadline falls in the asked dates are
considered (usually one or two per rule); the units of each kind are read in chunks, and
each chunk costs four queries (the units, what they published, their drafts in progress,
who drafts for them and for the units above), whatever the number of units or entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from gongkai.core import deadlines
from gongkai.core.deadlines import Deadline
from gongkai.core.periods import Period
from gongkai.disclosure.compliance import (
    Catalog,
    Window,
    active_catalog,
    publications,
    windows_by_kind,
)
from gongkai.disclosure.models import (
    CatalogEntry,
    Disclosure,
    DisclosureStatus,
)
from gongkai.disclosure.obligations import IN_REVIEW
from gongkai.org.models import PATH_SEPARATOR, OrgUnit
from gongkai.policy.rules import Action, direct_holders

KIND = "obligation"
BATCH = 2_000  # deadlines per batch handed to the engine
# Unit × window pairs judged per chunk of units: the chunk's publications aggregate returns
# at most this many rows, and the chunk's unit ids fit in one IN list on either database.
PAIRS_PER_CHUNK = 40_000
UNITS_PER_CHUNK = 5_000
# A deadline on a rest day moves to the next working day: by at most this many days (the
# longest run of rest days, the Spring Festival with its weekends, is about ten).
REST_DAYS_AT_MOST = 31
DRAFT_MARK = 9_876_543_210  # stands for a draft's id in its reversed address


@dataclass(frozen=True, slots=True)
class Open:
    """What every unit of a kind owes for one window (entry and period), in the site
    language, flattened for the loop over the units."""

    entry_id: int
    period: str
    due: date
    start: date
    end: date
    lead: int | None
    key_tail: str  # ":<entry code>:<period key>"
    query_tail: str  # "&entry=…&period=…"
    title_head: str  # the title around the unit's name
    title_tail: str


# What the scan reads of a unit: id, code, name, path, charged_from, deactivated_on.
UnitRow = tuple[int, str, str, str, date | None, date | None]


def due_windows(catalog: Catalog, first: date, last: date, today: date) -> dict[str, list[Window]]:
    """Per unit kind, the obligation windows (entry, period, rule in force at its start,
    deadline) whose deadline falls in [first, last] and whose period has begun by ``today``
    (the compliance engine's obligations: a period that has not begun owes nothing yet)."""
    longest = max(
        (rule.deadline_days for _e, rules in catalog.values() for rule in rules), default=0
    )
    # A period whose deadline can reach ``first`` ended at most this long before it.
    start = first - timedelta(days=longest + REST_DAYS_AT_MOST)
    end = min(last, today)
    if first > last or start > end:
        return {}
    kinds = {kind for _e, rules in catalog.values() for rule in rules for kind in rule.unit_kinds}
    found = windows_by_kind(catalog, start, end, kinds)
    return {
        kind: due
        for kind, listed in found.items()
        if (due := [w for w in listed if first <= w.due <= last])
    }


class ObligationDeadlines:
    """The catalog's disclosure obligations not yet met: one deadline per unit, entry and
    period, for the unit's disclosure drafters (or those of the nearest unit above that has
    some), which the unit's chat robot may hear."""

    kind = KIND

    def label(self) -> str:
        return _("Disclosure obligations")

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        catalog = active_catalog()
        by_kind = due_windows(catalog, first, last, today)
        if not by_kind:
            return
        # The title goes to e-mails and group chats, written in the site language whatever
        # language is active where the scan runs: formatted here as plain text (a lazy string
        # would be formatted later in whichever language is active then, and a Deadline is a
        # plain value the engine may store or hand to a task).
        with translation.override(settings.LANGUAGE_CODE):
            title = _("%(unit)s: %(entry)s, %(period)s")
            owed = {
                kind: [opened(catalog[w.entry_id][0], w, title) for w in windows]
                for kind, windows in by_kind.items()
            }
        create = reverse("disclosure:create")
        for kind, windows in sorted(owed.items()):
            size = max(1, min(UNITS_PER_CHUNK, PAIRS_PER_CHUNK // len(windows)))
            for units in unit_chunks(kind, size):
                found = chunk_deadlines(units, windows, create)
                for i in range(0, len(found), BATCH):
                    yield found[i : i + BATCH]


def opened(entry: CatalogEntry, window: Window, title: str) -> Open:
    """The window's parts of each unit's deadline; the title is formatted once per window,
    with a mark where each unit's name goes (a NUL: cleaned text such as a catalog name never
    holds one)."""
    period = str(Period.parse(window.period).label())
    head, _mark, tail = (title % {"unit": "\0", "entry": entry.name, "period": period}).partition(
        "\0"
    )
    return Open(
        entry_id=window.entry_id,
        period=window.period,
        due=window.due,
        start=window.start,
        end=window.end,
        lead=entry.remind_days_before,
        key_tail=f":{entry.code}:{window.period}",
        query_tail="&" + urlencode({"entry": entry.code, "period": window.period}),
        title_head=head,
        title_tail=tail,
    )


def unit_chunks(kind: str, size: int) -> Iterator[list[UnitRow]]:
    """The active units of ``kind`` in id order, ``size`` at a time (one query each), as
    plain rows: building a model instance per unit would cost more than the rest."""
    units = (
        OrgUnit.objects.filter(is_active=True, kind=kind)
        .values_list("id", "code", "name", "path", "charged_from", "deactivated_on")
        .order_by("id")
    )
    after = 0
    while True:
        chunk = list(units.filter(id__gt=after)[:size])
        if chunk:
            yield chunk
        if len(chunk) < size:
            return
        after = chunk[-1][0]


Bounds = tuple[date | None, date | None]  # charged_from, deactivated_on


def charged(bounds: Bounds, windows: list[Open], seen: dict[Bounds, list[Open]]) -> list[Open]:
    """The windows a unit with these bounds answers for (``OrgUnit.charged_for``, the
    compliance engine's rule): all of them unless it was created or deactivated at a date.
    ``seen`` keeps the answer per bounds (units imported together share theirs)."""
    if bounds == (None, None):
        return windows
    found = seen.get(bounds)
    if found is None:
        unit = OrgUnit(charged_from=bounds[0], deactivated_on=bounds[1])
        found = seen[bounds] = [o for o in windows if unit.charged_for(o.start, o.end)]
    return found


def chunk_deadlines(units: list[UnitRow], windows: list[Open], create: str) -> list[Deadline]:
    """The open obligations of ``units`` (all of one kind) in ``windows``: three queries
    (publications, drafts in progress, drafters), whatever the number of units."""
    done = publications(
        [row[0] for row in units],
        {o.entry_id for o in windows},
        {o.period for o in windows},
    )
    owing: list[tuple[UnitRow, list[Open]]] = []
    seen: dict[Bounds, list[Open]] = {}
    for row in units:
        unit_id = row[0]
        mine = [
            o
            for o in charged((row[4], row[5]), windows, seen)
            if (unit_id, o.entry_id, o.period) not in done
        ]
        if mine:
            owing.append((row, mine))
    if not owing:
        return []
    drafts = drafts_in_progress(owing[0][0][0], owing[-1][0][0], windows)
    people = drafters([row for row, _mine in owing])
    # A draft's page: its address reversed once, with a mark where the id goes (``reverse``
    # per draft costs more than the rest of its deadline when many drafts are open).
    page_head, _mark, page_tail = reverse("disclosure:detail", kwargs={"pk": DRAFT_MARK}).partition(
        str(DRAFT_MARK)
    )
    result: list[Deadline] = []
    append = result.append
    for (unit_id, code, name, _path, _from, _until), mine in owing:
        told = people[unit_id]
        query = f"{create}?{urlencode({'unit': code})}"
        for o in mine:
            draft = drafts.get((unit_id, o.entry_id, o.period)) if drafts else None
            append(
                Deadline(
                    kind=KIND,
                    key=f"{unit_id}{o.key_tail}",
                    due=o.due,
                    unit_id=unit_id,
                    title=o.title_head + name + o.title_tail,
                    url=query + o.query_tail if draft is None else f"{page_head}{draft}{page_tail}",
                    people=told,
                    lead=o.lead,
                    escalate=True,
                    group=True,
                )
            )
    return result


def drafts_in_progress(
    first_id: int, last_id: int, windows: list[Open]
) -> dict[tuple[int, int, str], int]:
    """The newest draft or item in review per (unit, entry, period) of the units with ids
    ``first_id`` … ``last_id`` (one query): the reminder opens it rather than a second
    draft, as the workbench does. The units are a range of ids, not a list of thousands of
    parameters; the few rows of other units in the range are never looked up."""
    rows = (
        Disclosure.objects.filter(
            unit_id__gte=first_id,
            unit_id__lte=last_id,
            entry_id__in={o.entry_id for o in windows},
            period__in={o.period for o in windows},
            published_revision__isnull=True,
            # Never published: a draft or in review (the status index finds these few rows
            # instead of every published row of the chunk's units).
            status__in=[DisclosureStatus.DRAFT, *IN_REVIEW],
        )
        .values_list("unit_id", "entry_id", "period", "pk")
        .order_by("pk")
    )
    return {(unit_id, entry_id, period): pk for unit_id, entry_id, period, pk in rows}


def drafters(units: list[UnitRow]) -> dict[int, frozenset[int]]:
    """Who drafts for each unit: the holders of the drafting right on the unit itself, or,
    when it has none, on the nearest unit above that has some (one query)."""
    chains = {
        row[0]: [int(pk) for pk in row[3].strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if pk]
        for row in units
    }  # OrgUnit.path_ids, without building a model per unit
    holding = direct_holders(
        {pk for chain in chains.values() for pk in chain}, {Action.DISCLOSURE_DRAFT}
    )
    on: dict[int, frozenset[int]] = {}
    found: dict[int, frozenset[int]] = {}
    for unit_id, chain in chains.items():
        people: frozenset[int] = frozenset()
        for pk in reversed(chain):  # the unit, then up to the root
            if pk not in on:
                on[pk] = frozenset(holding.get((pk, Action.DISCLOSURE_DRAFT), ()))
            if on[pk]:
                people = on[pk]
                break
        found[unit_id] = people
    return found


SOURCE = ObligationDeadlines()


def register() -> None:
    deadlines.register(SOURCE)
