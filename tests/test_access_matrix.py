"""Every URL pattern × anonymous and each demo login → the expected status of a GET.

A new URL pattern without a row here fails ``test_every_url_pattern_is_in_the_matrix``, so
each page joins the matrix when it is written.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import Org
from tests.matrix import AREAS
from tests.matrix.helpers import (
    ANON,
    DRAFTERS,
    READ_ALL_COMPANY,
    WHO,
    Row,
    everyone,
    only,
)
from tests.test_attachments import attachment_on
from tests.test_boards import public_item


def team_item(o: Org, unit=None):
    """A published internal item of a team (the boiler team unless given)."""
    from tests.factories import published_disclosure

    return published_disclosure(
        unit=unit or o.boiler_team, entry_code="team-bonus", period="2026-10"
    )


def team_draft(o: Org):
    from gongkai.disclosure.models import CatalogEntry
    from gongkai.disclosure.services import disclosure_create

    return disclosure_create(
        actor=o["teamlead"],
        unit=o.boiler_team,
        entry=CatalogEntry.objects.get(code="attendance"),
        title="十月考勤",
        procedure="<p>考勤</p>",
        result="<p>结果</p>",
        period="2026-10",
    )


def regulation(o: Org):
    from gongkai.disclosure.regulations import regulation_create

    return regulation_create(
        actor=None,
        company=o.company,
        code="team-rules",
        title="《班务公开规定》",
        body="<p>第一条</p>",
    )


# name → list of (url builder, expected status per persona)


def record_url(item) -> str:
    """The downloadable ledger record of a published item's first entry."""
    from gongkai.ledger.models import LedgerEntry

    entry = LedgerEntry.objects.filter(disclosure=item).order_by("sequence").first()
    return reverse("ledger:record", args=[item.pk, entry.sequence])


def signed_log(o: Org, name: str, **kwargs: str) -> str:
    """The URL ``name`` of the publication log, with one published item in a signed
    checkpoint."""
    from gongkai.ledger import transparency

    team_item(o)
    transparency.checkpoint()
    return reverse(name, kwargs=kwargs or None)


