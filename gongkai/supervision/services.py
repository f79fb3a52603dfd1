"""State changes of inspection rounds (监督检查): opening and closing a round, recording a
department's inspection (self-report, figures frozen at the time, checklist, what the
representatives said) and its findings, each of which becomes a rectification task.

Every service checks the policy itself, runs in one transaction, and writes its audit event
in that transaction; bad input raises ServiceError and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.files import prepare_upload, store
from gongkai.core.richtext import sanitize_html
from gongkai.core.text import clean_text
from gongkai.disclosure.compliance import compliance_snapshot
from gongkai.disclosure.engagement import tally
from gongkai.disclosure.models import DisclosureStatus, Rating
from gongkai.notify.services import notify
from gongkai.org.models import OrgUnit, Role, UnitKind
from gongkai.policy.rules import Action, can
from gongkai.supervision.models import (
    Answer,
    ChecklistAnswer,
    ChecklistItem,
    Finding,
    InspectedDepartment,
    InspectionRound,
    Rectification,
    RoundStatus,
    Severity,
)

DEFAULT_CHECKLIST = (
    gettext_lazy("Board updated within the month"),
    gettext_lazy("Both procedure and result disclosed"),
    gettext_lazy("Suggestions answered on time"),
    gettext_lazy("Catalog items published on time"),
    gettext_lazy("Objections in publicity windows answered"),
    gettext_lazy("Employees' ratings of the board followed up"),
)
MAX_TITLE = 200
MAX_ITEM = 200
MAX_ITEMS = 40
MAX_NOTE = 500
DEFAULT_RECTIFICATION_DAYS = 30


def _refuse_unless(condition: bool, message: str, field: str | None = None) -> None:
    if not condition:
        raise ServiceError(message, field=field)


def clean_checklist(items: Sequence[str] | None) -> list[str]:
    """The checklist's items, stripped, without blanks or repeats; defaults when none."""
    if items is None:
        with translation.override(settings.LANGUAGE_CODE):
            return [str(item) for item in DEFAULT_CHECKLIST]
    cleaned: list[str] = []
    for raw in items:
        text = raw.strip()
        if not text or text in cleaned:
            continue
        if len(text) > MAX_ITEM:
            raise ServiceError(
                _("A checklist item is too long (at most %(limit)s characters).")
                % {"limit": MAX_ITEM},
                field="checklist",
            )
        cleaned.append(text)
    _refuse_unless(bool(cleaned), _("Give at least one checklist item."), "checklist")
    _refuse_unless(
        len(cleaned) <= MAX_ITEMS,
        _("A checklist has at most %(max)s items.") % {"max": MAX_ITEMS},
        "checklist",
    )
    return cleaned


# --- Rounds ----------------------------------------------------------------------------------


@transaction.atomic
def round_open(
    *,
    actor: User | None,
    company: OrgUnit,
    title: str,
    period_start: date,
    period_end: date,
    departments: Sequence[OrgUnit],
    checklist: Sequence[str] | None = None,
) -> InspectionRound:
    """Open an inspection round covering the chosen departments of ``company``."""
    if actor is not None:
        _refuse_unless(
            can(actor, Action.INSPECTION_MANAGE, company),
            _("You may not open inspection rounds for this company."),
        )
    _refuse_unless(company.kind == UnitKind.COMPANY, _("Choose a company."), "company")
    title = clean_text(title, field="title", limit=MAX_TITLE)
    _refuse_unless(period_start <= period_end, _("The period ends before it begins."), "period_end")
    chosen = {unit.pk: unit for unit in departments}
    _refuse_unless(
        bool(chosen),
        _("Choose at least one department to inspect; the round was not opened."),
        "departments",
    )
    for unit in chosen.values():
        _refuse_unless(
            unit.path.startswith(company.path) and unit.pk != company.pk and unit.is_active,
            _("%(unit)s is not a department of this company.") % {"unit": unit.name},
            "departments",
        )
    items = clean_checklist(checklist)
    round = InspectionRound.objects.create(
        company=company,
        title=title,
        period_start=period_start,
        period_end=period_end,
        opened_by=actor,
    )
    InspectedDepartment.objects.bulk_create(
        [InspectedDepartment(round=round, department=unit) for unit in chosen.values()]
    )
    ChecklistItem.objects.bulk_create(
        [ChecklistItem(round=round, text=text, order=i) for i, text in enumerate(items, 1)]
    )
    record_event(
        actor=actor,
        action="inspection.round_opened",
        target=round,
        unit=company,
        after={
            "title": title,
            "period": f"{period_start.isoformat()}–{period_end.isoformat()}",
            "departments": sorted(unit.code for unit in chosen.values()),
            "checklist": items,
        },
    )
    return round


