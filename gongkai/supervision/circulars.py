"""Circulars (通报): drafted from a closed round, edited as structured sections, then issued —
published as a disclosure (catalog entry "inspection-circular") to the departments and frozen.
An issued circular is never changed (the model and a database trigger refuse it); a new
circular that points to it supersedes it.

Sections are plain text (paragraphs) plus generated tables, stored as JSON:
``[{"heading": str, "paragraphs": [str, ...], "table": {"columns": [...], "rows": [[...]]}}]``
so that the page, the disclosure, the PDF and the .docx all come from the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.documents import Block, Heading, OfficialDocument, Para, Table
from gongkai.core.errors import ServiceError
from gongkai.core.richtext import sanitize_html
from gongkai.core.text import clean_text
from gongkai.disclosure.models import CatalogEntry, Disclosure, Scope
from gongkai.disclosure.services import DirectPublication, Source, publish
from gongkai.ledger import transparency
from gongkai.notify.services import notify
from gongkai.org.models import Role
from gongkai.supervision.models import (
    Answer,
    Circular,
    CircularStatus,
    InspectedDepartment,
    InspectionRound,
    RoundStatus,
    Severity,
)
from gongkai.supervision.permissions import can_manage_circular, can_manage_round
from gongkai.supervision.selectors import RankRow, ranking, round_departments

ENTRY_CODE = "inspection-circular"
MAX_SECTIONS = 30
MAX_SECTION_TEXT = 20_000
MAX_TITLE = 200
Section = dict[str, Any]


# --- Generating the draft --------------------------------------------------------------------


def percent(value: float | int | None) -> str:
    return "—" if value is None else f"{value:g}%"


GOOD_CHECKLIST_PCT = 80  # at least this share of the applicable checklist items met
GOOD_ON_TIME_RATE = 90  # and at least this disclosure on-time rate (frozen at the inspection)
GOOD_SEVERITIES = (Severity.MINOR,)  # and no finding more serious than these


def draft_sections(round: InspectionRound) -> list[Section]:
    """The circular's sections, generated from the round in the site's language. Only the
    departments whose inspection was recorded are said to be inspected, praised or ranked;
    those left uninspected are named with the reason the supervision group recorded."""
    with translation.override(settings.LANGUAGE_CODE):
        departments = round_departments(round)
        inspected = [d for d in departments if d.was_inspected]
        skipped = [d for d in departments if not d.was_inspected]
        ranked = ranking(inspected)
        return [
            overview_section(round, inspected, skipped),
            good_section(round, ranked),
            findings_section(inspected),
            rectification_section(inspected),
            ranking_section(ranked),
            {
                "heading": _("VI. Requirements"),
                "paragraphs": [
                    _(
                        "Every department is to study this circular, rectify its findings by "
                        "the dates set, report what it did with evidence to the supervision "
                        "group, and disclose the rectification on its board. Repeat findings "
                        "and overdue rectifications are taken into the assessment and may lead "
                        "to accountability."
                    )
                ],
                "table": None,
            },
        ]


def overview_section(
    round: InspectionRound,
    departments: Sequence[InspectedDepartment],
    skipped: Sequence[InspectedDepartment] = (),
) -> Section:
    names = _(", ").join(d.department.name for d in departments)
    paragraphs = []
    if departments:
        paragraphs.append(
            _(
                "For the period %(start)s to %(end)s the supervision group inspected the "
                "company affairs disclosure of %(count)s departments: %(names)s. It heard each "
                "department's report, checked its disclosure records and boards against the "
                "catalog, and heard the employee representatives."
            )
            % {
                "start": round.period_start.isoformat(),
                "end": round.period_end.isoformat(),
                "count": len(departments),
                "names": names,
            }
        )
    else:
        paragraphs.append(
            _("For the period %(start)s to %(end)s no department's inspection was recorded.")
            % {"start": round.period_start.isoformat(), "end": round.period_end.isoformat()}
        )
    for item in skipped:
        paragraphs.append(
            _("%(unit)s was not inspected in this round: %(reason)s")
            % {
                "unit": item.department.name,
                "reason": item.not_inspected_reason or _("no reason was recorded."),
            }
        )
    return {"heading": _("I. The inspection"), "paragraphs": paragraphs, "table": None}


def is_good_practice(row: RankRow) -> bool:
    """Praise only what the figures support: most of the checklist met, a high disclosure
    on-time rate, and no finding more serious than a minor one."""
    return (
        row.checklist_pct is not None
        and row.checklist_pct >= GOOD_CHECKLIST_PCT
        and row.on_time_rate is not None
        and row.on_time_rate >= GOOD_ON_TIME_RATE
        and all(f.severity in GOOD_SEVERITIES for f in row.inspected.findings.all())
    )


def good_section(round: InspectionRound, ranked: Sequence[RankRow]) -> Section:
    paragraphs = []
    for row in ranked:
        if not is_good_practice(row):
            continue
        if row.checklist_pct == 100 and not row.findings:
            paragraphs.append(
                _(
                    "%(unit)s met every item of the checklist with no finding; its disclosure "
                    "on-time rate was %(rate)s."
                )
                % {"unit": row.inspected.department.name, "rate": percent(row.on_time_rate)}
            )
        else:
            paragraphs.append(
                _("%(unit)s met %(met)s of %(total)s checklist items; on-time rate %(rate)s.")
                % {
                    "unit": row.inspected.department.name,
                    "met": row.met,
                    "total": row.met + row.not_met,
                    "rate": percent(row.on_time_rate),
                }
            )
    items = list(round.checklist.all())
    everyone_met = [
        item.text
        for item in items
        if ranked
        and all(
            any(
                a.item_id == item.pk and a.answer == Answer.MET for a in row.inspected.answers.all()
            )
            for row in ranked
        )
    ]
    if everyone_met:
        paragraphs.insert(
            0,
            _("Every department inspected met: %(items)s.") % {"items": _("; ").join(everyone_met)},
        )
    if not any(is_good_practice(row) for row in ranked):
        paragraphs.append(
            _(
                "No department is cited for good practice: that takes at least %(checklist)s%% "
                "of the applicable checklist items met, a disclosure on-time rate of at least "
                "%(rate)s%%, and no finding more serious than a minor one."
            )
            % {"checklist": GOOD_CHECKLIST_PCT, "rate": GOOD_ON_TIME_RATE}
        )
    return {"heading": _("II. What was done well"), "paragraphs": paragraphs, "table": None}


def findings_section(departments: Sequence[InspectedDepartment]) -> Section:
    paragraphs = []
    severity = dict(Severity.choices)
    for inspected in departments:
        for number, finding in enumerate(inspected.findings.all(), 1):
            text = _("%(unit)s, finding %(n)s (%(severity)s): %(text)s") % {
                "unit": inspected.department.name,
                "n": number,
                "severity": severity[finding.severity],
                "text": finding.text,
            }
            if finding.repeat_of_id is not None:
                text += _(" — a repeat finding, already found in an earlier inspection.")
            paragraphs.append(text)
    if not paragraphs:
        paragraphs.append(_("The inspection found no problems."))
    return {"heading": _("III. Problems found"), "paragraphs": paragraphs, "table": None}


def rectification_section(departments: Sequence[InspectedDepartment]) -> Section:
    severity = dict(Severity.choices)
    rows = [
        [
            inspected.department.name,
            finding.text[:80],
            str(severity[finding.severity]),
            finding.rectification.due_on.isoformat(),
        ]
        for inspected in departments
        for finding in inspected.findings.all()
    ]
    return {
        "heading": _("IV. Rectification demanded"),
        "paragraphs": [
            _(
                "The departments concerned rectify each finding by its due date and report "
                "what they did, with evidence; the supervision group verifies each report."
            )
            if rows
            else _("No rectification is demanded.")
        ],
        "table": {
            "columns": [_("Department"), _("Finding"), _("Severity"), _("Due")],
            "rows": rows,
        }
        if rows
        else None,
    }


def ranking_section(ranked: Sequence[RankRow]) -> Section:
    return {
        "heading": _("V. Ranking of the departments"),
        "paragraphs": [
            _(
                "Ranked by the share of applicable checklist items met, then by the disclosure "
                "on-time rate frozen at the inspection, then by fewer findings."
            )
        ],
        "table": {
            "columns": [
                _("Rank"),
                _("Department"),
                _("Checklist met"),
                _("On-time rate"),
                _("Findings"),
            ],
            "rows": [
                [
                    str(i),
                    row.inspected.department.name,
                    percent(row.checklist_pct),
                    percent(row.on_time_rate),
                    str(row.findings),
                ]
                for i, row in enumerate(ranked, 1)
            ],
        },
    }


def default_number(round: InspectionRound) -> str:
    year = round.period_end.year
    count = Circular.objects.filter(round__company=round.company, issued_at__year=year).count()
    with translation.override(settings.LANGUAGE_CODE):
        return _("Supervision circular [%(year)s] No. %(n)s") % {"year": year, "n": count + 1}


def default_title(round: InspectionRound) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Circular on the company affairs disclosure inspection: %(round)s") % {
            "round": round.title
        }


# --- Services --------------------------------------------------------------------------------


@transaction.atomic
def circular_draft(
    *, actor: User | None, round: InspectionRound, supersedes: Circular | None = None
) -> Circular:
    """A new draft generated from a closed round; with ``supersedes``, the draft of a new
    circular that will replace that issued one (its sections copied for editing)."""
    locked = InspectionRound.objects.select_for_update().get(pk=round.pk)
    if actor is not None and not can_manage_round(actor, locked):
        raise ServiceError(_("You may not manage this inspection round."))
    if locked.status != RoundStatus.CLOSED:
        raise ServiceError(_("Close the round before drafting its circular."))
    if supersedes is not None:
        if supersedes.round_id != locked.pk or not supersedes.is_issued:
            raise ServiceError(_("Only an issued circular of this round can be superseded."))
        if Circular.objects.filter(supersedes=supersedes, status=CircularStatus.ISSUED).exists():
            raise ServiceError(_("This circular has already been superseded."))
        sections = supersedes.sections
        title, number = supersedes.title, default_number(locked)
    else:
        if Circular.objects.filter(round=locked, status=CircularStatus.DRAFT).exists():
            raise ServiceError(_("This round already has a draft circular; edit that one."))
        sections = draft_sections(locked)
        title, number = default_title(locked), default_number(locked)
    circular = Circular.objects.create(
        round=locked,
        title=title,
        number=number,
        sections=sections,
        supersedes=supersedes,
        created_by=actor,
    )
    record_event(
        actor=actor,
        action="circular.drafted",
        target=circular,
        unit=locked.company,
        after={"title": title, **({"supersedes": supersedes.pk} if supersedes else {})},
    )
    return circular


def clean_sections(sections: Sequence[Section]) -> list[Section]:
    cleaned: list[Section] = []
    for section in sections:
        heading = str(section.get("heading") or "").strip()
        paragraphs = [str(p).strip() for p in section.get("paragraphs") or [] if str(p).strip()]
        table = section.get("table")
        if not heading and not paragraphs and not table:
            continue
        if len(heading) > MAX_TITLE:
            raise ServiceError(_("A section heading is too long."), field="sections")
        if sum(len(p) for p in paragraphs) > MAX_SECTION_TEXT:
            raise ServiceError(
                _("A section is too long (at most %(limit)s characters).")
                % {"limit": MAX_SECTION_TEXT},
                field="sections",
            )
        cleaned.append({"heading": heading, "paragraphs": paragraphs, "table": table})
    if not cleaned:
        raise ServiceError(_("A circular needs at least one section."), field="sections")
    if len(cleaned) > MAX_SECTIONS:
        raise ServiceError(_("Too many sections."), field="sections")
    return cleaned


def frozen_error() -> ServiceError:
    return ServiceError(
        _("This circular has been issued and cannot be changed; draft a new one to supersede it.")
    )


@transaction.atomic
def circular_update(
    *,
    actor: User | None,
    circular: Circular,
    title: str,
    number: str,
    sections: Sequence[Section],
    supersede_reason: str | None = None,
) -> Circular:
    """Edit a draft. Issued circulars are refused."""
    locked = (
        Circular.objects.select_for_update().select_related("round__company").get(pk=circular.pk)
    )
    if actor is not None and not can_manage_circular(actor, locked):
        raise ServiceError(_("You may not manage this inspection round."))
    if locked.is_issued:
        raise frozen_error()
    title = clean_text(
        title,
        field="title",
        limit=MAX_TITLE,
        empty=_("Give a title."),
        too_long=_("The title is too long."),
    )
    number = (number or "").strip()[:60]
    cleaned = clean_sections(sections)
    reason = locked.supersede_reason if supersede_reason is None else supersede_reason.strip()
    if len(reason) > 500:
        raise ServiceError(_("The reason is too long."), field="supersede_reason")
    changed = [
        name
        for name, value in (
            ("title", title),
            ("number", number),
            ("sections", cleaned),
            ("supersede_reason", reason),
        )
        if getattr(locked, name) != value
    ]
    if not changed:
        return locked
    locked.title, locked.number, locked.sections, locked.supersede_reason = (
        title,
        number,
        cleaned,
        reason,
    )
    locked.save(update_fields=["title", "number", "sections", "supersede_reason", "updated_at"])
    record_event(
        actor=actor,
        action="circular.edited",
        target=locked,
        unit=locked.round.company,
        after={"changed": changed},
    )
    return locked


@transaction.atomic
def circular_issue(*, actor: User, circular: Circular, at: datetime | None = None) -> Circular:
    """Issue a draft: publish it as a disclosure of the company (the departments' boards show
    it through linked management) and freeze it. ``at`` back-dates it; only for entering past
    records by the system (the demo, imports) — pages never pass it."""
    locked = (
        Circular.objects.select_for_update().select_related("round__company").get(pk=circular.pk)
    )
    if not can_manage_circular(actor, locked):
        raise ServiceError(_("You may not manage this inspection round."))
    if locked.is_issued:
        raise frozen_error()
    clean_sections(locked.sections)
    if locked.supersedes_id is not None:
        if Circular.objects.filter(
            supersedes_id=locked.supersedes_id, status=CircularStatus.ISSUED
        ).exists():
            raise ServiceError(_("This circular has already been superseded."))
        if not locked.supersede_reason:
            raise ServiceError(
                _("Say why the earlier circular is superseded."), field="supersede_reason"
            )
    now = at or timezone.now()
    disclosure = publish_disclosure(actor=actor, circular=locked, at=now)
    won = Circular.objects.filter(pk=locked.pk, status=CircularStatus.DRAFT).update(
        status=CircularStatus.ISSUED,
        issued_at=now,
        issued_by=actor,
        disclosure=disclosure,
        updated_at=now,
    )
    if not won:
        raise ServiceError(_("Someone else acted on this circular first; reload the page."))
    locked = Circular.objects.select_related("round__company", "disclosure").get(pk=locked.pk)
    record_event(
        actor=actor,
        action="circular.issued",
        target=locked,
        unit=locked.round.company,
        before={"status": CircularStatus.DRAFT},
        after={
            "status": CircularStatus.ISSUED,
            "disclosure": disclosure.pk,
            **({"supersedes": locked.supersedes_id} if locked.supersedes_id else {}),
        },
    )
    heads = User.objects.filter(
        is_active=True,
        role_assignments__role=Role.UNIT_HEAD,
        role_assignments__unit__inspections__round=locked.round,
    ).distinct()
    notify(
        users=[u for u in heads if u.pk != actor.pk],
        message=_("Circular issued: %(title)s") % {"title": locked.title},
        url=reverse("supervision:circular_detail", args=[locked.pk]),
    )
    return locked


def publish_disclosure(*, actor: User, circular: Circular, at: datetime) -> Disclosure:
    """Publish the circular as a disclosure of the company. The supervision group's own review
    (draft → edit → issue with confirmation) is this item's procedure, so the item is
    published directly, through the one publish service of the disclosure workflow."""
    company = circular.round.company
    with translation.override(settings.LANGUAGE_CODE):
        paragraphs = [
            _(
                "Inspection round %(round)s (%(start)s to %(end)s): the supervision group "
                "heard the departments' reports, checked their disclosure records and "
                "boards, heard the employee representatives, and issued this circular."
            )
            % {
                "round": circular.round.title,
                "start": circular.round.period_start.isoformat(),
                "end": circular.round.period_end.isoformat(),
            }
        ]
        if circular.supersedes_id is not None:
            paragraphs.append(
                _("This circular supersedes %(number)s: %(reason)s")
                % {
                    "number": circular.supersedes.number if circular.supersedes else "",
                    "reason": circular.supersede_reason,
                }
            )
    item = DirectPublication(
        unit=company,
        entry=CatalogEntry.objects.get(code=ENTRY_CODE),
        title=f"{circular.number} {circular.title}".strip()[:200],
        source=Source.CIRCULAR,
        procedure="".join(f"<p>{escape(p)}</p>" for p in paragraphs),
        result=sections_html(circular.sections),
        scope=Scope.INTERNAL,
        event_date=timezone.localdate(at),
        details={"circular": circular.pk},
    )
    return publish(actor=actor, item=item, at=at)


def sections_html(sections: Sequence[Section]) -> str:
    parts: list[str] = []
    for section in sections:
        if section.get("heading"):
            parts.append(f"<h3>{escape(section['heading'])}</h3>")
        for paragraph in section.get("paragraphs") or []:
            parts.append(f"<p>{escape(paragraph)}</p>")
        table = section.get("table")
        if table:
            head = "".join(f"<th>{escape(c)}</th>" for c in table.get("columns") or [])
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                for row in table.get("rows") or []
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return sanitize_html("".join(parts))


# --- Documents -------------------------------------------------------------------------------


def circular_document(circular: Circular) -> OfficialDocument:
    """The circular as an official document (GB/T 9704-2012) for
    :mod:`gongkai.core.documents.pdf` and ``word``."""
    round = circular.round
    with translation.override(settings.LANGUAGE_CODE):
        blocks: list[Block] = []
        if circular.supersedes_id is not None and circular.supersedes is not None:
            blocks.append(
                Para(
                    _("This circular supersedes %(number)s: %(reason)s")
                    % {"number": circular.supersedes.number, "reason": circular.supersede_reason}
                )
            )
        for section in circular.sections:
            if section.get("heading"):
                blocks.append(Heading(section["heading"]))
            blocks.extend(Para(p) for p in section.get("paragraphs") or [])
            table = section.get("table")
            if table:
                blocks.append(Table(columns=table["columns"], rows=table["rows"]))
        issuer = _("%(company)s company affairs disclosure supervision group") % {
            "company": round.company.name
        }
        when = timezone.localdate(circular.issued_at or circular.updated_at)
        return OfficialDocument(
            masthead=issuer,
            number=circular.number,
            title=circular.title,
            recipients=[_("All departments")],
            body=blocks,
            issuer=issuer,
            date=when,
            cc=[
                _("%(company)s company affairs disclosure leadership group")
                % {"company": round.company.name}
            ],
            printer=issuer,
            print_date=when,
            notice="" if circular.is_issued else _("DRAFT — not issued"),
            author=issuer,
            subject=round.title,
            keywords=[str(_("circular")), round.title],
            mark=transparency.document_mark(),
        )


def circular_text(circular: Circular) -> list[str]:
    """Every line of text the circular carries, for comparing with an extracted PDF."""
    lines = [circular.title, circular.number]
    for section in circular.sections:
        lines.append(section.get("heading") or "")
        lines.extend(section.get("paragraphs") or [])
        table = section.get("table")
        if table:
            lines.extend(table["columns"])
            lines.extend(cell for row in table["rows"] for cell in row)
    return [line for line in lines if line]
