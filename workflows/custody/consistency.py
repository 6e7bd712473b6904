"""Does the catalog agree with storage? ``kholuu check --consistency``: read-only, finding by finding.

The catalog (Data Management) and the storage locations (Archival Storage) are written by the same
workflows, in an order that keeps them in step even when a process dies (``workflows.jobs``). This
check says whether they are in step now, after a crash, a restore from backup or a fault test, and
for every disagreement names the command that repairs it:

* per location, every stored object is known to the catalog (``consistency.unregistered_object``,
  repaired by ``kholuu rebuild-catalog --location X``), and every copy the catalog records there at
  the AIP's current version is stored with that head version and, file by file, the SHA-256,
  SHA-512 and size the catalog recorded (``consistency.copy_missing``, ``consistency.copy_damaged``,
  ``consistency.version_behind``, ``consistency.version_ahead``, ``consistency.digest_mismatch``);
  a ``failed`` copy row or a ``pending`` one that storage already holds disagrees with storage
  (``consistency.copy_failed``, ``consistency.copy_status_stale``); a stored AIP without any copy
  row in a required location is ``consistency.copy_not_recorded``;
* the staging debris of interrupted writes: object folders without a root inventory and deposit
  folders of jobs that are not running (``consistency.storage_leftover``), working folders and
  locks of jobs that are not running, quarantine folders no job keeps
  (``consistency.work_leftover``, ``consistency.quarantine_leftover``), each repaired by
  ``kholuu job clean NAME``;
* jobs ``running`` on this machine whose lock is free: their process is dead
  (``consistency.dead_job``, ``kholuu job clean ID``);
* the staff audit log's hash chain and its anchors in storage (the codes of
  ``kholuu auditlog verify``).

It compares inventories, not bytes: a stored inventory is read and its sidecar checked, content
files are only looked up (their size), never hashed. Re-hashing every byte is the fixity audit's job
(``kholuu audit``). It streams: the catalog is read a page of copies at a time, storage one object
at a time; only the ids of one location's objects are held together.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.auditlog_anchor import verify_log
from repository.catalog.models import Aip, AipStatus, Copy, CopyStatus, File, Job, JobStatus
from repository.settings import Settings
from repository.storage.errors import BackendUnavailable, NotFound, StorageError
from repository.storage.health import storage_debris
from repository.storage.locations import Location, open_locations
from repository.storage.stored_objects import StoredObject, StoredObjects
from workflows.jobs.envelope import Workflow
from workflows.jobs.recovery import is_dead

__all__ = ["ConsistencyReport", "Finding", "Severity", "check_consistency", "iter_findings"]

PAGE = 200  # catalog rows read per query
SYNC_DEPOSIT = "sync-"  # how a storage sync names its deposits (repository.storage.copy_publish)
SYNC_LOCK = "sync.lock"  # one storage sync at a time (workflows.custody.replication._sync_lock)


class Severity(StrEnum):
    ERROR = "error"  # catalog and storage disagree about a holding
    WARNING = "warning"  # debris or a stale status: nothing preserved is at risk


@dataclass(frozen=True)
class Finding:
    """One disagreement: its code (text in the message catalogs), what it is about, the repair."""

    code: str
    severity: Severity
    subject: str  # an AIP id, a job id, a folder
    repair: str  # the command that repairs it
    message: str  # English, for logs; the user sees the catalog text of ``code``
    location: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """The parameters its catalog text is filled with."""
        return {
            "subject": self.subject,
            "location": self.location or "",
            "repair": self.repair,
            **self.params,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "subject": self.subject,
            "location": self.location,
            "repair": self.repair,
            "message": self.message,
            "params": dict(self.params),
        }


@dataclass
class ConsistencyReport:
    locations: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "locations": list(self.locations),
            "count": len(self.findings),
            "findings": [f.as_dict() for f in self.findings],
        }


def check_consistency(
    settings: Settings, sessions: sessionmaker[Session], *, location: str | None = None
) -> ConsistencyReport:
    """Every finding of :func:`iter_findings`, collected (a finding is small; objects are not)."""
    locations = _locations(settings, location)
    report = ConsistencyReport([loc.name for loc in locations])
    report.findings.extend(iter_findings(settings, sessions, locations, whole=location is None))
    return report


def iter_findings(
    settings: Settings, sessions: sessionmaker[Session], locations: Sequence[Location], *, whole: bool
) -> Iterator[Finding]:
    """The findings, location by location, then the data folder's own (``whole``: also the jobs,
    working folders and audit log, which belong to no one location)."""
    running = _running_jobs(sessions)
    for loc in locations:
        yield from _location(settings, sessions, loc, running)
    if whole:
        yield from _jobs(settings, sessions)
        yield from _folders(settings, sessions, running)
        yield from _audit_log(settings, sessions)


def _locations(settings: Settings, name: str | None) -> list[Location]:
    locations = [loc for loc in open_locations(settings) if name is None or loc.name == name]
    if name is not None and not locations:
        raise NotFound(
            f"no storage location {name!r} is configured",
            code="storage.location_unknown",
            key=name,
            location=name,
            params={"location": name},
        )
    return locations


def _running_jobs(sessions: sessionmaker[Session]) -> dict[str, str | None]:
    """Job id -> AIP id of every running job (their objects and deposits are work in progress);
    a running storage sync adds ``sync-`` (its deposits are named ``sync-…``, not after the job)."""
    with sessions() as session:
        rows = session.execute(select(Job.id, Job.aip_id, Job.kind).where(Job.status == JobStatus.RUNNING))
        running: dict[str, str | None] = {}
        for job_id, aip_id, kind in rows:
            running[job_id] = aip_id
            if kind == Workflow.REPLICATION.value:
                running[SYNC_DEPOSIT] = None
        return running


# ----------------------------------------------------------------------------- one location


def _location(
    settings: Settings, sessions: sessionmaker[Session], loc: Location, running: dict[str, str | None]
) -> Iterator[Finding]:
    stored = StoredObjects(loc)
    try:
        ids = stored.ids()
        debris = storage_debris(loc)
    except StorageError as exc:
        yield _unreachable(loc.name, exc)
        return
    busy = {aip_id for aip_id in running.values() if aip_id}
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        with sessions() as session:
            known = set(session.scalars(select(Aip.id).where(Aip.id.in_(chunk))))
        for aip_id in chunk:
            if aip_id not in known and aip_id not in busy:
                yield Finding(
                    "consistency.unregistered_object",
                    Severity.ERROR,
                    aip_id,
                    f"kholuu rebuild-catalog --location {loc.name}",
                    f"{loc.name} holds object {aip_id}, which the catalog does not know",
                    loc.name,
                )
    try:
        yield from _copies(settings, sessions, stored, busy)
    except BackendUnavailable as exc:
        yield _unreachable(loc.name, exc)
        return
    debris.pop("unfinished_uploads", None)  # invisible, resumed by the next write of the key
    for kind, names in debris.items():
        for name in names:
            if kind == "staging" and (
                name in running
                or name.startswith("probe-")
                or (name.startswith(SYNC_DEPOSIT) and SYNC_DEPOSIT in running)
            ):
                continue  # a running job's deposit (a sync's while one runs); ``storage check``'s probe
            job = name if kind == "staging" else name.rsplit("/", 1)[-1]
            if kind == "objects_without_inventory" and _decoded(job) in busy:
                continue
            yield Finding(
                "consistency.storage_leftover",
                Severity.WARNING,
                name,
                _clean_command(sessions, kind, name, loc.name),
                f"{loc.name} holds {kind} {name} left by interrupted work",
                loc.name,
                {"kind": kind},
            )


def _unreachable(name: str, exc: StorageError) -> Finding:
    return Finding(
        "consistency.location_unreachable",
        Severity.ERROR,
        name,
        f"kholuu storage check {name}",
        f"location {name} cannot be read: {exc}",
        name,
        {"reason": exc.code},
    )


def _decoded(folder: str) -> str:
    from urllib.parse import unquote

    return unquote(folder)


def _clean_command(sessions: sessionmaker[Session], kind: str, name: str, location: str) -> str:
    """``kholuu job clean`` of the job that left the debris: a deposit is named after its job; an
    unpublished object after its AIP, whose newest job left it (with no job, ``storage check``
    lists it and the operator removes the folder: nothing in it was ever committed)."""
    if kind != "objects_without_inventory":
        return f"kholuu job clean {name}"
    aip_id = _decoded(name.rsplit("/", 1)[-1])
    with sessions() as session:
        job = session.scalar(
            select(Job.id).where(Job.aip_id == aip_id).order_by(Job.started_at.desc()).limit(1)
        )
    return f"kholuu job clean {job}" if job else f"kholuu storage check {location}"


def _copies(
    settings: Settings, sessions: sessionmaker[Session], stored: StoredObjects, busy: set[str]
) -> Iterator[Finding]:
    """Every AIP the catalog holds as stored, a page at a time: its copy row in this location (or
    the lack of one where the location is required) against the object's inventory."""
    required = stored.location.required
    last = ""
    while True:
        with sessions() as session:
            page = list(
                session.scalars(
                    select(Aip)
                    .where(Aip.id > last, Aip.status.in_((AipStatus.STORED, AipStatus.DEGRADED)))
                    .order_by(Aip.id)
                    .limit(PAGE)
                )
            )
            if not page:
                return
            current = {a.id: a.current_version for a in page}
            rows = [
                c
                for c in session.scalars(select(Copy).where(Copy.aip_id.in_(list(current))))
                if c.version == current[c.aip_id]
            ]
            copies = {c.aip_id: c for c in rows if c.location == stored.name}
            holders = {c.aip_id: c.location for c in rows if c.status is CopyStatus.STORED}
        last = page[-1].id
        for aip in page:
            if aip.id in busy:
                continue  # an update or migration is writing it now
            copy = copies.get(aip.id)
            if copy is None:
                if required:  # rebuilt from a location that holds it: stored here, or pending
                    holder = holders.get(aip.id, stored.name)
                    yield _finding(
                        "copy_not_recorded",
                        aip.id,
                        stored.name,
                        {"version": aip.current_version, "holder": holder},
                    )
                continue
            yield from _copy(sessions, stored, aip, copy)


