"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "suggestion.submitted": _("Suggestion submitted"),
        "suggestion.accepted": _("Suggestion accepted"),
        "suggestion.declined": _("Suggestion declined"),
        "suggestion.assigned": _("Suggestion assigned"),
        "suggestion.answered": _("Suggestion answered"),
        "suggestion.rated": _("Suggestion handling rated"),
        "suggestion.review_returned": _("Suggestion sent back after review"),
        "suggestion.review_closed": _("Suggestion closed after review"),
    }
)
