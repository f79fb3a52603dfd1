"""Search results come newest publication first — by the date the reader sees, not by the
order the index happened to be filled in — with "most relevant" as an option."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from gongkai.disclosure.models import Disclosure
from gongkai.search import backends, selectors
from gongkai.search.selectors import SORT_NEWEST, SORT_RELEVANCE, search_disclosures
from tests.conftest import Org
from tests.factories import published_disclosure

URL = "/search/"


def at(day: int) -> datetime:
    return datetime(2026, 10, day, 9, 0, tzinfo=UTC)


@pytest.fixture
def items(org: Org) -> dict[str, Disclosure]:
    """Published out of order: the index is filled newest first here (as a backdated
    publication, an import or the demo fills it), so index ids run against the dates."""
    return {
        "late": published_disclosure(
            unit=org.boiler,
            title="锅炉分场检修材料费",
            result="<p>检修材料费 1,200 元。</p>",
            period="2026-Q3",
            published_at=at(20),
        ),
        "early": published_disclosure(
            unit=org.boiler,
            entry_code="materials",
            title="锅炉分场第三季度材料费",
            result="<p>材料费共计 900 元。</p>",
            period="2026-Q3",
            published_at=at(3),
        ),
        "middle": published_disclosure(
            unit=org.turbine,
            entry_code="materials",
            title="汽机分场第三季度公开",
            result="<p>检修用料，材料费 300 元。</p>",
            period="2026-Q3",
            published_at=at(11),
        ),
    }


def link(item: Disclosure) -> str:
    return f'href="{reverse("disclosure:detail", args=[item.pk])}"'


def found(user, query: str, **kwargs) -> list[int]:
    return [r.disclosure_id for r in search_disclosures(user, query, **kwargs).results]


def test_newest_publication_first_whatever_the_order_of_indexing(items, org: Org):
    expected = [items["late"].pk, items["middle"].pk, items["early"].pk]
    assert found(org["union"], "材料费") == expected


def test_both_plans_give_the_newest_first(items, org: Org, monkeypatch):
    expected = [items["late"].pk, items["middle"].pk, items["early"].pk]
    monkeypatch.setattr(backends, "PROBE", 1)  # the walk over the newest rows
    assert found(org["union"], "材料费") == expected


def test_pages_follow_the_dates(items, org: Org, monkeypatch):
    monkeypatch.setattr(selectors, "PER_PAGE", 2)
    first = search_disclosures(org["union"], "材料费", page=1)
    second = search_disclosures(org["union"], "材料费", page=2)
    assert [r.disclosure_id for r in first.results] == [items["late"].pk, items["middle"].pk]
    assert first.has_next
    assert [r.disclosure_id for r in second.results] == [items["early"].pk]


def test_most_relevant_first_on_request(items, org: Org):
    # "检修" twice in the late item (title and text), once in the middle one's text.
    relevant = found(org["union"], "检修", sort=SORT_RELEVANCE)
    assert relevant == [items["late"].pk, items["middle"].pk]
    title_match = found(org["union"], "第三季度", sort=SORT_RELEVANCE)
    assert set(title_match) == {items["early"].pk, items["middle"].pk}
    newest = found(org["union"], "材料费", sort=SORT_NEWEST)
    assert newest == [items["late"].pk, items["middle"].pk, items["early"].pk]
    # Relevance: "材料费" in the early item's title and text, in the others' text or title.
    by_relevance = found(org["union"], "材料费", sort=SORT_RELEVANCE)
    assert sorted(by_relevance) == sorted(newest)


def test_relevance_never_shows_what_the_reader_may_not_read(items, org: Org):
    employee = org["employee"]  # boiler team: reads the boiler's items, not the turbine's
    assert items["middle"].pk not in found(employee, "材料费", sort=SORT_RELEVANCE)
    assert found(employee, "材料费", sort=SORT_RELEVANCE) != []


def test_the_page_offers_the_order_and_keeps_it_across_pages(
    items, org: Org, client: Client, monkeypatch
):
    monkeypatch.setattr(selectors, "PER_PAGE", 2)
    client.force_login(org["union"])
    page = client.get(URL, {"q": "材料费"}).content.decode()
    assert 'name="sort"' in page
    assert page.index(link(items["late"])) < page.index(link(items["middle"]))
    relevant = client.get(URL, {"q": "材料费", "sort": SORT_RELEVANCE}).content.decode()
    assert f"sort={SORT_RELEVANCE}" in relevant  # the next page keeps the order
    assert 'value="relevance" selected' in relevant
    odd = client.get(URL, {"q": "材料费", "sort": "<script>"})
    assert odd.status_code == 200
    odd_page = odd.content.decode()
    assert odd_page.index(link(items["late"])) < odd_page.index(link(items["middle"]))
