"""Ingests started from the web app: the same workflow as ``kholuu ingest``, submitted as a job
(:mod:`workflows.jobs.queue`) with its per-file progress readable while it runs.

The caller gets the job's id at once (:meth:`IngestQueue.submit`); the job row says ``queued`` in
the catalog from then on. On the job queue (PostgreSQL) a ``kholuu worker`` runs it, and the web
page reads its progress from the job row. Otherwise (SQLite) it runs here, in a background
thread: one ingest at a time per server process (the machine's cores go to the tools), later
ones waiting their turn, and what a step is doing (its name, files done of how many, the last
file) is also kept in memory (:meth:`IngestQueue.progress`).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Actor
from repository.settings import Settings
from workflows.ingest.preflight import checked_options
from workflows.jobs.envelope import Workflow
from workflows.jobs.outcome import Outcome
from workflows.jobs.queue import Submission, enqueue, execute, ingest_priority, source_size, uses_queue

log = logging.getLogger("kholuu.web")

__all__ = ["IngestQueue", "LiveProgress", "ProgressSnapshot"]


@dataclass(frozen=True)
class ProgressSnapshot:
    state: str  # queued, running, ended
    step: str
    done: int
    total: int
    item: str


class LiveProgress:
    """The ingest's :class:`workflows.jobs.runner.Progress`, read from other threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot = ProgressSnapshot("queued", "", 0, 0, "")

    def start(self, label: str, total: int) -> None:
        with self._lock:
            self._snapshot = ProgressSnapshot("running", label, 0, total, "")

    def advance(self, item: str) -> None:
        with self._lock:
            s = self._snapshot
            self._snapshot = ProgressSnapshot("running", s.step, s.done + 1, s.total, item)

    def finish(self) -> None:
        pass  # the next step's start() replaces it; the job's end is :meth:`ended`

    def running(self) -> None:
        with self._lock:
            self._snapshot = ProgressSnapshot("running", "", 0, 0, "")

    def ended(self) -> None:
        with self._lock:
            s = self._snapshot
            self._snapshot = ProgressSnapshot("ended", s.step, s.done, s.total, s.item)

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            return self._snapshot


class IngestQueue:
    """The web app's ingests, one at a time, in a background thread."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kholuu-ingest")
        self._progress: dict[str, LiveProgress] = {}
        self._sources: dict[str, str] = {}
        self._lock = threading.Lock()

    def submit(
        self,
        actor: Actor,
        source: Path,
        *,
        allow_duplicate: bool = False,
        organ_id: str = "",
        upload_id: str = "",
    ) -> str:
        """Check the options now (a typo is the requester's 400, not a failed job), then submit the
        ingest of ``source``; the browser upload ``upload_id`` is removed after the job. Returns
        the job id.

        The decision to ingest is the actor's: the audit log's row goes here."""
        with self.sessions() as session:
            options = checked_options(session, allow_duplicate=allow_duplicate, organ_id=organ_id)
        priority, queue = ingest_priority(source_size(source), self.settings)
        args = {"source": str(source), "options": asdict(options), "upload_id": upload_id}
        submission = Submission(
            Workflow.INGEST, args, source=str(source), source_name=source.name, priority=priority, queue=queue
        )
        with self.sessions.begin() as session:
            job_id = enqueue(session, self.settings, submission)
        log.info("ingest of %s queued as job %s by %s", source.name, job_id, actor.name)
        if uses_queue(self.settings):
            return job_id
        progress = LiveProgress()
        with self._lock:
            self._progress[job_id] = progress
            self._sources[job_id] = source.name
        self._pool.submit(self._run, job_id, progress)
        return job_id

    def _run(self, job_id: str, progress: LiveProgress) -> Outcome | None:
        progress.running()
        try:
            return execute(self.settings, self.sessions, job_id, progress=progress)
        except Exception:  # the job envelope has recorded it; the thread must go on to the next
            log.exception("ingest job %s ended with an error", job_id)
            return None
        finally:
            progress.ended()

    def progress(self, job_id: str) -> ProgressSnapshot | None:
        """What the job is doing, if this process runs (or ran) it."""
        with self._lock:
            live = self._progress.get(job_id)
        return live.snapshot() if live is not None else None

    def source_name(self, job_id: str) -> str:
        """The name of the SIP a job queued here ingests ("" for another process's job)."""
        with self._lock:
            return self._sources.get(job_id, "")

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
