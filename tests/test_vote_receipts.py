"""Receipt codes (issue 13, item 18): after casting, the voter is shown a code once; after the
close the codes of the counted ballots are listed (codes only, never choices), so everyone can
check their ballot was counted — and nobody, a reader of the database included, can pair a
code with a voter or with a choice (ids, physical order, transaction ids, time columns)."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection, models, transaction
from django.test import Client
from django.urls import reverse

from gongkai.ballots.models import (
    Participation,
    PendingReceipt,
    Poll,
    Receipt,
    SealedBallot,
)
from gongkai.ballots.selectors import receipt_codes
from gongkai.ballots.services import ballot_cast, poll_close, poll_open, poll_publish
from tests import pageinspect
from tests.conftest import Org
from tests.test_ballots import all_same, item_keys, make_hall, resolution
from tests.test_ballots_secrecy import (
    canonical,
    cast_signed_in,
    distinct_ballots,
    physical_column,
    raw,
)

N = 12
CODE = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")


def english(client: Client) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def fields(poll: Poll, value: str) -> dict[str, str]:
    return {f"item-{k}": value for k in item_keys(poll)}


@pytest.fixture
def voted(org: Org):
    """An open resolution where N representatives each cast a different ballot; returns
    (poll, {user id: ballot}, {user id: receipt code})."""
    hall = make_hall(org, total=N, present=N)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall, items=["一", "二", "三", "四"]))
    truth, codes = {}, {}
    for voter, choices in zip(hall.present, distinct_ballots(poll, N), strict=True):
        codes[voter.pk] = ballot_cast(actor=voter, poll=poll, choices=choices)
        truth[voter.pk] = canonical(choices)
    return poll, truth, codes


# --- What the voter sees ------------------------------------------------------------------


def test_the_voter_is_shown_a_receipt_code_once_and_no_choice(org: Org, client):
    hall = make_hall(org, total=3, present=3)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    english(client).force_login(org["rep"])
    cast = client.post(
        reverse("ballots:cast", args=[poll.pk]), {**fields(poll, "against"), "confirm": "1"}
    )
    assert cast.status_code == 302 and cast["Location"] == reverse("ballots:done", args=[poll.pk])
    done = client.get(cast["Location"]).content.decode()
    assert "Your ballot is cast" in done
    shown = CODE.findall(done)
    assert len(shown) == 1
    assert "against" not in done.lower()
    # Shown once: the page again (a reload, a later visit) no longer has it.
    again = client.get(reverse("ballots:done", args=[poll.pk])).content.decode()
    assert CODE.findall(again) == []
    assert "was shown once" in again
    # The code is kept nowhere with the voter: not in the database at all while the vote is
    # open (only in a sealed box), and not in the session.
    assert shown[0] not in dump_database()
    # After the close it is in the published list of codes.
    poll_close(actor=org["union"], poll=poll)
    detail = client.get(reverse("ballots:detail", args=[poll.pk])).content.decode()
    assert shown[0] in detail


def test_a_second_cast_shows_no_new_code(org: Org, client):
    hall = make_hall(org, total=3, present=3)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall))
    client.force_login(org["rep"])
    url = reverse("ballots:cast", args=[poll.pk])
    first = client.post(url, {**fields(poll, "for"), "confirm": "1"})
    client.get(first["Location"])
    second = client.post(url, {**fields(poll, "against"), "confirm": "1"}, follow=True)
    assert CODE.findall(second.content.decode()) == []
    assert Participation.objects.filter(poll=poll).count() == 1


def test_a_code_cookie_of_one_vote_is_not_shown_on_another(org: Org, client):
    hall = make_hall(org, total=3, present=3)
    first = poll_open(actor=org["union"], poll=resolution(org, hall, items=["一"]))
    second = poll_open(actor=org["union"], poll=resolution(org, hall, items=["二"]))
    client.force_login(org["rep"])
    cast = client.post(
        reverse("ballots:cast", args=[first.pk]), {**fields(first, "for"), "confirm": "1"}
    )
    cookie = next(iter(cast.cookies.values()))
    ballot_cast(actor=org["rep"], poll=second, choices=all_same(second, "for"))
    client.cookies[cookie.key] = cookie.value  # replayed on the other vote's page
    page = client.get(reverse("ballots:done", args=[second.pk])).content.decode()
    assert CODE.findall(page) == []


# --- The published list -------------------------------------------------------------------


def test_after_close_the_codes_of_counted_ballots_are_listed_sorted(org: Org, voted):
    poll, _truth, codes = voted
    assert receipt_codes(poll) == []  # nothing while open
    poll = poll_close(actor=org["union"], poll=poll)
    listed = receipt_codes(poll)
    assert listed == sorted(codes.values()) and len(listed) == poll.result["ballots"] == N
    assert len(set(listed)) == N


def test_the_list_is_shown_after_close_only_and_without_choices(org: Org, voted, client):
    poll, _truth, codes = voted
    english(client).force_login(org["rep"])
    url = reverse("ballots:detail", args=[poll.pk])
    page = client.get(url).content.decode()
    assert not any(code in page for code in codes.values())  # open: no list yet
    poll_close(actor=org["union"], poll=poll)
    page = client.get(url).content.decode()
    assert "Receipt codes of the counted ballots" in page
    assert all(code in page for code in codes.values())
    listed = page[page.index("Receipt codes of the counted ballots") :]
    for word in ("Against", "Abstain", "Passed"):
        assert word not in listed.split("</details>")[0]


def test_people_outside_the_vote_do_not_see_the_list_until_published(org: Org, voted, client):
    poll, _truth, codes = voted
    poll = poll_close(actor=org["union"], poll=poll)
    client.force_login(org["employee"])  # not a representative of the session
    assert client.get(reverse("ballots:detail", args=[poll.pk])).status_code == 404
    poll_publish(actor=org["union"], poll=poll)
    page = client.get(reverse("ballots:detail", args=[poll.pk])).content.decode()
    assert all(code in page for code in codes.values())


# --- What a reader of the database could correlate ----------------------------------------


def dump_database() -> str:
    """Every value of every table, as text (what a copy of the database shows)."""
    out: list[str] = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    for table in tables:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
                out.extend(repr(row) for row in cursor.fetchall())
        except DatabaseError:  # SQLite's full-text index itself (its shadow tables are read)
            continue
    return "\n".join(out)


def test_while_open_no_code_is_readable_anywhere(voted):
    _poll, _truth, codes = voted
    text = dump_database()
    assert not any(code in text for code in codes.values())
    boxes = [bytes(b) for b in PendingReceipt.objects.values_list("box", flat=True)]
    assert len(boxes) == N and len({len(b) for b in boxes}) == 1


def test_codes_have_no_column_time_or_voter_and_no_link_to_the_ballot():
    assert {f.name for f in PendingReceipt._meta.get_fields()} == {"id", "poll", "box"}
    assert {f.name for f in Receipt._meta.get_fields()} == {"id", "poll", "code"}
    for model in (PendingReceipt, Receipt):
        assert not any(
            isinstance(f, models.DateField | models.DateTimeField | models.AutoField)
            for f in model._meta.get_fields()
        )
    # The ballot table did not gain a code.
    assert {f.name for f in SealedBallot._meta.get_fields()} == {"id", "poll", "group", "choices"}


def attack(poll: Poll, column: str, codes: dict[int, str], truth: dict[int, tuple]) -> int:
    """Sort voters, codes and ballots by the same column and zip them: how many voters get
    their own code, and how many codes get their own voter's ballot."""

    def column_of(table: str, name: str) -> list:
        sql = f"SELECT {name} FROM {table} WHERE poll_id = %s ORDER BY {column}"  # noqa: S608
        return [r[0] for r in raw(sql, [poll.pk])]

    voters = column_of("ballots_participation", "user_id")
    listed = column_of("ballots_receipt", "code")
    ballots = [
        canonical(b[0] if isinstance(b[0], dict) else json.loads(b[0]))
        for b in raw(
            f"SELECT choices FROM ballots_sealedballot WHERE poll_id = %s ORDER BY {column}",  # noqa: S608
            [poll.pk],
        )
    ]
    owner = {code: uid for uid, code in codes.items()}
    own_code = sum(1 for uid, code in zip(voters, listed, strict=True) if codes[uid] == code)
    own_ballot = sum(
        1 for code, ballot in zip(listed, ballots, strict=True) if truth[owner[code]] == ballot
    )
    return max(own_code, own_ballot)


