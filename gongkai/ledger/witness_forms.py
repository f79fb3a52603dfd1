"""Forms of the witness pages (gongkai.ledger.witness_views): what the union office types;
the services (gongkai.ledger.witness) check it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongkai.ledger.models import Witness, WitnessedLog

_KEY = {"autocomplete": "off", "spellcheck": "false"}


class WitnessForm(forms.Form):
    """A witness this installation sends its checkpoints to."""

    name = forms.CharField(
        label=pgettext_lazy("thing", "Name"),
        max_length=100,
        help_text=_("For example, the higher-level union or a sister company."),
    )
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_(
            "The witness's submission address; /add-checkpoint is added to it. Another gongkai "
            "installation's is https://its-address/ledger/witness."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    verifier_key = forms.CharField(
        label=_("The witness's verifier key"),
        max_length=300,
        help_text=_("Its public cosignature key, as its own witnesses page shows it."),
        widget=forms.TextInput(attrs=_KEY),
    )

    @classmethod
    def for_witness(cls, witness: Witness, data: Any = None) -> WitnessForm:
        initial = {"name": witness.name, "url": witness.url, "verifier_key": witness.verifier_key}
        return cls(data, initial=initial)


class WitnessedLogForm(forms.Form):
    """Another installation's log this installation witnesses."""

    origin = forms.CharField(
        label=_("Origin"),
        max_length=255,
        help_text=_(
            "The first line of the log's checkpoints, for example union.example/ledger; it "
            "cannot be changed later."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(
        label=pgettext_lazy("thing", "Name"),
        max_length=100,
        help_text=_("For example, the company whose log it is."),
    )
    verifier_key = forms.CharField(
        label=_("The log's verifier key"),
        max_length=300,
        help_text=_("The public key that signs the log's checkpoints, from its ledger page."),
        widget=forms.TextInput(attrs=_KEY),
    )

    @classmethod
    def for_log(cls, log: WitnessedLog, data: Any = None) -> WitnessedLogForm:
        form = cls(data, initial={"name": log.name, "verifier_key": log.verifier_key})
        del form.fields["origin"]  # an origin is never changed: the state belongs to it
        return form
