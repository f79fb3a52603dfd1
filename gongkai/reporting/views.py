"""Reporting pages. Two kinds:

- the reporter's pages (/report/, /report/receipt/...): open to anyone, signed in or not.
  They never look at ``request.user`` or the session, are rendered WITHOUT the request's
  context processors (which would load the signed-in user and consume their pending
  messages), set no cookie but the CSRF one, and never put a receipt code in a URL, a
  cookie or a log line (codes travel in POST bodies only);
- the inspectors' pages (/report/inbox/...): discipline inspectors only.

Every page sends ``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.handlers.exception import response_for_exception
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.i18n import set_language

from gongkai.accounts.requests import signed_in_user
from gongkai.core.errors import ServiceError
from gongkai.core.files import download_response
from gongkai.core.uploads import declared_body_too_large
from gongkai.notify import selectors as notify_selectors
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, require
from gongkai.reporting import release, throttle, tokens
from gongkai.reporting.board import channel_for
from gongkai.reporting.csrf import csrf_protect_no_referrer
from gongkai.reporting.forms import (
    AddInformationForm,
    ChannelForm,
    DuplicateForm,
    EnterForm,
    InboxFilterForm,
    ReceiptForm,
    ReplyForm,
    ReportForm,
    TransitionForm,
    top_companies,
)
from gongkai.reporting.models import (
    Evidence,
    HeldSubmission,
    Report,
    ReportingChannel,
    ReportStatus,
)
from gongkai.reporting.permissions import handled_companies, readable_reports_q
from gongkai.reporting.services import (
    EVIDENCE_MAX_BYTES,
    FILES_PER_SUBMISSION,
    Filed,
    channel_save,
    report_add_information,
    report_enter,
    report_find,
    report_mark_duplicate,
    report_reply,
    report_submit,
    report_transition,
)
from gongkai.reporting.tasks import CHECK_SECONDS

PER_PAGE = 25
BODY_LIMIT = FILES_PER_SUBMISSION * EVIDENCE_MAX_BYTES

View = Callable[..., HttpResponseBase]


def reporting_page(view: View) -> View:
    """``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer`` on every response of
    the view, error pages (404, 403, 405) included; CSRF checked by
    :mod:`gongkai.reporting.csrf` instead of the global middleware (which would refuse the
    ``Origin: null`` that no-referrer pages send)."""
    protected = csrf_protect_no_referrer(view)

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = protected(request, *args, **kwargs)
        except Exception as exc:
            response = response_for_exception(request, exc)
        throttle.settle(request)  # give back the limits' units the page took but did not spend
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    wrapped.csrf_exempt = True  # type: ignore[attr-defined] # checked by `protected` above
    return wrapped


# --- The reporter's pages ---------------------------------------------------------------------


def render_anonymous(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render without the request (so without context processors: no user, no session, no
    messages); the CSRF token comes from its cookie."""
    context = {
        **context,
        "csrf_token": get_token(request),
        "current_path": request.path,
        "max_files": FILES_PER_SUBMISSION,
    }
    return HttpResponse(render_to_string(template, context), status=status)


def channels(companies: list[OrgUnit]) -> list[tuple[OrgUnit, dict[str, str]]]:
    return [(c, channel_for(c.pk)) for c in companies]


def _form_page(
    request: HttpRequest, form: ReportForm, *, status: int = 200, error: str = ""
) -> HttpResponse:
    return render_anonymous(
        request,
        "reporting/submit.html",
        {
            "form": form,
            "channels": channels(list(top_companies())),
            "error": error,
            # A fresh one-time token with every form (stored nowhere until it is used).
            "submission": tokens.issue(),
        },
        status=status,
    )


def _form_token(request: HttpRequest) -> str:
    return str(request.POST.get(tokens.FIELD, ""))


