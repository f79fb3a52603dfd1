"""Boards (公开栏): linked visibility, filters, pagination, tombstones, the satisfaction
barometer, ratings, read receipts, feeds, the public page, caching and query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.disclosure import board_cache, boards
from gongkai.disclosure.engagement import rating_submit, rating_summary, reads_for, receipt_record
from gongkai.disclosure.models import (
    CatalogEntry,
    Disclosure,
    DisclosureStatus,
    Rating,
    ReadReceipt,
    Revision,
    Scope,
)
from gongkai.disclosure.permissions import readable_disclosures_q
from gongkai.disclosure.services import (
    Transition,
    attestation_file,
    disclosure_transition,
    disclosure_update,
)
from gongkai.org.models import OrgUnit
from tests.conftest import PERSONAS, Org
from tests.factories import approve_through, published_disclosure

ALL_BOILER = {"TEAM-INTERNAL", "TEAM-PUBLIC", "DEPT-INTERNAL", "COMPANY-INTERNAL", "COMPANY-PUBLIC"}
MARKERS = ALL_BOILER | {"TURBINE-INTERNAL", "OTHER-PUBLIC"}


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Board bodies cached as with a shared cache (LocMem alone turns caching off)."""
    settings.BOARDS_CACHE = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def items(org: Org) -> dict[str, Disclosure]:
    """One item per level and scope along the boiler team's chain, plus others'."""
    return {
        "TEAM-INTERNAL": published_disclosure(
            unit=org.boiler_team, entry_code="team-bonus", period="2026-10", title="TEAM-INTERNAL"
        ),
        "TEAM-PUBLIC": published_disclosure(
            unit=org.boiler_team,
            entry_code="attendance",
            period="2026-09",
            scope=Scope.PUBLIC,
            title="TEAM-PUBLIC",
            result="<p>PUBLIC-RESULT-TEXT</p>",
        ),
        "DEPT-INTERNAL": published_disclosure(
            unit=org.boiler, entry_code="pay", period="2026-10", title="DEPT-INTERNAL"
        ),
        "COMPANY-INTERNAL": published_disclosure(
            unit=org.company, entry_code="entertainment", period="2026-Q3", title="COMPANY-INTERNAL"
        ),
        "COMPANY-PUBLIC": published_disclosure(
            unit=org.company,
            entry_code="recruitment",
            event_date=date(2026, 10, 8),
            title="COMPANY-PUBLIC",
        ),
        "TURBINE-INTERNAL": published_disclosure(
            unit=org.turbine_team,
            entry_code="team-bonus",
            period="2026-10",
            title="TURBINE-INTERNAL",
        ),
    }


def public_item(o: Org) -> Disclosure:
    """A published public item of the company (recruitment is public by default)."""
    return published_disclosure(
        unit=o.company, entry_code="recruitment", event_date=date(2026, 10, 8), title="招聘公告"
    )


def shown(response) -> set[str]:
    body = response.content.decode()
    return {marker for marker in MARKERS if marker in body}


def board_url(unit: OrgUnit, **params: str) -> str:
    url = reverse("boards:board", args=[unit.code])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def bulk_items(
    org: Org, unit: OrgUnit, n: int, *, code: str = "team-bonus", scope: str = "internal"
):
    """``n`` published items written in bulk (the workflow is tested elsewhere)."""
    entry = CatalogEntry.objects.get(code=code)
    now = timezone.now()
    rows = Disclosure.objects.bulk_create(
        Disclosure(
            unit=unit,
            entry=entry,
            period=f"2026-{i % 10 + 1:02d}",
            title=f"BULK-{i:03d}",
            status=DisclosureStatus.PUBLISHED,
            author=org["union"],
            scope=scope,
            first_published_at=now - timedelta(minutes=i),
        )
        for i in range(n)
    )
    revisions = Revision.objects.bulk_create(
        Revision(
            disclosure=d,
            number=1,
            title=d.title,
            scope=scope,
            published_at=d.first_published_at,
            published_by=org["union"],
        )
        for d in rows
    )
    for d, r in zip(rows, revisions, strict=True):
        d.published_revision = r
    Disclosure.objects.bulk_update(rows, ["published_revision"])
    board_cache.board_changed(unit.pk)
    return rows


# --- Who sees what -----------------------------------------------------------------------------

