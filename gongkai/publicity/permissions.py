"""Who may see and act on publicity windows and objections. Decided here only.

The filer of an objection (named or anonymous) is shown only to holders of OBJECTION_REVIEW
on the disclosure's unit (the supervision group) and to the filer themselves; everyone else
sees how many objections there are, never who filed them or what they say.
"""

from __future__ import annotations

from typing import Any

from gongkai.disclosure.models import Disclosure
from gongkai.disclosure.permissions import can_read, can_read_published
from gongkai.policy.rules import Action, can
from gongkai.publicity.models import Objection, ObjectionEvidence, Publicity


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def can_view_publicity(user: Any, publicity: Publicity) -> bool:
    """Whoever may read the published disclosure sees its window, counts and outcome."""
    return _signed_in(user) and can_read(user, publicity.disclosure)


def can_open_publicity(user: Any, disclosure: Disclosure) -> bool:
    return (
        _signed_in(user)
        and disclosure.is_published
        and not disclosure.is_nil
        and can(user, Action.PUBLICITY_OPEN, disclosure.unit)
    )


def can_file_objection(user: Any, publicity: Publicity) -> bool:
    """Not counting the dates: whether the window is open is the service's check, so that
    a closed window gives its message rather than a bare refusal."""
    disclosure = publicity.disclosure
    return (
        _signed_in(user)
        and disclosure.is_published
        and can(user, Action.OBJECTION_FILE, disclosure.unit)
        and can_read_published(user, disclosure)
    )


def can_review_objections(user: Any, publicity: Publicity) -> bool:
    """Read the objections (with their filers, anonymous ones included) and record findings."""
    return _signed_in(user) and can(user, Action.OBJECTION_REVIEW, publicity.disclosure.unit)


def can_publish_outcome(user: Any, publicity: Publicity) -> bool:
    return _signed_in(user) and can(user, Action.PUBLICITY_OPEN, publicity.disclosure.unit)


def can_read_objection(user: Any, objection: Objection) -> bool:
    return can_review_objections(user, objection.publicity) or (
        _signed_in(user) and objection.filed_by_id == user.pk
    )


def can_see_filer(user: Any, objection: Objection) -> bool:
    """Who filed it: the supervision group only (and the filer, who knows)."""
    return can_review_objections(user, objection.publicity) or (
        _signed_in(user) and objection.filed_by_id == user.pk
    )


def can_download_evidence(user: Any, evidence: ObjectionEvidence) -> bool:
    return can_read_objection(user, evidence.objection)
