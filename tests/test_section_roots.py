"""Each section's root address is a page of that section: a landing page, or the page a
reader of the section starts from. None answers 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import Org

ROOTS = [
    "/accounts/",
    "/boards/",
    "/catalog/",
    "/congress/",
    "/congress/votes/",
    "/disclosures/",
    "/ledger/",
    "/notifications/",
    "/org/",
    "/public/",
    "/publicity/",
    "/publicity/calendar/",
    "/report/",
    "/rules/",
    "/search/",
    "/suggestions/",
    "/supervision/",
    "/supervision/assessment/",
    "/supervision/report/",
    "/surveys/",
]


@pytest.mark.parametrize("login", ["employee", "union", "supervisor"])
def test_every_section_root_leads_to_a_page(org: Org, client: Client, login: str):
    client.force_login(org[login])
    for root in ROOTS:
        response = client.get(root, follow=True)
        assert response.status_code == 200, (login, root, response.status_code)


def test_the_roots_that_lead_on_go_where_a_reader_expects(org: Org, client: Client):
    client.force_login(org["employee"])
    year = timezone.localdate().year
    assert client.get("/boards/").url == f"/boards/{org.boiler_team.code}/"
    assert client.get("/publicity/calendar/").url == f"/publicity/calendar/{year}/"
    assert client.get("/supervision/report/").url == f"/supervision/report/{year}/"
    assert client.get("/accounts/").url == "/accounts/password/"


def test_a_visitor_is_sent_to_the_public_page_or_to_sign_in(client: Client, org: Org):
    assert client.get("/boards/").url == "/public/"
    assert client.get("/supervision/report/").url.startswith("/accounts/login/")
