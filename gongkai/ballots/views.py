"""Pages of votes and evaluations under /congress/votes/. Thin: parse, ask the policy, call a
service, redirect. The ballot itself travels only in the POST bodies of the voter's own
requests (the review page carries it in hidden fields): it is never stored in the session,
never put in a URL, and the "cast" page shows no choice.

The receipt code (which proves that a ballot was counted, never what it said) goes from the
cast to the "cast" page in a short-lived cookie of the voter's browser only, limited to that
page's path, and is deleted when the page shows it: it is kept nowhere on the server with the
voter (gongkai.ballots.boxes: a sealed box until the close, then a table of codes only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gongkai.accounts.requests import signed_in_user
from gongkai.ballots import permissions as policy
from gongkai.ballots.forms import FORMS, ClosingDateForm
from gongkai.ballots.models import (
    Choice,
    Elector,
    Grade,
    Item,
    Participation,
    Poll,
    PollKind,
    PollStatus,
)
from gongkai.ballots.selectors import (
    has_voted,
    outside_electorate,
    polls_for,
    receipt_codes,
    turnout,
)
from gongkai.ballots.services import (
    AlreadyVoted,
    ballot_cast,
    clean_ballot,
    poll_close,
    poll_closing_date_set,
    poll_create,
    poll_finish,
    poll_open,
    poll_publish,
    poll_recount,
    poll_update,
)
from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, visible_scope_paths

PER_PAGE = 30


def poll_for(request: HttpRequest, pk: int) -> Poll:
    """The poll if the user may see it; the same 404 for missing and not theirs."""
    poll = get_object_or_404(Poll.objects.select_related("company", "session", "unit"), pk=pk)
    if not policy.may_view(request.user, poll):
        raise Http404
    return poll


def managed_poll(request: HttpRequest, pk: int) -> Poll:
    poll = poll_for(request, pk)
    if not policy.may_manage(request.user, poll):
        raise PermissionDenied
    return poll


def managed_company(request: HttpRequest) -> OrgUnit:
    roots = visible_scope_paths(request.user, Action.VOTE_MANAGE)
    company = OrgUnit.objects.filter(path__in=roots).order_by("path").first()
    if company is None:
        raise PermissionDenied
    return company


def scale_for(poll: Poll) -> list[tuple[str, Any]]:
    return list(Choice.choices if poll.kind == PollKind.RESOLUTION else Grade.choices)


@dataclass(frozen=True)
class Listed:
    """A vote in the list, with what its planned closing date asks of the reader: ``vote_by``
    for an elector who has not voted yet, ``close_it`` for the union office once the date
    has passed and the vote is still open."""

    poll: Poll
    vote_by: date | None = None
    close_it: date | None = None
    past: bool = False  # the planned closing date has passed (the vote is still open)


def listed(user: Any, polls: list[Poll], manage_roots: list[str]) -> list[Listed]:
    """The page's votes with their closing-date notes: two queries for the page."""
    due = [p.pk for p in polls if p.status == PollStatus.OPEN and p.closes_on is not None]
    mine = set(
        Elector.objects.filter(poll_id__in=due, user_id=user.pk).values_list("poll_id", flat=True)
    )
    voted = set(
        Participation.objects.filter(poll_id__in=mine, user_id=user.pk).values_list(
            "poll_id", flat=True
        )
    )
    today = timezone.localdate()
    rows = []
    for poll in polls:
        if poll.pk not in due or poll.closes_on is None:
            rows.append(Listed(poll))
            continue
        managed = any(poll.company.path.startswith(root) for root in manage_roots)
        rows.append(
            Listed(
                poll,
                vote_by=poll.closes_on if poll.pk in mine - voted else None,
                close_it=poll.closes_on if managed and poll.closes_on < today else None,
                past=poll.closes_on < today,
            )
        )
    return rows


