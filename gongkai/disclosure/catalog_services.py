"""Editing the catalog: each change adds a rule effective from a date; old periods keep the
rule they were due under. A rule takes effect only from a period that has not begun (or,
confirmed, from the start of the current one): each period is judged by the rule in force
when it began, so a rule dated in the past would rewrite what was already judged."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.periods import KIND_BY_FREQUENCY, Frequency, Period
from gongkai.disclosure.catalog import entry_rules, rule_in_force
from gongkai.disclosure.models import REMIND_DAYS_MAX, CatalogEntry, CatalogRule, Scope
from gongkai.org.models import UnitKind


@transaction.atomic
def catalog_rule_add(
    *,
    actor: User,
    entry: CatalogEntry,
    effective_from: date,
    unit_kinds: list[str],
    frequency: str,
    deadline_days: int,
    default_scope: str,
    requires_procedure: bool,
    requires_result: bool,
    reason: str,
    confirm_current: bool = False,
) -> CatalogRule:
    if not unit_kinds or set(unit_kinds) - set(UnitKind.values):
        raise ServiceError(
            _("Choose the kinds of unit that publish this entry."), field="unit_kinds"
        )
    if frequency not in Frequency.values:
        raise ServiceError(_("Unknown frequency."), field="frequency")
    if default_scope not in Scope.values:
        raise ServiceError(_("Unknown scope."), field="default_scope")
    if not 0 <= deadline_days <= 365:
        raise ServiceError(
            _("The deadline is 0 to 365 days after the period."), field="deadline_days"
        )
    if not reason.strip():
        raise ServiceError(_("Say why the rule changes."), field="reason")
    CatalogEntry.objects.select_for_update().filter(pk=entry.pk).first()  # one change at a time
    today = timezone.localdate()
    rules = entry_rules(entry)
    before = rule_in_force(rules, today)
    earliest = earliest_start(today, [frequency, *([before.frequency] if before else [])])
    if effective_from < earliest:
        raise ServiceError(
            _(
                "A rule cannot take effect before the current period: earlier periods were "
                "judged by the rule in force when they began. Choose %(date)s or later."
            )
            % {"date": earliest.isoformat()},
            field="effective_from",
        )
    if effective_from <= today and not confirm_current:
        raise ServiceError(
            _(
                "This rule would also judge the current period (from %(date)s). Tick the "
                "confirmation to apply it to the current period, or choose a later date."
            )
            % {"date": effective_from.isoformat()},
            field="confirm_current",
        )
    if before is not None and effective_from <= before.effective_from:
        raise ServiceError(
            _(
                "A new rule must take effect after the rule in force (%(date)s): history is "
                "never rewritten."
            )
            % {"date": before.effective_from.isoformat()},
            field="effective_from",
        )
    if entry.rules.filter(effective_from=effective_from).exists():
        raise ServiceError(
            _(
                "A rule already takes effect on %(date)s. To replace a rule that has not taken "
                "effect yet, give an earlier date."
            )
            % {"date": effective_from.isoformat()},
            field="effective_from",
        )
    replacing = [
        r for r in rules if r.effective_from > today and r.effective_from >= effective_from
    ]
    rule = CatalogRule.objects.create(
        entry=entry,
        effective_from=effective_from,
        unit_kinds=sorted(unit_kinds),
        frequency=frequency,
        deadline_days=deadline_days,
        default_scope=default_scope,
        requires_procedure=requires_procedure,
        requires_result=requires_result,
        reason=reason.strip(),
        created_by=actor,
    )
    fields = (
        "unit_kinds",
        "frequency",
        "deadline_days",
        "default_scope",
        "requires_procedure",
        "requires_result",
    )
    record_event(
        actor=actor,
        action="catalog.rule_added",
        target=entry,
        before={f: getattr(before, f) for f in fields} if before else None,
        after={
            **{f: getattr(rule, f) for f in fields},
            "effective_from": effective_from,
            "reason": rule.reason,
            "replaces": [r.effective_from for r in replacing],
            "current_period_confirmed": effective_from <= today,
        },
    )
    return rule


def earliest_start(today: date, frequencies: list[str]) -> date:
    """The earliest date a rule may take effect: the start of the current period of every
    frequency involved (the new rule's and the one in force), so no period that has already
    ended is judged again; per-event rules: today."""
    starts = [
        Period.containing(today, KIND_BY_FREQUENCY[Frequency(f)]).start
        for f in frequencies
        if f != Frequency.PER_EVENT
    ]
    return max(starts) if starts else today


def next_period_start(today: date, frequencies: list[str]) -> date:
    """The first day a rule may take effect without touching a period that has begun."""
    starts = [
        Period.containing(today, KIND_BY_FREQUENCY[Frequency(f)]).next().start
        for f in frequencies
        if f != Frequency.PER_EVENT
    ]
    return max(starts) if starts else today + timedelta(days=1)


@transaction.atomic
def catalog_entry_reminder_set(
    *, actor: User, entry: CatalogEntry, days_before: int | None
) -> CatalogEntry:
    """Set how many working days before an obligation's deadline its first reminder goes
    (None: the reminder engine's default). Audited; not versioned like the rules, since it
    changes no obligation, only when people are told of it."""
    if days_before is not None and not 0 <= days_before <= REMIND_DAYS_MAX:
        raise ServiceError(
            _("A reminder goes 0 to %(max)s working days before the deadline.")
            % {"max": REMIND_DAYS_MAX},
            field="remind_days_before",
        )
    locked = CatalogEntry.objects.select_for_update().get(pk=entry.pk)
    before = locked.remind_days_before
    if before == days_before:
        return locked
    locked.remind_days_before = days_before
    locked.save(update_fields=["remind_days_before", "updated_at"])
    record_event(
        actor=actor,
        action="catalog.reminder_set",
        target=locked,
        before={"remind_days_before": before},
        after={"remind_days_before": days_before},
    )
    return locked
