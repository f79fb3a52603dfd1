"""Boards (公开栏): what a unit published, with what the units above it published alongside
(linked management: a team's board shows its department's and company's items), the unit's
satisfaction barometer and its compliance table.

Visibility: each unit of the board's chain (root → unit) is either fully readable by the
viewer (internal items too) or public-only, as the policy says
(:func:`gongkai.disclosure.permissions.reads_internal_of`). That tuple of answers is the viewer's
*visibility class* for this board: everyone in the same class sees exactly the same board.

Caching (in a cache all server processes share, see :func:`caching`): boards are read often
and change rarely, so the rendered body is cached under a key
made of everything it depends on — the visibility class, the language, today's date (states
like "overdue" change at midnight), a fingerprint of the catalog, each chain unit's id,
``updated_at`` and *version token*, and the query parameters. Publishing, correcting,
withdrawing, attesting and rating replace the token of the disclosure's unit
(:func:`board_changed`, called from the publication hook and the rating service), which
orphans every cached body that showed it: the unit's own board and every board below it
(a board below includes the tokens of all the units above it). Nothing user-specific (names,
CSRF tokens, "my rating") is in the cached body.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.paginator import Page, Paginator
from django.db import connection, models
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from gongkai.core.periods import MONTHS_IN, InvalidPeriod, Period, PeriodKind, periods_between
from gongkai.disclosure.board_cache import versions
from gongkai.disclosure.compliance import compliance_of
from gongkai.disclosure.engagement import Tally, tallies_by_disclosure, tally
from gongkai.disclosure.models import (
    CatalogEntry,
    CatalogRule,
    Category,
    Disclosure,
    DisclosureStatus,
    DisclosureStep,
    Rating,
    Scope,
    StepKind,
)
from gongkai.disclosure.permissions import public_record_q, reads_internal_of
from gongkai.org.models import OrgUnit, Role
from gongkai.org.selectors import unit_children

ITEMS_PER_PAGE = 25
ABOVE_LIMIT = 5  # newest items of each unit above shown alongside
CACHE_SECONDS = 24 * 60 * 60  # tokens make stale bodies unreachable; this only bounds memory
PARAMS = ("category", "period", "status", "year", "page")
MAX_PARAM = 100
FIRST_YEAR = 2000


class ItemStatus(models.TextChoices):
    PUBLISHED = "published", _("Published")
    CORRECTED = "corrected", _("Corrected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class BoardFilterForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), required=False)
    period = forms.CharField(
        label=_("Period"),
        required=False,
        max_length=10,
        help_text=_("A year, half-year, quarter or month: 2026, 2026-H2, 2026-Q3, 2026-10."),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *ItemStatus.choices]
    )

    def __init__(self, data: dict[str, str], *, categories: Sequence[Category]) -> None:
        super().__init__(data)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - narrows the type
        field.choices = [("", _("All categories"))] + [(c.code, c.name) for c in categories]

    def clean_period(self) -> Period | None:
        value = self.cleaned_data["period"].strip()
        if not value:
            return None
        try:
            return Period.parse(value)
        except InvalidPeriod:
            raise forms.ValidationError(
                _("Give the period as 2026, 2026-H2, 2026-Q3 or 2026-10.")
            ) from None


class ComplianceYearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), required=False)

    def __init__(self, data: dict[str, str], *, this_year: int) -> None:
        super().__init__(data)
        self.this_year = this_year

    def clean_year(self) -> int:
        year = self.cleaned_data["year"]
        if year is None:
            return self.this_year
        if not FIRST_YEAR <= year <= self.this_year:
            raise forms.ValidationError(
                _("Choose a year from %(first)s to %(last)s.")
                % {"first": FIRST_YEAR, "last": self.this_year}
            )
        return int(year)


# --- What a viewer may see ----------------------------------------------------------------


def visibility(user: Any, chain: Sequence[OrgUnit]) -> tuple[bool, ...]:
    """The viewer's visibility class on a board: for each unit of the chain, may they read
    its internal items? Anonymous readers: all False (public items only)."""
    return tuple(reads_internal_of(user, unit) for unit in chain)


def visible_q(units: Sequence[OrgUnit], internal: Sequence[bool]) -> Q:
    """Published items (withdrawn ones as tombstones) of ``units`` that a viewer of this
    visibility class may read.

    "Published" is tested on ``first_published_at``, which the publishing service sets in the
    same UPDATE as the first ``published_revision`` and never clears: the (unit,
    first_published_at) index then answers a board's count without reading 10,000 rows."""
    full = [u.pk for u, ok in zip(units, internal, strict=True) if ok]
    public_only = [u.pk for u, ok in zip(units, internal, strict=True) if not ok]
    q = Q(pk__in=[])
    if full:
        q |= Q(unit_id__in=full)
    if public_only:
        q |= Q(unit_id__in=public_only) & public_record_q()
    return Q(first_published_at__isnull=False) & q


