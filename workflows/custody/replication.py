"""Land queued copies: every ``pending`` copy of an AIP version is written from a stored copy.

A copy is queued when its location could not be reached during an ingest (or a new version).
Thông tư 05/2025/TT-BNV Điều 27 asks for at least two backup sets on independent media, so a
degraded AIP is not left to chance: ``kholuu storage sync`` (and the scheduler, later) runs this.
The copy is streamed object key by object key from a location that holds the version, checked
against that location's OCFL inventory on the way in, and published with the root inventory
last; only then does the catalog say ``stored`` and, once every required copy is there, the AIP
leaves ``degraded``. Each landed or failed attempt is a PREMIS ``replication`` event whose agent is
the replication workflow. A sync runs in the job envelope (:mod:`workflows.jobs.envelope`).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.events import Event, EventType, Outcome
from repository.catalog import store
from repository.catalog.models import Aip, AipStatus, Copy, CopyStatus, Job, JobStatus
from repository.settings import Settings
from repository.storage.copyset import CopySet, aip_status
from repository.storage.locations import Location, open_locations
from workflows.jobs.envelope import JobSpec, Workflow, run_job, workflow_agent
from workflows.jobs.recovery import recover_interrupted
from workflows.jobs.runner import kill_point


@dataclass(frozen=True)
class SyncOutcome:
    """One attempt at one pending copy."""

    aip_id: str
    version: int
    location: str
    outcome: str  # "stored" | "still pending" | "failed"
    source: str = ""
    message: str = ""
    error_code: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "aip_id": self.aip_id,
            "version": self.version,
            "location": self.location,
            "outcome": self.outcome,
            "source": self.source,
            "message": self.message,
            "error_code": self.error_code,
        }


def sync_pending(
    settings: Settings, sessions: sessionmaker[Session], *, aip_id: str | None = None
) -> list[SyncOutcome]:
    """Try every pending copy (of one AIP, or all), as one job (kind ``replication``) when there is
    any; returns what happened to each."""
    recover_interrupted(settings, sessions)  # what a killed job left goes at the next start, idle or not
    if not _any_pending(sessions, aip_id):
        return []  # nothing to do: no job row for every idle tick of the scheduler
    spec = JobSpec(
        kind=Workflow.REPLICATION,
        source=aip_id or "all pending copies",
        source_name=aip_id or "",
        options={"aip_id": aip_id} if aip_id else {},
    )
    with run_job(settings, sessions, spec, recover=False), _sync_lock(settings):
        # the lock is held for the whole run: two syncs must not write one object at once
        return _sync(settings, sessions, aip_id)


def _any_pending(sessions: sessionmaker[Session], aip_id: str | None) -> bool:
    query = select(Copy.id).where(Copy.status == CopyStatus.PENDING)
    if aip_id is not None:
        query = query.where(Copy.aip_id == aip_id)
    with sessions() as session:
        return session.scalars(query.limit(1)).first() is not None


def _sync(settings: Settings, sessions: sessionmaker[Session], aip_id: str | None) -> list[SyncOutcome]:
    with sessions() as session:
        query = select(Copy).where(Copy.status == CopyStatus.PENDING).order_by(Copy.aip_id, Copy.version)
        if aip_id is not None:
            query = query.where(Copy.aip_id == aip_id)
        pending = [(c.aip_id, c.version, c.location) for c in session.scalars(query)]
        finished_jobs: dict[str, list[str]] = {}
        for job_id, job_aip in session.execute(
            select(Job.id, Job.aip_id).where(Job.status != JobStatus.RUNNING, Job.aip_id.is_not(None))
        ):
            finished_jobs.setdefault(str(job_aip), []).append(job_id)
        stored_by: dict[tuple[str, int], list[str]] = {}
        for c in session.scalars(select(Copy).where(Copy.status == CopyStatus.STORED)):
            stored_by.setdefault((c.aip_id, c.version), []).append(c.location)
    if not pending:
        return []
    locations = {loc.name: loc for loc in open_locations(settings)}
    agent = workflow_agent(Workflow.REPLICATION)
    out: list[SyncOutcome] = []
    for aip, version, target_name in pending:
        target = locations.get(target_name)
        if target is None:
            out.append(
                SyncOutcome(
                    aip,
                    version,
                    target_name,
                    "still pending",
                    message="location not configured",
                    error_code="storage.location_unknown",
                )
            )
            continue
        sources = [locations[n] for n in stored_by.get((aip, version), []) if n in locations]
        kill_point("sync: landing")  # crash tests (KHOLUU_KILL_AT): before the copy is written
        outcome = _land(target, sources, aip, version, finished_jobs.get(aip, []))
        kill_point("sync: landed")  # written and verified, the catalog still says pending
        out.append(outcome)
        event = Event(
            type=EventType.REPLICATION,
            outcome=Outcome.SUCCESS if outcome.outcome == "stored" else Outcome.FAILURE,
            detail=f"Queued copy of version v{version} to storage location {target_name!r}: "
            + (
                f"written from {outcome.source!r}, every file verified"
                if outcome.outcome == "stored"
                else "not written"
            ),
            outcome_detail=outcome.message,
            agents=(agent,),
            objects=(aip,),
            detail_code="replication.stored" if outcome.outcome == "stored" else "replication.not_written",
            detail_params={"version": version, "location": target_name, "source": outcome.source or ""},
        )
        with sessions.begin() as session:
            store.add_events(session, [event], aip_id=aip)
            if outcome.outcome == "stored":
                _mark_stored(session, aip, version, target_name, event.datetime, locations)
    return out


def queue_copies(settings: Settings, sessions: sessionmaker[Session], location: str) -> list[str]:
    """Queue a copy of every AIP's current version in ``location`` (a location just added).

    Returns the AIP ids queued. AIPs become ``degraded`` when the location is required, until
    :func:`sync_pending` has written their copy.
    """
    required = {loc.name for loc in settings.storage.locations if loc.required}
    queued: list[str] = []
    with sessions.begin() as session:
        aips = session.scalars(
            select(Aip)
            .where(Aip.status.in_([AipStatus.STORED, AipStatus.DEGRADED]))
            .options(selectinload(Aip.copies))
        )
        for aip in aips:
            if any(c.location == location and c.version == aip.current_version for c in aip.copies):
                continue
            path = next((c.object_path for c in aip.copies), "")
            aip.copies.append(
                Copy(
                    version=aip.current_version,
                    location=location,
                    status=CopyStatus.PENDING,
                    object_path=path,
                )
            )
            aip.status = aip_status(aip.copies, required, aip.current_version)
            queued.append(aip.id)
    return queued


def _land(
    target: Location, sources: list[Location], aip_id: str, version: int, stale_deposits: list[str]
) -> SyncOutcome:
    copies = CopySet(aip_id, [target, *sources])
    landing = copies.land(
        target.name, [s.name for s in sources], version=version, stale_deposits=stale_deposits
    )
    outcome = {CopyStatus.STORED: "stored", CopyStatus.PENDING: "still pending"}.get(landing.status, "failed")
    return SyncOutcome(
        aip_id,
        version,
        target.name,
        outcome,
        source=landing.source,
        message=landing.message,
        error_code=landing.code,
    )


def _mark_stored(
    session: Session, aip_id: str, version: int, location: str, when: datetime, locations: dict[str, Location]
) -> None:
    aip = session.get(Aip, aip_id, options=[selectinload(Aip.copies)])
    if aip is None:
        return
    for c in aip.copies:
        if c.location == location and c.version <= version and c.status is CopyStatus.PENDING:
            c.status = CopyStatus.STORED
            c.written_at = when
            c.verified_at = when
    if aip.status in (AipStatus.STORED, AipStatus.DEGRADED):
        session.flush()
        required = {name for name, loc in locations.items() if loc.required}
        aip.status = aip_status(aip.copies, required, aip.current_version)
        if aip.status is AipStatus.STORED:
            aip.stored_at = aip.stored_at or datetime.now(UTC)


@contextmanager
def _sync_lock(settings: Settings) -> Iterator[None]:
    """One sync at a time on this data folder (the scheduler and a person may both start one)."""
    with (settings.work_dir / "sync.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
