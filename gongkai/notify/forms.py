from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongkai.core.form_fields import IdMultipleChoiceField
from gongkai.notify.admin_services import MAX_ADDRESS, MAX_SECRET, ROBOT_PLATFORMS
from gongkai.notify.models import Delivery, EventEndpoint, EventKind, Preference, Robot
from gongkai.org.models import OrgUnit

PLATFORM_CHOICES = [(c, label) for c, label in Delivery.Channel.choices if c in ROBOT_PLATFORMS]
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PreferenceForm(forms.Form):
    email = forms.BooleanField(label=_("Send me notices by e-mail"), required=False)
    timing = forms.ChoiceField(
        label=_("When"), choices=Preference.Timing.choices, widget=forms.RadioSelect
    )
    board_news = forms.BooleanField(
        label=_("Also e-mail me when something new is published on my boards"), required=False
    )
    quiet_from = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=TIME_INPUT,
        input_formats=["%H:%M", "%H:%M:%S"],
    )
    quiet_until = forms.TimeField(
        label=_("Quiet hours until"),
        required=False,
        widget=TIME_INPUT,
        input_formats=["%H:%M", "%H:%M:%S"],
        help_text=_(
            "No e-mail is sent in these hours; what comes in them is sent when they end. "
            "They may run over midnight (from 22:00 until 07:00)."
        ),
    )


class UnitChoiceField(forms.ModelChoiceField):
    """Units in tree order, indented by depth."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{'　' * max(obj.depth - 1, 0)}{obj.name}"


class AddressField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_ADDRESS)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"}
            ),
        )
        super().__init__(strip=True, **kwargs)


class SecretField(forms.CharField):
    """Never rendered back: a secret typed before a form error must be typed again."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            max_length=MAX_SECRET,
            strip=True,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            **kwargs,
        )


RELAY_HELP = _(
    "Tick only when the address is your own relay to the platform (an intranet proxy), not "
    "the platform's own address."
)
ADDRESS_HELP = _(
    "The robot's webhook address, copied from its settings, or env:NAME to read it from the "
    "server's environment variable NAME. It is stored sealed and never shown again."
)
SECRET_HELP = _(
    "DingTalk “additional signature” (加签) secret, Feishu signature secret, or the "
    "webhook's signing key; env:NAME reads it from the environment. WeCom robots have none."
)


class RobotAddForm(forms.Form):
    unit = UnitChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none())
    name = forms.CharField(
        label=pgettext_lazy("thing", "Name"),
        max_length=100,
        help_text=_("For example, the group chat it posts to."),
    )
    platform = forms.ChoiceField(label=_("Platform"), choices=PLATFORM_CHOICES)
    address = AddressField(label=_("Address"), help_text=ADDRESS_HELP)
    relay = forms.BooleanField(label=_("This is our relay"), required=False, help_text=RELAY_HELP)
    secret = SecretField(label=_("Signing secret"), help_text=SECRET_HELP)

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = units


class RobotEditForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("thing", "Name"), max_length=100)
    platform = forms.ChoiceField(label=_("Platform"), choices=PLATFORM_CHOICES)
    address = AddressField(
        label=_("New address"),
        required=False,
        help_text=_("Leave empty to keep the current address, which is never shown."),
    )
    relay = forms.BooleanField(label=_("This is our relay"), required=False, help_text=RELAY_HELP)
    secret = SecretField(
        label=_("New signing secret"),
        help_text=_("Leave empty to keep the current secret, which is never shown."),
    )
    clear_secret = forms.BooleanField(label=_("Remove the signing secret"), required=False)

    @classmethod
    def for_robot(cls, robot: Robot, data: Any = None) -> RobotEditForm:
        return cls(data, initial={"name": robot.name, "platform": robot.platform})


class UnitsField(IdMultipleChoiceField):
    """Units in tree order, indented by depth, as checkboxes."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{'　' * max(obj.depth - 1, 0)}{obj.name}"


class EndpointForm(forms.Form):
    """Add (``adding``: address and secret required) or change an event endpoint."""

    name = forms.CharField(
        label=pgettext_lazy("thing", "Name"),
        max_length=100,
        help_text=_("For example, the system that receives the events."),
    )
    units = UnitsField(
        label=_("Units"),
        queryset=OrgUnit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Events of these units and of every unit below them."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventKind.choices, widget=forms.CheckboxSelectMultiple
    )
    sees_internal = forms.BooleanField(
        label=_("Also internal items of these units"),
        required=False,
        help_text=_(
            "Without it the endpoint receives only what anyone may read on the public pages. "
            "With it, also internal disclosures, answered suggestions and publicity windows "
            "of these units; choose it only for a system of your own organisation."
        ),
    )
    address = AddressField(
        label=_("Address"),
        help_text=_(
            "The https:// address that receives the events (POST, JSON), or env:NAME to read "
            "it from the server's environment. It is stored sealed and never shown again."
        ),
    )
    secret = SecretField(
        label=_("Signing secret"),
        help_text=_(
            "At least 16 characters, shared with the receiver, which checks the signature of "
            "every event with it; env:NAME reads it from the environment."
        ),
    )

    def __init__(
        self,
        *args: Any,
        units: QuerySet[OrgUnit],
        endpoint: EventEndpoint | None = None,
        **kwargs: Any,
    ) -> None:
        if endpoint is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": endpoint.name,
                "units": list(endpoint.units.values_list("pk", flat=True)),
                "events": list(endpoint.events),
                "sees_internal": endpoint.sees_internal,
            }
        super().__init__(*args, **kwargs)
        field = self.fields["units"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101
        field.queryset = units
        if endpoint is not None:
            self.fields["address"].required = False
            self.fields["address"].label = _("New address")
            self.fields["address"].help_text = _(
                "Leave empty to keep the current address, which is never shown."
            )
            self.fields["secret"].label = _("New signing secret")
            self.fields["secret"].help_text = _(
                "Leave empty to keep the current secret, which is never shown."
            )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Delivery.Status.choices],
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("Any channel")), *Delivery.Channel.choices],
    )
    robot = forms.TypedChoiceField(
        label=_("Robot"), required=False, coerce=int, empty_value=None, choices=[]
    )
    endpoint = forms.TypedChoiceField(
        label=_("Event endpoint"), required=False, coerce=int, empty_value=None, choices=[]
    )

    def __init__(
        self,
        *args: Any,
        robots: list[Robot],
        endpoints: list[EventEndpoint] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["robot"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101
        field.choices = [
            ("", _("Any robot")),
            *((str(r.pk), f"{r.name} · {r.unit.name}") for r in robots),
        ]
        field = self.fields["endpoint"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101
        field.choices = [
            ("", _("Any endpoint")),
            *((str(e.pk), e.name) for e in endpoints or []),
        ]
