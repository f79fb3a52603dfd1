"""Witnesses (gongkai.ledger.witness, C2SP tlog-witness): this installation cosigns another
log's checkpoint only if it extends the last one it cosigned, answers every refusal with the
status the spec names and keeps its state through every refusal; its own checkpoints are sent
to its witnesses, their cosignatures checked, stored and shown, and a refusal recorded and
raised; the union office configures both sides. Last, two installations on loopback witness
each other over real HTTP, and a rolled-back or forked log is refused."""

from __future__ import annotations

import base64
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from gongkai.audit.actions import action_label, key_label, target_model
from gongkai.audit.models import AuditEvent
from gongkai.core.immutable import triggers_suspended
from gongkai.core.models import LogBundle, LogCheckpoint, LogCosignature, LogTile, TransparencyLog
from gongkai.core.tlog import merkle, notes, signing, store
from gongkai.ledger import transparency, witness
from gongkai.ledger.models import Witness, WitnessedLog, WitnessResult
from tests.conftest import Org
from tests.test_ledger import publish

ROOT = Path(__file__).resolve().parent.parent

# This installation's witness key in the tests (never used anywhere else); the lead's
# config/settings/test.py carries the same.
WITNESS_KEY = "PRIVATE+KEY+testserver/witness+7d62ac1b+BObNLsM7S8ra/UiEczSrAOpPvNYOAtcE1fT8mMK7BXQH"
WITNESS_VKEY = "testserver/witness+7d62ac1b+BABUBQOO51rv8c6sifShTt3FXXjdQlafYx+o5UZoGlRw"
SISTER = "sister.example/ledger"


@pytest.fixture(autouse=True)
def witness_settings(settings, tmp_path: Path) -> None:
    settings.LEDGER_WITNESS_KEY = WITNESS_KEY
    settings.LEDGER_WITNESS_KEY_FILE = tmp_path / "ledger-witness.key"
    settings.LEDGER_WITNESS_TIMEOUT = 30.0


def witness_verifier() -> notes.Verifier:
    return notes.parse_witness_verifier(WITNESS_VKEY)


class OtherLog:
    """Another installation's log, in memory: its key, its leaves and its signed checkpoints."""

    def __init__(self, origin: str = SISTER, leaves: int = 0, salt: str = "") -> None:
        self.origin = origin
        skey, self.vkey = notes.generate_signer(origin)
        self.signer = notes.parse_signer(skey)
        self.tree = merkle.MemoryTree()
        self.salt = salt
        self.grow(leaves)

    def grow(self, count: int) -> None:
        start = self.tree.size
        self.tree.extend(
            merkle.leaf_hash(f"{self.salt}leaf {i}".encode()) for i in range(start, start + count)
        )

    def fork(self, keep: int, total: int) -> OtherLog:
        """The same log (same key) whose first ``keep`` leaves are these, then others."""
        other = OtherLog.__new__(OtherLog)
        other.origin, other.vkey, other.signer = self.origin, self.vkey, self.signer
        other.salt = "forged "
        other.tree = merkle.MemoryTree(self.tree.hash_at(0, i) for i in range(keep))
        other.tree.extend(merkle.leaf_hash(f"forged {i}".encode()) for i in range(keep, total))
        return other

    def note(self, size: int | None = None, *, signer: notes.Signer | None = None) -> str:
        size = self.tree.size if size is None else size
        text = notes.format_checkpoint(self.origin, size, self.tree.root(size))
        return notes.sign(text, [signer or self.signer]).decode()

    def body(self, old: int, size: int | None = None, proof: list[bytes] | None = None) -> bytes:
        size = self.tree.size if size is None else size
        if proof is None:
            proof = self.tree.consistency_proof(old, size) if old <= size else []
        return witness.request_body(old, proof, self.note(size))


def witnessed(log: OtherLog, **fields) -> WitnessedLog:
    return WitnessedLog.objects.create(
        origin=log.origin, name="兄弟公司", verifier_key=log.vkey, **fields
    )


def state(log: OtherLog) -> tuple[int, bytes]:
    row = WitnessedLog.objects.get(origin=log.origin)
    return row.size, bytes(row.root)


# --- The witness side: add-checkpoint ---------------------------------------------------------


@pytest.mark.django_db
def test_the_first_checkpoint_is_cosigned_and_the_line_verifies_with_the_witness_key():
    log = OtherLog(leaves=3)
    witnessed(log)
    answer = witness.add_checkpoint(log.body(0))
    assert answer.status == 200, answer.body
    assert answer.content_type.startswith("text/plain")
    line = answer.body.decode()
    assert line.startswith("— testserver/witness ") and line.endswith("\n")
    text = notes.format_checkpoint(SISTER, 3, log.tree.root())
    assert notes.verify_cosignature(text, line, witness_verifier()) > 0
    # the line added to the note: a verifier configured with both keys accepts it
    cosigned = notes.append_signatures(log.note(), [line])
    opened = notes.open_checkpoint(cosigned, notes.parse_verifier(log.vkey), [witness_verifier()])
    assert [c.witness.name for c in opened.cosignatures] == ["testserver/witness"]
    assert state(log) == (3, log.tree.root())