def filters_q(data: dict[str, Any]) -> Q:
    q = Q()
    if data.get("category"):
        code = data["category"]
        q &= Q(entry__category__code=code) | Q(entry__category__parent__code=code)
    period: Period | None = data.get("period")
    if period is not None:
        q &= Q(period__in=keys_within(period)) | Q(
            period="", event_date__range=(period.start, period.end)
        )
    status = data.get("status")
    if status == ItemStatus.WITHDRAWN:
        q &= Q(status=DisclosureStatus.WITHDRAWN)
    elif status == ItemStatus.PUBLISHED:
        q &= ~Q(status=DisclosureStatus.WITHDRAWN)
    elif status == ItemStatus.CORRECTED:
        q &= ~Q(status=DisclosureStatus.WITHDRAWN) & Q(published_revision__number__gt=1)
    return q


def keys_within(period: Period) -> list[str]:
    """The keys of every period inside ``period`` (a quarter holds its three months)."""
    months = MONTHS_IN[period.kind]
    return [
        p.key
        for kind in PeriodKind
        if MONTHS_IN[kind] <= months
        for p in periods_between(kind, period.start, period.end)
    ]


def board_items(qs: QuerySet[Disclosure]) -> QuerySet[Disclosure]:
    """Disclosures with what a list line needs, without the long texts (public page)."""
    return qs.select_related("unit", "entry__category", "published_revision").defer(
        "procedure",
        "result",
        "table",
        "published_revision__procedure",
        "published_revision__result",
        "published_revision__table",
    )


ROW = (
    "id",
    "period",
    "event_date",
    "is_nil",
    "status",
    "withdrawn_at",
    "withdrawal_reason",
    "first_published_at",
    "unit_id",
    "entry__name",
    "entry__category_id",
    "entry__category__code",
    "entry__category__name",
    "entry__category__order",
    "published_revision__title",
    "published_revision__scope",
    "published_revision__number",
    "published_revision__published_at",
)
Row = dict[str, Any]


def board_rows(qs: QuerySet[Disclosure]) -> QuerySet[Disclosure, Row]:
    """A board's lines as plain rows: no model instances to build for a page of 25."""
    return qs.values(*ROW)


# --- Grouping ------------------------------------------------------------------------------


def period_of(row: Row) -> Period:
    if row["period"]:
        return Period.parse(row["period"])
    return Period.containing(row["event_date"], PeriodKind.MONTH)


@dataclass
class PeriodGroup:
    period: Period
    lines: list[Row] = field(default_factory=list)


@dataclass
class CategoryGroup:
    category: Row  # code, name, order
    periods: list[PeriodGroup] = field(default_factory=list)


def grouped(rows: Sequence[Row], lines: dict[int, Row]) -> list[CategoryGroup]:
    """A page of items (newest first) grouped by category, then period, newest first."""
    by_category: dict[int, CategoryGroup] = {}
    by_period: dict[tuple[int, str], PeriodGroup] = {}
    for row in rows:
        category_id = row["entry__category_id"]
        if category_id not in by_category:
            category = {
                "code": row["entry__category__code"],
                "name": row["entry__category__name"],
                "order": row["entry__category__order"],
            }
            by_category[category_id] = CategoryGroup(category)
        period = period_of(row)
        key = (category_id, period.key)
        if key not in by_period:
            by_period[key] = PeriodGroup(period)
            by_category[category_id].periods.append(by_period[key])
        by_period[key].lines.append(lines[row["id"]])
    groups = sorted(by_category.values(), key=lambda g: (g.category["order"], g.category["code"]))
    for group in groups:
        group.periods.sort(key=lambda p: (p.period.end, p.period.start), reverse=True)
    return groups


def day(value: datetime | None) -> str:
    return date_format(timezone.localtime(value), "DATE_FORMAT") if value else ""


