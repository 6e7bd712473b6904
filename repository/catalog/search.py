"""Search over the holdings: the text of payload files and the titles of hồ sơ and tài liệu.

One query language for ``kholuu search`` and the public catalog to come:

* unquoted words are matched without diacritics and case, all of them (AND): ``quyet dinh`` finds
  "Quyết định", ``da nang`` finds "Đà Nẵng" (đ/Đ count as d);
* a quoted phrase must appear as written, diacritics included (case and spacing aside):
  ``"Quyết định"`` finds "quyết  định" but not "Quyet dinh";
* both may be mixed: ``"Ủy ban" an giang``.

Words are whole words of :func:`preservation.planning.text.search_form` ("dinh" does not find
"dinhs"); titles are matched by substring of their folded form, as ``kholuu records search`` does.
The text index is PostgreSQL's GIN over ``to_tsvector('simple', text_folded)`` or SQLite's FTS5
(LIKE when the SQLite has no FTS5). What may be shown is the caller's decision, passed in as a
:class:`Visibility`: :data:`EVERYTHING` for operators, :data:`workflows.access.public.PUBLIC` for
readers (the one public rule, Luật Lưu trữ 2024 khoản 4 Điều 25). Functions take a session and never
commit.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, literal_column, select, true
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from preservation.errors import ErrorKind, KholuuError
from preservation.names import fold
from preservation.planning.text import query_words, search_form
from repository.catalog.file_text import FileText
from repository.catalog.models import Aip, AipStatus, File
from repository.catalog.records import Document, DocumentFile, Dossier

_PHRASE = re.compile(r'"([^"]*)"?')
_SPACES = re.compile(r"\s+")
SNIPPET_WORDS = 24


@dataclass(frozen=True)
class Query:
    """A parsed query: folded words every hit holds, and exact phrases (NFC, case-folded)."""

    text: str
    words: tuple[str, ...]
    phrases: tuple[str, ...] = ()
    phrase_words: tuple[tuple[str, ...], ...] = ()


def exact_form(text: str) -> str:
    """NFC, case-folded, white space collapsed: what a quoted phrase is compared in."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return _SPACES.sub(" ", folded).strip()


def parse_query(text: str) -> Query:
    """Split ``text`` into quoted phrases and free words (an unclosed quote runs to the end).

    Raises:
        KholuuError: ``search.empty_query`` (usage) when the query has no word to look for.
    """
    phrases = [p for p in (exact_form(m) for m in _PHRASE.findall(text)) if search_form(p)]
    free = _PHRASE.sub(" ", text)
    words = list(dict.fromkeys(query_words(free)))
    phrase_words = tuple(tuple(query_words(p)) for p in phrases)
    if not words and not phrases:
        raise KholuuError(
            f"nothing to search for in {text!r}",
            code="search.empty_query",
            kind=ErrorKind.USAGE,
            params={"query": text},
        )
    return Query(text, tuple(words), tuple(phrases), phrase_words)


class Visibility(Protocol):
    """What a searcher may see: SQL conditions on each kind of hit.

    ``public_index`` is true for the public rule, which the database keeps ahead in
    ``public_record`` (:mod:`repository.catalog.public_records`): the public catalog's search
    reads that table instead of these conditions.
    """

    public_index: bool

    def files(self) -> ColumnElement[bool]:
        """A condition on :class:`FileText` (joined with its :class:`File` and :class:`Aip`)."""
        ...

    def dossiers(self) -> ColumnElement[bool]: ...

    def documents(self) -> ColumnElement[bool]:
        """A condition on :class:`Document` joined with its :class:`Dossier`."""
        ...


class _Everything:
    """Operators: every stored AIP (superseded hồ sơ included: their AIPs are still held)."""

    public_index = False

    def files(self) -> ColumnElement[bool]:
        return true()

    def dossiers(self) -> ColumnElement[bool]:
        return true()

    def documents(self) -> ColumnElement[bool]:
        return true()


EVERYTHING: Visibility = _Everything()