@pytest.mark.django_db
def test_a_consistent_extension_is_cosigned_and_the_same_checkpoint_again_too():
    log = OtherLog(leaves=3)
    witnessed(log)
    assert witness.add_checkpoint(log.body(0)).status == 200
    log.grow(4)
    answer = witness.add_checkpoint(log.body(3))
    assert answer.status == 200, answer.body
    assert state(log) == (7, log.tree.root())
    again = witness.add_checkpoint(log.body(7))  # a retry after a lost answer
    assert again.status == 200
    assert state(log) == (7, log.tree.root())


@pytest.mark.django_db
@pytest.mark.parametrize("old", [0, 2, 5])
def test_an_old_size_other_than_the_last_cosigned_gets_409_with_that_size(old: int):
    log = OtherLog(leaves=3)
    witnessed(log)
    assert witness.add_checkpoint(log.body(0)).status == 200
    log.grow(4)
    answer = witness.add_checkpoint(log.body(old))
    assert answer.status == 409
    assert answer.content_type == "text/x.tlog.size"
    assert answer.body == b"3\n"
    assert state(log) == (3, log.tree.root(3))


@pytest.mark.django_db
def test_a_proof_that_does_not_verify_gets_422_and_changes_nothing():
    log = OtherLog(leaves=3)
    row = witnessed(log)
    assert witness.add_checkpoint(log.body(0)).status == 200
    log.grow(4)
    good = log.tree.consistency_proof(3, 7)
    bad = [good[0][:-1] + bytes([good[0][-1] ^ 1]), *good[1:]]
    for proof in (bad, good[:-1], [*good, good[0]], log.tree.consistency_proof(2, 7), []):
        answer = witness.add_checkpoint(log.body(3, proof=proof))
        assert answer.status == 422, (proof, answer.body)
        assert state(log) == (3, log.tree.root(3))
    row.refresh_from_db()
    assert row.refused_at is not None and "does not verify" in row.refusal
    assert row.refused_request.startswith("old 3\n")
    # the first checkpoint of a log is proved by no hash at all
    fresh = OtherLog("fresh.example/ledger", leaves=4)
    witnessed(fresh)
    answer = witness.add_checkpoint(fresh.body(0, proof=fresh.tree.consistency_proof(2, 4)))
    assert answer.status == 422
    assert state(fresh) == (0, merkle.EMPTY_ROOT)


@pytest.mark.django_db
def test_a_forked_or_rolled_back_log_is_refused_and_the_state_kept_with_the_evidence():
    log = OtherLog(leaves=5)
    row = witnessed(log)
    assert witness.add_checkpoint(log.body(0)).status == 200
    before = state(log)

    # the same size with another root, signed with the log's own key
    same_size = log.fork(keep=3, total=5)
    answer = witness.add_checkpoint(same_size.body(5))
    assert (answer.status, answer.body) == (409, b"5\n")
    assert state(log) == before
    row.refresh_from_db()
    assert "fork" in row.refusal and same_size.note() in row.refused_request

    # rewritten history that goes on growing: its own proof is consistent, with itself
    longer = log.fork(keep=3, total=9)
    answer = witness.add_checkpoint(longer.body(5))
    assert answer.status == 422
    assert state(log) == before

    # rolled back to a smaller tree: refused whichever old size the log claims
    assert witness.add_checkpoint(log.body(5, size=3, proof=[])).status == 400
    assert witness.add_checkpoint(log.body(3, size=3)).status == 409
    assert witness.add_checkpoint(log.body(0, size=3)).status == 409
    assert state(log) == before

    # the honest log still goes on
    log.grow(2)
    assert witness.add_checkpoint(log.body(5)).status == 200
    assert state(log) == (7, log.tree.root())
    refusals = AuditEvent.objects.filter(action="ledger.witness_refused", target_id=str(row.pk))
    assert refusals.count() == 2
    assert refusals.first().actor is None


@pytest.mark.django_db
def test_an_unknown_or_deactivated_origin_gets_404():
    log = OtherLog(leaves=2)
    witnessed(OtherLog("known.example/ledger"))
    assert witness.add_checkpoint(log.body(0)).status == 404
    row = witnessed(log, active=False)
    assert witness.add_checkpoint(log.body(0)).status == 404
    row.active = True
    row.save()
    assert witness.add_checkpoint(log.body(0)).status == 200


