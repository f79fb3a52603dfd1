"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "calendar.day_added": _("Calendar day added"),
        "calendar.day_removed": _("Calendar day removed"),
        "publicity.opened": _("Publicity window opened"),
        "objection.filed": _("Objection filed"),
        "objection.finding_recorded": _("Finding on an objection recorded"),
        "publicity.outcome_published": _("Publicity outcome published"),
    }
)
