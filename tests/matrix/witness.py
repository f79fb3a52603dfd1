"""Access-matrix rows of the witness pages (gongkai.ledger.witness_views): the C2SP
tlog-witness endpoint answers POSTs only, to anyone; the configuration pages are the union
office's (of a top-level unit).

Proposed by the "witness" helper as tests/matrix/witness.py; add "witness" to NAMES in
tests/matrix/__init__.py."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only

UNION = {"union": 200}
MISSING = 999_999


def witness(o: Org) -> int:
    from gongkai.ledger.witness import witness_create

    return witness_create(
        actor=None,
        name="集团工会",
        url="https://union.example/ledger/witness",
        verifier_key="testserver/witness+7d62ac1b+BABUBQOO51rv8c6sifShTt3FXXjdQlafYx+o5UZoGlRw",
    ).pk


def witnessed(o: Org) -> int:
    from gongkai.core.tlog import notes
    from gongkai.ledger.witness import witnessed_log_create

    return witnessed_log_create(
        actor=None,
        origin="sister.example/ledger",
        name="兄弟公司",
        verifier_key=notes.generate_signer("sister.example/ledger")[1],
    ).pk


ROWS: dict[str, list[Row]] = {
    "ledger:add_checkpoint": [
        (lambda o: reverse("ledger:add_checkpoint"), everyone(405, anon=405)),
    ],
    "ledger:witnesses": [(lambda o: reverse("ledger:witnesses"), only(UNION))],
    "ledger:witness_add": [(lambda o: reverse("ledger:witness_add"), only(UNION))],
    "ledger:witness_edit": [
        (lambda o: reverse("ledger:witness_edit", args=[witness(o)]), only(UNION)),
        (lambda o: reverse("ledger:witness_edit", args=[MISSING]), only({"union": 404})),
    ],
    "ledger:witness_deactivate": [
        (lambda o: reverse("ledger:witness_deactivate", args=[witness(o)]), only(UNION)),
        (lambda o: reverse("ledger:witness_deactivate", args=[MISSING]), only({"union": 404})),
    ],
    "ledger:witness_activate": [
        (lambda o: reverse("ledger:witness_activate", args=[witness(o)]), everyone(405)),
    ],
    "ledger:witnessed_add": [(lambda o: reverse("ledger:witnessed_add"), only(UNION))],
    "ledger:witnessed_edit": [
        (lambda o: reverse("ledger:witnessed_edit", args=[witnessed(o)]), only(UNION)),
        (lambda o: reverse("ledger:witnessed_edit", args=[MISSING]), only({"union": 404})),
    ],
    "ledger:witnessed_deactivate": [
        (lambda o: reverse("ledger:witnessed_deactivate", args=[witnessed(o)]), only(UNION)),
        (lambda o: reverse("ledger:witnessed_deactivate", args=[MISSING]), only({"union": 404})),
    ],
    "ledger:witnessed_activate": [
        (lambda o: reverse("ledger:witnessed_activate", args=[witnessed(o)]), everyone(405)),
    ],
}
