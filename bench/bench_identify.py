"""Format identification side by side (issue 14): our engine as the ingest step calls it, against
a minimal one-file-at-a-time pygfried script and the ``fido`` command line, on the same mixed
files, with PUID agreement.

    .venv/bin/python bench/bench_identify.py [--files 1000] [--rounds 3]

Ours and the pygfried script run in this process, alternating, median of ``--rounds`` (files in
the page cache for both); fido runs once as its own process (it takes seconds). Printed:
``METRIC: identification files/s ...: ours X files/s, reference Y files/s, ratio R`` and the
agreement of the PUIDs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import pygfried  # noqa: E402
from measure import load_average, metric  # noqa: E402
from mixed_sip import make_sip  # noqa: E402

from preservation.formats import UNIDENTIFIED  # noqa: E402
from preservation.identify import IdentificationEngine, get_engine  # noqa: E402
from repository.settings_sections import IdentificationSettings  # noqa: E402
from workflows.ingest.steps import IDENTIFY_BATCH  # noqa: E402


def ours(engine: IdentificationEngine, paths: list[Path]) -> dict[Path, str]:
    """What ``workflows.ingest.steps.identify_files`` does: the configured engine, in batches
    (made once, as the script's pygfried keeps its scanner: both load the signatures once)."""
    out: dict[Path, str] = {}
    for start in range(0, len(paths), IDENTIFY_BATCH):
        found = engine.identify(paths[start : start + IDENTIFY_BATCH])
        out.update({p: ident.chosen.puid for p, ident in found.items()})
    return out


def one_at_a_time(paths: list[Path]) -> dict[Path, str]:
    """The minimal script: ``pygfried.identify`` on each file, its first PRONOM match."""
    out: dict[Path, str] = {}
    for p in paths:
        result = pygfried.identify(str(p), detailed=True)
        matches = [
            m for f in result.get("files", []) for m in f.get("matches", []) if m.get("ns") == "pronom"
        ]
        out[p] = matches[0].get("id", "UNKNOWN") if matches else "UNKNOWN"
    return out


def fido(paths: list[Path], folder: Path) -> tuple[float, dict[Path, str]] | None:
    exe = shutil.which("fido") or str(ROOT / ".venv" / "bin" / "fido")
    if not Path(exe).exists():
        print("fido not found: its comparison is skipped", flush=True)
        return None
    started = time.perf_counter()
    run = subprocess.run(
        [
            exe,
            "-q",
            "-recurse",
            "-matchprintf",
            "%(info.filename)s\t%(info.puid)s\n",
            "-nomatchprintf",
            "%(info.filename)s\tUNKNOWN\n",
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    found: dict[Path, str] = {}
    for line in run.stdout.splitlines():
        name, _, puid = line.rpartition("\t")
        found.setdefault(Path(name), puid.strip() or "UNKNOWN")
    return took, found


def agreement(a: dict[Path, str], b: dict[Path, str], paths: list[Path]) -> float:
    """Percent of files both name the same PUID ("no match" counts as one answer)."""

    def puid(found: dict[Path, str], p: Path) -> str:
        value = found.get(p, "UNKNOWN")
        return "UNKNOWN" if value in (UNIDENTIFIED, "UNKNOWN", "") else value

    return 100.0 * sum(1 for p in paths if puid(a, p) == puid(b, p)) / len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-identify-") as tmp:
        folder = Path(tmp) / "sip"
        make_sip(folder, args.files)
        paths = sorted(p for p in folder.rglob("*") if p.is_file())
        one_at_a_time(paths[:50])  # warm both: signatures loaded, files in the page cache
        engine = get_engine("siegfried", workers=IdentificationSettings().workers)
        ours(engine, paths[:50])
        mine: list[float] = []
        theirs: list[float] = []
        mine_cpu: list[float] = []
        theirs_cpu: list[float] = []
        for _ in range(args.rounds):
            started, cpu = time.perf_counter(), time.process_time()
            our_puids = ours(engine, paths)
            mine.append(time.perf_counter() - started)
            mine_cpu.append(time.process_time() - cpu)
            started, cpu = time.perf_counter(), time.process_time()
            ref_puids = one_at_a_time(paths)
            theirs.append(time.perf_counter() - started)
            theirs_cpu.append(time.process_time() - cpu)
        print(f"{len(paths)} files, {args.rounds} alternating rounds ({load_average()})", flush=True)
        metric(
            f"identification {len(paths)} files vs pygfried one file at a time",
            len(paths) / statistics.median(mine),
            len(paths) / statistics.median(theirs),
            "files/s",
        )
        metric(  # on a loaded machine wall time measures the neighbours too; CPU time does not
            f"identification {len(paths)} files vs pygfried one file at a time, CPU time per file",
            1000 * statistics.median(mine_cpu) / len(paths),
            1000 * statistics.median(theirs_cpu) / len(paths),
            "ms",
        )
        print(f"PUID agreement with the pygfried script: {agreement(our_puids, ref_puids, paths):.1f} %")
        fido_result = fido(paths, folder)
        if fido_result is not None:
            took, fido_puids = fido_result
            metric(
                f"identification {len(paths)} files vs fido command line",
                len(paths) / statistics.median(mine),
                len(paths) / took,
                "files/s",
            )
            print(f"PUID agreement with fido: {agreement(our_puids, fido_puids, paths):.1f} %")


if __name__ == "__main__":
    main()
