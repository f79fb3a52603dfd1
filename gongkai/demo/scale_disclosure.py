"""A year of disclosures on every board of a company of the group (gongkai.demo.scale).

Every obligation of the catalog that fell due in the year (the compliance dashboard's
default year, ``ScaleSpec.start`` to today) is decided the way the demo company decides
its own (gongkai.demo.disclosure): most published on time, some late, some never published
(overdue on the dashboard), a few attested "nothing to report". Each department has a miss
rate of its own, so the dashboard and its rankings have something to show.

How an item is published: the workflow's rows (the item, its timeline of drafting,
submission, the approvals of its chain by the heads who hold them, publication) are
bulk-inserted, already in state "published", and then each item, oldest first, goes through
``gongkai.disclosure.services.publish``, the one publish path: its revision, its ledger entry
(hash-linked), its search document, the boards' cache. What is skipped is per-row work
nothing reads back here: the audit events of the workflow's steps and the notices to the
next approver. "Nothing to report" attestations go through ``attestation_file`` itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from gongkai.accounts.models import User
from gongkai.core.periods import KIND_BY_FREQUENCY, Frequency, Period, deadline, periods_between
from gongkai.core.queue import after_commit
from gongkai.core.workdays import WorkingCalendar, calendar_spanning
from gongkai.demo.calendar import at_day
from gongkai.demo.disclosure import content
from gongkai.demo.scale import GROUP_HEAD, GROUP_LEADER, GROUP_UNION, Company, ScaleSpec
from gongkai.disclosure.board_cache import board_changed
from gongkai.disclosure.catalog import entries_for_unit
from gongkai.disclosure.models import (
    CatalogEntry,
    CatalogRule,
    Disclosure,
    DisclosureStatus,
    DisclosureStep,
    Revision,
    StepKind,
)
from gongkai.disclosure.search_source import indexed
from gongkai.disclosure.services import attestation_file, clean_content, publish
from gongkai.ledger import canonical
from gongkai.ledger.models import Event, RecordType
from gongkai.ledger.services import Appending, ledger_append_many
from gongkai.ledger.sources import source as ledger_source
from gongkai.ledger.tasks import publish_checkpoint
from gongkai.notify.services import sending_out
from gongkai.org.models import OrgUnit, Role, UnitKind
from gongkai.search.backends import backend as search_backend
from gongkai.search.models import SearchDocument
from gongkai.search.services import build_document

OVERDUE_OF_MISSES = 0.4  # of the missed obligations, never published (the rest late)
NOTHING_TO_REPORT = 0.015  # of the others, attested "nothing to report" instead
MISS_RANGE = (0.02, 0.22)  # each department's share of missed obligations
# A rare phrase, in about one item in 2,500 (the search benchmark's rare word).
RARE_PHRASE = "脱硫塔防腐"
RARE_EVERY = 2500
STEP_HOURS = (9, 11, 14, 16)
PUBLISH_BATCH = 500  # submitted, approved, endorsed, published


@dataclass(frozen=True)
class Level:
    """One approval of an item's chain: its index, the unit, who took it and as what."""

    index: int
    kind: str  # StepKind.APPROVE or ENDORSE
    unit: OrgUnit
    actor: User
    role: str


@dataclass(frozen=True)
class Chain:
    """Who drafts and publishes a unit's items (and as what), and who approves them."""

    author: User
    role: str
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Planned:
    unit: OrgUnit
    entry: CatalogEntry
    rule: CatalogRule
    period: Period
    due: date
    when: date
    attested: bool


def obligations_by_kind(today: date) -> dict[str, list[tuple[CatalogEntry, CatalogRule]]]:
    """The calendar entries (per event ones aside) charged to each kind of unit."""
    found: dict[str, list[tuple[CatalogEntry, CatalogRule]]] = {}
    for kind in UnitKind.values:
        probe = OrgUnit(kind=kind)
        found[kind] = [
            (entry, rule)
            for entry, rule in entries_for_unit(probe, today)
            if rule.frequency != Frequency.PER_EVENT
        ]
    return found


def plan_unit(
    unit: OrgUnit,
    entries: list[tuple[CatalogEntry, CatalogRule]],
    spec: ScaleSpec,
    workdays: WorkingCalendar,
    share: float,
    rng: random.Random,
) -> list[Planned]:
    """The unit's year: each obligation over, published on time, late, never (left out of
    the plan) or attested. The misses are spread evenly over the year (one each time the
    running share passes a whole obligation), as the demo company spreads its own."""
    today = spec.today
    obligations = [
        (deadline(period.end, rule.deadline_days, workdays), entry, rule, period)
        for entry, rule in entries
        for period in periods_between(
            KIND_BY_FREQUENCY[Frequency(rule.frequency)], spec.start, today
        )
        if period.start >= spec.start and period.end < today
    ]
    obligations.sort(key=lambda o: (o[0], o[1].pk, o[3].key))
    running = rng.random()
    planned: list[Planned] = []
    for due, entry, rule, period in obligations:
        missed = False
        if due < today:
            running += share
            missed = running >= 1
            running -= int(missed)
        if missed and rng.random() < OVERDUE_OF_MISSES:
            continue  # never published: overdue on the dashboard
        attested = not missed and rng.random() < NOTHING_TO_REPORT
        lateness = rng.randint(1, 20) if missed else -rng.randint(0, 8)
        when = max(min(due + timedelta(days=lateness), today), period.end + timedelta(days=1))
        planned.append(Planned(unit, entry, rule, period, due, min(when, today), attested))
    return planned


