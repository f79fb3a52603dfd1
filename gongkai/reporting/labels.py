"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "report.entered": _("Report entered (hotline, letter or in person)"),
        "report.status_changed": _("Report status changed"),
        "report.replied": _("Answer sent to a reporter"),
        "report.channel_changed": _("Reporting hotline and address changed"),
        "report.duplicate_marked": _("Report marked as a duplicate (or the mark removed)"),
    }
)
