"""Verify one AIP: re-read every stored copy and compare with what the catalog recorded at ingest.

Three outcomes (style guide item 15): ``passed``, ``failed`` (a digest differs, a file is missing
or extra — the object is damaged), or ``could not check`` (a location is unreachable — that says
nothing about the object and must never be reported as damage). Each run is recorded as a PREMIS
``fixity check`` event in the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.events import Event, EventType, Outcome
from repository.catalog import store
from repository.catalog.models import Aip, CopyStatus
from repository.settings import Settings
from repository.storage.errors import StorageError
from repository.storage.locations import open_locations
from workflows.jobs import Workflow, workflow_agent


@dataclass
class LocationReport:
    name: str
    outcome: str = "passed"
    files: int = 0
    bytes: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class VerifyReport:
    aip_id: str
    version: int
    locations: list[LocationReport]
    event_id: str = ""

    @property
    def outcome(self) -> str:
        outcomes = {loc.outcome for loc in self.locations}
        if "failed" in outcomes:
            return "failed"
        if "could not check" in outcomes or not self.locations:
            return "could not check"
        return "passed"

    @property
    def ok(self) -> bool:
        return self.outcome == "passed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "aip_id": self.aip_id,
            "version": self.version,
            "outcome": self.outcome,
            "ok": self.ok,
            "event": self.event_id,
            "files": sum(loc.files for loc in self.locations),
            "bytes": sum(loc.bytes for loc in self.locations),
            "locations": [
                {
                    "name": loc.name,
                    "outcome": loc.outcome,
                    "files": loc.files,
                    "bytes": loc.bytes,
                    "problems": loc.problems,
                }
                for loc in self.locations
            ],
        }


def verify_aip(settings: Settings, sessions: sessionmaker[Session], aip_id: str) -> VerifyReport:
    with sessions() as session:
        aip = session.get(Aip, aip_id, options=[selectinload(Aip.files), selectinload(Aip.copies)])
        if aip is None:
            raise LookupError(aip_id)
        version = aip.current_version
        expected = {f.aip_path: (f.sha256, f.sha512, f.size) for f in aip.files if f.version == version}
        copies = [c for c in aip.copies if c.version == version]
    configured = {loc.name: loc for loc in open_locations(settings)}
    report = VerifyReport(aip_id=aip_id, version=version, locations=[])
    for copy in copies:
        loc_report = LocationReport(name=copy.location)
        report.locations.append(loc_report)
        location = configured.get(copy.location)
        if copy.status is CopyStatus.PENDING:
            loc_report.outcome = "could not check"
            loc_report.problems.append(
                {
                    "code": "verify.copy_pending",
                    "path": "",
                    "message": f"the copy in {copy.location!r} is queued, not yet written (storage sync)",
                }
            )
            continue
        if location is None:
            loc_report.outcome = "could not check"
            loc_report.problems.append(
                {
                    "code": "verify.location_unknown",
                    "path": "",
                    "message": f"location {copy.location!r} is not configured",
                }
            )
            continue
        try:
            _check_location(location.store, aip_id, version, expected, loc_report)
        except StorageError as exc:
            loc_report.outcome = "could not check"
            loc_report.problems.append(
                {"code": exc.code, "path": getattr(exc, "key", "") or "", "message": str(exc)}
            )
    now = datetime.now(UTC)
    event = Event(
        type=EventType.FIXITY_CHECK,
        outcome={"passed": Outcome.SUCCESS, "failed": Outcome.FAILURE}.get(report.outcome, Outcome.WARNING),
        detail="Every file of every stored copy re-read and compared with the SHA-512 of the OCFL inventory "
        "and the SHA-256 recorded in the catalog at ingest",
        outcome_detail="; ".join(
            f"{loc.name}: {loc.outcome} ({loc.files} files"
            + (", " + ", ".join(f"{p['code']} {p['path']}" for p in loc.problems) if loc.problems else "")
            + ")"
            for loc in report.locations
        ),
        agents=(workflow_agent(Workflow.VERIFY),),
        objects=(aip_id,),
        datetime=now,
    )
    with sessions.begin() as session:
        store.add_events(session, [event], aip_id=aip_id)
        aip_row = session.get(Aip, aip_id, options=[selectinload(Aip.copies)])
        assert aip_row is not None
        for c in aip_row.copies:
            loc_outcome = next((loc.outcome for loc in report.locations if loc.name == c.location), None)
            if c.version == version and loc_outcome == "passed":
                c.verified_at = now
                c.status = CopyStatus.STORED
    report.event_id = event.identifier
    return report


def _check_location(
    ocfl: Any, aip_id: str, version: int, expected: dict[str, tuple[str, str, int]], out: LocationReport
) -> None:
    for finding in ocfl.verify_object(aip_id):
        out.problems.append({"code": finding.code, "path": finding.where, "message": finding.message})
    inventory = ocfl.inventory(aip_id)
    state = inventory["versions"][f"v{version}"]["state"]
    sha256_of: dict[str, str] = {}
    for digest, paths in inventory.get("fixity", {}).get("sha256", {}).items():
        for p in paths:
            sha256_of[p] = digest
    content_of: dict[str, tuple[str, str]] = {}
    for sha512, logical_paths in state.items():
        content_path = inventory["manifest"][sha512][0]
        for lp in logical_paths:
            content_of[lp] = (sha512, content_path)
    for path, (sha256, sha512, size) in sorted(expected.items()):
        found = content_of.get(path)
        if found is None:
            out.problems.append(
                {
                    "code": "verify.missing_in_storage",
                    "path": path,
                    "message": "in the catalog, not in the stored version",
                }
            )
            continue
        out.files += 1
        out.bytes += size
        if found[0] != sha512:
            out.problems.append(
                {
                    "code": "verify.sha512_differs",
                    "path": path,
                    "message": f"catalog sha512 {sha512}, storage inventory {found[0]}",
                }
            )
        stored_sha256 = sha256_of.get(found[1])
        if stored_sha256 is not None and stored_sha256 != sha256:
            out.problems.append(
                {
                    "code": "verify.sha256_differs",
                    "path": path,
                    "message": f"catalog sha256 {sha256}, storage fixity {stored_sha256}",
                }
            )
    for path in sorted(set(content_of) - set(expected)):
        out.problems.append(
            {
                "code": "verify.missing_in_catalog",
                "path": path,
                "message": "in the stored version, not in the catalog",
            }
        )
    if out.problems:
        out.outcome = "failed"
