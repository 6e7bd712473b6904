"""Rebuild the catalog from a storage root alone (``kholuu rebuild-catalog --location NAME``).

The catalog is Data Management in OAIS terms and can be lost; the storage root is the record.
For every published OCFL object of the location this reads the root inventory (sidecar checked,
OCFL 1.1 §3.5.6), and for every version the package ``METS.xml``, ``metadata/preservation/PREMIS.xml``
and each ``representations/<rep>/metadata/preservation/PREMIS_<rep>.xml`` (the file objects and
their per-file events live there), each checked against the inventory's SHA-512 before it is
parsed. From those it recreates the ``aip``, ``aip_version``, ``file`` and ``copy`` rows and the
in-package PREMIS events, in one transaction per object: a damaged object is reported with its
error code and nothing of it is written. The package kind, container, submitted names and job come
from the package's facts file (``preservation.facts``), never from the wording of its events.
Then the catalog journal (``repository.catalog.journal``) restores the archive's decisions about
the records: hồ sơ, tài liệu, agencies, phông, restrictions, access changes, transfers.

What storage does not hold cannot come back, and the report says so per object: events recorded
after the package was written (storage, accession, ingestion end, later audits), the job rows, the
MIME type, validator findings' locations, and, for a package written before packages carried a
facts file, the ingest facts (recorded as ``"unknown"``). Times come back at the precision they
were written: PREMIS and METS milliseconds, OCFL version blocks whole seconds.

Reading and cross-checking one object is :mod:`workflows.custody.rebuild_read`; this module walks
the location, records the copies other locations hold and writes the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import PreservationError
from preservation.events import Agent, Event, EventType, Outcome
from repository.catalog import store
from repository.catalog.journal import ReplayReport, replay_journal
from repository.catalog.models import Aip, Copy, CopyStatus
from repository.catalog.models import Event as EventRow
from repository.catalog.public_records import refresh_public_records
from repository.settings import Settings
from repository.storage.copyset import aip_status
from repository.storage.errors import BackendUnavailable, NotFound, StorageError
from repository.storage.locations import open_locations
from repository.storage.stored_objects import CopyMatch, StoredObjects
from workflows.custody.rebuild_read import PACKAGE_PREMIS, ObjectPlan, RebuildError, read_object
from workflows.jobs.envelope import Workflow, workflow_agent

__all__ = ["ObjectReport", "RebuildError", "RebuildOutcome", "RebuildReport", "rebuild_catalog"]


def rebuild_agent() -> Agent:
    """The catalog rebuild's PREMIS agent: the events it writes about what it recovered name it."""
    return workflow_agent(Workflow.REBUILD)


class RebuildOutcome(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"  # the catalog had the AIP; ``replace=True`` recreated its rows
    SKIPPED = "skipped"  # the catalog already has the AIP
    FAILED = "failed"  # damaged or contradictory: nothing written


@dataclass(frozen=True)
class ObjectReport:
    """What happened to one OCFL object. ``notes`` list what could not be recovered."""

    object_id: str
    outcome: RebuildOutcome
    code: str = ""
    message: str = ""
    version: int = 0
    files: int = 0
    events: int = 0
    copies: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "object_id": self.object_id,
            "outcome": self.outcome.value,
            "code": self.code,
            "message": self.message,
            "version": self.version,
            "files": self.files,
            "events": self.events,
            "copies": dict(self.copies),
            "notes": list(self.notes),
        }


@dataclass
class RebuildReport:
    """Every object of the location, in id order, and the locations that could not be compared."""

    location: str
    replace: bool
    objects: list[ObjectReport] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    records: ReplayReport = field(default_factory=ReplayReport)

    @property
    def totals(self) -> dict[str, int]:
        return {o.value: sum(1 for r in self.objects if r.outcome is o) for o in RebuildOutcome}

    def as_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "replace": self.replace,
            "totals": self.totals,
            "unreachable_locations": dict(self.unreachable),
            "objects": [o.as_dict() for o in self.objects],
            "records": self.records.as_dict(),
        }


def rebuild_catalog(
    settings: Settings, sessions: sessionmaker[Session], location: str, *, replace: bool = False
) -> RebuildReport:
    """Recreate the catalog rows of every AIP stored in ``location``.

    Args:
        location: the configured location whose OCFL storage root is read.
        replace: recreate AIPs the catalog already has (otherwise they are skipped). Their
            ``aip`` row is updated in place so that catalog-only events stay linked to it.

    Returns:
        One :class:`ObjectReport` per object, and in ``records`` what the catalog journal
        (``repository.catalog.journal``, merged over every reachable location) restored: hồ sơ,
        tài liệu, agencies, phông, restrictions, access changes, transfers (the public records
        the catalog search reads are copied from the rule again at the end). Other configured
        locations holding an identical copy (same root inventory digest) get a ``stored`` copy
        row; a reachable one without the object gets a ``pending`` copy (``kholuu storage sync``
        lands it); an unreachable one is listed in ``unreachable`` and not recorded.

    Raises:
        NotFound: ``rebuild.location_unknown`` when ``location`` is not configured.
        StorageError: the location itself cannot be listed (e.g. BackendUnavailable).
    """
    locations = open_locations(settings)
    if location not in {loc.name for loc in locations}:
        raise NotFound(
            f"no storage location {location!r} is configured",
            code="rebuild.location_unknown",
            key=location,
            location=location,
        )
    stores = [StoredObjects(loc) for loc in locations]
    source = next(s for s in stores if s.name == location)
    others = _Others([s for s in stores if s is not source], {loc.name for loc in locations if loc.required})
    report = RebuildReport(location=location, replace=replace)
    for object_id in source.ids():
        report.objects.append(_rebuild_object(sessions, source, others, object_id, report, replace))
    report.records = replay_journal(settings, sessions)
    with sessions.begin() as session:  # the triggers kept it row by row; copied whole once more
        refresh_public_records(session)
    return report


