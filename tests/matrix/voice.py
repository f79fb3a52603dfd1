"""Access-matrix rows for the voice app's URL patterns (see tests/test_access_matrix.py).

Every persona works in the demo company, whose boards all of them may open, so all of them
see the suggestions sent to its units; the handler's queue is for those who handle, answer
or review (the union office, the department head, the team head)."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only


def suggestion(o: Org, **kw):
    from gongkai.voice.models import SuggestionCategory
    from gongkai.voice.services import suggestion_submit

    return suggestion_submit(
        actor=o["employee"],
        unit=o.boiler,
        category=SuggestionCategory.OTHER,
        title="矩阵用建议",
        body="内容",
        **kw,
    )


def with_file(o: Org):
    from tests.test_attachments import PDF_BYTES, upload

    s = suggestion(o, attachments=[upload(PDF_BYTES)])
    return s, s.attachments.get()


HANDLERS = {"union": 200, "depthead": 200, "teamlead": 200}

ROWS: dict[str, list[Row]] = {
    "voice:list": [
        (lambda o: reverse("voice:list"), everyone(200)),
        (lambda o: reverse("voice:list") + f"?unit={o.boiler.code}", everyone(200)),
        (lambda o: reverse("voice:list") + f"?unit={o.other_dept.code}", everyone(404)),
    ],
    "voice:mine": [(lambda o: reverse("voice:mine"), everyone(200))],
    "voice:queue": [(lambda o: reverse("voice:queue"), only(HANDLERS))],
    "voice:submit": [(lambda o: reverse("voice:submit"), everyone(200))],
    "voice:detail": [
        (lambda o: reverse("voice:detail", args=[suggestion(o).pk]), everyone(200)),
        (lambda o: reverse("voice:detail", args=[999999]), everyone(404)),
    ],
    "voice:follow": [(lambda o: reverse("voice:follow", args=[suggestion(o).pk]), everyone(405))],
    "voice:act": [
        (lambda o: reverse("voice:act", args=[suggestion(o).pk, "accept"]), everyone(405))
    ],
    "voice:attachment": [
        (
            lambda o: reverse("voice:attachment", args=[*(x.pk for x in with_file(o))]),
            everyone(200),
        ),
        (lambda o: reverse("voice:attachment", args=[suggestion(o).pk, 999999]), everyone(404)),
    ],
}