@reporting_page
@require_http_methods(["GET", "HEAD", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, ReportForm())
    if declared_body_too_large(request, BODY_LIMIT):
        return _form_page(request, ReportForm(), status=413, error=_too_large())
    if throttle.exhausted(throttle.SUBMIT, request):
        return _form_page(request, ReportForm(request.POST), status=429, error=_busy())
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _form_page(request, form)
    try:
        filed = report_submit(
            company=form.cleaned_data["company"],
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            uploads=form.cleaned_data["evidence"],
            token=_form_token(request),
        )
    except tokens.AlreadySent as error:  # the page with the code, sent again: no new code
        return render_anonymous(
            request, "reporting/already_sent.html", {"error": error.message}, status=409
        )
    except tokens.BadToken as error:  # nothing stored; the text is kept, with a new token
        return _form_page(request, form, status=400, error=error.message)
    except ServiceError as error:
        error.add_to_form(form)
        return _form_page(request, form)
    throttle.spend(throttle.SUBMIT, request)
    return _receipt_issued(request, filed, entered=False)


def _receipt_issued(request: HttpRequest, filed: Filed, *, entered: bool) -> HttpResponse:
    context: dict[str, Any] = {"report": filed.report, "code": filed.code, "entered": entered}
    if entered:
        return render(request, "reporting/entered.html", context)
    context["delivered_at"] = timezone.localtime(release.window_end())
    return render_anonymous(request, "reporting/submitted.html", context)


def _too_large() -> str:
    return _("The files are too large together: at most %(n)s files of %(size)s MB each.") % {
        "n": FILES_PER_SUBMISSION,
        "size": EVIDENCE_MAX_BYTES // (1024 * 1024),
    }


def _busy() -> str:
    return _(
        "Too many reports were sent from here or in all in the last hour. "
        "Please try again later, or use the hotline."
    )


def _locked() -> str:
    return _(
        "Too many wrong receipt codes were tried. Receipt codes are not checked for the "
        "rest of this hour; please try again later."
    )


def _wrong_code() -> str:
    return _("No report matches this code. Check the code and type it again.")


def _code_page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    return render_anonymous(
        request, "reporting/receipt.html", {"form": ReceiptForm(), "error": error}, status=status
    )


Found = Report | release.HeldReport


def _status_page(
    request: HttpRequest,
    report: Found,
    code: str,
    *,
    form: AddInformationForm | None = None,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "report": report,
        "form": form or AddInformationForm(),
        "code": code,  # only into the hidden field of the POST form
        "submission": tokens.issue(),  # the add form's one-time token
        "notice": notice,
        "error": error,
        "delivered_at": timezone.localtime(release.window_end()),
    }
    if isinstance(report, Report):
        context["messages_list"] = list(report.messages.all())
        context["evidence"] = [e.name for e in report.evidence.defer("data")]
        context["open"] = report.status != ReportStatus.CONCLUDED
        context["duplicate_of"] = (
            Report.objects.filter(pk=report.duplicate_of_id).first()
            if report.duplicate_of_id
            else None
        )
    else:  # still held: not yet with the inspectors
        context["messages_list"] = []
        context["evidence"] = report.file_names
        context["open"] = True
    return render_anonymous(request, "reporting/status.html", context, status=status)


def _lookup(request: HttpRequest) -> Found | HttpResponse:
    """The report of the POSTed code (released, or still held), or the page to answer with
    instead. Forged and wrong codes take exactly the same path and get the same page."""
    if throttle.exhausted(throttle.RECEIPT_FAILURE, request):
        return _code_page(request, error=_locked(), status=429)
    code = str(request.POST.get("code", ""))
    report: Found | None = report_find(code=code) or release.held_find(code)
    if report is None:
        throttle.spend(throttle.RECEIPT_FAILURE, request)
        return _code_page(request, error=_wrong_code())
    return report


@reporting_page
@require_http_methods(["GET", "HEAD", "POST"])
def receipt(request: HttpRequest) -> HttpResponse:
    """GET: the form for the code. POST: the report's status and the answers."""
    if request.method != "POST":
        return _code_page(request)
    report = _lookup(request)
    if isinstance(report, HttpResponse):
        return report
    return _status_page(request, report, str(request.POST.get("code", "")))


@reporting_page
@require_POST
def receipt_add(request: HttpRequest) -> HttpResponse:
    """More information (and files) from the reporter; the code comes with the form."""
    if declared_body_too_large(request, BODY_LIMIT):
        return _code_page(request, error=_too_large(), status=413)
    report = _lookup(request)
    if isinstance(report, HttpResponse):
        return report
    code = str(request.POST.get("code", ""))
    if throttle.exhausted(throttle.SUBMIT, request):
        return _status_page(request, report, code, error=_busy(), status=429)
    form = AddInformationForm(request.POST, request.FILES)
    if not form.is_valid():
        return _status_page(request, report, code, form=form)
    try:
        report_add_information(
            report=report,
            body=form.cleaned_data["body"],
            uploads=form.cleaned_data["evidence"],
            token=_form_token(request),
        )
    except tokens.AlreadySent:
        return _status_page(
            request,
            report,
            code,
            error=_("This information was sent already; it was not added again."),
            status=409,
        )
    except tokens.BadToken as error:
        return _status_page(request, report, code, form=form, error=error.message, status=400)
    except ServiceError as error:
        error.add_to_form(form)
        return _status_page(request, report, code, form=form)
    throttle.spend(throttle.SUBMIT, request)
    if isinstance(report, Report):
        report.refresh_from_db()
    return _status_page(
        request,
        report,
        code,
        notice=_(
            "Your information was received. It reaches the inspectors at %(time)s, together "
            "with everything else sent before then, and is shown here from then on."
        )
        % {"time": formats.time_format(timezone.localtime(release.window_end()), "H:i")},
    )


# The language switch of the reporter's pages: Django's own view, behind this app's CSRF
# check (the site-wide one refuses the ``Origin: null`` that no-referrer pages send).
language = reporting_page(require_POST(set_language))


# --- The inspectors' pages --------------------------------------------------------------------


def _readable(request: HttpRequest) -> Any:
    return Report.objects.filter(readable_reports_q(request.user)).select_related("company")


def _report_or_404(request: HttpRequest, pk: UUID) -> Report:
    report = _readable(request).filter(pk=pk).first()
    if report is None:
        raise Http404
    return report


# The release task (gongkai.reporting.tasks.release_due) starts within a minute of a window's
# start and retries for a while; a box due longer ago than this means it did not run.
RELEASE_LATE_AFTER = timedelta(minutes=10)


def _release_news(now: datetime) -> dict[str, Any]:
    """What the inbox says of the release, read only (the queue releases, never a page):
    when the reports sent in the current window arrive, whether the last run of the release
    task failed (its failure record, since the current window began) and whether boxes are
    overdue (the task did not run: a stopped worker). Nothing here counts or dates a held
    report: "overdue" turns on at the end of a window plus the grace, as the release itself
    would have shown that window's reports."""
    seconds = release.window_seconds()
    ends = release.window_end(now)
    starts = ends - timedelta(seconds=max(seconds, CHECK_SECONDS))
    failed = notify_selectors.task_failures("release_due", since=starts).first()
    return {
        "window_minutes": seconds // 60,
        "window_started": timezone.localtime(starts),
        "arrives_at": timezone.localtime(ends),
        "release_failed_at": timezone.localtime(failed.at) if failed else None,
        "release_late": failed is None
        and HeldSubmission.objects.filter(release_after__lte=now - RELEASE_LATE_AFTER).exists(),
    }


@reporting_page
@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """The reports of the inspector's companies. It writes nothing: the held reports are
    released by the queue at the start of each window (gongkai.reporting.tasks)."""
    require(request.user, Action.REPORT_HANDLE)
    companies = list(handled_companies(request.user))
    filters = InboxFilterForm(request.GET)
    reports = _readable(request)
    if filters.is_valid():
        data = filters.cleaned_data
        if data["status"]:
            reports = reports.filter(status=data["status"])
        if data["source"]:
            reports = reports.filter(source=data["source"])
        if data["company"]:
            reports = reports.filter(company__code=data["company"])
    reports = reports.order_by("-received_on", "status", "id")
    page = Paginator(reports, PER_PAGE).get_page(request.GET.get("page"))
    counts = {
        s: _readable(request).filter(status=s).count()
        for s in (ReportStatus.RECEIVED, ReportStatus.UNDER_REVIEW)
    }
    return render(
        request,
        "reporting/inbox.html",
        {
            "page": page,
            "filters": filters,
            "companies": companies,
            "received_count": counts[ReportStatus.RECEIVED],
            "review_count": counts[ReportStatus.UNDER_REVIEW],
            **_release_news(timezone.now()),
        },
    )


def _detail_page(
    request: HttpRequest,
    report: Report,
    *,
    transition_form: TransitionForm | None = None,
    reply_form: ReplyForm | None = None,
    duplicate_form: DuplicateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    duplicate_of = (
        _readable(request).filter(pk=report.duplicate_of_id).first()
        if report.duplicate_of_id
        else None
    )
    return render(
        request,
        "reporting/detail.html",
        {
            "report": report,
            "messages_list": list(report.messages.all()),
            "evidence": list(report.evidence.defer("data")),
            "transition_form": transition_form
            or TransitionForm(initial={"to": _next_status(report)}),
            "reply_form": reply_form or ReplyForm(),
            "duplicate_form": duplicate_form
            or DuplicateForm(initial={"of": duplicate_of.reference if duplicate_of else ""}),
            "duplicate_of": duplicate_of,
            "duplicates": list(_readable(request).filter(duplicate_of=report).order_by("id")),
            "concluded": report.status == ReportStatus.CONCLUDED,
        },
        status=status,
    )


def _next_status(report: Report) -> str:
    if report.status == ReportStatus.RECEIVED:
        return ReportStatus.UNDER_REVIEW
    return ReportStatus.CONCLUDED


@reporting_page
@login_required
@require_safe
def detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    require(request.user, Action.REPORT_HANDLE)
    return _detail_page(request, _report_or_404(request, pk))


@reporting_page
@login_required
@require_POST
def transition(request: HttpRequest, pk: UUID) -> HttpResponse:
    require(request.user, Action.REPORT_HANDLE)
    report = _report_or_404(request, pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if (
            data["to"] == ReportStatus.CONCLUDED
            and data["summary"].strip()
            and request.POST.get("confirm") != "yes"
        ):  # concluding cannot be undone: show what the reporter will read, ask once more
            return render(
                request, "reporting/confirm_conclude.html", {"report": report, "data": data}
            )
        try:
            report_transition(
                actor=signed_in_user(request),
                report=report,
                to=form.cleaned_data["to"],
                summary=form.cleaned_data["summary"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The status was changed."))
            return redirect("reporting:detail", pk=report.pk)
    return _detail_page(request, report, transition_form=form, status=400)


@reporting_page
@login_required
@require_POST
def reply(request: HttpRequest, pk: UUID) -> HttpResponse:
    require(request.user, Action.REPORT_HANDLE)
    report = _report_or_404(request, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            report_reply(
                actor=signed_in_user(request),
                report=report,
                body=form.cleaned_data["body"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request, _("The answer was sent. The reporter reads it with the receipt code.")
            )
            return redirect("reporting:detail", pk=report.pk)
    return _detail_page(request, report, reply_form=form, status=400)


@reporting_page
@login_required
@require_POST
def duplicate(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Mark the report as a duplicate of another one (or remove the mark)."""
    require(request.user, Action.REPORT_HANDLE)
    report = _report_or_404(request, pk)
    form = DuplicateForm(request.POST)
    if form.is_valid():
        try:
            marked = report_mark_duplicate(
                actor=signed_in_user(request),
                report=report,
                of=form.cleaned_data["of"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            if marked.duplicate_of_id:
                messages.success(
                    request,
                    _("The report is marked as a duplicate of report %(ref)s.")
                    % {"ref": Report.objects.get(pk=marked.duplicate_of_id).reference},
                )
            else:
                messages.success(request, _("The report is not marked as a duplicate."))
            return redirect("reporting:detail", pk=report.pk)
    return _detail_page(request, report, duplicate_form=form, status=400)


@reporting_page
@login_required
@require_safe
def evidence(request: HttpRequest, pk: UUID, evidence_pk: UUID) -> HttpResponse:
    require(request.user, Action.REPORT_HANDLE)
    report = _report_or_404(request, pk)
    item = Evidence.objects.filter(report=report, pk=evidence_pk).first()
    if item is None:
        raise Http404
    return download_response(
        bytes(item.data), content_type=item.content_type, filename=item.name, sandbox=True
    )


def _enter_page(
    request: HttpRequest, form: EnterForm, *, status: int = 200, error: str = ""
) -> HttpResponse:
    # A fresh one-time token with every form: a refresh of the page with the receipt code
    # sends the form again, and must not enter the report a second time.
    context = {"form": form, "submission": tokens.issue(), "error": error}
    return render(request, "reporting/enter.html", context, status=status)


@reporting_page
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def enter(request: HttpRequest) -> HttpResponse:
    """A report that came by the hotline, by letter or in person."""
    require(request.user, Action.REPORT_HANDLE)
    companies = handled_companies(request.user)
    if request.method != "POST":
        return _enter_page(request, EnterForm(companies=companies))
    if declared_body_too_large(request, BODY_LIMIT):
        form = EnterForm(companies=companies)
        form.add_error(None, _too_large())
        return _enter_page(request, form, status=413)
    form = EnterForm(request.POST, request.FILES, companies=companies)
    if form.is_valid():
        try:
            filed = report_enter(
                actor=signed_in_user(request),
                company=form.cleaned_data["company"],
                source=form.cleaned_data["source"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                uploads=form.cleaned_data["evidence"],
                token=_form_token(request),
            )
        except tokens.AlreadySent as error:  # the page with the code, sent again
            return render(
                request, "reporting/already_entered.html", {"error": error.message}, status=409
            )
        except tokens.BadToken as error:  # nothing stored; the text is kept, with a new token
            return _enter_page(request, form, status=400, error=error.message)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            return _receipt_issued(request, filed, entered=True)
    return _enter_page(request, form, status=400)


@reporting_page
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def channel(request: HttpRequest) -> HttpResponse:
    """The hotline, address and e-mail shown on /report/ and on every board."""
    require(request.user, Action.REPORT_HANDLE)
    companies = list(handled_companies(request.user))
    wanted = request.GET.get("company") or request.POST.get("company")
    company = next((c for c in companies if c.code == wanted), None) if wanted else None
    if company is None:
        if wanted or not companies:
            raise Http404
        company = companies[0]
    current = ReportingChannel.objects.filter(company=company).first()
    if request.method != "POST":
        initial = (
            {
                "hotline": current.hotline,
                "postal_address": current.postal_address,
                "email": current.email,
            }
            if current
            else {}
        )
        form = ChannelForm(initial=initial)
        status = 200
    else:
        form = ChannelForm(request.POST)
        if form.is_valid():
            try:
                channel_save(actor=signed_in_user(request), company=company, **form.cleaned_data)
            except ServiceError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("The reporting channel was saved."))
                return redirect(reverse("reporting:channel") + f"?company={company.code}")
        status = 400
    return render(
        request,
        "reporting/channel.html",
        {"form": form, "company": company, "companies": companies},
        status=status,
    )
