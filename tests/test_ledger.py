"""The hash-linked publication ledger: every publication, correction, attestation and
withdrawal is appended; verify_ledger recomputes the chain from the records and names every
record changed behind the application's back."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from gongkai.accounts.models import User
from gongkai.core.immutable import triggers_suspended
from gongkai.disclosure.catalog_seed import load_catalog
from gongkai.disclosure.models import (
    CatalogEntry,
    CatalogRule,
    Category,
    Disclosure,
    Revision,
    Scope,
)
from gongkai.disclosure.services import (
    Transition,
    attestation_file,
    disclosure_create,
    disclosure_transition,
    disclosure_update,
)
from gongkai.ledger import canonical
from gongkai.ledger.models import (
    Event,
    LedgerEntry,
    LedgerHead,
    LedgerIsAppendOnly,
    ProblemKind,
    RecordType,
)
from gongkai.ledger.services import ledger_append, ledger_record_publication
from gongkai.ledger.verification import ledger_verify
from tests.conftest import Org
from tests.factories import published_disclosure

PG = "postgresql"
postgresql_only = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="PostgreSQL only (real concurrent writers)",
)


# --- helpers ------------------------------------------------------------------------------


def publish(org: Org, title: str = "2026年第三季度业务招待费公开", **kwargs) -> Disclosure:
    return published_disclosure(unit=org.boiler, title=title, **kwargs)


def correct(org: Org, disclosure: Disclosure, *, result: str, reason: str) -> Disclosure:
    union, head = org["union"], org["depthead"]
    disclosure_transition(
        actor=union, disclosure=disclosure, transition=Transition.CORRECT, reason=reason
    )
    disclosure_update(actor=union, disclosure=disclosure, result=result)
    disclosure_transition(actor=union, disclosure=disclosure, transition=Transition.SUBMIT)
    disclosure_transition(actor=head, disclosure=disclosure, transition=Transition.APPROVE)
    return disclosure_transition(actor=union, disclosure=disclosure, transition=Transition.PUBLISH)


def withdraw(org: Org, disclosure: Disclosure, reason: str = "数据有误,撤回重报") -> Disclosure:
    return disclosure_transition(
        actor=org["depthead"], disclosure=disclosure, transition=Transition.WITHDRAW, reason=reason
    )


def attest(org: Org) -> Disclosure:
    return attestation_file(
        actor=org["union"],
        unit=org.boiler,
        entry=CatalogEntry.objects.get(code="pay"),
        reason="本月无薪酬调整",
        period="2026-10",
    )


def chain() -> list[LedgerEntry]:
    return list(LedgerEntry.objects.order_by("sequence"))


@pytest.fixture(autouse=True)
def english_commands():
    """verify_ledger speaks the site's language (Chinese by default); these assertions read
    its English messages."""
    with translation.override("en"):
        yield


def raw(sql: str, params: list) -> None:
    """Change rows behind the application's back, as a database superuser could: the
    trigger that keeps revisions immutable is switched off around the statement."""
    if "disclosure_revision" not in sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    with triggers_suspended(connection, "disclosure_revision"), connection.cursor() as cursor:
        cursor.execute(sql, params)


def kinds(problems) -> list[ProblemKind]:
    return [p.kind for p in problems]


@pytest.fixture
def history(org: Org) -> dict[str, Disclosure]:
    """Four entries: a publication, its correction, an attestation, a withdrawal."""
    first = publish(org, title="锅炉分场第三季度业务招待费")
    correct(org, first, result="<p>共计 1,243.50 元(更正)</p>", reason="金额笔误")
    nil = attest(org)
    gone = publish(org, title="将被撤回的公开事项")
    withdraw(org, gone)
    return {"first": first, "nil": nil, "gone": gone}


@pytest.fixture
def superuser_powers() -> Iterator[None]:
    """What a database superuser can do: switch the append-only trigger off (inside the
    test's transaction, so it comes back afterwards)."""
    if connection.vendor == PG:
        raw("SET CONSTRAINTS ALL IMMEDIATE", [])  # no pending FK checks before ALTER TABLE
        raw("ALTER TABLE ledger_ledgerentry DISABLE TRIGGER ledger_entry_append_only", [])
    else:
        raw("DROP TRIGGER ledger_entry_append_only", [])
        raw("DROP TRIGGER ledger_entry_append_only_delete", [])
    yield


# --- appending -----------------------------------------------------------------------------


def test_publishing_appends_the_published_revision_to_the_ledger(org: Org):
    disclosure = publish(org)
    [entry] = chain()
    revision = Revision.objects.get(pk=disclosure.published_revision_id)
    assert entry.sequence == 1 and entry.prev_hash == canonical.GENESIS_HASH
    assert (entry.record_type, entry.record_id, entry.event) == (
        RecordType.REVISION,
        revision.pk,
        Event.PUBLISH,
    )
    assert entry.disclosure_id == disclosure.pk
    assert entry.content_hash == canonical.content_hash(canonical.revision_content_v2(revision, []))
    assert (entry.canonical_version, entry.files) == (canonical.CURRENT_VERSION, [])
    assert entry.entry_hash == entry.computed_hash() and len(entry.entry_hash) == 64
    head = LedgerHead.objects.get()
    assert (head.sequence, head.entry_hash) == (1, entry.entry_hash)


def test_correction_attestation_and_withdrawal_each_append_a_linked_entry(
    org: Org, history: dict[str, Disclosure]
):
    entries = chain()
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5]
    assert [e.event for e in entries] == ["publish", "publish", "attest", "publish", "withdraw"]
    assert [e.disclosure_id for e in entries] == [
        history["first"].pk,
        history["first"].pk,
        history["nil"].pk,
        history["gone"].pk,
        history["gone"].pk,
    ]
    assert entries[4].record_type == RecordType.WITHDRAWAL
    assert entries[4].record_id == history["gone"].pk
    previous = canonical.GENESIS_HASH
    for entry in entries:
        assert entry.prev_hash == previous
        previous = entry.entry_hash
    assert LedgerHead.objects.get().entry_hash == previous
    assert ledger_verify() == []


