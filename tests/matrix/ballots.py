"""Access-matrix rows for the ballots app's URL patterns (see tests/test_access_matrix.py).

Managing is the union office's, recounting the supervision group's; casting is the
electorate's (in these rows only ``rep`` is a representative present at the session).
Everyone else gets the same 404 as for a missing vote until the result is published."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import Org
from tests.matrix.helpers import Row, everyone, only


def poll_in(o: Org, status: str, voted: bool = False):
    from gongkai.ballots.services import ballot_cast
    from tests.test_ballots import advance, all_same, make_hall, resolution

    hall = make_hall(o, total=3, present=3)
    poll = resolution(o, hall)
    if voted:
        poll = advance(o, poll, "open")
        ballot_cast(actor=o["rep"], poll=poll, choices=all_same(poll, "for"))
        status_now = "open"
        if status != status_now:
            from gongkai.ballots.services import poll_close, poll_publish

            poll = poll_close(actor=o["union"], poll=poll)
            if status == "published":
                poll = poll_publish(actor=o["union"], poll=poll)
        return poll
    return advance(o, poll, status)


def url(name: str, status: str, voted: bool = False):
    return lambda o: reverse(f"ballots:{name}", args=[poll_in(o, status, voted).pk])


HIDDEN = 404  # not theirs: the same answer as a missing vote
MANAGERS = {"union": 200, "supervisor": 200}


def hidden(allowed: dict[str, int]) -> dict[str, int]:
    return only(allowed, others=HIDDEN)


ROWS: dict[str, list[Row]] = {
    "ballots:list": [(lambda o: reverse("ballots:list"), everyone(200))],
    "ballots:new": [
        (lambda o: reverse("ballots:new", args=["resolution"]), only({"union": 200})),
        (lambda o: reverse("ballots:new", args=["evaluation"]), only({"union": 200})),
    ],
    "ballots:detail": [
        (url("detail", "draft"), hidden(MANAGERS)),
        (url("detail", "open"), hidden({**MANAGERS, "rep": 200})),
        (url("detail", "closed"), hidden({**MANAGERS, "rep": 200})),
        (url("detail", "published"), everyone(200)),
    ],
    "ballots:edit": [(url("edit", "draft"), hidden({"union": 200, "supervisor": 403}))],
    "ballots:open": [(url("open", "draft"), hidden({"union": 200, "supervisor": 403}))],
    "ballots:vote": [
        (url("vote", "open"), hidden({"rep": 200, "union": 302, "supervisor": 302})),
        (url("vote", "open", voted=True), hidden({"rep": 302, "union": 302, "supervisor": 302})),
    ],
    "ballots:confirm": [
        (url("confirm", "open"), hidden({"rep": 302, "union": 302, "supervisor": 302}))
    ],
    "ballots:cast": [(url("cast", "open"), hidden({"rep": 302, "union": 302, "supervisor": 302}))],
    "ballots:done": [
        (url("done", "open"), hidden({"rep": 302, "union": 302, "supervisor": 302})),
        (url("done", "open", voted=True), hidden({"rep": 200, "union": 302, "supervisor": 302})),
    ],
    "ballots:my_status": [
        (url("my_status", "open"), hidden({"rep": 200, **MANAGERS})),
        (url("my_status", "published", voted=True), everyone(200)),
    ],
    "ballots:turnout": [
        (url("turnout", "open"), hidden({"union": 200, "supervisor": 403, "rep": 403}))
    ],
    "ballots:close": [
        (url("close", "open"), hidden({"union": 200, "supervisor": 403, "rep": 403}))
    ],
    "ballots:publish": [
        (url("publish", "closed"), hidden({"union": 200, "supervisor": 403, "rep": 403}))
    ],
    "ballots:results": [
        (url("results", "draft"), hidden({"union": 403, "supervisor": 403})),
        (url("results", "open", voted=True), hidden({"union": 403, "supervisor": 403, "rep": 403})),
        (url("results", "closed", voted=True), hidden({**MANAGERS, "rep": 403})),
        (url("results", "published", voted=True), everyone(200)),
    ],
    "ballots:recount": [
        (url("recount", "open"), hidden({"union": 403, "supervisor": 403, "rep": 403})),
        (
            url("recount", "closed", voted=True),
            hidden({"union": 403, "supervisor": 200, "rep": 403}),
        ),
        (url("recount", "published", voted=True), only({"supervisor": 200})),
    ],
}