@dataclass(frozen=True)
class SearchHit:
    """One thing found: a file's text (``kind`` file) or a record's title (dossier, document)."""

    kind: str
    aip_id: str
    path: str
    title: str
    snippet: str
    score: float
    file_uuid: str | None = None
    record_code: str | None = None
    method: str | None = None
    language: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class SearchPage:
    query: Query
    hits: list[SearchHit]
    offset: int
    limit: int
    more: bool = False
    engine: str = ""  # the full-text index used: postgresql, fts5 or like
    notes: list[str] = field(default_factory=list)


def search(
    session: Session, query: str, *, limit: int = 20, offset: int = 0, visible: Visibility = EVERYTHING
) -> SearchPage:
    """Records whose title matches, then files whose text does (best first), ``limit`` of them
    from ``offset``, among what ``visible`` allows. Only AIPs that are stored (or degraded) count.

    Raises:
        KholuuError: ``search.empty_query`` when the query has no word.
    """
    parsed = parse_query(query)
    wanted = offset + limit + 1
    hits: list[SearchHit] = []
    for hit in _record_hits(session, parsed, visible):
        hits.append(hit)
        if len(hits) >= wanted:
            break
    engine = _engine(session)
    if len(hits) < wanted:
        for hit in _file_hits(session, parsed, visible, engine):
            hits.append(hit)
            if len(hits) >= wanted:
                break
    page = hits[offset : offset + limit]
    more = len(hits) > offset + limit
    return SearchPage(parsed, _with_titles(session, page), offset, limit, more=more, engine=engine)


# --------------------------------------------------------------------------- files


def text_engine(session: Session, fts_table: str) -> str:
    """How text is searched here: ``postgresql``, ``fts5`` when the SQLite has the FTS5 table
    ``fts_table`` (a name from the code, never from a user), or ``like``."""
    if session.get_bind().dialect.name == "postgresql":
        return "postgresql"
    found = session.execute(
        sql_text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"), {"name": fts_table}
    ).first()
    return "fts5" if found else "like"


def _engine(session: Session) -> str:
    return text_engine(session, "file_text_fts")


def fts5_match(query: Query) -> str:
    """An FTS5 MATCH expression: each word and phrase quoted (they hold letters and digits only)."""
    parts = [f'"{w}"' for w in query.words] + [f'"{" ".join(p)}"' for p in query.phrase_words if p]
    return " AND ".join(parts)


def tsquery_text(query: Query) -> str:
    """A PostgreSQL ``to_tsquery`` expression: every word (AND), each phrase as words in order."""
    parts = list(query.words) + [" <-> ".join(p) for p in query.phrase_words if p]
    return " & ".join(f"({p})" for p in parts)


def _file_select(query: Query, visible: Visibility, engine: str) -> Select[Any]:
    columns = (FileText, File.path, File.aip_path)
    if engine == "postgresql":
        vector: Any = literal_column("file_text.file_text_fts_vector")  # to_tsvector("simple", text_folded)
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), tsquery_text(query))
        score: Any = func.ts_rank(vector, tsquery)
        stmt = select(*columns, score.label("score")).where(vector.op("@@")(tsquery))
    elif engine == "fts5":
        fts = (
            select(literal_column("rowid").label("id"), literal_column("-bm25(file_text_fts)").label("rank"))
            .select_from(sql_text("file_text_fts"))
            .where(literal_column("file_text_fts").op("MATCH")(fts5_match(query)))
            .subquery()
        )
        stmt = select(*columns, fts.c.rank.label("score")).join(fts, fts.c.id == FileText.id)
        score = fts.c.rank
    else:
        padded = " " + FileText.text_folded + " "
        terms = [*query.words, *(" ".join(p) for p in query.phrase_words if p)]
        score = literal_column("0.0")
        stmt = select(*columns, score.label("score")).where(*[padded.like(f"% {t} %") for t in terms])
    return (
        stmt.join(File, File.id == FileText.file_id)
        .join(Aip, Aip.id == FileText.aip_id)
        .where(Aip.status.in_((AipStatus.STORED, AipStatus.DEGRADED)), visible.files())
        .order_by(score.desc(), FileText.id)
    )


