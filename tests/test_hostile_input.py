"""No input produces a server error: every URL pattern, asked with hostile query strings,
hostile path segments and hostile form bodies, as anonymous and as signed-in people, answers
below 500 (Client(raise_request_exception=False): an exception is a 500 to count).

The URLs come from the access matrix (``tests/test_access_matrix.py`` and
``tests/matrix/*.py``): the first row of each pattern builds real rows and gives a URL with
real ids. Each row is built inside a savepoint that is rolled back afterwards, so the rows of
one pattern never collide with another's, and each request runs in its own savepoint, so a
database error in one request cannot poison the next one (PostgreSQL aborts the transaction).

Hostile values are sampled, not crossed with everything: each (URL, person) gets a few values
in rotation, so every value reaches many views while a run stays well under a minute; NUL
(which PostgreSQL refuses in any text) is sent to every query parameter a view reads.
Where sampling could miss a class, a static check covers it: every number field of a form is
bounded, every multiple choice of rows refuses ids beyond 64 bits.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django import forms
from django.db import transaction
from django.http import HttpResponseBase
from django.test import Client
from django.urls import resolve, reverse

from gongkai.core.form_fields import IdMultipleChoiceField
from tests.conftest import Org
from tests.matrix.helpers import ANON
from tests.test_access_matrix import MATRIX, pattern_names

# Every query parameter a view reads (grep request.GET and the GET forms' fields) ...
QUERY_NAMES = (
    "page",
    "d",
    "q",
    "action",
    "since",
    "until",
    "unit",
    "company",
    "status",
    "source",
    "state",
    "start",
    "end",
    "period",
    "category",
    "year",
    "mine",
    "finding",
    "session",
    "overdue",
    "sequence",
    "entry_hash",
    "v",
    "a",
    "b",
    "next",
)
# ... and names that collide with dict methods and attributes in template lookups.
TRAP_NAMES = ("items", "keys", "values", "get", "update", "pop", "copy", "__class__", "pk", "id")

# Raw (already percent-encoded) query values.
QUERY_VALUES = (
    "%00",
    "a%00b",
    "%01%02%03%1B%7F%C2%85",
    "%0D%0ASet-Cookie:%20x=y",
    "x" * 10_000,
    "%ff%fe",
    "%C0%80",
    "%ED%A0%80",
    "-1",
    "0",
    "99999999999999999999",
    "-99999999999999999999",
    "1e309",
    "nan",
    "abc",
    "2026-02-30",
    "99999-12-31",
    "%E4%B8%AD%E6%96%87",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "'%22%3B--",
    "%25",
    "+",
)
NUL_VALUES = ("%00", "a%00b")
# Odd shapes: repeated names, names without values, hostile names.
QUERY_SHAPES = (
    "items&keys=&values=1&page=1&page=abc",
    "%00=1&%ff=2&q%00=3&=x",
    "page=-1&d=-1&year=-1",
    "page=99999999999999999999&year=99999999999999999999&session=99999999999999999999",
    "__class__=x&get=1&pop=2&update=3&copy=4&pk=5",
)

# Raw path segments that each converter accepts, so that they reach the view. (Segments the
# converters refuse end at the resolver's 404; test_unknown_paths_with_hostile_bytes_are_404.)
SEGMENTS: dict[str, tuple[str, ...]] = {
    "int": ("99999999999999999999", "9223372036854775808"),
    "str": (
        "%00",
        "a%00b",
        "%ff%fe",
        "%C0%AF",
        "x" * 10_000,
        "%E4%B8%AD%E6%96%87",
        "%0A%0D%09",
        "__class__",
    ),
    "slug": ("a" * 10_000, "items", "__class__"),
    "uuid": ("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
}
# Numbers past a date's year (1–9999), a smallint and an integer column: every one for a year,
# one in turn for other numbers.
INT_EDGES = ("0", "10000", "32768", "2147483648")
CONVERTER = re.compile(r"<(?:(?P<kind>[^>:]+):)?(?P<name>[^>]+)>")

SIGNED_IN = ("employee", "union")


def first_rows() -> list[tuple[str, Callable[[Org], str], dict[str, int]]]:
    return [(name, *rows[0]) for name, rows in sorted(MATRIX.items())]


def people(expected: dict[str, int]) -> list[str]:
    """Anonymous, the employee, the union office, and last someone who gets the page (200),
    who reaches deepest into the view (the union office when nobody does)."""
    deep = next((who for who, status in expected.items() if status == 200), "union")
    return [*(who for who in (ANON, *SIGNED_IN) if who != deep), deep]


@contextmanager
def built(org: Org, url_for: Callable[[Org], str]) -> Iterator[str]:
    """The row's URL, its data living only for the ``with`` block."""
    with transaction.atomic():
        yield url_for(org)
        transaction.set_rollback(True)