MAX_REASON = 500


def uninspected(round: InspectionRound) -> list[InspectedDepartment]:
    """The round's departments whose inspection was not recorded (no inspection date and no
    finding): closing the round needs a reason for each."""
    return [
        d
        for d in round.departments.select_related("department").prefetch_related("findings")
        if not d.was_inspected
    ]


@transaction.atomic
def round_close(
    *,
    actor: User | None,
    round: InspectionRound,
    reasons: Mapping[int, str] | None = None,
) -> InspectionRound:
    """Close an open round: no more findings; the circular can be drafted. Every department
    of the round must have been inspected; for one that was not, the supervision group
    records why (``reasons``: department id → reason), each audited. Without a reason for
    every uninspected department the round stays open."""
    locked = InspectionRound.objects.select_for_update().select_related("company").get(pk=round.pk)
    if actor is not None:
        _refuse_unless(
            can(actor, Action.INSPECTION_MANAGE, locked.company),
            _("You may not manage this inspection round."),
        )
    _refuse_unless(locked.status == RoundStatus.OPEN, _("This round is already closed."))
    reasons = reasons or {}
    missing: list[str] = []
    explained: list[tuple[InspectedDepartment, str]] = []
    for inspected in uninspected(locked):
        reason = clean_text(
            reasons.get(inspected.department_id, ""),
            field="reasons",
            limit=MAX_REASON,
            required=False,
        )
        if reason:
            explained.append((inspected, reason))
        else:
            missing.append(inspected.department.name)
    _refuse_unless(
        not missing,
        _(
            "These departments were not inspected: %(units)s. Record their inspection, or "
            "say for each why it was not inspected, before closing the round."
        )
        % {"units": _(", ").join(missing)},
        "reasons",
    )
    now = timezone.now()
    for inspected, reason in explained:
        inspected.not_inspected_reason = reason
        inspected.not_inspected_recorded_at = now
        inspected.not_inspected_recorded_by = actor
        inspected.save(
            update_fields=[
                "not_inspected_reason",
                "not_inspected_recorded_at",
                "not_inspected_recorded_by",
                "updated_at",
            ]
        )
        record_event(
            actor=actor,
            action="inspection.not_inspected",
            target=inspected,
            unit=inspected.department,
            target_label=str(inspected),
            after={"reason": reason},
        )
    won = InspectionRound.objects.filter(pk=locked.pk, status=RoundStatus.OPEN).update(
        status=RoundStatus.CLOSED, closed_at=now, updated_at=now
    )
    _refuse_unless(bool(won), _("This round is already closed."))
    round.status, round.closed_at = RoundStatus.CLOSED, now
    record_event(
        actor=actor,
        action="inspection.round_closed",
        target=round,
        unit=locked.company,
        before={"status": RoundStatus.OPEN},
        after={
            "status": RoundStatus.CLOSED,
            **(
                {"not_inspected": sorted(i.department.code for i, _r in explained)}
                if explained
                else {}
            ),
        },
    )
    return round


@transaction.atomic
def checklist_update(
    *, actor: User | None, round: InspectionRound, items: Sequence[str]
) -> list[ChecklistItem]:
    """Replace the checklist of an open round. Items that keep their text keep their answers;
    removed items lose theirs."""
    locked = InspectionRound.objects.select_for_update().get(pk=round.pk)
    if actor is not None:
        _refuse_unless(
            can(actor, Action.INSPECTION_MANAGE, locked.company),
            _("You may not manage this inspection round."),
        )
    _refuse_unless(
        locked.status == RoundStatus.OPEN, _("The round is closed; its checklist is final.")
    )
    wanted = clean_checklist(items)
    existing = {item.text: item for item in locked.checklist.all()}
    before = list(existing)
    for text, item in existing.items():
        if text not in wanted:
            item.delete()
    kept = []
    for order, text in enumerate(wanted, 1):
        item = existing.get(text) or ChecklistItem(round=locked, text=text)
        item.order = order
        item.save()
        kept.append(item)
    if before != wanted:
        record_event(
            actor=actor,
            action="inspection.checklist_changed",
            target=locked,
            unit=locked.company,
            before={"checklist": before},
            after={"checklist": wanted},
        )
    return kept


