"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "attachment.added": _("Attachment added"),
        "attachment.removed": _("Attachment removed"),
        "disclosure.created": _("Disclosure drafted"),
        "disclosure.edited": _("Draft edited"),
        "disclosure.submit": _("Submitted for approval"),
        "disclosure.approve": _("Approved by the unit head"),
        "disclosure.endorse": _("Approved by the leadership group"),
        "disclosure.reject": _("Returned to the author"),
        "disclosure.publish": _("Published"),
        "disclosure.correct": _("Correction started"),
        "disclosure.withdraw": _("Withdrawn"),
        "disclosure.attested": _("Nothing to report attested"),
        "disclosure.rated": _("Disclosure rated"),
        "catalog.rule_added": _("Catalog rule changed"),
        "catalog.reminder_set": _("Catalog entry reminder changed"),
        "regulation.published": _("Regulation version published"),
    },
    fields={
        "acting_for": _("acting for the level, because"),
        "level": _("approval level"),
        "level_unit": _("unit of the level"),
    },
)
