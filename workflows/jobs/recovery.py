"""Roll back jobs whose process died (SIGKILL, power loss) so nothing half-done stays visible.

The failure model is written in :mod:`workflows.jobs.envelope`. A running job (ingest, update, audit,
replication, export) holds an exclusive ``flock`` on ``work/<job>.lock``; the kernel releases it when
the process dies, however it dies. So a job the catalog calls ``running`` whose lock can be taken
is dead. Rolling it back means: an OCFL object published for its AIP but never registered is
removed, its deposits and staging are deleted, its partial quarantine copy is deleted, and the
job is marked ``interrupted``; an update's uncommitted version folder is removed the same way, and
a migration's or an update's version is withdrawn even when it was committed in storage, as long
as the catalog never registered it (the catalog still says the previous version is current, and
the next ``kholuu migrate`` or update makes it anew).
Every dead job's working folder goes with it, and with it the temporary folders of the tools it
ran (ClamAV's among them). A job that died after its registration committed is complete: the
catalog transaction that says ``stored`` is the same one that ends the job.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import socket
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.models import Aip, AuditLease, AuditRun, Job, JobStatus
from repository.catalog.queries import NotFoundError
from repository.settings import Settings
from repository.storage.copyset import CopySet, Unfinished
from repository.storage.errors import BackendUnavailable
from repository.storage.locations import open_locations


def is_dead(lock_path: Path) -> bool:
    """Whether the job of this lock file is dead: nobody holds the lock (or there is none)."""
    if not lock_path.exists():
        return True
    with lock_path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fh, fcntl.LOCK_UN)
        return True


def recover_interrupted(settings: Settings, sessions: sessionmaker[Session]) -> list[str]:
    """Roll back every dead ``running`` job of this machine; returns their ids."""
    host = socket.gethostname()
    with sessions() as session:
        candidates = list(
            session.scalars(select(Job).where(Job.status == JobStatus.RUNNING, Job.hostname == host))
        )
    recovered: list[str] = []
    for job in candidates:
        lock = settings.work_dir / f"{job.id}.lock"
        if not is_dead(lock):
            continue
        if not _roll_back(settings, sessions, job):
            continue  # a location is down: the job stays to be rolled back by a later run
        lock.unlink(missing_ok=True)
        recovered.append(job.id)
    _remove_orphan_work(settings, sessions)
    return recovered


def _roll_back(settings: Settings, sessions: sessionmaker[Session], job: Job) -> bool:
    """Undo a dead job's partial work; False (nothing marked) when a location cannot be reached,
    since its half-written object could not be removed yet."""
    if not roll_back_storage(settings, sessions, job):
        return False
    registered = job.kind == "ingest" and _registered(sessions, job)
    shutil.rmtree(settings.work_dir / job.id, ignore_errors=True)  # staging and tool temp folders
    if job.kind == "export":
        _remove_partial_export(job)
    if job.kind == "ingest" and not registered:
        shutil.rmtree(settings.quarantine_dir / job.id, ignore_errors=True)
    with sessions.begin() as session:
        row = session.get(Job, job.id)
        if row is None:
            return True
        row.ended_at = datetime.now(UTC)
        if registered:
            row.status = JobStatus.COMPLETED
            return True
        row.status = JobStatus.INTERRUPTED
        if job.kind == "ingest":
            row.error_code = "ingest.interrupted"
            row.error_message = (
                f"process {row.pid} on {row.hostname} stopped before the ingest finished; "
                "its partial work was removed, run the ingest again"
            )
            row.quarantine_path = None
        elif job.kind == "update":
            row.error_code = "ingest.interrupted"
            row.error_message = f"process {row.pid} on {row.hostname} stopped before the update finished"
        elif job.kind == "migration":
            row.error_code = "job.interrupted"
            row.error_message = (
                f"process {row.pid} on {row.hostname} stopped before the migration finished; the "
                "version it was making was withdrawn, the previous version stays current: run it again"
            )
            row.error_params = {"reason": f"process {row.pid} stopped"}
        else:
            row.error_code = "job.interrupted"
            row.error_message = (
                f"process {row.pid} on {row.hostname} stopped before the {job.kind} job finished; "
                "its working folder was removed, run it again"
            )
            row.error_params = {"reason": f"process {row.pid} stopped"}
        run = session.get(AuditRun, str(row.options.get("run_id", ""))) if job.kind == "audit" else None
        if run is not None and run.status == "running":  # the audit's own record says so too
            run.status = "failed"
            run.ended_at = row.ended_at
            run.message = row.error_message
        if job.kind == "audit":  # its leases die with it, or the next audit waits lease_seconds
            session.execute(delete(AuditLease).where(AuditLease.run_id == str(row.options.get("run_id", ""))))
    return True


def roll_back_storage(settings: Settings, sessions: sessionmaker[Session], job: Job) -> bool:
    """Undo what a job that did not finish left in storage; False when a location cannot be reached.

    * ingest: its deposits are discarded and its object, if published but not registered, removed;
    * update and migration: the deposits are discarded and any version folder not committed
      removed, then the version the job was making (``options["version"]``) is withdrawn where
      it was committed, unless the catalog registered it (or another update or migration of the
      AIP is running, whose version it may be: then later); an update started before its job
      recorded the version (an older catalog row) leaves it, and the next update stops on it;
    * other kinds (audit, replication, export) publish nothing that is not either complete or
      inside their working folder: nothing to undo here (an export's unpublished ZIP beside its
      target goes with its working folder, in :func:`_roll_back`).
    """
    if job.kind not in ("ingest", "update", "migration"):
        return True
    if job.kind in ("update", "migration"):
        unfinished = Unfinished.VERSION
    else:
        unfinished = Unfinished.NOTHING if _registered(sessions, job) else Unfinished.OBJECT
    copies = CopySet.of(settings, job.aip_id or "")
    if copies.roll_back(job.id, unfinished):
        return False
    # the version an update or a migration was making (an ingest makes version 1: the object)
    version = int((job.options or {}).get("version") or 0) if job.kind != "ingest" else 0
    if version > 1 and not _version_registered(sessions, job.aip_id or "", version):
        if _another_job_on(sessions, job):
            return False  # that version may be the other job's, on its way to registration: later
        return not copies.withdraw(version, deposit_id=job.id)
    return True


def _remove_partial_export(job: Job) -> None:
    """The ZIP an export was writing beside its target (``.<name>.<random>.part``,
    :func:`workflows.access.export_zip.zip_and_publish`): never published, so never anyone's."""
    out = str((job.options or {}).get("out") or "")
    if not out:
        return
    target = Path(out)
    if target.parent.is_dir():
        for part in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
            part.unlink(missing_ok=True)