def chains(company: Company) -> dict[int, Chain]:
    """The chain of every unit of the company: the officer drafts; a team's head approves,
    then its department's; a department's head; the company's head, then the leadership
    group (the general manager). The union office drafts the company's items."""
    found: dict[int, Chain] = {}
    top = Level(0, StepKind.APPROVE, company.unit, company.head, Role.UNIT_HEAD)
    endorse = Level(1, StepKind.ENDORSE, company.unit, company.leader, Role.LEADERSHIP)
    found[company.unit.pk] = Chain(company.union, Role.UNION_OFFICE, (top, endorse))
    for dept in company.departments:
        level = Level(0, StepKind.APPROVE, dept, company.heads[dept.pk], Role.UNIT_HEAD)
        found[dept.pk] = Chain(company.officers[dept.pk], Role.DEPT_OFFICER, (level,))
    by_pk = {d.pk: d for d in company.departments}
    for team in company.teams:
        dept = by_pk[team.parent_id or 0]
        levels = (
            Level(0, StepKind.APPROVE, team, company.heads[team.pk], Role.UNIT_HEAD),
            Level(1, StepKind.APPROVE, dept, company.heads[dept.pk], Role.UNIT_HEAD),
        )
        found[team.pk] = Chain(company.officers[team.pk], Role.TEAM_OFFICER, levels)
    return found


class Publisher:
    """Writes a company's planned year: the items and their timelines in bulk, then their
    publication, oldest first; attestations through their service.

    ``through_publish``: each item through ``services.publish`` (about 20 queries each).
    Otherwise the same writes in batches (:meth:`publish_batch`), which keeps what that
    path keeps: revision 1 with the date of first publication, one ledger entry per
    revision hash-linked in order from the locked head (the content read back from the
    database by the ledger's own source, as verification reads it), the head moved, one
    search document per revision built by the search service, the boards' cache forgotten,
    a transparency checkpoint after commit. Its readers and other systems are told nothing
    in either case (history is loaded inside ``in_app_only``)."""

    def __init__(self, rng: random.Random, *, through_publish: bool = False) -> None:
        self.rng = rng
        self.count = 0
        self.through_publish = through_publish

    def run(self, planned: list[Planned], chains: dict[int, Chain]) -> dict[str, int]:
        if sending_out():
            raise RuntimeError("history is loaded inside notify.services.in_app_only()")
        planned = sorted(planned, key=lambda p: (p.when, p.unit.pk, p.entry.pk, p.period.key))
        items: list[tuple[Disclosure, Chain, Planned]] = []
        attested = late = 0
        for p in planned:
            chain = chains[p.unit.pk]
            if p.attested:
                attestation_file(
                    actor=chain.author,
                    unit=p.unit,
                    entry=p.entry,
                    period=p.period.key,
                    reason="本期未发生相关事项。",
                    at=at_day(p.when, STEP_HOURS[-1]),
                )
                attested += 1
                continue
            items.append((self.draft(p, chain), chain, p))
            late += p.when > p.due
        Disclosure.objects.bulk_create([d for d, _chain, _p in items], batch_size=500)
        steps: list[DisclosureStep] = []
        for d, chain, p in items:
            steps += self.timeline(d, chain, p.when)
        DisclosureStep.objects.bulk_create(steps, batch_size=1000)
        published = [(d, chain.author, at_day(p.when, STEP_HOURS[-1])) for d, chain, p in items]
        if self.through_publish:
            for d, author, at in published:
                publish(actor=author, item=d, at=at)
        else:
            for first in range(0, len(published), PUBLISH_BATCH):
                publish_batch(published[first : first + PUBLISH_BATCH])
            if published:
                after_commit(publish_checkpoint)  # once: into the transparency log
        return {"published": len(items), "late": late, "attested": attested}

    def draft(self, p: Planned, chain: Chain) -> Disclosure:
        """The item as its last approval left it: approved by every level, then published
        (``publish`` adds the revision and the date of first publication)."""
        title, procedure, result, table = content(self.rng, p.entry, p.unit, p.period)
        self.count += 1
        if self.count % RARE_EVERY == 7:
            result += f"<p>本期含{RARE_PHRASE}改造项目费用，已按合同结算。</p>"
        title, procedure, result = clean_content(title=title, procedure=procedure, result=result)
        submitted = at_day(p.when, STEP_HOURS[0])
        return Disclosure(
            unit=p.unit,
            entry=p.entry,
            period=p.period.key,
            title=title,
            procedure=procedure,
            result=result,
            table=table,
            scope=p.rule.default_scope,
            status=DisclosureStatus.PUBLISHED,
            author=chain.author,
            submitted_at=submitted,
            review_round=1,
            approvals=len(chain.levels),
        )

    def timeline(self, d: Disclosure, chain: Chain, day: date) -> list[DisclosureStep]:
        """Drafted the day before, submitted, approved level by level, published."""
        author = chain.author

        def step(kind: str, at: datetime, unit: OrgUnit, actor: User, role: str, **extra: object) -> DisclosureStep:  # fmt: skip  # noqa: E501
            return DisclosureStep(
                disclosure=d,
                kind=kind,
                review_round=0 if kind == StepKind.CREATE else 1,
                unit=unit,
                actor=actor,
                actor_name=actor.name,
                role=role,
                at=at,
                **extra,
            )

        steps = [
            step(StepKind.CREATE, at_day(day - timedelta(days=1), 15), d.unit, author, chain.role),
            step(StepKind.SUBMIT, at_day(day, STEP_HOURS[0]), d.unit, author, chain.role),
        ]
        for level, hour in zip(chain.levels, STEP_HOURS[1:3], strict=False):
            steps.append(
                step(
                    level.kind,
                    at_day(day, hour),
                    level.unit,
                    level.actor,
                    level.role,
                    level=level.index,
                )
            )
        steps.append(
            step(StepKind.PUBLISH, at_day(day, STEP_HOURS[-1]), d.unit, author, chain.role)
        )
        return steps


