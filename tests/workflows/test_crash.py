"""A process killed at any moment (SIGKILL) leaves no half AIP visible and no catalog row that says
stored; the next run cleans up, and a re-run of the same ingest succeeds.

Right after the kill, ``kholuu check --consistency`` names the dead job and ``kholuu job clean``
as its repair; after that repair, and after the re-run, the check is clean.

The ingest runs in a real ``kholuu`` process that kills itself at a named point
(``KHOLUU_KILL_AT``, :data:`workflows.jobs.runner.KILL_AT_ENV`): at the start of a step, or at the
N-th file a step handles; the re-run is the command in-process."""

from __future__ import annotations

import json
import random
import signal
import subprocess
from pathlib import Path

import ocfl
import pytest
from sqlalchemy import select

from repository.catalog.db import make_engine
from repository.catalog.models import Aip, AipStatus, Job, JobStatus, JobStep, StepStatus
from tests.conftest import KHOLUU, cli_env, run_cli
from workflows.jobs.runner import KILL_AT_ENV

# step name, and where in it: "" at its start, "@N" at its N-th file
KILL_POINTS = [
    "quarantine@7",
    "virus check",
    "format identification@7",
    "information package creation",
    "storage",
    "catalog registration",
]


def make_sip(root: Path) -> Path:
    """24 files in two folders, some of them large enough to be written in several blocks."""
    sip = root / "sip"
    (sip / "nho").mkdir(parents=True)
    (sip / "lon").mkdir()
    rng = random.Random(458)
    for i in range(20):
        (sip / "nho" / f"van-ban-{i:03d}.txt").write_text(
            f"Văn bản số {i}\n" * rng.randint(5, 50), encoding="utf-8"
        )
    for i in range(4):
        (sip / "lon" / f"ban-quet-{i:02d}.bin").write_bytes(rng.randbytes(3 << 20))
    return sip


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_at_any_step(point: str, home: Path, database_url: str, tmp_path: Path) -> None:
    step = point.partition("@")[0]
    env = cli_env(home, database_url)
    assert run_cli("init", env=env).returncode == 0
    sip = make_sip(tmp_path)
    engine = make_engine(database_url)

    killed = subprocess.run(
        [KHOLUU, "ingest", str(sip), "--json"],
        env={**env, KILL_AT_ENV: f"in {point}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    with engine.connect() as conn:
        (running,) = conn.execute(select(JobStep.name).where(JobStep.status == StepStatus.RUNNING)).one()
    assert running == step  # the process died inside this step

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

    # The consistency check names the dead job and the one command that repairs everything it left.
    found = run_cli("check", "--consistency", "--json", env=env)
    assert found.returncode == 1, found.stdout + found.stderr
    findings = {(f["code"], f["subject"], f["repair"]) for f in json.loads(found.stdout)["findings"]}
    assert ("consistency.dead_job", job_id, f"kholuu job clean {job_id}") in findings
    assert {repair for _, _, repair in findings} == {f"kholuu job clean {job_id}"}, findings
    assert run_cli("job", "clean", job_id, env=env).returncode == 0
    assert run_cli("check", "--consistency", env=env).returncode == 0

    # The same ingest again: recovery rolls the dead job back, then the ingest succeeds.
    rerun = run_cli("ingest", str(sip), "--json", env=env)
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
    assert run_cli("check", "--consistency", env=env).returncode == 0
    engine.dispose()