TEAM_BOARD_VIEW = {
    **dict.fromkeys(PERSONAS, ALL_BOILER),
    "turbine_worker": {"TEAM-PUBLIC", "COMPANY-INTERNAL", "COMPANY-PUBLIC"},
}


def test_each_persona_sees_the_linked_boards_it_may_read(org: Org, client: Client, items):
    for who, expected in TEAM_BOARD_VIEW.items():
        client.force_login(org[who])
        response = client.get(board_url(org.boiler_team))
        assert response.status_code == 200, who
        assert shown(response) == expected, who


def test_the_board_shows_exactly_what_the_policy_lets_each_reader_read(
    org: Org, client: Client, items
):
    chain = [org.company.pk, org.boiler.pk, org.boiler_team.pk]
    for who in [*PERSONAS, "turbine_worker"]:
        user = User.objects.get(pk=org[who].pk)
        readable = Disclosure.objects.filter(
            readable_disclosures_q(user), unit_id__in=chain, published_revision__isnull=False
        )
        client.force_login(user)
        assert shown(client.get(board_url(org.boiler_team))) == {d.title for d in readable}, who


def test_another_department_sees_only_public_items_of_a_team_not_theirs(
    org: Org, client: Client, items
):
    client.force_login(org["turbine_worker"])
    body = client.get(board_url(org.boiler_team)).content.decode()
    assert "TEAM-PUBLIC" in body
    assert "TEAM-INTERNAL" not in body and "DEPT-INTERNAL" not in body


def test_a_team_member_does_not_see_another_teams_internal_items(org: Org, client: Client, items):
    client.force_login(org["employee"])
    assert shown(client.get(board_url(org.turbine_team))) == {"COMPANY-INTERNAL", "COMPANY-PUBLIC"}


def test_another_company_gets_403_and_anonymous_goes_to_login(org: Org, client: Client, items):
    response = client.get(board_url(org.boiler_team))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    client.force_login(org["outsider"])
    response = client.get(board_url(org.boiler_team))
    assert response.status_code == 403
    assert "TEAM-PUBLIC" not in response.content.decode()


def test_an_unknown_board_code_is_the_404_page(org: Org, client: Client):
    client.force_login(org["employee"])
    response = client.get("/boards/no-such-unit/")
    assert response.status_code == 404
    assert "这个页面不存在" in response.content.decode()


def test_a_board_links_the_boards_above_and_below(org: Org, client: Client):
    client.force_login(org["employee"])
    body = client.get(board_url(org.boiler)).content.decode()
    for unit in (org.company, org.boiler_team):
        assert board_url(unit) in body
    assert board_url(org.turbine_team) not in body


def test_an_empty_board_says_so(org: Org, client: Client):
    english(client).force_login(org["employee"])
    body = client.get(board_url(org.boiler_team)).content.decode()
    assert "Nothing has been published on this board yet." in body
    assert "No ratings yet." in body


# --- Withdrawals and corrections ------------------------------------------------------------


def withdraw(org: Org, item: Disclosure, reason: str = "REASON-重复发布") -> Disclosure:
    return disclosure_transition(
        actor=org["union"], disclosure=item, transition=Transition.WITHDRAW, reason=reason
    )


def correct(org: Org, item: Disclosure, **fields) -> Disclosure:
    """Start a correction and change the working copy (not yet published)."""
    item = disclosure_transition(
        actor=org["union"], disclosure=item, transition=Transition.CORRECT, reason="更正金额"
    )
    return disclosure_update(actor=org["union"], disclosure=item, **fields)


def republish(org: Org, item: Disclosure) -> Disclosure:
    """Submit the correction, approve it at every level of the chain, and publish it."""
    item = disclosure_transition(actor=org["union"], disclosure=item, transition=Transition.SUBMIT)
    item = approve_through(item)
    return disclosure_transition(actor=org["union"], disclosure=item, transition=Transition.PUBLISH)


def test_a_withdrawn_item_stays_as_a_tombstone_with_its_reason(org: Org, client: Client, items):
    withdraw(org, items["TEAM-INTERNAL"])
    english(client).force_login(org["employee"])
    body = client.get(board_url(org.boiler_team)).content.decode()
    assert "TEAM-INTERNAL" in body
    assert "REASON-重复发布" in body
    assert "Withdrawn" in body


