"""Long actions as queued jobs: submitted in the catalog's transaction, run by any worker.

An ingest, an audit batch, a migration or a DIP build is *submitted* (:func:`enqueue`): a ``job``
row says ``queued`` and holds what to do (``options["queued"]``). Where it runs depends on
``[jobs] dispatch`` (:func:`uses_queue`):

* **The queue** (PostgreSQL): the same transaction that writes the row inserts a procrastinate job
  naming it, on the session's own connection, so a submission is queued exactly when the catalog
  says so (a rolled-back request queues nothing). Any number of ``kholuu worker`` processes, on
  any number of machines, take jobs by priority (:mod:`workflows.jobs.worker`).
* **In-process** (SQLite, or ``dispatch = "inline"``): the caller runs :func:`execute` itself
  (the CLI before it answers, the web app on its ingest thread). No queue server.

Either way :func:`execute` runs the job, with the same functions (:data:`RUNNERS`) and the same
envelope (:func:`workflows.jobs.envelope.run_job`), which takes the ``queued`` row over. A job is
*tried* one or more times; each attempt is a row of its own (``attempt``, ``retry_of`` = the first
attempt, whose id the submitter holds), since the envelope's failure model is "roll back and run
again from the start". Before a new attempt the previous one is rolled back if its worker died
(:func:`workflows.jobs.recovery.roll_back_lost`), and an attempt is never made when the previous
one completed (a worker killed after the catalog registration that ends an ingest): no package is
stored twice. A job that fails for a reason that may pass (:func:`retryable`) is tried again up to
``[jobs] max_attempts`` times, then it is ``dead``: the dead letter staff see with its error.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.models import Job, JobStatus
from repository.settings import Settings
from workflows.jobs.deferral import QUEUE_TASK, defer
from workflows.jobs.envelope import Workflow, record_failure
from workflows.jobs.kinds import RUNNERS
from workflows.jobs.outcome import Kind, Outcome, retryable
from workflows.jobs.runner import NullProgress, Progress, _jsonable

log = logging.getLogger("kholuu.jobs")

DEFAULT_QUEUE = "kholuu"
LARGE_QUEUE = "kholuu-large"
"""Ingests larger than ``[jobs] large_ingest_gb``: a worker may be kept for them (``--queue``)."""

FINAL = frozenset({JobStatus.COMPLETED, JobStatus.REFUSED, JobStatus.DEAD})


@dataclass(frozen=True)
class Submission:
    """What to run. ``args`` are JSON values the kind's runner reads; ``priority``: higher first."""

    kind: Workflow
    args: dict[str, Any]
    source: str = ""
    source_name: str = ""
    aip_id: str | None = None
    priority: int = 0
    queue: str = DEFAULT_QUEUE


def uses_queue(settings: Settings) -> bool:
    """Whether submissions go to the queue (PostgreSQL) or run in the asking process."""
    dispatch = settings.jobs.dispatch
    if dispatch == "auto":
        return settings.database_url.startswith("postgresql")
    return dispatch == "queue"


def live_workers(session: Session, settings: Settings) -> int:
    """How many ``kholuu worker`` processes (on any machine) gave a heartbeat within
    ``[jobs] stalled_seconds``: a submission nobody will take must not wait in silence."""
    cutoff = datetime.now(UTC) - timedelta(seconds=settings.jobs.stalled_seconds)
    found = session.execute(
        text("select count(*) from procrastinate_workers where last_heartbeat > :cutoff"), {"cutoff": cutoff}
    ).scalar_one()
    return int(found)


def ingest_priority(size: int, settings: Settings) -> tuple[int, str]:
    """Smaller SIPs first: the priority falls by one with every doubling of the size (a 1 MB SIP
    44, a 100 GB one 27), and a SIP above ``large_ingest_gb`` goes to the large queue."""
    queue = LARGE_QUEUE if size > settings.jobs.large_ingest_gb * 1e9 else DEFAULT_QUEUE
    return 64 - max(size, 1).bit_length(), queue


def enqueue(session: Session, settings: Settings, submission: Submission) -> str:
    """Write the ``queued`` row and, on the queue, the procrastinate job, in the session's
    transaction (the caller commits both or neither). Returns the job's id."""
    job_id = str(uuid.uuid4())
    session.add(
        Job(
            id=job_id,
            kind=submission.kind.value,
            status=JobStatus.QUEUED,
            source=submission.source,
            source_name=submission.source_name,
            aip_id=submission.aip_id,
            started_at=datetime.now(UTC),
            options={"queued": _jsonable(submission.args), "priority": submission.priority},
            attempt=1,
        )
    )
    session.flush()
    if uses_queue(settings):
        defer(session, job_id, priority=submission.priority, queue=submission.queue)
    return job_id


