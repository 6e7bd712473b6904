"""What every fault test shares: a small data folder built once, the seeded choice of kill points,
a ``kholuu`` process killed (or held) at a named point, and the checks that follow every fault.

The data folder (built once per session and catalog backend, copied for each test:
:mod:`tests.data_folder`) has two local locations, ``primary`` and ``second`` (both required), and
one AIP of three tiny files (a TIFF, a PNG, a text): a TIFF whose access copy the data folder's
policy asks for (Pillow, well under a second), so that ``kholuu migrate`` has one file to convert.

After every fault, :func:`settled` runs ``kholuu check --consistency`` and, when it finds
anything, expects only what a dead job leaves (repaired by ``kholuu job clean``); the retry then
has to end with a clean check, every AIP the catalog holds verified in every location, and no
AIP lost (:func:`nothing_lost`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select

from repository.catalog.db import make_engine
from repository.catalog.models import Aip, AipStatus
from tests.conftest import KHOLUU, run_cli
from workflows.jobs.runner import KILL_AT_ENV, STOP_AT_ENV

SEED_ENV = "KHOLUU_FAULT_SEED"
KILLS_ENV = "KHOLUU_FAULT_KILLS"
SOAK_ENV = "KHOLUU_SOAK"
DEFAULT_SEED = 15
DEFAULT_KILLS = 10

LOCATIONS = (
    '[[storage.locations]]\nname = "primary"\nrole = "primary"\nbackend = "local"\n'
    'path = "storage/primary"\n\n'
    '[[storage.locations]]\nname = "second"\nrole = "replica"\nbackend = "local"\n'
    'path = "storage/second"\n'
)


def soak() -> bool:
    """Whether this is ``make soak`` (long runs, more kills) rather than CI."""
    return os.environ.get(SOAK_ENV, "") not in ("", "0")


def seed() -> int:
    return int(os.environ.get(SEED_ENV) or DEFAULT_SEED)


def kills() -> int:
    return int(os.environ.get(KILLS_ENV) or (50 if soak() else DEFAULT_KILLS))


def tiny_sip(root: Path, tag: str = "") -> Path:
    """Three small files: a TIFF (the policy's migration), a PNG and a Vietnamese text."""
    sip = root / f"sip{tag}"
    sip.mkdir(parents=True)
    Image.new("RGB", (60, 40), (10, 120, 200)).save(sip / "bản đồ.tif", dpi=(300, 300))
    Image.new("RGB", (30, 20), (0, 90, 0)).save(sip / "logo.png")
    (sip / "công văn.txt").write_text(f"Công văn số {tag or 1}/UBND\n" * 20, encoding="utf-8")
    return sip


def cli_json(env: Mapping[str, str], *args: str, code: int = 0) -> Any:
    done = run_cli(*args, "--json", env=env)
    assert done.returncode == code, done.stdout + done.stderr
    return json.loads(done.stdout)


@dataclass(frozen=True)
class Killed:
    returncode: int
    stdout: str
    stderr: str


def killed_at(env: Mapping[str, str], point: str, *args: str, timeout: float = 120) -> Killed:
    """``kholuu ARGS`` in a real process that SIGKILLs itself at ``point``; it must die there."""
    run = subprocess.run(
        [KHOLUU, *args], env={**env, KILL_AT_ENV: point}, capture_output=True, text=True, timeout=timeout
    )
    assert run.returncode == -signal.SIGKILL, f"not killed at {point!r}: {run.stdout}{run.stderr}"
    return Killed(run.returncode, run.stdout, run.stderr)


class Held:
    """``kholuu ARGS`` in a real process that stops itself (SIGSTOP) at ``point``: the test takes
    a server away while it is held, then :meth:`finish` lets it go on and collects its result."""

    def __init__(self, env: Mapping[str, str], point: str, *args: str, timeout: float = 60) -> None:
        self.proc = subprocess.Popen(
            [KHOLUU, *args],
            env={**env, STOP_AT_ENV: point},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while _state(self.proc.pid) != "T":
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"ended before {point!r} ({self.proc.returncode}): {out}{err}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"never reached {point!r}")
            time.sleep(0.02)

    def finish(self, timeout: float = 120) -> Killed:
        os.kill(self.proc.pid, signal.SIGCONT)
        out, err = self.proc.communicate(timeout=timeout)
        return Killed(self.proc.returncode, out, err)


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[1].split()[0]


def consistency(env: Mapping[str, str]) -> dict[str, Any]:
    done = run_cli("check", "--consistency", "--json", env=env)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["ok"] is (done.returncode == 0)
    return report


def settled(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Right after a fault: what the consistency check finds may only be what a dead job leaves
    (a dead job, its working folder, deposits, quarantine), each repaired by ``kholuu job clean``,
    or a copy a killed sync wrote but did not mark (``kholuu storage sync``); never a stored AIP
    that disagrees with storage. Returns (code, repair) of each finding."""
    report = consistency(env)
    for f in report["findings"]:
        # a copy written by a killed sync whose row still says pending: the next sync marks it
        stale = f["code"] == "consistency.copy_status_stale" and f["repair"] == "kholuu storage sync"
        assert stale or f["repair"].startswith("kholuu job clean "), (f, report)
    return [(f["code"], f["repair"]) for f in report["findings"]]


def clean(env: Mapping[str, str]) -> None:
    report = consistency(env)
    assert report["ok"], json.dumps(report["findings"], ensure_ascii=False, indent=1)


def stored_aips(database_url: str) -> dict[str, int]:
    """AIP id -> current version of every AIP the catalog holds as stored."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Aip.id, Aip.current_version, Aip.status)).all()
    finally:
        engine.dispose()
    assert {status for _, _, status in rows} <= {AipStatus.STORED}, rows
    return {aip_id: version for aip_id, version, _ in rows}


def nothing_lost(env: Mapping[str, str], database_url: str, before: Mapping[str, int]) -> dict[str, int]:
    """Every AIP there was before is still there at its version or later, every one verifies in
    every location, and the consistency check is clean."""
    clean(env)
    after = stored_aips(database_url)
    for aip_id, version in before.items():
        assert after.get(aip_id, 0) >= version, (aip_id, version, after)
    for aip_id in after:
        verified = cli_json(env, "aip", "verify", aip_id)
        assert verified["ok"] is True, verified
    return after


def choose(cases: list[tuple[str, str]], n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` (workflow, point) pairs: round the workflows in turn, so that any 6 consecutive kills
    cover every workflow, each time at a point the seed picks."""
    by_workflow: dict[str, list[str]] = {}
    for workflow, point in cases:
        by_workflow.setdefault(workflow, []).append(point)
    order = list(by_workflow)
    rng.shuffle(order)
    return [(w, rng.choice(by_workflow[w])) for w in (order[i % len(order)] for i in range(n))]