def _finding(kind: str, aip_id: str, location: str, params: dict[str, Any]) -> Finding:
    repair = {
        "copy_not_recorded": f"kholuu rebuild-catalog --location {params.get('holder')} --replace",
        "version_ahead": f"kholuu rebuild-catalog --location {location} --replace",
        "copy_status_stale": "kholuu storage sync",
    }.get(kind, f"kholuu audit --all --location {location}")
    severity = Severity.WARNING if kind == "copy_status_stale" else Severity.ERROR
    message = f"{kind.replace('_', ' ')}: {aip_id} in {location} {params}"
    return Finding(f"consistency.{kind}", severity, aip_id, repair, message, location, params)


def _copy(sessions: sessionmaker[Session], stored: StoredObjects, aip: Aip, copy: Copy) -> Iterator[Finding]:
    name, version = stored.name, aip.current_version
    try:
        obj: StoredObject | None = stored.read(aip.id)
    except BackendUnavailable:
        raise
    except NotFound as exc:
        if exc.code != "ocfl.object_not_found":
            if copy.status is CopyStatus.STORED:
                yield _finding("copy_damaged", aip.id, name, {"problem": exc.code})
            return
        obj = None
    except StorageError as exc:
        if copy.status is CopyStatus.STORED:
            yield _finding("copy_damaged", aip.id, name, {"problem": exc.code})
        return
    if copy.status is CopyStatus.FAILED:
        yield _finding("copy_failed", aip.id, name, {"version": version})
        return
    if obj is None:
        if copy.status is CopyStatus.STORED:
            yield _finding("copy_missing", aip.id, name, {"version": version})
        return  # a pending copy not written yet: ``kholuu storage sync`` is already due
    if obj.head < version:
        yield _finding("version_behind", aip.id, name, {"version": version, "head": obj.head})
        return
    if obj.head > version:
        yield _finding("version_ahead", aip.id, name, {"version": version, "head": obj.head})
        return
    mismatch = _first_mismatch(sessions, obj, aip.id, version)
    if mismatch is not None:
        yield _finding("digest_mismatch", aip.id, name, {"version": version, "path": mismatch})
    elif copy.status is CopyStatus.PENDING:
        yield _finding("copy_status_stale", aip.id, name, {"version": version, "status": copy.status.value})