@pytest.mark.django_db
def test_a_checkpoint_not_signed_by_the_log_key_gets_403():
    log = OtherLog(leaves=2)
    witnessed(log)
    impostor = OtherLog(leaves=2)  # the same origin and key name, another key
    assert witness.add_checkpoint(impostor.body(0)).status == 403
    other_name = notes.parse_signer(notes.generate_signer("someone.else/ledger")[0])
    body = witness.request_body(0, [], log.note(signer=other_name))
    assert witness.add_checkpoint(body).status == 403
    # the log's signature line under another text: a line of the known key that fails
    _text, signatures = notes.split_note(log.note())
    altered = notes.format_checkpoint(SISTER, 2, bytes(32)) + "\n" + signatures[0].line
    assert witness.add_checkpoint(witness.request_body(0, [], altered)).status == 403
    assert state(log) == (0, merkle.EMPTY_ROOT)


def _malformed(log: OtherLog) -> list[bytes]:
    note = log.note().encode()
    good_hash = base64.b64encode(bytes(32))
    return [
        b"",
        b"old 0\n",
        b"old 0\n" + note,  # no empty line: the origin is read as a proof line
        b"old 00\n\n" + note,
        b"old -1\n\n" + note,
        b"old 1e3\n\n" + note,
        b"Old 0\n\n" + note,
        b"old 0 \n\n" + note,
        b"old 0\r\n\r\n" + note,
        b"old 0\n" + b"not base64!\n\n" + note,
        b"old 0\n" + base64.b64encode(bytes(31)) + b"\n\n" + note,
        b"old 0\n" + good_hash.rstrip(b"=") + b"\n\n" + note,
        b"old 0\n" + (good_hash + b"\n") * 64 + b"\n" + note,
        b"old 0\n\n" + note.replace(b"\n2\n", b"\n02\n", 1),
        b"old 0\n\n" + log.note().split("\n\n")[0].encode() + b"\n",  # no signature
        b"old 0\n\n\xff\xfe" + note,
        b"old 99999999999999999999\n\n" + note,
        b"old 5\n\n" + note,  # the old size is larger than the checkpoint's
    ]


@pytest.mark.django_db
def test_a_malformed_request_gets_400_and_changes_nothing():
    log = OtherLog(leaves=2)
    witnessed(log)
    for body in _malformed(log):
        answer = witness.add_checkpoint(body)
        assert answer.status == 400, (body, answer.body)
        assert answer.body.startswith(b"bad request")
    assert state(log) == (0, merkle.EMPTY_ROOT)
    assert witness.add_checkpoint(log.body(0)).status == 200


@pytest.mark.django_db
def test_without_a_witness_key_nothing_is_cosigned(settings):
    settings.LEDGER_WITNESS_KEY = ""
    log = OtherLog(leaves=2)
    witnessed(log)
    assert witness.add_checkpoint(log.body(0)).status == 503
    assert state(log) == (0, merkle.EMPTY_ROOT)


# --- The endpoint -------------------------------------------------------------------------------


URL = "/ledger/witness/add-checkpoint"


@pytest.mark.django_db
def test_the_endpoint_answers_only_posts_of_a_witnessing_installation():
    anonymous = Client(enforce_csrf_checks=True)  # a machine: no CSRF token, no session
    log = OtherLog(leaves=2)
    assert anonymous.post(URL, log.body(0), content_type="text/plain").status_code == 404
    witnessed(log)
    assert anonymous.get(URL).status_code == 405
    response = anonymous.post(URL, log.body(0), content_type="text/plain")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith("— testserver/witness ".encode())
    response = anonymous.post(URL, log.body(0), content_type="text/plain")
    assert response.status_code == 409
    assert response["Content-Type"] == "text/x.tlog.size"
    assert response.content == b"2\n"
    huge = b"old 2\n" + b"A" * (witness.MAX_BODY + 1)
    assert anonymous.post(URL, huge, content_type="text/plain").status_code == 413
    assert state(log) == (2, log.tree.root())


# --- The client side: our checkpoints cosigned -------------------------------------------------


@pytest.fixture
def loopback(monkeypatch) -> None:
    """Our witnesses answer through the test client: this installation witnesses its own log
    (configured past the services, which refuse that), so both sides run in one database."""

    def post(url: str, body: bytes, *, timeout: float) -> tuple[int, bytes, str]:
        assert url.startswith("http://witness.test/") and timeout == 30.0
        response = Client().post(
            url.removeprefix("http://witness.test"), body, content_type="text/plain"
        )
        return response.status_code, response.content, response["Content-Type"]

    monkeypatch.setattr(witness, "post", post)
    WitnessedLog.objects.create(
        origin=settings.LEDGER_ORIGIN,
        name="本公司",
        verifier_key=settings.LEDGER_VERIFIER_KEY_FOR_TESTS,
    )


