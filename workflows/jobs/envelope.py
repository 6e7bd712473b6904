"""The job envelope: how every long action of Kho Lưu starts, fails and ends.

An ingest, a metadata update (``kholuu aip add-metadata``), a migration (``kholuu migrate``), an
audit run, a storage sync and an export each run inside :func:`run_job`. The envelope gives the
action what it must not build by hand: a ``job`` row (kind, source, process, host), an exclusive
lock that the kernel drops when the process dies, a private working folder ``work/<job>/`` (staging,
fetched copies, tool temporary folders such as ClamAV's), the step runner with its ``job_step``
rows, and the action's own PREMIS agent (:func:`workflow_agent`): a fixity check names the audit, a
queued copy the replication, an export the export, never the ingest.

Failure model: roll back and start again
=========================================

Nothing an action does is visible until its last catalog transaction commits, and that same
transaction ends the job. Whatever stops an action before then, the action is undone and run again
from the start; nothing resumes half-way.

* **An exception** of any kind inside the envelope (a refused submission, a failing tool, a
  storage error, ``OSError`` such as ENOSPC on a full disk, ``KeyboardInterrupt``, or SIGTERM,
  which the envelope turns into :class:`Terminated` while it runs in the main thread): the working
  folder is removed first (it frees the space a full disk needs), the action's storage work is
  rolled back (deposits discarded, an object or version not registered removed: the same code as
  crash recovery; a location that cannot be reached keeps its invisible deposit until the next
  ``storage sync`` discards it, and an object left there is reported by the audit), then the job
  is ended in the catalog as ``failed`` (``refused`` for a submission at fault, ``interrupted``
  for a signal or Ctrl-C) with one ``job_error`` row per cause: the exception and the exceptions
  it was raised while handling, so that when recording a step's failure itself failed, the step's
  error is still named. The exception is then raised again to the caller.
* **A failure while recording the failure** (the catalog itself is full or unreachable): the job
  row cannot be changed, so it still says ``running``, but its lock is released when the envelope
  exits; the next job to start (in this process or another) finds it dead and rolls it back
  (:func:`workflows.jobs.recovery.recover_interrupted`). This is the only way an error leaves a job
  ``running``, and only until the next start.
* **A kill** (SIGKILL, power loss): nothing runs in the process. The kernel drops the lock; the next
  job to start rolls the dead one back: its working folder (and with it any tool temporary folder),
  its deposits, its unregistered object or version, its partial quarantine copy, and marks it
  ``interrupted``. An object in storage that no job and no catalog row explain is reported by the
  audit (``audit.unregistered_object``), never deleted by it.

Deterministic kill points for tests: with ``KHOLUU_KILL_AT=<point>`` in the environment the process
kills itself with SIGKILL when it reaches ``<point>``; the step runner passes ``before <step>`` and
``after <step>`` for every step (``after storage``: written, not registered).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.events import Agent
from repository import __version__
from repository.catalog.models import Job, JobError, JobStatus, JobStep, StepStatus
from repository.settings import Settings
from workflows.jobs.runner import (
    REFUSING_ERRORS,
    NullProgress,
    Progress,
    StepContext,
    StepFailed,
    _jsonable,
    error_records,
    job_error_row,
    kill_point,
)

log = logging.getLogger("kholuu.jobs")

SOFTWARE_NAME = "Kho Lưu"


class Workflow(StrEnum):
    """The workflows that act on the archive's holdings; each is its own PREMIS agent and job kind."""

    INGEST = "ingest"
    UPDATE = "update"
    AUDIT = "audit"
    VERIFY = "verify"
    REPLICATION = "replication"
    EXPORT = "export"
    FETCH = "fetch"
    REBUILD = "rebuild"
    MIGRATION = "migration"
    REINDEX = "reindex"


def workflow_agent(workflow: Workflow) -> Agent:
    """The PREMIS agent of one workflow: Kho Lưu at its version, the workflow named in the note.

    The note is part of the agent's identity (catalog fingerprint, PREMIS ``agentIdentifier``
    suffix), so an auditor reading an event sees which workflow acted, not only which software.
    """
    return Agent(name=SOFTWARE_NAME, version=__version__, note=f"{workflow.value} workflow")


class Terminated(KeyboardInterrupt):
    """SIGTERM received while a job ran: the job ends as ``interrupted`` and is rolled back, as a
    Ctrl-C would end it."""


