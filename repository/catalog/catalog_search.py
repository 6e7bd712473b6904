"""Search and browse over hồ sơ and tài liệu, with facets: the public catalog's query.

The query language is :func:`repository.catalog.search.parse_query`'s: unquoted words match
without diacritics and case (``quyet dinh`` finds "Quyết định"), every word must match; a quoted
phrase must appear as written, diacritics included (case and spacing aside). An empty query
browses everything visible.

A hồ sơ matches when its description (title, mã hồ sơ) holds every word and phrase. A tài liệu
matches when its description (title, mã tài liệu, số/ký hiệu) does, or when the text of a payload
file carrying it (extracted or OCR text, ``file_text``) does. Both are found through full-text
indexes, never by scanning: PostgreSQL GIN over ``record_fts_vector`` (migration 0008) and
``file_text_fts_vector`` (0007); SQLite FTS5 ``record_fts_*`` and ``file_text_fts``. A quoted
phrase is looked up in the index as its folded words in order, then checked in the text as
written (PostgreSQL ``lower``; SQLite the function ``kholuu_exact``).

What may be seen is the caller's :class:`repository.catalog.search.Visibility`; counts and facets
are computed over visible rows only, in SQL. Functions take a session and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from repository.catalog.catalog_facets import (
    GROUPED,
    RECORD_TYPES,
    FacetValue,
    facet_counts,
    facets_in_one_pass,
    named_facets,
)
from repository.catalog.db import EXACT_FUNCTION
from repository.catalog.file_text import FileText
from repository.catalog.public_records import DOCUMENT, DOSSIER, PublicRecord, facet_lexemes
from repository.catalog.records import Document, DocumentFile, Dossier, Fonds, SourceAgency
from repository.catalog.search import Query, Visibility, fts5_match, parse_query, text_engine, tsquery_text

#: Facets, in the order pages show them.
FACETS = ("type", "fonds", "agency", "year")
#: The record types: a hồ sơ, or a tài liệu of kind doc (văn bản), pic (ảnh), media (phim, âm thanh).
#: Matches counted exactly; past it a search says "more than" and counts no facets.
COUNT_LIMIT = 1_000
#: PostgreSQL: records whose words match a quoted phrase in order, read to find those where it is
#: written as quoted (diacritics). Past them a phrase that matched as written in fewer than
#: COUNT_LIMIT of them is counted from those only (a known bound: docs/catalog.md).
PHRASE_CANDIDATES = 20 * (COUNT_LIMIT + 1)


@dataclass(frozen=True)
class Filters:
    """Facet values a search is narrowed to (None: any)."""

    type: str | None = None
    fonds: str | None = None  # the phông's code
    agency: str | None = None  # the source agency's mã định danh
    year: int | None = None


@dataclass(frozen=True)
class CatalogHit:
    """One record found: ``kind`` is ``dossier`` or ``document`` and ``record`` the row."""

    kind: str
    record: Dossier | Document


@dataclass(frozen=True)
class CatalogPage:
    query: Query | None
    total: int
    hits: list[CatalogHit]
    offset: int
    limit: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    exact: bool = True  # False: more than COUNT_LIMIT matched; total is COUNT_LIMIT + 1, no facets


def _engine(session: Session) -> str:
    return text_engine(session, "record_fts_dossier")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _exact(engine: str, column: Any) -> Any:
    if engine == "postgresql":
        return func.regexp_replace(func.lower(column), r"\s+", " ", "g")
    return getattr(func, EXACT_FUNCTION)(column)


def _phrases(engine: str, columns: Sequence[Any], query: Query) -> list[ColumnElement[bool]]:
    """Each phrase, as written, in one of ``columns``."""
    return [
        or_(*[_exact(engine, c).like(f"%{_escape_like(p)}%", escape="\\") for c in columns])
        for p in query.phrases
    ]


def _index_match(
    engine: str, table: str, id_column: Any, text_column: Any, query: Query
) -> ColumnElement[bool]:
    """``id_column``'s row is in the full-text index ``table`` for every word and phrase."""
    if engine == "postgresql":
        name = "file_text_fts_vector" if table == "file_text" else "record_fts_vector"
        vector: Any = literal_column(f"{table}.{name}")
        matched: ColumnElement[bool] = vector.op("@@")(
            func.to_tsquery(literal_column("'simple'::regconfig"), tsquery_text(query))
        )
        return matched
    if engine == "fts5":
        fts = "file_text_fts" if table == "file_text" else f"record_fts_{table}"
        match: Any = bindparam("match", fts5_match(query), unique=True)
        rows = sql_text(f"SELECT rowid FROM {fts} WHERE {fts} MATCH :match").bindparams(match)
        found: ColumnElement[bool] = id_column.in_(rows.columns(column("rowid", Integer)))
        return found
    padded = " " + text_column + " "
    terms = [*query.words, *(" ".join(p) for p in query.phrase_words if p)]
    return and_(*[padded.like(f"% {_escape_like(t)} %", escape="\\") for t in terms])


