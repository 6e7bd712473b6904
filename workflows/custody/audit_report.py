"""What a fixity audit found: one result per copy checked and the run's report.

Kept apart from :mod:`workflows.custody.audit` (which runs the audit) because the alerts, the CLI and
the recording of each check read these results without needing the machinery that produces them.
Inside, every problem is a typed :class:`preservation.findings.Finding` with what the audit did
about it (:class:`Repair`); ``as_dict`` is the one place that turns them into the report's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from preservation.events import Event
from preservation.findings import CheckOutcome, Finding, RepairOutcome
from repository.storage.copyset import finding_dict


@dataclass(frozen=True)
class Repair:
    """What the audit did about one finding: the outcome, the location repaired from, the event."""

    outcome: RepairOutcome
    source: str | None = None
    event: Event | None = None  # the PREMIS ``recovery`` event of a repair


@dataclass(frozen=True)
class Problem:
    """One finding about a copy and, when the audit tried to repair it, the repair."""

    finding: Finding
    repair: Repair | None = None

    def as_dict(self, *, event: bool = True) -> dict[str, Any]:
        out = finding_dict(self.finding)
        if self.repair is not None:
            out |= {"repair": self.repair.outcome.value, "repaired_from": self.repair.source}
            if event:
                out["event_id"] = self.repair.event.identifier if self.repair.event else None
        return out


@dataclass(frozen=True)
class Unregistered:
    """An object a location holds that the catalog does not know (``audit.unregistered_object``)."""

    location: str
    object_id: str
    code: str = "audit.unregistered_object"

    def as_dict(self) -> dict[str, str]:
        return {"location": self.location, "object_id": self.object_id, "code": self.code}


@dataclass
class CopyResult:
    aip_id: str
    version: int
    location: str
    outcome: CheckOutcome
    files: int = 0
    bytes: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        # a copy that could not be checked again after its repairs lists them without their events
        event = self.outcome is not CheckOutcome.COULD_NOT_CHECK
        return {
            "aip_id": self.aip_id,
            "version": self.version,
            "location": self.location,
            "outcome": self.outcome.value,
            "files": self.files,
            "bytes": self.bytes,
            "problems": [p.as_dict(event=event) for p in self.problems],
        }


@dataclass
class AuditReport:
    run_id: str
    mode: str
    location: str | None
    copies: list[CopyResult] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    incidents: int = 0
    unregistered: list[Unregistered] = field(default_factory=list)
    """Objects in storage the catalog does not know (a full audit lists every object)."""
    audit_log_anchor: dict[str, Any] | None = None
    """The staff audit log's head written to storage after the run (``AnchorWrite.as_dict``)."""

    @property
    def ok(self) -> bool:
        return all(c.outcome in (CheckOutcome.PASSED, CheckOutcome.REPAIRED) for c in self.copies)

    def count(self, outcome: CheckOutcome) -> int:
        return sum(1 for c in self.copies if c.outcome == outcome)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "location": self.location,
            "ok": self.ok,
            "copies_checked": len(self.copies),
            "passed": self.count(CheckOutcome.PASSED),
            "repaired": self.count(CheckOutcome.REPAIRED),
            "failed": self.count(CheckOutcome.FAILED),
            "could_not_check": self.count(CheckOutcome.COULD_NOT_CHECK),
            "files": sum(c.files for c in self.copies),
            "bytes": sum(c.bytes for c in self.copies),
            "incidents_opened": self.incidents,
            "busy_locations": self.busy,
            "unregistered_objects": [u.as_dict() for u in self.unregistered],
            "audit_log_anchor": self.audit_log_anchor,
            "copies": [c.as_dict() for c in self.copies],
        }


__all__ = ["AuditReport", "CopyResult", "Problem", "Repair", "Unregistered"]