MATRIX: dict[str, list[Row]] = {
    "home": [(lambda o: reverse("home"), everyone(200))],
    "core:healthz": [(lambda o: reverse("core:healthz"), everyone(200, anon=200))],
    # Off without METRICS_TOKEN, for everyone; with it, only the bearer token opens it
    # (tests/test_observability.py).
    "ops:metrics": [(lambda o: reverse("ops:metrics"), everyone(404, anon=404))],
    "accounts:login": [(lambda o: reverse("accounts:login"), everyone(302, anon=200))],
    "accounts:logout": [(lambda o: reverse("accounts:logout"), everyone(405, anon=405))],
    "accounts:index": [(lambda o: reverse("accounts:index"), everyone(302))],
    "boards:index": [(lambda o: reverse("boards:index"), everyone(302))],
    "accounts:password_change": [(lambda o: reverse("accounts:password_change"), everyone(200))],
    "set_language": [(lambda o: reverse("set_language"), everyone(302, anon=302))],
    "org:unit_list": [(lambda o: reverse("org:unit_list"), everyone(200))],
    "org:unit_detail": [
        (lambda o: reverse("org:unit_detail", args=[o.boiler.code]), everyone(200)),
        (lambda o: reverse("org:unit_detail", args=[o.other_dept.code]), everyone(403)),
        (lambda o: reverse("org:unit_detail", args=["no-such-unit"]), everyone(404)),
    ],
    "org:role_grant": [(lambda o: reverse("org:role_grant", args=[o.boiler.code]), everyone(405))],
    "org:role_revoke": [
        (
            lambda o: reverse("org:role_revoke", args=[o["rep"].role_assignments.get().pk]),
            only({"union": 200}),
        ),
        (lambda o: reverse("org:role_revoke", args=[999_999]), everyone(404)),
    ],
    "org:person_detail": [
        (
            lambda o: reverse("org:person_detail", args=["employee"]),
            only(
                {"union": 200, "leader": 200, "supervisor": 200, "depthead": 200, "teamlead": 200}
            ),
        ),
        (
            lambda o: reverse("org:person_detail", args=["turbine_worker"]),
            only({"union": 200, "leader": 200, "supervisor": 200}),
        ),
        (
            lambda o: reverse("org:person_detail", args=["outsider"]),
            only({}),
        ),
    ],
    "org:person_unlock": [
        (lambda o: reverse("org:person_unlock", args=["employee"]), everyone(405))
    ],
    "org:person_password": [
        (lambda o: reverse("org:person_password", args=["employee"]), only({"union": 200})),
        (lambda o: reverse("org:person_password", args=["outsider"]), only({})),
    ],
    "org:person_active": [
        (lambda o: reverse("org:person_active", args=["employee"]), only({"union": 200})),
        (lambda o: reverse("org:person_active", args=["outsider"]), only({})),
        (lambda o: reverse("org:person_active", args=["nobody"]), everyone(404)),
    ],
    "disclosure:work": [(lambda o: reverse("disclosure:work"), everyone(200))],
    "disclosure:create": [
        (lambda o: reverse("disclosure:create"), only(DRAFTERS)),
    ],
    "disclosure:attest": [(lambda o: reverse("disclosure:attest"), only(DRAFTERS))],
    "disclosure:detail": [
        (lambda o: reverse("disclosure:detail", args=[team_item(o).pk]), everyone(200)),
        (
            lambda o: reverse("disclosure:detail", args=[team_item(o, o.turbine_team).pk]),
            only(READ_ALL_COMPANY, others=404),
        ),
        (
            lambda o: reverse("disclosure:detail", args=[team_draft(o).pk]),
            only(DRAFTERS, others=404),
        ),
        (lambda o: reverse("disclosure:detail", args=[999_999]), everyone(404)),
    ],
    "disclosure:edit": [
        (lambda o: reverse("disclosure:edit", args=[team_draft(o).pk]), only(DRAFTERS, 404)),
        (lambda o: reverse("disclosure:edit", args=[team_item(o).pk]), only({}, 403)),
    ],
    "disclosure:history": [
        (lambda o: reverse("disclosure:history", args=[team_item(o).pk]), everyone(200)),
    ],
    "disclosure:step": [
        (
            lambda o: reverse("disclosure:step", args=[team_item(o).pk, "withdraw"]),
            only(DRAFTERS),
        ),
        (
            lambda o: reverse("disclosure:step", args=[team_item(o).pk, "approve"]),
            only({}),
        ),
        (
            lambda o: reverse("disclosure:step", args=[team_item(o).pk, "explode"]),
            everyone(404),
        ),
    ],
    "disclosure:attachment_add": [
        (lambda o: reverse("disclosure:attachment_add", args=[team_draft(o).pk]), everyone(405)),
    ],
    "disclosure:attachment_remove": [
        (
            lambda o: reverse("disclosure:attachment_remove", args=[team_draft(o).pk, 999_999]),
            only(DRAFTERS, others=404) | {p: 404 for p in DRAFTERS},
        ),
    ],
    "catalog:index": [(lambda o: reverse("catalog:index"), everyone(200))],
    "catalog:entry": [
        (lambda o: reverse("catalog:entry", args=["entertainment"]), everyone(200)),
        (lambda o: reverse("catalog:entry", args=["no-such-entry"]), everyone(404)),
    ],
    "rules:index": [(lambda o: reverse("rules:index"), everyone(200))],
    "rules:detail": [
        (lambda o: reverse("rules:detail", args=[regulation(o).code]), everyone(200)),
        (lambda o: reverse("rules:detail", args=["nope"]), everyone(404)),
    ],
    "notifications:list": [(lambda o: reverse("notifications:list"), everyone(200))],
    "notifications:read_all": [(lambda o: reverse("notifications:read_all"), everyone(405))],
    "ledger:head": [(lambda o: reverse("ledger:head"), everyone(200))],
    "ledger:disclosure": [
        (
            lambda o: reverse("ledger:disclosure", args=[team_item(o).pk]),
            everyone(200, anon=404),
        ),
        (
            lambda o: reverse("ledger:disclosure", args=[team_item(o, o.turbine_team).pk]),
            only(READ_ALL_COMPANY, others=404, anon=404),
        ),
        (
            lambda o: reverse("ledger:disclosure", args=[team_draft(o).pk]),
            only(DRAFTERS, others=404, anon=404),
        ),
        (lambda o: reverse("ledger:disclosure", args=[999_999]), everyone(404, anon=404)),
    ],
    "ledger:record": [
        (lambda o: record_url(team_item(o)), everyone(200, anon=404)),
        (
            lambda o: record_url(team_item(o, o.turbine_team)),
            only(READ_ALL_COMPANY, others=404, anon=404),
        ),
        (lambda o: reverse("ledger:record", args=[999_999, 1]), everyone(404, anon=404)),
    ],
    # The transparency log is for anyone, signed in or not (gongkai.ledger.transparency).
    "ledger:checkpoint": [
        (lambda o: signed_log(o, "ledger:checkpoint"), everyone(200, anon=200)),
    ],
    "ledger:tile": [
        (lambda o: signed_log(o, "ledger:tile", path="tile/0/000.p/1"), everyone(200, anon=200)),
        (lambda o: signed_log(o, "ledger:tile", path="tile/0/001"), everyone(404, anon=404)),
    ],
    "ledger:proof_inclusion": [
        (lambda o: signed_log(o, "ledger:proof_inclusion") + "?index=0", everyone(200, anon=200)),
    ],
    "ledger:proof_consistency": [
        (
            lambda o: signed_log(o, "ledger:proof_consistency") + "?old=0&size=1",
            everyone(200, anon=200),
        ),
    ],
    "attachments:download": [
        (
            lambda o: reverse("attachments:download", args=[attachment_on(o.boiler_team).pk]),
            everyone(200),
        ),
        (
            lambda o: reverse("attachments:download", args=[attachment_on(o.turbine_team).pk]),
            only(READ_ALL_COMPANY, others=404),
        ),
        (
            lambda o: reverse(
                "attachments:download", args=[attachment_on(o.company, scope="public").pk]
            ),
            everyone(200, anon=200),
        ),
        (
            lambda o: reverse(
                "attachments:download", args=[attachment_on(o.boiler_team, published=False).pk]
            ),
            only(DRAFTERS, others=404),
        ),
        (lambda o: reverse("attachments:download", args=[999_999]), everyone(404)),
    ],
    "boards:board": [
        (lambda o: reverse("boards:board", args=[o.boiler_team.code]), everyone(200)),
        (lambda o: reverse("boards:board", args=[o.other_dept.code]), everyone(403)),
        (lambda o: reverse("boards:board", args=["no-such-unit"]), everyone(404)),
    ],
    "boards:rate": [(lambda o: reverse("boards:rate", args=[999_999]), everyone(405))],
    "boards:feed": [
        (lambda o: reverse("boards:feed", args=[o.boiler_team.code]), everyone(200, anon=200)),
        (lambda o: reverse("boards:feed", args=["no-such-unit"]), everyone(404, anon=404)),
    ],
    "public:index": [(lambda o: reverse("public:index"), everyone(200, anon=200))],
    "public:detail": [
        (lambda o: reverse("public:detail", args=[public_item(o).pk]), everyone(200, anon=200)),
        (lambda o: reverse("public:detail", args=[team_item(o).pk]), everyone(404, anon=404)),
    ],
    "public:feed": [(lambda o: reverse("public:feed"), everyone(200, anon=200))],
    "search:results": [
        (lambda o: reverse("search:results"), everyone(200)),
        (lambda o: reverse("search:results") + "?q=招标", everyone(200)),
    ],
    "org:roster_confirm": [(lambda o: reverse("org:roster_confirm"), everyone(405))],
    "org:roster_import": [(lambda o: reverse("org:roster_import"), only({"union": 200}))],
    "audit:event_list": [
        (lambda o: reverse("audit:event_list"), only({"union": 200, "supervisor": 200}))
    ],
}

