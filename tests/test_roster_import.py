"""The roster import: HR spreadsheets in, units and employees out, all or nothing, audited."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from io import StringIO

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.core import jobs, spreadsheets
from gongkai.core.models import Job, JobStatus
from gongkai.core.tasks import run_job
from gongkai.org import jobs as roster_jobs
from gongkai.org import roster_parse as roster_parse_module
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.org.roster import roster_import, roster_parse, roster_plan
from gongkai.org.services import unit_update

HEADER = ["工号", "姓名", "部门", "班组", "岗位", "是否职工代表"]
ROWS = [
    ["10001", "张伟", "锅炉分场", "锅炉运行一班", "值长", "是"],
    ["10002", "王芳", "锅炉分场", "锅炉运行二班", "巡检工", "否"],
    ["10003", "李娜", "化学分场", "水处理班", "化验员", ""],
    ["10004", "刘洋", "化学分场", "", "主任", "否"],
    ["10005", "陈静", "", "", "总经理", "是"],
]


@pytest.fixture(autouse=True)
def in_english(client):
    """The assertions read the English messages (the switcher's cookie chooses English)."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def english_client(**kwargs) -> Client:
    client = Client(**kwargs)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def do_import(org, data: bytes, *, dry_run: bool = False, filename: str = "roster.csv"):
    return roster_import(
        actor=org["union"], company=org.company, data=data, filename=filename, dry_run=dry_run
    )


def snapshot() -> dict[str, object]:
    """Everything an import could write."""
    return {
        "users": sorted(
            User.objects.values_list("employee_no", "name", "unit_id", "position", "password")
        ),
        "units": sorted(OrgUnit.objects.values_list("code", "name", "parent_id", "path")),
        "roles": sorted(RoleAssignment.objects.values_list("user_id", "role", "unit_id")),
        "audit": AuditEvent.objects.count(),
    }


def errors_of(result) -> list[tuple[int | None, str]]:
    return [(e.row, e.column) for e in result.errors]


# --- Importing --------------------------------------------------------------------------------


def test_good_csv_creates_units_employees_and_representatives(org):
    result = do_import(org, csv_bytes(ROWS))

    assert result.applied and result.errors == []
    # Existing units are matched by name under their parent, new ones created beneath them.
    assert OrgUnit.objects.filter(name="锅炉分场").count() == 1
    team1 = User.objects.get(employee_no="10001").unit
    assert team1 == org.boiler_team
    team2 = OrgUnit.objects.get(name="锅炉运行二班")
    assert team2.parent == org.boiler and team2.kind == UnitKind.TEAM
    assert team2.path == f"{org.boiler.path}{team2.pk}/" and team2.depth == 3
    chem = OrgUnit.objects.get(name="化学分场")
    assert chem.parent == org.company and chem.kind == UnitKind.DEPARTMENT
    water = OrgUnit.objects.get(name="水处理班")
    assert water.parent == chem and water.path.startswith(chem.path)
    assert User.objects.get(employee_no="10004").unit == chem
    boss = User.objects.get(employee_no="10005")
    assert boss.unit == org.company and boss.position == "总经理"
    reps = set(
        RoleAssignment.objects.filter(role=Role.REPRESENTATIVE, unit=org.company).values_list(
            "user__employee_no", flat=True
        )
    )
    assert {"10001", "10005"} <= reps and "10002" not in reps
    assert not User.objects.get(employee_no="10002").has_usable_password()


def test_new_unit_codes_are_deterministic_and_avoid_existing_codes(org):
    OrgUnit.objects.create(
        code="rd-d1", name="已有", kind=UnitKind.COMPANY, path="/999/", depth=1
    )  # a code the generator would otherwise pick
    do_import(org, csv_bytes(ROWS))
    chem = OrgUnit.objects.get(name="化学分场")
    assert chem.code == "rd-d2"
    assert OrgUnit.objects.get(name="水处理班").code == "rd-d2-t1"
    assert OrgUnit.objects.get(name="锅炉运行二班").code == "rd-boiler-t1"


def test_good_xlsx_with_numeric_employee_numbers(org):
    data = xlsx_bytes(
        [
            [10023, "赵磊", "锅炉分场", "锅炉运行一班", "司炉", "是"],
            [10024.0, "孙丽", "汽机分场", None, None, None],
        ]
    )
    result = do_import(org, data, filename="roster.xlsx")
    assert result.applied, result.errors
    assert User.objects.get(employee_no="10023").unit == org.boiler_team
    sun = User.objects.get(employee_no="10024")
    assert sun.unit == org.turbine and sun.position == ""


def test_xlsx_title_row_above_header_keeps_excel_row_numbers(org):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["示范热电职工花名册（2024年）"])
    sheet.append(HEADER)
    sheet.append(["20001", "", "锅炉分场", "", "", ""])
    out = io.BytesIO()
    workbook.save(out)
    result = do_import(org, out.getvalue(), filename="roster.xlsx")
    assert errors_of(result) == [(3, "姓名")]


