"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "assessment.scheme_created": _("Assessment weights set"),
        "assessment.ranking_published": _("Assessment ranking published"),
    }
)
