"""Fixity audits: read every stored copy again, find damage, repair it from a good copy.

ISO 16363 5.1.1.3 asks a repository to detect bit corruption or loss, 5.1.2 to know the number and
location of its copies, 3.3.5 to keep integrity measurements. This module chooses the copies, takes
the leases and records the results; checking and repairing one copy is
:class:`repository.storage.copyset.CopySet`'s (the same check ``kholuu aip verify`` runs). An
audit of one copy (one AIP in one location) streams every key of the OCFL object straight from the
backend, in bounded memory and never through a temporary copy of the package, and checks it
against:

* the OCFL inventory (sha512 of every content file, the SHA-256 ``fixity`` block, inventory
  sidecars, missing and unexpected files: :func:`repository.storage.ocfl_verify.verify_object`);
* the catalog (the SHA-256 and SHA-512 recorded at ingest for every file of every version);
* the package's own manifests (the CHECKSUM of every file the root and representation METS of the
  current version reference).

Repair, on unless the location says ``repair = false``: a damaged or missing key is rewritten from
another location whose copy agrees with the catalog, streamed and checked against the expected
digest before it becomes visible (``write_atomic(expected=...)``), read back, and the object is
verified again. A file not in the inventory is moved aside to ``lost-and-found/`` outside the OCFL
root (never deleted: it may be someone's lost work). Damage with no good copy anywhere opens an
:class:`Incident` that stays open until a person acknowledges it. Every copy checked gets a PREMIS
``fixity check`` event, every repair a ``recovery`` event, and the copy its last-checked time and
outcome, so the next audit picks the copies checked longest ago.

A location that cannot be reached is "could not check" (style guide item 15): never damage, never
repaired. Two auditors never work on the same location at once: each takes a lease row first.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from preservation.findings import CheckOutcome
from repository.catalog.auditlog_anchor import write_anchor
from repository.catalog.models import (
    Aip,
    AuditFinding,
    AuditRun,
    Copy,
    CopyStatus,
    File,
    Incident,
    Job,
    JobStatus,
)
from repository.settings import Settings
from repository.storage.copyset import CopySet
from repository.storage.errors import NotFound, StorageError
from repository.storage.locations import Location, open_locations
from repository.storage.stored_objects import StoredObjects
from workflows.custody.audit_copy import audit_copy
from workflows.custody.audit_record import could_not_check, finish_run
from workflows.custody.audit_report import AuditReport, CopyResult, Unregistered
from workflows.custody.incidents import acknowledge_incident, incident_dict
from workflows.custody.leases import recently_audited, release_lease, renew_lease, take_lease
from workflows.jobs.envelope import JobSpec, Workflow, run_job, workflow_agent
from workflows.jobs.recovery import recover_interrupted

log = logging.getLogger("kholuu.audit")


@dataclass(frozen=True)
class AuditOptions:
    """What to audit. ``mode``: ``due`` (not checked within the cycle, oldest first) or ``all``."""

    mode: str = "due"
    location: str | None = None
    limit: int | None = None
    budget_bytes: int | None = None
    trigger: str = "cli"
    now: datetime | None = None
    skip_if_run_within: timedelta | None = None
    """For the scheduler: a location another process audited this recently is left alone, so two
    scheduler processes firing the same slot do not audit it twice."""


@dataclass(frozen=True)
class _Due:
    copy_id: int
    aip_id: str
    version: int
    location: str
    size: int


def due_copies(
    session: Session,
    *,
    location: str | None,
    mode: str,
    now: datetime,
    cycle_days: int,
    limit: int | None,
) -> list[tuple[int, str, int, str, datetime | None]]:
    """(copy id, AIP id, version, location, last check) to audit, never-checked first, then oldest
    check first.

    Only stored copies of current versions. The (location, last_checked_at) index makes the cost
    grow with the number of due copies read, not with the size of the catalog.
    """
    query = (
        select(Copy.id, Copy.aip_id, Copy.version, Copy.location, Copy.last_checked_at)
        .join(Aip, Aip.id == Copy.aip_id)
        .where(Copy.status == CopyStatus.STORED, Copy.version == Aip.current_version)
        .order_by(Copy.last_checked_at.asc().nulls_first(), Copy.id)
    )
    if location is not None:
        query = query.where(Copy.location == location)
    if mode == "due":
        cutoff = now - timedelta(days=cycle_days)
        query = query.where(or_(Copy.last_checked_at.is_(None), Copy.last_checked_at < cutoff))
    if limit:
        query = query.limit(limit)
    return [(int(a), str(b), int(c), str(d), e) for a, b, c, d, e in session.execute(query)]


def run_audit(settings: Settings, sessions: sessionmaker[Session], options: AuditOptions) -> AuditReport:
    """Audit the copies the options select, as one job (kind ``audit``); returns what was found and done."""
    recover_interrupted(settings, sessions)  # a crashed job must not leave its AIP "busy" for ever
    run_id = str(uuid.uuid4())
    holder = f"{socket.gethostname()}:{os.getpid()}:{run_id[:8]}"
    locations = {loc.name: loc for loc in open_locations(settings)}
    if options.location is not None and options.location not in locations:
        raise NotFound(
            f"no storage location {options.location!r}",
            code="storage.location_unknown",
            location=options.location,
        )
    report = AuditReport(run_id=run_id, mode=options.mode, location=options.location)
    agent = workflow_agent(Workflow.AUDIT)
    wanted = [options.location] if options.location else list(locations)
    held: list[str] = []
    for name in wanted:
        if take_lease(sessions, name, holder, run_id, datetime.now(UTC), settings.audit.lease_seconds):
            held.append(name)
        else:
            report.busy.append(name)
    if options.skip_if_run_within is not None:
        recent = recently_audited(sessions, held, datetime.now(UTC) - options.skip_if_run_within)
        for name in recent:
            release_lease(sessions, name, holder)
            report.busy.append(name)
        held = [name for name in held if name not in recent]
    if not held and options.trigger == "scheduler":
        return report  # another scheduler process has this slot: nothing to record
    # The run starts once it holds its leases: a run that waited for another's lease must not
    # record a start before that run's end (two schedulers, one slot).
    now = options.now or datetime.now(UTC)
    spec = JobSpec(
        kind=Workflow.AUDIT,
        source=options.location or "all locations",
        source_name=options.location or "",
        options={"run_id": run_id, "mode": options.mode, "trigger": options.trigger, "limit": options.limit},
    )
    with run_job(settings, sessions, spec, recover=False):
        _run_held(settings, sessions, options, report, locations, held, holder, run_id, agent, now)
    # the staff audit log's head goes to storage with every run, so that the catalog alone
    # cannot rewrite its history (repository.catalog.auditlog_anchor)
    report.audit_log_anchor = write_anchor(settings, sessions, run_id=run_id).as_dict()
    _log_outcome(report)
    return report


def _run_held(
    settings: Settings,
    sessions: sessionmaker[Session],
    options: AuditOptions,
    report: AuditReport,
    locations: dict[str, Location],
    held: list[str],
    holder: str,
    run_id: str,
    agent: Any,
    now: datetime,
) -> None:
    """The audit run proper, over the locations whose lease this run holds."""
    with sessions.begin() as session:
        session.add(
            AuditRun(
                id=run_id,
                started_at=now,
                status="running",
                trigger=options.trigger,
                mode=options.mode,
                location=options.location,
                holder=holder,
            )
        )
    try:
        selected, sizes = _select_due(settings, sessions, options, held, now)
        spent = 0
        lost: set[str] = set()
        down: dict[str, StorageError | None] = {}
        reach = CopySet("", list(locations.values()))
        for _copy_id, aip_id, version, name, _last in selected:
            if name in lost:
                continue
            size = sizes.get((aip_id, version), 0)
            if options.budget_bytes is not None and spent and spent + size > options.budget_bytes:
                break
            if name not in down:
                down[name] = reach.reachable(name)  # once per location and run
            problem = down[name]
            if problem is not None:  # a missing bucket must not read as every object missing
                empty = CopyResult(aip_id, version, name, CheckOutcome.COULD_NOT_CHECK)
                result = could_not_check(
                    sessions, run_id, empty, agent, now, problem.code, str(problem), required=reach.required
                )
            else:
                result = audit_copy(settings, sessions, locations, name, aip_id, version, run_id, agent, now)
            spent += result.bytes
            report.copies.append(result)
            if not renew_lease(sessions, name, holder, settings.audit.lease_seconds):
                log.error("lost the audit lease of %s (run %s): stopping there", name, run_id)
                lost.add(name)
        if options.mode == "all" and not options.limit and options.budget_bytes is None:
            report.unregistered = _unregistered(sessions, locations, held, run_id, now)
        with sessions() as session:
            report.incidents = len(
                list(session.scalars(select(Incident.id).where(Incident.run_id == run_id)))
            )
        finish_run(sessions, run_id, report, "completed")
    except BaseException as exc:
        finish_run(sessions, run_id, report, "failed", message=str(exc))
        raise
    finally:
        for name in held:
            release_lease(sessions, name, holder)


def _select_due(
    settings: Settings, sessions: sessionmaker[Session], options: AuditOptions, held: list[str], now: datetime
) -> tuple[list[tuple[int, str, int, str, datetime | None]], dict[tuple[str, int], int]]:
    """The copies this run checks, across the held locations oldest check first, and their sizes."""
    with sessions() as session:
        selected = [
            row
            for name in held
            for row in due_copies(
                session,
                location=name,
                mode=options.mode,
                now=now,
                cycle_days=settings.audit.cycle_days,
                limit=options.limit,
            )
        ]
        oldest = datetime.min.replace(tzinfo=UTC)
        selected.sort(key=lambda row: (row[4] is not None, row[4] or oldest, row[0]))  # across locations
        sizes = _copy_sizes(session, {(row[1], row[2]) for row in selected})
    if options.limit:
        selected = selected[: options.limit]
    return selected, sizes


def _unregistered(
    sessions: sessionmaker[Session],
    locations: dict[str, Location],
    held: list[str],
    run_id: str,
    now: datetime,
) -> list[Unregistered]:
    """Objects a location holds that the catalog does not know and no running job is writing.

    Recovery removes what a dead job left before the audit starts; what is still here is a leftover
    recovery could not reach, or an AIP the catalog lost. Either way a person must look: the audit
    records a finding (never deletes the object), which the fixity report lists.
    """
    with sessions() as session:
        known = set(session.scalars(select(Aip.id)))
        known |= {
            str(a)
            for a in session.scalars(
                select(Job.aip_id).where(Job.status == JobStatus.RUNNING, Job.aip_id.is_not(None))
            )
        }
    found: list[Unregistered] = []
    for name in held:
        try:
            stray = [o for o in StoredObjects(locations[name]).ids() if o not in known]
        except StorageError as exc:
            log.warning("audit %s: could not list the objects of %s: %s", run_id, name, exc)
            continue
        for object_id in sorted(stray):
            found.append(Unregistered(name, object_id))
    if found:
        with sessions.begin() as session:
            for item in found:
                session.add(
                    AuditFinding(
                        run_id=run_id,
                        aip_id=item.object_id,
                        version=0,
                        location=item.location,
                        path="",
                        kind="unregistered",
                        code=item.code,
                        message=f"location {item.location!r} holds object {item.object_id}, which the "
                        "catalog does not know (an interrupted job's leftover, or an AIP the catalog lost)",
                        detected_at=now,
                        repair="none",
                    )
                )
    return found


def _copy_sizes(session: Session, pairs: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """Bytes an audit of each (AIP, version) copy reads: every distinct content file of the object."""
    out: dict[tuple[str, int], int] = {}
    aips = {aip for aip, _ in pairs}
    if not aips:
        return out
    distinct: dict[str, dict[str, int]] = {}
    for aip_id, sha512, size in session.execute(
        select(File.aip_id, File.sha512, File.size).where(File.aip_id.in_(aips))
    ):
        distinct.setdefault(aip_id, {})[sha512] = size
    for aip, version in pairs:
        out[(aip, version)] = sum(distinct.get(aip, {}).values())
    return out


def _log_outcome(report: AuditReport) -> None:
    for copy in report.copies:
        if copy.outcome is CheckOutcome.PASSED:
            continue
        log.warning(
            "fixity audit %s: %s v%d in %s: %s",
            report.run_id,
            copy.aip_id,
            copy.version,
            copy.location,
            copy.outcome,
            extra={"kholuu": {"event": "fixity", "run_id": report.run_id, **copy.as_dict()}},
        )


__all__ = [
    "AuditOptions",
    "AuditReport",
    "CopyResult",
    "acknowledge_incident",
    "due_copies",
    "incident_dict",
    "run_audit",
]