def _first_mismatch(
    sessions: sessionmaker[Session], obj: StoredObject, aip_id: str, version: int
) -> str | None:
    """The first file (logical path) whose catalog digests or size differ from the inventory's, or
    that one side lacks; None when the version agrees file by file."""
    files = dict(obj.version(version).files)
    with sessions() as session:
        rows = session.execute(
            select(File.aip_path, File.sha256, File.sha512, File.size).where(
                File.aip_id == aip_id, File.version == version
            )
        )
        for path, sha256, sha512, size in rows:
            found = files.pop(path, None)
            if found is None or (found.sha256, found.sha512, found.size) != (sha256, sha512, size):
                return str(path)
    return min(files) if files else None


# ----------------------------------------------------------------------------- the data folder


def _jobs(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Finding]:
    host = socket.gethostname()
    with sessions() as session:
        rows = list(
            session.execute(
                select(Job.id, Job.kind, Job.pid).where(Job.status == JobStatus.RUNNING, Job.hostname == host)
            )
        )
    for job_id, kind, pid in rows:
        if is_dead(settings.work_dir / f"{job_id}.lock"):
            yield Finding(
                "consistency.dead_job",
                Severity.ERROR,
                job_id,
                f"kholuu job clean {job_id}",
                f"job {job_id} ({kind}) is running in the catalog but its process {pid} is gone",
                params={"kind": kind, "pid": pid},
            )


