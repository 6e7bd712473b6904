"""Recording a fixity check: the PREMIS events, findings, incidents, copy state and run counters.

ISO 16363 3.3.5 and 5.1.1.3 ask that integrity measurements be kept: every copy an audit checks
leaves a ``fixity check`` event, one finding per problem, an incident for damage no good copy could
repair, and its last-checked time and outcome on the copy row (which the next audit's choice of due
copies reads). Kept apart from the checking itself (:mod:`workflows.custody.audit_copy`) because
every path out of a check, including "could not check", ends here in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.events import Event, EventType, Outcome
from preservation.findings import CheckOutcome, DamageKind, Finding, RepairOutcome, Severity
from repository.catalog import store
from repository.catalog.models import Aip, AipStatus, AuditFinding, AuditRun, Copy, Incident
from repository.storage.copyset import aip_status
from workflows.custody.audit_report import AuditReport, CopyResult, Problem

UNREPAIRED = (RepairOutcome.NO_GOOD_COPY, RepairOutcome.REPAIR_OFF, RepairOutcome.NONE)
"""Repair outcomes that leave damage for a person: an incident is opened if the damage remains."""
_FIXITY_CODES = {
    CheckOutcome.PASSED: "audit.fixity_passed",
    CheckOutcome.REPAIRED: "audit.fixity_repaired",
    CheckOutcome.FAILED: "audit.fixity_failed",
}
"""The fixity-check event's language-neutral detail by outcome (texts: messages ``[event.audit]``)."""


def could_not_check(
    sessions: sessionmaker[Session],
    run_id: str,
    result: CopyResult,
    agent: Any,
    now: datetime,
    code: str,
    message: str,
    *,
    required: Collection[str],
    events: list[Event] | None = None,
) -> CopyResult:
    result.outcome = CheckOutcome.COULD_NOT_CHECK
    result.files = result.bytes = 0
    why = Finding(code, Severity.ERROR, "", message, kind=DamageKind.UNAVAILABLE)
    result.problems.append(Problem(why))
    record_check(sessions, run_id, result, [], agent, now, required=required, repaired_events=events or [])
    return result


# ----------------------------------------------------------------------------------- recording


def record_check(
    sessions: sessionmaker[Session],
    run_id: str,
    result: CopyResult,
    findings: Sequence[Problem],
    agent: Any,
    now: datetime,
    *,
    required: Collection[str],
    repaired_events: list[Event],
    remaining: Sequence[Finding] = (),
) -> None:
    """Record one checked copy in one transaction: its events, findings, incidents, copy row and run.

    ``findings`` are the problems the check found and the repairs tried (each one an audit
    finding row); ``remaining`` what the check after the repairs still found."""
    check = _fixity_event(result, findings, agent, now)
    with sessions.begin() as session:
        store.add_events(session, [check, *repaired_events], aip_id=result.aip_id)
        _add_findings(session, run_id, result, findings, remaining, now)
        _update_copy(session, result, required, now)
        _count_in_run(session, run_id, result, findings)


def _fixity_event(result: CopyResult, findings: Sequence[Problem], agent: Any, now: datetime) -> Event:
    """The PREMIS ``fixity check`` event of one copy, its outcome detail summing up what was found."""
    outcome = {
        CheckOutcome.PASSED: Outcome.SUCCESS,
        CheckOutcome.REPAIRED: Outcome.SUCCESS,
        CheckOutcome.FAILED: Outcome.FAILURE,
    }.get(result.outcome, Outcome.WARNING)
    detail = (
        f"Every file of the copy in storage location {result.location!r} streamed and hashed (SHA-256) and "
        "compared with the OCFL inventory's fixity block and the digest recorded at ingest; the inventory's "
        "SHA-512 content digests and sidecars, and the METS and PREMIS checksums, compared with the catalog"
    )
    summary = {
        CheckOutcome.PASSED: f"{result.files} files, {result.bytes} bytes: no problem",
        CheckOutcome.COULD_NOT_CHECK: "; ".join(p.finding.message for p in result.problems),
    }.get(result.outcome, "; ".join(f"{_kind(p.finding)} {p.finding.where}: {_repair(p)}" for p in findings))
    return Event(
        type=EventType.FIXITY_CHECK,
        outcome=outcome,
        detail=detail,
        outcome_detail=f"{result.outcome}: {summary}",
        agents=(agent,),
        objects=(result.aip_id,),
        datetime=now,
        detail_code=_FIXITY_CODES.get(result.outcome, "audit.fixity_could_not_check"),
        detail_params={"location": result.location, "files": result.files, "bytes": result.bytes},
    )


