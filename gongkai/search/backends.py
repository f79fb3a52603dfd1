"""What differs between the engines: where the tokens are stored and how terms are matched.
:func:`backend` picks one for the connection; everything else in the app is shared.

Results are listed newest publication first: by the documents' ``published_at`` (then id),
never by the order the index was filled in (a backdated publication, an import or a rebuild
can fill it in any order). An index on (published_at, id) is walked newest first.

SQLite: a contentless FTS5 table (unicode61 tokenizer, which keeps a bigram or a private-use
marker whole). The match's rowids (document ids) are read up to PROBE + 1: a rare word's
matches are sorted by date; a common word's documents are walked newest first, each probed
in the FTS5 table by rowid, so a page stops after its rows whatever the number of matches.

PostgreSQL: a tsvector column written from a literal, with a GIN index. A GIN scan yields all
matches unordered, and for a common word reading its posting lists alone takes tens of ms;
walking the date index backwards yields matches newest first, but reads every row for a
rare word. So the index is walked first over the newest RECENT rows (a common word fills its
page within a few hundred); a word that does not is rare, and the GIN index is asked for its
matches: up to PROBE are sorted, more mean a word common only long ago, and the walk goes on.

On both, the match includes the reader's visibility tokens (see tokens.access_tokens and the
source's grants, gongkai.search.sources), so the index itself passes over what the reader
may not see, however common the word elsewhere; the source's rule (readable_disclosures_q)
then filters the rows in SQL, and that filter is the rule.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.postgres.search import SearchQueryField
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Cast

from gongkai.core.scope import Scope
from gongkai.search.models import SearchDocument, SearchFts
from gongkai.search.tokens import (
    BREAK,
    CHUNK,
    VERSION,
    DocumentTokens,
    Term,
    TermKind,
    index_tokens,
)

logger = logging.getLogger(__name__)

Visible = Callable[[str], Q]  # path to the SearchDocument → the readable filter for the reader
NEWEST = ("-published_at", "-pk")  # the order of results: newest publication first
PROBE = 2_000  # a rare word has at most this many matches: they are sorted


def tokens_of(document: SearchDocument) -> DocumentTokens:
    """The tokens of a document, from what it stores (the same input gives the same tokens)."""
    return index_tokens(
        title=document.title,
        body=document.body,
        unit_name=document.unit_name,
        entry_name=document.entry_name,
        public=document.scope == Scope.PUBLIC,
        unit_id=document.unit_id,
        unit_path=document.unit_path,
    )


class Backend:
    def prepare(self, document: SearchDocument, tokens: DocumentTokens) -> None:
        """Fill the engine's columns of an unsaved document."""

    def added(self, documents: list[tuple[SearchDocument, DocumentTokens]]) -> None:
        """After the documents were inserted."""

    def removing(self, documents: list[SearchDocument]) -> None:
        """Before the documents are deleted."""

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Around emptying and refilling the whole index."""
        yield

    def page_ids(
        self, *, terms: list[Term], access: list[str], visible: Visible, offset: int, limit: int
    ) -> list[int]:
        raise NotImplementedError


# --- SQLite: FTS5 ---------------------------------------------------------------------------

FTS_INSERT = (
    "INSERT INTO search_fts(rowid, grams, chars, words, access) VALUES (%s, %s, %s, %s, %s)"
)
FTS_DELETE = (
    "INSERT INTO search_fts(search_fts, rowid, grams, chars, words, access) "
    "VALUES ('delete', %s, %s, %s, %s, %s)"
)


def fts_columns(tokens: DocumentTokens) -> tuple[str, str, str, str]:
    """The grams, chars, words and access columns: tokens separated by spaces."""
    return (
        " ".join([BREAK if gram is None else gram for gram in tokens.grams]),
        " ".join(tokens.chars),
        " ".join(tokens.words),
        " ".join(tokens.access),
    )


def fts_string(token: str) -> str:
    """An FTS5 string: user input never becomes FTS5 syntax (AND, NEAR, *, columns …)."""
    return '"' + token.replace('"', '""') + '"'


def fts_term(term: Term) -> str:
    if term.kind == TermKind.CHAR:
        return f"chars : {fts_string(term.text)}"
    if term.kind == TermKind.PHRASE:
        return "grams : (" + " + ".join(fts_string(t) for t in term.tokens) + ")"
    return f"words : {fts_string(term.text)}" + ("*" if term.prefix else "")


def fts_query(terms: list[Term], access: list[str]) -> str:
    parts = [f"({fts_term(term)})" for term in terms]
    parts.append("(access : (" + " OR ".join(fts_string(a) for a in access) + "))")
    return " AND ".join(parts)


class FtsMatch(Expression):
    """``search_fts MATCH <query>``: the FTS5 table's own hidden column, qualified by the
    table's alias in the query (so that it also works in a subquery)."""

    output_field = BooleanField()

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[str]]:
        alias = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f'{alias}."search_fts" MATCH %s', (self.query,)


