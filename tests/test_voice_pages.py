"""Suggestion pages: submitting (and bad input through the form), the step forms, follow,
the board section, and the hidden name never reaching anyone without SUGGESTION_SEE_AUTHOR
(list, detail, board, feeds, notifications)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from gongkai.core.satisfaction import Satisfaction
from gongkai.notify.models import Notification
from gongkai.voice import services
from gongkai.voice.models import Suggestion, SuggestionCategory, SuggestionStatus
from tests.factories import UserFactory

S = SuggestionStatus
HIDDEN_NAME = "隐名作者甲"
HIDDEN_NO = "H77123"


@pytest.fixture
def hidden_author(org):
    return UserFactory(employee_no=HIDDEN_NO, name=HIDDEN_NAME, unit=org.boiler_team)


@pytest.fixture
def hidden(org, hidden_author):
    """A hidden-name suggestion to the boiler department, answered (every step shown)."""
    s = services.suggestion_submit(
        actor=hidden_author,
        unit=org.boiler,
        category=SuggestionCategory.MANAGEMENT,
        title="隐名的建议",
        body="内容",
        name_hidden=True,
    )
    s = services.suggestion_accept(actor=org["depthead"], suggestion=s)
    s = services.suggestion_assign(
        actor=org["depthead"],
        suggestion=s,
        responsible_unit=org.boiler_team,
        due_on=timezone.localdate() + dt.timedelta(days=3),
    )
    return services.suggestion_answer(actor=org["teamlead"], suggestion=s, answer="已处理")


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def pages(org, s):
    return [
        reverse("voice:list"),
        reverse("voice:list") + f"?unit={org.boiler.code}",
        reverse("voice:detail", args=[s.pk]),
        reverse("boards:board", args=[org.boiler.code]),
        reverse("boards:feed", args=[org.boiler.code]),
        reverse("notifications:list"),
    ]


@pytest.mark.parametrize(
    "who", ["employee", "rep", "teamlead", "leader", "discipline", "turbine_worker"]
)
def test_hidden_author_never_shown_without_see_author(org, hidden, hidden_author, client, who):
    services.suggestion_follow(actor=org[who], suggestion=hidden)
    services.suggestion_rate(actor=hidden_author, suggestion=hidden, rating=Satisfaction.BASIC)
    assert Notification.objects.filter(user=org[who]).exists()
    client.force_login(org[who])
    for url in pages(org, hidden):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert HIDDEN_NAME not in body, url
        assert HIDDEN_NO not in body, url
    # and the detail page does show the handling
    body = client.get(reverse("voice:detail", args=[hidden.pk])).content.decode()
    assert "已处理" in body and "隐名的建议" in body
    notes = client.get(reverse("notifications:list")).content.decode()
    assert "隐名的建议" in notes


@pytest.mark.parametrize("who", ["depthead", "union", "supervisor"])
def test_handlers_see_who_sent_it_on_its_page_but_not_on_the_board(org, hidden, client, who):
    client.force_login(org[who])
    body = client.get(reverse("voice:detail", args=[hidden.pk])).content.decode()
    assert HIDDEN_NAME in body
    board = client.get(reverse("boards:board", args=[org.boiler.code])).content.decode()
    assert "隐名的建议" in board and HIDDEN_NAME not in board


def test_named_author_is_shown(org, client):
    s = services.suggestion_submit(
        actor=org["rep"], unit=org.boiler, category="other", title="署名建议", body="内容"
    )
    client.force_login(org["turbine_worker"])
    assert org["rep"].name in client.get(reverse("voice:detail", args=[s.pk])).content.decode()


def test_notifications_never_name_the_hidden_author(org, hidden):
    for note in Notification.objects.all():
        assert HIDDEN_NAME not in note.message and HIDDEN_NO not in note.message


def test_outsider_cannot_see_suggestions_of_another_company(org, hidden, client):
    client.force_login(org["outsider"])
    assert client.get(reverse("voice:detail", args=[hidden.pk])).status_code == 404
    assert "隐名的建议" not in client.get(reverse("voice:list")).content.decode()


# --- submitting ------------------------------------------------------------------------------


def test_submit_through_the_form(org, client):
    client.force_login(org["employee"])
    page = client.get(reverse("voice:submit"))
    assert page.status_code == 200
    assert page.context["form"].initial["unit"] == org.boiler_team  # their own team
    response = client.post(
        reverse("voice:submit"),
        {
            "unit": org.boiler.pk,
            "category": SuggestionCategory.PRODUCTION_SAFETY,
            "title": "楼梯防滑",
            "body": "建议加装防滑条",
            "name_hidden": "on",
        },
    )
    s = Suggestion.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{s.pk}/")
    assert s.name_hidden and s.unit == org.boiler and s.author == org["employee"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"body": ""}, "body"),
        ({"body": "长" * 5001}, "body"),
        ({"title": "题" * 201}, "title"),
    ],
)
def test_bad_input_keeps_what_was_typed_and_changes_nothing(org, client, data, field):
    client.force_login(org["employee"])
    base = {
        "unit": org.boiler.pk,
        "category": "other",
        "title": "标题保留",
        "body": "正文保留",
    }
    response = client.post(reverse("voice:submit"), base | data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Suggestion.objects.exists()
    body = response.content.decode()
    kept = "标题保留" if field == "body" else "正文保留"
    assert kept in body


def test_wrong_file_type_is_refused_with_a_message(org, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    english(client).force_login(org["employee"])
    fake = SimpleUploadedFile("virus.pdf", b"MZ this is not a pdf", content_type="application/pdf")
    response = client.post(
        reverse("voice:submit"),
        {
            "unit": org.boiler.pk,
            "category": "other",
            "title": "附件",
            "body": "正文",
            "attachments": [fake],
        },
    )
    assert response.status_code == 400
    assert "not accepted" in response.content.decode()
    assert not Suggestion.objects.exists()


def test_cannot_send_to_a_unit_of_another_company(org, client):
    client.force_login(org["employee"])
    response = client.post(
        reverse("voice:submit"),
        {"unit": org.other_dept.pk, "category": "other", "title": "t", "body": "b"},
    )
    assert response.status_code == 400 and not Suggestion.objects.exists()


# --- steps through the pages ------------------------------------------------------------------


def test_lifecycle_through_the_pages(org, client):
    s = services.suggestion_submit(
        actor=org["employee"], unit=org.boiler, category="other", title="页面流程", body="b"
    )
    detail = reverse("voice:detail", args=[s.pk])

    def post(who, step, data=None):
        client.force_login(org[who])
        return client.post(reverse("voice:act", args=[s.pk, step]), data or {})

    client.force_login(org["depthead"])
    forms = [kind for kind, _ in client.get(detail).context["step_forms"]]
    assert forms == ["accept", "decline"]
    assert post("depthead", "accept").status_code == 302
    due = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    response = post(
        "depthead",
        "assign",
        {"assign-responsible_unit": org.boiler_team.pk, "assign-due_on": due},
    )
    assert response.status_code == 302
    assert post("teamlead", "answer", {"answer-answer": ""}).status_code == 400
    assert post("teamlead", "answer", {"answer-answer": "已处理"}).status_code == 302
    # someone other than the author may not rate: a clear error, nothing changes
    english(client)
    response = post("depthead", "rate", {"rate-rating": Satisfaction.SATISFIED})
    assert response.status_code == 400
    assert "Only the author" in response.content.decode()
    assert Suggestion.objects.get(pk=s.pk).status == S.ANSWERED
    client.force_login(org["employee"])
    forms = [kind for kind, _ in client.get(detail).context["step_forms"]]
    assert forms == ["rate"]
    assert post("employee", "rate", {"rate-rating": Satisfaction.SATISFIED}).status_code == 302
    assert Suggestion.objects.get(pk=s.pk).status == S.CLOSED


@pytest.mark.parametrize("who", ["employee", "rep", "leader", "supervisor", "discipline"])
def test_no_step_forms_for_those_without_the_right(org, client, who):
    s = services.suggestion_submit(
        actor=org["turbine_worker"], unit=org.boiler, category="other", title="t", body="b"
    )
    client.force_login(org[who])
    assert client.get(reverse("voice:detail", args=[s.pk])).context["step_forms"] == []
    assert client.post(reverse("voice:act", args=[s.pk, "accept"])).status_code == 400
    assert Suggestion.objects.get(pk=s.pk).status == S.SUBMITTED


def test_unknown_step_is_404(org, client):
    s = services.suggestion_submit(
        actor=org["employee"], unit=org.boiler, category="other", title="t", body="b"
    )
    client.force_login(org["depthead"])
    assert client.post(reverse("voice:act", args=[s.pk, "explode"])).status_code == 404


def test_follow_toggle(org, client):
    s = services.suggestion_submit(
        actor=org["employee"], unit=org.boiler, category="other", title="t", body="b"
    )
    client.force_login(org["rep"])
    url = reverse("voice:follow", args=[s.pk])
    assert client.post(url, {"follow": "1"}).status_code == 302
    assert s.followers.filter(user=org["rep"]).exists()
    assert client.get(reverse("voice:detail", args=[s.pk])).context["following"]
    client.post(url, {"follow": "0"})
    assert not s.followers.filter(user=org["rep"]).exists()


# --- the board section and the lists ------------------------------------------------------------


def test_board_section_shows_status_dates_and_overdue(org, client):
    import time_machine

    tz = dt.timezone(dt.timedelta(hours=8))
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=tz), tick=False):
        s = services.suggestion_submit(
            actor=org["employee"], unit=org.boiler, category="other", title="逾期的", body="b"
        )
        s = services.suggestion_accept(actor=org["depthead"], suggestion=s)
        services.suggestion_assign(
            actor=org["depthead"],
            suggestion=s,
            responsible_unit=org.boiler,
            due_on=dt.date(2026, 3, 5),
        )
    with time_machine.travel(dt.datetime(2026, 3, 6, 9, 0, tzinfo=tz), tick=False):
        english(client).force_login(org["turbine_worker"])
        body = client.get(reverse("boards:board", args=[org.boiler.code])).content.decode()
    assert "逾期的" in body and "overdue" in body
    assert f"?unit={org.boiler.code}" in body


def test_list_filters(org, client):
    for title, category, unit in [
        ("甲", "other", org.boiler),
        ("乙", "management", org.boiler),
        ("丙", "other", org.turbine),
    ]:
        services.suggestion_submit(
            actor=org["employee"], unit=unit, category=category, title=title, body="b"
        )
    client.force_login(org["leader"])

    def titles(query):
        page = client.get(reverse("voice:list") + query).context["page"]
        return sorted(s.title for s in page.object_list)

    assert titles("") == ["丙", "乙", "甲"]
    assert titles(f"?unit={org.boiler.code}") == ["乙", "甲"]
    assert titles("?category=other") == ["丙", "甲"]
    assert titles("?status=accepted") == []


def test_list_page_query_count_does_not_grow(org, client, django_assert_max_num_queries):
    for n in range(25):
        services.suggestion_submit(
            actor=org["employee"], unit=org.boiler, category="other", title=f"第{n}条", body="b"
        )
    client.force_login(org["leader"])
    client.get(reverse("voice:list"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("voice:list"))
    assert len(response.context["page"].object_list) == 20


def test_attachment_download(org, client, settings, tmp_path):
    from tests.test_attachments import PDF_BYTES, upload

    settings.MEDIA_ROOT = tmp_path
    s = services.suggestion_submit(
        actor=org["employee"],
        unit=org.boiler,
        category="other",
        title="t",
        body="b",
        attachments=[upload(PDF_BYTES)],
    )
    a = s.attachments.get()
    client.force_login(org["rep"])
    response = client.get(reverse("voice:attachment", args=[s.pk, a.pk]))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(org["outsider"])
    assert client.get(reverse("voice:attachment", args=[s.pk, a.pk])).status_code == 404


def test_an_oversized_upload_is_refused_before_it_is_read(org, client):
    client.force_login(org["employee"])
    response = client.post(
        reverse("voice:submit"),
        {"unit": org.boiler.pk, "category": "other", "title": "t", "body": "b"},
        CONTENT_LENGTH=str(10**10),
    )
    assert response.status_code == 413
    assert not Suggestion.objects.exists()