# --- A department's inspection ---------------------------------------------------------------


def board_satisfaction(department: OrgUnit) -> dict[str, Any]:
    """The satisfaction barometer of the department's boards (its own and its teams'), as of
    now: the ratings of their published items in force."""
    ratings = Rating.objects.filter(
        disclosure__unit__path__startswith=department.path,
        disclosure__published_revision__isnull=False,
    ).exclude(disclosure__status=DisclosureStatus.WITHDRAWN)
    counts = tally(ratings)
    return {
        "satisfied": counts.satisfied,
        "basic": counts.basic,
        "dissatisfied": counts.dissatisfied,
        "total": counts.total,
        "satisfied_pct": counts.satisfied_pct,
        "content_pct": counts.content_pct,
        "as_of": timezone.localdate().isoformat(),
    }


def freeze_figures(inspected: InspectedDepartment) -> dict[str, Any]:
    """The department's compliance figures for the round's period (the one compliance
    engine's snapshot, as JSON) and its board satisfaction, as of now."""
    round = inspected.round
    return {
        "compliance_snapshot": compliance_snapshot(
            unit=inspected.department, start=round.period_start, end=round.period_end
        ),
        "board_satisfaction": board_satisfaction(inspected.department),
    }


def _locked_inspection(actor: User | None, inspected: InspectedDepartment) -> InspectedDepartment:
    locked = (
        InspectedDepartment.objects.select_for_update(of=("self",))
        .select_related("round", "round__company", "department")
        .get(pk=inspected.pk)
    )
    if actor is not None:
        _refuse_unless(
            can(actor, Action.INSPECTION_MANAGE, locked.round.company),
            _("You may not manage this inspection round."),
        )
    _refuse_unless(
        locked.round.status == RoundStatus.OPEN,
        _("The round is closed; its inspections can no longer be changed."),
    )
    return locked


@transaction.atomic
def inspection_record(
    *,
    actor: User | None,
    inspected: InspectedDepartment,
    inspected_on: date,
    self_report: str = "",
    representative_notes: str = "",
    answers: Mapping[int, tuple[str, str]] | None = None,
) -> InspectedDepartment:
    """Record the inspection of a department. The first time, the compliance figures and the
    board's satisfaction are frozen into the inspection as they stand now."""
    locked = _locked_inspection(actor, inspected)
    _refuse_unless(
        inspected_on <= timezone.localdate(),
        _("The inspection date is in the future."),
        "inspected_on",
    )
    _refuse_unless(
        inspected_on >= locked.round.period_start,
        _("The inspection date is before the round's period."),
        "inspected_on",
    )
    changes: dict[str, Any] = {
        "inspected_on": inspected_on,
        "self_report": sanitize_html(clean_text(self_report, field="self_report", required=False)),
        "representative_notes": clean_text(
            representative_notes, field="representative_notes", required=False
        ),
    }
    if locked.compliance_snapshot is None:
        changes |= freeze_figures(locked)
    before = {
        k: str(getattr(locked, k))
        for k in ("inspected_on", "self_report", "representative_notes")
        if getattr(locked, k) != changes[k]
    }
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*changes, "updated_at"])
    changed_answers = _save_answers(locked, answers or {})
    record_event(
        actor=actor,
        action="inspection.recorded",
        target=locked,
        unit=locked.department,
        target_label=str(locked),
        before=before or None,
        after={
            **{k: str(changes[k])[:200] for k in before},
            **({"answers": changed_answers} if changed_answers else {}),
            **({"figures_frozen": True} if "compliance_snapshot" in changes else {}),
        },
    )
    return locked


def _save_answers(
    inspected: InspectedDepartment, answers: Mapping[int, tuple[str, str]]
) -> dict[str, str]:
    items = {item.pk: item for item in inspected.round.checklist.all()}
    existing = {a.item_id: a for a in inspected.answers.all()}
    changed: dict[str, str] = {}
    for item_id, (answer, note) in answers.items():
        item = items.get(item_id)
        _refuse_unless(item is not None, _("Unknown checklist item."), "answers")
        assert item is not None  # noqa: S101 - for the type checker
        if not answer:
            continue
        _refuse_unless(answer in Answer.values, _("Unknown answer."), "answers")
        note = clean_text(note, field="answers", limit=MAX_NOTE, required=False)
        current = existing.get(item_id)
        if current is None:
            ChecklistAnswer.objects.create(inspected=inspected, item=item, answer=answer, note=note)
        elif (current.answer, current.note) != (answer, note):
            current.answer, current.note = answer, note
            current.save(update_fields=["answer", "note"])
        else:
            continue
        changed[item.text[:60]] = answer
    return changed


