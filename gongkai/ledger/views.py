from __future__ import annotations

import base64

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from gongkai.audit import transparency as audit_log
from gongkai.core.tlog import signing, store
from gongkai.core.tlog.merkle import EntryBundle, Tile
from gongkai.ledger import transparency, witness
from gongkai.ledger.forms import HeadCheckForm
from gongkai.ledger.models import LedgerEntry
from gongkai.ledger.sources import readable_disclosure
from gongkai.ledger.verification import entry_checks, unrecorded

ENTRIES_PER_PAGE = 50


@login_required
def head(request: HttpRequest) -> HttpResponse:
    """The chain head, to be written down and compared later; and that comparison."""
    last = LedgerEntry.objects.order_by("-sequence").first()
    form = HeadCheckForm(request.GET or None)
    check = None
    if form.is_valid():
        stored = (
            LedgerEntry.objects.filter(sequence=form.cleaned_data["sequence"])
            .values_list("entry_hash", flat=True)
            .first()
        )
        if stored is None:
            check = "missing"
        else:
            check = "match" if stored == form.cleaned_data["entry_hash"] else "differs"
    try:
        verifier_key = signing.verifier_key()
    except signing.NoSigningKey:
        verifier_key = ""
    return render(
        request,
        "ledger/head.html",
        {
            "last": last,
            "form": form,
            "check": check,
            "checkpoint": transparency.latest(),
            "audit_checkpoint": audit_log.latest(),
            "verifier_key": verifier_key,
            "previous_keys": settings.LEDGER_PREVIOUS_VERIFIER_KEYS,
            "site": request.build_absolute_uri("/").rstrip("/"),
            "may_manage_witnesses": witness.may_manage(request.user),
        }
        | witness.cosignatures_context(),
    )


def disclosure_entries(request: HttpRequest, pk: int) -> HttpResponse:
    """A disclosure's ledger entries and whether each verifies now. Readable by whoever may
    read the disclosure (the public too, for public items); 404 otherwise, as for missing.
    The disclosure app says which (its reader registered in gongkai.ledger.sources)."""
    disclosure = readable_disclosure(request.user, pk)
    if disclosure is None:
        raise Http404
    entries = LedgerEntry.objects.filter(disclosure_id=disclosure.pk).select_related("disclosure")
    page = Paginator(entries.order_by("sequence"), ENTRIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = entry_checks(list(page.object_list))
    leaves = transparency.leaves_of([entry for entry, _problems in rows])
    return render(
        request,
        "ledger/disclosure.html",
        {
            "disclosure": disclosure,
            "page": page,
            "rows": [(e, p, leaf) for (e, p), leaf in zip(rows, leaves, strict=True)],
            "unrecorded": unrecorded(disclosure_id=disclosure.pk),
        },
    )


@require_safe
def record(request: HttpRequest, pk: int, sequence: int) -> JsonResponse:
    """The record of one ledger entry as canonical content, for whoever may read the
    disclosure (404 otherwise), to check offline against the public log."""
    disclosure = readable_disclosure(request.user, pk)
    if disclosure is None:
        raise Http404
    entry = LedgerEntry.objects.filter(disclosure_id=disclosure.pk, sequence=sequence).first()
    if entry is None:
        raise Http404
    response = JsonResponse(
        transparency.record_for_reader(entry), json_dumps_params={"ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="ledger-record-{sequence}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- The transparency log, for anyone (no sign-in): gongkai.ledger.transparency -------------

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=10"


def _served_size() -> int:
    """The size of the newest signed checkpoint: what the log serves (0 before the first)."""
    latest = transparency.latest()
    return latest.size if latest is not None else 0


@require_safe
def log_checkpoint(request: HttpRequest) -> HttpResponse:
    """The newest signed checkpoint of the publication log (C2SP tlog-checkpoint)."""
    latest = transparency.latest()
    if latest is None:
        raise Http404
    # With the witnesses' cosignatures after the log's own signature (C2SP tlog-witness).
    response = HttpResponse(witness.cosigned_note(latest), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = SHORT
    return response


@require_safe
def log_tile(request: HttpRequest, path: str) -> HttpResponse:
    """A hash tile or an entry bundle at its C2SP tlog-tiles path under ``/ledger/log/``."""
    size = _served_size()
    try:
        if path.startswith("tile/entries/"):
            data = store.bundle_bytes(transparency.LOG, EntryBundle.from_path(path), size)
        else:
            data = store.tile_bytes(transparency.LOG, Tile.from_path(path), size)
    except (ValueError, store.NotInLog):
        raise Http404 from None
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE
    return response


def _problem(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _number(request: HttpRequest, name: str, default: int | None = None) -> int:
    raw = request.GET.get(name)
    if raw is None and default is not None:
        return default
    if raw is None or not raw.isdigit() or len(raw) > 20:
        raise ValueError(name)
    return int(raw)


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in hashes]


@require_safe
def proof_inclusion(request: HttpRequest) -> JsonResponse:
    """``?index=I&size=N`` (N: by default the newest checkpoint's size) → the audit path of
    leaf I in the tree of N leaves, and the leaf's data (public: see transparency)."""
    served = _served_size()
    try:
        index, size = _number(request, "index"), _number(request, "size", served)
    except ValueError as bad:
        return _problem(f"{bad} must be a whole number")
    if size > served:
        return _problem(f"the newest checkpoint has size {served}", 404)
    if not index < size:
        return _problem(f"leaf {index} is not in the tree of size {size}", 404)
    hashes = store.inclusion_proof(transparency.LOG, index, size)
    leaf = store.entry(transparency.LOG, index)
    response = JsonResponse(
        {
            "index": index,
            "size": size,
            "hashes": _b64(hashes),
            "leaf": base64.b64encode(leaf).decode("ascii"),
        }
    )
    response["Cache-Control"] = IMMUTABLE if "size" in request.GET else SHORT
    return response


@require_safe
def proof_consistency(request: HttpRequest) -> JsonResponse:
    """``?old=M&size=N`` → the proof that the tree of M leaves is a prefix of that of N."""
    served = _served_size()
    try:
        old, size = _number(request, "old"), _number(request, "size", served)
    except ValueError as bad:
        return _problem(f"{bad} must be a whole number")
    if size > served:
        return _problem(f"the newest checkpoint has size {served}", 404)
    if old > size:
        return _problem("old must not be larger than size")
    hashes = store.consistency_proof(transparency.LOG, old, size)
    response = JsonResponse({"old": old, "size": size, "hashes": _b64(hashes)})
    response["Cache-Control"] = IMMUTABLE if "size" in request.GET else SHORT
    return response
