"""The public page of an item (/public/<pk>/, no login) lists the files published with it,
each a link that anyone may follow; files of a correction not yet published, and the files of
a withdrawn item, are not listed."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from gongkai.accounts.models import User
from gongkai.disclosure.attachments import attachment_add
from gongkai.disclosure.models import CatalogEntry, Disclosure, Scope
from gongkai.disclosure.services import Transition, disclosure_create, disclosure_transition
from gongkai.org.models import OrgUnit, Role
from gongkai.org.services import role_grant
from tests.conftest import Org
from tests.factories import UserFactory

PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def person_on(unit: OrgUnit, role: str) -> User:
    user = UserFactory(unit=unit)
    role_grant(actor=None, user=user, role=role, unit=unit)
    return User.objects.get(pk=user.pk)


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def publish(disclosure: Disclosure) -> Disclosure:
    """Through the workflow, as the company's head and leadership group approve it."""
    unit = disclosure.unit
    disclosure_transition(
        actor=disclosure.author, disclosure=disclosure, transition=Transition.SUBMIT
    )
    disclosure_transition(
        actor=person_on(unit, Role.UNIT_HEAD), disclosure=disclosure, transition=Transition.APPROVE
    )
    disclosure_transition(
        actor=person_on(unit, Role.LEADERSHIP), disclosure=disclosure, transition=Transition.ENDORSE
    )
    return disclosure_transition(
        actor=disclosure.author, disclosure=disclosure, transition=Transition.PUBLISH
    )


def public_tender(org: Org, *files: str) -> Disclosure:
    author = person_on(org.company, Role.DEPT_OFFICER)
    draft = disclosure_create(
        actor=author,
        unit=org.company,
        entry=CatalogEntry.objects.get(code="tendering"),
        title="锅炉检修招标结果公示",
        procedure="<p>公开招标</p>",
        result="<p>中标单位：华电检修公司</p>",
        period="",
        event_date=date(2026, 10, 8),
        scope=Scope.PUBLIC,
    )
    for name in files:
        attachment_add(actor=author, disclosure=draft, upload=pdf(name))
    return publish(draft)


def public_page(disclosure: Disclosure) -> str:
    response = Client().get(reverse("public:detail", args=[disclosure.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_public_page_lists_the_published_files_and_anyone_downloads_them(org: Org):
    item = public_tender(org, "评标报告.pdf", "中标通知书.pdf")
    page = public_page(item)
    for attachment in item.attachments.all():
        url = reverse("attachments:download", args=[attachment.pk])
        assert f'href="{url}"' in page
        assert attachment.original_name in page
        response = Client().get(url)  # not signed in
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF_BYTES
    assert 'aria-labelledby="attachments"' in page


def test_a_public_item_without_files_shows_no_file_list(org: Org):
    page = public_page(public_tender(org))
    assert 'aria-labelledby="attachments"' not in page


def test_a_file_of_a_correction_in_progress_is_not_listed_until_it_is_published(org: Org):
    item = public_tender(org, "评标报告.pdf")
    item = disclosure_transition(
        actor=item.author, disclosure=item, transition=Transition.CORRECT, reason="补充附件"
    )
    added = attachment_add(actor=item.author, disclosure=item, upload=pdf("补充说明.pdf"))
    page = public_page(item)
    assert "评标报告.pdf" in page
    assert "补充说明.pdf" not in page
    assert reverse("attachments:download", args=[added.pk]) not in page
    publish(item)
    assert "补充说明.pdf" in public_page(item)


def test_a_withdrawn_items_files_are_not_listed(org: Org):
    item = public_tender(org, "评标报告.pdf")
    disclosure_transition(
        actor=person_on(org.company, Role.UNION_OFFICE),
        disclosure=item,
        transition=Transition.WITHDRAW,
        reason="重复发布",
    )
    page = public_page(item)
    assert "tombstone" in page
    assert "评标报告.pdf" not in page


def test_an_internal_items_page_and_files_stay_hidden(org: Org):
    author = person_on(org.company, Role.DEPT_OFFICER)
    draft = disclosure_create(
        actor=author,
        unit=org.company,
        entry=CatalogEntry.objects.get(code="housing"),
        title="职工住房分配方案",
        procedure="<p>按工龄计分</p>",
        result="<p>分配住房 12 套</p>",
        period="",
        event_date=date(2026, 10, 3),
        scope=Scope.INTERNAL,
    )
    attachment = attachment_add(actor=author, disclosure=draft, upload=pdf("名单.pdf"))
    item = publish(draft)
    assert Client().get(reverse("public:detail", args=[item.pk])).status_code == 404
    download = Client().get(reverse("attachments:download", args=[attachment.pk]))
    assert download.status_code == 302  # sent to log in
