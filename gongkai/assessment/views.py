"""Pages of the compliance dashboard, the assessment and the annual report. Thin: parse,
ask the policy, call a selector or one service, render."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gongkai.accounts.requests import signed_in_user
from gongkai.assessment import jobs as report_jobs
from gongkai.assessment.dashboard import dashboard, export_xlsx, unit_obligations
from gongkai.assessment.forms import (
    ObligationFilterForm,
    PublishForm,
    RangeForm,
    SchemeForm,
    default_range,
)
from gongkai.assessment.models import CRITERIA, CRITERION_LABELS, DEFAULT_WEIGHTS, Ranking, Scheme
from gongkai.assessment.permissions import (
    assessment_companies,
    can_manage_assessment,
    can_view_assessment,
    can_view_compliance,
    compliance_roots,
)
from gongkai.assessment.report import annual_report, report_years, sections
from gongkai.assessment.scoring import (
    MISSING_RULE,
    compute,
    display_lines,
    not_assessed_of,
    parse_period,
    ranking_rows,
    scheme_in_force,
)
from gongkai.assessment.services import ranking_publish, scheme_create
from gongkai.core import jobs
from gongkai.core.errors import ServiceError
from gongkai.core.periods import Period, PeriodKind
from gongkai.core.spreadsheets import xlsx_response
from gongkai.org.models import OrgUnit
from gongkai.org.selectors import unit_chain

OBLIGATIONS_PER_PAGE = 50

# --- Compliance -------------------------------------------------------------------------------


def compliance_unit(request: HttpRequest, code: str | None = None) -> OrgUnit:
    """The unit asked for (or the user's first root); 403 without the right at all, 404 for
    a unit outside the user's subtrees (as for a missing one)."""
    roots = compliance_roots(request.user)
    if not roots:
        raise PermissionDenied
    if not code:
        return roots[0]
    unit = OrgUnit.objects.filter(code=code, is_active=True).first()
    if unit is None or not can_view_compliance(request.user, unit):
        raise Http404
    return unit


def range_of(form: RangeForm) -> tuple[date, date]:
    if form.is_valid():
        return form.cleaned_data["start"], form.cleaned_data["end"]
    return default_range(timezone.localdate())


@login_required
def compliance(request: HttpRequest) -> HttpResponse:
    unit = compliance_unit(request, request.GET.get("unit"))
    form = RangeForm(request.GET)
    start, end = range_of(form)
    board = dashboard(unit, start, end)
    roots = compliance_roots(request.user)
    chain = [u for u in unit_chain(unit) if any(u.path.startswith(r.path) for r in roots)]
    return render(
        request,
        "assessment/compliance.html",
        {
            "board": board,
            "form": form,
            "chain": chain,
            "roots": roots,
            "query": {"start": start.isoformat(), "end": end.isoformat()},
            "chart_data": board.chart_data(),
        },
    )


@login_required
def compliance_obligations(request: HttpRequest, code: str) -> HttpResponse:
    unit = compliance_unit(request, code)
    form = ObligationFilterForm(request.GET)
    start, end = range_of(form)
    state = form.cleaned_data.get("state", "") if form.is_valid() else ""
    found = unit_obligations(unit, start, end, state=state)
    page = Paginator(found, OBLIGATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/obligations.html",
        {
            "unit": unit,
            "form": form,
            "page": page,
            "start": start,
            "end": end,
            "count": len(found),
        },
    )


@login_required
def compliance_export(request: HttpRequest) -> HttpResponse:
    unit = compliance_unit(request, request.GET.get("unit"))
    start, end = range_of(RangeForm(request.GET))
    content = export_xlsx(dashboard(unit, start, end))
    return xlsx_response(
        content, f"compliance-{unit.code}-{start.isoformat()}-{end.isoformat()}.xlsx"
    )


# --- Assessment -------------------------------------------------------------------------------


def company_for(request: HttpRequest) -> OrgUnit:
    companies = assessment_companies(request.user)
    if not companies:
        raise PermissionDenied
    code = request.GET.get("company") or request.POST.get("company")
    if not code:
        return companies[0]
    for company in companies:
        if company.code == code:
            return company
    raise Http404


def ended_periods(today: date, count: int = 6) -> list[Period]:
    """The latest half-years and years that have ended, newest first."""
    found: list[Period] = []
    year = today.year
    while len(found) < count:
        for period in (
            Period(year, PeriodKind.HALF, 2),
            Period(year, PeriodKind.YEAR, 1),
            Period(year, PeriodKind.HALF, 1),
        ):
            if period.end < today:
                found.append(period)
        year -= 1
    return found[:count]


@login_required
def assessment(request: HttpRequest) -> HttpResponse:
    company = company_for(request)
    today = timezone.localdate()
    periods = ended_periods(today)
    current = Period.containing(today, PeriodKind.HALF)
    period = parse_period(request.GET.get("period", "")) or periods[0]
    result = compute(company, period)
    published = list(
        Ranking.objects.filter(company=company).order_by("-period").only("pk", "period")
    )
    return render(
        request,
        "assessment/assessment.html",
        {
            "company": company,
            "companies": assessment_companies(request.user),
            "result": result,
            "period": period,
            "periods": [current, *periods],
            "published": published,
            "published_this": next((r for r in published if r.period == period.key), None),
            "criteria": [(c, CRITERION_LABELS[c], result.weights[c]) for c in CRITERIA],
            "table": ranking_rows(result.rows()),
            "not_assessed": not_assessed_of(result.rows()),
            "missing_rule": MISSING_RULE,
            "may_manage": can_manage_assessment(request.user, company),
            "chart_data": {
                "units": [s.unit_name for s in result.scores if s.total is not None],
                "totals": [s.total for s in result.scores if s.total is not None],
            },
        },
    )


@login_required
def assessment_unit(request: HttpRequest, period: str, code: str) -> HttpResponse:
    company = company_for(request)
    parsed = parse_period(period)
    if parsed is None:
        raise Http404
    result = compute(company, parsed)
    score = next((s for s in result.scores if s.unit_code == code), None)
    if score is None:
        raise Http404
    return render(
        request,
        "assessment/unit.html",
        {
            "company": company,
            "result": result,
            "score": score,
            "lines": display_lines(score.as_dict()),
            "not_ranked": ranking_rows([score.as_dict()])[0]["not_ranked"],
            "missing_rule": MISSING_RULE,
            "period": parsed,
        },
    )


@login_required
def ranking(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(Ranking.objects.select_related("company", "scheme"), pk=pk)
    if not can_view_assessment(request.user, found.company):
        raise Http404
    return render(
        request,
        "assessment/ranking.html",
        {
            "ranking": found,
            "rows": [{"row": row, "lines": display_lines(row)} for row in found.rows],
            "period": Period.parse(found.period),
            "criteria": [(c, CRITERION_LABELS[c], found.scheme.weights[c]) for c in CRITERIA],
            "table": ranking_rows(found.rows),
            "not_assessed": not_assessed_of(found.rows),
            "missing_rule": MISSING_RULE,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def scheme(request: HttpRequest) -> HttpResponse:
    company = company_for(request)
    if not can_manage_assessment(request.user, company):
        raise PermissionDenied
    today = timezone.localdate()
    current = scheme_in_force(company, today)
    if request.method == "POST":
        form = SchemeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                scheme_create(
                    actor=signed_in_user(request),
                    company=company,
                    weights={c: data[c] for c in CRITERIA},
                    effective_from=data["effective_from"],
                    reason=data["reason"],
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("The new weights are saved."))
                return redirect(f"{reverse('assessment:assessment')}?company={company.code}")
    else:
        initial: dict[str, Any] = {
            c: (current.weights if current else DEFAULT_WEIGHTS)[c] for c in CRITERIA
        }
        initial["effective_from"] = date(today.year, 1, 1) if current is None else today
        form = SchemeForm(initial=initial)
    history = list(Scheme.objects.filter(company=company).order_by("-effective_from"))
    return render(
        request,
        "assessment/scheme.html",
        {
            "company": company,
            "form": form,
            "history": history,
            "criteria": [(c, CRITERION_LABELS[c]) for c in CRITERIA],
            "missing_rule": MISSING_RULE,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest) -> HttpResponse:
    company = company_for(request)
    if not can_manage_assessment(request.user, company):
        raise PermissionDenied
    today = timezone.localdate()
    done = set(Ranking.objects.filter(company=company).values_list("period", flat=True))
    choices = [(p.key, str(p.label())) for p in ended_periods(today) if p.key not in done]
    form = PublishForm(request.POST or None, periods=choices)
    if request.method == "POST" and form.is_valid():
        try:
            published = ranking_publish(
                actor=signed_in_user(request),
                company=company,
                period=form.cleaned_data["period"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The ranking is published on the company's board."))
            return redirect("assessment:ranking", pk=published.pk)
    preview = None
    wanted = parse_period(request.GET.get("period", ""))
    if wanted is not None and wanted.key in dict(choices):
        form = PublishForm(initial={"period": wanted.key}, periods=choices)
        preview = compute(company, wanted)
    return render(
        request,
        "assessment/publish.html",
        {
            "company": company,
            "form": form,
            "preview": preview,
            "choices": choices,
            "table": ranking_rows(preview.rows()) if preview else [],
            "not_assessed": not_assessed_of(preview.rows()) if preview else [],
            "criteria": [(c, CRITERION_LABELS[c], preview.weights[c]) for c in CRITERIA]
            if preview
            else [],
            "period": wanted,
            "missing_rule": MISSING_RULE,
        },
    )


# --- The annual report ------------------------------------------------------------------------


def report_company(request: HttpRequest, year: int) -> tuple[OrgUnit, int]:
    company = company_for(request)
    today = timezone.localdate()
    if year < 2000 or year > today.year:
        raise Http404
    return company, year


@login_required
def report_current(request: HttpRequest) -> HttpResponse:
    """``/supervision/report/``: this year's report."""
    return redirect("assessment:report", year=timezone.localdate().year)


@login_required
def report(request: HttpRequest, year: int) -> HttpResponse:
    company, year = report_company(request, year)
    result = annual_report(company, year)
    return render(
        request,
        "assessment/report.html",
        {
            "report": result,
            "company": company,
            "years": report_years(company, timezone.localdate()),
            "sections": sections(result),
            "chart_data": result.chart_data(),
            "chart_labels": {"on_time": _("On time"), "late": _("Late"), "overdue": _("Overdue")},
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_pdf(request: HttpRequest, year: int) -> HttpResponse:
    """Start making the report's PDF in the background (or find the same one asked for a
    moment ago) and go to the job's page, which offers the download."""
    company, year = report_company(request, year)
    back = reverse("assessment:report", args=[year]) + "?" + urlencode({"company": company.code})
    return jobs.start_for(
        request,
        kind=report_jobs.REPORT,
        params=report_jobs.report_params(company, year),
        back_url=back,
    )