def _dossier_match(engine: str, query: Query | None) -> list[ColumnElement[bool]]:
    if query is None:
        return []
    text = Dossier.title_search + " " + func.lower(Dossier.code)
    return [
        _index_match(engine, "dossier", Dossier.id, text, query),
        *_phrases(engine, (Dossier.title, Dossier.code), query),
    ]


def _described(engine: str, query: Query) -> ColumnElement[bool]:
    """A tài liệu whose description holds every word and phrase (the GIN or FTS5 index)."""
    text = Document.title_search + " " + Document.number_search + " " + func.lower(Document.doc_code)
    return and_(
        _index_match(engine, "document", Document.id, text, query),
        *_phrases(engine, (Document.title, Document.doc_code, Document.code_notation), query),
    )


def _in_text(engine: str, query: Query) -> Any:
    """The ids of tài liệu carried by a file whose text holds every word and phrase."""
    return (
        select(DocumentFile.document_id.label("document_id"))
        .join(FileText, FileText.file_uuid == DocumentFile.file_uuid)
        .where(
            _index_match(engine, "file_text", FileText.id, FileText.text_folded, query),
            *_phrases(engine, (FileText.text,), query),
        )
        .distinct()
        .subquery("in_text")
    )


def _parts(session: Session, query: Query | None, filters: Filters, visible: Visibility) -> tuple[Any, Any]:
    """The matching visible hồ sơ and tài liệu: kind, id, type and the facet keys of each.

    Tài liệu come in two disjoint parts, each driven by its own index so that the database can
    stop after the first rows: those whose description matches, and those whose description
    does not but the text of one of their files does.
    """
    engine = _engine(session)
    dossier_columns = (Dossier.fonds_id, Dossier.agency_id, Dossier.year)
    dossiers: Any = select(
        literal("dossier").label("kind"),
        Dossier.id.label("id"),
        literal("dossier").label("type"),
        *dossier_columns,
    ).where(visible.dossiers())
    document_columns = (
        literal("document").label("kind"),
        Document.id.label("id"),
        cast(Document.kind, String).label("type"),
        *dossier_columns,
    )
    dossier_only, document_only = _type_filters(filters.type)
    conditions = _facet_filters(filters)
    dossiers = dossiers.where(*dossier_only, *conditions)
    described = (
        select(*document_columns)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(visible.documents(), *document_only, *conditions)
    )
    if query is None:
        return dossiers, described
    dossiers = dossiers.where(*_dossier_match(engine, query))
    in_text = _in_text(engine, query)
    by_text = (
        select(*document_columns)
        .select_from(in_text)
        .join(Document, Document.id == in_text.c.document_id)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(visible.documents(), not_(_described(engine, query)), *document_only, *conditions)
    )
    return dossiers, described.where(_described(engine, query)).union_all(by_text)


def _type_filters(kind: str | None) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """Conditions on hồ sơ and on tài liệu for the ``type`` facet."""
    if kind is None:
        return [], []
    if kind == "dossier":
        return [], [literal(False)]
    return [literal(False)], [Document.kind == kind]


def _count(session: Session, part: Any, cap: int) -> int:
    """Rows of ``part``, counted up to ``cap`` + 1 (the database stops there)."""
    return int(session.scalar(select(func.count()).select_from(part.limit(cap + 1).subquery())) or 0)


