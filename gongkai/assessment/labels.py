"""Human names for this app's audit action codes (merged into gongkai.audit.actions)."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

AUDIT_LABELS: dict[str, Promise] = {
    "assessment.scheme_created": _("Assessment weights set"),
    "assessment.ranking_published": _("Assessment ranking published"),
}
