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
    }
)
