"""Human names for the audit log: action codes, and the keys and values of the data an
event records before and after.

Each app names its own codes in its ``labels.py`` by calling :func:`register_labels`; the
audit app imports every ``labels`` module when it is ready (``autodiscover_modules``), so
this module names no other app. A key of an event's data is named, in this order, by the
target model's field of that name (its verbose name, and its choices for the value), then by
the keys an app registers (``fields``), then by this module's common keys. A code, key or
value without a name is shown as it is (``tests/test_demo.py`` checks that the demo shows
none)."""

from collections.abc import Mapping

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {}
FIELD_LABELS: dict[str, Promise] = {
    "reason": _("reason"),
    "reasons": _("reasons"),
    "note": _("note"),
    "text": _("text"),
    "date": _("date"),
    "units": _("units"),
    "unit": _("unit"),
    "total": _("total"),
    "count": _("count"),
    "changed": _("changed"),
    "status": _("status"),
    "kind": _("kind"),
    "title": _("title"),
    "name": _("name"),
    "period": _("period"),
    "version": _("version"),
    "message": _("message"),
    "year": _("year"),
    "answers": _("answers"),
    "attachments": _("attachments"),
    "evidence": _("evidence"),
    "ballots": _("ballots"),
    "electorate": _("electorate"),
    "present": _("present"),
    "items": _("items"),
    "checklist": _("checklist"),
    "departments": _("departments"),
    "due_on": _("deadline"),
    "figures_frozen": _("figures frozen"),
    "circular": _("circular"),
    "objections": _("objections"),
    "question": _("question"),
    "ratings": _("ratings"),
    "scores": _("scores"),
    "source": _("source"),
}
VALUE_LABELS: dict[str, Promise] = {}


def register_labels(
    labels: Mapping[str, Promise],
    *,
    fields: Mapping[str, Promise] | None = None,
    values: Mapping[str, Promise] | None = None,
) -> None:
    """Name action codes (``labels``), data keys that are not fields of the target model
    (``fields``) and values that are not choices of one (``values``)."""
    ACTION_LABELS.update(labels)
    FIELD_LABELS.update(fields or {})
    VALUE_LABELS.update(values or {})


# Events that never say who acted: a satisfaction rating is private to the rater. Their
# events carry no actor (and only counts); events of these kinds written before that rule, with
# an actor and the rating itself, are shown without the actor and without the data, and the
# "who" filter does not match them.
ANONYMOUS_ACTIONS = frozenset({"disclosure.rated"})


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def target_model(target_type: str) -> type[models.Model] | None:
    """The model an event's ``target_type`` (``app_label.model``) names, if it still exists."""
    try:
        return apps.get_model(target_type) if "." in target_type else None
    except LookupError:
        return None


def key_label(model: type[models.Model] | None, key: str) -> tuple[str, dict[str, str]]:
    """The reader's name for ``key`` of an event on ``model``, and the names of the values
    the field may take (its choices; empty when it has none)."""
    if model is not None:
        try:
            field = model._meta.get_field(key)
        except FieldDoesNotExist:
            field = None
        if isinstance(field, models.Field):
            choices = {str(k): str(v) for k, v in field.flatchoices} if field.choices else {}
            return capfirst(str(field.verbose_name)), choices
    label = FIELD_LABELS.get(key)
    return (capfirst(str(label)) if label is not None else key), {}


def value_label(value: str, choices: Mapping[str, str]) -> str:
    if value in choices:
        return choices[value]
    label = VALUE_LABELS.get(value)
    return str(label) if label is not None else value
