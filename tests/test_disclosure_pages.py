"""The workflow through the pages: forms keep bad input, forbidden steps change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from gongkai.audit.models import AuditEvent
from gongkai.disclosure.models import CatalogEntry, CatalogRule, Disclosure, Regulation
from gongkai.disclosure.regulations import regulation_create
from gongkai.notify.models import Notification
from tests.conftest import PERSONAS
from tests.factories import approve_through, published_disclosure


@pytest.fixture
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def as_(client: Client, user) -> Client:
    client.force_login(user)
    return client


def form_data(org, **overrides):
    data = {
        "unit": org.boiler_team.pk,
        "entry": CatalogEntry.objects.get(code="attendance").pk,
        "period": "2026-10",
        "title": "十月考勤与加班公开",
        "procedure": "班组考勤员记录，班长审核。",
        "result": "加班 36 小时，已按规定支付。",
        "scope": "",
        "table_text": "",
    }
    return data | overrides


def test_teamlead_drafts_submits_and_the_department_head_approves(org, client):
    as_(client, org["teamlead"])
    response = client.post(reverse("disclosure:create"), form_data(org))
    assert response.status_code == 302
    d = Disclosure.objects.get()
    assert d.status == "draft" and d.author == org["teamlead"]
    assert d.procedure == "<p>班组考勤员记录，班长审核。</p>"
    assert client.get(reverse("disclosure:step", args=[d.pk, "submit"])).status_code == 200
    client.post(reverse("disclosure:step", args=[d.pk, "submit"]))
    as_(client, org["depthead"])
    work = client.get(reverse("disclosure:work"))
    assert d in list(work.context["awaiting"])
    # The team's only head wrote the item: the department head takes the team's level in
    # its place, with a reason, and then the department's own level.
    approve = reverse("disclosure:step", args=[d.pk, "approve"])
    assert client.post(approve, {"acting_for": ""}).status_code == 400
    d.refresh_from_db()
    assert d.status == "submitted"
    assert client.post(approve, {"acting_for": "班长是本事项的起草人"}).status_code == 302
    d.refresh_from_db()
    assert d.status == "head_approved"
    assert client.post(approve).status_code == 302
    d.refresh_from_db()
    assert d.status == "approved"
    as_(client, org["teamlead"])
    client.post(reverse("disclosure:step", args=[d.pk, "publish"]))
    d.refresh_from_db()
    assert d.is_published
    as_(client, org["employee"])
    page = client.get(reverse("disclosure:detail", args=[d.pk]))
    assert "加班 36 小时" in page.content.decode()


def test_the_next_page_of_drafts_shows_the_older_drafts(org, client):
    entry = CatalogEntry.objects.get(code="attendance")
    for i in range(23):
        Disclosure.objects.create(
            unit=org.boiler_team,
            entry=entry,
            period="2026-10",
            title=f"草稿{i:02d}",
            status="draft",
            author=org["teamlead"],
        )
    as_(client, org["teamlead"])
    first = client.get(reverse("disclosure:work"))
    shown = {d.title for d in first.context["drafts"]}
    assert len(shown) == 20
    body = first.content.decode()
    next_link = body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(reverse("disclosure:work") + next_link.replace("&amp;", "&"))
    rest = {d.title for d in second.context["drafts"]}
    assert len(rest) == 3 and not rest & shown


def test_bad_input_keeps_what_was_typed(org, english):
    as_(english, org["teamlead"])
    response = english.post(
        reverse("disclosure:create"), form_data(org, period="2026-Q9", title="保留我的标题")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="保留我的标题"' in body
    assert "2026-Q3" in body  # the message explains the format
    assert not Disclosure.objects.exists()


def test_a_unit_outside_the_drafters_scope_is_not_offered(org, client):
    as_(client, org["teamlead"])
    response = client.post(reverse("disclosure:create"), form_data(org, unit=org.turbine_team.pk))
    assert response.status_code == 400
    assert response.context["form"].errors["unit"]
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize("who", sorted(set(PERSONAS) - {"union", "depthead", "teamlead"}))
def test_forbidden_step_through_the_page_changes_nothing(org, client, who):
    d = published_disclosure(unit=org.boiler_team, entry_code="team-bonus", period="2026-10")
    as_(client, org[who])
    response = client.post(
        reverse("disclosure:step", args=[d.pk, "withdraw"]), {"reason": "我想撤回"}
    )
    assert response.status_code == 403
    assert Disclosure.objects.get(pk=d.pk).status == "published"


def test_withdraw_asks_for_confirmation_and_a_reason(org, english):
    d = published_disclosure(unit=org.boiler_team, entry_code="team-bonus", period="2026-10")
    as_(english, org["teamlead"])
    confirm = english.get(reverse("disclosure:step", args=[d.pk, "withdraw"]))
    assert confirm.status_code == 200 and "reason" in confirm.context["form"].fields
    assert Disclosure.objects.get(pk=d.pk).status == "published"
    empty = english.post(reverse("disclosure:step", args=[d.pk, "withdraw"]), {"reason": ""})
    assert empty.status_code == 400
    english.post(reverse("disclosure:step", args=[d.pk, "withdraw"]), {"reason": "金额有误"})
    d.refresh_from_db()
    assert d.status == "withdrawn"
    as_(english, org["employee"])
    body = english.get(reverse("disclosure:detail", args=[d.pk])).content.decode()
    assert "金额有误" in body and "Withdrawn" in body


def test_steps_refuse_posts_without_csrf_token(org, csrf_client):
    d = published_disclosure(unit=org.boiler_team, entry_code="team-bonus", period="2026-10")
    csrf_client.force_login(org["teamlead"])
    response = csrf_client.post(
        reverse("disclosure:step", args=[d.pk, "withdraw"]), {"reason": "x"}
    )
    assert response.status_code == 403
    assert Disclosure.objects.get(pk=d.pk).status == "published"


def test_drafts_are_invisible_to_plain_employees(org, client):
    as_(client, org["teamlead"])
    client.post(reverse("disclosure:create"), form_data(org))
    d = Disclosure.objects.get()
    as_(client, org["employee"])
    assert client.get(reverse("disclosure:detail", args=[d.pk])).status_code == 404


def test_history_shows_what_changed(org, client):
    from gongkai.disclosure.services import Transition, disclosure_transition, disclosure_update

    d = published_disclosure(
        unit=org.boiler_team,
        entry_code="team-bonus",
        period="2026-10",
        result="<p>人均 3,200 元</p>",
    )
    tl = org["teamlead"]
    disclosure_transition(actor=tl, disclosure=d, transition=Transition.CORRECT, reason="笔误")
    disclosure_update(actor=tl, disclosure=d, result="<p>人均 3,230 元</p>")
    disclosure_transition(actor=tl, disclosure=d, transition=Transition.SUBMIT)
    approve_through(d)
    disclosure_transition(actor=tl, disclosure=d, transition=Transition.PUBLISH)
    as_(client, org["employee"])
    body = client.get(reverse("disclosure:history", args=[d.pk])).content.decode()
    assert "<del>3,200</del><ins>3,230</ins>" in body
    assert "笔误" in body


def test_union_office_changes_a_catalog_rule_without_rewriting_history(org, client):
    entry = CatalogEntry.objects.get(code="materials")
    old = entry.rules.get()
    as_(client, org["union"])
    data = {
        "effective_from": date(2027, 1, 1).isoformat(),
        "unit_kinds": ["department"],
        "frequency": "monthly",
        "deadline_days": 7,
        "default_scope": "internal",
        "requires_procedure": "on",
        "requires_result": "on",
        "reason": "改为按月公开",
    }
    assert client.post(reverse("catalog:entry", args=["materials"]), data).status_code == 302
    assert entry.rules.count() == 2
    assert CatalogRule.objects.get(pk=old.pk).frequency == "quarterly"
    event = AuditEvent.objects.get(action="catalog.rule_added")
    assert event.before["frequency"] == "quarterly" and event.after["frequency"] == "monthly"
    # A rule that would take effect before the current one is refused.
    backdated = data | {"effective_from": date(2019, 1, 1).isoformat()}
    assert client.post(reverse("catalog:entry", args=["materials"]), backdated).status_code == 400
    assert entry.rules.count() == 2


@pytest.mark.parametrize("who", sorted(set(PERSONAS) - {"union"}))
def test_only_the_union_office_edits_the_catalog(org, client, who):
    as_(client, org[who])
    data = {
        "effective_from": (date(2030, 1, 1)).isoformat(),
        "unit_kinds": ["department"],
        "frequency": "monthly",
        "deadline_days": 7,
        "default_scope": "internal",
        "reason": "x",
    }
    assert client.post(reverse("catalog:entry", args=["materials"]), data).status_code == 403
    assert CatalogEntry.objects.get(code="materials").rules.count() == 1


def team_rules_as_employee(org, client):
    """The company's 《班务公开规定》 (article one), and the client signed in as an employee."""
    regulation_create(
        actor=None,
        company=org.company,
        code="team-rules",
        title="《班务公开规定》",
        body="<p>第一条</p>",
    )
    as_(client, org["employee"])