def our_witness(org: Org, **kwargs) -> Witness:
    fields = {
        "name": "集团工会",
        "url": "http://witness.test/ledger/witness",
        "verifier_key": WITNESS_VKEY,
    } | kwargs
    return witness.witness_create(actor=org["union"], **fields)


def test_our_checkpoint_is_cosigned_checked_stored_and_shown(org: Org, loopback):
    row = our_witness(org)
    publish(org)
    publish(org, title="第二期")
    first = transparency.checkpoint()
    assert witness.send_to_witnesses() == 1
    cosignature = LogCosignature.objects.get(checkpoint=first)
    assert cosignature.witness == "testserver/witness"
    assert notes.verify_cosignature(
        notes.split_note(first.note)[0], cosignature.line, witness_verifier()
    )
    row.refresh_from_db()
    assert (row.cosigned_size, row.last_result) == (2, WitnessResult.COSIGNED)
    assert witness.send_to_witnesses() == 0  # nothing new: nothing sent

    publish(org, title="第三期")
    second = transparency.checkpoint()
    assert witness.send_to_witnesses() == 1  # from size 2, with a consistency proof
    row.refresh_from_db()
    assert row.cosigned_size == second.size == 3
    opened = notes.open_checkpoint(
        witness.cosigned_note(second),
        notes.parse_verifier(settings.LEDGER_VERIFIER_KEY_FOR_TESTS),
        [witness_verifier()],
    )
    assert [c.witness.name for c in opened.cosignatures] == ["testserver/witness"]

    shown = render_to_string("ledger/_cosignatures.html", witness.cosignatures_context())
    assert "集团工会" in shown and "testserver/witness" in shown


def test_a_witness_that_knows_another_size_is_asked_again_from_it(org: Org, loopback):
    row = our_witness(org)
    publish(org)
    transparency.checkpoint()
    witness.send_to_witnesses()
    publish(org, title="第二期")
    transparency.checkpoint()
    Witness.objects.filter(pk=row.pk).update(cosigned_size=0)  # our record lost
    assert witness.send_to_witnesses() == 1  # 409 "1", then from 1
    row.refresh_from_db()
    assert (row.cosigned_size, row.last_result) == (2, WitnessResult.COSIGNED)


def test_a_refusal_is_recorded_and_raised_for_the_union_office(org: Org, loopback):
    row = our_witness(org)
    # the witness knows our log under another key
    WitnessedLog.objects.update(verifier_key=OtherLog(settings.LEDGER_ORIGIN).vkey)
    publish(org)
    checkpoint = transparency.checkpoint()
    with pytest.raises(witness.WitnessRefused) as refused:
        witness.send_to_witnesses()
    assert "集团工会" in str(refused.value)
    row.refresh_from_db()
    assert row.last_result == WitnessResult.WRONG_KEY and "HTTP 403" in row.last_error
    assert row.cosigned_size == 0
    assert not LogCosignature.objects.filter(checkpoint=checkpoint).exists()
    # the witness stops witnessing us: 404
    WitnessedLog.objects.update(active=False)
    WitnessedLog.objects.create(origin="x.example/ledger", name="x", verifier_key=OtherLog().vkey)
    with pytest.raises(witness.WitnessRefused):
        witness.send_to_witnesses()
    row.refresh_from_db()
    assert row.last_result == WitnessResult.UNKNOWN_LOG


@pytest.mark.parametrize(
    "answer",
    [
        lambda text: b"",
        lambda text: b"OK\n",
        # a valid cosignature by another witness key
        lambda text: notes.cosign(
            text, notes.parse_witness_signer(notes.generate_witness("testserver/witness")[0])
        ).encode(),
        # our witness's key over another checkpoint
        lambda text: notes.cosign(
            notes.format_checkpoint(settings.LEDGER_ORIGIN, 1, bytes(32)),
            notes.parse_witness_signer(WITNESS_KEY),
        ).encode(),
        # dated a day ahead
        lambda text: notes.cosign(
            text, notes.parse_witness_signer(WITNESS_KEY), timestamp=int(time.time()) + 86400
        ).encode(),
    ],
    ids=["empty", "text", "other-key", "other-checkpoint", "future"],
)
def test_an_answer_without_a_valid_cosignature_is_not_stored(
    org: Org, monkeypatch, answer: Callable[[str], bytes]
):
    row = our_witness(org)
    publish(org)
    checkpoint = transparency.checkpoint()
    text = notes.split_note(checkpoint.note)[0]
    monkeypatch.setattr(
        witness, "post", lambda url, body, timeout: (200, answer(text), "text/plain")
    )
    with pytest.raises(witness.WitnessRefused):
        witness.send_to_witnesses()
    row.refresh_from_db()
    assert row.last_result == WitnessResult.INVALID_ANSWER and row.cosigned_size == 0
    assert not LogCosignature.objects.exists()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_or_failing_witness_is_recorded_and_tried_again_later(org: Org, monkeypatch):
    row = our_witness(org, url=f"http://127.0.0.1:{closed_port()}/ledger/witness")
    publish(org)
    transparency.checkpoint()
    assert witness.send_to_witnesses() == 0  # no exception: the next run tries again
    row.refresh_from_db()
    assert row.last_result == WitnessResult.UNAVAILABLE and row.last_error
    monkeypatch.setattr(witness, "post", lambda url, body, timeout: (503, b"busy", "text/plain"))
    assert witness.send_to_witnesses() == 0
    row.refresh_from_db()
    assert row.last_result == WitnessResult.UNAVAILABLE and "503" in row.last_error


