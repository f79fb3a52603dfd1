"""Access-matrix rows for the congress app's URL patterns (see tests/test_access_matrix.py)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only

UNION = {"union": 200}
MEETING_RECORDERS = {"union": 200, "depthead": 200, "teamlead": 200}


def congress(o: Org):
    from tests.test_congress_support import build_congress

    return build_congress(o)


def term(o: Org) -> int:
    return congress(o).term.pk


def session(o: Org) -> int:
    return congress(o).session.pk


def seat(o: Org) -> int:
    from gongkai.congress.models import Representative

    c = congress(o)
    return Representative.objects.get(term=c.term, user=o["rep"]).pk


def draft(o: Org) -> int:
    from gongkai.congress.motions import motion_draft

    c = congress(o)
    return motion_draft(
        actor=o["rep"], session=c.session, title="草稿", reasons="r", measures="m"
    ).pk


def seeking_by_other(o: Org) -> int:
    """A motion by another representative, seeking seconds (``rep`` may second it)."""
    from gongkai.congress.motions import motion_draft, motion_seek_seconds

    c = congress(o)
    motion = motion_draft(
        actor=c.reps[1], session=c.session, title="附议", reasons="r", measures="m"
    )
    motion_seek_seconds(actor=c.reps[1], motion=motion)
    return motion.pk


def submitted(o: Org) -> int:
    from tests.test_congress_support import submitted_motion

    return submitted_motion(o, congress(o)).pk


def patrol(o: Org) -> int:
    from gongkai.congress.records import patrol_record

    return patrol_record(
        actor=o["rep"],
        company=o.company,
        patrolled_on=timezone.localdate(),
        units=[o.boiler],
        findings="通风不良",
    ).pk


def director_report(o: Org) -> int:
    from gongkai.congress.records import director_report_write
    from gongkai.org.models import Role
    from gongkai.org.services import role_grant
    from tests.factories import UserFactory

    user = UserFactory(employee_no="director", unit=o.union_dept)
    role_grant(actor=None, user=user, role=Role.EMPLOYEE_DIRECTOR, unit=o.company)
    user = type(user).objects.get(pk=user.pk)
    return director_report_write(
        actor=user, company=o.company, year=timezone.localdate().year - 1, title="履职", text="x"
    ).pk


def meeting(o: Org) -> int:
    from gongkai.congress.models import MeetingKind
    from gongkai.congress.records import meeting_record

    return meeting_record(
        actor=o["teamlead"],
        unit=o.boiler_team,
        kind=MeetingKind.TEAM_DEMOCRATIC,
        title="班组民主管理会",
        held_on=timezone.localdate(),
        minutes="纪要",
        decisions="决定",
        concerns_employees=True,
    ).pk


ROWS: dict[str, list[Row]] = {
    "congress:index": [
        (lambda o: reverse("congress:index"), everyone(200)),
        (lambda o: (term(o), reverse("congress:index"))[1], everyone(200)),
    ],
    "congress:term_create": [(lambda o: reverse("congress:term_create"), only(UNION))],
    "congress:term_detail": [
        (lambda o: reverse("congress:term_detail", args=[term(o)]), everyone(200)),
        (lambda o: reverse("congress:term_detail", args=[999_999]), everyone(404)),
    ],
    "congress:roster": [(lambda o: reverse("congress:roster", args=[term(o)]), only(UNION))],
    "congress:roster_seed": [
        (lambda o: reverse("congress:roster_seed", args=[term(o)]), everyone(405))
    ],
    "congress:delegation_create": [
        (lambda o: reverse("congress:delegation_create", args=[term(o)]), only(UNION))
    ],
    "congress:session_create": [
        (lambda o: reverse("congress:session_create", args=[term(o)]), only(UNION))
    ],
    "congress:representative_edit": [
        (lambda o: reverse("congress:representative_edit", args=[seat(o)]), only(UNION)),
        (lambda o: reverse("congress:representative_edit", args=[999_999]), everyone(404)),
    ],
    "congress:session_detail": [
        (lambda o: reverse("congress:session_detail", args=[session(o)]), everyone(200)),
        (lambda o: reverse("congress:session_detail", args=[999_999]), everyone(404)),
    ],
    "congress:session_edit": [
        (lambda o: reverse("congress:session_edit", args=[session(o)]), only(UNION))
    ],
    "congress:quorum": [(lambda o: reverse("congress:quorum", args=[session(o)]), everyone(200))],
    "congress:check_in": [
        (lambda o: reverse("congress:check_in", args=[session(o)]), everyone(405))
    ],
    "congress:attendance": [
        (lambda o: reverse("congress:attendance", args=[session(o)]), only(UNION))
    ],
    "congress:session_step": [
        (lambda o: reverse("congress:session_step", args=[session(o), "close"]), only(UNION)),
        (lambda o: reverse("congress:session_step", args=[session(o), "explode"]), everyone(404)),
    ],
    "congress:motion_create": [
        (lambda o: reverse("congress:motion_create", args=[session(o)]), only({"rep": 200}))
    ],
    "congress:motion_list": [(lambda o: reverse("congress:motion_list"), everyone(200))],
    "congress:motion_detail": [
        (
            lambda o: reverse("congress:motion_detail", args=[seeking_by_other(o)]),
            everyone(200),
        ),
        (
            lambda o: reverse("congress:motion_detail", args=[draft(o)]),
            only({"rep": 200}, others=404),
        ),
        (lambda o: reverse("congress:motion_detail", args=[999_999]), everyone(404)),
    ],
    "congress:motion_edit": [
        (
            lambda o: reverse("congress:motion_edit", args=[draft(o)]),
            only({"rep": 200}, others=404),
        ),
        (lambda o: reverse("congress:motion_edit", args=[seeking_by_other(o)]), only({})),
    ],
    "congress:motion_step": [
        (
            lambda o: reverse("congress:motion_step", args=[seeking_by_other(o), "second"]),
            only({"rep": 200}),
        ),
        (
            lambda o: reverse("congress:motion_step", args=[submitted(o), "register"]),
            only(UNION),
        ),
        (
            lambda o: reverse("congress:motion_step", args=[submitted(o), "decline"]),
            only(UNION),
        ),
        (
            lambda o: reverse("congress:motion_step", args=[draft(o), "seek"]),
            only({"rep": 200}, others=404),
        ),
        (
            lambda o: reverse("congress:motion_step", args=[submitted(o), "explode"]),
            everyone(404),
        ),
    ],
    "congress:tracking": [(lambda o: reverse("congress:tracking"), only(UNION))],
    "congress:tracking_xlsx": [(lambda o: reverse("congress:tracking_xlsx"), only(UNION))],
    "congress:patrol_list": [(lambda o: reverse("congress:patrol_list"), everyone(200))],
    "congress:patrol_create": [
        (lambda o: reverse("congress:patrol_create"), only({"rep": 200, "union": 200}))
    ],
    "congress:patrol_detail": [
        # Before its report is sent: the author and the union office; others get the same
        # 404 as for a patrol that does not exist.
        (
            lambda o: reverse("congress:patrol_detail", args=[patrol(o)]),
            only({"rep": 200, "union": 200}, others=404),
        ),
        (lambda o: reverse("congress:patrol_detail", args=[999_999]), everyone(404)),
    ],
    "congress:patrol_send": [
        (
            lambda o: reverse("congress:patrol_send", args=[patrol(o)]),
            only({"union": 200, "rep": 403}, others=404),
        )
    ],
    "congress:director_list": [(lambda o: reverse("congress:director_list"), everyone(200))],
    "congress:director_write": [(lambda o: reverse("congress:director_write"), only({}))],
    "congress:director_detail": [
        (
            lambda o: reverse("congress:director_detail", args=[director_report(o)]),
            only(UNION, others=404),
        ),
    ],
    "congress:director_publish": [
        (
            lambda o: reverse("congress:director_publish", args=[director_report(o)]),
            only(UNION, others=404),
        ),
    ],
    "congress:meeting_list": [(lambda o: reverse("congress:meeting_list"), everyone(200))],
    "congress:meeting_create": [
        (lambda o: reverse("congress:meeting_create"), only(MEETING_RECORDERS))
    ],
    "congress:meeting_detail": [
        (
            lambda o: reverse("congress:meeting_detail", args=[meeting(o)]),
            only(MEETING_RECORDERS, others=404),
        ),
    ],
    "congress:meeting_publish": [
        (
            lambda o: reverse("congress:meeting_publish", args=[meeting(o)]),
            only(MEETING_RECORDERS, others=404),
        ),
    ],
}
