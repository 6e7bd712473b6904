"""Ingest throughput on many small files (the complaint users have about other systems): prints
files/s and MB/s for a generated folder SIP, on the embedded default (SQLite + local disk).

    .venv/bin/python bench/bench_ingest.py [--files 2000] [--kb 20] [--documents 0]

With ``--documents N`` the SIP also holds N office documents (a DOCX of the format corpus) and N
TIFF photos, and the ingest runs twice on it, with normalization off and on (``[planning]
normalize``; OCR off both times), so the cost of making and verifying the preservation and access
copies shows beside the plain ingest, as a3m's default (which normalizes) would be compared.

It uses the EICAR-only test signatures for ClamAV, like the test suite; with an official database
the virus check is slower.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from repository.catalog.db import make_engine, session_factory, upgrade  # noqa: E402
from repository.settings import load_settings  # noqa: E402
from repository.storage.locations import open_locations  # noqa: E402
from workflows.ingest.pipeline import ingest  # noqa: E402

DOCX = (
    ROOT.parent
    / "shared/corpus/format-corpus/fully-featured-pdf/PDF-Sample-Document-Fully-Featured-Layout.docx"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--kb", type=int, default=20)
    parser.add_argument("--documents", type=int, default=0)
    args = parser.parse_args()
    modes = [False, True] if args.documents else [False]
    with tempfile.TemporaryDirectory() as tmp:
        sip = Path(tmp) / "sip"
        _make_sip(sip, args.files, args.kb, args.documents)
        for normalize in modes:
            _run(Path(tmp) / f"home-{normalize}", sip, args.files + 2 * args.documents, normalize)


def _make_sip(sip: Path, files: int, kb: int, documents: int) -> None:
    for i in range(files):
        folder = sip / f"hồ sơ {i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"văn bản {i:05d}.txt").write_text(f"Văn bản số {i}\n" * (kb * 64), encoding="utf-8")
    docs = sip / "tài liệu"
    for i in range(documents):
        docs.mkdir(parents=True, exist_ok=True)
        (docs / f"tờ trình {i:03d}.docx").write_bytes(DOCX.read_bytes())
        Image.new("RGB", (1200, 800), (i % 256, 90, 40)).save(docs / f"ảnh {i:03d}.tif", dpi=(300, 300))


def _run(home: Path, sip: Path, count: int, normalize: bool) -> None:
    home.mkdir()
    (home / "kholuu.toml").write_text(
        f'[virus_check]\ndatabase = "{ROOT / "config" / "clamav"}"\n'
        f"[planning]\nocr = false\nnormalize = {str(normalize).lower()}\n"
    )
    total = sum(p.stat().st_size for p in sip.rglob("*") if p.is_file())
    settings = load_settings(home, environ={})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    open_locations(settings, initialize=True)
    started = time.perf_counter()
    result = ingest(settings, session_factory(engine), sip)
    took = time.perf_counter() - started
    print(
        f"normalization {'on ' if normalize else 'off'}: {result.status.value}: {count} files "
        f"({result.derivatives} copies made), {total / 1e6:.1f} MB in {took:.1f} s = "
        f"{count / took:.0f} files/s, {total / 1e6 / took:.1f} MB/s"
    )


if __name__ == "__main__":
    main()
