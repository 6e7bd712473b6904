"""The dead letter on the web: ``/jobs?status=dead`` lists the jobs that failed on every attempt
with the error that ended them, and the job's page says it is dead (docs/deploy.md)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.actor import Role
from repository.catalog.models import Job, JobStatus
from repository.settings import Settings
from tests.web.conftest import client_as, page
from workflows.jobs.envelope import Workflow
from workflows.jobs.queue import Submission, enqueue, mark_dead


def test_dead_jobs_show_their_error(
    settings: Settings, sessions: sessionmaker[Session], staff: dict[Role, str]
) -> None:
    with sessions.begin() as session:
        dead = enqueue(
            session, settings, Submission(Workflow.INGEST, {"source": "/x"}, source_name="ho-so-7")
        )
        waiting = enqueue(
            session, settings, Submission(Workflow.INGEST, {"source": "/y"}, source_name="ho-so-8")
        )
        session.get_one(Job, dead).status = JobStatus.RUNNING
    mark_dead(sessions, dead, 3)
    app: Flask = create_app(settings, sessions)
    client = client_as(app, staff, Role.AUDITOR)
    listed = page(client, "/jobs?status=dead&lang=en")
    rows = listed.xpath("//tr[@data-job]")
    assert [r.get("data-job") for r in rows] == [dead]
    assert "stopped answering on attempt 3" in rows[0].text_content()
    everything = page(client, "/jobs?lang=en")
    assert {r.get("data-job") for r in everything.xpath("//tr[@data-job]")} == {dead, waiting}
    shown = page(client, f"/jobs/{dead}?lang=en")
    assert shown.xpath("//*[@data-dead]") and shown.xpath("//*[@data-error='job.worker_lost']")