class Asker:
    """GETs in savepoints (rolled back), collecting every answer of 500 or above."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.failures: list[str] = []
        self.count = 0

    def client(self, who: str) -> Client:
        # A fresh login per built row: sessions live in the row's savepoint.
        c = Client(raise_request_exception=False)
        if who != ANON:
            c.force_login(self.org[who])
        return c

    def get(self, c: Client, who: str, url: str) -> None:
        self.count += 1
        shown = url if len(url) < 300 else url[:150] + "…" + url[-60:]
        with transaction.atomic():
            response: HttpResponseBase = c.get(url)
            if response.streaming:  # a download fails while it streams, not before
                try:
                    b"".join(response.streaming_content)  # type: ignore[attr-defined]
                except Exception as exc:
                    self.failures.append(f"streaming {who} GET {shown} {exc!r:.300}")
            transaction.set_rollback(True)
        if response.status_code >= 500:
            exc_info = getattr(response, "exc_info", None)
            cause = repr(exc_info[1])[:300] if exc_info else ""
            self.failures.append(f"{response.status_code} {who} GET {shown} {cause}")

    def post(self, c: Client, who: str, url: str, body: str) -> None:
        """A form POST with a raw (already percent-encoded) body."""
        self.count += 1
        with transaction.atomic():
            response = c.post(url, body, content_type="application/x-www-form-urlencoded")
            transaction.set_rollback(True)
        if response.status_code >= 500:
            exc_info = getattr(response, "exc_info", None)
            cause = repr(exc_info[1])[:300] if exc_info else ""
            self.failures.append(f"{response.status_code} {who} POST {url} {body[:80]}… {cause}")

    def check(self) -> None:
        assert not self.failures, f"{len(self.failures)} of {self.count} requests:\n" + (
            "\n".join(self.failures[:80])
        )


BARE_GET = re.compile(r"(?:(\w+)\(\s*)?request\.GET(?![.\[\w])")
NAMED_GET = re.compile(r"request\.GET(?:\.get\(|\[)\s*[\"'](\w+)[\"']")


def names_read(url: str) -> tuple[str, ...]:
    """The query parameters the view's own code reads: ``request.GET.get("x")``,
    ``request.GET["x"]`` and the fields of a form bound to ``request.GET``; every name when
    it hands the query on to something else. Each is then tried alone, so that one refused
    parameter cannot hide another's crash."""
    func = inspect.unwrap(resolve(url.split("?")[0]).func)
    if not inspect.isfunction(func):  # the JSON API's operations (ninja): every name
        return QUERY_NAMES
    source = inspect.getsource(func)
    names = set(NAMED_GET.findall(source))
    for m in BARE_GET.finditer(source):
        fields = getattr(func.__globals__.get(m[1] or ""), "base_fields", None)
        if fields is None:
            return QUERY_NAMES
        names |= set(fields)
    return tuple(sorted(names))


def pick(values: tuple[str, ...], seed: int, n: int) -> list[str]:
    return [values[(seed * 7 + k * 5) % len(values)] for k in range(n)]


@pytest.fixture
def hostile_rows(org: Org) -> Org:
    """More audit events than one page holds, their before/after keyed by dict-method names
    with hostile values, so the audit log paginates and shows them."""
    from gongkai.audit.services import record_event

    for n in range(60):
        data = {name: f"{name}\x01<{n}>" for name in TRAP_NAMES}
        record_event(
            actor=org["union"],
            action="hostile.test",
            unit=org.company,
            target_label=f"<b>&{n}",
            before={**data, "nested": {"items": [1, {"keys": None}]}},
            after={"items": n, "values": ["\x01", "x" * 500]},
        )
    return org


def test_every_url_pattern_is_asked():
    assert {name for name, *_ in first_rows()} == pattern_names()