def test_gb18030_csv_from_chinese_excel(org):
    data = csv_bytes(ROWS, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = do_import(org, data)
    assert result.applied, result.errors
    assert User.objects.get(employee_no="10003").name == "李娜"


def test_utf8_bom_and_english_headers_are_accepted(org):
    header = ["Employee No", " name ", "Department", "team", "position", "representative"]
    data = b"\xef\xbb\xbf" + csv_bytes(ROWS, header=header)
    result = do_import(org, data)
    assert result.applied, result.errors
    assert User.objects.filter(employee_no__startswith="1000").count() == 5


def test_excel_unicode_text_utf16_tab_separated_is_accepted(org):
    lines = ["\t".join(HEADER), *("\t".join(row) for row in ROWS)]
    data = "\r\n".join(lines).encode("utf-16")  # with its byte order mark
    result = do_import(org, data, filename="roster.txt")
    assert result.applied, result.errors
    assert User.objects.get(employee_no="10002").position == "巡检工"


def test_optional_columns_absent_leave_positions_and_representatives_alone(org):
    rep = org["rep"]
    data = csv_bytes([["rep", rep.name, "锅炉分场", "锅炉运行一班"]], header=HEADER[:4])
    result = do_import(org, data)
    assert result.applied
    assert result.plan is not None and result.plan.unchanged == 1
    assert RoleAssignment.objects.filter(user=rep, role=Role.REPRESENTATIVE).exists()


def test_reimport_updates_and_never_duplicates(org):
    do_import(org, csv_bytes(ROWS))
    users, units = User.objects.count(), OrgUnit.objects.count()
    audit_before = AuditEvent.objects.count()
    changed = [list(row) for row in ROWS]
    changed[0][1] = "张伟伟"  # renamed
    changed[0][5] = "否"  # no longer a representative
    changed[1][3] = "锅炉运行一班"  # moved to another team
    changed[2][4] = "高级化验员"  # new position

    result = do_import(org, csv_bytes(changed))

    assert result.applied
    assert (User.objects.count(), OrgUnit.objects.count()) == (users, units)
    zhang = User.objects.get(employee_no="10001")
    assert zhang.name == "张伟伟"
    assert not RoleAssignment.objects.filter(user=zhang, role=Role.REPRESENTATIVE).exists()
    assert User.objects.get(employee_no="10002").unit == org.boiler_team
    assert User.objects.get(employee_no="10003").position == "高级化验员"
    plan = result.plan
    assert plan is not None
    assert (len(plan.changed_employees), plan.unchanged, len(plan.new_employees)) == (3, 2, 0)

    events = AuditEvent.objects.filter(pk__gt=0).order_by("id")[audit_before:]
    updated = {e.target_label: e for e in events if e.action == "org.employee_updated"}
    assert updated["张伟伟 (10001)"].before == {"name": "张伟", "representative": True}
    assert updated["张伟伟 (10001)"].after == {"name": "张伟伟", "representative": False}
    assert updated["王芳 (10002)"].before == {"unit": "锅炉分场 / 锅炉运行二班"}
    assert updated["王芳 (10002)"].after == {"unit": "锅炉分场 / 锅炉运行一班"}
    assert updated["李娜 (10003)"].after == {"position": "高级化验员"}
    assert all(e.actor == org["union"] for e in events)
    summary = [e for e in events if e.action == "org.roster_imported"]
    assert len(summary) == 1
    assert summary[0].after["employees_changed"] == 3
    assert summary[0].after["file"] == "roster.csv"


def test_same_file_twice_changes_nothing_the_second_time(org):
    do_import(org, csv_bytes(ROWS))
    before = snapshot()
    result = do_import(org, csv_bytes(ROWS))
    assert result.plan is not None and not result.plan.has_changes
    assert result.plan.unchanged == len(ROWS)
    after = snapshot()
    assert after["audit"] == before["audit"] + 1  # the summary event only
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }


