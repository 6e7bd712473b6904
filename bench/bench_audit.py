"""Fixity audit speed and memory (issues 5 and 14): prints figures, asserts nothing.

    .venv/bin/python bench/bench_audit.py local [--quick]   # whole `kholuu audit --all` vs cat, sha256sum
    .venv/bin/python bench/bench_audit.py s3 [--quick]      # needs eval "$(scripts/s3-start)"
    .venv/bin/python bench/bench_audit.py due [--files 1000000]

local: what an operator runs, timed from outside: ``kholuu audit --all`` in its own process (Python
start, catalog, every key of every copy streamed and hashed, events and report written) against
``cat`` of the same stored files to /dev/null (the read floor) and ``sha256sum`` of them (one
core hashing). The page cache is dropped before each command (``echo 3 >
/proc/sys/vm/drop_caches``, as root; without root the files' pages are evicted with
posix_fadvise instead, and the output says so), and the commands alternate round by round:
this VM's disk varies by ±20 % from one minute to the next, more than the gap being measured,
so one pair proves nothing; the median of the per-round ratios does. Sets: a few large files,
thousands of 64 KiB files, and (full run) one 5 GB file, each in its own data folder, ingested
first through ``kholuu ingest``.

s3: the same command on a data folder whose only location is a bucket on the S3 server, against
a plain boto3 script that GETs the same keys one after the other from the same server (also a
whole process), for a large object and for many small ones.

due: a synthetic SQLite catalog with a million files; the time to pick the due copies with few
and with many due, and the query plan (the (location, last_checked_at) index).

Every comparison prints ``METRIC: <what>: ours X UNIT, reference Y UNIT, ratio R`` (R = ours /
reference for rates, so higher is better; for memory R = ours / the 200 MB target, lower is
better), with the load average, since the machine is shared.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KHOLUU = Path(sys.executable).parent / "kholuu"
DROP_CACHES = Path("/proc/sys/vm/drop_caches")
RSS_TARGET_MB = 200.0


def make_files(folder: Path, count: int, size: int, seed: str) -> None:
    """``count`` files of ``size`` bytes, each different (the AIP stores equal files once)."""
    block = hashlib.sha512(seed.encode()).digest() * (1 << 14)  # 1 MiB
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        with (folder / f"f{i:06d}.bin").open("wb") as fh:
            left = size
            while left > 0:
                chunk = block[: min(left, len(block))]
                fh.write(chunk[:-8] + i.to_bytes(8, "big") if len(chunk) > 8 else chunk)
                left -= len(chunk)


# --------------------------------------------------------------------------- data folders


def _kholuu(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KHOLUU), "--home", str(home), "--lang", "en", *args],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"KHOLUU_HOME": str(home)},
    )


def make_home(home: Path, sip: Path, locations: str = "") -> None:
    """A data folder holding one AIP of ``sip``, ingested by the command line. Characterization,
    normalization and OCR are off: they cost ingest time and change nothing an audit reads."""
    home.mkdir(parents=True)
    (home / "kholuu.toml").write_text(
        f'[virus_check]\ndatabase = "{ROOT / "config" / "clamav"}"\n'
        "[characterization]\nenabled = false\n"
        "[planning]\nocr = false\nnormalize = false\n" + locations,
        encoding="utf-8",
    )
    for args in (("init",), ("ingest", str(sip), "--json")):
        done = _kholuu(home, *args)
        if done.returncode != 0:
            raise SystemExit(f"kholuu {args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def stored_files(home: Path) -> list[str]:
    """Every file of every OCFL object of the home's local location (what an audit reads)."""
    out: list[str] = []
    for declaration in (home / "storage").rglob("0=ocfl_object_1.1"):
        out.extend(sorted(str(p) for p in declaration.parent.rglob("*") if p.is_file()))
    return out


# --------------------------------------------------------------------------- cold runs


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float


@dataclass
class Series:
    label: str
    runs: list[Run] = field(default_factory=list)

    def rates(self, total_mb: float) -> list[float]:
        return [total_mb / r.seconds for r in self.runs]