def _facet_filters(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.fonds is not None:
        conditions.append(Dossier.fonds_id.in_(select(Fonds.id).where(Fonds.code == filters.fonds)))
    if filters.agency is not None:
        conditions.append(
            Dossier.agency_id.in_(select(SourceAgency.id).where(SourceAgency.organ_id == filters.agency))
        )
    if filters.year is not None:
        conditions.append(Dossier.year == filters.year)
    return conditions


def catalog_search(
    session: Session,
    text: str,
    *,
    visible: Visibility,
    filters: Filters | None = None,
    offset: int = 0,
    limit: int = 20,
    facets: bool = True,
) -> CatalogPage:
    """Visible hồ sơ and tài liệu matching ``text`` (all of them for an empty text), hồ sơ first,
    each kind in catalog order, ``limit`` from ``offset``; with the total and facet counts.

    Counting stops at :data:`COUNT_LIMIT`: past it the page's ``total`` is ``COUNT_LIMIT + 1``
    (``exact`` False: "more than 10 000") and facets are not counted, so that a query matching
    most of a million records costs what one matching ten thousand does.

    Under a visibility that is kept ahead in ``public_record`` (``visible.public_index``: the
    public rule) the search reads that table alone (:func:`_public_search`).

    Raises:
        KholuuError: ``search.empty_query`` when ``text`` has quotes or signs but no word.
    """
    query = parse_query(text) if text.strip() else None
    if visible.public_index:
        return _public_search(session, query, filters or Filters(), offset, limit, facets)
    if _engine(session) == "postgresql":
        # these queries run in tens of milliseconds: compiling them (JIT) would cost more than it saves
        session.execute(sql_text("SET LOCAL jit = off"))
    dossiers, documents = _parts(session, query, filters or Filters(), visible)
    dossier_total = _count(session, dossiers, COUNT_LIMIT)
    total = dossier_total + (
        _count(session, documents, COUNT_LIMIT - dossier_total) if dossier_total <= COUNT_LIMIT else 0
    )
    exact = total <= COUNT_LIMIT
    counted: dict[str, list[FacetValue]] = {}
    if facets and exact:
        hits_query = union_all(dossiers, select(documents.subquery("documents"))).subquery("hits")
        counted = (
            facets_in_one_pass(session, hits_query)
            if _engine(session) == "postgresql"
            else facet_counts(session, hits_query)
        )
    found: list[CatalogHit] = []
    if offset < dossier_total:
        rows = session.scalars(
            select(Dossier).where(Dossier.id.in_(_ids(dossiers, offset, limit))).order_by(Dossier.id)
        )
        found += [CatalogHit("dossier", d) for d in rows]
    if len(found) < limit and dossier_total <= COUNT_LIMIT:
        start = max(offset - dossier_total, 0)
        rows_ = session.scalars(
            select(Document)
            .where(Document.id.in_(_ids(documents, start, limit - len(found))))
            .order_by(Document.id)
        )
        found += [CatalogHit("document", d) for d in rows_]
    return CatalogPage(query, min(total, COUNT_LIMIT + 1), found, offset, limit, counted, exact=exact)


def _ids(part: Any, offset: int, limit: int) -> Select[Any]:
    """A page of the first :data:`COUNT_LIMIT` + 1 ids of ``part``, in id order (all of them, in
    order, when fewer matched; past the limit, a page of those the database found first)."""
    found = part.limit(COUNT_LIMIT + 1).subquery("part")
    return select(found.c.id).order_by(found.c.id).offset(offset).limit(limit)


# --------------------------------------------------------------------------- the public records

_PUBLIC = PublicRecord.__table__.c
_PUBLIC_TABLE = PublicRecord.__table__
_HIT_COLUMNS = (
    _PUBLIC.kind,
    _PUBLIC.record_id,
    _PUBLIC.type,
    _PUBLIC.fonds_id,
    _PUBLIC.agency_id,
    _PUBLIC.year,
)
_TSQUERY: Any = literal_column("'simple'::regconfig")


def _public_search(
    session: Session, query: Query | None, filters: Filters, offset: int, limit: int, facets: bool
) -> CatalogPage:
    """The search over ``public_record``: one statement finds at most :data:`COUNT_LIMIT` + 1
    matches (their kind, id and facet keys); the total, the facets and the page are made from
    those rows, and only the page's records are read.

    On PostgreSQL the matches come from the GIN index of the record's kind, the facet filters
    inside the same lookup (their lexemes ANDed to the query); the database stops at the limit.
    On PostgreSQL a tài liệu's vector also holds the words of its files' texts (extracted, OCR),
    so a word found only there is the same one lookup: a tài liệu matches when its description
    and its files' texts together hold every word, and a quoted phrase is written as quoted in
    its description or in the text of one of its files. On SQLite tài liệu found by the text of
    a file come last, from the files' FTS5 index, only when the descriptions gave fewer than the
    limit.
    """
    engine = _engine(session)
    if engine == "postgresql":
        session.execute(sql_text("SET LOCAL jit = off"))
        # a plan for these values: psycopg prepares a statement run five times, and PostgreSQL's
        # generic plan for an unknown query and limit builds the whole bitmap of a common word
        session.execute(sql_text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = _public_rows(session, engine, query, filters)
    exact = len(rows) <= COUNT_LIMIT
    rows.sort(key=lambda r: (r.kind, r.record_id))
    counted: dict[str, list[FacetValue]] = {}
    if facets and exact:
        counts: dict[str, dict[Any, int]] = {name: {} for name in GROUPED}
        for row in rows:
            for name in GROUPED:
                value = getattr(row, name)
                if value is not None:
                    counts[name][value] = counts[name].get(value, 0) + 1
        counted = named_facets(session, counts)
    page = rows[offset : offset + limit]
    dossiers = {
        d.id: d for d in session.scalars(select(Dossier).where(Dossier.id.in_(_ids_of(page, DOSSIER))))
    }
    documents = {
        d.id: d for d in session.scalars(select(Document).where(Document.id.in_(_ids_of(page, DOCUMENT))))
    }
    found = [
        CatalogHit("dossier", dossiers[r.record_id])
        if r.kind == DOSSIER
        else CatalogHit("document", documents[r.record_id])
        for r in page
        if r.record_id in (dossiers if r.kind == DOSSIER else documents)
    ]
    return CatalogPage(query, len(rows), found, offset, limit, counted, exact=exact)


def _ids_of(rows: Sequence[Any], kind: int) -> list[int]:
    return [r.record_id for r in rows if r.kind == kind]


def _public_rows(session: Session, engine: str, query: Query | None, filters: Filters) -> list[Any]:
    """At most :data:`COUNT_LIMIT` + 1 matching public records: hồ sơ, then tài liệu by their
    description, then tài liệu by the text of their files (each part only while fewer matched)."""
    ids = _facet_ids(session, filters)
    if ids is None:
        return []  # a phông or agency that does not exist
    fonds_id, agency_id = ids
    kinds = [DOSSIER, DOCUMENT]
    if filters.type is not None:
        kinds = [DOSSIER] if filters.type == "dossier" else [DOCUMENT]
    columns = _facet_columns(filters, fonds_id, agency_id)
    lexemes = facet_lexemes(type=filters.type, fonds_id=fonds_id, agency_id=agency_id, year=filters.year)
    parts: list[Any] = []
    if engine == "postgresql" and (query is not None or lexemes):
        # both kinds from one lookup of the one index, the facets inside it; hồ sơ first is then
        # the order of what was found (all of it when it is under the limit)
        part = select(*_HIT_COLUMNS).where(_public_match(query, lexemes))
        if query is not None and query.phrases:
            # the words in order first, bounded, then the phrase as written per candidate: with
            # the check in the same WHERE its cost made the planner build the whole bitmap of a
            # common phrase (347 ms against 88 ms at a million records)
            candidates = part.limit(PHRASE_CANDIDATES).subquery("candidates")
            record_id = candidates.c.record_id
            part = select(*candidates.c).where(
                case(
                    (candidates.c.kind == DOSSIER, _described_by(engine, DOSSIER, query, record_id)),
                    else_=_described_by(engine, DOCUMENT, query, record_id),
                )
            )
        parts.append(part)
    else:
        for kind in kinds:
            part = select(*_HIT_COLUMNS).where(_PUBLIC.kind == kind, *columns)
            if query is not None:
                part = part.where(_described_by(engine, kind, query))
            parts.append(part)
    if query is not None and DOCUMENT in kinds and engine != "postgresql":
        parts.append(_in_file_text(engine, query, columns))  # PostgreSQL: the words are in the vector
    found: dict[tuple[int, int], Any] = {}
    for part in parts:  # one statement each, stopping as soon as the limit is reached
        for row in session.execute(part.limit(COUNT_LIMIT + 1 - len(found))):
            found[(row.kind, row.record_id)] = row  # a tài liệu in two matching files: once
        if len(found) > COUNT_LIMIT:
            break
    return list(found.values())


def _facet_columns(
    filters: Filters, fonds_id: int | None, agency_id: int | None
) -> list[ColumnElement[bool]]:
    columns = [
        c == v
        for c, v in (
            (_PUBLIC.fonds_id, fonds_id),
            (_PUBLIC.agency_id, agency_id),
            (_PUBLIC.year, filters.year),
        )
        if v is not None
    ]
    if filters.type not in (None, "dossier"):
        columns.append(_PUBLIC.type == filters.type)
    return columns


def _facet_ids(session: Session, filters: Filters) -> tuple[int | None, int | None] | None:
    """The ids of the filters' phông and agency (None: not filtered); None when one does not exist."""
    fonds_id = agency_id = None
    if filters.fonds is not None:
        fonds_id = session.scalar(select(Fonds.id).where(Fonds.code == filters.fonds).limit(1))
        if fonds_id is None:
            return None
    if filters.agency is not None:
        agency_id = session.scalar(
            select(SourceAgency.id).where(SourceAgency.organ_id == filters.agency).limit(1)
        )
        if agency_id is None:
            return None
    return fonds_id, agency_id


def _public_match(query: Query | None, lexemes: Sequence[str]) -> ColumnElement[bool]:
    """PostgreSQL: ``public_record``'s vector holds the query's words and the facet lexemes."""
    terms: list[Any] = []
    if query is not None:
        terms.append(func.to_tsquery(_TSQUERY, tsquery_text(query)))
    if lexemes:
        quoted = " & ".join(f"'{x}'" for x in lexemes)
        terms.append(cast(literal(quoted), TSQUERY))
    tsquery = terms[0]
    for term in terms[1:]:
        tsquery = tsquery.op("&&")(term)
    matched: ColumnElement[bool] = literal_column("public_record.record_fts_vector").op("@@")(tsquery)
    return matched


def _described_by(engine: str, kind: int, query: Query, record_id: Any = None) -> ColumnElement[bool]:
    """A condition on ``public_record``: the record's description holds the query. The words
    through the index (on PostgreSQL they are in :func:`_public_match`; FTS5: the record's id
    among the index's rowids), the phrases checked as written in a subquery per candidate (a join
    or an IN list let the database check every description for the phrase before the limit)."""
    table: Any = Dossier if kind == DOSSIER else Document
    record_id = _PUBLIC.record_id if record_id is None else record_id
    columns = (Dossier.title, Dossier.code) if kind == DOSSIER else _DOCUMENT_TEXTS
    conditions: list[ColumnElement[bool]] = []
    if engine == "fts5":
        name = "dossier" if kind == DOSSIER else "document"
        conditions.append(_index_match(engine, name, record_id, None, query))
    if engine == "like":
        match = _dossier_match(engine, query) if kind == DOSSIER else [_described(engine, query)]
    elif query.phrases:
        match = _phrases(engine, columns, query)
    else:
        return and_(true(), *conditions)
    check: ColumnElement[bool] = select(and_(*match)).where(table.id == record_id).scalar_subquery().is_(True)
    if engine == "postgresql" and kind == DOCUMENT:
        # the vector holds the words of the tài liệu's files too: the phrases as written in its
        # description, or in the text of one of its files
        in_file = (
            select(DocumentFile.id)
            .join(FileText, FileText.file_uuid == DocumentFile.file_uuid)
            .where(DocumentFile.document_id == record_id, *_phrases(engine, (FileText.text,), query))
            .exists()
        )
        check = or_(check, in_file)
    return and_(*conditions, check)


_DOCUMENT_TEXTS = (Document.title, Document.doc_code, Document.code_notation)


def _in_file_text(engine: str, query: Query, columns: list[ColumnElement[bool]]) -> Any:
    """Public tài liệu whose description does not hold the query but the text of a file does:
    driven by the files' index, joined row by row, so that the database stops at the limit."""
    if engine == "postgresql":
        described = and_(_public_match(query, ()), _described_by(engine, DOCUMENT, query))
    else:
        described = _described_by(engine, DOCUMENT, query)
    return (
        select(*_HIT_COLUMNS)
        .select_from(FileText)
        .join(DocumentFile, DocumentFile.file_uuid == FileText.file_uuid)
        .join(_PUBLIC_TABLE, and_(_PUBLIC.kind == DOCUMENT, _PUBLIC.record_id == DocumentFile.document_id))
        .where(
            _index_match(engine, "file_text", FileText.id, FileText.text_folded, query),
            *_phrases(engine, (FileText.text,), query),
            not_(described),
            *columns,
        )
    )


__all__ = [
    "COUNT_LIMIT",
    "FACETS",
    "RECORD_TYPES",
    "CatalogHit",
    "CatalogPage",
    "FacetValue",
    "Filters",
    "catalog_search",
]