def test_first_import_is_audited_unit_by_unit_and_employee_by_employee(org):
    do_import(org, csv_bytes(ROWS))
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("org.unit_created") >= 3 + 3  # fixture units + 化学分场, two teams
    assert actions.count("org.employee_created") == 5
    created = AuditEvent.objects.get(action="org.employee_created", target_label="陈静 (10005)")
    assert created.after == {
        "employee_no": "10005",
        "name": "陈静",
        "unit": org.company.name,
        "position": "总经理",
        "representative": True,
    }
    unit_event = AuditEvent.objects.get(action="org.unit_created", target_label="水处理班")
    water = OrgUnit.objects.get(name="水处理班")
    assert unit_event.scope_path == water.path
    assert unit_event.after["parent"] == OrgUnit.objects.get(name="化学分场").code


def test_dry_run_writes_nothing_and_shows_the_plan(org):
    before = snapshot()
    result = do_import(org, csv_bytes(ROWS), dry_run=True)
    assert snapshot() == before
    assert not result.applied
    plan = result.plan
    assert plan is not None
    assert plan.new_departments == ["化学分场"]
    assert plan.new_teams == [("锅炉分场", "锅炉运行二班"), ("化学分场", "水处理班")]
    assert [e.employee_no for e in plan.new_employees] == [r[0] for r in ROWS]
    listed = {m.employee_no for m in plan.not_in_file}
    assert {"union", "employee", "rep"} <= listed and "outsider" not in listed


def test_existing_employee_is_matched_by_number_and_moved(org):
    data = csv_bytes([["employee", "新名字", "汽机分场", "汽机运行一班", "", "否"]])
    result = do_import(org, data)
    assert result.applied
    person = User.objects.get(employee_no="employee")
    assert (person.name, person.unit) == ("新名字", org.turbine_team)
    assert User.objects.filter(employee_no="employee").count() == 1


def test_plan_makes_no_query_per_row(org, django_assert_max_num_queries):
    rows = [[f"3{i:04d}", f"职工{i}", f"部门{i % 4}", f"班{i % 3}", "", ""] for i in range(600)]
    parsed = roster_parse(data=csv_bytes(rows))
    with django_assert_max_num_queries(5):
        plan = roster_plan(company=org.company, rows=parsed.rows)
    assert len(plan.new_employees) == 600 and len(plan.new_teams) == 12


# --- Bad input: every error listed, nothing written -------------------------------------------


