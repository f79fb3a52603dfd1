"""The witness pages (gongkai.ledger.witness): the C2SP tlog-witness endpoint for other
installations' logs, and the union office's configuration of the logs this installation
witnesses and of the witnesses it sends its own checkpoints to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from gongkai.accounts.requests import signed_in_user
from gongkai.core.errors import ServiceError
from gongkai.ledger import witness
from gongkai.ledger.models import Witness, WitnessedLog
from gongkai.ledger.witness_forms import WitnessedLogForm, WitnessForm

# --- The witness endpoint, for other installations' logs (a machine protocol) ----------------


@csrf_exempt  # a machine protocol: the log's signature on the checkpoint is what is checked
@require_POST
def add_checkpoint(request: HttpRequest) -> HttpResponse:
    """``POST /ledger/witness/add-checkpoint`` (c2sp.org/tlog-witness): cosign a checkpoint of
    a log this installation witnesses. 404 when it witnesses none; 413 for a body over
    :data:`~gongkai.ledger.witness.MAX_BODY`."""
    if not witness.witnesses_any_log():
        raise Http404
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > witness.MAX_BODY:
        return HttpResponse(b"request too large\n", status=413, content_type=witness.TEXT_TYPE)
    body = request.body
    if len(body) > witness.MAX_BODY:
        return HttpResponse(b"request too large\n", status=413, content_type=witness.TEXT_TYPE)
    answer = witness.add_checkpoint(body)
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    response["Cache-Control"] = "no-store"
    return response


# --- The union office: witnesses and witnessed logs ------------------------------------------


@login_required
@require_safe
def witness_list(request: HttpRequest) -> HttpResponse:
    """Our witnesses (who cosigns our checkpoints), the logs we witness, and the keys to give
    to the other installations."""
    witness.require_manage(request.user)
    endpoint = request.build_absolute_uri(reverse("ledger:add_checkpoint"))
    context = {
        "witnesses": Witness.objects.all(),
        "logs": WitnessedLog.objects.all(),
        "keys": witness.own_keys(),
        "witness_url": endpoint.removesuffix(f"/{witness.ADD_CHECKPOINT}"),
    }
    return render(request, "ledger/witnesses.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def witness_add(request: HttpRequest) -> HttpResponse:
    witness.require_manage(request.user)
    form = WitnessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = witness.witness_create(actor=signed_in_user(request), **form.cleaned_data)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request,
                _("The witness “%(name)s” is added: the next checkpoint is sent to it.")
                % {"name": added.name},
            )
            return redirect("ledger:witnesses")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "witness": None}
    return render(request, "ledger/witness_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def witness_edit(request: HttpRequest, pk: int) -> HttpResponse:
    witness.require_manage(request.user)
    row = get_object_or_404(Witness, pk=pk)
    form = WitnessForm.for_witness(row, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            witness.witness_update(actor=signed_in_user(request), witness=row, **form.cleaned_data)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The witness is changed."))
            return redirect("ledger:witnesses")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "witness": row}
    return render(request, "ledger/witness_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def witness_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: ask; POST: stop sending checkpoints to the witness."""
    witness.require_manage(request.user)
    row = get_object_or_404(Witness, pk=pk)
    if request.method == "POST":
        witness.witness_set_active(actor=signed_in_user(request), witness=row, active=False)
        messages.success(request, _("“%(name)s” is deactivated.") % {"name": row.name})
        return redirect("ledger:witnesses")
    return render(request, "ledger/witness_deactivate.html", {"witness": row, "log": None})


@login_required
@require_POST
def witness_activate(request: HttpRequest, pk: int) -> HttpResponse:
    witness.require_manage(request.user)
    row = get_object_or_404(Witness, pk=pk)
    witness.witness_set_active(actor=signed_in_user(request), witness=row, active=True)
    messages.success(request, _("“%(name)s” is active again.") % {"name": row.name})
    return redirect("ledger:witnesses")


@login_required
@require_http_methods(["GET", "POST"])
def witnessed_add(request: HttpRequest) -> HttpResponse:
    witness.require_manage(request.user)
    form = WitnessedLogForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            log = witness.witnessed_log_create(actor=signed_in_user(request), **form.cleaned_data)
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request,
                _("This installation now witnesses the log of “%(name)s”.") % {"name": log.name},
            )
            return redirect("ledger:witnesses")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "log": None}
    return render(request, "ledger/witnessed_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def witnessed_edit(request: HttpRequest, pk: int) -> HttpResponse:
    witness.require_manage(request.user)
    log = get_object_or_404(WitnessedLog, pk=pk)
    form = WitnessedLogForm.for_log(log, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            witness.witnessed_log_update(
                actor=signed_in_user(request), log=log, **form.cleaned_data
            )
        except ServiceError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("The witnessed log is changed."))
            return redirect("ledger:witnesses")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "log": log}
    return render(request, "ledger/witnessed_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def witnessed_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: ask; POST: stop witnessing the log (its state is kept)."""
    witness.require_manage(request.user)
    log = get_object_or_404(WitnessedLog, pk=pk)
    if request.method == "POST":
        witness.witnessed_log_set_active(actor=signed_in_user(request), log=log, active=False)
        messages.success(request, _("“%(name)s” is no longer witnessed.") % {"name": log.name})
        return redirect("ledger:witnesses")
    return render(request, "ledger/witness_deactivate.html", {"witness": None, "log": log})


@login_required
@require_POST
def witnessed_activate(request: HttpRequest, pk: int) -> HttpResponse:
    witness.require_manage(request.user)
    log = get_object_or_404(WitnessedLog, pk=pk)
    witness.witnessed_log_set_active(actor=signed_in_user(request), log=log, active=True)
    messages.success(request, _("“%(name)s” is witnessed again.") % {"name": log.name})
    return redirect("ledger:witnesses")