class SqliteBackend(Backend):
    def added(self, documents: list[tuple[SearchDocument, DocumentTokens]]) -> None:
        rows = [(document.pk, *fts_columns(tokens)) for document, tokens in documents]
        with connection.cursor() as cursor:
            cursor.executemany(FTS_INSERT, rows)

    def removing(self, documents: list[SearchDocument]) -> None:
        rows = []
        for document in documents:
            if document.version == VERSION:
                rows.append((document.pk, *fts_columns(tokens_of(document))))
            else:
                # Tokens made by other code cannot be re-created exactly, and a wrong 'delete'
                # corrupts FTS5. The row stays behind, unreachable (ids are never reused and
                # every query joins the documents) until search_reindex rebuilds the table.
                logger.warning("search document %s was indexed by %s; run search_reindex",
                               document.pk, document.version)  # fmt: skip
        with connection.cursor() as cursor:
            cursor.executemany(FTS_DELETE, rows)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
            yield
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")

    def page_ids(
        self, *, terms: list[Term], access: list[str], visible: Visible, offset: int, limit: int
    ) -> list[int]:
        query = fts_query(terms, access)
        matches = SearchFts.objects.filter(FtsMatch(query)).order_by()
        found = list(matches.values_list("pk", flat=True)[: PROBE + 1])
        documents = SearchDocument.objects.filter(visible(""))
        if len(found) <= PROBE:  # a rare word: its matches, sorted by date
            documents = documents.filter(pk__in=found)
        else:  # a common word: the newest documents, each probed in the FTS5 table
            probe = SearchFts.objects.filter(FtsMatch(query), pk=OuterRef("pk"))
            documents = documents.filter(Exists(probe))
        rows = documents.order_by(*NEWEST).values_list("pk", flat=True)
        return list(rows[offset : offset + limit])


# --- PostgreSQL: tsvector + GIN -------------------------------------------------------------

# tsvector positions stop at 16,383: longer texts are cut into windows whose bigrams carry
# the window number (招标\ue0021). Windows overlap by more than the longest query, so every
# phrase a query can ask for lies whole in one window.
WINDOW = 16_000
OVERLAP = 100
RECENT = 20_000  # newest rows read for a page before a word counts as rare
GIN_INDEX = "searchdocument_vector_gin"


def ts_lexeme(token: str) -> str:
    if "'" in token or "\\" in token:  # never in tokens made here; kept safe all the same
        token = token.replace("\\", "\\\\").replace("'", "''")
    return f"'{token}'"


def tsvector_literal(tokens: DocumentTokens) -> tuple[str, int]:
    """The tsvector of a document as a literal, and how many windows its bigrams use."""
    positions: dict[str, list[int]] = {}
    slots = tokens.grams
    step = WINDOW - OVERLAP
    windows = max(1, math.ceil(max(len(slots) - OVERLAP, 1) / step))
    for window in range(windows):
        mark = f"{CHUNK}{window}" if window else ""
        for index, gram in enumerate(slots[window * step : window * step + WINDOW], start=1):
            if gram is not None:
                found = positions.get(gram + mark)
                if found is None:
                    positions[gram + mark] = [index]
                else:
                    found.append(index)
    parts = [f"{ts_lexeme(lexeme)}:{','.join(map(str, at))}" for lexeme, at in positions.items()]
    parts += [ts_lexeme(t) for t in (*tokens.chars, *tokens.words, *tokens.access)]
    return " ".join(parts), windows


