"""The job envelope: each workflow is its own PREMIS agent; an error of any kind ends the job as
failed with an error row naming the cause; a killed job's leftovers go at the next start."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog import queries
from repository.catalog.models import Aip, AuditFinding, Job, JobError, JobStatus
from repository.settings import Settings
from repository.storage.locations import open_locations
from tests.conftest import cli_env, run_cli
from tests.workflows.conftest import Ingest, job_row
from tests.workflows.test_ingest import with_second_location
from workflows.jobs.envelope import SOFTWARE_NAME, Workflow, workflow_agent

KHOLUU = str(Path(sys.executable).parent / "kholuu")


def small_sip(root: Path) -> Path:
    sip = root / "sip"
    sip.mkdir()
    (sip / "Quyết định số 12.txt").write_text("nội dung quyết định", encoding="utf-8")
    (sip / "phu-luc.txt").write_text("phụ lục", encoding="utf-8")
    return sip


def agent_notes(sessions: sessionmaker[Session], aip_id: str, event_type: str) -> list[str]:
    with sessions() as s:
        events = queries.aip_detail(s, aip_id)["events"]
    return [
        a["note"]
        for e in events
        if e["type"] == event_type
        for a in e["agents"]
        if a["name"] == SOFTWARE_NAME
    ]


def ingested_and_metadata(run_ingest: Ingest, tmp_path: Path) -> tuple[str, Path]:
    """An AIP just ingested, and a metadata file to add to it."""
    result = run_ingest(small_sip(tmp_path))
    assert result.status is JobStatus.COMPLETED and result.aip_id
    meta = tmp_path / "muc-luc.txt"
    meta.write_text("mục lục", encoding="utf-8")
    return result.aip_id, meta


def stored_objects(settings: Settings) -> list[str]:
    return sorted(o for loc in open_locations(settings) for o in loc.store.list_objects())


# ------------------------------------------------------------------------------ agents


def test_every_workflow_is_its_own_agent() -> None:
    agents = {w: workflow_agent(w) for w in Workflow}
    assert len({a.note for a in agents.values()}) == len(Workflow)
    assert all(a.name == SOFTWARE_NAME and a.version for a in agents.values())
    assert agents[Workflow.AUDIT].note == "audit workflow"


def test_a_fixity_check_names_the_audit_not_the_ingest(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    from workflows.custody.audit import AuditOptions, run_audit

    settings, sessions = ready
    result = run_ingest(small_sip(tmp_path))
    assert result.status is JobStatus.COMPLETED and result.aip_id
    report = run_audit(settings, sessions, AuditOptions(mode="all"))
    assert report.ok and report.copies
    assert agent_notes(sessions, result.aip_id, "fixity check") == ["audit workflow"]
    assert set(agent_notes(sessions, result.aip_id, "ingestion end")) == {"ingest workflow"}
    with sessions() as s:
        audit_jobs = s.scalars(select(Job).where(Job.kind == "audit")).all()
    assert [(j.status, j.options["run_id"]) for j in audit_jobs] == [(JobStatus.COMPLETED, report.run_id)]


def test_a_queued_copy_names_the_replication(
    ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    from workflows.custody.replication import sync_pending
    from workflows.ingest.pipeline import ingest

    settings, sessions = ready
    mount = tmp_path / "usb-disk"
    two = with_second_location(settings, mount / "kholuu")
    result = ingest(two, sessions, small_sip(tmp_path))
    assert result.aip_id and set(result.pending) == {"second"}
    (mount / "kholuu").mkdir(parents=True)
    (outcome,) = sync_pending(two, sessions)
    assert outcome.outcome == "stored"
    # the ingest's own copies name the ingest; the copy the sync landed names the replication
    assert agent_notes(sessions, result.aip_id, "replication") == [
        "ingest workflow",
        "ingest workflow",
        "replication workflow",
    ]
    with sessions() as s:
        (job,) = s.scalars(select(Job).where(Job.kind == "replication")).all()
    assert job.status is JobStatus.COMPLETED and job.ended_at is not None


def test_an_update_names_the_update_in_the_new_version(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    from preservation.aip_update import PREMIS_REL
    from preservation.premis_read import read_premis
    from workflows.custody.update import add_metadata

    settings, sessions = ready
    aip_id, meta = ingested_and_metadata(run_ingest, tmp_path)
    add_metadata(settings, sessions, aip_id, meta)
    assert agent_notes(sessions, aip_id, "metadata modification") == ["update workflow"]
    store = open_locations(settings)[0].store
    with store.open_file(aip_id, PREMIS_REL, version=2) as fh:
        premis = read_premis(fh.read(), PREMIS_REL)
    modification = [e for e in premis.to_events() if e.type.value == "metadata modification"]
    assert [a.note for e in modification for a in e.agents] == ["update workflow"]


# ------------------------------------------------------------------------------ failures


def test_a_failed_update_writes_its_job_and_error_rows(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    """The only stored copy differs from the catalog: the update stops, the job says failed and
    why, and the AIP still has one version."""
    from workflows.custody.update import UpdateError, add_metadata

    settings, sessions = ready
    aip_id, meta = ingested_and_metadata(run_ingest, tmp_path)
    store = open_locations(settings)[0].store
    content = next(
        p
        for p in (settings.home / "storage" / "primary" / "ocfl-root").rglob("*.txt")
        if "content" in p.parts
    )
    content.chmod(stat.S_IWUSR | stat.S_IRUSR)
    content.write_text("bị sửa", encoding="utf-8")
    with pytest.raises(UpdateError) as caught:
        add_metadata(settings, sessions, aip_id, meta)
    assert caught.value.code == "update.no_source"
    with sessions() as s:
        (job_id,) = s.scalars(select(Job.id).where(Job.kind == "update")).all()
    job = job_row(sessions, job_id)
    assert job.status is JobStatus.FAILED and job.ended_at is not None
    assert job.error_code == "update.no_source"
    # CopySet's typed cause (which copy failed how), then the update's own error raised from it.
    assert [(e.step, e.code) for e in job.errors] == [
        ("job", "storage.no_good_copy"),
        ("job", "update.no_source"),
    ]
    assert [v.number for v in store.versions(aip_id)] == [1]
    assert list(settings.work_dir.iterdir()) == []


def test_ctrl_c_during_an_update_ends_the_job_interrupted(
    run_ingest: Ingest,
    ready: tuple[Settings, sessionmaker[Session]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import workflows.custody.update as update

    settings, sessions = ready
    aip_id, meta = ingested_and_metadata(run_ingest, tmp_path)

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(update, "add_descriptive_metadata", interrupted)
    with pytest.raises(KeyboardInterrupt):
        update.add_metadata(settings, sessions, aip_id, meta)
    with sessions() as s:
        (job_id,) = s.scalars(select(Job.id).where(Job.kind == "update")).all()
    job = job_row(sessions, job_id)
    assert (job.status, job.error_code) == (JobStatus.INTERRUPTED, "job.interrupted")
    assert [e.code for e in job.errors] == ["job.interrupted"]


@pytest.fixture
def catalog_fills_once(engine: Engine) -> Iterator[dict[str, bool]]:
    """Once armed, the next catalog write fails as a full disk would; the ones after it succeed
    (the job's working folder removed by then has freed the space)."""
    state = {"armed": False}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if state["armed"] and statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            state["armed"] = False
            raise OSError(errno.ENOSPC, "No space left on device", "catalog")

    event.listen(engine, "before_cursor_execute", before)
    yield state
    event.remove(engine, "before_cursor_execute", before)


def test_full_disk_during_ingest_fails_the_job_and_stores_nothing(
    ready: tuple[Settings, sessionmaker[Session]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    catalog_fills_once: dict[str, bool],
) -> None:
    """Issue 11 item 9: the disk under the home fills while the submission is copied into
    quarantine, and the catalog write recording that failure fails too. The job must end failed
    (not stay "running"), with an error row naming the full disk, and nothing stored."""
    from preservation.safepath import SafeWriter
    from workflows.ingest.pipeline import ingest

    settings, sessions = ready

    def full(self: SafeWriter, parts: tuple[bytes, ...], *args: Any, **kwargs: Any) -> Any:
        catalog_fills_once["armed"] = True
        raise OSError(errno.ENOSPC, "No space left on device", os.fsdecode(b"/".join(parts)))

    monkeypatch.setattr(SafeWriter, "write_file", full)
    with pytest.raises(OSError) as caught:
        ingest(settings, sessions, small_sip(tmp_path))
    assert caught.value.errno == errno.ENOSPC
    with sessions() as s:
        (job,) = s.scalars(select(Job)).all()
        errors = s.scalars(select(JobError).where(JobError.job_id == job.id)).all()
        assert s.scalars(select(Aip)).all() == []
    assert job.status is JobStatus.FAILED and job.ended_at is not None
    assert job.error_code == "system.no_space"
    assert errors and errors[0].code == "system.no_space" and errors[0].step == "quarantine"
    assert stored_objects(settings) == []
    assert list(settings.work_dir.iterdir()) == []


# ------------------------------------------------------------------------------ kills (subprocess)


def kholuu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KHOLUU, *args], env=env, capture_output=True, text=True, timeout=600)


