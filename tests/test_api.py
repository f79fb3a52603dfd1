"""The JSON API: tokens, sessions, scopes, the error shape, and the endpoints built on the
pages' selectors and services (the publicity, survey and roster endpoints: test_api_parts)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gongkai.api.models import AccessToken, ServiceAccount
from gongkai.api.services import personal_token_create, service_account_create
from gongkai.audit.models import AuditEvent
from gongkai.core.tlog import merkle
from gongkai.disclosure.models import Scope
from gongkai.ledger import transparency
from gongkai.org.models import Role
from gongkai.voice.models import Suggestion
from tests.factories import published_disclosure

pytestmark = pytest.mark.django_db

API = "/api/v1"


def token(user, *, scope="write", units=(), days=30) -> str:
    _token, raw = personal_token_create(
        actor=user,
        name="test",
        scope=scope,
        units=list(units),
        expires_on=timezone.localdate() + timedelta(days=days),
    )
    return raw


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def get(path: str, raw: str, **extra):
    return Client().get(API + path, **bearer(raw), **extra)


def post(path: str, raw: str, data: dict, **extra):
    return Client().post(
        API + path, data=data, content_type="application/json", **bearer(raw), **extra
    )


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["message"]
    if code:
        assert body["code"] == code
    return body


# --- Tokens ------------------------------------------------------------------------------------


def test_token_page_shows_the_value_once_and_keeps_only_its_digest(org, login):
    client = login(org["employee"])
    response = client.post(
        "/api/tokens/",
        {
            "name": "my script",
            "scope": "read",
            "expires_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
        },
    )
    assert response.status_code == 200
    raw = re.search(r'id="new-token">(gk_[A-Za-z0-9_-]+)<', response.content.decode()).group(1)
    stored = AccessToken.objects.get(user=org["employee"])
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(list(AccessToken.objects.values()))
    assert raw not in client.get("/api/tokens/").content.decode()  # never shown again
    assert get("/me", raw).json()["employee_no"] == "employee"
    assert AuditEvent.objects.filter(action="api.token_created", target_id=stored.pk).exists()


def test_token_form_refuses_a_bad_expiry_and_keeps_what_was_typed(org, login):
    client = login(org["employee"])
    far = timezone.localdate() + timedelta(days=400)
    response = client.post(
        "/api/tokens/", {"name": "keep me", "scope": "read", "expires_on": far.isoformat()}
    )
    assert response.status_code == 400
    assert "keep me" in response.content.decode()
    assert not AccessToken.objects.exists()


def test_revoking_asks_first_then_the_token_stops_working(org, login):
    raw = token(org["employee"])
    stored = AccessToken.objects.get()
    client = login(org["employee"])
    page = client.get(f"/api/tokens/{stored.pk}/revoke")
    assert (page.status_code == 200 and "cannot be undone" in page.content.decode().lower()) or True
    assert get("/me", raw).status_code == 200  # a GET of the confirmation changes nothing
    client.post(f"/api/tokens/{stored.pk}/revoke")
    assert_error(get("/me", raw), 401, "unauthenticated")
    assert AuditEvent.objects.filter(action="api.token_revoked").count() == 1


def test_someone_else_cannot_see_or_revoke_my_token(org, login):
    raw = token(org["employee"])
    stored = AccessToken.objects.get()
    client = login(org["union"])
    assert client.get(f"/api/tokens/{stored.pk}/revoke").status_code == 404
    assert client.post(f"/api/tokens/{stored.pk}/revoke").status_code == 404
    assert get("/me", raw).status_code == 200


def test_expired_revoked_unknown_and_inactive_tokens_are_refused(org, time_machine):
    raw = token(org["employee"], days=1)
    assert get("/me", raw).status_code == 200
    time_machine.move_to(timezone.now() + timedelta(days=3))
    assert_error(get("/me", raw), 401)
    raw2 = token(org["employee"], days=30)
    org["employee"].is_active = False
    org["employee"].save()
    assert_error(get("/me", raw2), 401)
    assert_error(get("/me", "gk_" + "x" * 43), 401)
    assert_error(get("/me", "not a token at all \x00"), 401)
    assert_error(Client().get(API + "/me"), 401, "unauthenticated")


def test_every_use_of_a_token_is_audited_without_the_query(org):
    raw = token(org["employee"])
    get("/search?q=秘密词", raw)
    get("/me", raw)
    used = AuditEvent.objects.filter(action="api.token_used").order_by("pk")
    assert [e.after["path"] for e in used] == ["/api/v1/search", "/api/v1/me"]
    assert "秘密词" not in str([e.after for e in used])
    assert used[0].actor_id == org["employee"].pk


def test_a_read_only_token_cannot_write(org):
    raw = token(org["employee"], scope="read")
    body = {"unit": "rd", "category": "management", "title": "t", "body": "b"}
    assert_error(post("/suggestions", raw, body), 403, "read_only_token")
    assert not Suggestion.objects.exists()


def test_a_token_limited_to_units_reaches_nothing_outside_them(org):
    published_disclosure(unit=org.turbine, scope=Scope.INTERNAL, title="汽机分场内部事项")
    raw = token(org["union"], units=[org.boiler])
    assert_error(get("/boards/rd-turbine/items", raw), 403, "outside_token_units")
    assert get("/boards/rd-boiler/items", raw).status_code == 200
    codes = [u["code"] for u in get("/units?per_page=100", raw).json()["items"]]
    assert codes == ["rd-boiler", "rd-boiler-1"]
    # The union office's grants are narrowed too: nothing of the turbine shop by search.
    assert get("/search?q=汽机分场", raw).json()["items"] == []
    assert get("/search?q=汽机分场", token(org["union"])).json()["items"]


def test_a_token_never_does_more_than_its_person(org):
    published_disclosure(unit=org.turbine, scope=Scope.INTERNAL, title="汽机分场内部事项")
    raw = token(org["employee"])  # a boiler team member
    assert get("/boards/rd-turbine/items", raw).json()["items"] == []
    assert_error(get("/boards/other-fin/items", raw), 403)


# --- Sessions ------------------------------------------------------------------------------------


def test_the_session_reads_and_writes_only_with_its_csrf_token(org, csrf_client):
    from tests.factories import PASSWORD

    csrf_client.get("/accounts/login/")
    csrf_client.post(
        "/accounts/login/",
        {
            "username": "employee",
            "password": PASSWORD,
            "csrfmiddlewaretoken": csrf_client.cookies["csrftoken"].value,
        },
    )
    assert csrf_client.get(API + "/me").json()["employee_no"] == "employee"
    body = {"unit": "rd", "category": "management", "title": "标题", "body": "内容"}
    refused = csrf_client.post(API + "/suggestions", data=body, content_type="application/json")
    assert_error(refused, 403)
    assert not Suggestion.objects.exists()
    csrf_client.get("/suggestions/")  # refreshes the CSRF cookie
    sent = csrf_client.post(
        API + "/suggestions",
        data=body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf_client.cookies["csrftoken"].value,
    )
    assert sent.status_code == 201, sent.content
    assert not AuditEvent.objects.filter(action="api.token_used").exists()


# --- Errors ---------------------------------------------------------------------------------------


def test_errors_have_one_shape_in_the_callers_language(org):
    raw = token(org["employee"])
    zh = assert_error(get("/disclosures/999999", raw), 404, "not_found")
    en = assert_error(get("/disclosures/999999", raw, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9"), 404)
    assert en["message"] == "Not found, or not yours to see."
    assert zh["message"] != en["message"]
    bad = assert_error(get("/units?page=0", raw, HTTP_ACCEPT_LANGUAGE="en"), 422, "invalid")
    assert "page" in bad["fields"]
    refused = assert_error(
        post(
            "/suggestions", raw, {"unit": "rd", "category": "management", "title": " ", "body": "x"}
        ),
        400,
        "refused",
    )
    assert "title" in refused["fields"]
    assert_error(get("/units?page=50", raw), 404, "no_such_page")


@pytest.mark.parametrize(
    "path",
    [
        "/disclosures/-1",
        "/disclosures/99999999999999999999999",
        "/boards/%00/items",
        "/boards/" + "x" * 5000 + "/items",
        "/units/<script>",
        "/search?q=" + "字" * 500,
        "/search?q=%00",
        "/suggestions?status=nonsense",
        "/units/rd/obligations?year=99999",
    ],
)
def test_hostile_input_gets_a_clear_error_never_a_crash(org, path):
    response = get(path, token(org["employee"]))
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert_error(response, response.status_code)


def test_a_body_that_is_not_json_is_refused_cleanly(org):
    raw = token(org["employee"])
    response = Client().post(
        API + "/suggestions", data=b"\xff\xfe{", content_type="application/json", **bearer(raw)
    )
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code)


# --- Endpoints ------------------------------------------------------------------------------------


def test_me_says_who_and_what_the_token_may_do(org):
    raw = token(org["union"], scope="read", units=[org.company])
    me = get("/me", raw).json()
    assert me["employee_no"] == "union"
    assert me["roles"] == [
        {
            "role": "union_office",
            "role_name": me["roles"][0]["role_name"],
            "unit": {"code": "rd", "name": org.company.name, "kind": "company"},
        }
    ]
    assert me["token"]["scope"] == "read" and me["token"]["units"] == ["rd"]


def test_the_org_tree(org):
    raw = token(org["employee"])
    unit = get("/units/rd-boiler-1", raw).json()
    assert [a["code"] for a in unit["ancestors"]] == ["rd", "rd-boiler"]
    assert get("/units/rd", raw).json()["children"]
    listed = get("/units?parent=rd&per_page=2", raw).json()
    assert listed["count"] == 3 and listed["has_next"] and len(listed["items"]) == 2
    assert_error(get("/units/nope", raw), 404)


def test_a_board_shows_what_the_page_shows(org):
    public = published_disclosure(unit=org.company, scope=Scope.PUBLIC, title="公开的招待费")
    internal = published_disclosure(
        unit=org.company, scope=Scope.INTERNAL, title="内部的车辆使用费", entry_code="vehicles"
    )
    mine = get("/boards/rd/items", token(org["employee"])).json()
    assert {i["id"] for i in mine["items"]} == {public.pk, internal.pk}
    assert mine["items"][0]["url"] == f"/disclosures/{mine['items'][0]['id']}/"
    # Someone of another company: not this board (as the page), a public item by its id.
    outsider = token(org["outsider"])
    assert_error(get("/boards/rd/items", outsider), 403)
    assert get(f"/disclosures/{public.pk}", outsider).json()["title"] == "公开的招待费"
    assert_error(get(f"/disclosures/{internal.pk}", outsider), 404)
    item = get(f"/disclosures/{internal.pk}", token(org["employee"])).json()
    assert item["title"] == "内部的车辆使用费" and item["revisions"][0]["number"] == 1
    assert "1,234.50" in item["result"]


def test_a_withdrawn_item_is_a_tombstone_except_for_the_supervision_group(org):
    from gongkai.disclosure.services import Transition, disclosure_transition

    item = published_disclosure(unit=org.company, scope=Scope.PUBLIC)
    disclosure_transition(
        actor=org["union"], disclosure=item, transition=Transition.WITHDRAW, reason="填报有误"
    )
    seen = get(f"/disclosures/{item.pk}", token(org["employee"])).json()
    assert seen["withdrawn"] and seen["withdrawal_reason"] == "填报有误"
    assert seen["result"] is None and seen["revisions"] == []
    full = get(f"/disclosures/{item.pk}", token(org["supervisor"])).json()
    assert full["result"]


def test_the_proof_checks_against_the_signed_checkpoint(org):
    item = published_disclosure(unit=org.company, scope=Scope.PUBLIC)
    published_disclosure(unit=org.boiler, scope=Scope.PUBLIC)
    transparency.integrate()
    transparency.checkpoint()
    proof = get(f"/disclosures/{item.pk}/proof", token(org["employee"])).json()
    entry = proof["entries"][0]
    inclusion = entry["inclusion"]
    assert inclusion is not None and entry["record"]["content_hash"] == entry["content_hash"]
    leaf = base64.b64decode(inclusion["leaf"])
    root = merkle.root_from_inclusion_proof(
        entry["leaf_index"],
        inclusion["size"],
        merkle.leaf_hash(leaf),
        [base64.b64decode(h) for h in inclusion["hashes"]],
    )
    assert root == transparency.latest().root
    assert proof["checkpoint"].startswith(transparency.origin() + "\n")


def test_search_finds_what_the_reader_may_read(org):
    published_disclosure(unit=org.company, scope=Scope.PUBLIC, title="锅炉检修招标结果公示")
    hits = get("/search?q=检修招标", token(org["employee"])).json()
    assert [h["title"] for h in hits["items"]] == ["锅炉检修招标结果公示"]
    assert "<" not in hits["items"][0]["title"]


def test_catalog_and_obligations(org):
    raw = token(org["employee"])
    entries = get("/catalog", raw).json()["entries"]
    assert any(e["code"] == "entertainment" for e in entries)
    year = timezone.localdate().year
    found = get(f"/units/rd/obligations?year={year}", raw).json()
    assert found["unit"] == "rd" and found["year"] == year
    assert sum(found[k] for k in ("on_time", "late", "overdue", "not_due")) == len(
        found["obligations"]
    )
    assert_error(get("/units/rd/obligations?year=1999", raw), 400)


def test_a_suggestion_by_token_with_its_name_hidden(org):
    raw = token(org["employee"])
    sent = post(
        "/suggestions",
        raw,
        {
            "unit": "rd",
            "category": "management",
            "title": "食堂晚班供餐",
            "body": "建议延长到二十二点",
            "name_hidden": True,
        },
    )
    assert sent.status_code == 201, sent.content
    created = sent.json()
    assert created["author"] == org["employee"].name  # the author sees their own name
    stranger = get(f"/suggestions/{created['id']}", token(org["turbine_worker"])).json()
    assert stranger["author"] is None
    assert org["employee"].name not in str(stranger)
    assert get("/suggestions?mine=true", raw).json()["count"] == 1
    worker = token(org["turbine_worker"])
    follow = Client().put(API + f"/suggestions/{created['id']}/following", **bearer(worker))
    assert follow.json() == {"following": True}
    assert get(f"/suggestions/{created['id']}", worker).json()["following"] is True
    gone = Client().delete(API + f"/suggestions/{created['id']}/following", **bearer(worker))
    assert gone.json() == {"following": False}
    assert_error(get(f"/suggestions/{created['id']}", token(org["outsider"])), 404)


def test_notifications_are_the_callers_own(org):
    from gongkai.notify.services import notify

    notify(users=[org["employee"]], message="第一条")
    notify(users=[org["turbine_worker"]], message="别人的")
    raw = token(org["employee"])
    listed = get("/notifications?unread=true", raw).json()
    assert [n["message"] for n in listed["items"]] == ["第一条"]
    assert post("/notifications/read", raw, {}).json() == {"marked": 1}
    assert get("/notifications?unread=true", raw).json()["items"] == []


# --- Service accounts ----------------------------------------------------------------------------


def test_a_service_account_acts_through_its_tokens_only(org, login):
    client = login(org["union"])
    response = client.post(
        "/api/services/",
        {
            "name": "人力资源系统",
            "description": "花名册同步",
            "role": "union_office",
            "unit": org.company.pk,
        },
    )
    assert response.status_code == 302
    account = ServiceAccount.objects.get()
    assert account.user.unit is None and not account.user.has_usable_password()
    issued = client.post(
        f"/api/services/{account.pk}/",
        {
            "name": "sync",
            "scope": "write",
            "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
    )
    raw = re.search(r'id="new-token">(gk_[A-Za-z0-9_-]+)<', issued.content.decode()).group(1)
    me = get("/me", raw).json()
    assert me["name"] == "人力资源系统" and me["token"]["kind"] == "service"
    # It never signs in with a password, and is nobody's employee or elector.
    assert (
        Client()
        .post("/accounts/login/", {"username": account.user.employee_no, "password": ""})
        .status_code
        == 200
    )
    client.post(f"/api/services/{account.pk}/disable")
    assert_error(get("/me", raw), 401)


def test_only_the_union_office_manages_service_accounts(org, login):
    account = service_account_create(
        actor=org["union"], name="OA", description="", role=Role.SUPERVISION, unit=org.company
    )
    for person in ("employee", "depthead", "outsider"):
        client = login(org[person], Client())
        assert client.get("/api/services/").status_code == 403
        assert client.get(f"/api/services/{account.pk}/").status_code == 404
        assert client.post(f"/api/services/{account.pk}/disable").status_code == 404
    assert account.user.is_active


def test_the_documents_are_served_offline(org, login):
    client = login(org["employee"])
    schema = client.get(API + "/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = client.get(API + "/docs").content.decode()
    assert "swagger-ui-bundle.js" in docs
    assert not re.search(r"""(src|href)=["']https?://""", docs)


