"""``manage.py search_reindex``: rebuild the search index from the published revisions, for
data that existed before the index did and after an upgrade that changes the tokens."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from gongkai.search.services import search_index_rebuild


class Command(BaseCommand):
    help = (
        "Empty the search index and index every published disclosure again, in one "
        "transaction: searches see the old index until it commits."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        count = search_index_rebuild()
        self.stdout.write(
            _("Indexed %(count)d published disclosures in %(seconds).1f s.")
            % {"count": count, "seconds": time.perf_counter() - started}
        )
