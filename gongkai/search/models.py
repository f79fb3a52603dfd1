"""The search index: one row per published disclosure, with the text of its published
revision as indexed and the fields the visibility filter needs. The tokens themselves live in
an FTS5 table on SQLite (``search_fts``, created by migration 0001 on SQLite only) and in the
``vector`` column on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import choices_constraint
from gongkai.core.scope import Scope
from gongkai.org.models import OrgUnit


class TsVectorField(SearchVectorField):
    """A tsvector written from a literal (``'招标':3 '费'``) that :mod:`.backends` builds, so
    that the lexemes are exactly the Python tokens: PostgreSQL's text parser never sees
    them. Always NULL on SQLite."""

    def get_placeholder(self, value: Any, compiler: Any, connection: Any) -> str:
        if connection.vendor == "postgresql":
            return "%s::tsvector"
        return "%s"


class SearchDocument(models.Model):
    """A published disclosure as the index holds it. Rows are replaced, never updated: a new
    publication (a correction) gets a new row. Results are listed most recently published
    first, by ``published_at`` (then id): the order the rows were written in says nothing (a
    backdated publication, an import, a rebuild). A withdrawal deletes the row."""

    disclosure = models.OneToOneField(
        "disclosure.Disclosure",
        verbose_name=_("disclosure"),
        on_delete=models.CASCADE,
        related_name="search_document",
    )
    revision = models.ForeignKey(
        "disclosure.Revision",
        verbose_name=_("revision"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    # Who may read it, as indexed: the published revision's scope and the disclosure's unit
    # (with its path) become the visibility tokens; the registered source's rule
    # (gongkai.search.sources, readable_disclosures_q) is then applied to the disclosure itself.
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    unit_path = models.CharField(_("unit path when indexed"), max_length=255)
    # The text as indexed: the snippets show it, and SQLite re-creates the tokens from it
    # to delete the row from its FTS5 table.
    title = models.TextField(_("title"))
    body = models.TextField(_("text"), blank=True)
    unit_name = models.CharField(_("unit name"), max_length=100)
    entry_name = models.CharField(_("catalog entry name"), max_length=100)
    published_at = models.DateTimeField(_("published at"))
    version = models.CharField(_("tokenizer version"), max_length=40)
    chunks = models.PositiveSmallIntegerField(_("chunks"), default=1)
    vector = TsVectorField(null=True, editable=False)

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        ordering = ["-published_at", "-id"]
        constraints = [choices_constraint("scope", Scope, "searchdocument_scope_valid")]
        indexes = [
            # Newest first: walked backwards for a page of a common word.
            models.Index(fields=["published_at", "id"], name="searchdocument_newest"),
            # Only long texts span chunks; the query asks for the most chunks there are.
            models.Index(
                fields=["chunks"],
                name="searchdocument_long",
                condition=models.Q(chunks__gt=1),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SearchFts(models.Model):
    """The SQLite FTS5 table, contentless, one row per SearchDocument (rowid = its id):
    columns ``grams`` (bigrams), ``chars`` (single Han characters), ``words`` and ``access``
    (visibility tokens). Read-only through the ORM, for the query that joins it."""

    document = models.OneToOneField(
        SearchDocument,
        primary_key=True,
        db_column="rowid",
        on_delete=models.DO_NOTHING,
        related_name="+",
    )

    class Meta:
        managed = False
        db_table = "search_fts"

    def __str__(self) -> str:
        return str(self.pk)
