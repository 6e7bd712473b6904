"""Auditing one copy: check it, repair what the check found from a good copy, check it again.

The checking and repairing are :class:`repository.storage.copyset.CopySet`'s; this module decides
what a copy's outcome is (passed, repaired, failed, could not check) from the two checks and the
repairs between them, and hands it to :mod:`workflows.custody.audit_record` to be recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.events import Event
from preservation.findings import CheckOutcome
from repository.catalog.models import Copy, CopyStatus, File, Job, JobStatus
from repository.settings import Settings
from repository.storage.copyset import CopySet, Recorded, manifest_verdicts
from repository.storage.errors import BackendUnavailable
from repository.storage.locations import Location
from workflows.custody.audit_record import could_not_check, record_check
from workflows.custody.audit_report import CopyResult, Problem, Repair
from workflows.jobs.runner import kill_point


def audit_copy(
    settings: Settings,
    sessions: sessionmaker[Session],
    locations: dict[str, Location],
    name: str,
    aip_id: str,
    version: int,
    run_id: str,
    agent: Any,
    now: datetime,
) -> CopyResult:
    """Check one copy (:meth:`CopySet.check`), repair what it found from a good copy
    (:meth:`CopySet.repair`), check again, and record it all."""
    copies = CopySet(aip_id, list(locations.values()), verdicts=manifest_verdicts(settings))
    with sessions() as session:
        columns = (File.version, File.aip_path, File.sha256, File.sha512, File.size)  # rows, not ORM entities
        recorded = [Recorded(*row) for row in session.execute(select(*columns).where(File.aip_id == aip_id))]
        holders = [
            c.location
            for c in session.scalars(
                select(Copy).where(
                    Copy.aip_id == aip_id, Copy.version == version, Copy.status == CopyStatus.STORED
                )
            )
        ]
        busy = session.scalars(
            select(Job.id).where(Job.aip_id == aip_id, Job.status == JobStatus.RUNNING)
        ).first()
    result = CopyResult(aip_id=aip_id, version=version, location=name, outcome=CheckOutcome.PASSED)
    result.files = len({f.sha512 for f in recorded})
    result.bytes = sum({f.sha512: f.size for f in recorded}.values())
    if busy is not None:  # an update of this AIP is being written: its keys are in motion
        message = f"job {busy} is writing this AIP; it is checked on the next run"
        return could_not_check(
            sessions, run_id, result, agent, now, "audit.object_busy", message, required=copies.required
        )
    checked = copies.check(name, recorded, version=version, probe=False)  # the location answered this run
    if checked.outcome is CheckOutcome.COULD_NOT_CHECK:
        why = checked.findings[0]
        return could_not_check(sessions, run_id, result, agent, now, why.code, why.message,
                                required=copies.required)  # fmt: skip
    if checked.outcome is CheckOutcome.PASSED:
        record_check(sessions, run_id, result, [], agent, now, required=copies.required, repaired_events=[])
        return result
    kill_point("audit: damage found")  # crash tests (KHOLUU_KILL_AT): checked, nothing repaired
    repaired_events: list[Event] = []
    sources = copies.good_sources(name, holders)
    try:
        for finding in checked.findings:
            outcome, source, event = copies.repair(
                name, finding, sources=sources, recorded=recorded, run_id=run_id, agent=agent
            )
            result.problems.append(Problem(finding, Repair(outcome, source, event)))
            if event is not None:
                repaired_events.append(event)
    except BackendUnavailable as exc:  # the audited location went away during the repair
        return could_not_check(sessions, run_id, result, agent, now, exc.code, str(exc),
                                required=copies.required, events=repaired_events)  # fmt: skip
    kill_point("audit: repaired")  # rewritten from a good copy, neither checked again nor recorded
    after = copies.check(name, recorded, version=version, probe=False)
    if after.outcome is CheckOutcome.COULD_NOT_CHECK and after.findings[0].code != "audit.object_changed":
        why = after.findings[0]
        return could_not_check(sessions, run_id, result, agent, now, why.code, why.message,
                                required=copies.required, events=repaired_events)  # fmt: skip
    remaining = after.findings if after.outcome is CheckOutcome.FAILED else []
    result.outcome = CheckOutcome.REPAIRED if after.outcome is CheckOutcome.PASSED else CheckOutcome.FAILED
    record_check(
        sessions, run_id, result, result.problems, agent, now,
        required=copies.required, repaired_events=repaired_events, remaining=remaining,
    )  # fmt: skip
    return result