def test_a_correction_in_progress_shows_the_published_revision(org: Org, client: Client, items):
    correct(org, items["TEAM-INTERNAL"], title="UNPUBLISHED-DRAFT-TITLE")
    client.force_login(org["employee"])
    body = client.get(board_url(org.boiler_team)).content.decode()
    assert "TEAM-INTERNAL" in body
    assert "UNPUBLISHED-DRAFT-TITLE" not in body


def test_widening_the_scope_in_a_correction_publishes_nothing_early(
    org: Org, client: Client, items
):
    item = correct(org, items["TEAM-INTERNAL"], scope=Scope.PUBLIC)
    assert "TEAM-INTERNAL" not in client.get(reverse("public:index")).content.decode()
    assert client.get(reverse("public:detail", args=[item.pk])).status_code == 404
    feed = client.get(reverse("boards:feed", args=[org.boiler_team.code])).content.decode()
    assert "TEAM-INTERNAL" not in feed
    client.force_login(org["turbine_worker"])
    assert "TEAM-INTERNAL" not in client.get(board_url(org.boiler_team)).content.decode()
    republish(org, item)
    assert "TEAM-INTERNAL" in client.get(board_url(org.boiler_team)).content.decode()
    client.logout()
    assert client.get(reverse("public:detail", args=[item.pk])).status_code == 200


# --- Filters and pagination ---------------------------------------------------------------------


def test_filter_by_category_period_and_status(org: Org, client: Client, items):
    withdraw(org, items["TEAM-PUBLIC"])
    corrected = republish(org, correct(org, items["TEAM-INTERNAL"], title="TEAM-INTERNAL v2"))
    assert corrected.published_revision.number == 2
    client.force_login(org["employee"])
    team = org.boiler_team
    # the status filter applies to the unit's items and to the units above alike
    assert shown(client.get(board_url(team, status="withdrawn"))) == {"TEAM-PUBLIC"}
    assert shown(client.get(board_url(team, status="corrected"))) == {"TEAM-INTERNAL"}
    assert shown(client.get(board_url(team, status="published"))) == ALL_BOILER - {"TEAM-PUBLIC"}
    # the category filter: 三费 holds the company's entertainment expenses only
    assert shown(client.get(board_url(team, category="sanfei"))) == {"COMPANY-INTERNAL"}
    assert shown(client.get(board_url(team, category="sanzhao"))) == {"COMPANY-PUBLIC"}
    # a quarter holds its months and the events in it; a month holds only itself
    assert shown(client.get(board_url(team, period="2026-Q3"))) == {
        "TEAM-PUBLIC",
        "COMPANY-INTERNAL",
    }
    assert shown(client.get(board_url(team, period="2026-10"))) == {
        "TEAM-INTERNAL",
        "DEPT-INTERNAL",
        "COMPANY-PUBLIC",
    }
    assert shown(client.get(board_url(team, period="2026"))) == ALL_BOILER
    assert shown(client.get(board_url(team, period="2025"))) == set()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "2026-13"}, "Give the period as"),
        ({"period": "last-year"}, "Give the period as"),
        ({"status": "deleted"}, "Select a valid choice"),
        ({"category": "no-such-category"}, "Select a valid choice"),
        ({"year": "1999"}, "Choose a year from 2000"),
        ({"year": "2999"}, "Choose a year from 2000"),
        ({"year": "abc"}, "Enter a whole number"),
    ],
)
def test_bad_filters_are_explained_with_a_400(org: Org, client: Client, items, params, message):
    english(client).force_login(org["employee"])
    response = client.get(board_url(org.boiler_team, **params))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_board_is_paginated_newest_first(org: Org, client: Client):
    bulk_items(org, org.boiler_team, 30)
    client.force_login(org["employee"])
    first = client.get(board_url(org.boiler_team)).content.decode()
    assert "BULK-000" in first and "BULK-024" in first and "BULK-025" not in first
    assert "?page=2" in first
    second = client.get(board_url(org.boiler_team, page="2")).content.decode()
    assert "BULK-025" in second and "BULK-029" in second and "BULK-000" not in second
    # nonsense page numbers fall back to a real page
    assert "BULK-000" in client.get(board_url(org.boiler_team, page="abc")).content.decode()
    assert "BULK-029" in client.get(board_url(org.boiler_team, page="999")).content.decode()


def test_pagination_links_keep_the_filters_and_nothing_else(org: Org, client: Client):
    bulk_items(org, org.boiler_team, 30)
    client.force_login(org["employee"])
    body = client.get(board_url(org.boiler_team, status="published", junk="x")).content.decode()
    assert "?status=published&amp;page=2" in body
    assert "junk" not in body.split('<main id="main">')[1]  # the header's language form keeps it


