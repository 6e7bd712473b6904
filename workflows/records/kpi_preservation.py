"""K5 of the QĐ 458/QĐ-TTg dashboard, giải pháp bảo quản: judged from the copies' real state.

Apart from :mod:`workflows.records.kpi` because it reads the storage side of the catalog (copies,
audit runs, incidents), not the records: the one figure that is about how the archive keeps the
records rather than which records it holds (vn-standards.md §4; TT 05/2025 Điều 27).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from repository.catalog.copy_state import CopyState, copy_state, good_copy_sql
from repository.catalog.models import Aip, AipStatus, AuditRun, Copy, CopyStatus, Incident
from repository.settings import Settings
from workflows.records.kpi_figures import Basis, Figure, make_figure


def preservation_solution(session: Session, settings: Settings, cutoff: datetime) -> Figure:
    """ISO 16363 / QĐ 458 "giải pháp bảo quản", from the copies' real state (issue 11, item 15):

    * at least two required storage locations (TT 05/2025 Điều 27: two backup sets on
      independent media);
    * nothing damaged: no open incident, no degraded AIP, no copy whose last check found damage
      that is still there (:mod:`repository.catalog.copy_state`);
    * every held AIP has a good copy of its current version in every required location (a queued
      ``pending`` copy, a failed write or a missing row is not one);
    * every configured location covered by a completed fixity audit started within
      ``audit.cycle_days`` before ``cutoff`` (``AuditRun.location`` = that location, or None: a
      run over every location), and every held copy in it actually read in that window (an audit
      that checked 0 copies, or could not reach them, covers nothing).

    The copies' state is the catalog's today (it keeps no history of copy states); the audits are
    those before ``cutoff``. The evidence names what fails."""
    locations = [loc.name for loc in settings.storage.locations]
    required = [loc.name for loc in settings.storage.locations if loc.required]
    cycle_start = cutoff - timedelta(days=settings.audit.cycle_days)
    completed = list(
        session.scalars(
            select(AuditRun)
            .where(AuditRun.status == "completed", AuditRun.started_at < cutoff)
            .order_by(AuditRun.started_at.desc(), AuditRun.id)
        )
    )
    latest = completed[0] if completed else None
    covering: dict[str, AuditRun] = {}
    for run in completed:
        if run.started_at < cycle_start:
            break
        for name in locations if run.location is None else [run.location]:
            covering.setdefault(name, run)
    audits = {
        name: {
            "run": covering[name].id,
            "started_at": covering[name].started_at.isoformat(),
            "copies_checked": covering[name].copies_checked,
            "could_not_check": covering[name].could_not_check,
        }
        for name in locations
        if name in covering
    }
    state = _copies_state(session, required, cycle_start, cutoff)
    unchecked = {name: n for name, n in state.pop("unchecked_copies").items() if n}
    missing = [name for name in locations if name not in covering or name in unchecked]
    copies_ok = len(required) >= 2
    damaged = bool(state["open_incidents"] or state["degraded_aips"] or state["copies_damaged"])
    incomplete = bool(any(state["aips_without_good_copy"].values()) or state["copies_pending"])
    audited = bool(locations) and not missing
    evidence = {
        "locations": locations,
        "required_locations": required,
        "audit_schedules": [s.location for s in settings.audit.schedules],
        "cycle_days": settings.audit.cycle_days,
        "cycle_start": cycle_start.isoformat(),
        "audits": audits,
        "audited_locations": [name for name in locations if name not in missing],
        "missing_audit_locations": missing,
        "unchecked_copies": unchecked,
        "latest_audit_run": latest.id if latest else None,
        "latest_audit_at": latest.started_at.isoformat() if latest else None,
        "latest_audit_copies_checked": latest.copies_checked if latest else None,
        "two_required_copies": copies_ok,
        "audited_within_cycle": audited,
        **state,
    }
    ok = copies_ok and not damaged and not incomplete and audited
    note = ""
    if not copies_ok:
        note = "kpi.note.k5_copies"
    elif damaged:
        note = "kpi.note.k5_damaged"
    elif incomplete:
        note = "kpi.note.k5_incomplete"
    elif not audited:
        note = "kpi.note.k5_audit_missing"
    return make_figure("K5", "solution", 1 if ok else 0, 1, Basis.MEASURED, note, evidence)


def _copies_state(
    session: Session, required: Sequence[str], cycle_start: datetime, cutoff: datetime
) -> dict[str, Any]:
    """Counts over the copies of the current version of held AIPs (``stored`` or ``degraded``),
    by the one copy-state rule; aggregates only, nothing per AIP is held in memory."""
    held = Aip.status.in_((AipStatus.STORED, AipStatus.DEGRADED))
    current = and_(Copy.aip_id == Aip.id, Copy.version == Aip.current_version)
    by_state: dict[str, int] = defaultdict(int)
    for status, outcome, count in session.execute(
        select(Copy.status, Copy.check_outcome, func.count())
        .select_from(Copy)
        .join(Aip, current)
        .where(held)
        .group_by(Copy.status, Copy.check_outcome)
    ):
        by_state[copy_state(status, outcome).value] += int(count)
    without_good: dict[str, int] = {}
    unchecked: dict[str, int] = {}
    for name in required:
        good_here = exists().where(current, Copy.location == name, good_copy_sql())
        without_good[name] = int(session.scalar(select(func.count(Aip.id)).where(held, ~good_here)) or 0)
    read_in_cycle = and_(
        Copy.last_checked_at >= cycle_start,
        Copy.last_checked_at < cutoff,
        or_(Copy.check_outcome.is_(None), Copy.check_outcome != "could not check"),
    )
    for name, count in session.execute(
        select(Copy.location, func.count())
        .select_from(Copy)
        .join(Aip, current)
        .where(held, Copy.status == CopyStatus.STORED, or_(Copy.last_checked_at.is_(None), ~read_in_cycle))
        .group_by(Copy.location)
    ):
        unchecked[str(name)] = int(count)
    return {
        "open_incidents": int(
            session.scalar(select(func.count(Incident.id)).where(Incident.status == "open")) or 0
        ),
        "degraded_aips": int(
            session.scalar(select(func.count(Aip.id)).where(Aip.status == AipStatus.DEGRADED)) or 0
        ),
        "copies_damaged": by_state[CopyState.DAMAGED.value],
        "copies_pending": by_state[CopyState.PENDING.value],
        "copies_failed": by_state[CopyState.FAILED.value],
        "aips_without_good_copy": without_good,
        "unchecked_copies": unchecked,
    }


__all__ = ["preservation_solution"]
