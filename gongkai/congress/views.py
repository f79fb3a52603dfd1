"""Congress pages: the term overview, roster, sessions, attendance and quorum."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gongkai.accounts.models import User
from gongkai.accounts.requests import signed_in_user
from gongkai.congress import permissions as policy
from gongkai.congress import selectors, services
from gongkai.congress.forms import (
    DelegationForm,
    RepresentativeAddForm,
    RepresentativeLeaveForm,
    RepresentativeMoveForm,
    SessionEditForm,
    SessionForm,
    TermForm,
)
from gongkai.congress.models import (
    Attendance,
    LeaveOfAbsence,
    Representative,
    Session,
    SessionKind,
    SessionStatus,
    Term,
)
from gongkai.congress.motions import collection_open
from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.policy.rules import company_of


def user_company(request: HttpRequest) -> OrgUnit:
    """The company whose congress the user sees: their own."""
    user = request.user
    unit = getattr(user, "unit", None)
    company = company_of(unit) if unit is not None else None
    if company is None:
        raise Http404
    if not policy.can_view(user, company):
        raise PermissionDenied
    return company


def term_for(request: HttpRequest, pk: int) -> Term:
    term = get_object_or_404(Term.objects.select_related("company"), pk=pk)
    if not policy.can_view(request.user, term.company):
        raise Http404
    return term


def session_for(request: HttpRequest, pk: int) -> Session:
    session = get_object_or_404(Session.objects.select_related("term__company"), pk=pk)
    if not policy.can_view(request.user, session.term.company):
        raise Http404
    return session


def _term_context(request: HttpRequest, term: Term) -> dict[str, object]:
    reps = list(
        Representative.objects.filter(term=term, is_active=True)
        .select_related("user__unit", "delegation")
        .order_by("delegation__name", "user__employee_no")
    )
    delegations = list(term.delegations.select_related("unit", "head"))
    by_delegation: dict[int | None, list[Representative]] = {}
    for rep in reps:
        by_delegation.setdefault(rep.delegation_id, []).append(rep)
    groups = [(d, by_delegation.get(d.pk, [])) for d in delegations]
    if by_delegation.get(None):
        groups.append((None, by_delegation[None]))  # type: ignore[arg-type]
    return {
        "term": term,
        "groups": groups,
        "rep_count": len(reps),
        "sessions": term.sessions.all(),
        "may_manage": policy.can_manage(request.user, term.company),
        "is_rep": any(r.user_id == request.user.pk for r in reps),
    }


@login_required
def index(request: HttpRequest) -> HttpResponse:
    company = user_company(request)
    term = selectors.current_term(company)
    if term is None:
        return render(
            request,
            "congress/index.html",
            {"company": company, "may_manage": policy.can_manage(request.user, company)},
        )
    return render(
        request, "congress/term.html", {"company": company, **_term_context(request, term)}
    )


@login_required
def term_detail(request: HttpRequest, pk: int) -> HttpResponse:
    term = term_for(request, pk)
    return render(
        request, "congress/term.html", {"company": term.company, **_term_context(request, term)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def term_create(request: HttpRequest) -> HttpResponse:
    company = user_company(request)
    if not policy.can_manage(request.user, company):
        raise PermissionDenied
    last = Term.objects.filter(company=company).order_by("-number").first()
    form = TermForm(request.POST or None, initial={"number": (last.number + 1) if last else 1})
    if request.method == "POST" and form.is_valid():
        try:
            term = services.term_create(
                actor=signed_in_user(request), company=company, **form.cleaned_data
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request, _("The term is created. Add delegations and seat the representatives.")
            )
            return redirect("congress:roster", pk=term.pk)
    return render(
        request,
        "congress/form.html",
        {"form": form, "title": _("New congress term"), "back": "congress:index"},
        status=400 if request.method == "POST" else 200,
    )


def _company_departments(company: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(
        path__startswith=company.path, kind=UnitKind.DEPARTMENT, is_active=True
    ).order_by("path")


def _company_units(company: OrgUnit) -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(path__startswith=company.path, is_active=True).order_by("path")


@login_required
@require_http_methods(["GET", "POST"])
def delegation_create(request: HttpRequest, pk: int) -> HttpResponse:
    term = term_for(request, pk)
    if not policy.can_manage(request.user, term.company):
        raise PermissionDenied
    people = User.objects.filter(congress_seats__term=term, congress_seats__is_active=True)
    form = DelegationForm(
        request.POST or None, units=_company_departments(term.company), people=people
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.delegation_create(
                actor=signed_in_user(request), term=term, **form.cleaned_data
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The delegation is added."))
            return redirect("congress:roster", pk=term.pk)
    return render(
        request,
        "congress/form.html",
        {"form": form, "title": _("New delegation"), "term": term},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def roster(request: HttpRequest, pk: int) -> HttpResponse:
    """The union office's roster: every seat (also those who left), add, seed."""
    term = term_for(request, pk)
    if not policy.can_manage(request.user, term.company):
        raise PermissionDenied
    form = RepresentativeAddForm(request.POST or None, delegations=term.delegations.all())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = User.objects.filter(employee_no=data["employee_no"].strip()).first()
        try:
            if user is None:
                raise ServiceError(_("No employee has this number."), field="employee_no")
            services.representative_add(
                actor=signed_in_user(request),
                term=term,
                user=user,
                delegation=data["delegation"],
                elected_on=data["elected_on"],
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("%(name)s is seated.") % {"name": user.name})
            return redirect("congress:roster", pk=term.pk)
    seats = (
        Representative.objects.filter(term=term)
        .select_related("user__unit", "delegation")
        .order_by("-is_active", "delegation__name", "user__employee_no")
    )
    return render(
        request,
        "congress/roster.html",
        {
            "term": term,
            "seats": seats,
            "form": form,
            "delegations": term.delegations.select_related("unit", "head"),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def roster_seed(request: HttpRequest, pk: int) -> HttpResponse:
    term = term_for(request, pk)
    if not policy.can_manage(request.user, term.company):
        raise PermissionDenied
    created = services.roster_seed(actor=signed_in_user(request), term=term)
    messages.success(
        request,
        _("%(count)s representatives flagged in the roster import were seated.")
        % {"count": len(created)},
    )
    return redirect("congress:roster", pk=term.pk)


@login_required
@require_http_methods(["GET", "POST"])
def representative_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rep = get_object_or_404(
        Representative.objects.select_related("term__company", "user", "delegation"), pk=pk
    )
    if not policy.can_view(request.user, rep.term.company):
        raise Http404
    if not policy.can_manage(request.user, rep.term.company):
        raise PermissionDenied
    delegations = rep.term.delegations.all()
    move = RepresentativeMoveForm(
        request.POST if request.POST.get("do") == "move" else None,
        delegations=delegations,
        initial={"delegation": rep.delegation},
    )
    leave = RepresentativeLeaveForm(request.POST if request.POST.get("do") == "leave" else None)
    if request.method == "POST":
        try:
            if request.POST.get("do") == "move" and move.is_valid():
                services.representative_move(
                    actor=signed_in_user(request),
                    representative=rep,
                    delegation=move.cleaned_data["delegation"],
                )
                messages.success(request, _("The representative is moved."))
                return redirect("congress:roster", pk=rep.term_id)
            if request.POST.get("do") == "leave" and leave.is_valid():
                services.representative_leave(
                    actor=signed_in_user(request), representative=rep, **leave.cleaned_data
                )
                messages.success(request, _("The representative has left the roster."))
                return redirect("congress:roster", pk=rep.term_id)
        except ServiceError as error:
            error.add_to_form(move if request.POST.get("do") == "move" else leave)
    return render(
        request,
        "congress/representative.html",
        {"rep": rep, "move": move, "leave": leave},
        status=400 if request.method == "POST" else 200,
    )


# --- Sessions -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, pk: int) -> HttpResponse:
    term = term_for(request, pk)
    if not policy.can_manage(request.user, term.company):
        raise PermissionDenied
    next_number = term.sessions.filter(kind=SessionKind.PLENARY).count() + 1
    form = SessionForm(
        request.POST or None, initial={"number": next_number, "kind": SessionKind.PLENARY}
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(
                actor=signed_in_user(request), term=term, **form.cleaned_data
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The session is planned."))
            return redirect("congress:session_detail", pk=session.pk)
    return render(
        request,
        "congress/form.html",
        {"form": form, "title": _("New session or joint meeting"), "term": term},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_for(request, pk)
    if not policy.can_manage(request.user, session.term.company):
        raise PermissionDenied
    if session.status == SessionStatus.CLOSED:
        raise PermissionDenied
    initial = {f: getattr(session, f) for f in services.SESSION_FIELDS}
    form = SessionEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(
                actor=signed_in_user(request), session=session, **form.cleaned_data
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The session is saved."))
            return redirect("congress:session_detail", pk=session.pk)
    return render(
        request,
        "congress/form.html",
        {"form": form, "title": session.title, "session": session},
        status=400 if request.method == "POST" else 200,
    )


SESSION_MOTIONS = 30  # on the session page; the rest on the motion list


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_for(request, pk)
    user = request.user
    rep = selectors.representative_for(user, session.term)
    my_attendance = (
        Attendance.objects.filter(session=session, representative=rep).first()
        if rep is not None
        else None
    )
    checked_in = my_attendance is not None
    session_motions = selectors.public_motions(session.term.company).filter(session=session)
    motions = list(session_motions.order_by("number", "id")[: SESSION_MOTIONS + 1])
    context = {
        "session": session,
        "term": session.term,
        "quorum": selectors.session_quorum(session),
        "documents": selectors.session_documents(session, user)
        if session.kind == SessionKind.PLENARY
        else [],
        "motions": motions[:SESSION_MOTIONS],
        "more_motions": len(motions) > SESSION_MOTIONS,
        "my_drafts": selectors.my_drafts(user, session.term.company).filter(session=session),
        "may_manage": policy.can_manage(user, session.term.company),
        "may_check_in": policy.can_check_in_self(user, session) and not checked_in,
        "checked_in": checked_in,
        "my_attendance": my_attendance,
        "may_record_attendance": policy.can_record_attendance(user, session),
        "may_propose": policy.can_propose(user, session) and collection_open(session),
        "collecting": collection_open(session),
        "today": timezone.localdate(),
        "votes": session_votes(session),
    }
    return render(request, "congress/session.html", context)


def session_votes(session: Session) -> list[object]:
    """The session's votes and evaluations (the ballots app), drafts left out."""
    polls = getattr(session, "polls", None)
    if polls is None:
        return []
    return list(polls.exclude(status="draft").order_by("id"))


@login_required
def quorum(request: HttpRequest, pk: int) -> HttpResponse:
    """The live quorum figure, polled by the session page."""
    session = session_for(request, pk)
    return render(
        request,
        "congress/_quorum.html",
        {"session": session, "quorum": selectors.session_quorum(session)},
    )


STEP_LABELS = {"open": "Open the session", "close": "Close the session"}


@login_required
@require_http_methods(["GET", "POST"])
def session_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    session = session_for(request, pk)
    if step not in services.SESSION_STEPS:
        raise Http404
    if not policy.can_manage(request.user, session.term.company):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.session_set_status(actor=signed_in_user(request), session=session, step=step)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("The session is open.") if step == "open" else _("The session is closed."),
            )
        return redirect("congress:session_detail", pk=session.pk)
    return render(
        request,
        "congress/session_step.html",
        {"session": session, "step": step, "quorum": selectors.session_quorum(session)},
    )


@login_required
@require_POST
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    session = session_for(request, pk)
    try:
        services.attendance_check_in(actor=signed_in_user(request), session=session)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You are checked in."))
        already_open = [p for p in session_votes(session) if getattr(p, "status", "") == "open"]
        if already_open:
            # Their electorate was fixed when they opened, before this check-in.
            messages.warning(
                request,
                _(
                    "Votes already open when you checked in (%(titles)s) are not yours to cast: "
                    "who may vote is fixed when a vote opens. Every vote opened from now on "
                    "includes you."
                )
                % {"titles": "; ".join(str(p) for p in already_open)},
            )
    return redirect("congress:session_detail", pk=session.pk)


@login_required
@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """The union office's sign-in sheet: every active representative with the time they
    checked in (and who recorded it), or their leave of absence (请假) and its reason."""
    session = session_for(request, pk)
    if not policy.can_manage(request.user, session.term.company):
        raise PermissionDenied
    seats = list(
        Representative.objects.filter(term=session.term, is_active=True)
        .select_related("user__unit", "delegation")
        .order_by("delegation__name", "user__employee_no")
    )
    checked_in = {
        a.representative_id: a
        for a in Attendance.objects.filter(session=session).select_related("checked_in_by")
    }
    leaves = {
        leave.representative_id: leave
        for leave in LeaveOfAbsence.objects.filter(session=session).select_related("recorded_by")
    }
    present = set(checked_in)
    on_leave = {rep_id: leave.reason for rep_id, leave in leaves.items()}
    error = ""
    if request.method == "POST":
        try:
            ticked = {int(v) for v in request.POST.getlist("present")}
            excused = {
                int(v): str(request.POST.get(f"reason-{int(v)}", ""))
                for v in request.POST.getlist("leave")
            }
        except ValueError:
            ticked, excused = set(), {}
            error = _("The form was damaged; reload the page.")
        if not error:
            try:
                added, removed = services.attendance_record(
                    actor=signed_in_user(request), session=session, present=ticked, leave=excused
                )
            except ServiceError as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    _("Attendance saved: %(added)s checked in, %(removed)s removed.")
                    % {"added": added, "removed": removed},
                )
                return redirect("congress:attendance", pk=session.pk)
        present, on_leave = ticked, excused
    rows = [
        {
            "seat": seat,
            "present": seat.pk in present,
            "attendance": checked_in.get(seat.pk),
            "on_leave": seat.pk in on_leave,
            "reason": on_leave.get(seat.pk, ""),
            "leave": leaves.get(seat.pk),
        }
        for seat in seats
    ]
    return render(
        request,
        "congress/attendance.html",
        {
            "session": session,
            "rows": rows,
            "counts": {
                "present": len(checked_in),
                "leave": len(leaves),
                "absent": len(seats) - len(set(checked_in) | set(leaves)),
            },
            "error": error,
            "quorum": selectors.session_quorum(session),
            "editable": session.status != SessionStatus.CLOSED,
        },
        status=400 if error else 200,
    )
