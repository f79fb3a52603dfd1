"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "api.token_created": _("API token created"),
        "api.token_revoked": _("API token revoked"),
        "api.token_used": _("API token used"),
        "api.service_account_created": _("Service account created"),
        "api.service_account_disabled": _("Service account disabled"),
    },
    fields={"scope": _("It may"), "units": _("Units"), "expires_at": _("Expires on")},
)
