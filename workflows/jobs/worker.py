"""``kholuu worker``: take queued jobs from the PostgreSQL job queue (procrastinate) and run them.

The queue is procrastinate's (its tables are made in the catalog's schema by migration
``0013_queue``): a worker takes the job of highest priority with ``FOR UPDATE SKIP LOCKED``, so any
number of workers on any number of machines share it, and it tells the queue it is alive every
``[jobs] heartbeat_seconds``. Every worker also looks, as often, for jobs whose worker has given no
sign of life for ``[jobs] stalled_seconds`` (killed, its machine down): such a job is put back in
the queue, and the worker that takes it rolls the lost attempt back before it tries again
(:func:`workflows.jobs.queue.execute`); once ``[jobs] max_attempts`` are spent it is ``dead``.

One worker process runs one job at a time (our steps block: procrastinate runs a blocking task
in a thread, and its own ``concurrency`` is for asynchronous tasks); ``--concurrency N`` starts
N worker processes. A worker stopped by SIGTERM or Ctrl-C lets its running job finish.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
from pathlib import Path
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy, SyncPsycopgConnector
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.models import JobStatus
from repository.settings import Settings
from workflows.jobs.deferral import conninfo
from workflows.jobs.outcome import Outcome
from workflows.jobs.queue import QUEUE_TASK, execute, mark_dead, note_retry

log = logging.getLogger("kholuu.worker")


class TryAgain(Exception):
    """An attempt failed for a reason that may pass; the queue runs the job again."""


def queue_app(settings: Settings, *, worker: bool = False) -> App:
    """The procrastinate app with the one task; ``worker``: an asynchronous connector for a worker,
    else a synchronous one that is never opened (a submission uses the session's connection)."""
    connector: Any = (
        PsycopgConnector(conninfo=conninfo(settings.database_url))
        if worker
        else SyncPsycopgConnector(conninfo=conninfo(settings.database_url))
    )
    app = App(connector=connector)
    app.task(
        name=QUEUE_TASK,
        pass_context=True,
        retry=RetryStrategy(max_attempts=settings.jobs.max_attempts, wait=2, retry_exceptions={TryAgain}),
    )(_run_queued)
    return app


def _run_queued(context: JobContext, job_id: str) -> None:
    """The task: one attempt at the catalog job ``job_id``; :class:`TryAgain` when it may pass."""
    state: WorkerState = (context.additional_context or {})["kholuu"]
    attempts_made = (context.job.attempts or 0) + 1
    try:
        outcome = execute(state.settings, state.sessions, job_id, worker_lost=True)
    except Exception:  # around the attempt (say a roll-back racing another); the job's own are in outcome
        log.exception("job %s attempt %d could not be made", job_id, attempts_made)
        outcome = Outcome(JobStatus.FAILED, retryable=True)
    log.info("job %s attempt %d: %s", job_id, attempts_made, outcome.status.value)
    if outcome.status in (JobStatus.FAILED, JobStatus.INTERRUPTED) and outcome.retryable:
        if attempts_made < state.settings.jobs.max_attempts:
            note_retry(state.sessions, job_id)
            raise TryAgain(f"job {job_id}: attempt {attempts_made} {outcome.status.value}")
        mark_dead(state.sessions, job_id, attempts_made)
    if outcome.status is not JobStatus.COMPLETED and outcome.status is not JobStatus.RUNNING:
        raise RuntimeError(f"job {job_id} ended {outcome.status.value}")  # procrastinate: failed


class WorkerState:
    """What a worker process's jobs use: the settings and the catalog sessions."""

    def __init__(self, settings: Settings, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = sessions


async def _retry_stalled(app: App, state: WorkerState) -> None:
    """Put back in the queue the jobs of workers that gave no sign of life (or mark them dead)."""
    jobs = state.settings.jobs
    while True:
        await asyncio.sleep(jobs.heartbeat_seconds)
        try:
            stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=jobs.stalled_seconds)
            for job in stalled:
                assert job.id is not None
                catalog_id = str(job.task_kwargs.get("job_id", ""))
                if (job.attempts or 0) + 1 < jobs.max_attempts:
                    log.warning("job %s (queue %d): its worker is lost; queued again", catalog_id, job.id)
                    await app.job_manager.retry_job(job)
                    continue
                log.warning(
                    "job %s (queue %d): its worker is lost on its last attempt: dead", catalog_id, job.id
                )
                await asyncio.to_thread(_lost_for_good, state, catalog_id, (job.attempts or 0) + 1)
                await app.job_manager.finish_job_by_id_async(job.id, status=_failed(), delete_job=False)
        except Exception:
            log.exception("looking for the jobs of lost workers failed; trying again later")


def _failed() -> Any:
    from procrastinate.jobs import Status

    return Status.FAILED


def _lost_for_good(state: WorkerState, job_id: str, attempts_made: int) -> None:
    from workflows.jobs.queue import attempts
    from workflows.jobs.recovery import roll_back_lost

    with state.sessions() as session:
        _, latest = attempts(session, job_id)
        session.expunge(latest)
    if latest.status is JobStatus.RUNNING:
        roll_back_lost(state.settings, state.sessions, latest)
    mark_dead(state.sessions, job_id, attempts_made)


async def _serve(settings: Settings, queues: list[str] | None, name: str) -> None:
    from repository.catalog.db import check_current, make_engine, session_factory
    from repository.catalog.journal import attach_journal

    engine = make_engine(settings.database_url)
    check_current(engine, where=settings.home)
    state = WorkerState(settings, engine, attach_journal(session_factory(engine), settings))
    app = queue_app(settings, worker=True)
    async with app.open_async():
        watcher = asyncio.create_task(_retry_stalled(app, state))
        try:
            await app.run_worker_async(
                queues=queues,  # type: ignore[arg-type]  # None: every queue (procrastinate's doc)
                name=name,
                concurrency=1,
                additional_context={"kholuu": state},
                update_heartbeat_interval=settings.jobs.heartbeat_seconds,
                stalled_worker_timeout=settings.jobs.stalled_seconds,
                fetch_job_polling_interval=max(1.0, settings.jobs.heartbeat_seconds),
                install_signal_handlers=True,
            )
        finally:
            watcher.cancel()
            engine.dispose()


def run_worker(settings: Settings, *, queues: list[str] | None = None, name: str = "") -> None:
    """One worker in this process, until SIGTERM or Ctrl-C (the running job finishes first).
    Each job's start and end are logged on stderr (procrastinate's own lines at warning and up)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
        )
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    asyncio.run(_serve(settings, queues, name or f"{socket.gethostname()}:{os.getpid()}"))


def _child(home: str, environ: dict[str, str], queues: list[str] | None) -> None:
    from repository.settings import load_settings

    os.environ.update(environ)
    run_worker(load_settings(Path(home), environ=environ), queues=queues)


def run_workers(settings: Settings, environ: dict[str, str], count: int, queues: list[str] | None) -> int:
    """``count`` worker processes; SIGTERM or Ctrl-C stops them all (each lets its job finish).
    Returns 0, or 1 when a worker ended on its own (crashed)."""
    if count == 1:
        run_worker(settings, queues=queues)
        return 0
    spawn = multiprocessing.get_context("spawn")
    children = [
        spawn.Process(target=_child, args=(str(settings.home), environ, queues), name=f"kholuu-worker-{i}")
        for i in range(count)
    ]
    for child in children:
        child.start()

    def _stop(signum: int, _frame: object) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        for child in children:
            child.join()
    except KeyboardInterrupt:
        _stop(signal.SIGINT, None)
        for child in children:
            child.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if all(child.exitcode in (0, -signal.SIGTERM) for child in children) else 1


__all__ = ["TryAgain", "queue_app", "run_worker", "run_workers"]
