"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "survey.created": _("Survey created"),
        "survey.updated": _("Survey changed"),
        "survey.question_added": _("Survey question added"),
        "survey.question_removed": _("Survey question removed"),
        "survey.question_moved": _("Survey question moved"),
        "survey.opened": _("Survey opened"),
        "survey.closed": _("Survey closed and sealed"),
    }
)
