"""Roster sync: another system (the HR system, through a service account holding the union
office's role on the company) sends the company's roster as JSON records instead of a
spreadsheet. The records become the same rows, with the same row checks and messages, as the
Excel import's (``roster_parse.roster_from_records``), planned and applied by the same
functions (``roster.roster_import_parsed``): the same dry run, the same errors, all or
nothing. Synchronous: the import runs in the request."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import ngettext
from ninja import Path as PathParam
from ninja import Router, Schema, Status
from pydantic import Field

from gongkai.api.auth import caller, require_in_scope
from gongkai.api.errors import Error
from gongkai.api.schemas import responses
from gongkai.org import jobs as roster_jobs
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.org.roster import RosterError, roster_import_parsed
from gongkai.org.roster_parse import COLUMN_BY_FIELD, field_of, roster_from_records
from gongkai.policy.rules import Action, require

router = Router(tags=["roster"])

# Rows per request. The request body's limit comes first: DATA_UPLOAD_MAX_MEMORY_SIZE,
# 2.5 MB, some 16,000 records with all six fields in UTF-8 (10,000 measured 1.44 MB), 12,000
# with \uXXXX escapes; a larger roster is sent in parts (by department), each all or nothing.
SYNC_MAX_ROWS = 100_000
VALUE_MAX = 1_000  # longer than its column holds is a row error; longer than this, refused
CODE_MAX = 40  # OrgUnit.code
SOURCE = "API"  # what the import's audit event says it read, where a file's name goes


def _value(name: str, description: str) -> Any:
    limit = COLUMN_BY_FIELD[name].max_length
    return Field(max_length=VALUE_MAX, description=f"{description} (at most {limit} characters)")


class RosterRecord(Schema):
    employee_no: str = _value("employee_no", "工号: letters, digits, . _ -")
    name: str = _value("name", "姓名")
    department: str | None = Field(
        "",
        max_length=VALUE_MAX,
        description=f"部门, matched by name under the company; empty: the company itself "
        f"(at most {COLUMN_BY_FIELD['department'].max_length} characters)",
    )
    team: str | None = Field(
        None,
        max_length=VALUE_MAX,
        description=f"班组, matched by name under the department "
        f"(at most {COLUMN_BY_FIELD['team'].max_length} characters)",
    )
    position: str | None = Field(
        None,
        max_length=VALUE_MAX,
        description="岗位. Left out of every record: positions stay as they are; null or "
        f"empty in a record where others give it: cleared "
        f"(at most {COLUMN_BY_FIELD['position'].max_length} characters)",
    )
    representative: bool | None = Field(
        None,
        description="是否职工代表. Left out of every record: the flags stay as they are; null "
        "in a record where others give it: false",
    )


class SyncIn(Schema):
    dry_run: bool = Field(description="True: check and plan only, change nothing")
    rows: list[RosterRecord] = Field(
        min_length=1,
        max_length=SYNC_MAX_ROWS,
        description="The company's employees, one record each, as the rows of the Excel import",
    )


class RowError(Schema):
    row: int | None = Field(description="The record's position in rows, from 1; null: all")
    field: str | None = Field(description="The field concerned; null: the whole record")
    column: str = Field(description="The column as the Excel import names it")
    message: str


class Counts(Schema):
    departments_created: int
    teams_created: int
    employees_created: int
    employees_changed: int
    employees_unchanged: int
    employees_not_in_file: int = Field(description="Listed and left unchanged (not deactivated)")
    representatives_granted: int
    representatives_revoked: int


class NewEmployee(Schema):
    employee_no: str
    name: str
    unit_label: str
    position: str
    representative: bool


class Change(Schema):
    field: str
    before: str
    after: str


class ChangedEmployee(Schema):
    employee_no: str
    name: str
    changes: list[Change]


class Member(Schema):
    employee_no: str
    name: str
    unit_label: str


class Plan(Schema):
    counts: Counts
    has_changes: bool
    new_departments: list[str]
    new_teams: list[str]
    new_employees: list[NewEmployee] = Field(description="The first 200")
    changed_employees: list[ChangedEmployee] = Field(description="The first 200")
    not_in_file: list[Member] = Field(description="The first 200")


class SyncOut(Schema):
    company: str
    dry_run: bool
    ok: bool = Field(description="No errors (a real run: it is done)")
    done: bool = Field(description="The roster was applied")
    error_count: int
    errors: list[RowError] = Field(description="The first 1,000")
    plan: Plan | None = Field(description="Null when the records could not be read at all")


class RosterInvalid(Error):
    """A real run refused for its errors (``code`` roster_invalid): nothing was changed.
    ``fields`` locates each error in the body as a 422 does (``rows.<index>.<field>``)."""

    error_count: int = 0
    errors: list[RowError] = []


def error_row(error: RosterError) -> dict[str, Any]:
    return {
        "row": error.row,
        "field": field_of(error.column) if error.column else None,
        "column": error.column,
        "message": error.message,
    }


def location(error: RosterError) -> str:
    if error.row is None:
        return "rows"
    field = field_of(error.column) if error.column else None
    return f"rows.{error.row - 1}" + (f".{field}" if field else "")


def plan_out(plan: dict[str, Any] | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        **plan,
        "changed_employees": [
            {
                **changed,
                "changes": [
                    {"field": name, "before": before, "after": after}
                    for name, before, after in changed["changes"]
                ],
            }
            for changed in plan["changed_employees"]
        ],
    }


@router.post(
    "/roster/{company_code}/sync",
    response={**responses(SyncOut), 400: RosterInvalid},
    summary="Sync the company's roster from records: dry run or all-or-nothing import",
    description=(
        "The union office of the company (a service account holding its role there) sends "
        "every employee as a record with the Excel import's columns. A dry run answers 200 "
        "with the plan and every row error (`ok` false when there are errors). A real run "
        "answers 200 with `done` true, or 400 with code `roster_invalid`, every row error in "
        "`errors` and nothing changed. Employees missing from the records are listed, never "
        "deactivated."
    ),
)
def roster_sync(
    request: HttpRequest,
    body: SyncIn,
    company_code: str = PathParam(..., max_length=CODE_MAX, description="The company's code"),
) -> Status[dict[str, Any]]:
    company = get_object_or_404(OrgUnit, code=company_code, kind=UnitKind.COMPANY, is_active=True)
    require_in_scope(request, company)
    user = caller(request)
    require(user, Action.ROSTER_IMPORT, company)
    parsed = roster_from_records([record.model_dump(exclude_unset=True) for record in body.rows])
    result = roster_import_parsed(
        actor=user, company=company, parsed=parsed, filename=SOURCE, dry_run=body.dry_run
    )
    listed = result.errors[: roster_jobs.ERRORS_LISTED_AT_MOST]
    errors = [error_row(e) for e in listed]
    if result.errors and not body.dry_run:
        fields: dict[str, list[str]] = {}
        for error in listed:
            fields.setdefault(location(error), []).append(error.message)
        count = len(result.errors)
        message = ngettext(
            "The roster has %(n)s problem. Nothing was imported.",
            "The roster has %(n)s problems. Nothing was imported.",
            count,
        ) % {"n": count}
        return Status(
            400,
            {
                "code": "roster_invalid",
                "message": message,
                "fields": fields,
                "error_count": count,
                "errors": errors,
            },
        )
    summary = roster_jobs.summary(result, company=company, filename=SOURCE)
    return Status(
        200,
        {
            "company": company.code,
            "dry_run": body.dry_run,
            "ok": not result.errors,
            "done": result.applied,
            "error_count": len(result.errors),
            "errors": errors,
            "plan": plan_out(summary["plan"]),
        },
    )
