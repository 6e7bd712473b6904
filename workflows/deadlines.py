"""Deadlines: the calendar of the thu nộp procedure and the transfer deadline of permanent records.

Two kinds of deadline (vn-standards.md §3.2):

* **Procedural** (TT 05/2025/TT-BNV as transcribed [S]): counted in calendar days (confirm a
  receipt, decide) or in working days (reply to a registration). A working day is Monday to
  Friday and not one of ``records.holidays``.
* **The transfer of permanent records** (maintenance ``01``) into the Historical Archive, on one of
  two bases (``records.deadline_basis``):

  - ``programme``: QĐ 458/QĐ-TTg, within ``records.programme_deadline_years`` (3) years of the
    record's creation (``Dossier.end_on``, ``Document.issued_on``), the K3 figure;
  - ``law``: Luật Lưu trữ 33/2024/QH15, within ``records.transfer_deadline_years`` (5) years from
    the year of submission to the lưu trữ hiện hành, i.e. by 31 December of that year + 5. That
    year is not recorded by the agencies' packages, so the creation year stands in for it (the
    earliest it can be), and the report says so (``basis_note``).

:func:`deadline_report` lists, per source agency, the permanent hồ sơ received but not yet
accepted that are due within N days or overdue, the accepted ones on time or late, the hồ sơ
registered in plans and not yet received, and, where the agency declared how many permanent
records it created in a year, how many of those have not been received. Documents are counted
by the same rules (their lists would run to hundreds of thousands of rows, so only counts).
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from repository.catalog.records import DeclaredTotal, Document, Dossier, SourceAgency, Transfer, TransferPlan
from repository.settings import RecordsSettings, Settings

PERMANENT = "01"  # TT 05 maintenance code list: 01 Vĩnh viễn
DIGITIZED = "02"  # TT 05 confidenceLevel: 02 số hóa
DECLARED_PERMANENT_CREATED = "permanent_e_records_created"
"""The DeclaredTotal metric: permanent electronic records an agency created in a year (counted in
dossiers, as its Danh mục hồ sơ lists them)."""


# --------------------------------------------------------------------------- calendar


def is_working_day(day: date, holidays: Iterable[date] = ()) -> bool:
    """Monday to Friday and not a configured holiday (Bộ luật Lao động: Saturday and Sunday are
    the weekly rest days of public bodies; public holidays come from ``records.holidays``)."""
    return day.weekday() < 5 and day not in set(holidays)


def add_working_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The day ``days`` working days after ``start`` (``start`` itself does not count: a
    registration received on a Friday with 7 working days to answer is due on the Tuesday of the
    week after next, holidays aside). ``days = 0`` gives ``start``."""
    off = set(holidays)
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            left -= 1
    return day


