"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "ledger.witnessed_log_added": _("Witnessing of another log started"),
        "ledger.witnessed_log_changed": _("Witnessed log changed"),
        "ledger.witnessed_log_stopped": _("Witnessing of another log stopped"),
        "ledger.witnessed_log_activated": _("Witnessing of another log resumed"),
        "ledger.witness_refused": _("A witnessed log's checkpoint was refused"),
        "ledger.witness_added": _("Witness added"),
        "ledger.witness_changed": _("Witness changed"),
        "ledger.witness_stopped": _("Witness deactivated"),
        "ledger.witness_activated": _("Witness activated"),
    }
)
