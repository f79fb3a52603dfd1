"""Human names for the audit action codes; a code without a name is shown as it is."""

from importlib import import_module

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "org.unit_created": _("Unit created"),
    "org.unit_updated": _("Unit changed"),
    "org.role_granted": _("Role granted"),
    "org.role_revoked": _("Role revoked"),
    "org.roster_imported": _("Roster imported"),
    "org.employee_created": _("Employee added"),
    "org.employee_updated": _("Employee changed"),
    "attachment.added": _("Attachment added"),
    "attachment.removed": _("Attachment removed"),
    "disclosure.created": _("Disclosure drafted"),
    "disclosure.edited": _("Draft edited"),
    "disclosure.submit": _("Submitted for approval"),
    "disclosure.approve": _("Approved by the unit head"),
    "disclosure.endorse": _("Approved by the leadership group"),
    "disclosure.reject": _("Returned to the author"),
    "disclosure.publish": _("Published"),
    "disclosure.correct": _("Correction started"),
    "disclosure.withdraw": _("Withdrawn"),
    "disclosure.attested": _("Nothing to report attested"),
    "disclosure.rated": _("Disclosure rated"),
    "catalog.rule_added": _("Catalog rule changed"),
    "regulation.published": _("Regulation version published"),
    "search.reindexed": _("Search index rebuilt"),
    "accounts.locked": _("Account locked after failed logins"),
    "accounts.unlocked": _("Account unlocked"),
    "accounts.deactivated": _("Account deactivated"),
    "accounts.reactivated": _("Account reactivated"),
    "accounts.password_changed": _("Password changed"),
    "accounts.temporary_password_issued": _("Temporary password issued"),
}


# Each later app names its own codes in its ``labels.py``.
for _app in (
    "voice",
    "publicity",
    "reporting",
    "surveys",
    "ballots",
    "congress",
    "supervision",
    "assessment",
):
    ACTION_LABELS.update(import_module(f"gongkai.{_app}.labels").AUDIT_LABELS)


# Events that never say who acted: a satisfaction rating is private to the rater. Their
# events carry no actor (and only counts); events of these kinds written before that rule, with
# an actor and the rating itself, are shown without the actor and without the data, and the
# "who" filter does not match them.
ANONYMOUS_ACTIONS = frozenset({"disclosure.rated"})


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))