def _file_hits(session: Session, query: Query, visible: Visibility, engine: str) -> Iterator[SearchHit]:
    """File hits best first; quoted phrases are checked here, in the text with its diacritics."""
    stmt = _file_select(query, visible, engine)
    batch, start = 100, 0
    while True:
        rows = session.execute(stmt.limit(batch).offset(start)).all()
        for row in rows:
            text: FileText = row[0]
            if not _has_phrases(text.text, query.phrases):
                continue
            yield SearchHit(
                kind="file",
                aip_id=text.aip_id,
                path=row.path or row.aip_path,
                title="",
                snippet=snippet(text.text, query),
                score=round(float(row.score or 0.0), 4),
                file_uuid=text.file_uuid,
                method=text.method,
                language=text.language,
                confidence=text.confidence,
            )
        if len(rows) < batch:
            return
        start += batch


def _has_phrases(text: str, phrases: Sequence[str]) -> bool:
    exact = exact_form(text)
    return all(p in exact for p in phrases)


def snippet(text: str, query: Query, words: int = SNIPPET_WORDS) -> str:
    """About ``words`` words of ``text`` around the first line that holds a match."""
    wanted = set(query.words) | {w for p in query.phrase_words for w in p}
    lines = text.splitlines() or [text]
    for i, line in enumerate(lines):
        tokens = line.split()
        hit = next((j for j, t in enumerate(tokens) if wanted & set(search_form(t).split())), None)
        if hit is None:
            continue
        context = " ".join(lines[max(i - 1, 0) : i + 2]).split()
        offset = len(" ".join(lines[max(i - 1, 0) : i]).split()) + hit
        first = max(offset - words // 3, 0)
        chosen = context[first : first + words]
        return ("… " if first else "") + " ".join(chosen) + (" …" if first + words < len(context) else "")
    tokens = text.split()
    return " ".join(tokens[:words]) + (" …" if len(tokens) > words else "")


# --------------------------------------------------------------------------- records


def _record_hits(session: Session, query: Query, visible: Visibility) -> Iterator[SearchHit]:
    """Hồ sơ, then tài liệu, whose folded title holds every word (and, as written, every phrase)."""
    terms = [*query.words, *(fold(p) for p in query.phrases)]
    stored = Aip.status.in_((AipStatus.STORED, AipStatus.DEGRADED))
    dossiers = (
        select(Dossier)
        .join(Aip, Aip.id == Dossier.aip_id)
        .where(stored, visible.dossiers(), *_title_terms(Dossier.title_search, terms))
        .order_by(Dossier.id)
    )
    for dossier in session.scalars(dossiers):
        if _has_phrases(dossier.title, query.phrases):
            yield _record_hit("dossier", dossier.aip_id, dossier, dossier.code)
    documents = (
        select(Document)
        .join(Document.dossier)
        .join(Aip, Aip.id == Dossier.aip_id)
        .where(stored, visible.documents(), *_title_terms(Document.title_search, terms))
        .order_by(Document.id)
    )
    for document in session.scalars(documents):
        if _has_phrases(document.title, query.phrases):
            yield _record_hit("document", document.dossier.aip_id, document, document.doc_code)


def _title_terms(column: Any, terms: Sequence[str]) -> list[ColumnElement[bool]]:
    return [column.like(f"%{_escape_like(t)}%", escape="\\") for t in terms]


def _record_hit(kind: str, aip_id: str, record: Dossier | Document, code: str) -> SearchHit:
    return SearchHit(
        kind=kind,
        aip_id=aip_id,
        path=record.description_path,
        title=record.title,
        snippet=record.title,
        score=1.0,
        record_code=code,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _with_titles(session: Session, hits: list[SearchHit]) -> list[SearchHit]:
    """File hits get the title of the tài liệu they carry, else of their AIP's hồ sơ."""
    files = [h for h in hits if h.kind == "file"]
    if not files:
        return hits
    documents = dict(
        session.execute(
            select(DocumentFile.file_uuid, Document.title)
            .join(Document, Document.id == DocumentFile.document_id)
            .where(DocumentFile.file_uuid.in_([h.file_uuid for h in files]))
        ).all()
    )
    dossiers = dict(
        session.execute(
            select(Dossier.aip_id, Dossier.title).where(Dossier.aip_id.in_({h.aip_id for h in files}))
        ).all()
    )
    return [
        dataclasses.replace(h, title=documents.get(h.file_uuid or "") or dossiers.get(h.aip_id) or "")
        if h.kind == "file"
        else h
        for h in hits
    ]
