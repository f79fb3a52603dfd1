"""Human names for the audit action codes; a code without a name is shown as it is.

Each app names its own codes in its ``labels.py`` by calling :func:`register_labels`; the
audit app imports every ``labels`` module when it is ready (``autodiscover_modules``), so
this module names no other app."""

from collections.abc import Mapping

from django.utils.functional import Promise

ACTION_LABELS: dict[str, Promise] = {}


def register_labels(labels: Mapping[str, Promise]) -> None:
    ACTION_LABELS.update(labels)


# Events that never say who acted: a satisfaction rating is private to the rater. Their
# events carry no actor (and only counts); events of these kinds written before that rule, with
# an actor and the rating itself, are shown without the actor and without the data, and the
# "who" filter does not match them.
ANONYMOUS_ACTIONS = frozenset({"disclosure.rated"})


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))
