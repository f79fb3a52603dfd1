"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "inspection.round_opened": _("Inspection round opened"),
        "rectification.opened": _("Rectification opened from a patrol"),
        "inspection.round_closed": _("Inspection round closed"),
        "inspection.not_inspected": _("Reason recorded for a department not inspected"),
        "inspection.checklist_changed": _("Inspection checklist changed"),
        "inspection.recorded": _("Department inspection recorded"),
        "inspection.report_attached": _("Self-report file attached"),
        "inspection.finding_recorded": _("Finding recorded"),
        "rectification.report": _("Rectification reported"),
        "rectification.accept": _("Rectification accepted"),
        "rectification.send_back": _("Rectification sent back"),
        "circular.drafted": _("Circular drafted"),
        "circular.edited": _("Circular edited"),
        "circular.issued": _("Circular issued"),
        "accountability.recorded": _("Accountability decision recorded"),
    }
)
