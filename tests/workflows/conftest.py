"""Fixtures for whole-workflow tests: an initialised data folder (catalog + storage roots)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.models import Job
from repository.settings import Settings
from repository.storage.locations import open_locations
from workflows.ingest.pipeline import IngestOptions, IngestResult, ingest


@pytest.fixture
def ready(settings: Settings, sessions: sessionmaker[Session]) -> tuple[Settings, sessionmaker[Session]]:
    open_locations(settings, initialize=True)
    return settings, sessions


Ingest = Callable[..., IngestResult]


@pytest.fixture
def run_ingest(ready: tuple[Settings, sessionmaker[Session]]) -> Ingest:
    settings, sessions = ready

    def _run(
        path: Path, *, allow_duplicate: bool = False, settings_: Settings | None = None, supersedes: str = ""
    ) -> IngestResult:
        options = IngestOptions(allow_duplicate=allow_duplicate, supersedes=supersedes)
        return ingest(settings_ or settings, sessions, path, options=options)

    return _run


def job_row(sessions: sessionmaker[Session], job_id: str) -> Job:
    with sessions() as s:
        job = s.scalars(select(Job).where(Job.id == job_id)).one()
        _ = job.errors, job.steps
        return job
