"""Chinese search at scale: 1,000,000 published disclosures of synthetic Chinese text.

Three child processes, each a Django process on one database: ``setup`` migrates the scratch
PostgreSQL database ``gongkai_bench_search`` (dropped and re-created) and creates the org;
``load`` migrates a SQLite file in a temporary folder, creates the same org (same ids),
generates the disclosures once, tokenizes each once with the app's own tokenizer and writes
the disclosures, revisions and search documents to both databases in bulk (executemany into
SQLite with its FTS5 rows, COPY into PostgreSQL with the tsvectors: the index built in bulk,
not through the workflow), then times SQLite; ``measure`` builds the GIN index and times
PostgreSQL. What is timed is ``search_disclosures`` — the code behind ``/search/`` — for an
ordinary employee; the baseline is a plain ``LIKE '%q%'`` first page on the same table.
Each child prints one JSON line; this module turns them into measurements.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import Measurement

ROOT = Path(__file__).resolve().parent.parent


def names(text: str) -> list[str]:
    return text.split()


ROWS = int(os.environ.get("BENCH_SEARCH_ROWS", "1000000"))
POSTGRES_URL = os.environ.get(
    "BENCH_SEARCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/gongkai_bench_search"
)
RUNS = 7
BASELINE_RUNS = 3
TARGET_SECONDS = 0.1
BATCH = 20_000
SEED = 20261124
START = datetime(2017, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)  # one publication every five minutes: 1M take 9.5 years
DEPARTMENTS = [
    "锅炉分场", "汽机分场", "电气分场", "化学分场", "燃料分场", "热控分场",
    "检修分场", "安监部", "生产技术部", "财务部", "人力资源部", "综合办公室",
]  # fmt: skip
TEAMS = ["运行一班", "运行二班", "运行三班", "运行四班", "检修班"]
WORDS = names(
    "公开 职工 招标 投标 中标 采购 合同 审批 公示 工会 分配 住房 薪酬 福利 奖金 绩效 考核 "
    "安全 检修 运行 锅炉 汽机 电气 材料 费用 业务招待费 车辆使用费 材料费 招聘 招工 评定 职称 "
    "评议 干部 先进 民主 管理 监督 检查 整改 通报 满意度 测评 意见 建议 处理 情况 结果 程序 "
    "制度 规定 办法 实施 部门 班组 公司 分场 季度 年度 月份 金额 人民币 共计 其中 按照 根据 "
    "经过 研究 决定 同意 名单 如下 附件 详见 有关 要求 标准 执行 落实 完成 计划 目标 任务 设备 "
    "备件 维修 费 劳动保护 集体合同 巡视 提案 代表 大会 审议 通过 党风廉政 财务报告 年度目标"
)
COMMON = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也"
    "能下过说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实"
    "加都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样"
    "与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很"
    "情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流"
    "路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队"
    "南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改"
    "清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确"
)
SENTENCES = 50_000
RARE = "蓝田玉璧"  # in one disclosure of 40,000: 25 of 1M
RARE_EVERY = 40_000
PHRASE = "经职工代表大会审议通过"  # in one disclosure of 100
QUERIES = [
    ("two", "招标", "a two-character word (招标)"),
    ("one", "费", "a one-character word (费)"),
    ("phrase", PHRASE, f"an 11-character phrase ({PHRASE})"),
    ("rare", "玉璧", "a rare two-character word (玉璧, 25 disclosures)"),
    ("none", "鲲鹏", "a word found nowhere (鲲鹏)"),
]
ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


# --- The parent: one child per engine ------------------------------------------------------


def run() -> list[Measurement]:
    workdir = Path(tempfile.mkdtemp(prefix="gongkai-bench-search-"))
    sqlite = f"sqlite:///{workdir / 'search.sqlite3'}"
    try:
        postgres = postgres_ready()
        if postgres:
            child("setup", POSTGRES_URL, workdir)
        results = [child("load", sqlite, workdir, POSTGRES_URL if postgres else "")]
        if postgres:
            measured = child("measure", POSTGRES_URL, workdir)
            measured["build"] = results[0]["pg"] | measured["build"]
            results.append(measured | {"avg_chars": results[0]["avg_chars"]})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return [m for result in results for m in measurements(result)]


def postgres_ready() -> bool:
    try:
        import psycopg

        server, name = POSTGRES_URL.rsplit("/", 1)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}"')
            db.execute(f'CREATE DATABASE "{name}"')
        return True
    except Exception as exc:  # any failure means: no PostgreSQL here
        print(f"  PostgreSQL skipped: {exc}", flush=True)
        return False


def child(step: str, url: str, workdir: Path, *args: str) -> dict[str, Any]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=url,
        GONGKAI_VAR_DIR=str(workdir),
        SECRET_KEY="bench-only-" + "x" * 50,
        LOG_LEVEL="WARNING",
    )
    command = [sys.executable, "-m", "bench.bench_search", step, *args]
    completed = subprocess.run(  # stderr (progress) goes to the terminal
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def measurements(result: dict[str, Any]) -> list[Measurement]:
    engine = ENGINES[result["vendor"]]
    build = result["build"]
    common = {
        "Data": f"{result['rows']:,} published disclosures, about {result['avg_chars']} "
        "characters each (title and text), in the 73 units of a company (12 departments × 5 "
        "teams) and one of a small company; 15 % public; bodies drawn from 50,000 synthetic "
        "sentences of domain words and common characters",
        "Reader": "an employee of a team, who reads the public items and the internal ones of "
        f"the team, its department and the company: {result['visible']:.0%} of all",
        "Bulk load": f"generating and tokenizing {build['generate_seconds']:.0f} s (once for "
        f"both engines), writing {build['load_seconds']:.0f} s, building the index "
        f"{build['index_seconds']:.0f} s; {build['size']}",
    }
    found = []
    for key, _query, label in QUERIES:
        q = result["queries"][key]
        notes = {
            "Target": f"median under {ms(TARGET_SECONDS)} — "
            f"{'met' if statistics.median(q['samples']) < TARGET_SECONDS else 'NOT met'}",
            "First page": f"{q['results']} results{', more follow' if q['has_next'] else ''}; "
            f"the same ids as the LIKE baseline: {'yes' if q['same_as_like'] else 'NO'}",
            "Plan": q["plan"],
        }
        if key == "two":
            notes |= common | {
                "Other figures (median)": (
                    f"page 10 of 费: {ms(result['extra']['page10'])}; 费 for an employee of the "
                    "small company (its items and the public ones: "
                    f"{result['outsider_visible']:.0%}): {ms(result['extra']['outsider'])}; "
                    f"the whole page GET /search/?q=招标 (session, template): "
                    f"{ms(result['extra']['page_get'])}"
                ),
            }
        found.append(
            Measurement(
                title=f"Search on {engine}, {result['rows']:,} disclosures: {label}, first page",
                what=(
                    "`search_disclosures(employee, q)`: the matching, the visibility filter, "
                    "the 20 newest results with unit and entry, titles and snippets marked. "
                    f"Median of {RUNS} runs after one warm-up."
                ),
                samples=q["samples"],
                baseline=(
                    "the same first page by `LIKE '%q%'` on the indexed text (same filter, "
                    "newest first: a scan that stops after 21 rows)"
                ),
                baseline_samples=q["baseline"],
                notes=notes,
            )
        )
    return found


# --- The child: build and measure on one database -------------------------------------------


def log(message: str) -> None:
    print(f"  [{os.environ.get('DATABASE_URL', '')[:10]}] {message}", file=sys.stderr, flush=True)


def main(step: str, *args: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    result: dict[str, Any] = {"vendor": connection.vendor, "rows": ROWS}
    if step in ("setup", "load"):
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        org = make_org()
        log(f"migrated, org created in {time.perf_counter() - started:.0f} s")
    if step == "load":
        result |= bulk_load(org, postgres_url=args[0] if args else "")
        result |= measure(org)
    if step == "measure":
        org = existing_org()
        result["build"] = {"index_seconds": postgres_index(), "size": database_size()}
        result |= measure(org)
    print(json.dumps(result, ensure_ascii=False))


@dataclass
class Org:
    units: list[Any]
    outsider_unit: Any
    employee: Any
    outsider: Any
    author: Any
    entries: dict[str, list[tuple[int, str]]]  # unit kind → [(entry id, entry name)]


def make_org() -> Org:
    from gongkai.accounts.models import User
    from gongkai.disclosure.models import CatalogEntry
    from gongkai.org.models import UnitKind
    from gongkai.org.services import unit_create

    company = unit_create(
        actor=None, code="bench", name="基准热电有限责任公司", kind=UnitKind.COMPANY
    )
    units = [company]
    for d, name in enumerate(DEPARTMENTS):
        department = unit_create(
            actor=None, code=f"bench-{d}", name=name, kind=UnitKind.DEPARTMENT, parent=company
        )
        units.append(department)
        for t, team in enumerate(TEAMS):
            units.append(
                unit_create(
                    actor=None,
                    code=f"bench-{d}-{t}",
                    name=f"{name}{team}",
                    kind=UnitKind.TEAM,
                    parent=department,
                )
            )
    other = unit_create(actor=None, code="small", name="小公司", kind=UnitKind.COMPANY)
    other_dept = unit_create(
        actor=None, code="small-fin", name="小公司财务部", kind=UnitKind.DEPARTMENT, parent=other
    )
    employee = User.objects.create_user("bench-employee", name="职工", unit=units[2])
    outsider = User.objects.create_user("bench-outsider", name="外单位职工", unit=other_dept)
    author = User.objects.create_user("bench-author", name="公开专员", unit=company)
    entries: dict[str, list[tuple[int, str]]] = {k: [] for k in UnitKind.values}
    for entry in CatalogEntry.objects.prefetch_related("rules"):
        rule = entry.rules.order_by("-effective_from").first()
        for kind in rule.unit_kinds if rule else []:
            entries[kind].append((entry.pk, entry.name))
    return Org(units, other_dept, employee, outsider, author, entries)


def existing_org() -> Org:
    """The org that ``setup`` created (measure runs in a process of its own)."""
    from gongkai.accounts.models import User
    from gongkai.org.models import OrgUnit

    def user(number: str) -> Any:
        return User.objects.select_related("unit").get(employee_no=number)

    units = list(OrgUnit.objects.filter(code__startswith="bench").order_by("pk"))
    return Org(
        units=units,
        outsider_unit=OrgUnit.objects.get(code="small-fin"),
        employee=user("bench-employee"),
        outsider=user("bench-outsider"),
        author=user("bench-author"),
        entries={},
    )


def sentence(rng: random.Random, weights: list[float]) -> str:
    parts = []
    for _ in range(rng.randint(4, 9)):
        if rng.random() < 0.55:
            parts.append(rng.choices(WORDS, cum_weights=weights)[0])
        else:
            parts.append("".join(rng.choices(COMMON, k=rng.randint(1, 3))))
    if rng.random() < 0.2:
        parts.append(f"共计{rng.randint(1, 999_999):,}元")
    return "".join(parts) + rng.choice("，。；")


def documents(org: Org) -> Iterator[dict[str, Any]]:
    """The synthetic disclosures, the same on every run and engine."""
    weights, total = [], 0.0
    for rank in range(len(WORDS)):
        total += 1 / (rank + 1) ** 0.8
        weights.append(total)
    rng = random.Random(SEED)
    # Bodies are drawn from a pool of sentences (3 to 8 of 50,000): generating each sentence
    # afresh took longer than indexing it.
    pool = [sentence(rng, weights) for _ in range(SENTENCES)]
    for i in range(ROWS):
        unit = org.outsider_unit if i % 1000 == 999 else rng.choice(org.units)
        entry_id, entry_name = rng.choice(org.entries[unit.kind])
        body = "".join(rng.choices(pool, k=rng.randint(3, 8)))
        if i % 100 == 7:
            body = body[:40] + PHRASE + "。" + body[40:]
        if i % RARE_EVERY == 123:
            body = RARE + "，" + body
        at = START + STEP * i
        yield {
            "id": i + 1,
            "unit": unit,
            "entry_id": entry_id,
            "entry_name": entry_name,
            "title": f"{unit.name}{at.year}年{entry_name}公开（第{i % 97 + 1}期）",
            "body": body,
            "public": rng.random() < 0.15,
            "at": at,
            "period": f"{at.year}",
        }


def bulk_load(org: Org, *, postgres_url: str) -> dict[str, Any]:
    """Generate and tokenize each disclosure once; write it to SQLite and, when given, to
    PostgreSQL (whose GIN index is dropped here and built by the ``measure`` step)."""
    from django.db import connection, transaction

    from gongkai.search.backends import GIN_INDEX

    pg = None
    if postgres_url:
        import psycopg

        pg = psycopg.connect(postgres_url)
        pg.execute(f"DROP INDEX {GIN_INDEX}")
        pg.commit()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=OFF")
    clock = {"generate": 0.0, "sqlite": 0.0, "postgresql": 0.0}
    chars = 0
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for index, table in enumerate(TABLES):
                sqlite_write(cursor, table, [row[index] for row in batch])
            cursor.executemany(
                "INSERT INTO search_fts(rowid, grams, chars, words, access) "
                "VALUES (%s, %s, %s, %s, %s)",
                [row[3] for row in batch],
            )
        clock["sqlite"] += time.perf_counter() - started
        if pg is not None:
            started = time.perf_counter()
            with pg.transaction(), pg.cursor() as cursor:
                for index, table in zip((0, 1, 4), TABLES, strict=True):
                    postgres_write(cursor, table, [row[index] for row in batch])
            clock["postgresql"] += time.perf_counter() - started
        batch.clear()

    started = time.perf_counter()
    for document in documents(org):
        chars += len(document["title"]) + len(document["body"])
        batch.append(table_rows(document, org, postgres=pg is not None))
        if len(batch) == BATCH:
            clock["generate"] += time.perf_counter() - started
            flush()
            if document["id"] % 200_000 == 0:
                log(f"{document['id']:,} rows; {clock}")
            started = time.perf_counter()
    clock["generate"] += time.perf_counter() - started
    if batch:
        flush()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        cursor.execute("ANALYZE")
    indexed = time.perf_counter() - started
    if pg is not None:
        with pg.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {ROWS})")
        pg.commit()
        pg.close()
    log(f"loaded: {clock}, FTS5 optimised in {indexed:.0f} s")
    return {
        "avg_chars": round(chars / ROWS),
        "build": {
            "generate_seconds": clock["generate"],
            "load_seconds": clock["sqlite"],
            "index_seconds": indexed,
            "size": database_size(),
        },
        "pg": {"generate_seconds": clock["generate"], "load_seconds": clock["postgresql"]},
    }


def postgres_index() -> float:
    """Build the GIN index the load dropped, and the planner's statistics."""
    from django.db import connection

    from gongkai.search.backends import GIN_INDEX

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(f"CREATE INDEX {GIN_INDEX} ON search_searchdocument USING gin (vector)")
        cursor.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - started
    log(f"GIN index and VACUUM ANALYZE in {seconds:.0f} s")
    return seconds


