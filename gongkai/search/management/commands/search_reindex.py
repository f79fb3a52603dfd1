"""``manage.py search_reindex [--now]``: rebuild the search index from the published revisions,
for data that existed before the index did, after an upgrade that changes the tokens, or to
repair it. By default the rebuild is queued (``gongkai.search.tasks.reindex``: the worker
runs it in batches); ``--now`` runs it here and waits for it."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from gongkai.search.tasks import reindex, reindex_all


class Command(BaseCommand):
    help = (
        "Rebuild the search index from every published disclosure, in batches: queued for "
        "the worker, or at once with --now. Only what differs is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", action="store_true", help="Rebuild here and now instead of queueing it."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["now"]:
            reindex()
            self.stdout.write(
                _("Reindexing queued: the worker rebuilds the search index in the background.")
            )
            return
        started = time.perf_counter()
        outcome = reindex_all()
        self.stdout.write(
            _("Indexed %(count)d published disclosures in %(seconds).1f s.")
            % {"count": outcome.documents, "seconds": time.perf_counter() - started}
        )
