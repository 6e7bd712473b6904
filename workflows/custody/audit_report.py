"""What a fixity audit found: one result per copy checked and the run's report.

Kept apart from :mod:`workflows.custody.audit` (which runs the audit) because the alerts, the CLI and
the recording of each check read these results without needing the machinery that produces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from preservation.findings import CheckOutcome


@dataclass
class CopyResult:
    aip_id: str
    version: int
    location: str
    outcome: CheckOutcome
    files: int = 0
    bytes: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "aip_id": self.aip_id,
            "version": self.version,
            "location": self.location,
            "outcome": self.outcome.value,
            "files": self.files,
            "bytes": self.bytes,
            "problems": self.problems,
        }


@dataclass
class AuditReport:
    run_id: str
    mode: str
    location: str | None
    copies: list[CopyResult] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    incidents: int = 0
    unregistered: list[dict[str, Any]] = field(default_factory=list)
    """Objects in storage the catalog does not know (a full audit lists every object)."""

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
            "unregistered_objects": self.unregistered,
            "copies": [c.as_dict() for c in self.copies],
        }


__all__ = ["AuditReport", "CopyResult"]
