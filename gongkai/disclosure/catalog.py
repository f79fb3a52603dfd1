"""Reads of the catalog: which rule is in force, which entries a unit must publish."""

from __future__ import annotations

from datetime import date

from gongkai.disclosure.models import CatalogEntry, CatalogRule
from gongkai.org.models import OrgUnit


def rules_by_entry() -> dict[int, list[CatalogRule]]:
    """Every rule, newest first per entry, in one query (the catalog is small)."""
    rules: dict[int, list[CatalogRule]] = {}
    for rule in CatalogRule.objects.order_by("entry_id", "-effective_from"):
        rules.setdefault(rule.entry_id, []).append(rule)
    return rules


def rule_in_force(rules: list[CatalogRule], on: date) -> CatalogRule | None:
    """The rule with the latest ``effective_from`` not after ``on`` (rules newest first)."""
    for rule in rules:
        if rule.effective_from <= on:
            return rule
    return None


def entry_rule(entry: CatalogEntry, on: date) -> CatalogRule | None:
    return rule_in_force(list(entry.rules.order_by("-effective_from")), on)


def entries_for_unit(unit: OrgUnit, on: date) -> list[tuple[CatalogEntry, CatalogRule]]:
    """Active entries whose rule in force on ``on`` applies to the unit's kind."""
    rules = rules_by_entry()
    due: list[tuple[CatalogEntry, CatalogRule]] = []
    for entry in CatalogEntry.objects.filter(is_active=True).select_related("category"):
        rule = rule_in_force(rules.get(entry.pk, []), on)
        if rule is not None and rule.applies_to(unit):
            due.append((entry, rule))
    return due
