"""The reader's language, everywhere: Chinese punctuation in Chinese text, ISO values in date
inputs whatever the language, and an audit log that names every action, key and value."""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import date
from pathlib import Path

import polib
import pytest
from django import forms
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

import gongkai
from gongkai.audit.services import record_event
from gongkai.disclosure.models import CatalogRule
from tests.conftest import Org
from tests.factories import published_disclosure

ROOT = Path(gongkai.__file__).parent
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CJK = "[\u3400-\u9fff]"
# What a translation may carry that is not Chinese prose: placeholders, quoted names,
# markup, file suffixes, decimals, codes such as 2025-H2.
NOT_PROSE = re.compile(
    r"“[^”]*”|<[^>]*>|%\([a-z_0-9]+\)[.0-9]*[sdf]|%[sd]|\{[a-z_0-9]+\}|https?://\S+"
    r"|\.[a-z]{3,4}\b|\d+\.\d+"
)
ASCII_AFTER_CHINESE = re.compile(CJK + r"\s*[,:;?!(]|" + CJK + r"\.(?!\w)|\)\s*" + CJK)


def wrong_punctuation(text: str) -> str | None:
    """The piece of ``text`` where Chinese prose meets ASCII punctuation, or None."""
    prose = NOT_PROSE.sub("X", text)
    found = ASCII_AFTER_CHINESE.search(prose)
    return found.group(0) if found else None


def test_the_checker_finds_ascii_punctuation_in_chinese_and_allows_what_is_not_prose():
    assert wrong_punctuation("已收到1件异议.") == "议."
    assert wrong_punctuation("满意度:公开栏评价") == "度:"
    assert wrong_punctuation("按时率(%)") == "率("
    assert wrong_punctuation("由方案计算;各部门") == "算;"
    assert wrong_punctuation("已收到%(n)s件异议。") is None
    assert wrong_punctuation("上传 .xlsx 或 .csv 文件（最多 1.5 MB）。") is None
    assert wrong_punctuation("列名以“(元)”结尾") is None


def test_every_chinese_translation_uses_chinese_punctuation():
    wrong = []
    for entry in polib.pofile(str(CATALOGUE)):
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            piece = wrong_punctuation(text) if text else None
            if piece:
                wrong.append(f"{entry.msgid[:50]!r} → {text[:60]!r} ({piece!r})")
    assert not wrong, "ASCII punctuation in Chinese text:\n" + "\n".join(wrong)


def test_templates_do_not_glue_ascii_punctuation_to_translated_text():
    """``{% translate "Status" %}:`` shows ``状态:`` in Chinese; ``{% punct ":" %}`` shows
    ``状态：``. The same for a sentence ending after a translated piece."""
    glued = re.compile(
        r"(\{%\s*(?:endblocktranslate|translate\s+\"[^\"]*\"|endif)\s*%\})[.,:;!?](?=[\s<{]|$)"
    )
    wrong = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if glued.search(line):
                wrong.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not wrong, "punctuation glued to translated text:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("language", "shown"), [("zh-hans", "状态：进行中"), ("en", "Status: open")]
)
def test_the_punctuation_tag_speaks_the_readers_language(language, shown):
    with translation.override(language):
        text = Template('{% load i18n %}{% translate "Status" %}{% punct ":" %}{{ value }}').render(
            Context({"value": "进行中" if language == "zh-hans" else "open"})
        )
    assert text == shown


def project_forms() -> list[type[forms.BaseForm]]:
    for module in pkgutil.walk_packages([str(ROOT)], "gongkai."):
        if module.name.endswith((".forms", "_views", ".views")):
            importlib.import_module(module.name)
    found: list[type[forms.BaseForm]] = []
    stack: list[type] = [forms.BaseForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("gongkai.") and hasattr(cls, "base_fields"):
            found.append(cls)
    return found


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_date_input_of_every_form_writes_an_iso_value(language):
    """A browser drops the value of ``<input type="date">`` unless it is ISO; Django's
    Chinese formats wrote ``2026/12/07``, so every date input lost its default."""
    checked, wrong = 0, []
    with translation.override(language):
        for form in project_forms():
            for name, field in form.base_fields.items():
                if isinstance(field, forms.DateField) and not isinstance(
                    field, forms.DateTimeField
                ):
                    html = field.widget.render(name, date(2026, 12, 7))
                    checked += 1
                    if 'value="2026-12-07"' not in html:
                        wrong.append(f"{form.__module__}.{form.__name__}.{name}: {html}")
    assert checked >= 10, checked
    assert not wrong, "\n".join(wrong)


def test_a_chinese_date_typed_by_hand_is_still_accepted():
    with translation.override("zh-hans"):
        field = forms.DateField()
        assert field.clean("2026/12/07") == field.clean("2026-12-07") == date(2026, 12, 7)
        assert field.clean("2026年12月07日") == date(2026, 12, 7)


def test_the_audit_log_names_keys_and_values_in_the_readers_language(
    org: Org, client: Client, login
):
    item = published_disclosure(unit=org.boiler, title="锅炉分场七月招待费")
    rule = CatalogRule.objects.filter(frequency="monthly").first()
    assert rule is not None
    record_event(
        actor=org["union"],
        action="disclosure.approve",
        target=item,
        unit=org.boiler,
        before={"status": "submitted"},
        after={"status": "approved", "reason": "同意"},
    )
    record_event(
        actor=org["union"],
        action="catalog.rule_added",
        target=rule,
        unit=org.company,
        after={"frequency": "monthly", "effective_from": "2027-01-01"},
    )
    login(org["union"])
    page = client.get(reverse("audit:event_list")).content.decode()
    for raw in ("status: ", "frequency: ", "reason: ", ": approved", ": monthly"):
        assert raw not in page, raw
    assert "状态：已批准" in page and "公开频次：按月" in page and "理由：同意" in page
    client.cookies["django_language"] = "en"
    english = client.get(reverse("audit:event_list")).content.decode()
    assert "Status: Approved" in english and "Frequency: Monthly" in english


@pytest.mark.parametrize(
    ("msgid", "context", "chinese"),
    [
        ("Approve as the leadership group", None, "领导小组审批通过"),  # not 审核后报领导小组
        ("Suggested by", None, "提出人"),  # not 起
        ("Look up", None, "查询处理进度"),  # not 进行中
        ("Name", "thing", "名称"),  # a holiday's name, not 姓名
        ("name", "person", "姓名"),
        ("name", None, "名称"),  # a unit's, a category's, a delegation's name
    ],
)
def test_wordings_found_wrong_in_chinese_are_right(msgid, context, chinese):
    with translation.override("zh-hans"):
        shown = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
    assert shown == chinese


def test_the_holiday_calendar_heads_the_name_column_as_a_name_of_a_thing(org: Org, client: Client):
    from gongkai.core.models import CalendarDay, DayKind

    CalendarDay.objects.get_or_create(
        day=date(2026, 10, 1), defaults={"kind": DayKind.HOLIDAY, "name": "国庆节"}
    )
    client.force_login(org["union"])
    page = client.get(reverse("publicity:calendar", args=[2026])).content.decode()
    assert "国庆节" in page and "<th>名称</th>" in page and "<th>姓名</th>" not in page
