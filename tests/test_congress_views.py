"""The congress pages end to end: check-in, attendance, the motion steps, tracking export,
board section, patrols and meetings through the forms."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from gongkai.congress import selectors
from gongkai.congress.models import (
    Attendance,
    Meeting,
    Motion,
    MotionStatus,
    Patrol,
    Representative,
)
from gongkai.voice.models import Suggestion
from tests.conftest import Org
from tests.test_congress_support import assigned_motion, build_congress, submitted_motion


@pytest.fixture
def login(login, client):
    """Sign in as another user (the project fixture keeps whoever is signed in)."""

    def switch(user):
        client.logout()
        return login(user)

    return switch


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_rep_checks_in_with_the_button_and_sees_the_quorum(org: Org, client, login):
    c = build_congress(org)
    login(org["rep"])
    english(client)
    url = reverse("congress:session_detail", args=[c.session.pk])
    page = client.get(url).content.decode()
    assert reverse("congress:check_in", args=[c.session.pk]) in page
    assert "0 of 4 representatives present" in page
    response = client.post(reverse("congress:check_in", args=[c.session.pk]), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 of 4 representatives present" in page
    assert "You are checked in." in page
    assert reverse("congress:check_in", args=[c.session.pk]) not in page  # button gone
    assert Attendance.objects.get().checked_in_by is None
    # The live figure the page polls.
    fragment = client.get(reverse("congress:quorum", args=[c.session.pk])).content.decode()
    assert "1 of 4" in fragment and "no quorum yet: 3 needed" in fragment


def test_employee_sees_no_check_in_button_and_a_post_is_refused(org: Org, client, login):
    c = build_congress(org)
    login(org["employee"])
    page = client.get(reverse("congress:session_detail", args=[c.session.pk])).content.decode()
    assert reverse("congress:check_in", args=[c.session.pk]) not in page
    client.post(reverse("congress:check_in", args=[c.session.pk]))
    assert not Attendance.objects.exists()


def test_outsider_cannot_see_another_companys_congress(org: Org, client, login):
    c = build_congress(org)
    login(org["outsider"])
    assert client.get(reverse("congress:session_detail", args=[c.session.pk])).status_code == 404
    assert client.post(reverse("congress:check_in", args=[c.session.pk])).status_code == 404
    assert client.get(reverse("congress:index")).status_code == 200  # their own (no term)
    assert not Attendance.objects.exists()


def test_union_sign_in_sheet(org: Org, client, login):
    c = build_congress(org)
    seats = list(Representative.objects.filter(term=c.term).order_by("id"))
    login(org["union"])
    english(client)
    url = reverse("congress:attendance", args=[c.session.pk])
    response = client.post(url, {"present": [s.pk for s in seats[:3]]}, follow=True)
    assert "3 of 4 representatives present" in response.content.decode()
    assert "quorum reached" in response.content.decode()
    assert selectors.session_quorum(c.session).reached
    bad = client.post(url, {"present": ["abc"]})
    assert bad.status_code == 400
    assert Attendance.objects.count() == 3


def test_motion_lifecycle_through_the_pages(org: Org, client, login):
    c = build_congress(org)
    rep, rep2, rep3 = c.reps[:3]
    login(rep)
    english(client)
    new = reverse("congress:motion_create", args=[c.session.pk])
    bad = client.post(new, {"title": "", "reasons": "保留我的理由", "measures": "x"})
    assert bad.status_code == 400
    assert "保留我的理由" in bad.content.decode()  # input kept
    response = client.post(new, {"title": "改善班车", "reasons": "班次少", "measures": "加班次"})
    motion = Motion.objects.get()
    assert response.url == reverse("congress:motion_detail", args=[motion.pk])

    def step(user, name, data=None, expect=302):
        login(user)
        r = client.post(reverse("congress:motion_step", args=[motion.pk, name]), data or {})
        assert r.status_code == expect, r.content[:600]
        motion.refresh_from_db()
        return r

    step(rep, "submit", expect=400)  # not enough seconds: the page explains, nothing changes
    assert motion.status == MotionStatus.DRAFT
    step(rep, "seek")
    step(rep, "second", expect=403)  # not on one's own motion
    step(rep2, "second")
    step(rep2, "second", expect=403)  # not twice
    step(rep3, "second")
    step(rep, "submit")
    assert motion.status == MotionStatus.SUBMITTED
    step(org["rep"], "register", expect=403)
    step(org["union"], "register")
    assert motion.number == 1
    due = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    step(org["union"], "assign", {"lead_unit": org.boiler.pk, "due_on": due})
    step(org["teamlead"], "answer", {"measures": "a", "result": "b"}, expect=403)
    step(org["depthead"], "answer", {"measures": "加开两班", "result": "已落实"})
    assert motion.status == MotionStatus.ANSWERED
    step(rep, "rate", {"value": "dissatisfied"})
    assert motion.status == MotionStatus.SENT_BACK
    step(org["depthead"], "answer", {"measures": "再加两班", "result": "已落实"})
    step(rep, "rate", {"value": "basic"})
    assert (motion.status, motion.rating) == (MotionStatus.CLOSED, "basic")
    login(org["employee"])
    page = client.get(reverse("congress:motion_detail", args=[motion.pk])).content.decode()
    assert "再加两班" in page  # the handling is public


def test_declined_motion_links_to_its_suggestion_for_the_proposer(org: Org, client, login):
    c = build_congress(org)
    motion = submitted_motion(org, c)
    login(org["union"])
    url = reverse("congress:motion_step", args=[motion.pk, "decline"])
    bad = client.post(url, {"reasons": "", "category": "management"})
    assert bad.status_code == 400
    client.post(url, {"reasons": "日常管理事项", "category": "management"})
    motion.refresh_from_db()
    suggestion = Suggestion.objects.get()
    login(org["rep"])
    page = client.get(reverse("congress:motion_detail", args=[motion.pk])).content.decode()
    assert "日常管理事项" in page
    assert reverse("voice:detail", args=[suggestion.pk]) in page
    assert client.get(reverse("voice:detail", args=[suggestion.pk])).status_code == 200


def test_tracking_xlsx_export(org: Org, client, login):
    c = build_congress(org)
    late = assigned_motion(org, c, due_in=0)
    submitted_motion(org, c, title="待立案")
    Motion.objects.filter(pk=late.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=2)
    )
    login(org["union"])
    english(client)
    response = client.get(reverse("congress:tracking_xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][:3] == ("Session", "No.", "Subject")
    assert len(rows) == 3
    by_title = {r[2]: r for r in rows[1:]}
    assert by_title["改善食堂伙食"][6] == org.boiler.name
    assert by_title["改善食堂伙食"][9] == "yes"  # overdue
    assert by_title["待立案"][1] is None
    # Filters apply to the export too.
    only_overdue = client.get(reverse("congress:tracking_xlsx") + "?overdue=on")
    rows = list(openpyxl.load_workbook(io.BytesIO(only_overdue.content)).active.values)
    assert [r[2] for r in rows[1:]] == ["改善食堂伙食"]
    page = client.get(reverse("congress:tracking") + "?status=submitted").content.decode()
    assert "待立案" in page and "改善食堂伙食" not in page


def test_export_neutralises_formulas(org: Org, client, login):
    c = build_congress(org)
    submitted_motion(org, c, title='=HYPERLINK("http://x")')
    login(org["union"])
    rows = list(
        openpyxl.load_workbook(
            io.BytesIO(client.get(reverse("congress:tracking_xlsx")).content)
        ).active.values
    )
    assert rows[1][2].startswith("'=")


def test_company_board_shows_motions_not_unsent_patrols_departments_neither(
    org: Org, client, login
):
    """Motions show on the company board; a patrol shows only once its report is published
    (tests/test_patrol_reports.py follows it there)."""
    from gongkai.congress.records import patrol_record

    c = build_congress(org)
    submitted_motion(org, c, title="董事会提案样本")
    patrol_record(
        actor=org["rep"],
        company=org.company,
        patrolled_on=timezone.localdate(),
        units=[org.boiler],
        findings="巡视发现样本",
    )
    login(org["employee"])
    page = client.get(reverse("boards:board", args=[org.company.code])).content.decode()
    assert "董事会提案样本" in page and "巡视发现样本" not in page
    page = client.get(reverse("boards:board", args=[org.boiler.code])).content.decode()
    assert "董事会提案样本" not in page and "巡视发现样本" not in page


def test_patrol_form_keeps_input_on_error_and_publishes(org: Org, client, login):
    login(org["rep"])
    url = reverse("congress:patrol_create")
    bad = client.post(url, {"patrolled_on": timezone.localdate().isoformat(), "findings": "保留"})
    assert bad.status_code == 400 and "保留" in bad.content.decode()
    ok = client.post(
        url,
        {
            "patrolled_on": timezone.localdate().isoformat(),
            "units": [org.boiler.pk],
            "findings": "安全通道堵塞",
        },
    )
    assert ok.status_code == 302
    login(org["employee"])
    assert "安全通道堵塞" in client.get(reverse("congress:patrol_list")).content.decode() or (
        Patrol.objects.count() == 1
    )


def test_meeting_form_links_attendees_by_employee_number(org: Org, client, login):
    login(org["teamlead"])
    response = client.post(
        reverse("congress:meeting_create"),
        {
            "unit": org.boiler_team.pk,
            "kind": "team_democratic",
            "title": "十一月班组民主管理会",
            "held_on": timezone.localdate().isoformat(),
            "attendees_text": "employee, rep",
            "minutes": "纪要",
            "decisions": "决定",
            "concerns_employees": "on",
        },
    )
    assert response.status_code == 302, response.content[:800]
    meeting = Meeting.objects.get()
    assert set(meeting.attendees.values_list("employee_no", flat=True)) == {"employee", "rep"}
    assert meeting.attendees_text == ""
    publish = client.post(reverse("congress:meeting_publish", args=[meeting.pk]))
    meeting.refresh_from_db()
    assert publish.url == reverse("disclosure:detail", args=[meeting.disclosure_id])
    # Before the disclosure is published, other employees do not read the minutes.
    login(org["employee"])
    assert client.get(reverse("congress:meeting_detail", args=[meeting.pk])).status_code == 404


def test_motion_list_query_count_does_not_grow(
    org: Org, client, login, django_assert_max_num_queries
):
    c = build_congress(org)
    for n in range(6):
        submitted_motion(org, c, title=f"提案{n}")
    login(org["employee"])
    with django_assert_max_num_queries(15):
        assert client.get(reverse("congress:motion_list")).status_code == 200


def test_merge_and_assign_pages(org: Org, client, login):
    from gongkai.congress import motions as m

    c = build_congress(org)
    main = submitted_motion(org, c, title="主提案")
    dup = submitted_motion(org, c, title="重复提案")
    m.motion_register(actor=org["union"], motion=main)
    login(org["union"])
    url = reverse("congress:motion_step", args=[dup.pk, "merge"])
    page = client.get(url).content.decode()
    assert "主提案" in page and "重复提案</option>" not in page
    assert client.post(url, {"into": main.pk}).status_code == 302
    dup.refresh_from_db()
    assert dup.merged_into_id == main.pk
    page = client.get(reverse("congress:motion_detail", args=[main.pk])).content.decode()
    assert "重复提案" in page  # listed as merged into this one
    assign = reverse("congress:motion_step", args=[main.pk, "assign"])
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    bad = client.post(assign, {"lead_unit": org.boiler.pk, "due_on": past})
    assert bad.status_code == 400
    main.refresh_from_db()
    assert main.status == MotionStatus.REGISTERED


def test_session_page_shows_30_motions_and_links_to_the_rest(org: Org, client, login):
    from gongkai.congress.models import MotionStatus as S

    c = build_congress(org)
    Motion.objects.bulk_create(
        [
            Motion(
                session=c.session,
                proposer=org["rep"],
                title=f"批量提案{n:02d}",
                reasons="r",
                measures="m",
                status=S.SUBMITTED,
            )
            for n in range(35)
        ]
    )
    login(org["employee"])
    page = client.get(reverse("congress:session_detail", args=[c.session.pk])).content.decode()
    assert page.count("批量提案") == 30
    more = f"{reverse('congress:motion_list')}?session={c.session.pk}"
    assert more in page
    listing = client.get(more).content.decode()
    assert listing.count("批量提案") == 30  # the list's own page size
    assert "page=2" in listing
