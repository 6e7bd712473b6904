"""Storage write/read throughput and memory, local disk and S3: prints figures, asserts nothing.

    .venv/bin/python bench/bench_storage.py [--size-mb 512] [--s3]

With ``--s3`` it needs a server (``eval "$(scripts/s3-start)"``). The figure to watch for S3 is peak
RSS: it must stay bounded by one part (16 MiB by default) whatever the file size, since
``write_atomic`` streams and never holds a whole file.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repository.storage.backend import Backend
from repository.storage.local import LocalBackend


def make_file(path: Path, size: int) -> None:
    block = hashlib.sha512(b"kholuu").digest() * 16384  # 1 MiB
    with path.open("wb") as fh:
        left = size
        while left > 0:
            fh.write(block[: min(left, len(block))])
            left -= len(block)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(backend: Backend, source: Path, label: str) -> None:
    size = source.stat().st_size
    key = f"bench/{uuid.uuid4().hex}.bin"
    started = time.perf_counter()
    with source.open("rb") as fh:
        backend.write_atomic(key, fh)
    write_s = time.perf_counter() - started
    started = time.perf_counter()
    with backend.open_read(key) as fh:
        while fh.read(1 << 20):
            pass
    read_s = time.perf_counter() - started
    backend.delete(key)
    mb = size / 1e6
    print(
        f"{label:<6} {mb:8.0f} MB  write (incl. read-back verification) {mb / write_s:7.1f} MB/s"
        f"  read {mb / read_s:7.1f} MB/s  peak RSS {peak_rss_mb():6.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--s3", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "big.bin"
        make_file(source, args.size_mb * 1024 * 1024)
        print(f"peak RSS before: {peak_rss_mb():.1f} MB")
        measure(LocalBackend(Path(tmp) / "local", "local", create=True), source, "local")
        if args.s3:
            import boto3

            from repository.storage.s3 import S3Backend
            from repository.storage.s3_options import S3Options

            endpoint = os.environ["S3_ENDPOINT_URL"]
            bucket = f"bench-{uuid.uuid4().hex[:12]}"
            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
            measure(S3Backend("s3", S3Options(bucket=bucket, endpoint=endpoint)), source, "s3")


if __name__ == "__main__":
    main()
