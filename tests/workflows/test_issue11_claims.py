"""Issue 11 items 3 and 4 inside the ingest workflow: what the duplicate check claims, and what a
re-submission that fails leaves behind. Both catalogs."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.tt05.tables import Tables, load_tables
from repository.catalog.models import Aip, IngestClaim, JobStatus
from repository.catalog.records import Dossier
from repository.settings import Settings
from tests.tt05 import DATA, FILE_CODE, build_sample_sip
from tests.workflows.conftest import Ingest, job_row
from workflows.ingest import claims as ingest_claims


@pytest.fixture
def tables() -> Tables:
    return load_tables()


def _claims(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as s:
        return {c.key.split(":")[0]: c.job_id for c in s.scalars(select(IngestClaim))}


def test_issue11_item03_failed_resubmission_hands_the_record_back(
    run_ingest: Ingest,
    ready: tuple[Settings, sessionmaker[Session]],
    tmp_path: Path,
    tables: Tables,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A --supersedes ingest that fails at registration stores nothing, changes no record, and
    gives the claims it took over back to the AIP that still holds the hồ sơ."""
    _, sessions = ready
    first = run_ingest(build_sample_sip(tmp_path / "one", tables))
    assert first.status is JobStatus.COMPLETED and first.aip_id is not None
    held = _claims(sessions)
    assert held["record"] == first.job_id and held["payload"] == first.job_id

    changed = dict(DATA)
    name = next(iter(changed))
    changed[name] += b" "
    again = build_sample_sip(tmp_path / "two", tables, data=changed)

    def broken(*args: object, **kwargs: object) -> ingest_claims.Superseded:
        raise RuntimeError("disk full while registering")

    monkeypatch.setattr(ingest_claims, "supersede", broken)
    failed = run_ingest(again, supersedes=first.aip_id)
    assert failed.status is JobStatus.FAILED
    assert _claims(sessions) == held
    with sessions() as s:
        assert [a.id for a in s.scalars(select(Aip))] == [first.aip_id]
        (dossier,) = s.scalars(select(Dossier).where(Dossier.code == FILE_CODE)).all()
        assert dossier.superseded_by_id is None

    # without the decision the re-submission is refused, naming the AIP that holds the record
    monkeypatch.undo()
    refused = run_ingest(again)
    assert refused.status is JobStatus.REFUSED
    job = job_row(sessions, refused.job_id)
    assert job.error_code == "ingest.record_held"
    assert job.error_params and job.error_params["aip_id"] == first.aip_id
    assert _claims(sessions) == held
    stored = run_ingest(again, supersedes=first.aip_id)
    assert stored.status is JobStatus.COMPLETED
    assert set(_claims(sessions).values()) == {stored.job_id}


def test_issue11_item04_a_claim_of_a_running_ingest_refuses_the_second(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, tables: Tables
) -> None:
    """The catalog row decides who was first: while one ingest holds the payload, another ingest
    of it is refused before it builds anything, and a refused or failed one holds nothing."""
    settings, sessions = ready
    folder = tmp_path / "giay-to"
    folder.mkdir()
    (folder / "Công văn.txt").write_text("Công văn số 7\n", encoding="utf-8")
    first = run_ingest(folder)
    assert first.status is JobStatus.COMPLETED
    # the first ingest still running (its job row says so and its process holds the job lock):
    # a second one is refused as in progress
    with sessions.begin() as s:
        job = job_row(sessions, first.job_id)
        s.merge(job).status = JobStatus.RUNNING
    with (settings.work_dir / f"{first.job_id}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        second = run_ingest(folder)
    assert second.status is JobStatus.REFUSED
    error = job_row(sessions, second.job_id)
    assert error.error_code == "ingest.duplicate_running"
    assert error.error_params and error.error_params["job_id"] == first.job_id
    assert [s for s in error.steps if s.name == "format identification"] == []
    assert _claims(sessions) == {"payload": first.job_id}
