"""What the side-by-side benchmarks share: a whole process timed from start to exit with the peak
of its process tree's resident memory, the machine's load, and the ``METRIC:`` line.

Memory is the sum of the RSS of the process and every descendant, sampled every 50 ms from
``/proc`` (a3m runs a server and client scripts as children; we may run tools), so neither side's
helpers are left out.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    exit_code: int
    output: str


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def metric(what: str, ours: float, reference: float, unit: str) -> str:
    """``METRIC: <what>: ours X UNIT, reference Y UNIT, ratio R`` with R = ours / reference."""
    ratio = ours / reference if reference else float("inf")
    line = f"METRIC: {what}: ours {ours:.2f} {unit}, reference {reference:.2f} {unit}, ratio {ratio:.2f}"
    print(line, flush=True)
    return line


def run(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run ``argv`` to its end; its wall time and the peak RSS of its process tree."""
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}-{time.monotonic_ns()}.log"
    with log.open("w+b") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)
        took = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    log.unlink(missing_ok=True)
    return Run(took, peak / 1e6, proc.returncode, text)


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)  # field 4: ppid
        rss[pid] = int(fields[21]) * page  # field 24: rss in pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total
