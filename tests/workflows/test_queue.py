"""Queued jobs without a worker process: a submission is queued in the catalog's transaction (on
PostgreSQL a procrastinate job beside the row, or neither), the same job function runs it, a
second delivery never runs a finished job again, a lost attempt is rolled back and tried again as
attempt 2, and a job out of attempts is the dead letter staff see. The worker processes
themselves, a kill and S3 are tests/workflows/test_queue_s3.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.models import Aip, Job, JobStatus
from repository.settings import Settings, load_settings
from repository.storage.locations import open_locations
from tests.conftest import SAMPLES, cli_env, run_cli
from workflows.jobs.envelope import Workflow
from workflows.jobs.queue import (
    Submission,
    attempts,
    enqueue,
    execute,
    ingest_priority,
    mark_dead,
    uses_queue,
    wait_for,
)

SIP = SAMPLES / "sip-folder-quyet-dinh"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test's settings with its storage location made (as ``kholuu init`` makes it)."""
    open_locations(settings, initialize=True)
    return settings


def submission(sip: Path = SIP) -> Submission:
    return Submission(
        Workflow.INGEST, {"source": str(sip), "options": {}}, source=str(sip), source_name=sip.name
    )


def queue_settings(settings: Settings) -> Settings:
    return load_settings(
        settings.home,
        environ={},
        overrides={"catalog": {"url": settings.database_url}, "jobs": {"dispatch": "auto"}},
    )


def test_submitted_in_the_catalogs_transaction(settings: Settings, sessions: sessionmaker[Session]) -> None:
    queued = queue_settings(settings)
    on_queue = uses_queue(queued)
    assert on_queue == settings.database_url.startswith("postgresql")
    with pytest.raises(RuntimeError), sessions.begin() as session:  # the request fails after submitting
        enqueue(session, queued, submission())
        raise RuntimeError("the request failed")
    with sessions.begin() as session:
        job_id = enqueue(session, queued, submission())
    with sessions() as session:
        assert session.scalars(select(Job.id)).all() == [job_id]  # the rolled-back one left nothing
        assert session.get_one(Job, job_id).status is JobStatus.QUEUED
        if on_queue:
            rows = session.execute(text("select args, status, priority from procrastinate_jobs")).all()
            assert [(r.args, r.status) for r in rows] == [({"job_id": job_id}, "todo")]


def test_one_attempt_a_second_delivery_and_a_lost_worker(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        job_id = enqueue(session, settings, submission())
    assert execute(settings, sessions, job_id).status is JobStatus.COMPLETED
    assert execute(settings, sessions, job_id, worker_lost=True).status is JobStatus.COMPLETED  # not again
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Aip)) == 1
        assert session.scalar(select(func.count()).select_from(Job)) == 1

    # Another SIP whose worker (on another machine) was lost while it ran: rolled back, tried again.
    other = settings.home / "other-sip"
    other.mkdir()
    (other / "cong-van.txt").write_text("Công văn số 12/UBND\n", encoding="utf-8")
    with sessions.begin() as session:
        lost = enqueue(session, settings, submission(other))
        row = session.get_one(Job, lost)
        row.status, row.hostname, row.pid = JobStatus.RUNNING, "may-khac", 4242
    outcome = execute(settings, sessions, lost, worker_lost=True)
    assert outcome.status is JobStatus.COMPLETED
    with sessions() as session:
        first, latest = attempts(session, lost)
        assert (first.status, first.attempt) == (JobStatus.INTERRUPTED, 1)
        assert (latest.status, latest.attempt, latest.retry_of) == (JobStatus.COMPLETED, 2, lost)
        assert latest.aip_id is not None and session.scalar(select(func.count()).select_from(Aip)) == 2
    ended = wait_for(sessions, lost, timeout=5)
    assert ended is not None and ended.id == latest.id


def test_a_dead_job_shows_its_error(
    settings: Settings, sessions: sessionmaker[Session], database_url: str
) -> None:
    with sessions.begin() as session:
        job_id = enqueue(session, settings, submission())
        session.get_one(Job, job_id).status = JobStatus.RUNNING
    mark_dead(sessions, job_id, 3)
    env = cli_env(settings.home, database_url)
    listed = run_cli("job", "list", "--status", "dead", "--json", env=env)
    assert [(j["job_id"], j["error_code"]) for j in json.loads(listed.stdout)["jobs"]] == [
        (job_id, "job.worker_lost")
    ]
    shown = run_cli("job", "show", job_id, env=env)
    assert "stopped answering on attempt 3" in shown.stdout + shown.stderr


def test_small_ingests_first(settings: Settings) -> None:
    small, medium, large = (ingest_priority(size, settings) for size in (10_000, 10**8, 100 * 10**9))
    assert small[0] > medium[0] > large[0]
    assert (small[1], large[1]) == ("kholuu", "kholuu-large")
