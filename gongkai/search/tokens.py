"""Chinese-aware tokens, the same for SQLite and PostgreSQL (DESIGN.md "Chinese search").

Text is normalised (NFKC, lower case) and cut into runs: each run of Han characters gives its
overlapping bigrams, in order, plus its distinct single characters; every other run of letters
or digits is one word. A query is cut the same way: one Han character looks up the
single-character token, two look up one bigram, more look up the phrase of consecutive bigrams
(so a Han query finds exactly what ``LIKE '%query%'`` finds), a word looks up the word (and,
from three characters on, the words it begins). Several runs in a query must all match.

Nothing here touches the database; :mod:`gongkai.search.backends` turns tokens into an FTS5
row or a tsvector, and terms into an FTS5 or tsquery expression.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# Han ideographs: 々〆〇, Extension A, the unified block, compatibility ideographs and the
# supplementary planes (Extensions B–H).
HAN = "\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
HAN_RUNS = re.compile(f"([{HAN}]+)")
WORDS = re.compile(r"[^\W_]+")

# Private-use characters: never produced from user text (they are not letters or digits), so
# no query can reach the tokens built with them.
BREAK = "\ue000"  # between runs and fields: no phrase crosses it
ACCESS = "\ue001"  # prefix of the visibility tokens
CHUNK = "\ue002"  # bigrams of the second and later chunks (PostgreSQL): 招标\ue0021

PREFIX_FROM = 3  # words of at least this many characters also find longer words
MAX_INDEXED_CHARS = 50_000  # per document; keeps a tsvector far below its 1 MB limit
# Bumped whenever tokens change: SQLite deletes a row by re-creating its tokens, which is
# only safe with the code (and Unicode tables) that indexed it.
VERSION = f"1/{unicodedata.unidata_version}"


# Full-width ASCII and the ideographic space, as NFKC maps them: Chinese text is full of
# them, and without them most text passes the fast is_normalized check.
FULL_WIDTH = {0x3000: " ", **{code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}}


def normalise(text: str) -> str:
    """NFKC, lower case."""
    text = text.translate(FULL_WIDTH)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.lower()


def runs(text: str) -> list[tuple[bool, str]]:
    """``(is_han, run)`` for each run of normalised ``text``, in order."""
    found: list[tuple[bool, str]] = []
    for index, part in enumerate(HAN_RUNS.split(normalise(text))):
        if index % 2:  # split() puts the captured Han runs at odd indexes
            found.append((True, part))
        elif part:
            found.extend((False, word) for word in WORDS.findall(part))
    return found


def bigrams(run: str) -> list[str]:
    return list(map(str.__add__, run, run[1:]))


@dataclass(frozen=True)
class DocumentTokens:
    """The tokens of one document. ``grams`` holds the bigrams in order with ``None`` where a
    run or field ends; ``chars`` and ``words`` are distinct, in order of first appearance."""

    grams: tuple[str | None, ...]
    chars: tuple[str, ...]
    words: tuple[str, ...]
    access: tuple[str, ...]


def document_tokens(fields: list[str], *, access: list[str]) -> DocumentTokens:
    grams: list[str | None] = []
    chars: dict[str, None] = {}
    words: dict[str, None] = {}
    budget = MAX_INDEXED_CHARS
    for field in fields:
        field = field[:budget]
        budget -= len(field)
        for is_han, run in runs(field):
            if not is_han:
                words[run] = None
                continue
            chars.update(dict.fromkeys(run))
            if len(run) > 1:
                grams.extend(map(str.__add__, run, run[1:]))
                grams.append(None)  # no phrase runs on past the end of a run
        if budget <= 0:
            break
    return DocumentTokens(
        grams=tuple(grams), chars=tuple(chars), words=tuple(words), access=tuple(access)
    )


def access_tokens(*, public: bool, unit_ids: list[int], subtree_ids: list[int]) -> list[str]:
    """Visibility tokens: ``p`` for public items, ``u<id>`` for the unit itself and ``t<id>``
    for the unit and each unit above it (a subtree grant on ``t<id>`` covers it)."""
    tokens = [f"{ACCESS}p"] if public else []
    tokens += [f"{ACCESS}u{pk}" for pk in unit_ids]
    tokens += [f"{ACCESS}t{pk}" for pk in subtree_ids]
    return tokens


def index_tokens(
    *,
    title: str,
    body: str,
    unit_name: str,
    entry_name: str,
    public: bool,
    unit_id: int,
    unit_path: str,
) -> DocumentTokens:
    """The tokens of one indexed disclosure (its fields in this order, then visibility)."""
    path_ids = [int(part) for part in unit_path.strip("/").split("/") if part]
    return document_tokens(
        [title, body, unit_name, entry_name],
        access=access_tokens(public=public, unit_ids=[unit_id], subtree_ids=path_ids),
    )


class TermKind(StrEnum):
    CHAR = "char"  # one Han character: the single-character token
    PHRASE = "phrase"  # two or more Han characters: consecutive bigrams
    WORD = "word"  # letters or digits


@dataclass(frozen=True)
class Term:
    kind: TermKind
    text: str  # normalised, as typed: what the highlighter marks

    @property
    def tokens(self) -> tuple[str, ...]:
        if self.kind == TermKind.PHRASE:
            return tuple(bigrams(self.text))
        return (self.text,)

    @property
    def prefix(self) -> bool:
        return self.kind == TermKind.WORD and len(self.text) >= PREFIX_FROM


def query_terms(query: str) -> list[Term]:
    """The terms every result must contain, without repeats."""
    terms: dict[Term, None] = {}
    for is_han, run in runs(query):
        if not is_han:
            kind = TermKind.WORD
        elif len(run) == 1:
            kind = TermKind.CHAR
        else:
            kind = TermKind.PHRASE
        terms[Term(kind, run)] = None
    return list(terms)