class Cold:
    """Makes the next read cold: drop the whole page cache (root), else evict the given files."""

    def __init__(self) -> None:
        self.how = "drop_caches"
        try:
            os.sync()
            DROP_CACHES.write_text("3\n")
        except OSError as exc:
            self.how = f"posix_fadvise DONTNEED of the files only (drop_caches refused: {exc.strerror})"

    def __call__(self, files: Sequence[str]) -> None:
        os.sync()
        if self.how == "drop_caches":
            DROP_CACHES.write_text("3\n")
            return
        for name in files:
            fd = os.open(name, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def timed(argv: Sequence[str], *, env: dict[str, str] | None = None, stdin: str | None = None) -> Run:
    """One whole process, from fork to exit, with its peak RSS (``wait4``'s rusage)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} exited {proc.returncode}: {err[-2000:]}")
    return Run(took, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def over_files(tool: str, files: Sequence[str]) -> Callable[[], Run]:
    """``tool`` over every file, through xargs (one process per few thousand names, as a shell would)."""
    names = "\0".join(files)
    return lambda: timed(["sh", "-c", f"xargs -0 {tool} > /dev/null"], stdin=names)


def alternate(
    rounds: int, cold: Cold, files: Sequence[str], commands: dict[str, Callable[[], Run]]
) -> dict[str, Series]:
    """Every command once per round, cold, in an order that rotates from round to round."""
    series = {name: Series(name) for name in commands}
    names = list(commands)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            cold(files)
            series[name].runs.append(commands[name]())
    return series


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def metric(what: str, ours: float, reference: float, unit: str) -> None:
    ratio = ours / reference if reference else float("nan")
    print(f"METRIC: {what}: ours {ours:.1f} {unit}, reference {reference:.1f} {unit}, ratio {ratio:.2f}")


def report(
    label: str, total_mb: float, series: dict[str, Series], ours: str, references: Sequence[str]
) -> None:
    """Medians and ranges of each command, and the median of the per-round ratios of ours to each
    reference (the figure to trust on a noisy disk)."""
    for s in series.values():
        rates = s.rates(total_mb)
        print(
            f"  {label}: {s.label:<10} median {statistics.median(rates):7.1f} MB/s "
            f"[{min(rates):.0f}-{max(rates):.0f}], {statistics.median(r.seconds for r in s.runs):6.2f} s, "
            f"CPU {statistics.median(r.cpu_seconds for r in s.runs):5.2f} s, "
            f"peak RSS {max(r.peak_rss_mb for r in s.runs):5.0f} MB"
        )
    mine = series[ours]
    for ref in references:
        ratios = [
            a.seconds and b.seconds / a.seconds for a, b in zip(mine.runs, series[ref].runs, strict=True)
        ]
        ratio = statistics.median(ratios)
        print(
            f"  {label}: {ours}/{ref} per round: median {100 * ratio:.0f} % "
            f"[{100 * min(ratios):.0f}-{100 * max(ratios):.0f} %]"
        )
        print(
            f"METRIC: {label} {ours} vs {ref}: ours {statistics.median(mine.rates(total_mb)):.1f} MB/s, "
            f"reference {statistics.median(series[ref].rates(total_mb)):.1f} MB/s, ratio {ratio:.2f} "
            f"(median of per-round ratios; {load()})"
        )
    peak = max(r.peak_rss_mb for r in mine.runs)
    metric(f"{label} {ours} peak RSS (reference: the 200 MB target)", peak, RSS_TARGET_MB, "MB")


# --------------------------------------------------------------------------- local


def local_sets(args: argparse.Namespace) -> list[tuple[str, int, int, int]]:
    """(label, files, bytes each, rounds) of each local set."""
    if args.quick:
        return [("large", 2, 256 << 20, 3), ("small", 1500, 64 << 10, 3)]
    sets = [
        ("large", args.large, args.large_mb << 20, args.rounds),
        ("small", args.small, args.small_kb << 10, args.rounds),
    ]
    if args.huge_gb:
        sets.append(("huge", 1, int(args.huge_gb * (1 << 30)), 3))
    return sets


def bench_local(args: argparse.Namespace) -> None:
    cold = Cold()
    print(f"audit, local disk: whole processes, cold ({cold.how}), {load()}")
    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="bench-audit-") as tmp:
        for label, count, size, rounds in local_sets(args):
            sip = Path(tmp) / f"sip-{label}"
            make_files(sip / "data", count, size, label)
            home = Path(tmp) / f"home-{label}"
            started = time.perf_counter()
            make_home(home, sip)
            files = stored_files(home)
            total_mb = sum(os.path.getsize(f) for f in files) / 1e6
            print(
                f"{label}: {count} × {size >> 10} KiB ingested in {time.perf_counter() - started:.0f} s; "
                f"the AIP holds {len(files)} files, {total_mb:.0f} MB; {rounds} rounds"
            )
            audit = [str(KHOLUU), "--home", str(home), "audit", "--all", "--json"]
            series = alternate(
                rounds,
                cold,
                files,
                {
                    "audit": lambda argv=audit: timed(argv),  # type: ignore[misc]
                    "cat": over_files("cat", files),
                    "sha256sum": over_files("sha256sum", files),
                },
            )
            report(f"audit local {label}", total_mb, series, "audit", ["cat", "sha256sum"])
            for folder in (sip, home):
                subprocess.run(["rm", "-rf", str(folder)], check=True)


# --------------------------------------------------------------------------- S3

PLAIN_GET = """
import sys, time, boto3
from botocore.config import Config
endpoint, bucket, *keys = sys.stdin.read().split("\\0")
s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
started = time.perf_counter()
total = 0
for key in keys:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    while block := body.read(1 << 20):
        total += len(block)
print(total, time.perf_counter() - started, file=sys.stderr)
"""


def bench_s3(args: argparse.Namespace) -> None:
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("S3_ENDPOINT_URL")
    if not endpoint:
        raise SystemExit('no S3 server: eval "$(scripts/s3-start)" first')
    s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
    cold = Cold()
    print(f"audit, S3 at {endpoint}: whole processes, cold ({cold.how}), {load()}")
    if args.quick:
        sets = [("large", 1, 256 << 20, 3), ("small", 500, 64 << 10, 3)]
    else:
        sets = [("large", 1, int(args.gb * (1 << 30)), 3), ("small", 2000, 64 << 10, 5)]
    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="bench-audit-s3-") as tmp:
        for label, count, size, rounds in sets:
            bucket = f"bench-audit-{os.urandom(5).hex()}"
            sip = Path(tmp) / f"sip-{label}"
            make_files(sip / "data", count, size, f"s3-{label}")
            home = Path(tmp) / f"home-{label}"
            started = time.perf_counter()
            make_home(
                home,
                sip,
                f'[[storage.locations]]\nname = "primary"\nrole = "primary"\nbackend = "s3"\n'
                f'endpoint = "{endpoint}"\nbucket = "{bucket}"\nprefix = "kholuu"\nrequired = true\n'
                "create_bucket = true\n",
            )
            keys = [
                str(item["Key"])
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="kholuu/")
                for item in page.get("Contents", [])
                if "/ocfl-root/" in str(item["Key"]) and str(item["Key"]).count("/") > 2
            ]
            heads = [s3.head_object(Bucket=bucket, Key=k)["ContentLength"] for k in keys]
            total_mb = sum(heads) / 1e6
            print(
                f"{label}: {count} × {size >> 10} KiB ingested into S3 "
                f"in {time.perf_counter() - started:.0f} s; "
                f"{len(keys)} keys, {total_mb:.0f} MB; {rounds} rounds"
            )
            audit = [str(KHOLUU), "--home", str(home), "audit", "--all", "--json"]
            names = "\0".join([endpoint, bucket, *keys])
            series = alternate(
                rounds,
                cold,
                [],
                {
                    "audit": lambda argv=audit: timed(argv),  # type: ignore[misc]
                    "boto3 GET": lambda names=names: timed(  # type: ignore[misc]
                        [sys.executable, "-c", PLAIN_GET], stdin=names
                    ),
                },
            )
            report(f"audit S3 {label}", total_mb, series, "audit", ["boto3 GET"])
            for folder in (sip, home):
                subprocess.run(["rm", "-rf", str(folder)], check=True)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if objects:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            s3.delete_bucket(Bucket=bucket)


def bench_due(args: argparse.Namespace) -> None:
    from sqlalchemy import insert, text

    from repository.catalog.db import make_engine, session_factory, upgrade
    from repository.catalog.models import Aip, AipStatus, Copy, CopyStatus, File, FileRole
    from workflows.custody.audit import due_copies

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        engine = make_engine(f"sqlite:///{tmp}/big.sqlite3")
        upgrade(engine)
        sessions = session_factory(engine)
        now = datetime.now(UTC)
        per_aip = 20
        aips = args.files // per_aip
        started = time.perf_counter()
        with sessions.begin() as s:
            s.execute(
                insert(Aip),
                [
                    dict(
                        id=f"uuid-{i:08d}",
                        objid=f"o{i}",
                        label="x",
                        status=AipStatus.STORED,
                        package_kind="folder",
                        container="directory",
                        source_name="x",
                        payload_digest="0" * 64,
                        file_count=per_aip,
                        payload_bytes=per_aip * 1000,
                        created_at=now,
                        stored_at=now,
                        current_version=1,
                        job_id="j",
                    )
                    for i in range(aips)
                ],
            )
            for start in range(0, aips, 5000):
                s.execute(
                    insert(File),
                    [
                        dict(
                            aip_id=f"uuid-{i:08d}",
                            version=1,
                            role=FileRole.ORIGINAL,
                            aip_path=f"data/{j}.pdf",
                            size=1000,
                            sha256=f"{i:032x}{j:032x}",
                            sha512=f"{i:064x}{j:064x}",
                        )
                        for i in range(start, min(aips, start + 5000))
                        for j in range(per_aip)
                    ],
                )
            s.execute(
                insert(Copy),
                [
                    dict(
                        aip_id=f"uuid-{i:08d}",
                        version=1,
                        location=loc,
                        status=CopyStatus.STORED,
                        object_path="x",
                        last_checked_at=now - timedelta(days=(i * 7919) % 89),
                    )  # all within a 90-day cycle
                    for i in range(aips)
                    for loc in ("primary", "offsite")
                ],
            )
        print(
            f"synthetic catalog: {aips * per_aip} files, {aips} AIPs, {2 * aips} copies "
            f"({time.perf_counter() - started:.0f} s to build)"
        )
        for due in (100, aips // 2):
            with sessions.begin() as s:
                s.execute(
                    text("update copy set last_checked_at = :t where location = 'primary' and id <= :n"),
                    {"t": now - timedelta(days=400), "n": due * 2},
                )
            took = float("inf")
            for _ in range(3):  # the best of three: the first pays for SQLAlchemy's statement compile
                with sessions() as s:
                    started = time.perf_counter()
                    rows = due_copies(s, location="primary", mode="due", now=now, cycle_days=90, limit=100)
                    took = min(took, time.perf_counter() - started)
            print(f"{due:>7} due copies: picked the {len(rows)} oldest in {took * 1000:.1f} ms")
        with engine.connect() as conn:
            plan = conn.execute(
                text(
                    "explain query plan select id from copy where location = 'primary' and "
                    "(last_checked_at is null or last_checked_at < '2026-01-01') "
                    "order by last_checked_at limit 100"
                )
            ).fetchall()
        print("query plan:", " | ".join(str(r[-1]) for r in plan))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["local", "s3", "due"])
    parser.add_argument("--quick", action="store_true", help="small sets, 3 rounds (make bench-quick)")
    parser.add_argument("--large-mb", type=int, default=512)
    parser.add_argument("--large", type=int, default=4)
    parser.add_argument("--small", type=int, default=4000)
    parser.add_argument("--small-kb", type=int, default=64)
    parser.add_argument("--huge-gb", type=float, default=5.0, help="local: one file this big (0: none)")
    parser.add_argument("--rounds", type=int, default=5, help="local: alternated rounds")
    parser.add_argument("--gb", type=float, default=1.0, help="s3: the large object")
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--tmp", default=None, help="where the test data goes (default: the system temp)")
    args = parser.parse_args()
    {"local": bench_local, "s3": bench_s3, "due": bench_due}[args.what](args)


if __name__ == "__main__":
    main()
