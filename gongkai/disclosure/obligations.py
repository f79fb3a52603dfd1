"""One disclosure per obligation and period: a unit publishes an entry's period once;
changing it afterwards is a correction of that disclosure (a new revision), never a second
disclosure. A second one is refused while another is published or in review."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from gongkai.core.errors import ServiceError
from gongkai.disclosure.models import CatalogEntry, Disclosure, DisclosureStatus
from gongkai.org.models import OrgUnit

IN_REVIEW = (DisclosureStatus.SUBMITTED, DisclosureStatus.HEAD_APPROVED, DisclosureStatus.APPROVED)


def holding_disclosure(
    unit: OrgUnit, entry: CatalogEntry, period: str, *, exclude_pk: int | None = None
) -> Disclosure | None:
    """The disclosure that already holds the unit's entry and period: published and not
    withdrawn (a correction in progress included), or in review. None for events."""
    if not period:
        return None
    found = (
        Disclosure.objects.filter(unit=unit, entry=entry, period=period)
        .exclude(status=DisclosureStatus.WITHDRAWN)
        .filter(Q(published_revision__isnull=False) | Q(status__in=IN_REVIEW))
        .order_by("first_published_at", "pk")
    )
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return found.first()


class DuplicateDisclosure(ServiceError):
    """A second disclosure for a period that already has one; names the existing one."""

    def __init__(self, existing: Disclosure) -> None:
        if existing.published_revision_id is not None:
            message = _(
                "This period is already disclosed: “%(title)s”. Open it and start a "
                "correction instead of a second disclosure."
            )
        else:
            message = _(
                "A disclosure for this period is already in review: “%(title)s”. Open it "
                "instead of drafting a second one."
            )
        super().__init__(message % {"title": existing.title}, field="period")
        self.existing = existing
        self.url = reverse("disclosure:detail", kwargs={"pk": existing.pk})

    def add_to_form(self, form: Any) -> None:
        super().add_to_form(form)
        form.existing_disclosure = self.existing  # the form page links to it


def check_one_per_period(
    unit: OrgUnit, entry: CatalogEntry, period: str, *, exclude_pk: int | None = None
) -> None:
    existing = holding_disclosure(unit, entry, period, exclude_pk=exclude_pk)
    if existing is not None:
        raise DuplicateDisclosure(existing)