def test_the_units_above_show_their_newest_items_and_link_to_the_rest(org: Org, client: Client):
    bulk_items(org, org.boiler, 7, code="pay")
    client.force_login(org["employee"])
    body = client.get(board_url(org.boiler_team)).content.decode()
    assert [f"BULK-00{i}" in body for i in range(7)] == [True] * 5 + [False] * 2
    assert board_url(org.boiler) in body


# --- Query counts -------------------------------------------------------------------------------


def board_queries(org: Org, client: Client, n: int, django_assert_num_queries, expected: int):
    bulk_items(org, org.boiler_team, n)
    bulk_items(org, org.boiler, n, code="pay")
    Rating.objects.bulk_create(
        Rating(disclosure=d, user=org["rep"], value="satisfied")
        for d in Disclosure.objects.filter(unit=org.boiler_team)
    )
    cache.clear()
    client.force_login(org["employee"])
    with django_assert_num_queries(expected):
        assert client.get(board_url(org.boiler_team)).status_code == 200


# Always: session, user, the board's chain (with what else its body depends on), the reader's
# roles, their unit and its ancestors (for their company), the header's notification count,
# and the latest suggestions sent to the unit (the voice section is rendered per request).
CACHED = 8
# When the body is not cached, also: categories, the barometer, the units below, the count,
# the page, the newest items of each unit above (two levels), the shown items' ratings, the
# catalog rules, the compliance aggregate and the working days its deadlines move by; and the
# first time, the company's reporting hotline (then cached).
UNCACHED = CACHED + 12


@pytest.mark.parametrize("n", [5, 50])
def test_a_board_takes_a_fixed_number_of_queries(
    org: Org, client: Client, django_assert_num_queries, n: int
):
    board_queries(org, client, n, django_assert_num_queries, UNCACHED)
    with django_assert_num_queries(CACHED):
        assert client.get(board_url(org.boiler_team)).status_code == 200


# --- Caching: never stale, never another reader's view ---------------------------------------


def test_a_new_publication_shows_at_once_on_its_board_and_the_boards_below(
    org: Org, client: Client, items
):
    client.force_login(org["employee"])
    client.get(board_url(org.boiler_team))
    client.get(board_url(org.boiler))
    published_disclosure(unit=org.company, entry_code="welfare", period="2026-Q3", title="NEW-CO")
    assert "NEW-CO" in client.get(board_url(org.boiler_team)).content.decode()
    assert "NEW-CO" in client.get(board_url(org.boiler)).content.decode()
    withdraw(org, items["TEAM-INTERNAL"], reason="WITHDRAWN-NOW")
    assert "WITHDRAWN-NOW" in client.get(board_url(org.boiler_team)).content.decode()


def test_the_cached_board_is_never_shown_to_another_visibility_class(
    org: Org, client: Client, items
):
    for first, second in (("employee", "turbine_worker"), ("turbine_worker", "employee")):
        cache.clear()
        client.force_login(org[first])
        assert shown(client.get(board_url(org.boiler_team))) == TEAM_BOARD_VIEW[first]
        client.force_login(org[second])
        assert shown(client.get(board_url(org.boiler_team))) == TEAM_BOARD_VIEW[second]


def test_readers_of_the_same_class_share_one_rendering(
    org: Org, client: Client, items, monkeypatch
):
    renders: list[int] = []
    original = boards.render_body
    monkeypatch.setattr(boards, "render_body", lambda b: renders.append(1) or original(b))
    for who in ("employee", "rep", "turbine_worker", "employee"):
        client.force_login(org[who])
        client.get(board_url(org.boiler_team))
    assert len(renders) == 2  # the team's members, then the other department's reader
    client.get(board_url(org.boiler_team, page="1"))
    assert len(renders) == 3  # other parameters are another rendering


def test_a_per_process_cache_is_never_trusted_with_boards(
    org: Org, client: Client, settings, monkeypatch
):
    # LocMem is per process: with several workers, one would keep a stale board. Unless the
    # settings say otherwise, bodies are then rendered every time.
    del settings.BOARDS_CACHE
    assert not boards.caching()
    client.force_login(org["employee"])
    client.get(board_url(org.boiler_team))
    bulk = bulk_items(org, org.boiler_team, 1)  # no hook: only a fresh rendering shows it
    cache.clear()  # (as another worker's cache would be: without the token's change)
    assert bulk[0].title in client.get(board_url(org.boiler_team)).content.decode()
    monkeypatch.setattr(boards, "caches", {"default": object()})  # e.g. Redis: shared
    assert boards.caching()