@dataclass(frozen=True)
class JobSpec:
    """What the job row says about the action before it starts."""

    kind: Workflow
    source: str = ""
    source_name: str = ""
    aip_id: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    quarantine_path: str | None = None


@contextmanager
def job_lock(path: Path) -> Iterator[IO[str]]:
    """An exclusive lock held while the job runs; the kernel drops it when the process dies (even
    by SIGKILL), which is how recovery tells a dead job from a running one."""
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        try:
            yield fh
        finally:
            path.unlink(missing_ok=True)  # before the unlock: a waiting job never locks a stale file
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def run_job(
    settings: Settings,
    sessions: sessionmaker[Session],
    spec: JobSpec,
    *,
    job_id: str | None = None,
    progress: Progress | None = None,
    recover: bool = True,
) -> Iterator[StepContext]:
    """Run the body as one job; see the module docstring for what happens when it fails.

    Args:
        job_id: the job's id when the caller needs it before (an ingest names its quarantine after it).
        recover: roll back dead jobs first (the default; an audit does it itself before its leases).

    The body may end the job itself (an ingest ends it in its registration transaction, or as
    refused); a job still ``running`` when the body returns is ended ``completed``.
    """
    # Imported here: recovery imports the storage layer, which this module's users load anyway.
    from workflows.jobs.recovery import recover_interrupted

    if recover:
        recover_interrupted(settings, sessions)
    job_id = job_id or str(uuid.uuid4())
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    # Lock first, row second: recovery takes a running job whose lock is free for a dead one.
    with job_lock(settings.work_dir / f"{job_id}.lock"), _sigterm_as_interrupt():
        ctx = StepContext(
            settings=settings,
            sessions=sessions,
            job_id=job_id,
            software=workflow_agent(spec.kind),
            progress=progress or NullProgress(),
        )
        with sessions.begin() as session:
            _start_row(session, job_id, spec, ctx.clock())
        try:
            yield ctx
        except BaseException as exc:
            shutil.rmtree(ctx.work_dir, ignore_errors=True)
            _end_failed(settings, sessions, ctx, exc)
            raise
        else:
            shutil.rmtree(ctx.work_dir, ignore_errors=True)
            _end_completed(ctx)


def _start_row(session: Session, job_id: str, spec: JobSpec, now: datetime) -> None:
    """Write the job's ``running`` row, or take over the ``queued`` row a submission wrote
    (:mod:`workflows.jobs.queue`): what it was asked to do stays in its options."""
    row = session.get(Job, job_id, with_for_update=True)
    if row is None:
        session.add(
            Job(
                id=job_id,
                kind=spec.kind.value,
                status=JobStatus.RUNNING,
                source=spec.source,
                source_name=spec.source_name,
                aip_id=spec.aip_id,
                started_at=now,
                pid=os.getpid(),
                hostname=socket.gethostname(),
                quarantine_path=spec.quarantine_path,
                options=_jsonable(spec.options),
            )
        )
        return
    if row.status is not JobStatus.QUEUED:
        raise RuntimeError(f"job {job_id} is {row.status.value}, not queued: it cannot start")
    row.status, row.started_at = JobStatus.RUNNING, now
    row.pid, row.hostname = os.getpid(), socket.gethostname()
    row.source = spec.source or row.source
    row.source_name = spec.source_name or row.source_name
    row.aip_id, row.quarantine_path = spec.aip_id, spec.quarantine_path
    row.options = {**(row.options or {}), **_jsonable(spec.options)}


def _end_completed(ctx: StepContext) -> None:
    with ctx.sessions.begin() as session:
        job = session.get(Job, ctx.job_id)
        if job is not None and job.status is JobStatus.RUNNING:
            job.status = JobStatus.COMPLETED
            job.ended_at = ctx.clock()


def _end_failed(
    settings: Settings, sessions: sessionmaker[Session], ctx: StepContext, exc: BaseException
) -> None:
    """Roll back and record; never raises (the caller re-raises ``exc``). A job whose failure cannot
    be recorded stays ``running`` with a free lock, for recovery at the next start."""
    from workflows.jobs.recovery import roll_back_storage

    try:
        with sessions() as session:
            job = session.get(Job, ctx.job_id)
            if job is None or job.status is not JobStatus.RUNNING:
                return  # the body ended the job itself (a refused ingest, a failed step it reported)
            session.expunge(job)
        try:
            if not roll_back_storage(settings, sessions, job):
                log.warning("job %s: a location is unreachable; its deposits go at its next sync", job.id)
        except Exception:
            log.exception("job %s: rolling back its storage work failed", job.id)
        record_failure(sessions, ctx.job_id, exc, now=ctx.clock())
    except Exception:
        log.exception(
            "job %s failed with %r; the failure could not be recorded: left to recovery", ctx.job_id, exc
        )