def test_a_witness_that_cosigned_more_than_our_log_has_is_a_rollback(org: Org, monkeypatch):
    row = our_witness(org)
    publish(org)
    transparency.checkpoint()
    Witness.objects.filter(pk=row.pk).update(cosigned_size=5)
    sent: list[bytes] = []
    monkeypatch.setattr(witness, "post", lambda url, body, timeout: sent.append(body))
    with pytest.raises(witness.WitnessRefused):
        witness.send_to_witnesses()
    assert sent == []  # no proof exists: nothing is sent
    row.refresh_from_db()
    assert row.last_result == WitnessResult.ROLLED_BACK and row.cosigned_size == 5


def test_inactive_witnesses_are_not_sent_anything(org: Org, monkeypatch):
    row = our_witness(org)
    witness.witness_set_active(actor=org["union"], witness=row, active=False)
    publish(org)
    transparency.checkpoint()
    monkeypatch.setattr(witness, "post", lambda *a, **k: pytest.fail("sent"))
    assert witness.send_to_witnesses() == 0


# --- The union office's pages ------------------------------------------------------------------


def test_the_union_office_configures_witnesses_and_witnessed_logs(org: Org, client: Client):
    client.force_login(org["union"])
    page = client.get(reverse("ledger:witnesses"))
    assert page.status_code == 200
    body = page.content.decode()
    assert WITNESS_VKEY in body and settings.LEDGER_VERIFIER_KEY_FOR_TESTS in body
    assert "/ledger/witness" in body

    response = client.post(
        reverse("ledger:witness_add"),
        {
            "name": "集团工会",
            "url": "https://union.example/ledger/witness/",
            "verifier_key": (notes.generate_witness("union.example/witness")[1]),
        },
    )
    assert response.status_code == 302
    row = Witness.objects.get()
    assert row.url == "https://union.example/ledger/witness" and row.active
    assert row.key_name == "union.example/witness"

    response = client.post(
        reverse("ledger:witness_edit", args=[row.pk]),
        {"name": "集团公司工会", "url": row.url, "verifier_key": row.verifier_key},
    )
    assert response.status_code == 302
    assert client.get(reverse("ledger:witness_deactivate", args=[row.pk])).status_code == 200
    assert client.post(reverse("ledger:witness_deactivate", args=[row.pk])).status_code == 302
    row.refresh_from_db()
    assert (row.name, row.active) == ("集团公司工会", False)
    assert client.post(reverse("ledger:witness_activate", args=[row.pk])).status_code == 302
    row.refresh_from_db()
    assert row.active

    sister = OtherLog()
    response = client.post(
        reverse("ledger:witnessed_add"),
        {"origin": SISTER, "name": "兄弟公司", "verifier_key": sister.vkey},
    )
    assert response.status_code == 302
    log = WitnessedLog.objects.get()
    rotated = OtherLog()
    response = client.post(
        reverse("ledger:witnessed_edit", args=[log.pk]),
        {"origin": "evil.example/ledger", "name": "兄弟公司", "verifier_key": rotated.vkey},
    )
    assert response.status_code == 302
    log.refresh_from_db()
    assert (log.origin, log.verifier_key) == (SISTER, rotated.vkey)  # the origin stays
    assert client.post(reverse("ledger:witnessed_deactivate", args=[log.pk])).status_code == 302
    log.refresh_from_db()
    assert not log.active
    assert client.post(reverse("ledger:witnessed_activate", args=[log.pk])).status_code == 302

    actions = list(
        AuditEvent.objects.filter(action__startswith="ledger.witness")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "ledger.witness_added",
        "ledger.witness_changed",
        "ledger.witness_stopped",
        "ledger.witness_activated",
        "ledger.witnessed_log_added",
        "ledger.witnessed_log_changed",
        "ledger.witnessed_log_stopped",
        "ledger.witnessed_log_activated",
    ]
    assert AuditEvent.objects.filter(actor=org["union"], action__startswith="ledger.").count() == 8
    for event in AuditEvent.objects.filter(action__startswith="ledger."):  # named for readers
        assert action_label(event.action) != event.action
        for key in {**(event.before or {}), **(event.after or {})}:
            assert key_label(target_model(event.target_type), key)[0] != key
    body = client.get(reverse("ledger:witnesses")).content.decode()
    assert "集团公司工会" in body and "兄弟公司" in body and SISTER in body


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://union.example/witness"}, "url"),
        ({"url": "https://union.example/w?key=1"}, "url"),
        ({"url": "https://user:pw@union.example/w"}, "url"),
        ({"url": "https://union.example/w\n"}, None),  # stripped: fine
        ({"url": "https://union.example/a\nb"}, "url"),
        ({"url": "https://union.example:99999/w"}, "url"),
        ({"url": "https:///w"}, "url"),
        ({"verifier_key": "not a key"}, "verifier_key"),
        ({"verifier_key": "LOG"}, "verifier_key"),  # a log's key instead of a witness's
        ({"verifier_key": "PRIVATE"}, "verifier_key"),  # a signer key
        ({"name": ""}, "name"),
        ({"name": "工会\x07"}, "name"),
        ({"name": "长" * 101}, "name"),
    ],
)
def test_hostile_witness_input_is_refused_with_a_message(
    org: Org, client: Client, fields: dict[str, str], error_field: str | None
):
    client.force_login(org["union"])
    data = {
        "name": "集团工会",
        "url": "https://union.example/ledger/witness",
        "verifier_key": notes.generate_witness("union.example/witness")[1],
    } | fields
    if data["verifier_key"] == "LOG":
        data["verifier_key"] = OtherLog().vkey
    if data["verifier_key"] == "PRIVATE":
        data["verifier_key"] = WITNESS_KEY
    response = client.post(reverse("ledger:witness_add"), data)
    if error_field is None:
        assert response.status_code == 302
        return
    assert response.status_code == 400
    assert error_field in response.context["form"].errors, response.context["form"].errors
    assert not Witness.objects.exists()


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"origin": "sister example/ledger"}, "origin"),
        ({"origin": "sister+example/ledger"}, "origin"),
        ({"origin": "testserver/ledger"}, "origin"),  # our own log
        ({"verifier_key": WITNESS_VKEY}, "verifier_key"),  # a witness's key instead
        ({"verifier_key": "sister.example/ledger+00000000+AQ=="}, "verifier_key"),
        ({"name": "\n"}, "name"),
    ],
)
def test_hostile_witnessed_log_input_is_refused_with_a_message(
    org: Org, client: Client, fields: dict[str, str], error_field: str
):
    client.force_login(org["union"])
    data = {"origin": SISTER, "name": "兄弟公司", "verifier_key": OtherLog().vkey} | fields
    response = client.post(reverse("ledger:witnessed_add"), data)
    assert response.status_code == 400
    assert error_field in response.context["form"].errors, response.context["form"].errors
    assert not WitnessedLog.objects.exists()