def test_no_query_string_gets_a_server_error(hostile_rows: Org):
    org = hostile_rows
    asker = Asker(org)
    names = (*QUERY_NAMES, *TRAP_NAMES)
    for i, (_name, url_for, expected) in enumerate(first_rows()):
        with built(org, url_for) as url:
            sep = "&" if "?" in url else "?"
            clients = {who: asker.client(who) for who in people(expected)}
            for j, (who, c) in enumerate(clients.items()):
                (value,) = pick(QUERY_VALUES, i + j, 1)
                asker.get(c, who, url + sep + "&".join(f"{n}={value}" for n in names))
            deep, c = list(clients.items())[-1]  # who gets the page: every name alone
            asker.get(c, deep, url + sep + QUERY_SHAPES[i % len(QUERY_SHAPES)])
            for k, name in enumerate(names_read(url)):
                # NUL every time: PostgreSQL refuses it in any text parameter.
                for value in (NUL_VALUES[k % 2], *pick(QUERY_VALUES, i + k, 1)):
                    asker.get(c, deep, f"{url}{sep}{name}={value}")
    asker.check()


def with_segment(route: str, kwargs: dict[str, object], param: str, segment: str) -> str:
    """The route's path with ``param`` replaced by the raw ``segment`` (the other parameters
    keep their real values)."""

    def fill(m: re.Match[str]) -> str:
        if m["name"] == param:
            return segment
        return quote(str(kwargs[m["name"]]), safe="")

    return "/" + CONVERTER.sub(fill, route)


def test_no_path_segment_gets_a_server_error(org: Org):
    asker = Asker(org)
    for i, (_name, url_for, expected) in enumerate(first_rows()):
        with built(org, url_for) as url:
            match = resolve(url.split("?")[0])
            params = [(m["kind"] or "str", m["name"]) for m in CONVERTER.finditer(match.route)]
            if not params:
                continue
            clients = {who: asker.client(who) for who in people(expected)}
            deep = list(clients)[-1]
            for kind, param in params:
                segments = SEGMENTS[kind]
                if kind == "int":
                    segments += INT_EDGES if param == "year" else (INT_EDGES[i % 4],)
                for k, segment in enumerate(segments):
                    hostile = with_segment(match.route, match.kwargs, param, segment)
                    for j, (who, c) in enumerate(clients.items()):
                        # Anonymous and the deepest reader get every value, the others one.
                        if who in SIGNED_IN and who != deep and (i + j + k) % len(segments):
                            continue
                        asker.get(c, who, hostile)
    asker.check()


