"""The union office's sign-in sheet (issue 13, item 18): it shows when each representative
checked in (and who recorded it) and records leave of absence (请假) with its reason; leave is
not presence, and a representative is never both."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from gongkai.audit.models import AuditEvent
from gongkai.congress import selectors, services
from gongkai.congress.models import Attendance, LeaveOfAbsence, Representative
from gongkai.core.errors import ServiceError
from tests.conftest import Org
from tests.test_congress_support import build_congress

pytestmark = pytest.mark.usefixtures("english")


def seats(c) -> list[Representative]:
    return list(Representative.objects.filter(term=c.term).order_by("id"))


def sheet(client, c):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(reverse("congress:attendance", args=[c.session.pk]))


def test_the_sheet_shows_the_check_in_time_and_who_recorded_it(org: Org, client):
    c = build_congress(org)
    services.attendance_check_in(actor=org["rep"], session=c.session)
    reps = seats(c)
    services.attendance_record(
        actor=org["union"], session=c.session, present={reps[0].pk, reps[1].pk}
    )
    client.force_login(org["union"])
    page = sheet(client, c).content.decode()
    for attendance in Attendance.objects.all():
        assert timezone.localtime(attendance.checked_in_at).strftime("%H:%M") in page
    assert "checked in themselves" in page
    assert f"recorded by {org['union'].name}" in page
    # Ticking again keeps the first check-in time.
    first = Attendance.objects.get(representative=reps[0]).checked_in_at
    services.attendance_record(
        actor=org["union"], session=c.session, present={reps[0].pk, reps[1].pk}
    )
    assert Attendance.objects.get(representative=reps[0]).checked_in_at == first


def test_leave_of_absence_is_recorded_with_its_reason_and_is_not_presence(org: Org, client):
    c = build_congress(org)
    reps = seats(c)
    client.force_login(org["union"])
    url = reverse("congress:attendance", args=[c.session.pk])
    response = client.post(
        url,
        {
            "present": [reps[0].pk, reps[1].pk],
            "leave": [reps[2].pk],
            f"reason-{reps[2].pk}": "出差在外",
            f"reason-{reps[3].pk}": "not ticked: ignored",
        },
    )
    assert response.status_code == 302
    leave = LeaveOfAbsence.objects.get()
    assert (leave.representative_id, leave.reason, leave.recorded_by) == (
        reps[2].pk,
        "出差在外",
        org["union"],
    )
    quorum = selectors.session_quorum(c.session)
    assert (quorum.present, quorum.total) == (2, 4)  # leave is not presence
    page = sheet(client, c).content.decode()
    assert "出差在外" in page and "on leave: 1" in page and "absent: 1" in page
    event = AuditEvent.objects.filter(action="congress.attendance_recorded").latest("id")
    assert event.after["leave"] == {str(reps[2].pk): "出差在外"}
    # Unticked later: the leave is removed (and audited).
    client.post(url, {"present": [reps[0].pk, reps[1].pk]})
    assert not LeaveOfAbsence.objects.exists()
    event = AuditEvent.objects.filter(action="congress.attendance_recorded").latest("id")
    assert event.after["leave_removed"] == [reps[2].pk]


def test_present_and_on_leave_at_once_is_refused(org: Org, client):
    c = build_congress(org)
    reps = seats(c)
    client.force_login(org["union"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        reverse("congress:attendance", args=[c.session.pk]),
        {"present": [reps[1].pk], "leave": [reps[1].pk]},
    )
    assert response.status_code == 400
    assert "both present and on leave" in response.content.decode()
    assert not Attendance.objects.exists() and not LeaveOfAbsence.objects.exists()


def test_a_representative_on_leave_who_checks_in_is_present(org: Org):
    c = build_congress(org)
    reps = seats(c)
    services.attendance_record(
        actor=org["union"], session=c.session, present=set(), leave={reps[0].pk: "病假"}
    )
    services.attendance_check_in(actor=org["rep"], session=c.session)
    assert not LeaveOfAbsence.objects.exists()
    assert selectors.present_user_ids(c.session) == {org["rep"].pk}


def test_only_the_union_office_records_leave(org: Org, client):
    c = build_congress(org)
    reps = seats(c)
    for who in ("rep", "employee", "leader"):
        with pytest.raises(ServiceError):
            services.attendance_record(
                actor=org[who], session=c.session, present=set(), leave={reps[1].pk: "x"}
            )
    client.force_login(org["rep"])
    response = client.post(
        reverse("congress:attendance", args=[c.session.pk]), {"leave": [reps[1].pk]}
    )
    assert response.status_code == 403
    assert not LeaveOfAbsence.objects.exists()


def test_no_leave_is_recorded_after_the_close(org: Org):
    c = build_congress(org)
    reps = seats(c)
    services.session_set_status(actor=org["union"], session=c.session, step="close")
    c.session.refresh_from_db()
    with pytest.raises(ServiceError, match="closed"):
        services.attendance_record(
            actor=org["union"], session=c.session, present=set(), leave={reps[1].pk: "x"}
        )
    assert not LeaveOfAbsence.objects.exists()


def test_leave_of_strangers_and_overlong_reasons_is_refused(org: Org):
    c = build_congress(org)
    reps = seats(c)
    with pytest.raises(ServiceError, match="not representatives"):
        services.attendance_record(
            actor=org["union"], session=c.session, present=set(), leave={999_999: ""}
        )
    with pytest.raises(ServiceError, match="too long"):
        services.attendance_record(
            actor=org["union"], session=c.session, present=set(), leave={reps[1].pk: "长" * 201}
        )
    assert not LeaveOfAbsence.objects.exists()


def test_the_demo_sheet_has_check_in_times_and_leaves_of_absence(org: Org, client):
    import random

    from gongkai.demo.congress import _current_session

    c = build_congress(org, extra_reps=39)
    session = _current_session(c.term, org["union"], timezone.localdate(), random.Random(1))
    leaves = list(LeaveOfAbsence.objects.filter(session=session))
    assert len(leaves) == 3 and all(leave.reason for leave in leaves)
    present = set(
        Attendance.objects.filter(session=session).values_list("representative", flat=True)
    )
    assert not present & {leave.representative_id for leave in leaves}
    client.force_login(org["union"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("congress:attendance", args=[session.pk])).content.decode()
    assert "on leave: 3" in page and leaves[0].reason in page
    assert "<time datetime=" in page