def test_canonical_content_is_sorted_compact_utf8_json():
    assert canonical.canonical_json({"b": "公开", "a": [1, {"d": None, "c": True}]}) == (
        '{"a":[1,{"c":true,"d":null}],"b":"公开"}'.encode()
    )


def test_revision_content_is_what_the_reader_sees(org: Org):
    disclosure = publish(org, table={"rows": [["招待", "1234.50"]]}, scope=Scope.PUBLIC)
    revision = Revision.objects.select_related(
        "disclosure__unit", "disclosure__entry", "published_by"
    ).get(pk=disclosure.published_revision_id)
    content = canonical.revision_content(revision)
    assert content == {
        "disclosure": disclosure.pk,
        "unit": "rd-boiler",
        "entry": "entertainment",
        "period": "2026-Q3",
        "event_date": None,
        "is_nil": False,
        "revision": 1,
        "title": "2026年第三季度业务招待费公开",
        "procedure": revision.procedure,
        "result": revision.result,
        "table": {"rows": [["招待", "1234.50"]]},
        "scope": "public",
        "reason": "",
        "published_at": canonical.iso_time(revision.published_at),
        "published_by": revision.published_by.employee_no,
    }
    assert content["published_at"].endswith("+00:00")


def test_a_failed_publication_leaves_no_entry_and_the_head_unmoved(org: Org):
    publish(org)
    head_before = LedgerHead.objects.get().entry_hash
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(org, title="回滚的公开")
        raise RuntimeError("the surrounding work failed")
    assert [e.sequence for e in chain()] == [1]
    assert LedgerHead.objects.get().entry_hash == head_before


def test_the_hook_refuses_an_unknown_event_and_an_unpublished_disclosure(org: Org):
    disclosure = publish(org)
    with pytest.raises(ValueError):
        ledger_record_publication(disclosure=disclosure, event="rename")
    draft = disclosure_create(
        actor=org["union"],
        unit=org.boiler,
        entry=CatalogEntry.objects.get(code="entertainment"),
        title="草稿",
        period="2026-Q2",  # 2026-Q3 is the published one's (one disclosure per period)
    )
    with pytest.raises(ValueError):
        ledger_record_publication(disclosure=draft, event="publish")
    with pytest.raises(ValueError):
        ledger_record_publication(disclosure=draft, event="withdraw")
    assert len(chain()) == 1