def add_months(day: date, months: int) -> date:
    """Same day of the month ``months`` later, clamped to the month's last day (31/1 + 1 → 28/2)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def archive_day(moment: datetime, tz: tzinfo) -> date:
    """The calendar day of ``moment`` at the archive (TT 05 dates are in +07:00)."""
    return moment.astimezone(tz).date()


def end_of_day(day: date, tz: tzinfo) -> datetime:
    """The first instant after ``day`` at the archive, in UTC: "on or before day" is ``< this``."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "declared": self.declared,
            "received": self.received,
            "missing": self.missing,
            "deadline": self.deadline.isoformat(),
            "status": self.status.value,
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
    tz = ZoneInfo(settings.package.timezone)
    cutoff = end_of_day(on, tz)
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
    by_organ = {a.organ_id: a for a in agencies}
    groups: dict[int | None, AgencyDeadlines] = {a.id: AgencyDeadlines(a.organ_id, a.name) for a in agencies}
    received_by_year: dict[int | None, Counter[int]] = defaultdict(Counter)

    dossiers = list(
        session.scalars(
            select(Dossier)
            .where(Dossier.maintenance == PERMANENT, Dossier.received_at < cutoff)
            .order_by(Dossier.end_on, Dossier.code, Dossier.id)
        )
    )
    doc_counts: dict[int, int] = {
        dossier_id: count
        for dossier_id, count in session.execute(
            select(Document.dossier_id, func.count())
            .join(Dossier, Dossier.id == Document.dossier_id)
            .where(Dossier.maintenance == PERMANENT, Dossier.received_at < cutoff)
            .group_by(Document.dossier_id)
        )
    }

    def accepted_day(accepted_at: datetime | None) -> date | None:
        return archive_day(accepted_at, tz) if accepted_at and accepted_at < cutoff else None

    for d in dossiers:
        key = _agency_key(d.agency_id, d.organ_id, by_organ)
        accepted_on = accepted_day(d.accepted_at)
        deadline = transfer_deadline(d.end_on, records, basis) if d.end_on else None
        if d.end_on and d.confidence_level != DIGITIZED:  # the declaration counts e-records
            received_by_year[key][d.end_on.year] += 1
        group = groups.get(key)
        if group is None:
            group = groups[key] = AgencyDeadlines(UNKNOWN_AGENCY, "")
        group.dossiers.append(
            DossierDeadline(
                dossier_id=d.id,
                code=d.code,
                title=d.title,
                created_on=d.end_on,
                deadline=deadline,
                received_on=archive_day(d.received_at, tz),
                accepted_on=accepted_on,
                documents=doc_counts.get(d.id, 0),
                status=(st := status(deadline, accepted_on)),
                days=(deadline - on).days if deadline and st is not DeadlineStatus.UNDATED else None,
            )
        )

    # Documents of received dossiers: the document's own retention, else its dossier's.
    doc_rows = session.execute(
        select(
            Document.maintenance,
            Document.issued_on,
            Dossier.maintenance,
            Dossier.agency_id,
            Dossier.organ_id,
            Dossier.accepted_at,
        )
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(Dossier.received_at < cutoff)
    )
    for doc_maintenance, issued_on, dossier_maintenance, agency_id, dossier_organ, accepted_at in doc_rows:
        if (doc_maintenance or dossier_maintenance) != PERMANENT:
            continue
        key = _agency_key(agency_id, dossier_organ, by_organ)
        group = groups.get(key)
        if group is None:
            group = groups[key] = AgencyDeadlines(UNKNOWN_AGENCY, "")
        deadline = transfer_deadline(issued_on, records, basis) if issued_on else None
        group.documents[status(deadline, accepted_day(accepted_at)).value] += 1

    # Declared permanent records not received (per cohort year).
    for total in session.scalars(
        select(DeclaredTotal)
        .where(DeclaredTotal.metric == DECLARED_PERMANENT_CREATED)
        .order_by(DeclaredTotal.agency_id, DeclaredTotal.year)
    ):
        received = received_by_year[total.agency_id][total.year]
        missing = total.value - received
        if missing <= 0 or total.agency_id not in groups:
            continue
        deadline = cohort_deadline(total.year, records, basis)
        groups[total.agency_id].not_received.append(
            NotReceived(total.year, total.value, received, missing, deadline, status(deadline, None))
        )

    # Plans registered and not received under.
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

    chosen = [
        g
        for g in groups.values()
        if (organ_id is None or g.organ_id == organ_id)
        and (g.dossiers or g.documents or g.not_received or g.plans or g.organ_id != UNKNOWN_AGENCY)
    ]
    chosen.sort(key=lambda g: (g.organ_id == UNKNOWN_AGENCY, g.organ_id, g.name))
    note = "transfer.deadline.basis_law_proxy" if basis == "law" else "transfer.deadline.basis_programme"
    return DeadlineReport(on, basis, within_days, note, tuple(chosen))


def _agency_key(agency_id: int | None, organ_id: str, by_organ: dict[str, SourceAgency]) -> int | None:
    """The dossier's agency: its link, else the agency whose mã định danh the code carries."""
    if agency_id is not None:
        return agency_id
    agency = by_organ.get(organ_id)
    return agency.id if agency else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


__all__ = [
    "DECLARED_PERMANENT_CREATED",
    "PERMANENT",
    "AgencyDeadlines",
    "DeadlineReport",
    "DeadlineStatus",
    "DossierDeadline",
    "NotReceived",
    "PlannedNotReceived",
    "add_months",
    "add_working_days",
    "add_years",
    "archive_day",
    "cohort_deadline",
    "deadline_report",
    "end_of_day",
    "is_working_day",
    "transfer_deadline",
]
