"""A process killed at any moment (SIGKILL) leaves no half AIP visible and no catalog row that says
stored; the next run cleans up, and a re-run of the same ingest succeeds."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import ocfl
import pytest
from sqlalchemy import select

from repository.catalog.db import make_engine
from repository.catalog.models import Aip, AipStatus, Job, JobStatus, JobStep, StepStatus
from tests.conftest import cli_env

KHOLUU = str(Path(sys.executable).parent / "kholuu")

KILL_POINTS = [
    "quarantine",
    "virus check",
    "format identification",
    "information package creation",
    "storage",
    "catalog registration",
]


def make_sip(root: Path) -> Path:
    """~60 MB in 312 files: big enough that each step lasts long enough to be killed in."""
    sip = root / "sip"
    (sip / "nho").mkdir(parents=True)
    (sip / "lon").mkdir()
    rng = random.Random(458)
    for i in range(300):
        (sip / "nho" / f"van-ban-{i:03d}.txt").write_text(
            f"Văn bản số {i}\n" * rng.randint(5, 50), encoding="utf-8"
        )
    for i in range(12):
        (sip / "lon" / f"ban-quet-{i:02d}.bin").write_bytes(os.urandom(5 << 20))
    return sip


def kholuu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KHOLUU, *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("step", KILL_POINTS)
def test_sigkill_at_any_step(step: str, home: Path, database_url: str, tmp_path: Path) -> None:
    env = cli_env(home, database_url)
    assert kholuu("init", env=env).returncode == 0
    sip = make_sip(tmp_path)
    engine = make_engine(database_url)

    killed = False
    with subprocess.Popen(
        [KHOLUU, "ingest", str(sip), "--json"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as proc:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                running = conn.execute(
                    select(JobStep.name).where(JobStep.status == StepStatus.RUNNING, JobStep.name == step)
                ).first()
            if running:
                proc.send_signal(signal.SIGKILL)
                killed = True
                break
            if proc.poll() is not None:
                break
            time.sleep(0.002)
        _, stderr = proc.communicate()
    assert killed, f"the ingest finished before step {step!r} could be caught: {stderr.decode()}"

    # Right after the kill: nothing says stored, and no half object is visible in storage.
    with engine.connect() as conn:
        assert conn.execute(select(Aip.id).where(Aip.status == AipStatus.STORED)).first() is None
        (job_id,) = conn.execute(select(Job.id)).one()
    root = home / "storage" / "primary" / "ocfl-root"
    for inventory in root.rglob("inventory.json"):
        if inventory.parent.name.startswith("v"):
            continue
        obj = ocfl.Object()
        assert obj.validate(str(inventory.parent)), f"a visible object is not complete: {inventory.parent}"

    # The same ingest again: recovery rolls the dead job back, then the ingest succeeds.
    rerun = kholuu("ingest", str(sip), "--json", env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    payload = json.loads(rerun.stdout)
    assert payload["status"] == "stored"
    with engine.connect() as conn:
        assert conn.execute(select(Job.status).where(Job.id == job_id)).scalar_one() == JobStatus.INTERRUPTED
        stored = conn.execute(select(Aip.id).where(Aip.status == AipStatus.STORED)).scalars().all()
    assert stored == [payload["aip_id"]]
    objects = [p.parent for p in root.rglob("inventory.json") if not p.parent.name.startswith("v")]
    assert [p.name for p in objects] == [payload["aip_id"]]  # the killed job's object, if any, is gone
    assert ocfl.StorageRoot(root=str(root)).validate()
    deposit = home / "storage" / "primary" / "deposit"
    assert not deposit.exists() or list(deposit.iterdir()) == []
    assert sorted(p.name for p in (home / "work").iterdir()) == []
    assert not (home / "quarantine" / job_id).exists()
    engine.dispose()
