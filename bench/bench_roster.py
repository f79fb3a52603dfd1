"""The roster import at scale: 50,000 employees in 12 departments × 5 teams.

Each import runs ``manage.py import_roster`` in its own process against a fresh SQLite file
(copied from one migrated template), so the wall time includes Django's start-up and the
peak memory is that process's own maximum resident set (``os.wait4``'s rusage).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

from bench import Measurement

ROOT = Path(__file__).resolve().parent.parent
EMPLOYEES = 50_000
RUNS = 3
TARGET_SECONDS = 60.0
COMPANY = ("bench", "基准热电有限责任公司")
DEPARTMENTS = [
    "锅炉分场", "汽机分场", "电气分场", "化学分场", "燃料分场", "热控分场",
    "检修分场", "安监部", "生产技术部", "财务部", "人力资源部", "综合办公室",
]  # fmt: skip
TEAMS = ["运行一班", "运行二班", "运行三班", "运行四班", "检修班"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁"
    "谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏晓东海燕春梅林峰"
POSITIONS = ["值长", "主值", "副值", "巡检工", "检修工", "技术员", "工程师", "班长", "主任", "科员"]
HEADER = ["工号", "姓名", "部门", "班组", "岗位", "是否职工代表"]


def roster_rows() -> list[list[object]]:
    """Deterministic: the same 50,000 rows on every machine."""
    rows: list[list[object]] = []
    for i in range(EMPLOYEES):
        department = DEPARTMENTS[i % len(DEPARTMENTS)]
        # One employee in 40 works in the department office itself, not in a team.
        team = "" if i % 40 == 0 else TEAMS[(i // len(DEPARTMENTS)) % len(TEAMS)]
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)]
        if i % 3:
            name += GIVEN[(i * 13) % len(GIVEN)]
        representative = "是" if i % 25 == 0 else "否"
        rows.append([100_000 + i, name, department, team, POSITIONS[i % 10], representative])
    return rows


def write_csv(path: Path, rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)  # employee numbers as numbers, as Excel often stores them
    workbook.save(path)


def environment(database: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{database}",
        GONGKAI_VAR_DIR=str(database.parent),
        SECRET_KEY="bench-only-" + "x" * 50,
        LOG_LEVEL="WARNING",
    )
    return env


def manage(database: Path, *args: str) -> tuple[float, int, str]:
    """Run ``manage.py args`` → (wall seconds, peak RSS in KiB, stdout)."""
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment(database), stdout=out, stderr=err
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{stdout}\n{stderr}")
    return elapsed, usage.ru_maxrss, stdout


def template_database(workdir: Path) -> Path:
    template = workdir / "template.sqlite3"
    manage(template, "migrate", "--noinput", "-v0")
    manage(template, "create_company", *COMPANY)
    return template


def fresh_copy(template: Path, workdir: Path, run: int) -> Path:
    database = workdir / f"run{run}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{template}{suffix}")
        if source.exists():
            shutil.copy(source, f"{database}{suffix}")
    return database


def check_imported(database: Path) -> None:
    with sqlite3.connect(database) as db:
        users = db.execute("SELECT count(*) FROM accounts_user").fetchone()[0]
        units = db.execute("SELECT count(*) FROM org_orgunit").fetchone()[0]
    expected_units = 1 + len(DEPARTMENTS) * (1 + len(TEAMS))
    assert (users, units) == (EMPLOYEES, expected_units), (users, units)


def parse_csv(path: Path) -> float:
    started = time.perf_counter()
    text = path.read_bytes().decode("utf-8-sig")
    count = sum(1 for _row in csv.reader(io.StringIO(text, newline="")))
    assert count == EMPLOYEES + 1
    return time.perf_counter() - started


def parse_xlsx(path: Path) -> float:
    started = time.perf_counter()
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _row in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert count == EMPLOYEES + 1
    return time.perf_counter() - started


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def run() -> list[Measurement]:
    workdir = Path(tempfile.mkdtemp(prefix="gongkai-bench-roster-"))
    try:
        return measure(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(workdir: Path) -> list[Measurement]:
    rows = roster_rows()
    csv_path, xlsx_path = workdir / "roster.csv", workdir / "roster.xlsx"
    write_csv(csv_path, rows)
    write_xlsx(xlsx_path, rows)
    template = template_database(workdir)
    startup = [manage(template, "import_roster", "--help")[0] for _ in range(RUNS)]

    first_csv, again_csv, first_xlsx = [], [], []
    peak_first, peak_again, peak_xlsx = 0, 0, 0
    for run_no in range(RUNS):
        database = fresh_copy(template, workdir, run_no)
        seconds, peak, _out = manage(database, "import_roster", str(csv_path))
        check_imported(database)
        first_csv.append(seconds)
        peak_first = max(peak_first, peak)
        seconds, peak, out = manage(database, "import_roster", str(csv_path))
        assert f"Unchanged employees: {EMPLOYEES}" in out, out
        again_csv.append(seconds)
        peak_again = max(peak_again, peak)
        database.unlink()

        database = fresh_copy(template, workdir, run_no)
        seconds, peak, _out = manage(database, "import_roster", str(xlsx_path))
        check_imported(database)
        first_xlsx.append(seconds)
        peak_xlsx = max(peak_xlsx, peak)
        database.unlink()
        print(
            f"  run {run_no + 1}: csv {first_csv[-1]:.1f} s, again {again_csv[-1]:.1f} s, "
            f"xlsx {first_xlsx[-1]:.1f} s",
            flush=True,
        )

    csv_parse = [parse_csv(csv_path) for _ in range(RUNS)]
    xlsx_parse = [parse_xlsx(xlsx_path) for _ in range(RUNS)]
    common = {
        "Roster": f"{EMPLOYEES:,} employees, {len(DEPARTMENTS)} departments × {len(TEAMS)} "
        f"teams, 1 in 25 a representative; CSV {csv_path.stat().st_size / 2**20:.1f} MiB, "
        f"xlsx {xlsx_path.stat().st_size / 2**20:.1f} MiB",
        "Django start-up alone (`import_roster --help`), median": (
            f"{statistics.median(startup):.2f} s"
        ),
        "Peak memory": "the import process's own ru_maxrss, from os.wait4 on that child "
        "(RUSAGE_CHILDREN would also count the migrate run)",
    }
    return [
        Measurement(
            title="Roster import: 50,000 employees from CSV, first import",
            what=(
                "`manage.py import_roster roster.csv` into a freshly migrated SQLite database "
                "holding only the company: creates 12 departments, 60 teams, 50,000 employees, "
                "2,000 representative roles and 50,073 audit events in one transaction. Wall "
                "time of the whole process, start-up included."
            ),
            samples=first_csv,
            baseline="reading the same CSV with the csv module (decode + iterate)",
            baseline_samples=csv_parse,
            target_seconds=TARGET_SECONDS,
            notes={**common, "Peak memory of the import process": mib(peak_first)},
        ),
        Measurement(
            title="Roster import: the same 50,000-employee CSV again (no changes)",
            what=(
                "The same file imported a second time into the same database: every row is "
                "matched, nothing changes, one summary audit event is written."
            ),
            samples=again_csv,
            baseline="reading the same CSV with the csv module (decode + iterate)",
            baseline_samples=csv_parse,
            target_seconds=TARGET_SECONDS,
            notes={"Peak memory of the import process": mib(peak_again)},
        ),
        Measurement(
            title="Roster import: 50,000 employees from .xlsx, first import",
            what=(
                "As the first CSV import, from an .xlsx workbook of the same rows (employee "
                "numbers stored as numbers), read with openpyxl in read-only mode."
            ),
            samples=first_xlsx,
            baseline="reading the same workbook with openpyxl (read-only, values only)",
            baseline_samples=xlsx_parse,
            target_seconds=TARGET_SECONDS,
            notes={"Peak memory of the import process": mib(peak_xlsx)},
        ),
    ]
