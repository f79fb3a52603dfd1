"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "notify.preference_changed": _("Notice preferences changed"),
        "notify.robot_added": _("Chat robot added"),
        "notify.robot_changed": _("Chat robot changed"),
        "notify.robot_enabled": _("Chat robot enabled"),
        "notify.robot_disabled": _("Chat robot disabled"),
        "notify.robot_deleted": _("Chat robot deleted"),
        "notify.robot_tested": _("Test message sent to a chat robot"),
        "notify.endpoint_added": _("Event endpoint added"),
        "notify.endpoint_changed": _("Event endpoint changed"),
        "notify.endpoint_enabled": _("Event endpoint enabled"),
        "notify.endpoint_disabled": _("Event endpoint disabled"),
        "notify.endpoint_deleted": _("Event endpoint deleted"),
        "notify.endpoint_tested": _("Test event sent to an endpoint"),
    },
    fields={
        "units": _("units"),
        "events": _("events"),
        "sees_internal": _("also internal items"),
        "address": _("address"),
        "secret": _("signing secret"),
        "deliveries": _("deliveries"),
        "delivery": _("delivery"),
    },
    values={
        "yes": _("yes"),
        "no": _("no"),
        "set": _("set"),
        "not set": _("not set"),
        "replaced": _("replaced"),
        "removed": _("removed"),
    },
)