BAD_FILES = {
    "missing required column": (
        csv_bytes([["1", "甲", "锅炉分场"]], header=["工号", "姓名", "科室"]),
        [(1, "部门")],
    ),
    "duplicate employee number": (
        csv_bytes([ROWS[0], ROWS[1], [ROWS[0][0], "别人", "锅炉分场", "", "", ""]]),
        [(4, "工号")],
    ),
    "empty name": (csv_bytes([ROWS[0], ["10009", " ", "锅炉分场", "", "", ""]]), [(3, "姓名")]),
    "team without department": (
        csv_bytes([["10009", "甲", "", "锅炉运行一班", "", ""]]),
        [(2, "班组")],
    ),
    "bad representative flag": (
        csv_bytes([ROWS[0], ["10009", "甲", "锅炉分场", "", "", "Y"]]),
        [(3, "是否职工代表")],
    ),
    "employee number of another company": (
        csv_bytes([["outsider", "外人", "锅炉分场", "", "", ""]]),
        [(2, "工号")],
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_row_rejects_the_whole_import(org, kind):
    data, expected = BAD_FILES[kind]
    before = snapshot()
    result = do_import(org, data)
    assert not result.applied
    assert errors_of(result) == expected
    assert all(e.message for e in result.errors)
    assert snapshot() == before


def test_every_error_is_listed_not_just_the_first(org):
    rows = [
        ["10001", "", "锅炉分场", "", "", ""],
        ["10001", "甲", "", "某班", "", "可能"],
        ["", "乙", "锅炉分场", "", "", ""],
        ["10004", "丁", "锅炉分场", "", "", ""],
    ]
    result = do_import(org, csv_bytes(rows))
    assert errors_of(result) == [
        (2, "姓名"),
        (3, "工号"),
        (3, "班组"),
        (3, "是否职工代表"),
        (4, "工号"),
    ]
    assert "row 3" in str(result.errors[1]) and "工号" in str(result.errors[1])
    assert not User.objects.filter(employee_no="10004").exists()


def test_inactive_department_is_an_error_not_a_duplicate(org):
    unit_update(actor=None, unit=org.turbine, name=org.turbine.name, order=0, is_active=False)
    before = snapshot()
    rows = [["1", "甲", "汽机分场", "", "", ""], ["2", "乙", "汽机分场", "新班", "", ""]]
    result = do_import(org, csv_bytes(rows))
    assert errors_of(result) == [(2, "部门")]
    assert "1 more" in result.errors[0].message
    assert snapshot() == before


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 this is not really a zip at all" * 10,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
    ],
    ids=["fake-zip", "png", "old-xls"],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused_clearly(org, data):
    before = snapshot()
    result = do_import(org, data, filename="roster.xlsx")
    assert not result.applied and result.plan is None
    assert len(result.errors) == 1 and result.errors[0].row is None
    assert "spreadsheet" in result.errors[0].message or ".xls" in result.errors[0].message
    assert snapshot() == before


def test_a_zip_that_is_not_a_workbook_is_refused(org):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    result = do_import(org, out.getvalue(), filename="roster.xlsx")
    assert [e.row for e in result.errors] == [None]
    assert "not a spreadsheet" in result.errors[0].message


def test_a_workbook_that_unpacks_to_far_more_than_the_limit_is_refused(org, monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED_RATIO", 0)
    result = do_import(org, xlsx_bytes([ROWS[0]]), filename="roster.xlsx")
    assert not result.applied and "unpacked" in result.errors[0].message


@pytest.mark.parametrize("data", [b"", b"  \r\n", "工号,姓名,部门\n".encode()])
def test_an_empty_file_or_header_only_is_refused_clearly(org, data):
    before = snapshot()
    result = do_import(org, data)
    assert not result.applied and len(result.errors) == 1
    assert "empty" in result.errors[0].message or "no employee rows" in result.errors[0].message
    assert snapshot() == before


def test_a_huge_file_is_refused_clearly(org, settings):
    settings.UPLOAD_MAX_BYTES = 100
    before = snapshot()
    result = do_import(org, csv_bytes(ROWS * 3))
    assert not result.applied
    assert "larger than" in result.errors[0].message
    assert snapshot() == before


def test_too_many_rows_are_refused_clearly(org, monkeypatch):
    monkeypatch.setattr(roster_parse_module, "MAX_ROWS", 3)
    result = do_import(org, csv_bytes(ROWS))
    assert not result.applied and "more than 3" in result.errors[0].message


# --- The command ------------------------------------------------------------------------------


def roster_file(tmp_path, data: bytes, name: str = "roster.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_command_imports_and_prints_the_plan(org, tmp_path):
    out = StringIO()
    call_command(
        "import_roster", roster_file(tmp_path, csv_bytes(ROWS)), "--company=rd", stdout=out
    )
    text = out.getvalue()
    assert "化学分场" in text and "New employees: 5" in text
    assert User.objects.filter(employee_no="10005").exists()
    event = AuditEvent.objects.get(action="org.roster_imported")
    assert event.actor is None and event.actor_label == "system"


def test_command_dry_run_writes_nothing(org, tmp_path):
    before = snapshot()
    out = StringIO()
    path = roster_file(tmp_path, csv_bytes(ROWS))
    call_command("import_roster", path, "--dry-run", "--company=rd", stdout=out)
    assert "Dry run" in out.getvalue() and "+ 化学分场" in out.getvalue()
    assert snapshot() == before


def test_command_fails_with_every_error_and_writes_nothing(org, tmp_path):
    rows = [["1", "", "锅炉分场", "", "", ""], ["1", "乙", "", "班", "", "x"]]
    before = snapshot()
    err = StringIO()
    with pytest.raises(CommandError, match="4 error"):
        call_command(
            "import_roster", roster_file(tmp_path, csv_bytes(rows)), "--company=rd", stderr=err
        )
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("row 2, column 姓名:")
    assert [line.split(":")[0] for line in lines[1:]] == [
        "row 3, column 工号",
        "row 3, column 班组",
        "row 3, column 是否职工代表",
    ]
    assert snapshot() == before


def test_command_refuses_a_file_that_is_not_a_spreadsheet(org, tmp_path):
    err = StringIO()
    path = roster_file(tmp_path, b"PK\x03\x04garbage", "roster.xlsx")
    with pytest.raises(CommandError):
        call_command("import_roster", path, "--company=rd", stderr=err)
    assert "not a spreadsheet" in err.getvalue()


def test_command_needs_a_company_when_there_are_several(org, tmp_path):
    with pytest.raises(CommandError, match="--company"):
        call_command("import_roster", roster_file(tmp_path, csv_bytes(ROWS)))
    with pytest.raises(CommandError, match="No company"):
        call_command("import_roster", roster_file(tmp_path, csv_bytes(ROWS)), "--company=nope")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_roster", str(tmp_path / "missing.csv"), "--company=rd")


# --- The pages: upload → the check in the background → confirm → the import in the background


def upload(client: Client, data: bytes, name: str = "roster.csv", **fields: object):
    return client.post("/org/roster/", {"file": SimpleUploadedFile(name, data), **fields})


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """``run(lambda: client.post(...))``: the request, then the jobs it started (enqueued
    when its transaction commits; the test queue runs them at once)."""

    def do(request):
        with django_capture_on_commit_callbacks(execute=True):
            return request()

    return do


def checked(run, client: Client, data: bytes, name: str = "roster.csv", **fields: object):
    """Upload, let the check run, open its page: (the check job, its page)."""
    response = run(lambda: upload(client, data, name, **fields))
    assert response.status_code == 302, response.content.decode()[:500]
    check = Job.objects.filter(kind=roster_jobs.CHECK).latest("created_at")
    assert response.url == reverse("core:job", args=[check.pk])
    return check, client.get(response.url)


def confirm(run, client: Client, check: Job | str):
    job = check.pk if isinstance(check, Job) else check
    return run(lambda: client.post("/org/roster/confirm/", {"job": job}))


def test_union_office_uploads_sees_the_plan_and_confirms(org, client, run):
    client.force_login(org["union"])
    assert client.get("/org/roster/").status_code == 200
    before = snapshot()

    check, page = checked(run, client, csv_bytes(ROWS))

    assert page.status_code == 200
    text = page.content.decode()
    assert "化学分场" in text and "10005" in text and "union的姓名" in text
    assert "Confirm import" in text
    assert snapshot() == before  # the check is a dry run
    check.refresh_from_db()
    assert check.status == JobStatus.DONE and check.owner == org["union"]
    stored = check.input_file.name
    assert stored.startswith("jobs/") and default_storage.exists(stored)

    response = confirm(run, client, check)

    imported = Job.objects.get(kind=roster_jobs.IMPORT)
    assert response.status_code == 302
    assert response.url == reverse("core:job", args=[imported.pk])
    imported.refresh_from_db()
    assert imported.status == JobStatus.DONE and imported.done == imported.total
    assert User.objects.filter(employee_no__startswith="1000").count() == 5
    assert not default_storage.exists(stored)
    event = AuditEvent.objects.get(action="org.roster_imported")
    assert event.actor == org["union"] and event.after["employees_created"] == 5
    assert AuditEvent.objects.filter(action="org.employee_created").count() == 5
    result = client.get(response.url).content.decode()
    assert "The roster was imported: 5 new and 0 changed employees" in result

    # Confirming again finds the same import: nothing more is imported.
    audit = AuditEvent.objects.count()
    response = confirm(run, client, check)
    assert response.url == reverse("core:job", args=[imported.pk])
    assert AuditEvent.objects.count() == audit
    again = client.get(reverse("core:job", args=[check.pk])).content.decode()
    assert "Confirm import" not in again and "See the import of this file" in again


def test_the_import_task_run_twice_imports_once(org, client, run):
    client.force_login(org["union"])
    check, _page = checked(run, client, csv_bytes(ROWS))
    confirm(run, client, check)
    imported = Job.objects.get(kind=roster_jobs.IMPORT)
    after = snapshot()
    run_job(str(imported.pk))  # a retry, or a duplicate in the queue
    run_job(str(check.pk))
    assert snapshot() == after
    assert Job.objects.get(pk=imported.pk).attempts == 1


def test_an_import_whose_worker_lost_the_job_writes_nothing(org, client, run):
    """A worker too slow to show a sign of life is taken over by another: whatever the slow
    one does afterwards is rolled back (it finds the job no longer its own)."""
    client.force_login(org["union"])
    check, _page = checked(run, client, csv_bytes(ROWS))
    imported = roster_jobs.start_import(owner=org["union"], check=check)  # not run yet
    slow = jobs.claim(imported.pk)
    Job.objects.filter(pk=imported.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    taken_over = jobs.claim(imported.pk)
    assert slow is not None and taken_over is not None
    before = snapshot()
    with pytest.raises(jobs.Superseded):
        roster_jobs.run_import(slow, jobs.Progress(slow))
    assert snapshot() == before
    roster_jobs.run_import(taken_over, jobs.Progress(taken_over))
    assert User.objects.filter(employee_no__startswith="1000").count() == 5


def test_the_check_reports_its_progress_every_few_rows(org, monkeypatch):
    monkeypatch.setattr(roster_parse_module, "PROGRESS_ROWS", 2)
    check = roster_jobs.start_check(
        owner=org["union"], company=org.company, data=csv_bytes(ROWS), filename="r.csv"
    )
    job = jobs.claim(check.pk)
    assert job is not None
    reports: list[tuple[int, int, str]] = []
    roster_jobs.run_check(
        job,
        lambda done, total=0, message="", force=False: reports.append((done, total, str(message))),
    )
    assert reports[0][0] == 0 and "Reading the file" in reports[0][2]
    assert (2, 12, "Reading the file: 2 rows read") in reports
    assert (4, 12, "Reading the file: 4 rows read") in reports
    assert reports[-1][:2] == (5, 10) and "Comparing 5 rows" in reports[-1][2]
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result["plan"]["counts"]["employees_created"] == 5


def test_confirm_plans_again_against_the_database_as_it_is_then(org, client, run):
    client.force_login(org["union"])
    check, _page = checked(run, client, csv_bytes(ROWS))
    do_import(org, csv_bytes(ROWS[:1]))  # someone imports part of it meanwhile
    response = confirm(run, client, check)
    assert response.status_code == 302
    assert User.objects.filter(employee_no="10001").count() == 1
    assert User.objects.filter(employee_no__startswith="1000").count() == 5
    result = client.get(response.url).content.decode()
    assert "The roster was imported: 4 new and 0 changed employees" in result


def test_confirm_refuses_a_stored_file_that_changed(org, client, run):
    client.force_login(org["union"])
    check, _page = checked(run, client, csv_bytes(ROWS))
    stored = check.input_file.name
    default_storage.delete(stored)
    default_storage.save(stored, io.BytesIO(csv_bytes([["99", "篡改", "", "", "", ""]])))
    before = snapshot()
    response = confirm(run, client, check)
    page = client.get(response.url)
    assert page.status_code == 200
    assert "The uploaded file is no longer available. Upload it again." in page.content.decode()
    assert Job.objects.get(kind=roster_jobs.IMPORT).status == JobStatus.FAILED
    assert snapshot() == before
    assert not User.objects.filter(employee_no="99").exists()


@pytest.mark.parametrize("job", ["guessed", "00000000-0000-0000-0000-000000000000", ""])
def test_confirm_of_a_job_that_is_not_a_pending_check_imports_nothing(org, client, run, job):
    client.force_login(org["union"])
    checked(run, client, csv_bytes(ROWS))
    before = snapshot()
    response = confirm(run, client, job)
    assert response.status_code == 302 and response.url == "/org/roster/"
    assert snapshot() == before
    assert not Job.objects.filter(kind=roster_jobs.IMPORT).exists()


def test_a_check_with_errors_or_nothing_to_change_cannot_be_confirmed(org, client, run):
    client.force_login(org["union"])
    bad, page = checked(run, client, csv_bytes([["1", "", "锅炉分场", "", "", ""]]))
    assert "Confirm import" not in page.content.decode()
    assert not bad.input_file or not default_storage.exists(bad.input_file.name)
    Job.objects.filter(pk=bad.pk).update(input_file="")
    do_import(org, csv_bytes(ROWS))
    same, page = checked(run, client, csv_bytes(ROWS))
    assert "there is nothing to import" in page.content.decode()
    before = snapshot()
    for check in (bad, same):
        response = confirm(run, client, check)
        assert response.url == "/org/roster/"
    assert snapshot() == before


def test_a_check_older_than_a_day_must_be_uploaded_again(org, client, run):
    client.force_login(org["union"])
    check, _page = checked(run, client, csv_bytes(ROWS))
    Job.objects.filter(pk=check.pk).update(finished_at=timezone.now() - timedelta(days=2))
    assert "Confirm import" not in client.get(f"/jobs/{check.pk}/").content.decode()
    before = snapshot()
    response = confirm(run, client, check)
    assert response.url == "/org/roster/" and snapshot() == before


@pytest.mark.parametrize("persona", ["employee", "depthead", "leader", "rep", "outsider"])
def test_others_cannot_import(org, client, persona):
    client.force_login(org[persona])
    before = snapshot()
    assert client.get("/org/roster/").status_code == 403
    assert upload(client, csv_bytes(ROWS)).status_code == 403
    assert client.post("/org/roster/confirm/", {"job": "x"}).status_code == 403
    assert snapshot() == before
    assert not Job.objects.exists()


def test_a_check_of_the_union_office_is_useless_to_anyone_else(org, client, run):
    from gongkai.org.services import role_grant

    client.force_login(org["union"])
    check, _page = checked(run, client, csv_bytes(ROWS))
    colleague = User.objects.create(employee_no="union2", name="另一位", unit=org.union_dept)
    role_grant(actor=None, user=colleague, role=Role.UNION_OFFICE, unit=org.company)
    before = snapshot()
    for who in (org["employee"], colleague):
        other = english_client()
        other.force_login(who)
        assert other.get(f"/jobs/{check.pk}/").status_code == 404
        assert other.get(f"/jobs/{check.pk}/status/").status_code == 404
        response = confirm(run, other, check)
        assert response.status_code == (403 if who == org["employee"] else 302)
    assert snapshot() == before
    assert not Job.objects.filter(kind=roster_jobs.IMPORT).exists()


def test_a_union_office_that_lost_its_role_cannot_confirm_or_see_its_check(org, client, run):
    client.force_login(org["union"])
    check, _page = checked(run, client, csv_bytes(ROWS))
    RoleAssignment.objects.filter(user=org["union"], role=Role.UNION_OFFICE).delete()
    client.force_login(User.objects.get(pk=org["union"].pk))  # grants are read per request
    assert client.get(f"/jobs/{check.pk}/").status_code == 403
    before = snapshot()
    assert confirm(run, client, check).status_code == 403
    assert snapshot() == before


def test_anonymous_is_sent_to_login(org, client):
    response = client.get("/org/roster/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def zipfile_bytes(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


REFUSED_UPLOADS = {
    "not a spreadsheet": (
        b"%PDF-1.4\x00\x01\x02\xff\xfe binary",
        "roster.xlsx",
        "not a spreadsheet",
    ),
    "fake xlsx": (b"PK\x03\x04garbage", "roster.xlsx", "not a spreadsheet"),
    "a zip that is no workbook": (
        zipfile_bytes({"word/document.xml": "<w/>"}),
        "roster.xlsx",
        "not a spreadsheet",
    ),
    "old xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "roster.xls", ".xls"),
    "empty": (b"", "roster.csv", "The file is empty."),
}


@pytest.mark.parametrize("kind", list(REFUSED_UPLOADS))
def test_a_hostile_or_broken_file_is_refused_on_the_page_before_anything_runs(org, client, kind):
    data, name, reason = REFUSED_UPLOADS[kind]
    client.force_login(org["union"])
    before = snapshot()
    response = upload(client, data, name)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert b"Confirm import" not in response.content
    assert not Job.objects.exists()
    assert snapshot() == before


def test_a_workbook_that_unpacks_to_far_more_than_the_limit_is_refused_on_the_page(
    org, client, settings
):
    settings.UPLOAD_MAX_BYTES = 20_000
    client.force_login(org["union"])
    bomb = zipfile_bytes({"xl/workbook.xml": "<w/>", "xl/worksheets/sheet1.xml": " " * 500_000})
    response = upload(client, bomb, "roster.xlsx")
    assert response.status_code == 400
    assert "too large once unpacked" in response.content.decode()
    assert not Job.objects.exists()


def test_bad_rows_are_listed_on_the_check_page_and_nothing_is_written(org, client, run):
    client.force_login(org["union"])
    before = snapshot()
    data = csv_bytes([["1", "", "锅炉分场", "", "", ""], ["1", "乙", "", "班", "", "Y"]])
    check, page = checked(run, client, data)
    assert page.context["error_count"] >= 3
    assert b"Confirm import" not in page.content
    assert snapshot() == before
    check.refresh_from_db()
    assert check.status == JobStatus.DONE and not check.input_file  # nothing to confirm


def test_the_page_shows_row_column_and_reason(org, client, run):
    client.force_login(org["union"])
    data = csv_bytes([ROWS[0], ["10009", "甲", "锅炉分场", "", "", "Y"]])
    _check, page = checked(run, client, data)
    text = page.content.decode()
    assert '<td class="num">3</td><td>是否职工代表</td>' in text
    assert "“Y” is not allowed" in text


def test_the_check_speaks_the_language_of_the_person_who_uploaded(org, client, run):
    """The row errors are written by the worker, in the language of the upload's page."""
    client.force_login(org["union"])
    data = csv_bytes([ROWS[0], ["10009", "", "锅炉分场", "", "", ""]])
    _check, page = checked(run, client, data)
    assert "The name is empty." in page.content.decode()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    with translation.override("en"):  # whatever the worker's own language
        check, page = checked(run, client, data)
    assert check.language == "zh-hans"
    assert "姓名为空。" in page.content.decode()


def test_a_huge_upload_is_refused_on_the_page(org, client, settings):
    settings.UPLOAD_MAX_BYTES = 100
    client.force_login(org["union"])
    before = snapshot()
    response = upload(client, csv_bytes(ROWS * 3))
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert snapshot() == before
    assert not Job.objects.exists()


def test_upload_without_a_file_is_a_form_error(org, client):
    client.force_login(org["union"])
    response = client.post("/org/roster/", {})
    assert response.status_code == 400


def test_posts_without_a_csrf_token_are_refused(org):
    csrf_client = english_client(enforce_csrf_checks=True)
    csrf_client.force_login(org["union"])
    before = snapshot()
    assert upload(csrf_client, csv_bytes(ROWS)).status_code == 403
    assert csrf_client.post("/org/roster/confirm/", {"job": "x"}).status_code == 403
    assert snapshot() == before
    assert not Job.objects.exists()


def test_the_upload_page_and_the_check_page_carry_a_csrf_token(org, run):
    csrf_client = english_client(enforce_csrf_checks=True)
    csrf_client.force_login(org["union"])
    page = csrf_client.get("/org/roster/")
    token = page.cookies["csrftoken"].value
    response = run(
        lambda: csrf_client.post(
            "/org/roster/",
            {
                "file": SimpleUploadedFile("roster.csv", csv_bytes(ROWS)),
                "csrfmiddlewaretoken": token,
            },
        )
    )
    assert response.status_code == 302
    check_page = csrf_client.get(response.url)
    assert b"Confirm import" in check_page.content
    assert b'name="csrfmiddlewaretoken"' in check_page.content
    check = Job.objects.get(kind=roster_jobs.CHECK)
    response = run(
        lambda: csrf_client.post(
            "/org/roster/confirm/", {"job": check.pk, "csrfmiddlewaretoken": token}
        )
    )
    assert response.status_code == 302
    assert User.objects.filter(employee_no__startswith="1000").count() == 5


def test_a_long_error_list_is_capped_on_the_page_with_the_full_count(org, client, run, monkeypatch):
    monkeypatch.setattr(roster_jobs, "ERRORS_LISTED_AT_MOST", 2)
    client.force_login(org["union"])
    rows = [[f"{i}", "", "锅炉分场", "", "", ""] for i in range(5)]
    _check, page = checked(run, client, csv_bytes(rows))
    assert len(page.context["errors"]) == 2 and page.context["error_count"] == 5
    assert "Only the first 2 of the 5 problems" in page.content.decode()


def test_a_long_plan_is_listed_in_part_with_the_full_counts(org, client, run, monkeypatch):
    monkeypatch.setattr(roster_jobs, "LISTED_AT_MOST", 2)
    client.force_login(org["union"])
    _check, page = checked(run, client, csv_bytes(ROWS))
    assert len(page.context["plan"]["new_employees"]) == 2
    assert "The first 2 of 5 are listed." in page.content.decode()


def test_a_union_office_over_two_companies_chooses_the_company(org, client, run):
    from gongkai.org.services import role_grant

    union = org["union"]
    role_grant(actor=None, user=union, role=Role.UNION_OFFICE, unit=org.other_company)
    client.force_login(union)
    page = client.get("/org/roster/").content.decode()
    assert 'name="company"' in page and "另一家公司" in page
    check, page = checked(run, client, csv_bytes(ROWS), "r.csv", company=org.other_company.pk)
    assert check.params["company"] == org.other_company.pk
    assert "另一家公司" in page.content.decode()
    confirm(run, client, check)
    assert User.objects.get(employee_no="10001").unit.path.startswith(org.other_company.path)


def test_a_company_outside_the_grant_cannot_be_chosen(org, client, run):
    client.force_login(org["union"])
    before = snapshot()
    # With one company there is no choice: the posted value is ignored.
    check, _page = checked(run, client, csv_bytes(ROWS), "r.csv", company=org.other_company.pk)
    assert check.params["company"] == org.company.pk
    assert snapshot() == before


def test_a_huge_body_is_refused_before_it_is_read(org, client, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    client.force_login(org["union"])
    before = snapshot()
    big = csv_bytes(ROWS) + b"\n" * (200 * 1024)
    response = upload(client, big)
    assert response.status_code == 400
    assert response.context["upload_error"].startswith("The file is larger than")
    assert not response.context["form"].is_bound  # the body was never parsed
    assert snapshot() == before
    assert not Job.objects.exists()
