"""The rules library (制度): versioned regulations of a company."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.richtext import sanitize_html
from gongkai.disclosure.models import Regulation, RegulationVersion
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can


@transaction.atomic
def regulation_create(
    *, actor: User | None, company: OrgUnit, code: str, title: str, body: str, order: int = 0
) -> Regulation:
    if actor is not None and not can(actor, Action.REGULATION_MANAGE, company):
        raise ServiceError(_("You may not manage the rules library."))
    if Regulation.objects.filter(code=code).exists():
        raise ServiceError(_("A regulation with this code already exists."), field="code")
    regulation = Regulation.objects.create(
        code=code, title=title.strip(), company=company, order=order
    )
    regulation_revise(actor=actor, regulation=regulation, body=body, note="")
    return regulation


@transaction.atomic
def regulation_revise(
    *, actor: User | None, regulation: Regulation, body: str, note: str
) -> RegulationVersion:
    if actor is not None and not can(actor, Action.REGULATION_MANAGE, regulation.company):
        raise ServiceError(_("You may not manage the rules library."))
    body = sanitize_html(body)
    if not body:
        raise ServiceError(_("The text is empty."), field="body")
    number = (regulation.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    if number > 1 and not note.strip():
        raise ServiceError(_("Say what changed in this version."), field="note")
    version = RegulationVersion.objects.create(
        regulation=regulation,
        number=number,
        body=body,
        note=note.strip(),
        effective_from=timezone.localdate(),
        published_by=actor,
    )
    record_event(
        actor=actor,
        action="regulation.published",
        target=regulation,
        unit=regulation.company,
        after={"version": number, "note": note.strip()},
    )
    return version