@dataclass(frozen=True)
class _Others:
    """The other configured locations, and which locations are required (for the AIP status)."""

    stores: list[StoredObjects]
    required: set[str]


def _rebuild_object(
    sessions: sessionmaker[Session],
    source: StoredObjects,
    others: _Others,
    object_id: str,
    report: RebuildReport,
    replace: bool,
) -> ObjectReport:
    with sessions() as session:
        if not replace and session.get(Aip, object_id) is not None:
            return ObjectReport(object_id, RebuildOutcome.SKIPPED, message="already in the catalog")
    try:
        plan = read_object(source, object_id)
        _add_copies(plan, others, report.unreachable)
        with sessions.begin() as session:
            outcome = _write(session, plan, replace=replace, source=source.name)
    except (StorageError, PreservationError, RebuildError, SQLAlchemyError) as exc:
        code = str(getattr(exc, "code", "catalog.error"))
        return ObjectReport(object_id, RebuildOutcome.FAILED, code=code, message=str(exc))
    return ObjectReport(
        object_id,
        outcome,
        version=plan.head,
        files=len(plan.files),
        events=len(plan.events),
        copies={c.location: c.status.value for c in plan.copies},
        notes=tuple(plan.notes),
    )


# ------------------------------------------------------------------------------------ copies


def _add_copies(plan: ObjectPlan, others: _Others, unreachable: dict[str, str]) -> None:
    """This location's copy, and every other location's copy of the same object version
    (:meth:`StoredObjects.compare`: the same root inventory, or the same but for the versions'
    ``created`` times, since ingest writes each location's inventory separately)."""
    stored = plan.stored

    def copy(location: str, status: CopyStatus, object_path: str, written: datetime | None) -> Copy:
        return Copy(
            version=plan.head, location=location, status=status, object_path=object_path, written_at=written
        )

    plan.copies.append(
        copy(stored.location, CopyStatus.STORED, stored.object_path, stored.versions[-1].created)
    )
    for other in others.stores:
        if other.name in unreachable:
            continue
        try:
            found = other.compare(stored)
        except BackendUnavailable as exc:
            unreachable[other.name] = str(exc)
            continue
        if found.match is CopyMatch.ABSENT:
            plan.copies.append(copy(other.name, CopyStatus.PENDING, found.object_path, None))
            plan.notes.append(f"copies: {other.name} does not hold the object; copy queued")
        elif found.match is CopyMatch.DIFFERENT:
            plan.notes.append(
                f"copies: {other.name} holds a different copy ({found.digest[:16]}…), not recorded"
            )
        else:
            plan.copies.append(copy(other.name, CopyStatus.STORED, found.object_path, found.written_at))
            if found.match is CopyMatch.SAME_VERSIONS:
                plan.notes.append(f"copies: {other.name} holds the same versions, written at other times")
    # an unreachable location is not recorded, and says nothing about the copies: not counted
    plan.fields["status"] = aip_status(plan.copies, others.required - set(unreachable), plan.head)


# ------------------------------------------------------------------------------------ writing


def _write(session: Session, plan: ObjectPlan, *, replace: bool, source: str) -> RebuildOutcome:
    """Insert (or, with ``replace``, recreate) one AIP's rows and events in the caller's transaction."""
    aip_id = plan.aip_id
    aip = session.get(Aip, aip_id)
    outcome = RebuildOutcome.ADDED
    if aip is None:
        aip = Aip(**plan.fields)
        session.add(aip)
    elif not replace:
        return RebuildOutcome.SKIPPED
    else:
        outcome = RebuildOutcome.REPLACED
        aip.versions.clear()
        aip.files.clear()
        aip.copies.clear()
        session.flush()  # the unique (aip, version, path) rows must be gone before the new ones
        for key, value in plan.fields.items():
            setattr(aip, key, value)
    aip.versions.extend(plan.versions)
    aip.files.extend(plan.files)
    aip.copies.extend(plan.copies)
    session.flush()
    wanted = {e.identifier for e in plan.events}
    for row in session.scalars(select(EventRow).where(EventRow.aip_id == aip_id, EventRow.in_package)):
        if row.identifier not in wanted:
            row.in_package = False  # no longer carried by the stored package
    known: set[str] = set()
    identifiers = sorted(wanted)
    for start in range(0, len(identifiers), 500):
        chunk = identifiers[start : start + 500]
        for row in session.scalars(select(EventRow).where(EventRow.identifier.in_(chunk))):
            if row.aip_id not in (None, aip_id):
                raise RebuildError(
                    aip_id, PACKAGE_PREMIS, f"event {row.identifier} belongs to AIP {row.aip_id}"
                )
            row.aip_id, row.in_package = aip_id, True
            known.add(row.identifier)
    store.add_events(
        session, [e for e in plan.events if e.identifier not in known], aip_id=aip_id, in_package=True
    )
    copies = ", ".join(f"{c.location} ({c.status.value})" for c in plan.copies)
    store.add_events(
        session,
        [
            Event(
                type=EventType.ACCESSION,
                outcome=Outcome.WARNING if plan.notes else Outcome.SUCCESS,
                detail=f"AIP registered in the catalog again, rebuilt from the OCFL storage root of location "
                f"{source!r} (inventory, METS and PREMIS of every version)",
                detail_code="rebuild.accession",
                detail_params={"location": source},
                outcome_detail="; ".join(
                    [f"v{plan.head}, {len(plan.files)} file rows, copies in {copies}", *plan.notes]
                ),
                agents=(rebuild_agent(),),
                objects=(aip_id,),
            )
        ],
        aip_id=aip_id,
    )
    return outcome