def test_the_language_and_the_date_are_part_of_the_cache_key(org: Org):
    chain = list(OrgUnit.objects.ancestors_of(org.boiler_team))

    def key(language: str, today: date) -> str:
        return boards.BoardRequest.build(
            unit=org.boiler_team,
            chain=chain,
            user=org["employee"],
            query={},
            language=language,
            today=today,
        ).cache_key()

    day = date(2026, 11, 24)
    assert key("en", day) == key("en", day)
    assert key("en", day) != key("zh-hans", day)
    assert key("en", day) != key("en", day + timedelta(days=1))  # "not yet due" → "overdue"


def test_an_evicted_version_token_cannot_bring_back_an_old_board(org: Org, client: Client):
    client.force_login(org["employee"])
    client.get(board_url(org.boiler_team))
    # an item written behind the services' back, then the token evicted from the cache
    rows = bulk_items(org, org.boiler_team, 1)
    cache.delete(board_cache.version_key(org.boiler_team.pk))
    assert rows[0].title in client.get(board_url(org.boiler_team)).content.decode()


def test_invalidation_is_repeated_after_commit(org: Org, django_capture_on_commit_callbacks):
    before = board_cache.versions([org.boiler.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        board_cache.board_changed(org.boiler.pk)
    during = board_cache.versions([org.boiler.pk])
    callbacks[0]()
    after = board_cache.versions([org.boiler.pk])
    assert len({before[0], during[0], after[0]}) == 3


def test_a_new_unit_below_and_a_renamed_unit_show_at_once(org: Org, client: Client):
    from gongkai.org.services import unit_create, unit_update

    client.force_login(org["employee"])
    client.get(board_url(org.boiler))
    unit_create(actor=None, code="rd-boiler-2", name="NEW-TEAM", kind="team", parent=org.boiler)
    assert "NEW-TEAM" in client.get(board_url(org.boiler)).content.decode()
    unit_update(
        actor=org["union"], unit=org.company, name="RENAMED-COMPANY", order=0, is_active=True
    )
    assert "RENAMED-COMPANY" in client.get(board_url(org.boiler)).content.decode()


def test_a_catalog_change_refreshes_the_compliance_table(org: Org, client: Client):
    english(client).force_login(org["employee"])
    assert "班组奖金分配" in client.get(board_url(org.boiler_team)).content.decode()
    CatalogEntry.objects.filter(code="team-bonus").update(
        is_active=False, updated_at=timezone.now()
    )
    assert "班组奖金分配" not in client.get(board_url(org.boiler_team)).content.decode()


# --- The satisfaction barometer and ratings -----------------------------------------------------


def rate(org: Org, item: Disclosure, values: dict[str, str]) -> None:
    for who, value in values.items():
        rating_submit(actor=org[who], disclosure=item, value=value, comment="")


def test_the_barometer_shows_counts_and_percentages(org: Org, client: Client, items):
    client.force_login(org["employee"])
    client.get(board_url(org.boiler_team))  # cached before the ratings arrive
    rate(org, items["TEAM-INTERNAL"], {"employee": "satisfied", "rep": "satisfied"})
    rate(org, items["TEAM-PUBLIC"], {"teamlead": "basic", "turbine_worker": "dissatisfied"})
    tally = boards.barometer(org.boiler_team, internal=True)
    assert (tally.satisfied, tally.basic, tally.dissatisfied, tally.total) == (2, 1, 1, 4)
    assert (tally.satisfied_pct, tally.basic_pct, tally.dissatisfied_pct) == (50, 25, 25)
    assert tally.content_pct == 75
    body = english(client).get(board_url(org.boiler_team)).content.decode()
    assert "<strong>75%</strong> satisfied or basically satisfied, from 4 ratings." in body
    assert "Satisfied 2 · basically 0 · dissatisfied 0" in body  # the team's internal item


def test_the_barometer_of_a_public_only_reader_counts_public_items_only(
    org: Org, client: Client, items
):
    rate(org, items["TEAM-INTERNAL"], {"employee": "satisfied", "rep": "satisfied"})
    rate(org, items["TEAM-PUBLIC"], {"turbine_worker": "dissatisfied"})
    english(client).force_login(org["turbine_worker"])
    body = client.get(board_url(org.boiler_team)).content.decode()
    assert "<strong>0%</strong> satisfied or basically satisfied, from 1 rating." in body


def test_withdrawn_items_leave_the_barometer(org: Org, items):
    rate(org, items["TEAM-INTERNAL"], {"employee": "dissatisfied"})
    withdraw(org, items["TEAM-INTERNAL"])
    assert boards.barometer(org.boiler_team, internal=True).total == 0


def post_rating(client: Client, item: Disclosure, **data: str):
    return client.post(reverse("boards:rate", args=[item.pk]), {"value": "satisfied", **data})


def test_an_employee_rates_once_with_an_optional_comment(org: Org, client: Client, items):
    item = items["TEAM-INTERNAL"]
    english(client).force_login(org["employee"])
    response = post_rating(client, item, comment="  讲得清楚  ", next="/boards/rd-boiler-1/")
    assert response.status_code == 302 and response["Location"] == "/boards/rd-boiler-1/"
    rating = Rating.objects.get(disclosure=item, user=org["employee"])
    assert (rating.value, rating.comment) == ("satisfied", "讲得清楚")
    assert AuditEvent.objects.filter(action="disclosure.rated", target_id=str(item.pk)).count() == 1
    response = post_rating(client, item, value="dissatisfied", next="/boards/rd-boiler-1/")
    assert response.status_code == 302
    assert Rating.objects.get(disclosure=item, user=org["employee"]).value == "satisfied"
    followed = client.get(response["Location"]).content.decode()
    assert "You have already rated this disclosure" in followed


def test_the_database_refuses_a_second_rating_even_without_the_check(org: Org, items):
    from django.db import IntegrityError, transaction

    item = items["TEAM-INTERNAL"]
    Rating.objects.create(disclosure=item, user=org["employee"], value="basic")
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(disclosure=item, user=org["employee"], value="satisfied")


@pytest.mark.parametrize(
    ("who", "item"),
    [
        ("turbine_worker", "TEAM-INTERNAL"),  # another department's internal item
        ("outsider", "TEAM-PUBLIC"),  # another company
        ("outsider", "COMPANY-PUBLIC"),
    ],
)
def test_a_forbidden_rating_is_403_and_changes_nothing(org: Org, client: Client, items, who, item):
    client.force_login(org[who])
    response = post_rating(client, items[item])
    assert response.status_code == 403
    assert not Rating.objects.exists()
    assert not AuditEvent.objects.filter(action="disclosure.rated").exists()


def test_withdrawn_items_and_attestations_cannot_be_rated(org: Org, client: Client, items):
    withdraw(org, items["TEAM-INTERNAL"])
    nil = attestation_file(
        actor=org["teamlead"],
        unit=org.boiler_team,
        entry=CatalogEntry.objects.get(code="attendance"),
        reason="本月无加班",
        period="2026-10",
    )
    client.force_login(org["employee"])
    assert post_rating(client, items["TEAM-INTERNAL"]).status_code == 403
    assert post_rating(client, nil).status_code == 403
    assert not Rating.objects.exists()


def test_another_departments_employee_may_rate_a_public_item(org: Org, client: Client, items):
    client.force_login(org["turbine_worker"])
    assert post_rating(client, items["TEAM-PUBLIC"], value="basic").status_code == 302
    assert Rating.objects.get().value == "basic"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": "delighted"}, "Select a valid choice"),
        ({"value": ""}, "This field is required"),
        ({"comment": "长" * 501}, "at most 500 characters"),
    ],
)
def test_bad_rating_input_is_a_400_and_changes_nothing(
    org: Org, client: Client, items, data, message
):
    english(client).force_login(org["employee"])
    response = post_rating(client, items["TEAM-INTERNAL"], **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Rating.objects.exists()


def test_rating_needs_a_post_a_login_and_an_existing_item(org: Org, client: Client, items):
    url = reverse("boards:rate", args=[items["TEAM-INTERNAL"].pk])
    assert client.post(url, {"value": "satisfied"}).status_code == 302  # to the login page
    client.force_login(org["employee"])
    assert client.get(url).status_code == 405
    assert (
        client.post(reverse("boards:rate", args=[999_999]), {"value": "basic"}).status_code == 404
    )
    assert not Rating.objects.exists()


def test_rating_needs_the_csrf_token(org: Org, csrf_client: Client, items):
    csrf_client.force_login(org["employee"])
    assert post_rating(csrf_client, items["TEAM-INTERNAL"]).status_code == 403
    assert not Rating.objects.exists()


def test_an_offsite_next_address_is_ignored(org: Org, client: Client, items):
    client.force_login(org["employee"])
    response = post_rating(client, items["TEAM-INTERNAL"], next="https://evil.example/")
    assert response["Location"] == board_url(org.boiler_team)


def test_the_rating_include_for_the_disclosure_page(org: Org, items):
    item = items["TEAM-INTERNAL"]
    request = RequestFactory().get(f"/disclosures/{item.pk}/")
    request.user = org["employee"]
    context = {"disclosure": item, "user": org["employee"], "request": request}
    # without the summary (the page passes only the disclosure): the form and the count
    html = render_to_string("boards/_rating.html", context, request=request)
    assert reverse("boards:rate", args=[item.pk]) in html and "csrfmiddlewaretoken" in html
    rate(org, item, {"rep": "basic", "employee": "satisfied"})
    summary = rating_summary(item, org["employee"])
    assert (summary.tally.total, summary.mine.value, summary.may_rate) == (2, "satisfied", False)
    html = render_to_string("boards/_rating.html", {**context, "rating": summary}, request=request)
    assert reverse("boards:rate", args=[item.pk]) not in html  # rated already: no form
    assert rating_summary(item, org["teamlead"]).may_rate is True
    assert rating_summary(item, org["turbine_worker"]).may_rate is False


# --- Read receipts --------------------------------------------------------------------------------


def test_a_read_is_recorded_once_and_counted_for_the_unit_head(org: Org, items):
    item = items["TEAM-INTERNAL"]
    for _ in range(3):
        receipt_record(user=org["employee"], disclosure=item)
    receipt_record(user=org["rep"], disclosure=item)
    receipt_record(user=org["union"], disclosure=item)  # reads it, but is not of the team
    receipt_record(user=org["turbine_worker"], disclosure=item)  # may not read it: nothing
    assert ReadReceipt.objects.filter(disclosure=item).count() == 3
    members = User.objects.filter(unit=org.boiler_team, is_active=True).count()
    reads = reads_for(item)
    assert (reads.readers, reads.members) == (2, members)
    # a department item counts the department's whole subtree
    dept = reads_for(items["DEPT-INTERNAL"])
    assert dept.members == User.objects.filter(unit__path__startswith=org.boiler.path).count()


def test_no_receipt_for_anonymous_readers_or_unpublished_items(org: Org, items):
    from django.contrib.auth.models import AnonymousUser

    receipt_record(user=AnonymousUser(), disclosure=items["TEAM-PUBLIC"])
    withdrawn = withdraw(org, items["TEAM-INTERNAL"])
    receipt_record(user=org["employee"], disclosure=withdrawn)
    assert not ReadReceipt.objects.exists()


def test_opening_the_disclosure_page_records_the_read(org: Org, client: Client, items):
    client.force_login(org["employee"])
    for _ in range(2):
        response = client.get(reverse("disclosure:detail", args=[items["TEAM-INTERNAL"].pk]))
        assert response.status_code == 200
    assert ReadReceipt.objects.filter(user=org["employee"]).count() == 1
    # the page carries the rating block (boards/_rating.html)
    assert reverse("boards:rate", args=[items["TEAM-INTERNAL"].pk]) in response.content.decode()


# --- Feeds ---------------------------------------------------------------------------------------


def feed_titles(response) -> set[str]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return shown(response)


def test_the_board_feed_gives_anonymous_readers_public_items_only(org: Org, client: Client, items):
    url = reverse("boards:feed", args=[org.boiler_team.code])
    response = client.get(url)
    assert feed_titles(response) == {"TEAM-PUBLIC", "COMPANY-PUBLIC"}
    assert "Cookie" in response["Vary"] and "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("employee", ALL_BOILER),
        ("turbine_worker", {"TEAM-PUBLIC", "COMPANY-INTERNAL", "COMPANY-PUBLIC"}),
        ("outsider", {"TEAM-PUBLIC", "COMPANY-PUBLIC"}),
    ],
)
def test_the_board_feed_gives_signed_in_readers_what_they_may_read(
    org: Org, client: Client, items, who, expected
):
    client.force_login(org[who])
    assert feed_titles(client.get(reverse("boards:feed", args=[org.boiler_team.code]))) == expected


