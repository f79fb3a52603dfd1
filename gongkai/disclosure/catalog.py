"""Reads of the catalog: which rule is in force, which entries a unit must publish.

Each period is judged by the rule in force when it began (:func:`rule_for_period`), in
compliance, in the drafting checks and in the officer's workbench alike. A rule takes effect
only from a period that has not begun (catalog_services), so history is never rewritten. A
rule added later with an effective date not after that of a rule still waiting to take effect
replaces it (:func:`in_effect`): that is how a mistaken change is undone before it bites.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from gongkai.core.periods import InvalidPeriod, Period
from gongkai.disclosure.models import CatalogEntry, CatalogRule
from gongkai.org.models import OrgUnit


def in_effect(rules: Iterable[CatalogRule]) -> list[CatalogRule]:
    """The rules that were not replaced before taking effect, newest ``effective_from``
    first. A rule is replaced by any rule added after it (higher id) that takes effect on or
    before its date."""
    kept: list[CatalogRule] = []
    for rule in sorted(rules, key=lambda r: r.pk or 0, reverse=True):  # newest added first
        if all(rule.effective_from < later.effective_from for later in kept):
            kept.append(rule)
    return sorted(kept, key=lambda r: r.effective_from, reverse=True)


def replaced(rules: Iterable[CatalogRule]) -> set[int]:
    """Ids of the rules replaced before taking effect."""
    listed = list(rules)
    kept = {rule.pk for rule in in_effect(listed)}
    return {rule.pk for rule in listed if rule.pk not in kept}


def rules_by_entry() -> dict[int, list[CatalogRule]]:
    """Every rule in effect, newest first per entry, in one query (the catalog is small)."""
    grouped: dict[int, list[CatalogRule]] = {}
    for rule in CatalogRule.objects.order_by("entry_id", "-effective_from"):
        grouped.setdefault(rule.entry_id, []).append(rule)
    return {entry_id: in_effect(rules) for entry_id, rules in grouped.items()}


def rule_in_force(rules: list[CatalogRule], on: date) -> CatalogRule | None:
    """The rule with the latest ``effective_from`` not after ``on`` (``rules`` as
    :func:`in_effect` returns them)."""
    for rule in rules:
        if rule.effective_from <= on:
            return rule
    return None


def entry_rules(entry: CatalogEntry) -> list[CatalogRule]:
    return in_effect(entry.rules.all())


def entry_rule(entry: CatalogEntry, on: date) -> CatalogRule | None:
    return rule_in_force(entry_rules(entry), on)


def rule_for_period(
    rules: list[CatalogRule], period: str, event_date: date | None, today: date
) -> CatalogRule | None:
    """The rule that judges a disclosure: for a period, the rule in force when the period
    began; for an event (no period), the rule in force on the event's date; for a period that
    does not parse, today's rule (the caller then explains the expected form)."""
    if not period:
        return rule_in_force(rules, event_date or today)
    try:
        parsed = Period.parse(period)
    except InvalidPeriod:
        return rule_in_force(rules, today)
    return rule_in_force(rules, parsed.start)


def entries_for_unit(unit: OrgUnit, on: date) -> list[tuple[CatalogEntry, CatalogRule]]:
    """Active entries whose rule in force on ``on`` applies to the unit's kind."""
    rules = rules_by_entry()
    due: list[tuple[CatalogEntry, CatalogRule]] = []
    for entry in CatalogEntry.objects.filter(is_active=True).select_related("category"):
        rule = rule_in_force(rules.get(entry.pk, []), on)
        if rule is not None and rule.applies_to(unit):
            due.append((entry, rule))
    return due
