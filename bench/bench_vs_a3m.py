"""Ingest side by side with a3m 0.8.1 (lightweight Archivematica), on the same data in one run
(issue 14): files/s and peak memory on small mixed files, and MB/s on one large file.

    .venv/bin/python bench/bench_vs_a3m.py --files 100,1000 [--normalization off|on|both] [--big-mb 0]

Each case is two whole processes from start to exit: ``kholuu ingest SIP`` on a fresh data folder
(EICAR-only test signatures for ClamAV, as the tests use; OCR off) and ``a3m --no-input
file:///SIP`` with its own data folder. "Normalization off" is our ``[planning] normalize =
false`` against a3m's ``-p normalize=no -p transcribe_files=no``; "on" is our normalization
against a3m's default (normalization and OCR). The SIPs are made by ``bench/mixed_sip.py`` from
the public corpora; the large file is random bytes. a3m comes from ``bench/a3m-setup``; when it
cannot be installed the reference is skipped with the reason printed, and our figures still are.

Printed: ``METRIC: <case>: ours X UNIT, reference Y UNIT, ratio R`` (R = ours / reference: above
1 is better for files/s and MB/s, below 1 is better for memory).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from measure import Run, load_average, metric, run  # noqa: E402
from mixed_sip import make_sip  # noqa: E402

KHOLUU = ROOT / ".venv" / "bin" / "kholuu"


def a3m_command() -> tuple[str | None, str]:
    """The a3m program, or None and why not."""
    setup = subprocess.run([str(HERE / "a3m-setup")], capture_output=True, text=True, check=False)
    if setup.returncode != 0 or not setup.stdout.strip():
        return None, (setup.stderr.strip() or f"bench/a3m-setup exited {setup.returncode}")
    return setup.stdout.strip().splitlines()[-1], ""


def ours(work: Path, source: Path, *, normalize: bool, refuse_unscanned: bool = True) -> Run:
    home = work / f"kholuu-{os.getpid()}-{len(list(work.iterdir()))}"
    home.mkdir()
    (home / "kholuu.toml").write_text(
        f'[virus_check]\ndatabase = "{ROOT / "config" / "clamav"}"\n'
        f"refuse_unscanned = {str(refuse_unscanned).lower()}\n"
        f"[planning]\nocr = false\nnormalize = {str(normalize).lower()}\n",
        encoding="utf-8",
    )
    init = subprocess.run([str(KHOLUU), "--home", str(home), "init"], capture_output=True, check=False)
    if init.returncode != 0:
        raise SystemExit(f"kholuu init failed: {init.stdout!r} {init.stderr!r}")
    result = run([str(KHOLUU), "--lang", "en", "--home", str(home), "ingest", str(source)])
    shutil.rmtree(home, ignore_errors=True)
    if result.exit_code != 0:
        raise SystemExit(f"kholuu ingest failed (exit {result.exit_code}):\n{result.output[-3000:]}")
    return result


def reference(a3m: str, work: Path, source: Path, *, normalize: bool) -> Run | None:
    data = work / f"a3m-{len(list(work.iterdir()))}"
    data.mkdir()
    argv = [a3m, "--no-input"]
    if not normalize:
        argv += ["-p", "normalize=no", "-p", "transcribe_files=no"]
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    result = run([*argv, source.as_uri()], env=env, cwd=data)
    shutil.rmtree(data, ignore_errors=True)
    if result.exit_code != 0 or "PACKAGE_STATUS_FAILED" in result.output:
        print(f"a3m failed (exit {result.exit_code}):\n{result.output[-2000:]}", flush=True)
        return None
    return result


def compare(label: str, count: int, megabytes: float, mine: Run, theirs: Run | None, why: str) -> None:
    print(
        f"  ours: {mine.seconds:.1f} s, {count / mine.seconds:.1f} files/s, "
        f"{megabytes / mine.seconds:.1f} MB/s, "
        f"peak {mine.peak_rss_mb:.0f} MB ({load_average()})",
        flush=True,
    )
    if theirs is None:
        print(f"  reference a3m skipped: {why}", flush=True)
        return
    print(
        f"  a3m:  {theirs.seconds:.1f} s, {count / theirs.seconds:.1f} files/s, "
        f"{megabytes / theirs.seconds:.1f} MB/s, peak {theirs.peak_rss_mb:.0f} MB ({load_average()})",
        flush=True,
    )
    if count > 1:
        metric(f"ingest {label} files/s", count / mine.seconds, count / theirs.seconds, "files/s")
    else:
        metric(f"ingest {label} MB/s", megabytes / mine.seconds, megabytes / theirs.seconds, "MB/s")
    metric(f"ingest {label} peak RSS", mine.peak_rss_mb, theirs.peak_rss_mb, "MB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", default="100,1000", help="comma-separated SIP sizes (files)")
    parser.add_argument("--normalization", choices=("off", "on", "both"), default="off")
    parser.add_argument("--big-mb", type=int, default=0, help="also one file of this many MB (0: none)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    a3m, why = a3m_command()
    if a3m is None:
        print(f"reference a3m 0.8.1 not available, its figures are skipped: {why}", flush=True)
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.normalization]
    with tempfile.TemporaryDirectory(prefix="bench-a3m-", dir=args.work) as tmp:
        work = Path(tmp)
        print(f"{load_average()} at the start", flush=True)
        for count in [int(n) for n in args.files.split(",") if n]:
            sip = work / f"sip-{count}"
            total = make_sip(sip, count)
            for normalize in modes:
                label = f"{count} mixed files, normalization {'on' if normalize else 'off'}"
                print(f"{label} ({total / 1e6:.1f} MB):", flush=True)
                mine = ours(work, sip, normalize=normalize)
                theirs = reference(a3m, work, sip, normalize=normalize) if a3m else None
                compare(label, count, total / 1e6, mine, theirs, why or "a3m failed (output above)")
            shutil.rmtree(sip)
        if args.big_mb:
            sip = work / "sip-big"
            sip.mkdir()
            with (sip / "video.bin").open("wb") as fh:
                for _ in range(args.big_mb):
                    fh.write(os.urandom(1 << 20))
            size = args.big_mb * (1 << 20) / 1e6
            label = f"one {args.big_mb} MB file, normalization off"
            print(f"{label}:", flush=True)
            # over ClamAV's 4000 MB limit: stored with the "not fully scanned" warning, as a3m does
            mine = ours(work, sip, normalize=False, refuse_unscanned=False)
            theirs = reference(a3m, work, sip, normalize=False) if a3m else None
            compare(label, 1, size, mine, theirs, why or "a3m failed (output above)")
        print(f"{load_average()} at the end", flush=True)


if __name__ == "__main__":
    main()