def test_feeds_show_withdrawals_and_404_for_unknown_boards(org: Org, client: Client, items):
    withdraw(org, items["TEAM-PUBLIC"], reason="FEED-REASON")
    body = english(client).get(reverse("boards:feed", args=[org.boiler_team.code])).content.decode()
    assert "Withdrawn: TEAM-PUBLIC" in body and "FEED-REASON" in body
    assert "PUBLIC-RESULT-TEXT" not in body
    assert client.get("/boards/no-such-unit/feed/").status_code == 404


def test_the_public_feed_holds_every_companys_public_items_only(org: Org, client: Client, items):
    published_disclosure(
        unit=org.other_company,
        entry_code="recruitment",
        event_date=date(2026, 9, 1),
        title="OTHER-PUBLIC",
    )
    assert feed_titles(client.get(reverse("public:feed"))) == {
        "TEAM-PUBLIC",
        "COMPANY-PUBLIC",
        "OTHER-PUBLIC",
    }


# --- The public page -----------------------------------------------------------------------------


def test_the_public_page_lists_public_items_without_login(org: Org, client: Client, items):
    response = client.get(reverse("public:index"))
    assert response.status_code == 200
    assert shown(response) == {"TEAM-PUBLIC", "COMPANY-PUBLIC"}


def test_a_public_item_reads_without_login_and_an_internal_one_does_not_exist(
    org: Org, client: Client, items
):
    response = client.get(reverse("public:detail", args=[items["TEAM-PUBLIC"].pk]))
    assert response.status_code == 200
    assert "PUBLIC-RESULT-TEXT" in response.content.decode()
    for hidden in ("TEAM-INTERNAL", "COMPANY-INTERNAL"):
        assert client.get(reverse("public:detail", args=[items[hidden].pk])).status_code == 404
    assert client.get(reverse("public:detail", args=[999_999])).status_code == 404
    client.force_login(org["employee"])  # signing in does not make internal items public
    assert client.get(reverse("public:detail", args=[items["TEAM-INTERNAL"].pk])).status_code == 404