def attestation_signatures(rows: Sequence[Row]) -> dict[int, Row]:
    """Who signed each "nothing to report" attestation among ``rows``, in which role and
    why, as its form promises the board shows: one query, only when the page has any."""
    ids = [row["id"] for row in rows if row["is_nil"]]
    if not ids:
        return {}
    steps = DisclosureStep.objects.filter(disclosure_id__in=ids, kind=StepKind.ATTEST)
    found: dict[int, Row] = {}
    for disclosure_id, name, role, reason in steps.values_list(
        "disclosure_id", "actor_name", "role", "reason"
    ):
        found[disclosure_id] = {"name": name, "role": role_label(role), "reason": reason}
    return found


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else ""


def line(row: Row, tally: Tally, signed: Row | None = None) -> Row:
    """What a board line shows, as plain values: rendering stays cheap for long pages."""
    withdrawn = row["status"] == DisclosureStatus.WITHDRAWN
    corrected = (row["published_revision__number"] or 1) > 1
    return {
        "signed": signed,
        "url": reverse("disclosure:detail", args=[row["id"]]),
        "title": row["published_revision__title"],
        "withdrawn": withdrawn,
        "withdrawn_on": day(row["withdrawn_at"]) if withdrawn else "",
        "reason": row["withdrawal_reason"] if withdrawn else "",
        "nil": row["is_nil"],
        "public": row["published_revision__scope"] == Scope.PUBLIC,
        "corrected_on": day(row["published_revision__published_at"]) if corrected else "",
        "published_on": day(row["first_published_at"]),
        "entry": row["entry__name"],
        "category": row["entry__category__name"],
        "when": row["period"] or date_format(row["event_date"], "DATE_FORMAT"),
        "tally": tally,
    }


# --- Caching (the version tokens are in gongkai.disclosure.board_cache) -----------------


def scalar(qs: QuerySet[Any], function: str, field: str) -> Subquery:
    """``SELECT function(field) FROM qs`` as a scalar subquery (no GROUP BY)."""
    return Subquery(qs.order_by().annotate(v=Func(F(field), function=function)).values("v")[:1])


FINGERPRINT = ("kids", "kids_edited", "rules", "last_rule", "entries_edited", "categories")


SENTINEL = "\x00board-code\x00"


@functools.cache
def chain_sql(vendor: str) -> tuple[str, tuple[Any, ...]]:
    """The board-chain query compiled once per process and database: building it through the
    ORM costs a hundred times more than running it, on every request."""
    target = OrgUnit.objects.filter(code=SENTINEL, path__startswith=OuterRef("path"))
    kids = OrgUnit.objects.filter(parent__code=SENTINEL, is_active=True)
    qs = (
        OrgUnit.objects.filter(Exists(target))
        .annotate(
            kids=scalar(kids, "COUNT", "id"),
            kids_edited=scalar(kids, "MAX", "updated_at"),
            rules=scalar(CatalogRule.objects.all(), "COUNT", "id"),
            last_rule=scalar(CatalogRule.objects.all(), "MAX", "id"),
            entries_edited=scalar(CatalogEntry.objects.all(), "MAX", "updated_at"),
            categories=scalar(Category.objects.all(), "COUNT", "id"),
        )
        .order_by("depth")
    )
    return qs.query.sql_with_params()


def board_chain(code: str) -> list[OrgUnit]:
    """The unit with ``code`` and the units above it, root first, in one query; each row also
    carries what else the board's body depends on and that has no version token: its units
    below (count, last edit) and the catalog (rules added, entries edited, categories).
    Empty when no unit has this code."""
    sql, params = chain_sql(connection.vendor)
    return list(OrgUnit.objects.raw(sql, [code if p == SENTINEL else p for p in params]))


@dataclass
class BoardRequest:
    unit: OrgUnit
    chain: list[OrgUnit]  # root → unit
    internal: tuple[bool, ...]  # the viewer's visibility class, per chain unit
    params: dict[str, str]
    language: str
    today: date

    @classmethod
    def build(
        cls,
        *,
        unit: OrgUnit,
        chain: list[OrgUnit],
        user: Any,
        query: Any,
        language: str,
        today: date,
    ) -> BoardRequest:
        params = {name: query.get(name, "").strip()[:MAX_PARAM] for name in PARAMS}
        return cls(unit, chain, visibility(user, chain), params, language, today)

    def cache_key(self) -> str:
        parts = [
            self.language,
            self.today.isoformat(),
            [str(getattr(self.unit, name, "")) for name in FINGERPRINT],
            [u.pk for u in self.chain],
            [u.updated_at.isoformat() for u in self.chain],
            versions([u.pk for u in self.chain]),
            list(self.internal),
            [self.params[name] for name in PARAMS],
        ]
        digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
        return f"board:body:{self.unit.pk}:{digest}"