def _folders(
    settings: Settings, sessions: sessionmaker[Session], running: dict[str, str | None]
) -> Iterator[Finding]:
    """Working folders and locks of jobs that are not running; quarantine folders no job keeps."""
    for code, folder in (
        ("work_leftover", settings.work_dir),
        ("quarantine_leftover", settings.quarantine_dir),
    ):
        if not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if code == "work_leftover" and entry.name == SYNC_LOCK:
                continue  # the storage sync's own lock file, kept between syncs: no job's leftover
            job_id = entry.name.removesuffix(".lock")
            if job_id in running or not is_dead(settings.work_dir / f"{job_id}.lock"):
                continue
            if code == "quarantine_leftover" and _kept(sessions, Path(entry.path), job_id):
                continue
            yield Finding(
                f"consistency.{code}",
                Severity.WARNING,
                entry.name,
                f"kholuu job clean {job_id}",
                f"{entry.path} was left by job {job_id}, which is not running",
                params={"path": entry.path},
            )


def _kept(sessions: sessionmaker[Session], path: Path, job_id: str) -> bool:
    """A failed or refused job keeps its quarantine copy for the operator (``kholuu job show``)."""
    with sessions() as session:
        kept = session.scalar(select(Job.quarantine_path).where(Job.id == job_id))
    return bool(kept) and Path(str(kept)).resolve() == path.resolve()


def _audit_log(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Finding]:
    with sessions() as session:
        report = verify_log(settings, session)
    for problem in [*report.chain.problems, *report.problems]:
        yield Finding(
            problem.code,
            Severity.ERROR,
            f"#{problem.seq}",
            "kholuu auditlog verify",
            problem.message,
            params=dict(problem.params),
        )
