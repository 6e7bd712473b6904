"""Deadlines: the transfer deadline of permanent records, and the report of what is due or late.

Two kinds of deadline (vn-standards.md §3.2):

* **Procedural** (TT 05/2025/TT-BNV as transcribed [S]): counted in calendar days (confirm a
  receipt, decide) or in working days (reply to a registration). A working day is Monday to
  Friday and not one of ``records.holidays``.
* **The transfer of permanent records** (maintenance ``01``) into the Historical Archive, on one of
  two bases (``records.deadline_basis``):

  - ``programme``: QĐ 458/QĐ-TTg, within ``records.programme_deadline_years`` (3) years of the
    record's creation (``Dossier.end_on``: the LAST day the dossier's end date denotes, "2021" →
    31/12/2021, "12/2021" → 31/12/2021, as :func:`preservation.tt05.ead.description_date` reads
    it; ``Document.issued_on``), the K3 figure;
  - ``law``: Luật Lưu trữ 33/2024/QH15, within ``records.transfer_deadline_years`` (5) years from
    the year of submission to the lưu trữ hiện hành, i.e. by 31 December of that year + 5. That
    year is not recorded by the agencies' packages, so the creation year stands in for it (the
    earliest it can be), and the report says so (``basis_note``).

:func:`deadline_report` lists, per source agency, the permanent hồ sơ received but not yet
accepted that are due within N days or overdue, the accepted ones on time or late, the hồ sơ
registered in plans and not yet received, and, where the agency declared how many permanent
records it created in a year, how many of those have not been received. Documents are counted
by the same rules (their lists would run to hundreds of thousands of rows, so only counts).

Which records count as held, received and accepted is :func:`workflows.records.holdings.held_records`,
shared with the KPIs; the calendar (working days, the archive's day) is
:mod:`workflows.records.deadline_calendar`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalog.records import DeclaredTotal, SourceAgency, Transfer, TransferPlan
from repository.settings import RecordsSettings, Settings
from workflows.records.deadline_calendar import add_years
from workflows.records.holdings import (
    DECLARED_PERMANENT_CREATED,
    DOCUMENTS,
    DOSSIERS,
    PERMANENT,
    HeldRecord,
    held_records,
    permanent_e_records,
)


def transfer_deadline(created: date, records: RecordsSettings, basis: str | None = None) -> date:
    """The day by which a permanent record created on ``created`` must be in the Historical
    Archive (see the module docstring for the two bases)."""
    basis = basis or records.deadline_basis
    if basis == "law":
        return date(created.year + records.transfer_deadline_years, 12, 31)
    return add_years(created, records.programme_deadline_years)


def cohort_deadline(year: int, records: RecordsSettings, basis: str | None = None) -> date:
    """The deadline of the last record of a year's cohort (created on 31 December): when it has
    passed, every record of the cohort that is still missing is late."""
    return transfer_deadline(date(year, 12, 31), records, basis)


# --------------------------------------------------------------------------- report


class DeadlineStatus(StrEnum):
    DUE = "due"  # not accepted, deadline within the window
    OVERDUE = "overdue"  # not accepted, deadline passed
    PENDING = "pending"  # not accepted, deadline later than the window
    ON_TIME = "on_time"  # accepted on or before the deadline
    LATE = "late"  # accepted after the deadline
    UNDATED = "undated"  # no creation date: no deadline can be computed


@dataclass(frozen=True)
class DossierDeadline:
    dossier_id: int
    code: str
    title: str
    created_on: date | None
    deadline: date | None
    received_on: date
    accepted_on: date | None
    documents: int
    status: DeadlineStatus
    days: int | None  # days left (positive) or late (negative); None when undated

    def as_dict(self) -> dict[str, Any]:
        return {
            "dossier_id": self.dossier_id,
            "code": self.code,
            "title": self.title,
            "created_on": _iso(self.created_on),
            "deadline": _iso(self.deadline),
            "received_on": self.received_on.isoformat(),
            "accepted_on": _iso(self.accepted_on),
            "documents": self.documents,
            "status": self.status.value,
            "days": self.days,
        }


@dataclass(frozen=True)
class NotReceived:
    """Declared permanent records of a cohort year that the archive has not received."""

    year: int
    declared: int
    received: int
    missing: int
    deadline: date
    status: DeadlineStatus
    unit: str = DOSSIERS  # records.declared_unit: what the declaration and the received figure count

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "declared": self.declared,
            "received": self.received,
            "missing": self.missing,
            "deadline": self.deadline.isoformat(),
            "status": self.status.value,
            "unit": self.unit,
        }


@dataclass(frozen=True)
class PlannedNotReceived:
    """A registered plan with no transfer received under it yet."""

    plan_id: int
    reference: str
    planned_on: date
    expected_dossiers: int | None
    status: DeadlineStatus

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "reference": self.reference,
            "planned_on": self.planned_on.isoformat(),
            "expected_dossiers": self.expected_dossiers,
            "status": self.status.value,
        }


@dataclass
class AgencyDeadlines:
    organ_id: str
    name: str
    dossiers: list[DossierDeadline] = field(default_factory=list)
    documents: Counter[str] = field(default_factory=Counter)
    not_received: list[NotReceived] = field(default_factory=list)
    plans: list[PlannedNotReceived] = field(default_factory=list)

    def of(self, status: DeadlineStatus) -> list[DossierDeadline]:
        return [d for d in self.dossiers if d.status is status]

    def as_dict(self) -> dict[str, Any]:
        lists = {
            s.value: [d.as_dict() for d in self.of(s)]
            for s in DeadlineStatus
            if s is not DeadlineStatus.PENDING
        }
        return {
            "organ_id": self.organ_id,
            "name": self.name,
            **lists,
            "pending": len(self.of(DeadlineStatus.PENDING)),
            "documents": {s.value: self.documents.get(s.value, 0) for s in DeadlineStatus},
            "not_received": [n.as_dict() for n in self.not_received],
            "plans_not_received": [p.as_dict() for p in self.plans],
        }


@dataclass(frozen=True)
class DeadlineReport:
    on: date
    basis: str
    within_days: int
    basis_note: str  # message code explaining the basis (and the proxy, on the law basis)
    agencies: tuple[AgencyDeadlines, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "basis": self.basis,
            "within_days": self.within_days,
            "basis_note": self.basis_note,
            "agencies": [a.as_dict() for a in self.agencies],
        }


UNKNOWN_AGENCY = ""  # organ_id of the group of dossiers whose agency is not in the Danh mục


def deadline_report(
    session: Session,
    settings: Settings,
    *,
    on: date,
    within_days: int = 90,
    organ_id: str | None = None,
    basis: str | None = None,
) -> DeadlineReport:
    """The transfer deadlines of every source agency's permanent records as of ``on``.

    Only what the catalog held on ``on`` counts: dossiers received on or before it, acceptances on
    or before it.

    Args:
        on: the day the report is for (archive time zone).
        within_days: "due" means a deadline in ``[on, on + within_days]``.
        organ_id: only this agency.
        basis: ``programme`` or ``law``; default ``records.deadline_basis``.
    """
    records = settings.records
    basis = basis or records.deadline_basis
    if basis not in ("programme", "law"):
        raise ValueError(f"unknown deadline basis {basis!r}")
    horizon = on + timedelta(days=within_days)

    def status(deadline: date | None, accepted_on: date | None) -> DeadlineStatus:
        if deadline is None:
            return DeadlineStatus.UNDATED
        if accepted_on is not None:
            return DeadlineStatus.ON_TIME if accepted_on <= deadline else DeadlineStatus.LATE
        if deadline < on:
            return DeadlineStatus.OVERDUE
        return DeadlineStatus.DUE if deadline <= horizon else DeadlineStatus.PENDING

    agencies = list(session.scalars(select(SourceAgency).order_by(SourceAgency.organ_id)))
    groups: dict[int | None, AgencyDeadlines] = {a.id: AgencyDeadlines(a.organ_id, a.name) for a in agencies}

    def group_of(key: int | None) -> AgencyDeadlines:
        group = groups.get(key)
        if group is None:  # records whose agency is not in the Danh mục nguồn nộp lưu
            group = groups[key] = AgencyDeadlines(UNKNOWN_AGENCY, "")
        return group

    held = held_records(session, settings, on)
    _add_permanent_dossiers(held, records, basis, on, status, group_of)
    # Documents: the document's own retention, else its dossier's.
    for doc in held:
        if doc.unit == DOCUMENTS and doc.maintenance == PERMANENT:
            deadline = transfer_deadline(doc.created, records, basis) if doc.created else None
            group_of(doc.agency).documents[status(deadline, doc.accepted).value] += 1

    _add_not_received(session, held, records, basis, status, groups)
    _add_plans_not_received(session, on, status, groups)

    chosen = [
        g
        for g in groups.values()
        if (organ_id is None or g.organ_id == organ_id)
        and (g.dossiers or g.documents or g.not_received or g.plans or g.organ_id != UNKNOWN_AGENCY)
    ]
    chosen.sort(key=lambda g: (g.organ_id == UNKNOWN_AGENCY, g.organ_id, g.name))
    note = "transfer.deadline.basis_law_proxy" if basis == "law" else "transfer.deadline.basis_programme"
    return DeadlineReport(on, basis, within_days, note, tuple(chosen))


def _add_permanent_dossiers(
    held: list[HeldRecord],
    records: RecordsSettings,
    basis: str,
    on: date,
    status: Callable[[date | None, date | None], DeadlineStatus],
    group_of: Callable[[int | None], AgencyDeadlines],
) -> None:
    """Every held permanent hồ sơ with its deadline and status, into its agency's group, oldest
    creation first (undated last)."""
    documents_of: Counter[int] = Counter(r.dossier_id for r in held if r.unit == DOCUMENTS)
    permanent = sorted(
        (r for r in held if r.unit == DOSSIERS and r.maintenance == PERMANENT),
        key=lambda r: (r.created is None, r.created or date.min, r.code, r.id),
    )
    for d in permanent:
        deadline = transfer_deadline(d.created, records, basis) if d.created else None
        st = status(deadline, d.accepted)
        group_of(d.agency).dossiers.append(
            DossierDeadline(
                dossier_id=d.id,
                code=d.code,
                title=d.title,
                created_on=d.created,
                deadline=deadline,
                received_on=d.received,
                accepted_on=d.accepted,
                documents=documents_of[d.id],
                status=st,
                days=(deadline - on).days if deadline is not None else None,
            )
        )


def _add_not_received(
    session: Session,
    held: list[HeldRecord],
    records: RecordsSettings,
    basis: str,
    status: Callable[[date | None, date | None], DeadlineStatus],
    groups: dict[int | None, AgencyDeadlines],
) -> None:
    """Declared permanent records not received (per cohort year), in the unit they were declared
    in, into the groups of the agencies that declared them."""
    received_by_year: Counter[tuple[int | None, int]] = Counter(
        (r.agency, r.created.year)
        for r in permanent_e_records(held, records.declared_unit)
        if r.created is not None
    )
    for total in session.scalars(
        select(DeclaredTotal)
        .where(DeclaredTotal.metric == DECLARED_PERMANENT_CREATED)
        .order_by(DeclaredTotal.agency_id, DeclaredTotal.year)
    ):
        if total.agency_id not in groups:
            continue
        received = received_by_year[total.agency_id, total.year]
        missing = total.value - received
        if missing <= 0:
            continue
        deadline = cohort_deadline(total.year, records, basis)
        groups[total.agency_id].not_received.append(
            NotReceived(
                total.year,
                total.value,
                received,
                missing,
                deadline,
                status(deadline, None),
                records.declared_unit,
            )
        )


def _add_plans_not_received(
    session: Session,
    on: date,
    status: Callable[[date | None, date | None], DeadlineStatus],
    groups: dict[int | None, AgencyDeadlines],
) -> None:
    """Plans registered by ``on`` that no transfer was received under, into their agencies'
    groups, earliest hand-over first."""
    received_plans = set(session.scalars(select(Transfer.plan_id).where(Transfer.plan_id.is_not(None))))
    for plan in session.scalars(
        select(TransferPlan).where(TransferPlan.registered_on <= on).order_by(TransferPlan.planned_on)
    ):
        if plan.id in received_plans or plan.agency_id not in groups:
            continue
        groups[plan.agency_id].plans.append(
            PlannedNotReceived(
                plan.id,
                plan.reference,
                plan.planned_on,
                plan.expected_dossiers,
                status(plan.planned_on, None),
            )
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


__all__ = [
    "AgencyDeadlines",
    "DeadlineReport",
    "DeadlineStatus",
    "DossierDeadline",
    "NotReceived",
    "PlannedNotReceived",
    "cohort_deadline",
    "deadline_report",
    "transfer_deadline",
]
