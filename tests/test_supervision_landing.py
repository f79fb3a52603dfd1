"""/supervision/ is the section's landing page: what the supervision group does, with the
parts each viewer may use (issue 13)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import Org


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get("/supervision/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_supervisor_sees_every_part_and_can_open_a_round(org: Org, login, en):
    login(org["supervisor"])
    page = en.get("/supervision/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in (
        "round_list",
        "round_create",
        "rectification_list",
        "circular_list",
        "accountability_list",
        "accountability_create",
    ):
        assert f'href="{reverse(f"supervision:{name}")}"' in html, name
    assert reverse("assessment:compliance") in html


def test_an_employee_sees_only_what_they_may_use(org: Org, login, en):
    login(org["employee"])
    page = en.get("/supervision/")
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("supervision:circular_list") in html
    assert reverse("supervision:accountability_list") in html
    assert f'href="{reverse("supervision:round_list")}"' not in html
    assert reverse("supervision:round_create") not in html
    assert reverse("supervision:accountability_create") not in html
    assert reverse("assessment:compliance") not in html


def test_a_department_head_sees_their_rectifications(org: Org, login, en):
    login(org["depthead"])
    html = en.get("/supervision/").content.decode()
    assert f"{reverse('supervision:rectification_list')}?mine=1" in html
    assert reverse("supervision:round_create") not in html