def test_the_same_log_or_witness_key_is_configured_once(org: Org):
    union = org["union"]
    key = OtherLog().vkey
    witness.witnessed_log_create(actor=union, origin=SISTER, name="a", verifier_key=key)
    with pytest.raises(witness.ServiceError):
        witness.witnessed_log_create(actor=union, origin=SISTER, name="b", verifier_key=key)
    vkey = notes.generate_witness("union.example/witness")[1]
    witness.witness_create(actor=union, name="a", url="https://a.example/w", verifier_key=vkey)
    rotated = notes.generate_witness("union.example/witness")[1]
    with pytest.raises(witness.ServiceError):
        witness.witness_create(
            actor=union, name="b", url="https://b.example/w", verifier_key=rotated
        )


def test_no_one_but_the_union_office_of_a_top_level_unit_configures_witnesses(org: Org):
    log = witness.witnessed_log_create(
        actor=None, origin=SISTER, name="兄弟公司", verifier_key=OtherLog().vkey
    )
    row = witness.witness_create(
        actor=None, name="集团工会", url="https://u.example/w", verifier_key=WITNESS_VKEY
    )
    posts = [
        (reverse("ledger:witness_add"), {"name": "x", "url": "https://x.example/w"}),
        (reverse("ledger:witness_edit", args=[row.pk]), {"name": "x"}),
        (reverse("ledger:witness_deactivate", args=[row.pk]), {}),
        (reverse("ledger:witness_activate", args=[row.pk]), {}),
        (reverse("ledger:witnessed_add"), {"origin": "x.example/ledger", "name": "x"}),
        (reverse("ledger:witnessed_edit", args=[log.pk]), {"name": "x"}),
        (reverse("ledger:witnessed_deactivate", args=[log.pk]), {}),
        (reverse("ledger:witnessed_activate", args=[log.pk]), {}),
    ]
    for login in ("employee", "leader", "supervisor", "depthead", "outsider"):
        client = Client()
        client.force_login(org[login])
        for url, data in posts:
            assert client.post(url, data).status_code == 403, (login, url)
    anonymous = Client()
    for url, data in posts:
        assert anonymous.post(url, data).status_code == 302
    assert (Witness.objects.get().name, Witness.objects.get().active) == ("集团工会", True)
    assert WitnessedLog.objects.get().name == "兄弟公司"
    with pytest.raises(witness.ServiceError):
        witness.witness_set_active(actor=org["employee"], witness=row, active=False)