def _kind(f: Finding) -> str:
    """A copy finding's kind as the records write it (a finding of no kind is damage)."""
    return str(f.kind or DamageKind.CORRUPT)


def _repair(p: Problem) -> RepairOutcome:
    return p.repair.outcome if p.repair is not None else RepairOutcome.NOT_TRIED


def _add_findings(
    session: Session,
    run_id: str,
    result: CopyResult,
    findings: Sequence[Problem],
    remaining: Sequence[Finding],
    now: datetime,
) -> None:
    """One finding per problem, and an incident for each one still there after an unsuccessful repair."""
    remaining_paths = {f.where for f in remaining}
    for p in findings:
        f, repair = p.finding, p.repair
        event = repair.event if repair is not None else None
        session.add(
            AuditFinding(
                run_id=run_id,
                aip_id=result.aip_id,
                version=result.version,
                location=result.location,
                path=f.where,
                kind=_kind(f),
                code=f.code,
                message=f.message,
                detected_at=now,
                repair=_repair(p).value,
                repaired_from=repair.source if repair is not None else None,
                event_id=event.identifier if event is not None else None,
            )
        )
        if f.where in remaining_paths and _repair(p) in UNREPAIRED:
            session.add(
                Incident(
                    aip_id=result.aip_id,
                    location=result.location,
                    path=f.where,
                    kind=_kind(f),
                    code=f.code,
                    message=f.message,
                    opened_at=now,
                    run_id=run_id,
                    status="open",
                )
            )


def _update_copy(session: Session, result: CopyResult, required: Collection[str], now: datetime) -> None:
    """The copy's last-checked time and outcome, and the AIP's status from all its copies."""
    copy = session.scalars(
        select(Copy).where(
            Copy.aip_id == result.aip_id, Copy.version == result.version, Copy.location == result.location
        )
    ).one()
    if result.outcome is not CheckOutcome.COULD_NOT_CHECK:  # an unread copy stays due (style item 15)
        copy.last_checked_at = now
        copy.check_outcome = result.outcome.value
    if result.outcome in (CheckOutcome.PASSED, CheckOutcome.REPAIRED):
        copy.verified_at = now
    aip = session.get(Aip, result.aip_id)
    if aip is not None and aip.status in (AipStatus.STORED, AipStatus.DEGRADED):
        session.flush()
        copies = session.scalars(select(Copy).where(Copy.aip_id == aip.id)).all()
        aip.status = aip_status(copies, required, aip.current_version)


def _count_in_run(session: Session, run_id: str, result: CopyResult, findings: Sequence[Problem]) -> None:
    """Add this copy to the audit run's counters."""
    run = session.get(AuditRun, run_id)
    assert run is not None
    run.copies_checked += 1
    run.files_checked += result.files
    run.bytes_checked += result.bytes
    run.failures += len(findings)
    run.repaired += sum(
        1 for p in findings if _repair(p) in (RepairOutcome.REPAIRED, RepairOutcome.MOVED_ASIDE)
    )
    run.could_not_check += 1 if result.outcome is CheckOutcome.COULD_NOT_CHECK else 0


def finish_run(
    sessions: sessionmaker[Session], run_id: str, report: AuditReport, status: str, *, message: str = ""
) -> None:
    with sessions.begin() as session:
        run = session.get(AuditRun, run_id)
        if run is None:
            return
        run.status = status
        run.ended_at = datetime.now(UTC)
        run.incidents = report.incidents
        run.message = message or (f"locations busy: {', '.join(report.busy)}" if report.busy else "")
