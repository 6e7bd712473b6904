"""Search speed (issue 12, Text and OCR): prints figures, asserts nothing.

    .venv/bin/python bench/bench_search.py [--files 20000] [--kb 8] [--postgres URL]

A catalog migrated to head gets ``--files`` synthetic file texts of ``--kb`` KB of Vietnamese-like
syllables each (folded as the ingest folds them), under one AIP. Timed, each query run 20 times
warm, p50 and p95 in ms: ``repository.catalog.search.search`` through its index (SQLite FTS5, or
PostgreSQL's GIN over tsvector with ``--postgres``), and on SQLite the LIKE scan over
``text_folded`` it falls back to without FTS5 (the measurement that chose FTS5).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from preservation.planning.text import search_form  # noqa: E402
from repository.catalog.db import make_engine, upgrade  # noqa: E402
from repository.catalog.file_text import FileText  # noqa: E402
from repository.catalog.models import Aip, AipStatus, File, FileRole  # noqa: E402
from repository.catalog.search import search  # noqa: E402

ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gi", "h", "k", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "s"]
ONSETS += ["t", "th", "tr", "v", "x"]
RHYMES = ["a", "à", "á", "ạ", "ân", "ất", "ăng", "ê", "ệ", "iên", "inh", "ịnh", "ô", "ồng", "ơ", "ư", "ữ"]
RHYMES += ["uy", "ết"]
QUERIES = ["quyet dinh", '"quyết định"', "uy ban nhan dan", "thanh lap 1976", "khong co tu nay"]


def syllables(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(ONSETS) + rng.choice(RHYMES) for _ in range(n))


def fill(engine: Engine, files: int, kb: int) -> None:
    rng = random.Random(12)
    aip_id = f"uuid-{uuid.uuid4()}"
    now = datetime.now(UTC)
    with Session(engine) as s, s.begin():
        s.add(
            Aip(id=aip_id, objid=aip_id, label="bench", status=AipStatus.STORED, package_kind="folder",
                container="directory", source_name="bench", payload_digest="0" * 64, file_count=files,
                payload_bytes=0, created_at=now, stored_at=now, current_version=1, job_id="bench")
        )  # fmt: skip
    words = kb * 1024 // 5
    for start in range(0, files, 1000):
        with Session(engine) as s, s.begin():
            file_rows = []
            for i in range(start, min(start + 1000, files)):
                file_rows.append(
                    {"aip_id": aip_id, "version": 1, "uuid": str(uuid.UUID(int=i)), "role": FileRole.ORIGINAL,
                     "aip_path": f"data/{i}.pdf", "path": f"{i}.pdf", "size": 1, "sha256": "a" * 64,
                     "sha512": "b" * 128}
                )  # fmt: skip
            s.execute(insert(File), file_rows)
            ids = dict(s.execute(text("SELECT uuid, id FROM file WHERE aip_id = :a"), {"a": aip_id}).all())
            rows = []
            for row in file_rows:
                body = syllables(rng, words)
                if rng.random() < 0.01:
                    body += " Quyết định thành lập Ủy ban nhân dân năm 1976"
                rows.append(
                    {"aip_id": aip_id, "version": 1, "file_id": ids[row["uuid"]], "file_uuid": row["uuid"],
                     "method": "ocr", "language": "vie", "confidence": 90.0, "pages": 1, "pages_ocr": 1,
                     "truncated": False, "text": body, "text_folded": search_form(body), "note": "",
                     "extracted_at": now}
                )  # fmt: skip
            s.execute(insert(FileText), rows)


def timed(label: str, run: Callable[[], object], repeat: int = 20) -> None:
    run()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"  {label:<40} p50 {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms")


def bench(engine: Engine) -> None:
    with Session(engine) as s:
        for q in QUERIES:
            timed(f"search {q!r} (index)", lambda q=q: search(s, q, limit=20))
        if engine.dialect.name == "sqlite":
            for q in (QUERIES[0], QUERIES[2], QUERIES[4]):
                like = " AND ".join(
                    f"(' ' || text_folded || ' ') LIKE '% {w} %'" for w in [search_form(q.strip('"'))]
                )
                timed(
                    f"LIKE scan {q!r}",
                    lambda like=like: s.execute(
                        text(f"SELECT id FROM file_text WHERE {like} LIMIT 21")
                    ).all(),
                )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--kb", type=int, default=8)
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.sqlite3"
        engine = make_engine(url)
        upgrade(engine)
        t0 = time.perf_counter()
        fill(engine, args.files, args.kb)
        took = time.perf_counter() - t0
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))  # as autovacuum would: the planner needs the row counts
        print(f"{engine.dialect.name}: {args.files} files of {args.kb} KB text, filled in {took:.1f} s")
        bench(engine)
        engine.dispose()


if __name__ == "__main__":
    main()