TABLES = ("disclosure_disclosure", "disclosure_revision", "search_searchdocument")


def table_rows(d: dict[str, Any], org: Org, *, postgres: bool) -> tuple[Any, ...]:
    """The rows of one published disclosure: the disclosure (its working copy's text left
    empty: search reads only the index), revision 1, the search document, its FTS5 row and
    (for PostgreSQL) the search document with its tsvector."""
    from gongkai.search.backends import fts_columns, tsvector_literal
    from gongkai.search.tokens import VERSION, index_tokens

    unit, at, pk = d["unit"], d["at"], d["id"]
    scope = "public" if d["public"] else "internal"
    disclosure = {
        "id": pk, "created_at": at, "updated_at": at, "unit_id": unit.pk,
        "entry_id": d["entry_id"], "period": d["period"], "event_date": None, "is_nil": False,
        "title": d["title"], "procedure": "", "result": "", "table": None, "scope": scope,
        "status": "published", "author_id": org.author.pk, "rejection_reason": "",
        "correction_reason": "", "submitted_at": at, "first_published_at": at,
        "published_revision_id": pk, "withdrawn_at": None, "withdrawal_reason": "",
    }  # fmt: skip
    revision = {
        "id": pk, "disclosure_id": pk, "number": 1, "title": d["title"], "procedure": "",
        "result": "", "table": None, "scope": scope, "reason": "", "published_at": at,
        "published_by_id": org.author.pk,
    }  # fmt: skip
    tokens = index_tokens(
        title=d["title"], body=d["body"], unit_name=unit.name, entry_name=d["entry_name"],
        public=d["public"], unit_id=unit.pk, unit_path=unit.path,
    )  # fmt: skip
    document = {
        "id": pk, "disclosure_id": pk, "revision_id": pk, "unit_id": unit.pk, "scope": scope,
        "unit_path": unit.path, "title": d["title"], "body": d["body"], "unit_name": unit.name,
        "entry_name": d["entry_name"], "published_at": at, "version": VERSION, "chunks": 1,
        "vector": None,
    }  # fmt: skip
    with_vector = None
    if postgres:
        vector, chunks = tsvector_literal(tokens)
        with_vector = document | {"vector": vector, "chunks": chunks}
    return disclosure, revision, document, (pk, *fts_columns(tokens)), with_vector


