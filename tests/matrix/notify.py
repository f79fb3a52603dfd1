"""Access-matrix rows of the notice pages (gongkai.notify): preferences for everyone, the
chat robots, outbound event endpoints, the delivery log and failed tasks for the union
office.

Proposed by the "pages" helper as tests/matrix/notify.py; add "notify" to NAMES in
tests/matrix/__init__.py."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only

UNION = {"union": 200}


def robot(o: Org):
    from gongkai.notify.admin_services import robot_create

    return robot_create(
        actor=o["union"],
        unit=o.boiler,
        name="锅炉分场群",
        platform="wecom",
        address="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=matrix-key",
    )


def other_robot(o: Org):
    """A robot of the other company: no persona of the demo company reaches it."""
    from gongkai.notify.models import Robot

    return Robot.objects.create(
        unit=o.other_dept, name="另一家公司的群", platform="wecom", sealed_url=b"x"
    )


def delivery(o: Org):
    from gongkai.notify.models import Delivery

    return Delivery.objects.create(
        channel="email", user=o["employee"], batch="matrix", subject="矩阵邮件", body="x"
    )


def other_delivery(o: Org):
    from gongkai.notify.models import Delivery

    return Delivery.objects.create(
        channel="email", user=o["outsider"], batch="matrix-o", subject="他公司邮件", body="x"
    )


def endpoint(o: Org):
    from gongkai.notify.admin_services import endpoint_create

    return endpoint_create(
        actor=o["union"],
        name="集团档案系统",
        units=[o.boiler],
        events=["disclosure.published"],
        sees_internal=False,
        address="https://archive.example/gongkai/events",
        secret="SECmatrix-events-0123456789",
    )


def other_endpoint(o: Org):
    """An endpoint of the other company: no persona of the demo company reaches it."""
    from gongkai.notify.models import EventEndpoint

    found = EventEndpoint.objects.create(
        name="另一家公司的系统",
        events=["disclosure.published"],
        sealed_url=b"x",
        sealed_secret=b"x",
    )
    found.units.set([o.other_dept])
    return found


ROWS: dict[str, list[Row]] = {
    "notifications:preferences": [(lambda o: reverse("notifications:preferences"), everyone(200))],
    "notifications:robots": [(lambda o: reverse("notifications:robots"), only(UNION))],
    "notifications:robot_add": [(lambda o: reverse("notifications:robot_add"), only(UNION))],
    "notifications:robot_edit": [
        (lambda o: reverse("notifications:robot_edit", args=[robot(o).pk]), only(UNION)),
        (
            lambda o: reverse("notifications:robot_edit", args=[other_robot(o).pk]),
            only({"union": 404}),
        ),
        (lambda o: reverse("notifications:robot_edit", args=[999_999]), only({"union": 404})),
    ],
    "notifications:robot_delete": [
        (lambda o: reverse("notifications:robot_delete", args=[robot(o).pk]), only(UNION)),
        (
            lambda o: reverse("notifications:robot_delete", args=[other_robot(o).pk]),
            only({"union": 404}),
        ),
    ],
    "notifications:robot_toggle": [
        (lambda o: reverse("notifications:robot_toggle", args=[robot(o).pk]), everyone(405))
    ],
    "notifications:robot_test": [
        (lambda o: reverse("notifications:robot_test", args=[robot(o).pk]), everyone(405))
    ],
    "notifications:endpoints": [(lambda o: reverse("notifications:endpoints"), only(UNION))],
    "notifications:endpoint_add": [(lambda o: reverse("notifications:endpoint_add"), only(UNION))],
    "notifications:endpoint_edit": [
        (lambda o: reverse("notifications:endpoint_edit", args=[endpoint(o).pk]), only(UNION)),
        (
            lambda o: reverse("notifications:endpoint_edit", args=[other_endpoint(o).pk]),
            only({"union": 404}),
        ),
        (
            lambda o: reverse("notifications:endpoint_edit", args=[999_999]),
            only({"union": 404}),
        ),
    ],
    "notifications:endpoint_delete": [
        (lambda o: reverse("notifications:endpoint_delete", args=[endpoint(o).pk]), only(UNION)),
        (
            lambda o: reverse("notifications:endpoint_delete", args=[other_endpoint(o).pk]),
            only({"union": 404}),
        ),
    ],
    "notifications:endpoint_toggle": [
        (lambda o: reverse("notifications:endpoint_toggle", args=[endpoint(o).pk]), everyone(405))
    ],
    "notifications:endpoint_test": [
        (lambda o: reverse("notifications:endpoint_test", args=[endpoint(o).pk]), everyone(405))
    ],
    "notifications:deliveries": [(lambda o: reverse("notifications:deliveries"), only(UNION))],
    "notifications:delivery": [
        (lambda o: reverse("notifications:delivery", args=[delivery(o).pk]), only(UNION)),
        (
            lambda o: reverse("notifications:delivery", args=[other_delivery(o).pk]),
            only({"union": 404}),
        ),
    ],
    "notifications:failures": [(lambda o: reverse("notifications:failures"), only(UNION))],
}