def ts_term(term: Term, windows: int) -> str:
    if term.kind == TermKind.CHAR:
        return ts_lexeme(term.text)
    if term.kind == TermKind.WORD:
        return ts_lexeme(term.text) + (":*" if term.prefix else "")
    alternatives = [
        " <-> ".join(ts_lexeme(t + (f"{CHUNK}{window}" if window else "")) for t in term.tokens)
        for window in range(windows)
    ]
    return "(" + " | ".join(f"({a})" for a in alternatives) + ")"


def tsquery_literal(terms: list[Term], access: list[str], windows: int) -> str:
    parts = [ts_term(term, windows) for term in terms]
    parts.append("(" + " | ".join(ts_lexeme(a) for a in access) + ")")
    return " & ".join(parts)


def ts_match(query: str) -> Func:
    """``vector @@ '<query>'::tsquery``: the literal is cast, not parsed by to_tsquery, so the
    lexemes are compared exactly as they were indexed."""
    return Func(
        F("vector"),
        Cast(Value(query), output_field=SearchQueryField()),
        template="%(expressions)s",
        arg_joiner=" @@ ",
        output_field=BooleanField(),
    )


# Which access paths the planner may take (SET LOCAL: they end with the transaction): only
# the primary key backwards, newest first; or only the GIN index. No JIT and no parallel
# workers: starting them costs more (10 ms and more) than these queries.
PLANNER = (
    "enable_seqscan",
    "enable_indexscan",
    "enable_bitmapscan",
    "jit",
    "max_parallel_workers_per_gather",
)
KEY_WALK = ("off", "on", "off", "off", "0")
GIN_ONLY = ("off", "off", "on", "off", "0")


def set_planner(cursor: Any, values: tuple[str, ...]) -> None:
    assignments = ", ".join(["set_config(%s, %s, true)"] * len(PLANNER))
    params = [item for pair in zip(PLANNER, values, strict=True) for item in pair]
    cursor.execute(f"SELECT {assignments}", params)


class PostgresBackend(Backend):
    def prepare(self, document: SearchDocument, tokens: DocumentTokens) -> None:
        document.vector, document.chunks = tsvector_literal(tokens)

    def page_ids(
        self, *, terms: list[Term], access: list[str], visible: Visible, offset: int, limit: int
    ) -> list[int]:
        windows = 1
        if any(term.kind == TermKind.PHRASE for term in terms):
            longest = SearchDocument.objects.filter(chunks__gt=1).aggregate(n=Max("chunks"))
            windows = longest["n"] or 1
        matches = SearchDocument.objects.filter(ts_match(tsquery_literal(terms, access, windows)))
        newest = matches.filter(visible("")).order_by(*NEWEST).values_list("pk", flat=True)
        recent = RECENT * (offset + limit) // limit
        # The date of the recent-th newest document (None with fewer: the GIN path decides),
        # read first and passed as a value: with a subquery the planner cannot see that the
        # range is narrow, and for a phrase it scanned another index over every row (1 s).
        since = (
            SearchDocument.objects.order_by(*NEWEST)
            .values_list("published_at", flat=True)[recent - 1 : recent]
            .first()
        )
        found: list[int] | None = None
        nested = connection.in_atomic_block  # else the transaction below ends the settings
        with transaction.atomic(), connection.cursor() as cursor:
            if nested:
                cursor.execute(
                    f"SELECT {', '.join(['current_setting(%s)'] * len(PLANNER))}", PLANNER
                )
                previous = cursor.fetchone()
            set_planner(cursor, KEY_WALK)
            ids = (
                []
                if since is None
                else list(newest.filter(published_at__gte=since)[offset : offset + limit])
            )
            if len(ids) < limit:  # too few among the newest rows: a rare word, or an old one
                set_planner(cursor, GIN_ONLY)
                found = list(matches.order_by().values_list("pk", flat=True)[: PROBE + 1])
                if len(found) > PROBE:  # an old one: walk on
                    set_planner(cursor, KEY_WALK)
                    ids, found = list(newest[offset : offset + limit]), None
            if nested:
                set_planner(cursor, previous)
        if found is None:
            return ids
        rare = SearchDocument.objects.filter(pk__in=found).filter(visible(""))
        return list(rare.order_by(*NEWEST).values_list("pk", flat=True)[offset : offset + limit])


def backend() -> Backend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise NotImplementedError(f"search does not support {connection.vendor}")
