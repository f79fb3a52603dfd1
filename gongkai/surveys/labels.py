"""Human names for this app's audit action codes (merged into gongkai.audit.actions)."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

AUDIT_LABELS: dict[str, Promise] = {
    "survey.created": _("Survey created"),
    "survey.updated": _("Survey changed"),
    "survey.question_added": _("Survey question added"),
    "survey.question_removed": _("Survey question removed"),
    "survey.question_moved": _("Survey question moved"),
    "survey.opened": _("Survey opened"),
    "survey.closed": _("Survey closed and sealed"),
}