def test_regulations_are_versioned_and_only_the_union_office_publishes(org, client):
    team_rules_as_employee(org, client)
    page = client.get(reverse("rules:detail", args=["team-rules"]))
    assert "第一条" in page.content.decode()
    assert (
        client.post(
            reverse("rules:detail", args=["team-rules"]), {"body": "篡改", "note": "x"}
        ).status_code
        == 403
    )
    as_(client, org["union"])
    client.post(
        reverse("rules:detail", args=["team-rules"]),
        {"body": "<p>第一条（修订）</p>", "note": "修订第一条"},
    )
    regulation = Regulation.objects.get(code="team-rules")
    assert list(regulation.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    as_(client, org["employee"])
    old = client.get(reverse("rules:detail", args=["team-rules"]), {"v": 1}).content.decode()
    assert "第一条（修订）" not in old and "第一条" in old
    new = client.get(reverse("rules:detail", args=["team-rules"])).content.decode()
    assert "第一条（修订）" in new


def test_notifications_list_and_mark_read(org, client):
    Notification.objects.create(user=org["employee"], message="请审核", url="/")
    as_(client, org["employee"])
    page = client.get(reverse("notifications:list"))
    assert "请审核" in page.content.decode()
    client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def png_bytes() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def test_attach_publish_and_read_a_file_through_the_pages(org, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    as_(client, org["teamlead"])
    client.post(reverse("disclosure:create"), form_data(org))
    d = Disclosure.objects.get()
    upload = SimpleUploadedFile("考勤表.png", png_bytes(), content_type="image/png")
    client.post(reverse("disclosure:attachment_add", args=[d.pk]), {"file": upload})
    attachment = d.attachments.get()
    assert attachment.published_in is None
    as_(client, org["employee"])
    assert client.get(reverse("attachments:download", args=[attachment.pk])).status_code == 404
    as_(client, org["teamlead"])
    client.post(reverse("disclosure:step", args=[d.pk, "submit"]))
    as_(client, org["depthead"])  # for the team (its head wrote the item), then its own
    approve = reverse("disclosure:step", args=[d.pk, "approve"])
    assert client.post(approve, {"acting_for": "班长是本事项的起草人"}).status_code == 302
    assert client.post(approve).status_code == 302
    as_(client, org["employee"])
    assert client.get(reverse("attachments:download", args=[attachment.pk])).status_code == 404
    as_(client, org["teamlead"])
    client.post(reverse("disclosure:step", args=[d.pk, "publish"]))
    attachment.refresh_from_db()
    assert attachment.published_in == Disclosure.objects.get(pk=d.pk).published_revision
    as_(client, org["employee"])
    assert client.get(reverse("attachments:download", args=[attachment.pk])).status_code == 200


def test_employees_cannot_attach_or_remove(org, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    as_(client, org["teamlead"])
    client.post(reverse("disclosure:create"), form_data(org))
    d = Disclosure.objects.get()
    client.post(
        reverse("disclosure:attachment_add", args=[d.pk]),
        {"file": SimpleUploadedFile("a.png", png_bytes())},
    )
    attachment = d.attachments.get()
    for who in ("employee", "rep", "leader", "supervisor"):
        as_(client, org[who])
        response = client.post(
            reverse("disclosure:attachment_add", args=[d.pk]),
            {"file": SimpleUploadedFile("b.png", png_bytes())},
        )
        assert response.status_code in (403, 404)
        response = client.post(reverse("disclosure:attachment_remove", args=[d.pk, attachment.pk]))
        assert response.status_code in (403, 404)
    assert d.attachments.count() == 1
    as_(client, org["teamlead"])
    confirm = client.get(reverse("disclosure:attachment_remove", args=[d.pk, attachment.pk]))
    assert confirm.status_code == 200 and d.attachments.count() == 1
    client.post(reverse("disclosure:attachment_remove", args=[d.pk, attachment.pk]))
    assert d.attachments.count() == 0


def test_editing_a_draft_keeps_its_table(org, client):
    as_(client, org["teamlead"])
    table_text = "日期\t事项\t金额(元)\n2026-10-08\t手套\t1,200.50\n2026-10-09\t电池\t99.50"
    client.post(reverse("disclosure:create"), form_data(org, table_text=table_text))
    d = Disclosure.objects.get()
    assert d.table["totals"] == {"2": "1300.00"} or "1,300.00" in str(d.table)
    page = client.get(reverse("disclosure:edit", args=[d.pk]))
    initial = page.context["form"].initial["table_text"]
    client.post(
        reverse("disclosure:edit", args=[d.pk]),
        {
            "title": "改标题",
            "procedure": d.procedure,
            "result": d.result,
            "scope": d.scope,
            "table_text": initial,
        },
    )
    d.refresh_from_db()
    assert d.title == "改标题"
    assert d.table is not None and len(d.table["rows"]) == 2


def test_the_company_board_has_the_rules_library_section(org, client):
    team_rules_as_employee(org, client)
    company_board = client.get(reverse("boards:board", args=[org.company.code])).content.decode()
    assert "《班务公开规定》" in company_board
    assert reverse("rules:detail", args=["team-rules"]) in company_board
    team_board = client.get(reverse("boards:board", args=[org.boiler_team.code])).content.decode()
    assert "《班务公开规定》" not in team_board


def test_the_rules_library_lists_only_the_readers_company(org, client):
    regulation_create(
        actor=None, company=org.company, code="ours", title="《本公司制度》", body="<p>一</p>"
    )
    regulation_create(
        actor=None, company=org.other_company, code="theirs", title="《别家制度》", body="<p>二</p>"
    )
    as_(client, org["employee"])
    body = client.get(reverse("rules:index")).content.decode()
    assert "《本公司制度》" in body and "《别家制度》" not in body
    assert client.get(reverse("rules:detail", args=["theirs"])).status_code == 404
