"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "org.unit_created": _("Unit created"),
        "org.unit_updated": _("Unit changed"),
        "org.role_granted": _("Role granted"),
        "org.role_revoked": _("Role revoked"),
        "org.role_granted_from_directory": _("Role granted from a directory group"),
        "org.role_revoked_from_directory": _("Role removed with a directory group"),
        "org.roster_imported": _("Roster imported"),
        "org.employee_created": _("Employee added"),
        "org.employee_updated": _("Employee changed"),
    }
)