def sqlite_write(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
        [[row[c] for c in columns] for row in rows],
    )


def postgres_write(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def database_size() -> str:
    from django.conf import settings
    from django.db import connection

    from gongkai.search.backends import GIN_INDEX

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_database_size(current_database()), "
                "pg_total_relation_size('search_searchdocument'), "
                f"pg_relation_size('{GIN_INDEX}')"
            )
            total, table, gin = cursor.fetchone()
            return (
                f"database {total / 2**30:.1f} GiB, of which the search documents with their "
                f"tsvectors {table / 2**30:.1f} GiB and the GIN index {gin / 2**20:.0f} MiB"
            )
    path = Path(settings.DATABASES["default"]["NAME"])
    return f"database file {path.stat().st_size / 2**30:.1f} GiB, FTS5 index included"


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    call()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def measure(org: Org) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from gongkai.policy.disclosure import readable_disclosures_q
    from gongkai.search import backends
    from gongkai.search.models import SearchDocument
    from gongkai.search.selectors import PER_PAGE, search_disclosures

    def like_page(user: Any, q: str) -> list[int]:
        rows = (
            SearchDocument.objects.filter(readable_disclosures_q(user))
            .filter(
                Q(title__contains=q)
                | Q(body__contains=q)
                | Q(unit_name__contains=q)
                | Q(entry_name__contains=q)
            )
            .order_by("-pk")
            .values_list("disclosure_id", flat=True)
        )
        return list(rows[: PER_PAGE + 1])

    employee = org.employee
    queries = {}
    for key, q, _label in QUERIES:
        page = search_disclosures(employee, q)
        ids = [r.disclosure_id for r in page.results]
        with CaptureQueriesContext(connection) as captured:
            search_disclosures(employee, q)
        plan = describe_plan(captured.captured_queries, connection.vendor, backends.PROBE)
        samples = timed(lambda q=q: search_disclosures(employee, q), RUNS)
        baseline = timed(lambda q=q: like_page(employee, q), BASELINE_RUNS)
        queries[key] = {
            "samples": samples,
            "baseline": baseline,
            "results": len(ids),
            "has_next": page.has_next,
            "same_as_like": ids == like_page(employee, q)[:PER_PAGE],
            "plan": plan,
        }
        log(f"{q}: median {ms(statistics.median(samples))}, LIKE {ms(statistics.median(baseline))}")
    client = Client()
    client.force_login(employee)
    extra = {
        "page10": statistics.median(
            timed(lambda: search_disclosures(employee, "费", page=10), RUNS)
        ),
        "outsider": statistics.median(timed(lambda: search_disclosures(org.outsider, "费"), RUNS)),
        "page_get": statistics.median(timed(lambda: client.get("/search/", {"q": "招标"}), RUNS)),
    }
    total = SearchDocument.objects.count()
    return {
        "queries": queries,
        "extra": extra,
        "visible": SearchDocument.objects.filter(readable_disclosures_q(employee)).count() / total,
        "outsider_visible": (
            SearchDocument.objects.filter(readable_disclosures_q(org.outsider)).count() / total
        ),
    }


def describe_plan(queries: list[dict[str, Any]], vendor: str, probe: int) -> str:
    if vendor == "sqlite":
        return "FTS5 match joined to the documents, rowids newest first (one query)"
    if sum("set_config" in q["sql"] for q in queries) > 1:
        return (
            f"more than {probe:,} index matches: the primary key walked backwards, "
            "each row checked against the tsquery"
        )
    return f"at most {probe:,} index matches: GIN bitmap scan, then those sorted"


if __name__ == "__main__":
    main(*sys.argv[1:])
