"""Editing the catalog: each change adds a rule effective from a date; old periods keep the
rule they were due under."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.periods import Frequency
from gongkai.disclosure.catalog import entry_rule
from gongkai.disclosure.models import CatalogEntry, CatalogRule, Scope
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
    latest = entry.rules.order_by("-effective_from").first()
    if latest is not None and effective_from <= latest.effective_from:
        raise ServiceError(
            _(
                "A new rule must take effect after the current one (%(date)s): history is never "
                "rewritten."
            )
            % {"date": latest.effective_from},
            field="effective_from",
        )
    before = entry_rule(entry, effective_from)
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
        },
    )
    return rule
