"""State changes of the assessment: a new weighting scheme, publishing a period's ranking."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.assessment.models import (
    CRITERIA,
    CRITERION_LABELS,
    OTHER_CRITERIA,
    SATISFACTION_CRITERIA,
    Ranking,
    Scheme,
)
from gongkai.assessment.scoring import (
    MISSING_RULE,
    compute,
    not_assessed_of,
    parse_period,
    ranking_rows,
    scheme_in_force,
)
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import CatalogEntry, Scope
from gongkai.disclosure.services import DirectPublication, Source, publish
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.policy.rules import Action, can

RANKING_ENTRY = "assessment-ranking"
MAX_REASON = 200


def check_weights(weights: dict[str, Any]) -> dict[str, int]:
    """Whole numbers 0–100 for every criterion that add up to 100, satisfaction (the four
    satisfaction sources together) weighing more than any other criterion."""
    clean: dict[str, int] = {}
    for criterion in CRITERIA:
        value = weights.get(criterion)
        try:
            number = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ServiceError(_("Give every weight as a whole number."), field=criterion) from None
        if not 0 <= number <= 100 or str(number) != str(value).strip():
            raise ServiceError(_("A weight is a whole number from 0 to 100."), field=criterion)
        clean[criterion] = number
    total = sum(clean.values())
    if total != 100:
        raise ServiceError(
            _("The weights add up to %(total)s; they must add up to 100.") % {"total": total}
        )
    satisfaction = sum(clean[c] for c in SATISFACTION_CRITERIA)
    for criterion in OTHER_CRITERIA:
        if clean[criterion] >= satisfaction:
            raise ServiceError(
                _(
                    "Satisfaction is the first standard: its weights together (%(satisfaction)s)"
                    " must be larger than “%(criterion)s” (%(weight)s)."
                )
                % {
                    "satisfaction": satisfaction,
                    "criterion": CRITERION_LABELS[criterion],
                    "weight": clean[criterion],
                },
                field=criterion,
            )
    return clean


@transaction.atomic
def scheme_create(
    *,
    actor: User,
    company: OrgUnit,
    weights: dict[str, Any],
    effective_from: date,
    reason: str = "",
) -> Scheme:
    """A new scheme for ``company`` from ``effective_from``; the earlier one still decides
    the periods that began before it."""
    if company.kind != UnitKind.COMPANY:
        raise ServiceError(_("Schemes are set for a company."))
    if not can(actor, Action.ASSESSMENT_MANAGE, company):
        raise ServiceError(_("You may not set the assessment weights of this company."))
    clean = check_weights(weights)
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason is too long."), field="reason")
    if Scheme.objects.filter(company=company, effective_from=effective_from).exists():
        raise ServiceError(
            _("A scheme already takes effect on that day; choose another day."),
            field="effective_from",
        )
    previous = scheme_in_force(company, effective_from)
    scheme = Scheme.objects.create(
        company=company,
        effective_from=effective_from,
        reason=reason,
        created_by=actor,
        **clean,
    )
    record_event(
        actor=actor,
        action="assessment.scheme_created",
        target=scheme,
        unit=company,
        before=previous.weights if previous else None,
        after={**clean, "effective_from": effective_from.isoformat(), "reason": reason},
    )
    return scheme


def ranking_html(assessment_rows: list[dict[str, Any]], period_label: str) -> str:
    """The published result: rank, department, each criterion's value (the inputs), the
    score, and why a department is not ranked; then the rule for missing sources."""

    def cell(item: dict[str, Any]) -> str:
        if item["status"] == "not_assessed":
            return "n/a"
        if item["status"] in ("missing", "legacy"):
            return escape(_("no data"))
        return f"{item['value']}{'*' if item['status'] == 'nothing_due' else ''}"

    rows = ranking_rows(assessment_rows)
    body = "".join(
        f"<tr><td>{row['rank'] or '—'}</td><td>{escape(row['unit_name'])}</td>"
        + "".join(f"<td>{cell(item)}</td>" for item in row["cells"])
        + f"<td>{'—' if row['total'] is None else row['total']}"
        + (
            f"<br>{escape(_('not rankable'))}: {escape('; '.join(row['not_ranked']))}"
            if row["not_ranked"]
            else ""
        )
        + "</td></tr>"
        for row in rows
    )
    head = "".join(f"<th>{escape(str(CRITERION_LABELS[c]))}</th>" for c in CRITERIA)
    not_assessed = not_assessed_of(assessment_rows)
    notes = [
        _(
            "Each criterion's value is 0–100; * means nothing fell due (scores 100); n/a means "
            "not assessed in this period."
        ),
        str(MISSING_RULE),
    ]
    if not_assessed:
        notes.insert(
            0,
            _("Not assessed in this period: %(criteria)s.") % {"criteria": "; ".join(not_assessed)},
        )
    return (
        f"<p>{escape(period_label)}</p><table><thead><tr><th>{escape(_('Rank'))}</th>"
        f"<th>{escape(_('Department'))}</th>{head}<th>{escape(_('Score'))}</th></tr></thead>"
        f"<tbody>{body}</tbody></table>" + "".join(f"<p>{escape(n)}</p>" for n in notes)
    )


@transaction.atomic
def ranking_publish(
    *, actor: User, company: OrgUnit, period: str, at: datetime | None = None
) -> Ranking:
    """Compute the period's scores now, freeze them as the period's ranking and publish it
    on the company's board as a disclosure of catalog entry "assessment-ranking". Once per
    period; a published ranking is never changed."""
    if not can(actor, Action.ASSESSMENT_MANAGE, company):
        raise ServiceError(_("You may not publish the ranking of this company."))
    parsed = parse_period(period)
    if parsed is None:
        raise ServiceError(
            _("Give the period as a half-year (2025-H2) or a year (2025)."), field="period"
        )
    now = at or timezone.now()
    today = timezone.localdate(now)
    if parsed.end >= today:
        raise ServiceError(_("The period has not ended yet."), field="period")
    scheme = scheme_in_force(company, parsed.start)
    if scheme is None:
        raise ServiceError(_("Set the weights for this period first."))
    # One at a time per company: the row lock on the company serialises two publishers.
    OrgUnit.objects.select_for_update().filter(pk=company.pk).first()
    if Ranking.objects.filter(company=company, period=parsed.key).exists():
        raise ServiceError(_("The ranking of this period is already published."))
    assessment = compute(company, parsed, today=today, scheme=scheme)
    rows = assessment.rows()
    entry = CatalogEntry.objects.filter(code=RANKING_ENTRY).first()
    if entry is None:
        raise ServiceError(_("The catalog has no entry for the assessment ranking."))
    with translation.override(settings.LANGUAGE_CODE):  # the board's language, not the clicker's
        label = str(parsed.label())
        method = _(
            "Computed by the supervision group with the assessment scheme in force from "
            "%(date)s; each department's score is shown line by line on the assessment page."
        ) % {"date": scheme.effective_from.isoformat()}
        title = _("Assessment ranking of the departments, %(period)s") % {"period": label}
        item = DirectPublication(
            unit=company,
            entry=entry,
            title=title,
            source=Source.RANKING,
            procedure=f"<p>{escape(method)}</p>",
            result=ranking_html(rows, label),
            table={
                "columns": [_("Rank"), _("Department"), _("Score")],
                "rows": [[r["rank"], r["unit_name"], r["total"]] for r in rows],
            },
            scope=Scope.INTERNAL,
            event_date=today,
        )
    disclosure = publish(actor=actor, item=item, at=now)
    try:
        with transaction.atomic():
            ranking = Ranking.objects.create(
                company=company,
                period=parsed.key,
                scheme=scheme,
                computed_on=today,
                rows=rows,
                disclosure=disclosure,
                published_by=actor,
                published_at=now,
            )
    except IntegrityError:
        raise ServiceError(_("The ranking of this period is already published.")) from None
    record_event(
        actor=actor,
        action="assessment.ranking_published",
        target=ranking,
        unit=company,
        after={
            "period": parsed.key,
            "scheme": scheme.pk,
            "disclosure": disclosure.pk,
            "scores": {r["unit_code"]: r["total"] for r in rows},
        },
    )
    return ranking