def test_after_close_order_and_ids_pair_no_code_with_a_voter_or_a_ballot(org: Org, voted):
    poll, truth, codes = voted
    poll = poll_close(actor=org["union"], poll=poll)
    assert not PendingReceipt.objects.exists()
    assert attack(poll, physical_column(), codes, truth) < N // 2
    assert attack(poll, "id", codes, truth) < N // 2
    # The codes listed are in sorted order, which says nothing of who cast them.
    assert receipt_codes(poll) == sorted(codes.values())


def test_after_close_transaction_ids_pair_no_code(org: Org, voted):
    if connection.vendor != "postgresql":
        pytest.skip("xmin is PostgreSQL's")
    poll, _truth, _codes = voted
    poll = poll_close(actor=org["union"], poll=poll)

    def xmins(table: str) -> set[str]:
        return {r[0] for r in raw(f"SELECT xmin::text FROM {table} WHERE poll_id = %s", [poll.pk])}  # noqa: S608

    voters, codes, ballots = (
        xmins("ballots_participation"),
        xmins("ballots_receipt"),
        xmins("ballots_sealedballot"),
    )
    assert len(voters) == N and len(codes) == 1 and len(ballots) == 1
    assert not codes & voters and not codes & ballots  # a sealing transaction of its own


@pytest.mark.django_db(transaction=True)
def test_no_row_version_holds_a_readable_code_next_to_a_voter(org: Org):
    """PostgreSQL's pages, dead versions included: while open, only boxes with the voters'
    stamps; after the close, no version of a box is left, and every code version carries one
    transaction id that is no voter's, not the ballots' and not the close's."""
    pageinspect.enable()
    with connection.cursor() as cursor:  # versions left by earlier tests' rolled-back casts
        cursor.execute("TRUNCATE ballots_pendingreceipt, ballots_receipt")
    hall = make_hall(org, total=6, present=6)
    poll = poll_open(actor=org["union"], poll=resolution(org, hall, items=["一", "二"]))
    cast_signed_in(org, poll, hall.present, distinct_ballots(poll, 6))
    held = [v for v in pageinspect.all_versions("ballots_pendingreceipt") if v.has_data]
    assert len(held) == 6
    assert {v.xmin for v in held} <= pageinspect.stamps(["ballots_participation"])
    assert not any(CODE.search(v.data.decode("latin-1")) for v in held)
    poll_close(actor=org["union"], poll=poll)
    assert pageinspect.all_versions("ballots_pendingreceipt") == []
    written = pageinspect.all_versions("ballots_receipt")
    assert len(written) == 6 and all(v.has_data and not v.xmax for v in written)
    (sealer,) = {v.xmin for v in written}
    assert sealer not in pageinspect.stamps(pageinspect.PERSON_TABLES)
    for table in ("ballots_poll", "audit_auditevent", "ballots_participation"):
        assert sealer not in {v.xmin for v in pageinspect.all_versions(table)}, table
    assert sealer not in {v.xmin for v in pageinspect.all_versions("ballots_sealedballot")}
    assert len(receipt_codes(Poll.objects.get(pk=poll.pk))) == 6
