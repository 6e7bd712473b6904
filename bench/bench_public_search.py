"""Public catalog search speed on PostgreSQL (issue 13): prints figures, asserts nothing.

    .venv/bin/python bench/bench_public_search.py [--files 1000000] [--words 60] [--runs 20]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--keep]

A fresh schema of the database (``bench_public_<pid>``, dropped at the end unless ``--keep``) is
migrated to head and filled in SQL on the server (``generate_series``; a million files take some
minutes): one AIP per hồ sơ, ten tài liệu per hồ sơ, one payload file per tài liệu with ``--words``
words of OCR text. Titles and texts are drawn from a vocabulary of 3 000 Vietnamese-like tokens, each
stored as written and folded as the ingest folds it (:func:`preservation.planning.text.search_form`).
30 % of the tài liệu titles start with "Quyết định"; one file in 100 000 holds the rare word
"xuyenkhung". Of the hồ sơ 5 % are mode 02 and 5 % mode 03, 1 % are on the restriction list; 2 %
of the tài liệu are mode 03. Then each query is run ``--runs`` times warm through
:func:`repository.catalog.catalog_search.catalog_search` under the public rule
(:data:`workflows.access.public.PUBLIC`), exactly as ``/search`` and ``/api/v1/search`` run it, and
p50 / p95 in ms are printed: with and without the facet counts.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from preservation.planning.text import search_form  # noqa: E402
from repository.catalog.catalog_search import Filters, catalog_search  # noqa: E402
from repository.catalog.db import make_engine, upgrade  # noqa: E402
from workflows.access.public import PUBLIC  # noqa: E402

ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gi", "h", "k", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "s"]
ONSETS += ["t", "th", "tr", "v", "x"]
RHYMES = ["a", "à", "á", "ạ", "ân", "ất", "ăng", "ê", "ệ", "iên", "inh", "ịnh", "ô", "ồng", "ơ", "ư", "ữ"]
RHYMES += ["uy", "ết", "ương", "ước", "oan", "oạch"]
QUERIES: list[tuple[str, str, Filters]] = [
    ("common word", "quyet dinh", Filters()),
    ("rare word", "xuyenkhung", Filters()),
    ("quoted phrase", '"Quyết định"', Filters()),
    ("two words", "uy ban nhan", Filters()),
    ("browse, facet counts", "", Filters()),
    ("common word, one year", "quyet dinh", Filters(year=1990)),
]


def vocabulary(size: int = 3000) -> tuple[list[str], list[str]]:
    rng = random.Random(13)

    def syllable() -> str:
        return rng.choice(ONSETS) + rng.choice(RHYMES)

    # two syllables run together: 3 000 distinct tokens, as many as the syllables Vietnamese uses
    written = sorted({syllable() + syllable() for _ in range(size * 3)})[:size]
    return written, [search_form(w) or "x" for w in written]


#: (step, SQL) filled on the server: rows without words
_SQL = {
    "fonds": "INSERT INTO fonds (id, code, name, status, history, date_range, classification, languages, "
    "backup_regime, notes) SELECT g, 'F' || g, 'Phông số ' || g, 'open', '', '', '', '', false, '' "
    "FROM generate_series(1, 20) g",
    "agencies": "INSERT INTO source_agency (id, organ_id, name, name_search, fonds_id, in_scope, notes) "
    "SELECT g, 'H49.' || lpad(g::text, 2, '0'), 'Cơ quan số ' || g, 'co quan so ' || g, 1 + g % 20, true, '' "
    "FROM generate_series(1, 50) g",
    "aips": "INSERT INTO aip (id, objid, label, status, package_kind, container, source_name, "
    "payload_digest, file_count, payload_bytes, created_at, stored_at, current_version, job_id) "
    "SELECT 'uuid-bench-' || g, 'b' || g, 'bench', 'stored', 'eark', 'directory', 'bench', "
    "repeat('0', 64), 10, 10, now(), now(), 1, 'bench' FROM generate_series(1, {dossiers}) g",
    "files": "INSERT INTO file (id, aip_id, version, uuid, role, aip_path, path, size, sha256, sha512) "
    "SELECT n, 'uuid-bench-' || (1 + (n - 1) / 10), 1, md5(n::text)::uuid::text, 'original', "
    "'representations/rep1/data/' || n || '.pdf', n || '.pdf', 1, repeat('a', 64), repeat('b', 128) "
    "FROM generate_series(1, {documents}) n",
    "document files": "INSERT INTO document_file (id, document_id, file_uuid, path) "
    "SELECT n, n, md5(n::text)::uuid::text, n || '.pdf' FROM generate_series(1, {documents}) n",
    "restrictions": "INSERT INTO access_restriction (id, dossier_id, document_id, decision_number, "
    "decision_date, reason, recorded_at, recorded_by, lifted_decision, lifted_by) "
    "SELECT g, CASE WHEN g % 2 = 0 THEN g * 50 END, CASE WHEN g % 2 = 1 THEN g * 73 END, '1/QĐ', "
    "date '2025-01-01', 'bench', now(), 'bench', '', '' FROM generate_series(1, {restricted}) g",
}
_COPY = {
    "dossier": "id, aip_id, kind, package_type, source, code, organ_id, year, notation, archive_id, "
    "catalog_no, agency_id, fonds_id, title, title_search, maintenance, mode, languages, start_date, "
    "end_date, confidence_level, description_path, elements, received_at, accepted_at, digitized, high_use",
    "document": "id, dossier_id, kind, ordinal, doc_id, doc_code, type_name, code_number, code_notation, "
    "number_search, issued_date, organ_name, title, title_search, maintenance, mode, languages, "
    "confidence_level, description_path, elements",
    "file_text": "id, aip_id, version, file_id, file_uuid, method, language, pages_ocr, truncated, text, "
    "text_folded, note, extracted_at",
}
_INDEXES = {
    "record_fts_dossier_gin": "dossier USING gin (record_fts_vector)",
    "record_fts_document_gin": "document USING gin (record_fts_vector)",
    "file_text_fts_gin": "file_text USING gin (file_text_fts_vector)",
}


class Words:
    def __init__(self) -> None:
        self.written, self.folded = vocabulary()
        self.rng = random.Random(7)

    def draw(self, n: int) -> tuple[str, str]:
        picks = self.rng.choices(range(len(self.written)), k=n)
        return " ".join(self.written[i] for i in picks), " ".join(self.folded[i] for i in picks)


def _dossier_rows(words: Words, dossiers: int) -> Iterator[tuple[object, ...]]:
    now = datetime.now(UTC)
    for g in range(1, dossiers + 1):
        title, folded = words.draw(6)
        agency, year = 1 + g % 50, 1975 + g % 50
        mode = "02" if g % 20 == 3 else "03" if g % 20 == 4 else "01"
        code = f"H49.{agency:02d}.{year}.{g}"
        yield (g, f"uuid-bench-{g}", "hoso", "SIP_hoso", "tt05", code, "", year, "", "", "", agency,
               1 + agency % 20, f"Hồ sơ {title}", f"ho so {folded}", "01", mode, "01", "", "", "02",
               "metadata/descriptive/EAD.xml", "{}", now, now, True, False)  # fmt: skip


def _document_rows(words: Words, documents: int) -> Iterator[tuple[object, ...]]:
    for n in range(1, documents + 1):
        title, folded = words.draw(8)
        if n % 10 < 3:
            title, folded = f"Quyết định {title}", f"quyet dinh {folded}"
        kind = "pic" if n % 20 == 1 else "media" if n % 20 == 2 else "doc"
        mode = "03" if n % 50 == 7 else "01"
        yield (n, 1 + (n - 1) // 10, kind, 1 + (n - 1) % 10, "", f"D.{n}", "02", "", "", "", "", "", title,
               folded, "01", mode, "01", "02", "EAD_doc.xml", "{}")  # fmt: skip


def _text_rows(words: Words, documents: int, count: int) -> Iterator[tuple[object, ...]]:
    now = datetime.now(UTC)
    for n in range(1, documents + 1):
        body, folded = words.draw(count)
        if n % 100_000 == 17:
            body, folded = body + " xuyenkhung", folded + " xuyenkhung"
        uuid = str(UUID(hashlib.md5(str(n).encode()).hexdigest()))
        yield (
            n,
            f"uuid-bench-{1 + (n - 1) // 10}",
            1,
            n,
            uuid,
            "ocr",
            "vie",
            1,
            False,
            body,
            folded,
            "",
            now,
        )


def _copy(engine: Engine, table: str, rows: Iterator[tuple[object, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table} ({_COPY[table]}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def fill(engine: Engine, files: int, count: int) -> None:
    dossiers = max(files // 10, 1)
    documents = dossiers * 10
    sizes = {"dossiers": dossiers, "documents": documents, "restricted": max(dossiers // 50, 1)}
    words = Words()
    with engine.begin() as conn:  # build the full-text indexes once, after the load
        for name in _INDEXES:
            conn.execute(text(f"DROP INDEX {name}"))

    def sql(name: str) -> tuple[str, Callable[[], None]]:
        return name, lambda: _sql(engine, _SQL[name].format(**sizes))

    def index(name: str, on: str) -> tuple[str, Callable[[], None]]:
        return f"index {name}", lambda: _sql(engine, f"CREATE INDEX {name} ON {on}")

    steps: list[tuple[str, Callable[[], None]]] = [
        sql("fonds"),
        sql("agencies"),
        sql("aips"),
        ("hồ sơ", lambda: _copy(engine, "dossier", _dossier_rows(words, dossiers))),
        ("tài liệu", lambda: _copy(engine, "document", _document_rows(words, documents))),
        sql("files"),
        sql("document files"),
        ("file texts", lambda: _copy(engine, "file_text", _text_rows(words, documents, count))),
        sql("restrictions"),
        *[index(name, on) for name, on in _INDEXES.items()],
    ]
    for name, step in steps:
        started = time.perf_counter()
        step()
        print(f"  {name:<30} {time.perf_counter() - started:8.1f} s", flush=True)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def _sql(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement))


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def measure(engine: Engine, runs: int) -> None:
    print(f"\n{'query':<26} {'total':>9} {'p50 ms':>9} {'p95 ms':>9} {'p50 no facets':>14} {'p95':>8}")
    with Session(engine) as session:
        for label, query, filters in QUERIES:
            total = catalog_search(session, query, visible=PUBLIC, filters=filters).total
            full = timed(
                lambda q=query, f=filters: catalog_search(session, q, visible=PUBLIC, filters=f), runs
            )
            bare = timed(
                lambda q=query, f=filters: catalog_search(
                    session, q, visible=PUBLIC, filters=f, facets=False
                ),
                runs,
            )
            print(f"{label:<26} {total:>9,} {full[0]:>9.1f} {full[1]:>9.1f} {bare[0]:>14.1f} {bare[1]:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--words", type=int, default=60, help="words of OCR text per file")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", action="store_true", help="keep the schema (and print its name)")
    parser.add_argument("--schema", help="measure again in a schema an earlier --keep run filled")
    args = parser.parse_args()
    schema = args.schema or f"bench_public_{os.getpid()}"
    admin = make_engine(args.postgres)
    if not args.schema:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(args.postgres, connect_args={"options": f"-csearch_path={schema}"})
    try:
        if not args.schema:
            upgrade(engine)
            print(
                f"filling {args.files:,} files ({args.files // 10:,} hồ sơ) in schema {schema}:", flush=True
            )
            fill(engine, args.files, args.words)
        measure(engine, args.runs)
    finally:
        engine.dispose()
        if not args.keep and not args.schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