for _area in AREAS:
    MATRIX.update(_area.ROWS)


def pattern_names(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= pattern_names(entry, namespace)
        elif isinstance(entry, URLPattern):
            assert entry.name, f"URL pattern {entry.pattern} has no name"
            names.add(prefix + entry.name)
    return names


def test_every_url_pattern_is_in_the_matrix():
    missing = pattern_names() - set(MATRIX)
    assert not missing, f"URL patterns missing from the access matrix: {sorted(missing)}"
    stale = set(MATRIX) - pattern_names()
    assert not stale, f"matrix rows for URL patterns that no longer exist: {sorted(stale)}"


CASES = [(name, i, who) for name, rows in MATRIX.items() for i in range(len(rows)) for who in WHO]


@pytest.mark.parametrize(
    ("name", "index", "who"), CASES, ids=[f"{n}[{i}]-{w}" for n, i, w in CASES]
)
def test_get_answers_as_expected(org: Org, client: Client, name: str, index: int, who: str):
    url_for, expected = MATRIX[name][index]
    if who != ANON:
        client.force_login(org[who])
    response = client.get(url_for(org))
    assert response.status_code == expected[who], (name, who, response.status_code)
    if (
        response.status_code == 302
        and who == ANON
        and expected[who] == 302
        and name not in {"set_language", "boards:index"}  # a visitor's boards: /public/
    ):
        assert response["Location"].startswith(reverse("accounts:login"))


def test_unknown_address_gets_the_friendly_404(client: Client, org: Org):
    client.force_login(org["employee"])
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "这个页面不存在" in response.content.decode() or "does not exist" in (
        response.content.decode()
    )


def test_forbidden_page_explains_itself(client: Client, org: Org):
    client.force_login(org["employee"])
    response = client.get(reverse("audit:event_list"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "union office" in body or "工会" in body