def gongkai_forms() -> list[type[forms.BaseForm]]:
    """Every form class defined in gongkai (every module imported, migrations aside)."""
    import gongkai

    for module in pkgutil.walk_packages(gongkai.__path__, "gongkai."):
        if ".migrations" not in module.name and not module.ispkg:
            importlib.import_module(module.name)
    found: list[type[forms.BaseForm]] = []
    todo: list[type[forms.BaseForm]] = [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("gongkai."):
                found.append(sub)
    return found


def form_field_names() -> tuple[str, ...]:
    """Every declared field name of every gongkai form, and the names views read from
    request.POST directly: what a POST can carry."""
    names = {"code", "company", "confirm", "direction", "do", "follow", "next", "present"}
    names |= {"token", "item-1", "item-abc", "item-99999999999999999999"}
    for form in gongkai_forms():
        names |= set(getattr(form, "base_fields", {}))
    return tuple(sorted(names))


def test_no_form_post_gets_a_server_error(org: Org):
    """Every URL pattern, POSTed every form field name with one hostile value (in turn) by
    the union office, and by whoever gets the page with NUL and with a huge number."""
    asker = Asker(org)
    names = form_field_names()
    for i, (_name, url_for, expected) in enumerate(first_rows()):
        with built(org, url_for) as url:
            deep = people(expected)[-1]
            deep = "employee" if deep == ANON else deep
            clients = {who: asker.client(who) for who in dict.fromkeys(["union", deep])}
            (value,) = pick(QUERY_VALUES, i, 1)
            asker.post(clients["union"], "union", url, "&".join(f"{n}={value}" for n in names))
            for value in (NUL_VALUES[i % 2], "99999999999999999999"):
                asker.post(clients[deep], deep, url, "&".join(f"{n}={value}" for n in names))
    asker.check()


def test_every_number_a_form_takes_is_bounded():
    """A number beyond the column's range fails when it is saved (SQLite: OverflowError;
    PostgreSQL: "integer out of range"): each number field has a maximum, or its form checks
    the range itself (``clean_<name>``)."""
    unbounded = [
        f"{form.__module__}.{form.__qualname__}.{name}"
        for form in gongkai_forms()
        for name, field in getattr(form, "base_fields", {}).items()
        if isinstance(field, forms.IntegerField | forms.FloatField | forms.DecimalField)
        and (field.max_value is None or field.min_value is None)
        and not hasattr(form, f"clean_{name}")
    ]
    assert not unbounded, unbounded


def test_every_choice_of_several_rows_refuses_ids_beyond_64_bits():
    """Django checks a ModelMultipleChoiceField's ids with ``pk__in``, which SQLite cannot bind
    beyond 64 bits: the apps use core.form_fields.IdMultipleChoiceField."""
    plain = [
        f"{form.__module__}.{form.__qualname__}.{name}"
        for form in gongkai_forms()
        for name, field in getattr(form, "base_fields", {}).items()
        if isinstance(field, forms.ModelMultipleChoiceField)
        and not isinstance(field, IdMultipleChoiceField)
    ]
    assert not plain, plain


@pytest.mark.parametrize("who", [ANON, "employee", "union"])
def test_unknown_paths_with_hostile_bytes_are_404(org: Org, who: str):
    asker = Asker(org)
    c = asker.client(who)
    for path in (
        "/%00/",
        "/org/%00/",
        "/%ff%fe/",
        "/boards/%C0%AF/",
        "/boards/%00/",
        "/disclosures/-1/",
        "/disclosures/1%00/",
        "/disclosures/%EF%BC%91/",  # a full-width digit
        "/reporting/status/%00/",
        "/" + "a" * 10_000 + "/",
    ):
        asker.get(c, who, path)
    asker.check()


# --- The audit log's before/after and other JSON shown in pages ------------------------------


def test_audit_page_lists_events_whose_data_has_dict_method_keys(hostile_rows: Org):
    """A vote's creation records ``{"items": 2}``: the page used to answer 500 on it, since the
    template's ``after.items`` found the number instead of the method."""
    from tests.test_ballots import make_hall, resolution

    org = hostile_rows
    resolution(org, make_hall(org))
    client = Client(raise_request_exception=False)
    client.force_login(org["union"])
    for query in ("", "?page=2", "?items=x&keys=y&page=2", "?action=hostile.test&__class__=1"):
        response = client.get(reverse("audit:event_list") + query)
        assert response.status_code == 200, query
    body = client.get(reverse("audit:event_list")).content.decode()
    assert "事项：2" in body  # the vote's two items, named in the reader's language
    assert "keys：keys\x01&lt;59&gt;" in body  # escaped once, shown as text
    assert 'nested：{"items": [1, {"keys": null}]}' in body.replace("&quot;", '"')


def test_pairs_never_looks_up_keys():
    from gongkai.core.formatting import MAX_VALUE_CHARS, pairs

    data = {"items": 1, "keys": None, "get": [1, "二"], "copy": {"a": True}, "x": "y" * 3000}
    assert pairs(data)[:4] == [
        ("items", "1"),
        ("keys", "—"),
        ("get", '[1, "二"]'),
        ("copy", '{"a": true}'),
    ]
    assert len(pairs(data)[4][1]) == MAX_VALUE_CHARS + 1
    assert pairs(None) == pairs({}) == pairs("") == []
    assert pairs(["a", 1]) == [("", '["a", 1]')]
    assert pairs("text") == [("", "text")]


def test_the_pairs_filter_and_the_page_links_in_templates(rf):
    from django.template import engines

    template = engines["django"].from_string(
        "{% load formatting %}{% for k, v in data|pairs %}[{{ k }}={{ v }}]{% endfor %}"
        "|{% page_query 3 %}"
    )
    request = rf.get("/x/?items=a&keys=b&page=1&q=%3Cb%3E&q=2")
    out = template.render({"data": {"items": "<i>", "values": 2}}, request)
    shown, link = out.split("|")
    assert shown == "[items=&lt;i&gt;][values=2]"
    assert link == "?items=a&amp;keys=b&amp;page=3&amp;q=%3Cb%3E&amp;q=2"


def test_a_session_cookie_with_nul_is_400_not_500(org: Org):
    """A raw NUL in a cookie (gunicorn refuses it; other servers may not): PostgreSQL would
    refuse the session lookup."""
    client = Client(raise_request_exception=False)
    client.force_login(org["employee"])
    client.cookies["sessionid"] = "abc\x00defghijklmnop"
    assert client.get(reverse("home")).status_code == 400
    assert client.cookies["sessionid"].value == ""  # the bad cookie is deleted
