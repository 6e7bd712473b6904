"""Verify one AIP: the audit of its current copies without repair (``kholuu aip verify``).

Every stored copy of the current version is checked by
:meth:`repository.storage.copyset.CopySet.check`, exactly as the audit checks it, with the same
finding codes and the same outcomes (style guide item 15): ``passed``; ``failed`` (a digest
differs, a file, an inventory or the whole object is missing, a file is extra — the object is
damaged); ``could not check`` (a location is unreachable, a copy is queued, a job is writing the
AIP — that says nothing about the object and must never be reported as damage). Nothing is
repaired. Each run is a PREMIS ``fixity check`` event in the catalog; each copy read gets its
last-checked time and outcome, and the AIP its status by the one rule
(:func:`repository.storage.copyset.aip_status`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.events import Event, EventType, Outcome
from preservation.findings import CheckOutcome, DamageKind, Finding
from repository.catalog import store
from repository.catalog.models import Aip, AipStatus, CopyStatus, Job, JobStatus
from repository.settings import Settings
from repository.storage.copy_check import damage
from repository.storage.copyset import CopySet, Recorded, aip_status, finding_dict
from workflows.jobs.envelope import Workflow, workflow_agent


@dataclass
class LocationReport:
    name: str
    outcome: CheckOutcome = CheckOutcome.PASSED
    files: int = 0
    bytes: int = 0
    problems: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome.value,
            "files": self.files,
            "bytes": self.bytes,
            "problems": [finding_dict(f) for f in self.problems],
        }


@dataclass
class VerifyReport:
    aip_id: str
    version: int
    locations: list[LocationReport]
    event_id: str = ""

    @property
    def outcome(self) -> CheckOutcome:
        outcomes = {loc.outcome for loc in self.locations}
        if CheckOutcome.FAILED in outcomes:
            return CheckOutcome.FAILED
        if CheckOutcome.COULD_NOT_CHECK in outcomes or not self.locations:
            return CheckOutcome.COULD_NOT_CHECK
        return CheckOutcome.PASSED

    @property
    def ok(self) -> bool:
        return self.outcome is CheckOutcome.PASSED

    def as_dict(self) -> dict[str, Any]:
        return {
            "aip_id": self.aip_id,
            "version": self.version,
            "outcome": self.outcome.value,
            "ok": self.ok,
            "event": self.event_id,
            "files": sum(loc.files for loc in self.locations),
            "bytes": sum(loc.bytes for loc in self.locations),
            "locations": [loc.as_dict() for loc in self.locations],
        }


def verify_aip(settings: Settings, sessions: sessionmaker[Session], aip_id: str) -> VerifyReport:
    with sessions() as session:
        aip = session.get(Aip, aip_id, options=[selectinload(Aip.files), selectinload(Aip.copies)])
        if aip is None:
            raise LookupError(aip_id)
        version = aip.current_version
        recorded = [Recorded.of(f) for f in aip.files]
        copies = [(c.location, c.status) for c in aip.copies if c.version == version]
        busy = session.scalars(
            select(Job.id).where(Job.aip_id == aip_id, Job.status == JobStatus.RUNNING)
        ).first()
    current = [r for r in recorded if r.version == version]
    copy_set = CopySet.of(settings, aip_id)
    report = VerifyReport(aip_id=aip_id, version=version, locations=[])
    for name, status in copies:
        loc_report = LocationReport(name=name)
        report.locations.append(loc_report)
        if status is CopyStatus.PENDING:
            loc_report.outcome = CheckOutcome.COULD_NOT_CHECK
            message = f"the copy in {name!r} is queued, not yet written (storage sync)"
            loc_report.problems.append(_unavailable("verify.copy_pending", message))
            continue
        if busy is not None:  # an update of this AIP is being written: its keys are in motion
            loc_report.outcome = CheckOutcome.COULD_NOT_CHECK
            message = f"job {busy} is writing this AIP; check it again when the job has ended"
            loc_report.problems.append(_unavailable("audit.object_busy", message))
            continue
        checked = copy_set.check(name, recorded, version=version)
        loc_report.outcome = checked.outcome
        loc_report.problems = list(checked.findings)
        if checked.outcome is not CheckOutcome.COULD_NOT_CHECK:
            loc_report.files = len(current)
            loc_report.bytes = sum(r.size for r in current)
    now = datetime.now(UTC)
    event = Event(
        type=EventType.FIXITY_CHECK,
        outcome={CheckOutcome.PASSED: Outcome.SUCCESS, CheckOutcome.FAILED: Outcome.FAILURE}.get(
            report.outcome, Outcome.WARNING
        ),
        detail="Every file of every stored copy re-read and compared with the OCFL inventory and with the "
        "SHA-256 and SHA-512 recorded in the catalog, and the METS and PREMIS checksums with the catalog "
        "(the audit's checks, without repair)",
        detail_code={
            CheckOutcome.PASSED: "verify.fixity_passed",
            CheckOutcome.FAILED: "verify.fixity_failed",
        }.get(report.outcome, "verify.fixity_could_not_check"),
        detail_params={"locations": ", ".join(loc.name for loc in report.locations)},
        outcome_detail="; ".join(
            f"{loc.name}: {loc.outcome} ({loc.files} files"
            + (", " + ", ".join(f"{p.code} {p.where}" for p in loc.problems) if loc.problems else "")
            + ")"
            for loc in report.locations
        ),
        agents=(workflow_agent(Workflow.VERIFY),),
        objects=(aip_id,),
        datetime=now,
    )
    outcomes = {loc.name: loc.outcome for loc in report.locations}
    with sessions.begin() as session:
        store.add_events(session, [event], aip_id=aip_id)
        aip_row = session.get(Aip, aip_id, options=[selectinload(Aip.copies)])
        assert aip_row is not None
        for c in aip_row.copies:
            outcome = outcomes.get(c.location)
            if c.version != version or outcome is None or outcome is CheckOutcome.COULD_NOT_CHECK:
                continue  # an unread copy keeps its last check (style guide item 15)
            c.last_checked_at = now
            c.check_outcome = outcome.value
            if outcome is CheckOutcome.PASSED:
                c.verified_at = now
                c.status = CopyStatus.STORED
        if aip_row.status in (AipStatus.STORED, AipStatus.DEGRADED):
            session.flush()
            aip_row.status = aip_status(aip_row.copies, copy_set.required, version)
    report.event_id = event.identifier
    return report


def _unavailable(code: str, message: str) -> Finding:
    return damage(code, "", message, DamageKind.UNAVAILABLE)