def _registered(sessions: sessionmaker[Session], job: Job) -> bool:
    """An ingest that died after its registration committed is complete."""
    with sessions() as session:
        return job.aip_id is not None and session.get(Aip, job.aip_id) is not None


def _version_registered(sessions: sessionmaker[Session], aip_id: str, version: int) -> bool:
    """A migration that died after its registration committed is complete (it never does: the
    registration ends the job in the same transaction; this guards the withdrawal)."""
    with sessions() as session:
        aip = session.get(Aip, aip_id)
        return aip is None or aip.current_version >= version


def _another_job_on(sessions: sessionmaker[Session], job: Job) -> bool:
    """Another job that may publish a version of the same AIP is running (on any machine)."""
    with sessions() as session:
        others = select(Job.id).where(
            Job.aip_id == job.aip_id,
            Job.id != job.id,
            Job.status == JobStatus.RUNNING,
            Job.kind.in_(("update", "migration")),
        )
        return session.scalars(others).first() is not None


def _remove_orphan_work(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Staging folders whose job is not running (e.g. left by a crash before the job row was written)."""
    if not settings.work_dir.is_dir():
        return
    with sessions() as session:
        running = set(session.scalars(select(Job.id).where(Job.status == JobStatus.RUNNING)))
    for entry in os.scandir(settings.work_dir):
        job_id = entry.name.removesuffix(".lock")
        if job_id in running:
            continue
        if entry.name.endswith(".lock"):
            if is_dead(Path(entry.path)):
                Path(entry.path).unlink(missing_ok=True)
        elif entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def clean_leftovers(settings: Settings, sessions: sessionmaker[Session], name: str) -> bool:
    """Remove what the job (or staging folder) ``name`` left behind; False when it is alive.

    A ``running`` job whose lock is free is rolled back as :func:`recover_interrupted` would;
    a job that ended has its storage deposits discarded (and, for an ingest nothing registered,
    its published object removed: :func:`roll_back_storage`). A name without a job row (a folder
    left by a crash before the row was written, a replication's ``sync-…`` deposit) has its
    deposits discarded in every location. Then ``work/<name>`` and its lock go, and
    ``quarantine/<name>`` unless the job row keeps it as the quarantine copy of a failed job
    (``kholuu job clean`` removes that one on purpose). ``kholuu check --consistency`` names
    this as the repair of every leftover it finds.
    """
    if Path(name).name != name or name in ("", ".", ".."):
        raise NotFoundError("job", name)
    lock = settings.work_dir / f"{name}.lock"
    with sessions() as session:
        job = session.get(Job, name)
    if job is not None and job.status is JobStatus.RUNNING:
        if job.hostname != socket.gethostname() or not is_dead(lock):
            return False  # alive, or another machine's job: only that machine can tell
        if not _roll_back(settings, sessions, job):
            raise _unreachable(name)
    elif job is not None:
        if not roll_back_storage(settings, sessions, job):
            raise _unreachable(name)
    else:
        CopySet("", open_locations(settings)).roll_back(name, Unfinished.NOTHING)
    shutil.rmtree(settings.work_dir / name, ignore_errors=True)
    if is_dead(lock):
        lock.unlink(missing_ok=True)
    with sessions() as session:
        kept = session.scalar(select(Job.quarantine_path).where(Job.id == name))
    if not kept:
        shutil.rmtree(settings.quarantine_dir / name, ignore_errors=True)
    return True


def _unreachable(name: str) -> BackendUnavailable:
    return BackendUnavailable(
        f"the leftovers of job {name} stay: a storage location cannot be reached now",
        code="job.leftovers_unreachable",
        key=name,
        params={"job_id": name},
    )


def roll_back_lost(settings: Settings, sessions: sessionmaker[Session], job: Job) -> None:
    """Roll back a ``running`` job whose worker the job queue reports lost (no sign of life for
    ``[jobs] stalled_seconds``), on whatever machine it ran: its storage work is undone as for a
    dead job of this machine, and it is marked ``interrupted``. Its working folder, on its own
    machine, goes at that machine's next start of a job (:func:`_remove_orphan_work`).

    Raises:
        BackendUnavailable: a location cannot be reached: the job stays for a later attempt.
    """
    if not _roll_back(settings, sessions, job):
        raise _unreachable(job.id)