def test_a_refused_fork_is_shown_to_the_union_office(org: Org, client: Client):
    log = OtherLog(leaves=3)
    witnessed(log)
    witness.add_checkpoint(log.body(0))
    witness.add_checkpoint(log.fork(keep=1, total=3).body(3))
    client.force_login(org["union"])
    body = client.get(reverse("ledger:witnesses")).content.decode()
    assert "a fork" in body and "old 3" in body


# --- Keys and commands ---------------------------------------------------------------------------


def test_witness_key_command_creates_a_secret_key_once_and_shows_it(settings, tmp_path: Path):
    settings.LEDGER_WITNESS_KEY = ""
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("witness_key", "show")
    call_command("witness_key", "create", stdout=out)
    path = Path(settings.LEDGER_WITNESS_KEY_FILE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signer = notes.parse_witness_signer(path.read_text().strip())
    assert signer.name == "testserver/witness"
    assert signer.verifier.encode() in out.getvalue()
    with pytest.raises(CommandError):
        call_command("witness_key", "create")
    call_command("witness_key", "create", "--if-missing")
    shown = StringIO()
    call_command("witness_key", "show", stdout=shown)
    assert shown.getvalue().strip() == signer.verifier.encode()
    assert witness.witness_verifier_key() == signer.verifier.encode()


@pytest.mark.django_db
def test_witness_command_configures_and_reports():
    log = OtherLog(leaves=2)
    out = StringIO()
    call_command("witness", "add-log", SISTER, log.vkey, "--name", "兄弟公司", stdout=out)
    call_command(
        "witness", "add", "https://u.example/w/", WITNESS_VKEY, "--name", "集团工会", stdout=out
    )
    with pytest.raises(CommandError):
        call_command("witness", "add-log", SISTER, WITNESS_VKEY, "--name", "x")
    witness.add_checkpoint(log.body(0))
    status = StringIO()
    call_command("witness", "status", stdout=status)
    assert f"log {SISTER} (兄弟公司, active): cosigned size 2" in status.getvalue()
    assert "witness testserver/witness (集团工会, active) at https://u.example/w" in (
        status.getvalue()
    )
    assert AuditEvent.objects.filter(actor=None, action="ledger.witness_added").exists()


# --- Two installations on loopback ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Peer:
    """A second installation: its own database file, log key and witness key, served by
    ``manage.py runserver`` in a child process."""

    def __init__(self, tmp: Path) -> None:
        self.origin = "peer.test/ledger"
        skey, self.log_vkey = notes.generate_signer(self.origin)
        wkey, self.witness_vkey = notes.generate_witness("peer.test/witness")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "LIMITS_URL", "REDIS_URL"}
        } | {
            "DJANGO_SETTINGS_MODULE": "tests.witness_peer_settings",
            "DATABASE_URL": f"sqlite:///{tmp / 'peer.sqlite3'}",
            "GONGKAI_VAR_DIR": str(tmp / "var"),
            "LEDGER_ORIGIN": self.origin,
            "LEDGER_SIGNING_KEY": skey,
            "LEDGER_WITNESS_KEY": wkey,
            "LEDGER_WITNESS_TIMEOUT": "60",
        }
        self.log = tmp / "peer-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if result.returncode != 0:
            raise CommandError(result.stdout + result.stderr)
        return result.stdout

    def start(self) -> None:
        self.manage("migrate", "--no-input", "-v", "0")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120  # a limit for a broken start, not a measurement
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.log.read_text(errors="replace"))
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def state_of(self, note: str) -> bytes:
        """Ask the peer, by the protocol itself, which size of our log it last cosigned."""
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}/ledger/witness/add-checkpoint",
            data=witness.request_body(0, [], note),
            method="POST",
        )
        try:
            urllib.request.urlopen(request, timeout=60)  # noqa: S310
        except urllib.error.HTTPError as conflict:
            assert conflict.code == 409
            return conflict.read()
        raise AssertionError("a checkpoint with old size 0 was cosigned again")


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Peer]:
    started = Peer(tmp_path)
    try:
        started.start()
        yield started
    finally:
        started.stop()


