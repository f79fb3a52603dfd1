"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "accounts.locked": _("Account locked after failed logins"),
        "accounts.unlocked": _("Account unlocked"),
        "accounts.deactivated": _("Account deactivated"),
        "accounts.reactivated": _("Account reactivated"),
        "accounts.password_changed": _("Password changed"),
        "accounts.temporary_password_issued": _("Temporary password issued"),
        "accounts.directory_linked": _("Account linked to its directory entry"),
        "accounts.directory_unlinked": _("Account unlinked from the directory"),
        "accounts.updated_from_directory": _("Name or e-mail taken from the directory"),
        "accounts.directory_required": _("Directory sign-in required for everyone"),
        "accounts.directory_optional": _("Directory sign-in no longer required"),
    }
)