def status_of(exc: BaseException) -> JobStatus:
    """``interrupted`` for a signal or Ctrl-C, ``refused`` for a submission at fault, else ``failed``."""
    cause = exc.cause if isinstance(exc, StepFailed) else exc
    if isinstance(cause, KeyboardInterrupt | SystemExit):
        return JobStatus.INTERRUPTED
    if isinstance(exc, StepFailed):
        return exc.status
    return JobStatus.REFUSED if isinstance(cause, REFUSING_ERRORS) else JobStatus.FAILED


def record_failure(
    sessions: sessionmaker[Session], job_id: str, exc: BaseException, *, now: datetime | None = None
) -> None:
    """End a running job as failed (or refused, interrupted) with one ``job_error`` row per cause.

    The causes are ``exc`` and the exceptions it was raised while handling (``__context__``), most
    recent last: when the catalog write that recorded a step's failure itself failed, the step's
    own error is still named. Rows the step runner already wrote are kept, not repeated.
    """
    now = now or datetime.now(UTC)
    causes = _causes(exc)
    with sessions.begin() as session:
        job = session.get(Job, job_id)
        if job is None or job.status is not JobStatus.RUNNING:
            return
        running = session.scalars(
            select(JobStep).where(JobStep.job_id == job_id, JobStep.status == StepStatus.RUNNING)
        ).all()
        step = running[-1].name if running else "job"
        for row in running:
            row.status = StepStatus.FAILED
            row.ended_at = now
            row.message = str(exc)
        has_rows = session.scalars(select(JobError.id).where(JobError.job_id == job_id)).first() is not None
        first = _primary(exc)
        job.status = status_of(exc)
        job.ended_at = now
        job.error_code = error_code(first)
        job.error_message = f"{type(first).__name__}: {first}" if not str(first) else str(first)
        params = getattr(first, "params", None)
        job.error_params = _jsonable(params) if isinstance(params, dict) else None
        if has_rows:
            return
        for cause in causes:
            session.add_all(job_error_row(job_id, step, record) for record in error_records(cause))


def error_code(exc: BaseException) -> str:
    """The stable code of an exception as the job row shows it."""
    return error_records(exc)[0].code


def _primary(exc: BaseException) -> BaseException:
    """The error the job row names. An error raised *from* another (``raise X from Y``) is the
    deliberate, user-facing translation of it, so it wins; an error raised while handling another
    without saying so (say, the catalog write that recorded a step's failure failing too) is an
    accident, so the original one is named."""
    current: BaseException = exc.cause if isinstance(exc, StepFailed) else exc
    for _ in range(5):
        inner = current.__context__
        if current.__cause__ is not None or current.__suppress_context__ or inner is None:
            break
        current = inner.cause if isinstance(inner, StepFailed) else inner
    return current


def _causes(exc: BaseException) -> list[BaseException]:
    """The first cause first: ``exc`` and what it was raised while handling, without repeats."""
    chain: list[BaseException] = []
    current: BaseException | None = exc.cause if isinstance(exc, StepFailed) else exc
    while current is not None and current not in chain and len(chain) < 5:
        chain.append(current)
        nxt = current.__cause__ or current.__context__
        current = nxt.cause if isinstance(nxt, StepFailed) else nxt
    chain.reverse()
    return chain


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the job runs, SIGTERM raises :class:`Terminated` in the main thread (so the job is
    rolled back and recorded), unless the program installed its own SIGTERM handler (the
    scheduler and the web server stop in their own way) or the job runs in another thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise Terminated(f"signal {signum} (SIGTERM)")

    previous: Callable[[int, FrameType | None], Any] | int | None = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


__all__ = [
    "SOFTWARE_NAME",
    "JobSpec",
    "Terminated",
    "Workflow",
    "error_code",
    "job_lock",
    "kill_point",
    "record_failure",
    "run_job",
    "status_of",
    "workflow_agent",
]
