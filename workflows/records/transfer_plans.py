"""Kế hoạch nộp lưu: an agency's registration of a hand-over and the archive's reply.

The first step of a transfer (vn-standards.md §3.2; TT 05/2025/TT-BNV as transcribed [S: S1,
S5]): the agency registers a hand-over ``records.plan_lead_months`` (12) months ahead; the archive
replies within ``records.plan_reply_working_days`` (07) working days. A registration with less lead
time is recorded with a warning: refusing it would only delay the records. Kept apart from
:mod:`workflows.records.transfers` (the package's own steps, receipt to decision) because a plan
is made and answered months before any package exists.

Functions take a session and never commit (style guide item 20): the CLI frames the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from preservation.findings import Finding, Severity
from repository.catalog.records import TransferPlan
from repository.settings import RecordsSettings, Settings
from workflows.records.deadline_calendar import add_months, add_working_days
from workflows.records.transfers import TransferError, find_agency


@dataclass(frozen=True)
class PlanResult:
    plan: TransferPlan
    findings: tuple[Finding, ...] = ()


def register_plan(
    session: Session,
    settings: Settings,
    organ_id: str,
    reference: str,
    registered_on: date,
    planned_on: date,
    expected_dossiers: int | None = None,
    *,
    notes: str = "",
) -> PlanResult:
    """Record an agency's registration of a transfer (đăng ký nộp lưu, TT 05 [S]).

    The reply is due ``records.plan_reply_working_days`` working days after ``registered_on``
    (Saturdays, Sundays and ``records.holidays`` do not count).

    Returns:
        The plan and, when ``planned_on`` is less than ``records.plan_lead_months`` after
        ``registered_on``, a warning finding ``transfer.plan_short_lead``.

    Raises:
        TransferError: ``transfer.agency_not_found``, ``transfer.plan_exists`` (also when another session
            registers the same reference at the same time: ``transfer_plan`` is unique on agency and
            reference), ``transfer.bad_input`` (``planned_on`` before ``registered_on``, or a negative number
            of dossiers).
    """
    records = settings.records
    agency = find_agency(session, organ_id)
    reference = reference.strip()
    if not reference:
        raise TransferError(
            "transfer.bad_input",
            "a plan needs the agency's reference (số kế hoạch)",
            params={"problem": "reference"},
        )
    if planned_on < registered_on:
        raise TransferError(
            "transfer.bad_input",
            f"the hand-over ({planned_on}) is planned before the registration ({registered_on})",
            params={"problem": f"{planned_on} < {registered_on}"},
        )
    if expected_dossiers is not None and expected_dossiers < 0:
        raise TransferError(
            "transfer.bad_input",
            "the expected number of dossiers is negative",
            params={"problem": "expected_dossiers"},
        )
    existing = session.scalars(
        select(TransferPlan).where(TransferPlan.agency_id == agency.id, TransferPlan.reference == reference)
    ).first()
    if existing is not None:
        raise TransferError(
            "transfer.plan_exists",
            f"{organ_id} already registered plan {reference!r} (#{existing.id})",
            params={"organ_id": organ_id, "reference": reference, "plan_id": existing.id},
        )
    plan = TransferPlan(
        agency_id=agency.id,
        reference=reference,
        registered_on=registered_on,
        planned_on=planned_on,
        expected_dossiers=expected_dossiers,
        reply_due_on=add_working_days(registered_on, records.plan_reply_working_days, records.holidays),
        notes=notes,
    )
    session.add(plan)
    try:
        session.flush()
    except IntegrityError as exc:
        # another session registered the same reference between our check and our insert; the
        # failed flush leaves the session to be rolled back, as the caller's transaction does
        raise TransferError(
            "transfer.plan_exists",
            f"{organ_id} already registered plan {reference!r}",
            params={"organ_id": organ_id, "reference": reference, "plan_id": None},
        ) from exc
    return PlanResult(plan, _short_lead(records, reference, registered_on, planned_on))


def _short_lead(
    records: RecordsSettings, reference: str, registered_on: date, planned_on: date
) -> tuple[Finding, ...]:
    """The warning ``transfer.plan_short_lead`` when the hand-over is planned less than
    ``records.plan_lead_months`` after the registration, else nothing."""
    findings: list[Finding] = []
    earliest = add_months(registered_on, records.plan_lead_months)
    if planned_on < earliest:
        findings.append(
            Finding(
                code="transfer.plan_short_lead",
                severity=Severity.WARNING,
                where=f"plan {reference}",
                message=(
                    f"the hand-over on {planned_on} is less than {records.plan_lead_months} months after "
                    f"the registration on {registered_on} (TT 05: register {records.plan_lead_months} "
                    f"months ahead, i.e. not before {earliest})"
                ),
                params={
                    "reference": reference,
                    "planned_on": planned_on.isoformat(),
                    "registered_on": registered_on.isoformat(),
                    "months": records.plan_lead_months,
                    "earliest": earliest.isoformat(),
                },
            )
        )
    return tuple(findings)


def reply_plan(session: Session, plan_id: int, replied_on: date, *, notes: str = "") -> TransferPlan:
    """Record the archive's reply to a registration. Replying late is recorded as it happened (the
    plan shows ``replied_on`` after ``reply_due_on``); replying twice is refused.

    Raises:
        TransferError: ``transfer.plan_not_found``, ``transfer.plan_replied``, ``transfer.bad_input`` (a reply
            before the registration).
    """
    plan = session.get(TransferPlan, plan_id)
    if plan is None:
        raise TransferError(
            "transfer.plan_not_found", f"no transfer plan #{plan_id}", params={"plan": plan_id}
        )
    if plan.replied_on is not None:
        raise TransferError(
            "transfer.plan_replied",
            f"plan #{plan_id} was answered on {plan.replied_on}",
            params={"plan": plan_id, "replied_on": plan.replied_on.isoformat()},
        )
    if replied_on < plan.registered_on:
        raise TransferError(
            "transfer.bad_input",
            f"the reply ({replied_on}) is before the registration ({plan.registered_on})",
            params={"problem": f"{replied_on} < {plan.registered_on}"},
        )
    plan.replied_on = replied_on
    if notes:
        plan.notes = f"{plan.notes}\n{notes}".strip()
    session.flush()
    return plan


def list_plans(session: Session, *, organ_id: str | None = None) -> list[TransferPlan]:
    query = select(TransferPlan).order_by(TransferPlan.registered_on.desc(), TransferPlan.id)
    if organ_id is not None:
        query = query.where(TransferPlan.agency_id == find_agency(session, organ_id).id)
    return list(session.scalars(query))


def plan_dict(p: TransferPlan) -> dict[str, Any]:
    return {
        "plan_id": p.id,
        "organ_id": p.agency.organ_id,
        "agency": p.agency.name,
        "reference": p.reference,
        "registered_on": p.registered_on.isoformat(),
        "planned_on": p.planned_on.isoformat(),
        "expected_dossiers": p.expected_dossiers,
        "reply_due_on": p.reply_due_on.isoformat(),
        "replied_on": p.replied_on.isoformat() if p.replied_on else None,
        "replied_late": bool(p.replied_on and p.replied_on > p.reply_due_on),
        "notes": p.notes,
    }


__all__ = ["PlanResult", "list_plans", "plan_dict", "register_plan", "reply_plan"]