def publish_batch(items: list[tuple[Disclosure, User, datetime]]) -> None:
    """Publish ``items`` (in state published, oldest first) as ``services.publish`` would,
    in a few queries: see :class:`Publisher`."""
    revisions = Revision.objects.bulk_create(
        [
            Revision(
                disclosure=d,
                number=1,
                title=d.title,
                procedure=d.procedure,
                result=d.result,
                table=d.table,
                scope=d.scope,
                reason="",
                published_at=at,
                published_by=author,
            )
            for d, author, at in items
        ]
    )
    for (d, _author, at), revision in zip(items, revisions, strict=True):
        d.published_revision, d.first_published_at = revision, at
    Disclosure.objects.bulk_update(
        [d for d, _author, _at in items], ["published_revision", "first_published_at"]
    )
    # The ledger: what its source reads back of each revision, chained from the head.
    records = {
        r.record_id: r
        for r in ledger_source(RecordType.REVISION).load([rev.pk for rev in revisions])
    }
    ledger_append_many(
        [
            Appending(
                RecordType.REVISION,
                record.record_id,
                Event.PUBLISH,
                record.disclosure_id,
                record.content(canonical.CURRENT_VERSION),
                record.files if record.lists_files else None,
            )
            for record in (records[revision.pk] for revision in revisions)
        ]
    )
    # The search index, as the search service builds each document.
    engine = search_backend()
    built = [
        build_document(indexed(d, revision), engine)
        for (d, _author, _at), revision in zip(items, revisions, strict=True)
    ]
    SearchDocument.objects.bulk_create([document for document, _tokens in built])
    engine.added(built)
    for unit_id in {d.unit_id for d, _author, _at in items}:
        board_changed(unit_id)


def seed_company(company: Company, spec: ScaleSpec, rng: random.Random) -> dict[str, int]:
    """The company's year on its own board and on every department's and team's."""
    entries = obligations_by_kind(spec.today)
    workdays = calendar_spanning(spec.start, date(spec.today.year + 1, 12, 31))
    planned: list[Planned] = []
    units = [company.unit, *company.departments, *company.teams]
    shares = {d.pk: rng.uniform(*MISS_RANGE) for d in company.departments}
    company_share = rng.uniform(*MISS_RANGE) / 2
    for unit in units:
        share = shares.get(unit.pk) or shares.get(unit.parent_id or 0) or company_share
        planned += plan_unit(unit, entries[unit.kind], spec, workdays, share, rng)
    return Publisher(rng, through_publish=spec.through_publish).run(planned, chains(company))


def seed_unit_history(group: OrgUnit, spec: ScaleSpec, rng: random.Random) -> dict[str, int]:
    """The group's own company-level items (its union drafts them, its head approves, its
    general manager endorses), all on time."""
    users = {u.employee_no: u for u in User.objects.filter(unit=group)}
    chain = Chain(
        users[GROUP_UNION],
        Role.UNION_OFFICE,
        (
            Level(0, StepKind.APPROVE, group, users[GROUP_HEAD], Role.UNIT_HEAD),
            Level(1, StepKind.ENDORSE, group, users[GROUP_LEADER], Role.LEADERSHIP),
        ),
    )
    entries = obligations_by_kind(spec.today)[UnitKind.COMPANY]
    workdays = calendar_spanning(spec.start, date(spec.today.year + 1, 12, 31))
    planned = plan_unit(group, entries, spec, workdays, 0.0, rng)
    counts = Publisher(rng, through_publish=spec.through_publish).run(planned, {group.pk: chain})
    return {key: value for key, value in counts.items() if key == "published"}
