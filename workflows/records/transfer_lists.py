"""Transfer lists: the transfers of one status or agency, those past a deadline, and their JSON.

What the archivist reads to follow the transfers (``kholuu transfer list``/``overdue``/``show``),
apart from :mod:`workflows.records.transfers`, which changes them: reading never needs the rules
of the steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from repository.catalog.records import Transfer, TransferStatus
from workflows.records.transfers import UNDECIDED, find_agency


@dataclass(frozen=True)
class OverdueTransfer:
    """A transfer past one of its deadlines: ``kind`` is ``decision`` or ``confirmation``."""

    transfer: Transfer
    kind: str
    due_on: date
    days_late: int


def overdue_transfers(session: Session, on: date) -> list[OverdueTransfer]:
    """Undecided transfers past ``decision_due_on`` and unconfirmed ones past ``confirm_due_on``
    (a deadline day itself is still in time), oldest deadline first."""
    rows = session.scalars(
        select(Transfer)
        .where(
            or_(
                Transfer.status.in_(UNDECIDED) & (Transfer.decision_due_on < on),
                Transfer.confirmed_at.is_(None) & (Transfer.confirm_due_on < on),
            )
        )
        .order_by(Transfer.received_at, Transfer.id)
    )
    out: list[OverdueTransfer] = []
    for t in rows:
        if t.confirmed_at is None and t.confirm_due_on < on:
            out.append(OverdueTransfer(t, "confirmation", t.confirm_due_on, (on - t.confirm_due_on).days))
        if t.status in UNDECIDED and t.decision_due_on < on:
            out.append(OverdueTransfer(t, "decision", t.decision_due_on, (on - t.decision_due_on).days))
    out.sort(key=lambda o: (o.due_on, o.transfer.id, o.kind))
    return out


def list_transfers(
    session: Session, *, status: TransferStatus | None = None, organ_id: str | None = None
) -> list[Transfer]:
    """Transfers, newest receipt first, optionally of one status or one agency."""
    query = select(Transfer).order_by(Transfer.received_at.desc(), Transfer.id)
    if status is not None:
        query = query.where(Transfer.status == status)
    if organ_id is not None:
        query = query.where(Transfer.agency_id == find_agency(session, organ_id).id)
    return list(session.scalars(query))


def transfer_dict(t: Transfer) -> dict[str, Any]:
    """The JSON shape of a transfer (CLI ``--json``; keys are stable)."""
    return {
        "transfer_id": t.id,
        "organ_id": t.agency.organ_id if t.agency else None,
        "agency": t.agency.name if t.agency else None,
        "plan_id": t.plan_id,
        "plan_reference": t.plan.reference if t.plan else None,
        "package_name": t.package_name,
        "status": t.status.value,
        "received_at": t.received_at.isoformat(),
        "received_by": t.received_by,
        "confirm_due_on": t.confirm_due_on.isoformat(),
        "confirmed_at": t.confirmed_at.isoformat() if t.confirmed_at else None,
        "decision_due_on": t.decision_due_on.isoformat(),
        "job_id": t.job_id,
        "aip_id": t.aip_id,
        "decided_at": t.decided_at.isoformat() if t.decided_at else None,
        "decided_by": t.decided_by,
        "decision_reason": t.decision_reason,
        "handover_digest": t.handover_digest or None,
        "handover_prints": [dict(p) for p in t.handover_prints or []],
    }


__all__ = ["OverdueTransfer", "list_transfers", "overdue_transfers", "transfer_dict"]