def inspection_attach_report(
    *, actor: User | None, inspected: InspectedDepartment, upload: UploadedFile
) -> InspectedDepartment:
    """Attach the department's self-report as a file (PDF, Word, Excel or an image; the type
    is sniffed from the content and image metadata stripped)."""
    _locked_inspection_check(actor, inspected)
    prepared = prepare_upload(upload)  # before the transaction: images take a moment
    with transaction.atomic():
        locked = _locked_inspection(actor, inspected)
        old = locked.self_report_file.name
        store(locked.self_report_file, prepared)
        locked.self_report_file_name = prepared.name
        locked.self_report_content_type = prepared.kind.content_type
        try:
            locked.save(
                update_fields=[
                    "self_report_file",
                    "self_report_file_name",
                    "self_report_content_type",
                    "updated_at",
                ]
            )
            record_event(
                actor=actor,
                action="inspection.report_attached",
                target=locked,
                unit=locked.department,
                target_label=str(locked),
                after={"name": prepared.name, "sha256": prepared.sha256},
            )
        except Exception:
            locked.self_report_file.delete(save=False)
            raise
    if old:
        transaction.on_commit(lambda: locked.self_report_file.storage.delete(old))
    return locked


def _locked_inspection_check(actor: User | None, inspected: InspectedDepartment) -> None:
    """The cheap checks of :func:`_locked_inspection`, before reading an upload."""
    if actor is not None and not can(actor, Action.INSPECTION_MANAGE, inspected.round.company):
        raise ServiceError(_("You may not manage this inspection round."))
    if inspected.round.status != RoundStatus.OPEN:
        raise ServiceError(_("The round is closed; its inspections can no longer be changed."))


# --- Findings --------------------------------------------------------------------------------


def repeat_candidates(inspected: InspectedDepartment) -> list[Finding]:
    """Earlier findings of the same department (other rounds) a new one may repeat."""
    return list(
        Finding.objects.filter(inspected__department_id=inspected.department_id)
        .exclude(inspected__round_id=inspected.round_id)
        .filter(inspected__round__period_start__lt=inspected.round.period_start)
        .select_related("inspected__round")
        .order_by("-inspected__round__period_start", "-id")
    )


@transaction.atomic
def finding_record(
    *,
    actor: User | None,
    inspected: InspectedDepartment,
    text: str,
    severity: str,
    due_on: date | None = None,
    repeat_of: Finding | None = None,
) -> Finding:
    """Record a finding; it becomes a rectification task for the department's head, who is
    notified. A repeat finding points to the same department's earlier one."""
    locked = _locked_inspection(actor, inspected)
    text = clean_text(text, field="text", limit=5000)
    _refuse_unless(severity in Severity.values, _("Choose a severity."), "severity")
    today = timezone.localdate()
    due_on = due_on or today + timedelta(days=DEFAULT_RECTIFICATION_DAYS)
    if repeat_of is not None:
        _refuse_unless(
            repeat_of.inspected.department_id == locked.department_id
            and repeat_of.inspected.round_id != locked.round_id
            and repeat_of.inspected.round.period_start < locked.round.period_start,
            _("A repeat finding must repeat an earlier round's finding of the same department."),
            "repeat_of",
        )
    finding = Finding.objects.create(
        inspected=locked,
        text=text,
        severity=severity,
        repeat_of=repeat_of,
        recorded_by=actor,
    )
    rectification = Rectification.objects.create(finding=finding, due_on=due_on)
    record_event(
        actor=actor,
        action="inspection.finding_recorded",
        target=finding,
        unit=locked.department,
        after={
            "severity": severity,
            "text": text[:200],
            "due_on": due_on.isoformat(),
            **({"repeat_of": repeat_of.pk} if repeat_of else {}),
        },
    )
    heads = [
        user
        for user in User.objects.filter(
            is_active=True,
            role_assignments__role=Role.UNIT_HEAD,
            role_assignments__unit=locked.department,
        ).distinct()
        if actor is None or user.pk != actor.pk
    ]
    notify(
        users=heads,
        message=_("Rectification due %(due)s: %(finding)s")
        % {"due": due_on.isoformat(), "finding": text[:120]},
        url=reverse("supervision:rectification_detail", args=[rectification.pk]),
    )
    return finding
