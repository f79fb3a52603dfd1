"""The circular PDF of an inspection round of 20 departments.

A child process on a fresh SQLite database (in a temporary folder) migrates, builds a company
with 20 departments, opens a round through the services, records each department's inspection
(six checklist answers, self-report, representatives' notes, figures frozen) and three to five
findings per department (79 in all, five of them repeats of an earlier round's), closes the
round, drafts the circular from it and issues it (published as a disclosure). It then times
GET ``/supervision/circulars/<pk>/pdf/`` as a signed-in employee — the access check, loading
the circular, building the document and rendering the PDF with the embedded CJK font — and,
as baselines in the same run, GET of the same circular's HTML page (the same text as a web
page) and the rendering of a one-page PDF with the same font (the fixed cost of the fonts).
It also checks that the PDF's extracted text contains every line of the circular.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import Measurement

ROOT = Path(__file__).resolve().parent.parent
DEPARTMENTS = 20
RUNS = 9
TARGET_SECONDS = 5.0


def run() -> list[Measurement]:
    workdir = Path(tempfile.mkdtemp(prefix="gongkai-bench-circular-"))
    try:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DATABASE_URL=f"sqlite:///{workdir / 'circular.sqlite3'}",
            GONGKAI_VAR_DIR=str(workdir),
            MEDIA_ROOT=str(workdir / "media"),
            STATIC_ROOT=str(workdir / "static"),
            SECRET_KEY="bench-only-" + "x" * 50,
            LOG_LEVEL="WARNING",
        )
        completed = subprocess.run(
            [sys.executable, "-m", "bench.bench_circular"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        result = json.loads(completed.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    notes = {
        "Data": f"{result['departments']} departments, {result['findings']} findings "
        f"({result['repeats']} repeats), {result['sections']} sections",
        "PDF": f"{result['pages']} pages, {result['bytes'] / 1024:.0f} KiB "
        f"(embedded font subsets included)",
        "Every line of the circular found in the PDF's extracted text": str(result["text_ok"]),
        "First render in the process (fonts loaded and parsed)": f"{result['first']:.2f} s",
        "One-page PDF with the same font (the fixed cost), median": (
            f"{statistics.median(result['one_page']) * 1000:.1f} ms"
        ),
        "Same circular as .docx, median": f"{statistics.median(result['docx']) * 1000:.1f} ms",
    }
    return [
        Measurement(
            title=f"Circular PDF of a round of {DEPARTMENTS} departments",
            what=(
                "GET /supervision/circulars/<pk>/pdf/ through Django's test client as a "
                "signed-in employee: access check, loading the issued circular, building the "
                "document and rendering an A4 PDF with the embedded Noto Sans SC subset "
                "(CJK line breaking, tables, page numbers). Fonts already loaded by an earlier "
                "request of the same process (the first render is noted below)."
            ),
            samples=result["pdf"],
            baseline="the same circular's HTML page (GET /supervision/circulars/<pk>/)",
            baseline_samples=result["html"],
            target_seconds=TARGET_SECONDS,
            notes=notes,
        )
    ]


# --- The child -------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    import django

    django.setup()
    import io

    import pypdf
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from gongkai.accounts.models import User
    from gongkai.core.documents import Document, Heading, Para
    from gongkai.core.documents.pdf import render_pdf
    from gongkai.core.documents.word import render_docx
    from gongkai.org.models import Role, UnitKind
    from gongkai.org.services import role_grant, unit_create
    from gongkai.supervision.circulars import (
        circular_document,
        circular_draft,
        circular_issue,
        circular_text,
    )
    from gongkai.supervision.models import Answer
    from gongkai.supervision.services import (
        finding_record,
        inspection_record,
        round_close,
        round_open,
    )

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the pages' manifest
    company = unit_create(actor=None, code="rd", name="示范热电有限责任公司", kind=UnitKind.COMPANY)
    names = ["锅炉", "汽机", "电气", "热工", "燃料", "化学", "检修", "运行", "财务", "人力资源"]
    departments = [
        unit_create(
            actor=None,
            code=f"rd-d{i}",
            name=f"{names[i % len(names)]}{'分场' if i < 10 else '二部'}",
            kind=UnitKind.DEPARTMENT,
            parent=company,
        )
        for i in range(DEPARTMENTS)
    ]
    supervisor = User.objects.create_user(employee_no="bench-sup", name="监督小组", unit=company)
    role_grant(actor=None, user=supervisor, role=Role.SUPERVISION, unit=company)
    reader = User.objects.create_user(employee_no="bench-reader", name="职工", unit=departments[0])
    today = timezone.localdate()
    earlier = round_open(
        actor=supervisor,
        company=company,
        title="上一轮检查",
        period_start=today - timedelta(days=400),
        period_end=today - timedelta(days=220),
        departments=departments,
    )
    old = {
        d.pk: finding_record(
            actor=supervisor,
            inspected=earlier.departments.get(department=d),
            text=f"{d.name}材料费公开明细不全，未列明审批人。",
            severity="major",
        )
        for d in departments
    }
    round_close(actor=supervisor, round=earlier)
    round = round_open(
        actor=supervisor,
        company=company,
        title=f"{today.year}年上半年司务公开监督检查",
        period_start=today - timedelta(days=180),
        period_end=today,
        departments=departments,
    )
    items = list(round.checklist.all())
    findings = repeats = 0
    texts = [
        "公开栏连续两个月未更新，职工反映看不到最新公开内容。",
        "部分事项只公开结果，未公开办事程序，不符合“既公开办事结果，又公开办事程序”的要求。",
        "职工合理化建议未在规定期限内答复，答复情况也未在公开栏公开。",
        "班组公开栏照片未按月上传，夜班职工无法查看。",
        "职代会提案办理情况未在部门公开栏公开。",
    ]
    for i, department in enumerate(departments):
        inspected = round.departments.get(department=department)
        inspection_record(
            actor=supervisor,
            inspected=inspected,
            inspected_on=today,
            self_report="<p>本半年按《公司及部门司务公开制度及内容》公开各类事项，"
            "公开栏由专人负责更新，坚持每月召开民主管理会。</p>" * 3,
            representative_notes="职工代表反映：奖金分配公开及时，但材料费明细不够具体；"
            "希望增加合理化建议处理情况的公开。",
            answers={
                item.pk: (Answer.MET if (i + j) % 4 else Answer.NOT_MET, "")
                for j, item in enumerate(items)
            },
        )
        for k in range(3 + i % 3):
            repeat_of = old[department.pk] if k == 0 and i % 4 == 0 else None
            finding_record(
                actor=supervisor,
                inspected=inspected,
                text=texts[(i + k) % len(texts)],
                severity=["minor", "major", "serious"][(i + k) % 3],
                due_on=today + timedelta(days=30),
                repeat_of=repeat_of,
            )
            findings += 1
            repeats += repeat_of is not None
    round_close(actor=supervisor, round=round)
    circular = circular_issue(
        actor=supervisor, circular=circular_draft(actor=supervisor, round=round)
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(reader)
    pdf_url = f"/supervision/circulars/{circular.pk}/pdf/"
    html_url = f"/supervision/circulars/{circular.pk}/"

    def pdf() -> bytes:
        response = client.get(pdf_url)
        assert response.status_code == 200, response.status_code
        return response.content

    def html() -> bytes:
        response = client.get(html_url)
        assert response.status_code == 200, response.status_code
        return response.content

    started = time.perf_counter()
    data = pdf()
    first = time.perf_counter() - started
    reader_pdf = pypdf.PdfReader(io.BytesIO(data))
    extracted = "".join("".join(p.extract_text().split()) for p in reader_pdf.pages)
    text_ok = all("".join(line.split()) in extracted for line in circular_text(circular))
    one_page = Document("一页", [Heading("一、检查基本情况"), Para(texts[1] * 3)])
    document = circular_document(circular)
    result = {
        "departments": DEPARTMENTS,
        "findings": findings,
        "repeats": repeats,
        "sections": len(circular.sections),
        "pages": len(reader_pdf.pages),
        "bytes": len(data),
        "text_ok": text_ok,
        "first": first,
        "pdf": timed(pdf, RUNS),
        "html": timed(html, RUNS),
        "one_page": timed(lambda: render_pdf(one_page), RUNS),
        "docx": timed(lambda: render_docx(document), 5),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
