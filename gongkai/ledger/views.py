from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

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
    return render(request, "ledger/head.html", {"last": last, "form": form, "check": check})


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
    return render(
        request,
        "ledger/disclosure.html",
        {
            "disclosure": disclosure,
            "page": page,
            "rows": entry_checks(list(page.object_list)),
            "unrecorded": unrecorded(disclosure_id=disclosure.pk),
        },
    )