def caching() -> bool:
    """Bodies are cached only in a cache that every server process shares (Redis in
    production): with a per-process cache (LocMem, the development default, and several
    gunicorn workers) a worker that did not handle a publication would keep serving its old
    copy. ``BOARDS_CACHE = True`` or ``False`` in the settings decides instead (tests,
    benchmarks, a single-process server)."""
    setting = getattr(settings, "BOARDS_CACHE", None)
    if setting is not None:
        return bool(setting)
    return not isinstance(caches["default"], LocMemCache)


def board_body(board: BoardRequest) -> tuple[int, str]:
    """(status, HTML) of the board's body, from the cache when nothing it shows changed."""
    if not caching():
        return render_body(board)
    key = board.cache_key()
    cached = cache.get(key)
    if cached is not None:
        return cached
    result = render_body(board)
    cache.set(key, result, CACHE_SECONDS)
    return result


# --- Building the body -----------------------------------------------------------------------


@dataclass
class Above:
    """The newest items of a unit above, shown alongside (linked management)."""

    unit: OrgUnit
    items: list[Row]
    more: bool


def render_body(board: BoardRequest) -> tuple[int, str]:
    unit, chain, internal = board.unit, board.chain, board.internal
    categories = list(Category.objects.order_by("order", "code"))
    form = BoardFilterForm(board.params, categories=categories)
    year_form = ComplianceYearForm(board.params, this_year=board.today.year)
    context: dict[str, Any] = {
        "unit": unit,
        "chain": chain,
        "form": form,
        "year_form": year_form,
        "params": board.params,
        "barometer": barometer(unit, internal[-1]),
        "children": list(unit_children(unit)),
    }
    status = 200
    if form.is_valid():
        condition = filters_q(form.cleaned_data)
        own = Disclosure.objects.filter(visible_q([unit], internal[-1:]), condition)
        page = Paginator(own, ITEMS_PER_PAGE).get_page(board.params["page"])
        first = (page.number - 1) * ITEMS_PER_PAGE  # counted without the rows' joins
        rows: list[Row] = list(board_rows(own)[first : first + ITEMS_PER_PAGE])
        above = items_above(chain[:-1], internal[:-1], condition)
        shown = [*rows, *(row for a in above for row in a.items)]
        tallies = tallies_by_disclosure(row["id"] for row in shown)
        signed = attestation_signatures(shown)
        lines = {
            row["id"]: line(row, tallies.get(row["id"], Tally()), signed.get(row["id"]))
            for row in shown
        }
        context |= {
            "page": page,
            "groups": grouped(rows, lines),
            "above": [(a, [lines[row["id"]] for row in a.items]) for a in above],
            "page_links": page_links(board.params, page),
        }
    else:
        status = 400
    if year_form.is_valid():
        context["compliance"] = compliance_of(
            unit, year_form.cleaned_data["year"], today=board.today
        )
    else:
        status = 400
    return status, render_to_string("boards/_board_body.html", context)


def barometer(unit: OrgUnit, internal: bool) -> Tally:
    """The unit's satisfaction over its items in force that the visibility class may read."""
    ratings = Rating.objects.filter(
        disclosure__unit=unit, disclosure__published_revision__isnull=False
    ).exclude(disclosure__status=DisclosureStatus.WITHDRAWN)
    if not internal:
        ratings = ratings.filter(public_record_q(prefix="disclosure__"))
    return tally(ratings)


def items_above(units: Sequence[OrgUnit], internal: Sequence[bool], condition: Q) -> list[Above]:
    """The newest ABOVE_LIMIT items of each unit above, nearest unit first: one indexed query
    per level (a board has at most a few levels above it), whatever the number of items."""
    above = []
    for unit, readable in zip(reversed(units), reversed(internal), strict=True):
        qs = Disclosure.objects.filter(visible_q([unit], [readable]), condition)
        found = list(board_rows(qs)[: ABOVE_LIMIT + 1])
        above.append(Above(unit, found[:ABOVE_LIMIT], len(found) > ABOVE_LIMIT))
    return above


def page_links(params: dict[str, str], page: Page[Disclosure]) -> dict[str, str]:
    """Previous/next links built from the board's own parameters (never echoing others)."""
    kept: dict[str, str | int] = {k: v for k, v in params.items() if v and k != "page"}
    links = {}
    if page.has_previous():
        links["previous"] = "?" + urlencode({**kept, "page": page.previous_page_number()})
    if page.has_next():
        links["next"] = "?" + urlencode({**kept, "page": page.next_page_number()})
    return links
