"""Search over published disclosures: Chinese words of one, two or more characters and
English words, exactly what a LIKE scan finds, never what the reader may not read."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gongkai.accounts.models import User
from gongkai.disclosure.models import Disclosure, DisclosureStatus
from gongkai.disclosure.permissions import readable_disclosures_q
from gongkai.disclosure.services import Transition, disclosure_transition, disclosure_update
from gongkai.search import backends, selectors
from gongkai.search.apps import empty_orphaned_fts
from gongkai.search.backends import FTS_INSERT, OVERLAP, WINDOW, tsvector_literal
from gongkai.search.highlight import marked, snippet
from gongkai.search.models import SearchDocument
from gongkai.search.selectors import search_disclosures
from gongkai.search.tokens import (
    ACCESS,
    BREAK,
    TermKind,
    document_tokens,
    query_terms,
)
from tests.conftest import PERSONAS, Org
from tests.factories import published_disclosure

URL = "/search/"


def at(day: int) -> datetime:
    return datetime(2026, 10, day, 9, 0, tzinfo=UTC)


@pytest.fixture
def corpus(org: Org) -> dict[str, Disclosure]:
    """Published items across the tree, published one day after another (oldest first)."""
    items = {
        "company_tender": published_disclosure(
            unit=org.company,
            entry_code="tendering",
            title="锅炉检修招标结果公示",
            procedure="<p>公开招标，三家单位投标，评标委员会评审。</p>",
            result="<p>中标单位：华电检修公司，中标价 1,280,000 元。</p>",
            event_date=date(2026, 10, 1),
            published_at=at(2),
        ),
        "company_housing": published_disclosure(
            unit=org.company,
            entry_code="housing",
            title="职工住房分配方案",
            procedure="<p>按工龄和职称计分，职代会审议通过。</p>",
            result="<p>共分配住房 12 套，租金每月 300 元，名单见附表。</p>",
            event_date=date(2026, 10, 3),
            published_at=at(4),
        ),
        "boiler_fees": published_disclosure(
            unit=org.boiler,
            entry_code="entertainment",
            title="锅炉分场第三季度业务招待费",
            procedure="<p>按制度审批，ISO9001 程序。</p>",
            result="<p>共计 3,456.00 元，其中接待检修招标单位 2 次。</p>",
            published_at=at(5),
        ),
        "boiler_team_bonus": published_disclosure(
            unit=org.boiler_team,
            entry_code="team-bonus",
            title="运行一班十月奖金分配",
            procedure="<p>班组民主管理会讨论。</p>",
            result="<p>人均奖金 2,100 元；安全奖另计。</p>",
            period="2026-10",
            published_at=at(6),
        ),
        "turbine_fees": published_disclosure(
            unit=org.turbine,
            entry_code="entertainment",
            title="汽机分场第三季度业务招待费",
            procedure="<p>按制度审批。</p>",
            result="<p>共计 980.00 元，住房补贴不在其内。</p>",
            published_at=at(7),
        ),
        "turbine_public_tender": published_disclosure(
            unit=org.turbine,
            entry_code="tendering",
            title="汽机备件采购招标公告",
            procedure="<p>公开招标，欢迎投标。</p>",
            result="<p>标书 200 元，截止 2026 年 11 月 30 日。Tender notice for spare parts.</p>",
            event_date=date(2026, 10, 8),
            scope="public",
            published_at=at(9),
        ),
        "other_company": published_disclosure(
            unit=org.other_dept,
            entry_code="entertainment",
            title="另一家公司财务部业务招待费",
            procedure="<p>按制度审批。</p>",
            result="<p>共计 5,000 元，招标代理费另计。</p>",
            published_at=at(10),
        ),
    }
    return items


def like_scan(user: User, query: str) -> list[int]:
    """What LIKE '%query%' finds in the published text the user may read, newest first."""
    text = Q()
    for word in query.split():
        text &= (
            Q(published_revision__title__icontains=word)
            | Q(published_revision__procedure__icontains=word)
            | Q(published_revision__result__icontains=word)
            | Q(unit__name__icontains=word)
            | Q(entry__name__icontains=word)
        )
    rows = (
        Disclosure.objects.filter(readable_disclosures_q(user), text)
        .filter(published_revision__isnull=False)
        .exclude(status=DisclosureStatus.WITHDRAWN)
        .order_by("-published_revision__published_at", "-pk")
    )
    return list(rows.values_list("pk", flat=True))


def found(user: User, query: str, page: int = 1) -> list[int]:
    return [r.disclosure_id for r in search_disclosures(user, query, page=page).results]


# --- Tokens ---------------------------------------------------------------------------------


def test_han_runs_give_bigrams_and_single_characters_other_words_stay_whole():
    tokens = document_tokens(["招标公告 ISO9001，住房"], access=[])
    assert tokens.grams == ("招标", "标公", "公告", None, "住房", None)
    assert tokens.chars == ("招", "标", "公", "告", "住", "房")
    assert tokens.words == ("iso9001",)


def test_no_phrase_crosses_punctuation_or_fields():
    tokens = document_tokens(["AB招标", "标书"], access=[])
    # "招标" then a break, so the phrase 招标标书 (招标 标标 标书) cannot match across fields.
    assert tokens.grams == ("招标", None, "标书", None)


def test_text_is_normalised_full_width_and_case():
    tokens = document_tokens(["ＩＳＯ　Ｔｅｎｄｅｒ"], access=[])
    assert tokens.words == ("iso", "tender")


def test_query_terms_by_length():
    terms = query_terms("费 招标 住房分配 Tender 招标")
    assert [(t.kind, t.text) for t in terms] == [
        (TermKind.CHAR, "费"),
        (TermKind.PHRASE, "招标"),
        (TermKind.PHRASE, "住房分配"),
        (TermKind.WORD, "tender"),
    ]
    assert terms[2].tokens == ("住房", "房分", "分配")


def test_query_syntax_and_private_use_characters_are_not_terms():
    assert query_terms('"() * : ^ - + {} ' + BREAK) == []
    assert [t.text for t in query_terms('招标" OR "费')] == ["招标", "or", "费"]


def test_long_texts_are_cut_into_overlapping_windows_for_postgresql():
    run = "".join(chr(0x4E00 + i) for i in range(WINDOW + 500))  # no bigram twice
    literal, windows = tsvector_literal(document_tokens([run], access=[]))
    assert windows == 2
    # A bigram near the end exists in the second window, at a position under 16,383.
    last = run[-2:]
    assert f"'{last}\ue0021':" in literal
    assert f"'{last}':" not in literal  # beyond the first window
    # The overlap holds the first window's last bigrams again.
    overlap = run[WINDOW - OVERLAP + 10 : WINDOW - OVERLAP + 12]
    assert f"'{overlap}':" in literal and f"'{overlap}\ue0021':" in literal


# --- Matching: the same as LIKE -------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["费", "招", "标", "招标", "住房", "检修", "业务招待费", "锅炉检修招标", "奖金分配", "元"],
)
def test_chinese_queries_find_exactly_what_like_finds(corpus, org: Org, query: str):
    for who in ("union", "employee", "turbine_worker", "outsider"):
        expected = like_scan(org[who], query)
        assert found(org[who], query) == expected, (who, query)


def test_a_three_character_query_is_a_phrase_not_three_characters(corpus, org: Org):
    # 招待费 appears in the entertainment items only; 招, 待 and 费 each appear elsewhere.
    union = org["union"]
    assert set(found(union, "招待费")) == {
        corpus["boiler_fees"].pk,
        corpus["turbine_fees"].pk,
    }
    assert found(union, "标招") == [] == like_scan(union, "标招")


@pytest.mark.parametrize("query", ["tender", "Tender", "TENDER", "iso9001", "iso", "spare parts"])
def test_english_words_match_whole_words_and_word_beginnings(corpus, org: Org, query: str):
    union = org["union"]
    assert found(union, query) == like_scan(union, query)
    assert found(union, query)


def test_several_words_must_all_appear(corpus, org: Org):
    union = org["union"]
    assert found(union, "招标 住房") == like_scan(union, "招标 住房") == []
    assert found(union, "招标 锅炉") == like_scan(union, "招标 锅炉")
    assert len(found(union, "招标 锅炉")) == 2


def test_newest_publication_first(corpus, org: Org):
    ids = found(org["union"], "招标")
    published = list(
        Disclosure.objects.filter(pk__in=ids)
        .order_by("-published_revision__published_at")
        .values_list("pk", flat=True)
    )
    assert ids == published


def test_common_and_rare_plans_give_the_same_results(corpus, org: Org, monkeypatch):
    union = org["union"]
    rare = found(union, "招标")
    monkeypatch.setattr(backends, "PROBE", 1)  # PostgreSQL: the primary-key walk
    assert found(union, "招标") == rare


def test_the_page_makes_no_query_per_result(corpus, org: Org, client: Client):
    client.force_login(org["union"])
    counts = []
    for query in ("招标", "华电"):  # several results, one
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"q": query})
        results = response.content.decode().count('class="card result"')
        assert results == len(like_scan(org["union"], query))
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 17  # PostgreSQL: planner settings around a savepoint


# --- Visibility -----------------------------------------------------------------------------


def test_other_departments_internal_items_are_not_found(corpus, org: Org):
    ids = found(org["employee"], "业务招待费")
    assert corpus["boiler_fees"].pk in ids
    assert corpus["turbine_fees"].pk not in ids
    assert corpus["other_company"].pk not in ids


def test_another_companys_items_are_not_found(corpus, org: Org):
    for who in ("union", "leader", "supervisor", "employee"):
        assert corpus["other_company"].pk not in found(org[who], "招待费")
    assert found(org["outsider"], "招待费") == [corpus["other_company"].pk]


def test_public_items_are_found_by_everyone(corpus, org: Org):
    for who in (*PERSONAS, "turbine_worker", "outsider"):
        assert corpus["turbine_public_tender"].pk in found(org[who], "备件"), who


def test_company_wide_readers_find_every_internal_item_of_their_company(corpus, org: Org):
    ids = set(found(org["supervisor"], "招待费"))
    assert ids == {corpus["boiler_fees"].pk, corpus["turbine_fees"].pk}


def test_access_tokens_agree_with_readable_disclosures_q_for_every_persona(corpus, org: Org):
    for who in (*PERSONAS, "turbine_worker", "outsider"):
        user = org[who]
        readable = set(
            Disclosure.objects.filter(
                readable_disclosures_q(user), published_revision__isnull=False
            ).values_list("pk", flat=True)
        )
        every = set(found(user, "元"))  # every item of the corpus mentions 元
        assert every == readable, who


def test_anonymous_visitors_are_sent_to_log_in(client: Client, corpus):
    response = client.get(URL, {"q": "招标"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_inactive_users_find_only_public_items(corpus, org: Org):
    employee = org["employee"]
    employee.is_active = False
    public = [corpus["turbine_public_tender"].pk, corpus["company_tender"].pk]  # tenders are
    assert found(employee, "招标") == public == like_scan(employee, "招标")  # public by default


# --- Changes to what is published -----------------------------------------------------------


def test_a_withdrawn_item_leaves_the_index(corpus, org: Org):
    item = corpus["company_tender"]
    disclosure_transition(
        actor=org["union"], disclosure=item, transition=Transition.WITHDRAW, reason="重复发布"
    )
    assert item.pk not in found(org["union"], "华电")
    assert not SearchDocument.objects.filter(disclosure=item).exists()
    assert found(org["union"], "华电") == like_scan(org["union"], "华电") == []


def test_a_correction_replaces_the_indexed_text_once_published(corpus, org: Org):
    item = corpus["boiler_fees"]
    union, head = org["union"], org["depthead"]
    disclosure_transition(
        actor=union, disclosure=item, transition=Transition.CORRECT, reason="金额有误"
    )
    disclosure_update(actor=union, disclosure=item, result="<p>共计 3,465.00 元，含会议餐费。</p>")
    # Until the correction is published, the published text is what is found.
    assert item.pk in found(union, "检修招标单位")
    assert item.pk not in found(union, "会议餐费")
    disclosure_transition(actor=union, disclosure=item, transition=Transition.SUBMIT)
    disclosure_transition(actor=head, disclosure=item, transition=Transition.APPROVE)
    disclosure_transition(actor=union, disclosure=item, transition=Transition.PUBLISH)
    assert found(union, "会议餐费") == [item.pk]
    assert item.pk not in found(union, "检修招标单位")
    assert SearchDocument.objects.get(disclosure=item).revision.number == 2
    # The correction is the most recent publication: it comes first.
    assert found(union, "元")[0] == item.pk


def test_a_nothing_to_report_attestation_is_found(org: Org):
    from gongkai.disclosure.models import CatalogEntry
    from gongkai.disclosure.services import attestation_file

    attestation = attestation_file(
        actor=org["union"],
        unit=org.company,
        entry=CatalogEntry.objects.get(code="welfare"),
        reason="本季度未发放福利",
        period="2026-Q3",
    )
    assert found(org["employee"], "未发放福利") == [attestation.pk]


def test_table_cells_are_indexed(org: Org):
    item = published_disclosure(
        unit=org.boiler_team,
        entry_code="team-bonus",
        title="九月奖金",
        period="2026-09",
        table={"columns": ["姓名", "奖金"], "rows": [["张三丰", "1200"], ["李四", "980"]]},
    )
    assert found(org["employee"], "张三丰") == [item.pk]
    assert found(org["employee"], "三丰 1200") == [item.pk]


def test_a_phrase_deep_in_a_long_text_is_found(org: Org):
    filler = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(WINDOW + 3000))
    item = published_disclosure(
        unit=org.boiler,
        title="长篇公开",
        procedure=f"<p>{filler}</p>",
        result="<p>篇末写明检修招标结果。</p>",
    )
    document = SearchDocument.objects.get(disclosure=item)
    if connection.vendor == "postgresql":
        assert document.chunks == 2
    assert found(org["employee"], "篇末写明检修招标结果") == [item.pk]
    assert found(org["employee"], filler[WINDOW - 40 : WINDOW + 40]) == [item.pk]


def test_reindex_rebuilds_the_index_from_the_published_revisions(corpus, org: Org, capsys):
    before = found(org["union"], "招标")
    SearchDocument.objects.filter(disclosure=corpus["company_tender"]).delete()
    call_command("search_reindex", "--now")
    assert "7" in capsys.readouterr().out
    assert found(org["union"], "招标") == before
    assert SearchDocument.objects.count() == 7


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="SQLite deletes FTS5 rows by re-creating their tokens",
)
def test_rows_indexed_by_older_code_are_left_unreachable_not_deleted_wrongly(
    corpus, org: Org, caplog
):
    item = corpus["company_tender"]
    SearchDocument.objects.filter(disclosure=item).update(version="0/old")
    with caplog.at_level(logging.WARNING, logger="gongkai.search.backends"):
        disclosure_transition(
            actor=org["union"], disclosure=item, transition=Transition.WITHDRAW, reason="重复"
        )
    assert "search_reindex" in caplog.text
    assert item.pk not in found(org["union"], "华电")
    assert found(org["union"], "招标") == like_scan(org["union"], "招标")


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the FTS5 table is SQLite's",
)
def test_fts_rows_left_behind_by_a_flush_are_emptied(org: Org):
    # manage.py flush empties the documents and restarts their ids, but the FTS5 table is no
    # model: its rows would lend their tokens to the next documents with the same ids.
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM search_searchdocument")
        assert cursor.fetchone()[0] is None
        orphans = [[pk, "鲸鱼", "鲸 鱼", "", f"{ACCESS}p"] for pk in range(1, 1000)]
        cursor.executemany(FTS_INSERT, orphans)
    empty_orphaned_fts(using="default")
    item = published_disclosure(unit=org.boiler, title="汽机检修")
    assert found(org["employee"], "鲸鱼") == [] == like_scan(org["employee"], "鲸鱼")
    assert found(org["employee"], "汽机检修") == [item.pk]


# --- The page -------------------------------------------------------------------------------


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_empty_query_shows_just_the_form(client: Client, org: Org):
    client.force_login(org["employee"])
    response = english(client).get(URL)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="q"' in body and 'role="search"' in body
    assert "Results for" not in body


def test_results_show_title_link_unit_entry_period_date_and_snippet(corpus, org: Org, client):
    client.force_login(org["employee"])
    response = english(client).get(URL, {"q": "奖金"})
    body = response.content.decode()
    item = corpus["boiler_team_bonus"]
    assert f'href="/disclosures/{item.pk}/"' in body
    assert "运行一班十月<mark>奖金</mark>分配" in body
    assert "锅炉运行一班" in body and "班组奖金分配" in body
    assert "2026-10" in body and "2026-10-06" in body
    assert "人均<mark>奖金</mark> 2,100 元" in body


def test_no_result_gives_a_friendly_message(corpus, org: Org, client: Client):
    client.force_login(org["employee"])
    body = english(client).get(URL, {"q": "核电站"}).content.decode()
    assert "Nothing you may read contains “核电站”" in body


def test_a_query_over_100_characters_is_refused_clearly(org: Org, client: Client):
    client.force_login(org["employee"])
    response = english(client).get(URL, {"q": "招" * 101})
    body = response.content.decode()
    assert response.status_code == 200
    assert "at most 100 characters" in body
    assert "Results for" not in body


def test_a_nul_character_in_the_query_is_refused_before_any_search(
    corpus, org: Org, client: Client
):
    client.force_login(org["union"])
    assert english(client).get(URL, {"q": "\x00招标"}).status_code == 400


def test_a_query_of_exactly_100_characters_is_searched(corpus, org: Org, client: Client):
    client.force_login(org["employee"])
    body = english(client).get(URL, {"q": "招" * 100}).content.decode()
    assert "Nothing you may read contains" in body


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '招标" OR "费',
        "招标 AND 费",
        "招标 OR",
        "NOT 费",
        "招*",
        "*",
        "NEAR(招标 费)",
        "(招标",
        ")",
        "grams:招标",
        "{chars}: 费",
        "^招标",
        "-费",
        "招标'; DROP TABLE search_fts; --",
        "'",
        "\\",
    ],
)
def test_search_syntax_in_the_query_is_just_text(corpus, org: Org, client: Client, query: str):
    client.force_login(org["union"])
    response = english(client).get(URL, {"q": query})
    assert response.status_code == 200
    expected = like_scan(org["union"], " ".join(t.text for t in query_terms(query)))
    if query_terms(query) and all(t.kind != TermKind.WORD for t in query_terms(query)):
        assert found(org["union"], query) == expected


def test_punctuation_only_asks_for_a_word(org: Org, client: Client):
    client.force_login(org["employee"])
    body = english(client).get(URL, {"q": "（）“”"}).content.decode()
    assert "Type a word" in body


def test_html_in_a_title_is_shown_escaped(org: Org, client: Client):
    item = published_disclosure(
        unit=org.boiler,
        title='<script>alert("x")</script>招标 & <b>公告</b>',
    )
    client.force_login(org["employee"])
    body = client.get(URL, {"q": "招标"}).content.decode()
    assert f'href="/disclosures/{item.pk}/"' in body
    assert "<script>alert" not in body
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<mark>招标</mark> &amp; &lt;b&gt;" in body
    )


def test_pages_of_results(corpus, org: Org, client: Client, monkeypatch):
    monkeypatch.setattr(selectors, "PER_PAGE", 2)
    union = org["union"]
    everything = like_scan(union, "元")
    pages = [found(union, "元", page=n) for n in (1, 2, 3, 4)]
    assert [pk for page in pages for pk in page] == everything
    assert search_disclosures(union, "元", page=1).has_next
    assert not search_disclosures(union, "元", page=3).has_next
    client.force_login(union)
    body = english(client).get(URL, {"q": "元", "page": "2"}).content.decode()
    assert 'rel="prev"' in body and 'rel="next"' in body
    assert "page=3" in body and "q=%E5%85%83" in body


@pytest.mark.parametrize("page", ["0", "-3", "abc", "", "99999999999999999999"])
def test_odd_page_numbers_are_answered(corpus, org: Org, client: Client, page: str):
    client.force_login(org["union"])
    assert client.get(URL, {"q": "元", "page": page}).status_code == 200


# --- Highlighting ---------------------------------------------------------------------------


def test_marks_are_the_only_markup():
    html = marked("<i>招标</i> & 费用", query_terms("招标 费"))
    assert html == "&lt;i&gt;<mark>招标</mark>&lt;/i&gt; &amp; <mark>费</mark>用"


def test_full_width_text_is_marked_where_it_matched():
    assert marked("ＩＳＯ认证", query_terms("iso")) == "<mark>ＩＳＯ</mark>认证"


def test_short_words_are_marked_only_as_whole_words():
    assert marked("at data", query_terms("at")) == "<mark>at</mark> data"


def test_snippet_is_cut_around_the_first_match():
    text = "甲" * 200 + "招标" + "乙" * 200
    html = snippet(text, query_terms("招标"), width=40)
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>招标</mark>" in html
    assert len(html.replace("<mark>", "").replace("</mark>", "")) == 42
