"""Ingest throughput on many small files (the complaint users have about other systems): prints
files/s and MB/s for a generated folder SIP, on the embedded default (SQLite + local disk).

    .venv/bin/python bench/bench_ingest.py [--files 2000] [--kb 20]

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

from repository.catalog.db import make_engine, session_factory, upgrade  # noqa: E402
from repository.settings import load_settings  # noqa: E402
from repository.storage.locations import open_locations  # noqa: E402
from workflows.ingest.pipeline import ingest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--kb", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "kholuu.toml").write_text(f'[virus_check]\ndatabase = "{ROOT / "config" / "clamav"}"\n')
        sip = Path(tmp) / "sip"
        for i in range(args.files):
            folder = sip / f"hồ sơ {i // 100:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"văn bản {i:05d}.txt").write_text(
                f"Văn bản số {i}\n" * (args.kb * 64), encoding="utf-8"
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
            f"{result.status.value}: {args.files} files, {total / 1e6:.1f} MB in {took:.1f} s = "
            f"{args.files / took:.0f} files/s, {total / 1e6 / took:.1f} MB/s"
        )


if __name__ == "__main__":
    main()