@login_required
def poll_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(polls_for(request.user).order_by("-created_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    manage_roots = list(visible_scope_paths(request.user, Action.VOTE_MANAGE))
    return render(
        request,
        "ballots/list.html",
        {
            "page": page,
            "rows": listed(request.user, list(page.object_list), manage_roots),
            "may_create": bool(manage_roots),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def poll_new(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in PollKind.values:
        raise Http404
    company = managed_company(request)
    form_class = FORMS[kind]
    form = form_class(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        try:
            poll = poll_create(
                actor=signed_in_user(request), company=company, kind=kind, **form.service_kwargs()
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The vote is set up. Open it when the hall is ready."))
            return redirect("ballots:detail", pk=poll.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "ballots/form.html", {"form": form, "kind": kind, "poll": None}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def poll_edit(request: HttpRequest, pk: int) -> HttpResponse:
    poll = managed_poll(request, pk)
    if poll.status == PollStatus.OPEN:
        return closing_date_edit(request, poll)
    if poll.status != PollStatus.DRAFT:
        messages.error(request, _("Only a vote that has not been opened can be edited."))
        return redirect("ballots:detail", pk=poll.pk)
    form_class = FORMS[poll.kind]
    form = form_class(
        request.POST or None, company=poll.company, initial=form_class.initial_for(poll)
    )
    if request.method == "POST" and form.is_valid():
        try:
            poll_update(actor=signed_in_user(request), poll=poll, **form.service_kwargs())
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The vote was saved."))
            return redirect("ballots:detail", pk=poll.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "ballots/form.html",
        {"form": form, "kind": poll.kind, "poll": poll},
        status=status,
    )


def closing_date_edit(request: HttpRequest, poll: Poll) -> HttpResponse:
    """An open vote: only its planned closing date may still change."""
    form = ClosingDateForm(request.POST or None, initial={"closes_on": poll.closes_on})
    if request.method == "POST" and form.is_valid():
        try:
            poll_closing_date_set(
                actor=signed_in_user(request), poll=poll, closes_on=form.cleaned_data["closes_on"]
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The planned closing date was saved."))
            return redirect("ballots:detail", pk=poll.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "ballots/closing_date.html", {"form": form, "poll": poll}, status=status)


@login_required
@never_cache
def poll_detail(request: HttpRequest, pk: int) -> HttpResponse:
    poll = poll_for(request, pk)
    user = request.user
    is_elector = policy.is_elector(user, poll)
    planned_past = (
        poll.status == PollStatus.OPEN
        and poll.closes_on is not None
        and poll.closes_on < timezone.localdate()
    )
    context = {
        "poll": poll,
        "items": poll.items.select_related("cadre"),
        "may_manage": policy.may_manage(user, poll),
        "may_cast": policy.may_cast(user, poll),
        "is_elector": is_elector,
        # A representative of the session outside the electorate: why, and what to do.
        "outside": None
        if is_elector or not policy.is_session_representative(user, poll)
        else outside_electorate(user, poll),
        "has_voted": has_voted(user, poll),
        # Open, and its planned closing date has passed: the union office is asked to close it.
        "planned_past": planned_past,
        "may_results": policy.may_see_results(user, poll),
        "may_recount": policy.may_recount(user, poll),
        "turnout": turnout(poll) if poll.status != PollStatus.DRAFT else None,
        "receipts": receipt_codes(poll),
    }
    return render(request, "ballots/detail.html", context)


def confirm_step(
    request: HttpRequest,
    pk: int,
    *,
    allowed: bool,
    service: Any,
    template_title: str,
    question: str,
    button: str,
    done: str,
) -> HttpResponse:
    poll = poll_for(request, pk)
    if not allowed:
        raise PermissionDenied
    if request.method == "POST":
        try:
            service(actor=signed_in_user(request), poll=poll)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return redirect("ballots:detail", pk=poll.pk)
    return render(
        request,
        "ballots/confirm_step.html",
        {"poll": poll, "title": template_title, "question": question, "button": button},
    )


@login_required
@require_http_methods(["GET", "POST"])
def poll_open_view(request: HttpRequest, pk: int) -> HttpResponse:
    poll = poll_for(request, pk)
    return confirm_step(
        request,
        pk,
        allowed=policy.may_manage(request.user, poll),
        service=poll_open,
        template_title=_("Open the vote"),
        question=_(
            "Open the vote now? The electorate is fixed at this moment (for a session: the "
            "representatives checked in); the items can no longer be changed."
        ),
        button=_("Open the vote"),
        done=_("The vote is open."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def poll_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    poll = poll_for(request, pk)
    if poll.status == PollStatus.CLOSED and poll.result is None:
        # Closed, but sealing and counting failed (logged): the same button tries again.
        return confirm_step(
            request,
            pk,
            allowed=policy.may_manage(request.user, poll),
            service=poll_finish,
            template_title=_("Seal and count the ballots"),
            question=_(
                "The vote is closed, but its ballots are not sealed and counted yet. Try again now?"
            ),
            button=_("Seal and count"),
            done=_("The ballots are sealed and counted."),
        )
    return confirm_step(
        request,
        pk,
        allowed=policy.may_manage(request.user, poll),
        service=poll_close,
        template_title=_("Close the vote"),
        question=_(
            "Close the vote now? Nobody can vote afterwards, and a closed vote cannot be "
            "reopened. The ballots are sealed and counted."
        ),
        button=_("Close the vote"),
        done=_("The vote is closed and counted."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def poll_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    poll = poll_for(request, pk)
    return confirm_step(
        request,
        pk,
        allowed=policy.may_manage(request.user, poll),
        service=poll_publish,
        template_title=_("Publish the result"),
        question=_("Publish the result with the turnout on the company board?"),
        button=_("Publish"),
        done=_("The result is published."),
    )


@login_required
@never_cache
def turnout_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The live turnout fragment (the union office's screen polls it): never the result."""
    poll = managed_poll(request, pk)
    return render(request, "ballots/_turnout.html", {"poll": poll, "turnout": turnout(poll)})


def ballot_from_post(request: HttpRequest, items: list[Item]) -> dict[str, str]:
    return {str(item.pk): request.POST.get(f"item-{item.pk}", "") for item in items}


def rows_for(items: list[Item], choices: dict[str, str]) -> list[tuple[Item, str]]:
    return [(item, choices.get(str(item.pk), "")) for item in items]


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    """The ballot: one tap per choice. POST here comes from "change" on the review page."""
    poll = poll_for(request, pk)
    if not policy.is_elector(request.user, poll):
        messages.error(request, _("You are not eligible to vote in this vote."))
        return redirect("ballots:detail", pk=poll.pk)
    if has_voted(request.user, poll):
        return redirect("ballots:done", pk=poll.pk)
    if poll.status != PollStatus.OPEN:
        messages.error(request, _("This vote is not open."))
        return redirect("ballots:detail", pk=poll.pk)
    items = list(poll.items.select_related("cadre"))
    choices = ballot_from_post(request, items) if request.method == "POST" else {}
    return render(
        request,
        "ballots/vote.html",
        {"poll": poll, "rows": rows_for(items, choices), "scale": scale_for(poll)},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The review page before casting: the choices are checked and shown to the voter only."""
    poll = poll_for(request, pk)
    if request.method == "GET":
        return redirect("ballots:vote", pk=poll.pk)
    items = list(poll.items.select_related("cadre"))
    choices = ballot_from_post(request, items)
    error = None
    if not policy.may_cast(request.user, poll):
        return redirect("ballots:vote", pk=poll.pk)
    try:
        clean_ballot(poll, choices)
    except ServiceError as exc:
        error = exc.message
    labels = dict(scale_for(poll))
    context = {
        "poll": poll,
        "rows": [(item, value, labels.get(value, "")) for item, value in rows_for(items, choices)],
        "scale": scale_for(poll),
        "error": error,
    }
    if error:
        context["rows"] = rows_for(items, choices)
        return render(request, "ballots/vote.html", context, status=400)
    return render(request, "ballots/confirm.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def cast_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The hot path of a hall of 500: the service decides (open? eligible? complete?), so the
    happy path costs the poll, the lock, the elector, the items and two inserts."""
    if request.method == "GET" or request.POST.get("confirm") != "1":
        return redirect("ballots:vote", pk=poll_for(request, pk).pk)
    poll = get_object_or_404(Poll, pk=pk)
    choices: dict[str, str] = {
        key.removeprefix("item-"): str(request.POST.get(key, ""))
        for key in request.POST
        if key.startswith("item-")
    }
    try:
        code = ballot_cast(actor=signed_in_user(request), poll=poll, choices=choices)
    except AlreadyVoted as error:
        messages.info(request, error.message)
        return redirect("ballots:done", pk=poll.pk)
    except ServiceError as error:
        if not policy.may_view(request.user, poll):
            raise Http404 from None  # the same answer as for a missing vote
        if poll.status == PollStatus.OPEN and policy.is_elector(request.user, poll):
            return render(
                request,
                "ballots/vote.html",
                {
                    "poll": poll,
                    "rows": rows_for(list(poll.items.select_related("cadre")), choices),
                    "scale": scale_for(poll),
                    "error": error.message,
                },
                status=400,
            )
        messages.error(request, error.message)
        return redirect("ballots:detail", pk=poll.pk)
    response = redirect("ballots:done", pk=poll.pk)
    response.set_signed_cookie(
        RECEIPT_COOKIE,
        code,
        salt=receipt_salt(poll.pk, request.user.pk),
        max_age=RECEIPT_COOKIE_AGE,
        path=reverse("ballots:done", args=[poll.pk]),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


RECEIPT_COOKIE = "ballot_receipt"
RECEIPT_COOKIE_AGE = 10 * 60  # from the cast to the "cast" page; then it is gone


def receipt_salt(poll_id: int, user_id: Any) -> str:
    """Binds the cookie to this vote and this voter (replayed elsewhere it shows nothing)."""
    return f"gongkai.ballots.receipt.{poll_id}.{user_id}"


@login_required
@never_cache
def done(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Your ballot is cast": no choice shown, nothing that could prove how one voted; the
    receipt code once (from the cookie the cast set, deleted here)."""
    poll = poll_for(request, pk)
    if not has_voted(request.user, poll):
        return redirect("ballots:my_status", pk=poll.pk)
    code = request.get_signed_cookie(
        RECEIPT_COOKIE,
        default=None,
        salt=receipt_salt(poll.pk, request.user.pk),
        max_age=RECEIPT_COOKIE_AGE,
    )
    response = render(request, "ballots/done.html", {"poll": poll, "code": code})
    if RECEIPT_COOKIE in request.COOKIES:
        response.delete_cookie(
            RECEIPT_COOKIE, path=reverse("ballots:done", args=[poll.pk]), samesite="Strict"
        )
    return response


@login_required
@never_cache
def my_status(request: HttpRequest, pk: int) -> HttpResponse:
    poll = poll_for(request, pk)
    return render(
        request,
        "ballots/my_status.html",
        {
            "poll": poll,
            "is_elector": policy.is_elector(request.user, poll),
            "has_voted": has_voted(request.user, poll),
        },
    )


@login_required
def results(request: HttpRequest, pk: int) -> HttpResponse:
    poll = poll_for(request, pk)
    if not policy.may_see_results(request.user, poll):
        raise PermissionDenied
    return render(
        request,
        "ballots/results.html",
        {"poll": poll, "result": poll.result or {}, "grades": Grade.choices},
    )


@login_required
@require_http_methods(["GET", "POST"])
def recount(request: HttpRequest, pk: int) -> HttpResponse:
    poll = poll_for(request, pk)
    if not policy.may_recount(request.user, poll):
        raise PermissionDenied
    outcome = None
    if request.method == "POST":
        try:
            outcome = poll_recount(actor=signed_in_user(request), poll=poll)
        except ServiceError as error:
            messages.error(request, error.message)
    return render(request, "ballots/recount.html", {"poll": poll, "recount": outcome})