def rewrite_our_log(leaves: list[bytes]) -> LogCheckpoint:
    """What a database superuser holding the signing key could do: throw the publication log
    away (triggers off), build another one with ``leaves`` and sign its checkpoint."""
    tables = ("core_logcosignature", "core_logcheckpoint", "core_logtile", "core_logbundle")
    with (
        triggers_suspended(connection, tables[0]),
        triggers_suspended(connection, tables[1]),
        triggers_suspended(connection, tables[2]),
        triggers_suspended(connection, tables[3]),
    ):
        LogCosignature.objects.filter(checkpoint__log_id=transparency.LOG).delete()
        LogCheckpoint.objects.filter(log_id=transparency.LOG).delete()
        LogTile.objects.filter(log_id=transparency.LOG).delete()
        LogBundle.objects.filter(log_id=transparency.LOG).delete()
        TransparencyLog.objects.filter(pk=transparency.LOG).delete()
    store.append(transparency.LOG, lambda size: leaves)
    return signing.sign_checkpoint(transparency.LOG, transparency.origin())


@pytest.mark.django_db(transaction=True)
def test_two_installations_on_loopback_witness_each_other_and_refuse_a_rewritten_log(
    org: Org, live_server, peer: Peer
):
    # The peer witnesses us, and we the peer (each side as its operators would set it up).
    log_key = settings.LEDGER_VERIFIER_KEY_FOR_TESTS
    peer.manage("witness", "add-log", settings.LEDGER_ORIGIN, log_key, "--name", "示范热电")
    peer.manage(
        "witness", "add", f"{live_server.url}/ledger/witness", WITNESS_VKEY, "--name", "见证"
    )
    union = org["union"]
    ours = witness.witness_create(
        actor=union,
        name="兄弟公司",
        url=f"{peer.url}/ledger/witness/",
        verifier_key=peer.witness_vkey,
    )
    witness.witnessed_log_create(
        actor=union, origin=peer.origin, name="兄弟公司", verifier_key=peer.log_vkey
    )

    # We publish; the peer cosigns, over HTTP, first from nothing, then from what it saw.
    # (The queue may already have sent each checkpoint after its publication committed.)
    publish(org)
    publish(org, title="第二期")
    first = transparency.checkpoint()
    witness.send_to_witnesses()
    assert LogCosignature.objects.filter(checkpoint=first, witness="peer.test/witness").exists()
    publish(org, title="第三期")
    honest = transparency.checkpoint()
    witness.send_to_witnesses()
    ours.refresh_from_db()
    assert (ours.cosigned_size, ours.last_result) == (3, WitnessResult.COSIGNED)
    line = LogCosignature.objects.get(checkpoint=honest).line
    text = notes.split_note(honest.note)[0]
    assert notes.verify_cosignature(text, line, notes.parse_witness_verifier(peer.witness_vkey))
    shown = render_to_string("ledger/_cosignatures.html", witness.cosignatures_context())
    assert "兄弟公司" in shown and "peer.test/witness" in shown

    # The peer's log has entries of its own; we cosign its checkpoint.
    grow = "store.append('publication', lambda size: [b'peer 0', b'peer 1'])"
    peer.manage("shell", "-c", f"from gongkai.core.tlog import store; {grow}")
    assert "1 new cosignature(s)" in peer.manage("witness", "send")
    theirs = WitnessedLog.objects.get(origin=peer.origin)
    assert theirs.size == 2 and theirs.cosigned_at is not None
    assert "cosigned size 2; last result cosigned" in peer.manage("witness", "status")

    real = store.entries(transparency.LOG, 0, 3)

    # Rolled back to two leaves, then two others published: the peer refuses (422).
    rewrite_our_log([*real[:2], b"forged 2", b"forged 3"])
    with pytest.raises(witness.WitnessRefused, match="兄弟公司"):
        witness.send_to_witnesses()
    ours.refresh_from_db()
    assert ours.last_result == WitnessResult.INCONSISTENT and "HTTP 422" in ours.last_error

    # The same size with another history: refused (409 at the size it knows).
    forged = rewrite_our_log([real[0], b"forged 1", real[2]])
    with pytest.raises(witness.WitnessRefused):
        witness.send_to_witnesses()
    ours.refresh_from_db()
    assert ours.last_result == WitnessResult.CONFLICT

    # Rolled back to a smaller tree: no proof exists, we refuse it ourselves.
    rewrite_our_log(real[:2])
    with pytest.raises(witness.WitnessRefused):
        witness.send_to_witnesses()
    ours.refresh_from_db()
    assert ours.last_result == WitnessResult.ROLLED_BACK
    assert not LogCosignature.objects.exists()

    # The peer kept what it cosigned, and the evidence of the forks.
    assert peer.state_of(forged.note) == b"3\n"
    status = peer.manage("witness", "status")
    assert f"log {settings.LEDGER_ORIGIN} (示范热电, active): cosigned size 3" in status
    assert f"root {bytes(honest.root).hex()}" in status
    assert "refused" in status
