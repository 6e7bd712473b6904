"""Migration when things go wrong: a conversion that fails, a process killed half-way.

A failed conversion makes no copy and, when it was the AIP's only work, no version: a failed
``migration`` event with the tool's stderr and a ``job_error`` row say why, and ``kholuu migrate``
exits 1. A migration killed (SIGKILL, in a real ``kholuu`` process, at a named point:
``KHOLUU_KILL_AT``) leaves the previous version current and byte-identical; the next ``kholuu
migrate`` withdraws what the dead run left in storage and makes the version anew. Only Pillow
conversions here (TIFF and PNG access copies), so each run takes about a second.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from preservation.fixity import digest_stream
from repository.catalog.models import Aip, Event, Job, JobError, JobStatus
from repository.settings import load_settings
from repository.storage.locations import open_locations
from tests.conftest import KHOLUU, cli_env, run_cli
from workflows.jobs.runner import KILL_AT_ENV

FAILING = 'import sys; sys.stderr.write("converter broke: no codec\\n"); sys.exit(1)'


def _json(env: dict[str, str], *args: str, code: int = 0) -> Any:
    r = run_cli(*args, "--json", env=env)
    assert r.returncode == code, r.stdout + r.stderr
    return json.loads(r.stdout)


def ingest_images(home: Path, database_url: str, tmp_path: Path) -> tuple[dict[str, str], str]:
    """A TIFF and a PNG, stored as originals only (normalization is off in tests)."""
    env = cli_env(home, database_url)
    assert run_cli("init", env=env).returncode == 0
    sip = tmp_path / "sip"
    sip.mkdir()
    Image.new("RGB", (90, 60), (10, 120, 200)).save(sip / "bản đồ.tif", dpi=(300, 300))
    Image.new("RGB", (40, 30), (0, 90, 0)).save(sip / "logo.png")
    return env, _json(env, "ingest", str(sip))["aip_id"]


def stored(home: Path, env: dict[str, str], aip_id: str) -> tuple[list[int], dict[str, str]]:
    """The versions storage holds, and version 1 read back file by file (path -> SHA-256)."""
    (location,) = open_locations(load_settings(home, environ=env))
    versions = [v.number for v in location.store.versions(aip_id)]
    first = {}
    for path in location.store.version_state(aip_id, 1):
        with location.store.open_file(aip_id, path, 1) as fh:
            first[path] = digest_stream(fh).sha256
    return versions, first


def current_version(url: str, aip_id: str) -> int:
    engine = create_engine(url)
    with Session(engine) as s:
        version = s.get_one(Aip, aip_id).current_version
    engine.dispose()
    return version


def test_a_failed_conversion_is_recorded_and_makes_no_version(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    env, aip_id = ingest_images(home, database_url, tmp_path)
    (home / "planning").mkdir()
    (home / "planning" / "formats.toml").write_text(
        f"""
[formats."fmt/353".access]
tool = "command"
output_puid = "fmt/43"
output_extension = "jpg"
args = ['{sys.executable}', '-c', '{FAILING}', '{{input}}', '{{output}}']
checks = ["opens"]
timeout = 30.0
""",
        encoding="utf-8",
    )
    report = _json(env, "migrate", "--puid", "fmt/353", code=1)
    (result,) = report["results"]
    assert (result["version"], result["status"], report["ok"]) == (None, "failed", False)
    (failed,) = result["failed"]
    assert failed["file"] == "bản đồ.tif" and "converter broke" in failed["stderr"]
    assert current_version(database_url, aip_id) == 1
    assert stored(home, env, aip_id)[0] == [1]
    engine = create_engine(database_url)
    with Session(engine) as s:
        job = s.get_one(Job, result["job_id"])
        assert (job.kind, job.status, job.error_code) == (
            "migration",
            JobStatus.FAILED,
            "planning.nothing_migrated",
        )
        (error,) = s.scalars(select(JobError).where(JobError.job_id == job.id))
        assert (error.code, error.tool) == ("planning.conversion_failed", "command")
        (event,) = s.scalars(select(Event).where(Event.type == "migration"))
        assert (event.outcome, event.aip_id, event.in_package) == ("failure", aip_id, False)
        assert "converter broke" in event.outcome_detail
    engine.dispose()
    shown = run_cli("job", "show", result["job_id"], env=env)
    assert "converter broke" in shown.stdout

    # the whole run: the PNG's copy is made, the TIFF's fails again; the version made carries both
    # events (the first failure too), and the run still says it failed
    report = _json(env, "migrate", code=1)
    (result,) = report["results"]
    assert (result["version"], len(result["made"]), len(result["failed"])) == (2, 1, 1)
    text = run_cli("migrate", env=env)
    assert text.returncode == 1 and "FAILED" in text.stderr
    engine = create_engine(database_url)
    with Session(engine) as s:
        outcomes = sorted(
            (e.outcome, e.in_package) for e in s.scalars(select(Event).where(Event.type == "migration"))
        )
    engine.dispose()
    assert outcomes[:3] == [("failure", False), ("failure", True), ("failure", True)]
    assert outcomes[3:] == [("success", True)]


def killed(env: dict[str, str], point: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [KHOLUU, "migrate", "--json"],
        env={**env, KILL_AT_ENV: point},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    return run


def _killed_then_finished(home: Path, database_url: str, tmp_path: Path, point: str) -> list[int]:
    env, aip_id = ingest_images(home, database_url, tmp_path)
    _, before = stored(home, env, aip_id)
    killed(env, point)
    assert current_version(database_url, aip_id) == 1  # the catalog still says version 1 is current
    left, first = stored(home, env, aip_id)
    assert first == before  # version 1 byte for byte
    report = _json(env, "migrate")
    (result,) = report["results"]
    assert (result["from_version"], result["version"], len(result["made"])) == (1, 2, 2)
    versions, first = stored(home, env, aip_id)
    assert versions == [1, 2] and first == before
    assert _json(env, "aip", "verify", aip_id)["ok"] is True
    engine = create_engine(database_url)
    with Session(engine) as s:
        kinds = sorted((j.kind, j.status.value) for j in s.scalars(select(Job)))
    engine.dispose()
    assert kinds == [("ingest", "completed"), ("migration", "completed"), ("migration", "interrupted")]
    return left


def test_a_migration_killed_after_publishing_leaves_the_old_version_current(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    """Killed after version 2 was written to storage, before the catalog registered it: recovery
    withdraws it, and the next run makes it again."""
    left = _killed_then_finished(home, database_url, tmp_path, "after storage")
    assert left == [1, 2]  # the dead run had published version 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_migration_killed_between_two_conversions_leaves_the_old_version_current(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    left = _killed_then_finished(home, database_url, tmp_path, "in migration@1")
    assert left == [1]