def killed_ingest(home: Path, database_url: str, tmp_path: Path, point: str) -> dict[str, str]:
    env = cli_env(home, database_url)
    assert run_cli("init", env=env).returncode == 0  # only the killed ingest needs a process of its own
    run = kholuu("ingest", str(small_sip(tmp_path)), "--json", env={**env, "KHOLUU_KILL_AT": point})
    assert run.returncode == -signal.SIGKILL, run.stdout + run.stderr
    return env


def test_an_object_stored_but_not_registered_goes_at_the_next_start(
    home: Path, database_url: str, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    """Issue 11 item 14: killed after the storage step, before registration. The next command
    that starts a job (here a storage sync with nothing to copy) removes the object."""
    env = killed_ingest(home, database_url, tmp_path, "after storage")
    root = home / "storage" / "primary" / "ocfl-root"
    with sessions() as s:
        (job,) = s.scalars(select(Job)).all()
        assert s.scalars(select(Aip)).all() == []
    assert job.status is JobStatus.RUNNING and job.aip_id
    assert [p.parent.name for p in root.rglob("inventory.json") if not p.parent.name.startswith("v")] == [
        job.aip_id
    ]
    sync = run_cli("storage", "sync", "--json", env=env)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert [p for p in root.rglob("inventory.json") if not p.parent.name.startswith("v")] == []
    with sessions() as s:
        assert s.get(Job, job.id).status is JobStatus.INTERRUPTED  # type: ignore[union-attr]
    assert list((home / "work").iterdir()) == []


def test_the_audit_reports_an_object_the_catalog_does_not_know(
    home: Path, database_url: str, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    """An object no job and no catalog row explain (here: the killed job's row was lost, as after a
    catalog restored from an older backup) is a finding of a full audit, and is left in place."""
    env = killed_ingest(home, database_url, tmp_path, "after storage")
    with sessions.begin() as s:
        aip_id = s.scalars(select(Job.aip_id)).one()
        s.execute(delete(Job))
    audit = run_cli("audit", "--all", "--json", env=env)
    data = json.loads(audit.stdout)
    assert data["unregistered_objects"] == [
        {"location": "primary", "object_id": aip_id, "code": "audit.unregistered_object"}
    ]
    with sessions() as s:
        (finding,) = s.scalars(select(AuditFinding)).all()
    assert (finding.aip_id, finding.kind, finding.code) == (
        aip_id,
        "unregistered",
        "audit.unregistered_object",
    )
    root = home / "storage" / "primary" / "ocfl-root"
    assert [p.parent.name for p in root.rglob("inventory.json") if not p.parent.name.startswith("v")] == [
        aip_id
    ]


FAKE_CLAMSCAN = """#!/bin/sh
# clamscan that is killed half-way: makes its temporary folder as clamscan does, then the whole
# process group (kholuu and this scan) dies, as under systemd's stop or the OOM killer.
if [ "$1" = "--version" ]; then echo "ClamAV 1.4.3/27500/Mon Dec  7 09:00:00 2026"; exit 0; fi
dir="${TMPDIR:-/tmp}"
for arg in "$@"; do case "$arg" in --tempdir=*) dir="${arg#--tempdir=}";; esac; done
mkdir -p "$dir/clamav-0123456789abcdef.tmp"
echo unpacked > "$dir/clamav-0123456789abcdef.tmp/part-1"
kill -KILL 0
"""


def test_a_killed_virus_check_leaves_no_temporary_folder(
    home: Path, database_url: str, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    """Issue 11 item 14: ClamAV's temporary folder lives in the job's working folder, which the
    next start removes; nothing is left in the system temporary folder."""
    fake = tmp_path / "clamscan"
    fake.write_text(FAKE_CLAMSCAN)
    fake.chmod(0o755)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    env = cli_env(home, database_url, TMPDIR=system_tmp, KHOLUU_VIRUS_CHECK__CLAMSCAN=fake)
    assert kholuu("init", env=env).returncode == 0
    with subprocess.Popen(
        [KHOLUU, "ingest", str(small_sip(tmp_path)), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the fake kills its process group: this ingest, not pytest
    ) as proc:
        _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == -signal.SIGKILL, stderr
    assert list(system_tmp.iterdir()) == []
    assert list((home / "work").rglob("clamav-*"))  # the kill landed during the scan
    sync = kholuu("storage", "sync", "--json", env=env)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert list((home / "work").iterdir()) == []
    assert list(system_tmp.iterdir()) == []


SIGTERM_DURING_VIRUS_CHECK = """
import os, signal, sys
from pathlib import Path
from repository.catalog.db import make_engine, session_factory
from repository.settings import load_settings
from repository.storage.locations import open_locations
import workflows.ingest.virus_step as virus_step
from workflows.ingest.pipeline import ingest

home, url, sip = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
settings = load_settings(home, environ={}, overrides={"catalog": {"url": url}})
open_locations(settings, initialize=True)
virus_step.virus_check = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGTERM)
result = ingest(settings, session_factory(make_engine(url)), sip)
print(result.job_id, result.status.value)
"""


def test_sigterm_during_an_ingest_ends_the_job_interrupted(
    home: Path, database_url: str, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    """A service manager stopping Kho Lưu (SIGTERM) mid-ingest: the process finishes the job as
    interrupted, with its error row, and stores nothing (by default SIGTERM would end the process
    with the job "running" until the next start)."""
    sip = small_sip(tmp_path)
    run = subprocess.run(
        [sys.executable, "-c", SIGTERM_DURING_VIRUS_CHECK, str(home), database_url, str(sip)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    job_id, status = run.stdout.split()
    assert status == "interrupted"
    job = job_row(sessions, job_id)
    assert job.status is JobStatus.INTERRUPTED
    assert [(e.step, e.code) for e in job.errors] == [("virus check", "job.interrupted")]
    with sessions() as s:
        assert s.scalars(select(Aip)).all() == []
    assert list((home / "work").iterdir()) == []


def test_an_export_is_a_job_and_names_the_export(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    from workflows.access.export import ExportFormat, export_aip

    settings, sessions = ready
    result = run_ingest(small_sip(tmp_path))
    assert result.aip_id
    out = tmp_path / "out" / "bag.zip"
    export_aip(settings, sessions, result.aip_id, out, fmt=ExportFormat.BAGIT, recipient="Lưu trữ tỉnh")
    assert out.is_file()
    assert agent_notes(sessions, result.aip_id, "dissemination") == ["export workflow"]
    with sessions() as s:
        (job,) = s.scalars(select(Job).where(Job.kind == "export")).all()
    assert (job.status, job.source, job.options["format"]) == (JobStatus.COMPLETED, result.aip_id, "bagit")
    assert list(settings.work_dir.iterdir()) == []  # the fetched copy and the bag went with the job


def test_a_dead_audit_run_is_ended_by_the_next_start(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    """An audit whose process died (its lock is free) no longer says "running" once the next job
    starts: the job is interrupted and the audit run failed, naming the dead process."""
    from repository.catalog.models import AuditRun
    from workflows.custody.audit import AuditOptions, run_audit
    from workflows.jobs.recovery import recover_interrupted

    settings, sessions = ready
    assert run_ingest(small_sip(tmp_path)).status is JobStatus.COMPLETED
    report = run_audit(settings, sessions, AuditOptions(mode="all"))
    with sessions.begin() as s:  # as the audit's rows were while it ran, before its process died
        job = s.scalars(select(Job).where(Job.kind == "audit")).one()
        job.status, job.ended_at = JobStatus.RUNNING, None
        run = s.get(AuditRun, report.run_id)
        assert run is not None
        run.status, run.ended_at = "running", None
        job_id = job.id
    assert recover_interrupted(settings, sessions) == [job_id]
    with sessions() as s:
        job = s.get(Job, job_id)
        run = s.get(AuditRun, report.run_id)
        assert job is not None and run is not None
        assert (job.status, job.error_code) == (JobStatus.INTERRUPTED, "job.interrupted")
        assert run.status == "failed" and run.ended_at is not None and "stopped" in run.message
