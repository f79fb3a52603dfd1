"""Human names for this app's audit action codes (see gongkai.audit.actions).

Casting a ballot is deliberately never audited (see the security notes)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "ballots.created": _("Vote set up"),
        "ballots.edited": _("Vote edited"),
        "ballots.opened": _("Vote opened"),
        "ballots.closed": _("Vote closed and counted"),
        "ballots.published": _("Vote result published"),
        "ballots.recounted": _("Vote recounted"),
    }
)