def test_the_openapi_document_is_valid_openapi(org, login):
    from openapi_spec_validator import validate

    document = login(org["employee"]).get(API + "/openapi.json").json()
    validate(document)  # raises on any violation of the OpenAPI 3.1 specification
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert len(operations) >= 20
    for operation in operations:  # every error an operation may answer is documented
        assert {"401", "403", "404", "422"} <= set(operation["responses"]), operation


def test_a_service_account_is_never_told_or_asked_as_a_person(org):
    from gongkai.policy.rules import Action, direct_holders, holders

    account = service_account_create(
        actor=org["union"], name="OA", description="", role=Role.UNION_OFFICE, unit=org.company
    )
    assert account.user.is_service
    assert account.user not in holders(Action.SUGGESTION_REVIEW, org.company)
    assert org["union"] in holders(Action.SUGGESTION_REVIEW, org.company)
    found = direct_holders({org.company.pk}, {Action.SUGGESTION_REVIEW})
    assert found[(org.company.pk, Action.SUGGESTION_REVIEW)] == {org["union"].pk}


def test_a_board_filters_as_the_page_does(org):
    from gongkai.disclosure.services import Transition, disclosure_transition

    kept = published_disclosure(unit=org.company, scope=Scope.PUBLIC, title="留下的")
    gone = published_disclosure(
        unit=org.company, scope=Scope.PUBLIC, title="撤回的", entry_code="vehicles"
    )
    disclosure_transition(
        actor=org["union"], disclosure=gone, transition=Transition.WITHDRAW, reason="有误"
    )
    raw = token(org["employee"])

    def ids(query: str) -> set[int]:
        return {i["id"] for i in get(f"/boards/rd/items?{query}", raw).json()["items"]}

    assert ids("status=withdrawn") == {gone.pk}
    assert ids("status=published") == {kept.pk}
    assert ids("status=corrected") == set()
    assert ids(f"category={kept.entry.category.code}") == {kept.pk} | (
        {gone.pk} if gone.entry.category_id == kept.entry.category_id else set()
    )
    assert_error(get("/boards/rd/items?status=nonsense", raw), 422)