def attempts(session: Session, job_id: str) -> tuple[Job, Job]:
    """The first attempt (the submitted id) and the latest one of a job."""
    first = session.get(Job, job_id)
    if first is None:
        raise LookupError(job_id)
    if first.retry_of is not None:
        first = session.get(Job, first.retry_of) or first
    latest = session.scalars(
        select(Job).where(Job.retry_of == first.id).order_by(Job.attempt.desc()).limit(1)
    ).first()
    return first, latest or first


def execute(
    settings: Settings,
    sessions: sessionmaker[Session],
    job_id: str,
    *,
    progress: Progress | None = None,
    worker_lost: bool = False,
) -> Outcome:
    """Make one attempt at the job ``job_id`` (its first attempt's id), unless it has ended.

    Args:
        worker_lost: the queue says the previous attempt's worker stopped answering: an attempt
            still ``running`` is rolled back (its storage work undone) before a new one starts.
    """
    from workflows.jobs.recovery import roll_back_lost

    while True:
        with sessions() as session:
            first, latest = attempts(session, job_id)
            session.expunge_all()
        if has_ended(latest):
            return Outcome(latest.status)
        if latest.status is not JobStatus.RUNNING:
            break
        if not worker_lost:
            return Outcome(JobStatus.RUNNING)  # another worker has it (a duplicate delivery)
        if not _alive_here(settings, latest):
            roll_back_lost(settings, sessions, latest)
            break
        # The queue took a live worker of this machine for lost (its heartbeat came late): let
        # that attempt end, then carry on from how it ended.
        time.sleep(settings.jobs.heartbeat_seconds)
    run_id = latest.id if latest.status is JobStatus.QUEUED else _next_attempt(sessions, first, latest)
    kind = RUNNERS[Workflow(first.kind)]
    args = dict((first.options or {}).get("queued") or {})
    live = CatalogProgress(sessions, run_id, progress)
    if kind.own_row:
        outcome = kind.run(settings, sessions, run_id, args, live)
    else:
        outcome = _framed(settings, sessions, run_id, kind, args, live)
    live.clear()
    return outcome


def _alive_here(settings: Settings, job: Job) -> bool:
    """Whether the attempt runs in a live process of this machine (its job lock is held). Another
    machine's attempt cannot be seen from here: the queue's word that its worker is lost stands."""
    from workflows.jobs.recovery import is_dead

    return job.hostname == socket.gethostname() and not is_dead(settings.work_dir / f"{job.id}.lock")


def _next_attempt(sessions: sessionmaker[Session], first: Job, latest: Job) -> str:
    run_id = str(uuid.uuid4())
    with sessions.begin() as session:
        session.add(
            Job(
                id=run_id,
                kind=first.kind,
                status=JobStatus.QUEUED,
                source=first.source,
                source_name=first.source_name,
                aip_id=first.aip_id if first.kind != Workflow.INGEST.value else None,
                started_at=datetime.now(UTC),
                options={"queued": (first.options or {}).get("queued") or {}},
                attempt=(latest.attempt or 1) + 1,
                retry_of=first.id,
            )
        )
    return run_id


def _framed(
    settings: Settings,
    sessions: sessionmaker[Session],
    run_id: str,
    kind: Kind,
    args: Mapping[str, Any],
    progress: Progress,
) -> Outcome:
    """Run a workflow that records its own jobs under this row: running, then its result or error."""
    with sessions.begin() as session:
        row = session.get(Job, run_id)
        assert row is not None
        row.status, row.started_at = JobStatus.RUNNING, datetime.now(UTC)
        row.pid, row.hostname = os.getpid(), socket.gethostname()
    try:
        outcome = kind.run(settings, sessions, run_id, args, progress)
    except BaseException as exc:
        record_failure(sessions, run_id, exc)
        return Outcome(_status(sessions, run_id), retryable=retryable(exc))
    with sessions.begin() as session:
        row = session.get(Job, run_id)
        assert row is not None
        row.status, row.ended_at = outcome.status, datetime.now(UTC)
        row.options = {**(row.options or {}), "result": _jsonable(outcome.result)}
    return outcome


def _status(sessions: sessionmaker[Session], run_id: str) -> JobStatus:
    with sessions() as session:
        return session.get_one(Job, run_id).status