def test_an_unpublished_public_draft_is_not_on_the_public_page(org: Org, client: Client):
    from gongkai.disclosure.services import disclosure_create

    draft = disclosure_create(
        actor=org["union"],
        unit=org.company,
        entry=CatalogEntry.objects.get(code="recruitment"),
        title="DRAFT-PUBLIC",
        procedure="<p>x</p>",
        result="<p>y</p>",
        event_date=date(2026, 10, 1),
    )
    assert draft.scope == Scope.PUBLIC
    assert "DRAFT-PUBLIC" not in client.get(reverse("public:index")).content.decode()
    assert client.get(reverse("public:detail", args=[draft.pk])).status_code == 404


def test_a_withdrawn_public_item_is_a_tombstone_without_content(org: Org, client: Client, items):
    withdraw(org, items["TEAM-PUBLIC"], reason="PUBLIC-WITHDRAWAL-REASON")
    body = client.get(reverse("public:detail", args=[items["TEAM-PUBLIC"].pk])).content.decode()
    assert "PUBLIC-WITHDRAWAL-REASON" in body
    assert "PUBLIC-RESULT-TEXT" not in body


def test_the_public_page_is_paginated_newest_first(org: Org, client: Client):
    bulk_items(org, org.company, 30, code="recruitment", scope=Scope.PUBLIC)
    first = client.get(reverse("public:index")).content.decode()
    assert "BULK-000" in first and "BULK-025" not in first
    assert "BULK-025" in client.get(reverse("public:index") + "?page=2").content.decode()


def test_the_board_filters_match_what_the_policy_hides(org: Org, items):
    # the board's visibility classes agree with the policy for every persona and unit
    for who in [*PERSONAS, "turbine_worker", "outsider"]:
        user = User.objects.get(pk=org[who].pk)
        for unit in (org.boiler_team, org.turbine_team, org.boiler, org.company):
            chain = list(OrgUnit.objects.ancestors_of(unit))
            internal = boards.visibility(user, chain)
            ours = set(Disclosure.objects.filter(boards.visible_q(chain, internal)))
            policy = set(
                Disclosure.objects.filter(
                    Q(readable_disclosures_q(user)),
                    unit__in=chain,
                    published_revision__isnull=False,
                )
            )
            assert ours == policy, (who, unit)
