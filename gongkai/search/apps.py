from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "gongkai.search"
    verbose_name = _("Search")

    def ready(self) -> None:
        post_migrate.connect(empty_orphaned_fts, sender=self)


def empty_orphaned_fts(*, using: str, **kwargs: Any) -> None:
    """After ``manage.py flush`` (which sends post_migrate): the SQLite FTS5 table is no model,
    so flush leaves its rows behind while it restarts the documents' ids, and new documents
    would inherit old rows' tokens. With no documents left, the FTS5 table is emptied too."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if "search_fts" not in connection.introspection.table_names(cursor):
            return
        cursor.execute("SELECT EXISTS (SELECT 1 FROM search_searchdocument)")
        if not cursor.fetchone()[0]:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