def mark_dead(sessions: sessionmaker[Session], job_id: str, attempts_made: int) -> None:
    """The job failed on its last allowed attempt: its latest row becomes the dead letter (its
    error stays as recorded)."""
    with sessions.begin() as session:
        _, latest = attempts(session, job_id)
        if latest.status in (JobStatus.FAILED, JobStatus.INTERRUPTED, JobStatus.RUNNING, JobStatus.QUEUED):
            latest.status = JobStatus.DEAD
            latest.ended_at = latest.ended_at or datetime.now(UTC)
            latest.options = {**(latest.options or {}), "attempts": attempts_made}
            if not latest.error_code:
                latest.error_code = "job.worker_lost"
                latest.error_message = f"the job's worker stopped answering on attempt {attempts_made}"
                latest.error_params = {"attempts": attempts_made}


def note_retry(sessions: sessionmaker[Session], job_id: str) -> None:
    """The latest attempt failed and the queue will try again: say so, for whoever waits."""
    with sessions.begin() as session:
        _, latest = attempts(session, job_id)
        latest.options = {**(latest.options or {}), "retrying": True}


def has_ended(job: Job) -> bool:
    """Whether a queued job's latest attempt is its last: completed, refused, dead, or failed with
    no other attempt coming. (An interrupted attempt on the queue is always tried again or marked
    dead by a worker; a running one whose worker died is too.)"""
    if job.status in FINAL:
        return True
    return job.status is JobStatus.FAILED and not (job.options or {}).get("retrying")


def wait_for(
    sessions: sessionmaker[Session],
    job_id: str,
    *,
    progress: Progress | None = None,
    poll_seconds: float = 0.5,
    timeout: float | None = None,
) -> Job | None:
    """Wait until the job ``job_id`` has ended, showing its steps on ``progress`` as the catalog
    has them; returns its latest attempt, or None when ``timeout`` seconds passed first."""
    shown = NullProgress() if progress is None else progress
    step, done = "", 0
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with sessions() as session:
            _, latest = attempts(session, job_id)
            session.expunge(latest)
        live = latest.progress or {}
        if live.get("step") and (live["step"] != step or int(live.get("done", 0)) < done):
            if step:
                shown.finish()
            step, done = str(live["step"]), 0
            shown.start(step, int(live.get("total", 0)))
        for _ in range(int(live.get("done", 0)) - done):
            shown.advance(str(live.get("item", "")))
        done = max(done, int(live.get("done", 0)))
        if has_ended(latest):
            if step:
                shown.finish()
            return latest
        if deadline is not None and time.monotonic() > deadline:
            return None
        time.sleep(poll_seconds)


def job_counts(session: Session) -> dict[str, int]:
    """How many jobs are in each status (the dashboard's and ``kholuu worker``'s summary)."""
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    return {status.value: count for status, count in rows}


class CatalogProgress:
    """A step's progress written to the job row (at most once a second, and at every new step), so
    that the web page and a waiting ``kholuu ingest`` in other processes can show it; passed on
    to ``inner`` (the terminal bar of an in-process run) as it comes."""

    INTERVAL = 1.0

    def __init__(self, sessions: sessionmaker[Session], job_id: str, inner: Progress | None = None) -> None:
        self.sessions = sessions
        self.job_id = job_id
        self.inner = inner or NullProgress()
        self._state: dict[str, Any] = {"step": "", "done": 0, "total": 0, "item": ""}
        self._written = 0.0
        self._lock = threading.Lock()

    def start(self, label: str, total: int) -> None:
        self.inner.start(label, total)
        with self._lock:
            self._state = {"step": label, "done": 0, "total": total, "item": ""}
        self._write(force=True)

    def advance(self, item: str) -> None:
        self.inner.advance(item)
        with self._lock:
            self._state = {**self._state, "done": self._state["done"] + 1, "item": item}
        self._write()

    def finish(self) -> None:
        self.inner.finish()
        self._write(force=True)

    def clear(self) -> None:
        with self.sessions.begin() as session:
            session.execute(update(Job).where(Job.id == self.job_id).values(progress=None))

    def _write(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written < self.INTERVAL:
            return
        self._written = now
        with self._lock:
            state = dict(self._state)
        try:
            with self.sessions.begin() as session:
                session.execute(update(Job).where(Job.id == self.job_id).values(progress=state))
        except Exception:  # progress is for people; a failed write must never fail the job
            log.warning("job %s: progress not written", self.job_id, exc_info=True)


def source_size(path: Path) -> int:
    """The bytes of a SIP (a file, or a folder's files), for its priority; 0 when unreadable."""
    try:
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:
        return 0


__all__ = [
    "DEFAULT_QUEUE",
    "FINAL",
    "LARGE_QUEUE",
    "QUEUE_TASK",
    "CatalogProgress",
    "Outcome",
    "Submission",
    "attempts",
    "enqueue",
    "execute",
    "has_ended",
    "ingest_priority",
    "job_counts",
    "mark_dead",
    "note_retry",
    "source_size",
    "uses_queue",
    "wait_for",
]