def test_a_record_is_entered_only_once(org: Org):
    disclosure = publish(org)
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger_record_publication(disclosure=disclosure, event="publish")
    assert len(chain()) == 1


def test_a_head_row_lost_is_rebuilt_from_the_chain(org: Org):
    publish(org)
    LedgerHead.objects.all().delete()
    publish(org, title="第二条")
    assert [e.sequence for e in chain()] == [1, 2]
    assert ledger_verify() == []


# --- append-only ---------------------------------------------------------------------------


def test_entries_cannot_be_changed_or_deleted_through_the_application(org: Org):
    publish(org)
    entry = chain()[0]
    entry.content_hash = "f" * 64
    with pytest.raises(LedgerIsAppendOnly):
        entry.save()
    with pytest.raises(LedgerIsAppendOnly):
        entry.delete()
    with pytest.raises(LedgerIsAppendOnly):
        LedgerEntry.objects.filter(pk=entry.pk).update(content_hash="f" * 64)
    with pytest.raises(LedgerIsAppendOnly):
        LedgerEntry.objects.all().delete()
    assert chain()[0].content_hash != "f" * 64


def test_the_database_refuses_to_update_an_entry(org: Org):
    publish(org)
    entry = chain()[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("UPDATE ledger_ledgerentry SET content_hash = %s WHERE id = %s", ["0" * 64, entry.pk])
    assert chain()[0].content_hash == entry.content_hash


def test_the_database_refuses_to_delete_an_entry(org: Org):
    publish(org)
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("DELETE FROM ledger_ledgerentry", [])
    assert len(chain()) == 1


def test_the_database_refuses_a_fork_even_without_the_lock(org: Org):
    publish(org)
    first = chain()[0]
    fork = {
        "record_type": RecordType.WITHDRAWAL,
        "record_id": first.disclosure_id,
        "event": Event.WITHDRAW,
        "disclosure_id": first.disclosure_id,
        "content_hash": "a" * 64,
        "entry_hash": "b" * 64,
        "recorded_at": first.recorded_at,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(sequence=1, prev_hash="c" * 64, **fork)  # same sequence
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(sequence=2, prev_hash=first.prev_hash, **fork)  # same parent
    assert len(chain()) == 1


# --- verification --------------------------------------------------------------------------


def test_ledger_verifies_then_fails_after_a_revision_is_altered_with_raw_sql(
    org: Org, history: dict[str, Disclosure]
):
    assert ledger_verify() == []
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    head = chain()[-1]
    assert out.getvalue().strip() == f"5 entries, chain intact, head {head.entry_hash}"

    revision = Revision.objects.get(disclosure=history["first"], number=2)
    raw(
        "UPDATE disclosure_revision SET result = %s WHERE id = %s",
        ["<p>共计 99.00 元</p>", revision.pk],
    )

    problems = ledger_verify()
    assert kinds(problems) == [ProblemKind.CONTENT_CHANGED]
    [problem] = problems
    assert (problem.sequence, problem.record_type, problem.record_id) == (
        2,
        RecordType.REVISION,
        revision.pk,
    )
    assert problem.disclosure_id == history["first"].pk
    assert problem.title == "锅炉分场第三季度业务招待费"
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=out)
    printed = out.getvalue()
    assert "锅炉分场第三季度业务招待费" in printed and "content changed" in printed
    assert f"disclosure.revision {revision.pk}" in printed


def test_a_withdrawal_reason_altered_with_raw_sql_is_named(
    org: Org, history: dict[str, Disclosure]
):
    raw(
        "UPDATE disclosure_disclosure SET withdrawal_reason = %s WHERE id = %s",
        ["另有原因", history["gone"].pk],
    )
    [problem] = ledger_verify()
    assert problem.kind == ProblemKind.CONTENT_CHANGED
    assert (problem.sequence, problem.record_type) == (5, RecordType.WITHDRAWAL)
    assert problem.title == "将被撤回的公开事项"


def test_the_publisher_of_a_revision_rewritten_with_raw_sql_is_caught(
    org: Org, history: dict[str, Disclosure]
):
    raw(
        "UPDATE disclosure_revision SET published_by_id = %s WHERE disclosure_id = %s",
        [org["employee"].pk, history["nil"].pk],
    )
    [problem] = ledger_verify()
    assert (problem.kind, problem.sequence) == (ProblemKind.CONTENT_CHANGED, 3)


def test_an_entry_edited_by_a_superuser_is_caught(
    org: Org, history: dict[str, Disclosure], superuser_powers: None
):
    target = chain()[1]
    raw("UPDATE ledger_ledgerentry SET content_hash = %s WHERE id = %s", ["e" * 64, target.pk])
    problems = ledger_verify()
    assert kinds(problems) == [ProblemKind.ENTRY_ALTERED, ProblemKind.CONTENT_CHANGED]
    assert {p.sequence for p in problems} == {2}


def test_rehashing_an_altered_entry_breaks_the_link_to_the_next(
    org: Org, history: dict[str, Disclosure], superuser_powers: None
):
    """Altering a revision and re-sealing its entry is caught one entry later."""
    revision = Revision.objects.get(disclosure=history["first"], number=1)
    raw("UPDATE disclosure_revision SET title = %s WHERE id = %s", ["改过的标题", revision.pk])
    forged = chain()[0]
    reread = Revision.objects.select_related(
        "disclosure__unit", "disclosure__entry", "published_by"
    ).get(pk=revision.pk)
    forged.content_hash = canonical.content_hash(canonical.revision_content_v2(reread, []))
    forged.entry_hash = forged.computed_hash()
    raw(
        "UPDATE ledger_ledgerentry SET content_hash = %s, entry_hash = %s WHERE id = %s",
        [forged.content_hash, forged.entry_hash, forged.pk],
    )
    problems = ledger_verify()
    assert kinds(problems) == [ProblemKind.CHAIN_BROKEN]
    assert problems[0].sequence == 2


def test_rewriting_every_later_hash_is_caught_by_a_head_written_down_earlier(
    org: Org, history: dict[str, Disclosure], superuser_powers: None
):
    written_down = chain()[-1]
    revision = Revision.objects.get(disclosure=history["first"], number=1)
    raw("UPDATE disclosure_revision SET title = %s WHERE id = %s", ["改过的标题", revision.pk])
    # Re-seal the whole chain from entry 1 on, and the head row too.
    records = {}
    for r in Revision.objects.select_related(
        "disclosure__unit", "disclosure__entry", "published_by"
    ):
        records[(RecordType.REVISION, r.pk)] = canonical.revision_content_v2(r, [])
    records[(RecordType.WITHDRAWAL, history["gone"].pk)] = canonical.withdrawal_content(
        Disclosure.objects.get(pk=history["gone"].pk)
    )
    previous = canonical.GENESIS_HASH
    for entry in chain():
        entry.prev_hash = previous
        entry.content_hash = canonical.content_hash(records[(entry.record_type, entry.record_id)])
        entry.entry_hash = entry.computed_hash()
        raw(
            "UPDATE ledger_ledgerentry SET prev_hash = %s, content_hash = %s, entry_hash = %s "
            "WHERE id = %s",
            [entry.prev_hash, entry.content_hash, entry.entry_hash, entry.pk],
        )
        previous = entry.entry_hash
    raw("UPDATE ledger_ledgerhead SET entry_hash = %s", [previous])

    assert ledger_verify() == []  # the chain alone is consistent again …
    written = (written_down.sequence, written_down.entry_hash)
    problems = ledger_verify(expected_heads=[written])
    assert kinds(problems) == [ProblemKind.HEAD_REWRITTEN]  # … but not with what was seen
    with pytest.raises(CommandError):
        call_command("verify_ledger", f"--head={written[0]}:{written[1]}", stdout=StringIO())


def test_a_published_revision_deleted_with_raw_sql_is_named(
    org: Org, history: dict[str, Disclosure]
):
    superseded = Revision.objects.get(disclosure=history["first"], number=1)
    raw("DELETE FROM disclosure_revision WHERE id = %s", [superseded.pk])
    [problem] = ledger_verify()
    assert (problem.kind, problem.sequence, problem.record_id) == (
        ProblemKind.RECORD_MISSING,
        1,
        superseded.pk,
    )
    assert problem.title == "锅炉分场第三季度业务招待费"


def test_an_entry_moved_to_another_disclosure_is_caught(
    org: Org, history: dict[str, Disclosure], superuser_powers: None
):
    moved = chain()[0]
    raw(
        "UPDATE ledger_ledgerentry SET disclosure_id = %s WHERE id = %s",
        [history["nil"].pk, moved.pk],
    )
    [problem] = ledger_verify()
    assert (problem.kind, problem.sequence) == (ProblemKind.WRONG_DISCLOSURE, 1)


def test_a_deleted_entry_is_missing_and_its_record_unrecorded(
    org: Org, history: dict[str, Disclosure], superuser_powers: None
):
    third = chain()[2]
    raw("DELETE FROM ledger_ledgerentry WHERE id = %s", [third.pk])
    problems = ledger_verify()
    assert kinds(problems) == [ProblemKind.ENTRY_MISSING, ProblemKind.NOT_RECORDED]
    assert problems[0].sequence == 4
    assert (problems[1].record_type, problems[1].record_id) == (
        RecordType.REVISION,
        third.record_id,
    )
    assert problems[1].title == history["nil"].title


def test_entries_cut_off_the_end_are_reported(
    org: Org, history: dict[str, Disclosure], superuser_powers: None
):
    raw("DELETE FROM ledger_ledgerentry WHERE sequence >= %s", [4])
    problems = ledger_verify()
    assert kinds(problems) == [
        ProblemKind.ENTRY_MISSING,
        ProblemKind.NOT_RECORDED,
        ProblemKind.NOT_RECORDED,
    ]
    assert "#5" in problems[0].detail and "#3" in problems[0].detail


def test_an_entry_added_past_the_head_is_reported(org: Org, history: dict[str, Disclosure]):
    last = chain()[-1]
    LedgerEntry.objects.create(
        sequence=6,
        record_type=RecordType.REVISION,
        record_id=999_999,
        event=Event.PUBLISH,
        disclosure_id=last.disclosure_id,
        content_hash="a" * 64,
        prev_hash=last.entry_hash,
        entry_hash="b" * 64,
        recorded_at=last.recorded_at,
    )
    assert kinds(ledger_verify()) == [ProblemKind.HEAD_MISMATCH]


def test_published_records_missing_from_the_ledger_are_named_and_backfilled(
    org: Org, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(
        "gongkai.disclosure.publication.ledger_record_publication", lambda **kwargs: None
    )
    before = publish(org, title="账本之前发布的")
    withdraw(org, before)
    monkeypatch.undo()
    problems = ledger_verify()
    assert kinds(problems) == [ProblemKind.NOT_RECORDED, ProblemKind.NOT_RECORDED]
    assert {p.record_type for p in problems} == {RecordType.REVISION, RecordType.WITHDRAWAL}
    assert all(p.title == "账本之前发布的" for p in problems)

    backfill = importlib.import_module("gongkai.ledger.migrations.0003_record_earlier_publications")
    backfill.record(apps, None)
    assert [e.event for e in chain()] == ["publish", "withdraw"]
    assert ledger_verify() == []
    publish(org, title="之后发布的")
    assert ledger_verify() == []


def test_verify_ledger_summary_on_an_empty_ledger(db):
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert out.getvalue().strip() == "0 entries, chain intact, head -"


def test_verify_ledger_checks_written_heads_and_refuses_malformed_ones(
    org: Org, history: dict[str, Disclosure]
):
    second = chain()[1]
    out = StringIO()
    call_command("verify_ledger", "--head", f"#2:{second.entry_hash.upper()}", stdout=out)
    assert "chain intact" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("verify_ledger", "--head", f"2:{'0' * 64}", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("verify_ledger", "--head", f"99:{second.entry_hash}", stdout=StringIO())
    for malformed in ("2", f"0:{second.entry_hash}", "2:abc", f"x:{second.entry_hash}"):
        with pytest.raises(CommandError, match="SEQUENCE:HASH"):
            call_command("verify_ledger", "--head", malformed, stdout=StringIO())


def test_verification_walks_in_batches(org: Org, history: dict[str, Disclosure]):
    assert ledger_verify(batch_size=2) == []
    raw(
        "UPDATE disclosure_revision SET title = %s WHERE disclosure_id = %s",
        ["改", history["nil"].pk],
    )
    assert [p.sequence for p in ledger_verify(batch_size=2)] == [3]


# --- pages ---------------------------------------------------------------------------------


@pytest.fixture
def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_a_reader_sees_the_disclosures_entries_verifying(
    org: Org, english: Client, history: dict[str, Disclosure]
):
    english.force_login(org["employee"])
    response = english.get(reverse("ledger:disclosure", args=[history["first"].pk]))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(e.sequence, problems) for e, problems, _leaf in rows] == [(1, []), (2, [])]
    body = response.content.decode()
    assert rows[1][0].entry_hash in body and rows[1][0].prev_hash in body
    assert "Verifies" in body and "Does not verify" not in body


def test_the_page_shows_an_entry_that_no_longer_verifies(
    org: Org, english: Client, history: dict[str, Disclosure]
):
    raw(
        "UPDATE disclosure_revision SET result = %s WHERE disclosure_id = %s AND number = 1",
        ["<p>改</p>", history["first"].pk],
    )
    english.force_login(org["employee"])
    response = english.get(reverse("ledger:disclosure", args=[history["first"].pk]))
    rows = response.context["rows"]
    assert [kinds(problems) for _e, problems, _leaf in rows] == [
        [ProblemKind.CONTENT_CHANGED],
        [],
    ]
    assert "Does not verify" in response.content.decode()


def test_the_page_warns_of_revisions_missing_from_the_ledger(
    org: Org, english: Client, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(
        "gongkai.disclosure.publication.ledger_record_publication", lambda **kwargs: None
    )
    disclosure = publish(org)
    english.force_login(org["employee"])
    response = english.get(reverse("ledger:disclosure", args=[disclosure.pk]))
    assert kinds(response.context["unrecorded"]) == [ProblemKind.NOT_RECORDED]
    assert "Published but not in the ledger" in response.content.decode()


def test_entries_of_an_unreadable_disclosure_are_not_found(org: Org, client: Client):
    internal = publish(org)
    public = published_disclosure(unit=org.turbine, scope=Scope.PUBLIC, title="公开的")
    url = reverse("ledger:disclosure", args=[internal.pk])
    assert client.get(url).status_code == 404  # anonymous: internal item
    assert client.get(reverse("ledger:disclosure", args=[public.pk])).status_code == 200
    client.force_login(User.objects.get(employee_no="turbine_worker"))
    assert client.get(url).status_code == 404  # another department's internal item
    assert client.get(reverse("ledger:disclosure", args=[999_999])).status_code == 404
    client.force_login(org["outsider"])
    assert client.get(url).status_code == 404  # another company
    assert client.get(reverse("ledger:disclosure", args=[public.pk])).status_code == 200


def test_a_draft_has_no_entries_and_only_its_drafters_see_the_page(org: Org, english: Client):
    draft = disclosure_create(
        actor=org["union"],
        unit=org.boiler,
        entry=CatalogEntry.objects.get(code="entertainment"),
        title="草稿",
        period="2026-Q3",
    )
    url = reverse("ledger:disclosure", args=[draft.pk])
    english.force_login(org["employee"])
    assert english.get(url).status_code == 404
    english.force_login(org["union"])
    response = english.get(url)
    assert response.status_code == 200
    assert "has not been published yet" in response.content.decode()


def test_the_disclosure_page_costs_a_fixed_number_of_queries(
    org: Org, client: Client, history: dict[str, Disclosure], django_assert_max_num_queries
):
    client.force_login(org["employee"])
    url = reverse("ledger:disclosure", args=[history["first"].pk])
    client.get(url)
    # 14, the files of the page's revisions, and the newest checkpoint (its leaves' proofs)
    with django_assert_max_num_queries(16):
        assert client.get(url).status_code == 200


def test_the_head_page_shows_the_last_entry(org: Org, english: Client, history):
    english.force_login(org["employee"])
    response = english.get(reverse("ledger:head"))
    assert response.status_code == 200
    last = chain()[-1]
    assert response.context["last"] == last
    assert f"5:{last.entry_hash}" in response.content.decode()


def test_the_head_page_of_an_empty_ledger(org: Org, english: Client):
    english.force_login(org["employee"])
    response = english.get(reverse("ledger:head"))
    assert response.context["last"] is None
    assert "the ledger is empty" in response.content.decode()


def test_the_head_page_needs_a_login(client: Client, db):
    response = client.get(reverse("ledger:head"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_written_down_head_is_checked_on_the_page(
    org: Org, english: Client, history: dict[str, Disclosure], superuser_powers: None
):
    english.force_login(org["rep"])
    second = chain()[1]
    url = reverse("ledger:head")
    response = english.get(url, {"sequence": "2", "entry_hash": f" {second.entry_hash.upper()} "})
    assert response.context["check"] == "match"
    assert (
        english.get(url, {"sequence": "9", "entry_hash": second.entry_hash}).context["check"]
        == "missing"
    )
    raw("UPDATE ledger_ledgerentry SET entry_hash = %s WHERE id = %s", ["d" * 64, second.pk])
    response = english.get(url, {"sequence": "2", "entry_hash": second.entry_hash})
    assert response.context["check"] == "differs"
    assert "has been rewritten" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"sequence": "0", "entry_hash": "a" * 64},
        {"sequence": "-3", "entry_hash": "a" * 64},
        {"sequence": "x", "entry_hash": "a" * 64},
        {"sequence": "1" * 25, "entry_hash": "a" * 64},
        {"sequence": "1", "entry_hash": "g" * 64},
        {"sequence": "1", "entry_hash": "a" * 63},
        {"sequence": "1"},
    ],
)
def test_bad_head_checks_are_refused_politely(org: Org, client: Client, params: dict):
    client.force_login(org["employee"])
    response = client.get(reverse("ledger:head"), params)
    assert response.status_code == 200
    assert response.context["check"] is None and response.context["form"].errors


# --- concurrency (PostgreSQL: real threads, one connection each) ---------------------------


@pytest.fixture
def catalog(transactional_db) -> None:
    """The seeded catalog, which an earlier transactional test's flush may have emptied."""
    load_catalog(Category, CatalogEntry, CatalogRule)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_publications_never_fork_the_chain(catalog: None, org: Org):
    entry = CatalogEntry.objects.get(code="entertainment")
    threads_n, per_thread = 6, 3
    approved = []
    for i in range(threads_n * per_thread):
        d = disclosure_create(
            actor=org["union"],
            unit=org.boiler,
            entry=entry,
            title=f"并发{i}",
            period=f"{2022 + i // 4}-Q{i % 4 + 1}",  # one disclosure per period
            procedure="<p>程序</p>",
            result="<p>结果</p>",
        )
        disclosure_transition(actor=org["union"], disclosure=d, transition=Transition.SUBMIT)
        disclosure_transition(actor=org["depthead"], disclosure=d, transition=Transition.APPROVE)
        approved.append(d)
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def work(mine: list[Disclosure]) -> None:
        try:
            actor = User.objects.get(employee_no="union")
            barrier.wait()
            for d in mine:
                disclosure_transition(actor=actor, disclosure=d, transition=Transition.PUBLISH)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(approved[i::threads_n],)) for i in range(threads_n)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    entries = chain()
    assert [e.sequence for e in entries] == list(range(1, threads_n * per_thread + 1))
    assert len({e.prev_hash for e in entries}) == len(entries)
    assert {e.disclosure_id for e in entries} == {d.pk for d in approved}
    assert ledger_verify() == []


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_appends_on_an_empty_ledger_create_one_head(catalog: None, org: Org):
    disclosure = publish(org)
    LedgerHead.objects.all().delete()
    threads_n = 6
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                ledger_append(
                    record_type=RecordType.REVISION,
                    record_id=10_000 + n,
                    event=Event.PUBLISH,
                    disclosure_id=disclosure.pk,
                    content={"n": n},
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert [e.sequence for e in chain()] == list(range(1, threads_n + 2))
    head = LedgerHead.objects.get()
    assert (head.sequence, head.entry_hash) == (threads_n + 1, chain()[-1].entry_hash)
