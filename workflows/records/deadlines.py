"""Deadlines: the calendar of the thu nộp procedure and the transfer deadline of permanent records.

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

What counts as held, received and accepted is :func:`held_records`, shared with the KPIs
(:mod:`workflows.records.kpi`) so that the two never disagree:

* a package ingested without a transfer was taken by the archive when its AIP was stored
  (``Dossier.accepted_at``);
* a package ingested under a transfer (``kholuu ingest --transfer``) is *received, not accepted*
  until the archive decides (TT 05: process, then decide); accepted on the decision day;
* a package whose transfer was rejected was returned to the agency: it is not held, not
  received, not counted anywhere, even though the AIP's bytes stay in storage.

A declared ``permanent_e_records_created`` is counted in ``records.declared_unit`` (dossiers or
documents); :func:`permanent_e_records` is the one rule that says which received records it is
compared with, here and in K3.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalog.records import (
    DeclaredTotal,
    Document,
    Dossier,
    SourceAgency,
    Transfer,
    TransferPlan,
    TransferStatus,
)
from repository.catalog.records_store import PUBLIC_MODE, active_restrictions
from repository.settings import RecordsSettings, Settings

PERMANENT = "01"  # TT 05 maintenance code list: 01 Vĩnh viễn
DIGITIZED = "02"  # TT 05 confidenceLevel: 01 gốc điện tử, 02 số hóa, 03 hỗn hợp
DECLARED_PERMANENT_CREATED = "permanent_e_records_created"
"""The DeclaredTotal metric: permanent electronic records an agency created in a year, counted in
``records.declared_unit`` (dossiers, as a Danh mục hồ sơ lists them, or documents)."""
DOSSIERS, DOCUMENTS = "dossiers", "documents"
UNITS = (DOSSIERS, DOCUMENTS)


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


# --------------------------------------------------------------------------- held records


def is_electronic(confidence_level: str) -> bool:
    """Whether a record counts as electronic for QĐ 458 (K1, K3) and the declared totals.

    TT 05/2025 ``confidenceLevel``: ``02`` (số hóa, digitized from paper) is not electronic;
    ``01`` (gốc điện tử) and ``03`` (hỗn hợp) are; so is a record that does not say, because the
    element is optional and the packages that omit it come from an agency's e-records system
    (legacy NĐ 30/2020 exports carry no confidenceLevel at all): they were created there.
    """
    return confidence_level.strip() != DIGITIZED


def active_in(agency: SourceAgency, year: int) -> bool:
    """Whether the agency existed at some time in ``year`` (``active_from`` / ``active_to`` of the
    Danh mục nguồn nộp lưu; an agency merged or dissolved before the year is not counted for it)."""
    if agency.active_from is not None and agency.active_from > date(year, 12, 31):
        return False
    return agency.active_to is None or agency.active_to >= date(year, 1, 1)


@dataclass(frozen=True)
class HeldRecord:
    """A hồ sơ (``unit = "dossiers"``) or a tài liệu (``"documents"``) as the catalog held it at
    the end of a day, reduced to what the deadlines and the KPIs read.

    A document's retention, confidence level and access level default to its dossier's; it was
    received and accepted with its dossier. ``created`` is ``Dossier.end_on`` (the last day of
    the end date) or ``Document.issued_on``. ``accepted`` is None while the records are received
    but not accepted (an undecided transfer, or one decided after the day). ``public``: Công
    khai and not on the tiếp cận có điều kiện list that day, and for a document its dossier public
    too (as the public search has it).
    """

    unit: str
    id: int
    dossier_id: int
    agency: int | None
    code: str
    title: str
    created: date | None
    maintenance: str
    confidence: str
    mode: str
    received: date
    accepted: date | None
    published: bool
    public: bool
    digitized: bool
    high_use: bool


def permanent_e_records(
    records: Iterable[HeldRecord], unit: str, year: int | None = None
) -> list[HeldRecord]:
    """The received records a declared ``permanent_e_records_created`` of ``year`` (any year when
    None) is compared with: of ``unit``, dated, created in ``year``, permanent (maintenance 01) and
    electronic (:func:`is_electronic`). The one rule for the K3 cohort and the "not received"
    figure of the deadline report."""
    return [
        r
        for r in records
        if r.unit == unit
        and r.created is not None
        and (year is None or r.created.year == year)
        and r.maintenance == PERMANENT
        and is_electronic(r.confidence)
    ]


def held_records(session: Session, settings: Settings, on: date) -> list[HeldRecord]:
    """Every hồ sơ and tài liệu received by the end of ``on`` (archive time zone) and not returned
    to its agency by then, dossiers first.

    Acceptance (see the module docstring): without a transfer, ``Dossier.accepted_at``; under a
    transfer, the day the transfer was accepted if that was on or before ``on``; a transfer
    rejected on or before ``on`` leaves its records out.
    """
    tz = ZoneInfo(settings.package.timezone)
    cutoff = end_of_day(on, tz)

    def day(moment: datetime | None) -> date | None:
        return archive_day(moment, tz) if moment is not None and moment < cutoff else None

    by_organ = {
        organ: ident for ident, organ in session.execute(select(SourceAgency.id, SourceAgency.organ_id))
    }
    # an AIP has one transfer (link_ingest refuses a second one)
    decisions: dict[str | None, tuple[TransferStatus, datetime | None]] = {
        aip_id: (status, decided_at)
        for aip_id, status, decided_at in session.execute(
            select(Transfer.aip_id, Transfer.status, Transfer.decided_at).where(Transfer.aip_id.is_not(None))
        )
    }
    restricted = active_restrictions(session, on=on, tz=tz)
    restricted_dossiers = {r.dossier_id for r in restricted if r.dossier_id is not None}
    restricted_documents = {r.document_id for r in restricted if r.document_id is not None}

    out: list[HeldRecord] = []
    dossiers: dict[int, HeldRecord] = {}
    rows = session.execute(
        select(
            Dossier.id, Dossier.aip_id, Dossier.agency_id, Dossier.organ_id, Dossier.code, Dossier.title,
            Dossier.end_on, Dossier.maintenance, Dossier.confidence_level, Dossier.mode, Dossier.received_at,
            Dossier.accepted_at, Dossier.metadata_published_at, Dossier.digitized, Dossier.high_use,
        )
        .where(Dossier.received_at < cutoff, Dossier.superseded_by_id.is_(None))  # a record counts once
        .order_by(Dossier.id)
    )  # fmt: skip
    for (dossier_id, aip_id, agency_id, organ_id, code, title, end_on, maintenance, confidence, mode,
         received_at, accepted_at, published_at, digitized, high_use) in rows:  # fmt: skip
        decision = decisions.get(aip_id)
        if decision is None:
            accepted = day(accepted_at)
        else:
            status, decided_at = decision
            decided = day(decided_at)
            if status is TransferStatus.REJECTED and decided is not None:
                continue  # returned to the agency
            accepted = decided if status is TransferStatus.ACCEPTED else None
        record = HeldRecord(
            unit=DOSSIERS,
            id=dossier_id,
            dossier_id=dossier_id,
            agency=agency_id if agency_id is not None else by_organ.get(organ_id),
            code=code,
            title=title,
            created=end_on,
            maintenance=maintenance,
            confidence=confidence,
            mode=mode,
            received=archive_day(received_at, tz),
            accepted=accepted,
            published=day(published_at) is not None,
            public=mode == PUBLIC_MODE and dossier_id not in restricted_dossiers,
            digitized=digitized,
            high_use=high_use,
        )
        dossiers[dossier_id] = record
        out.append(record)
    documents = session.execute(
        select(
            Document.id, Document.dossier_id, Document.doc_code, Document.title, Document.issued_on,
            Document.maintenance, Document.confidence_level, Document.mode, Document.metadata_published_at,
        )
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(Dossier.received_at < cutoff)
        .order_by(Document.dossier_id, Document.ordinal, Document.id)
    )  # fmt: skip
    for (
        doc_id,
        dossier_id,
        doc_code,
        title,
        issued_on,
        maintenance,
        confidence,
        mode,
        published_at,
    ) in documents:
        parent = dossiers.get(dossier_id)
        if parent is None:
            continue  # its dossier was returned
        out.append(
            HeldRecord(
                unit=DOCUMENTS,
                id=doc_id,
                dossier_id=dossier_id,
                agency=parent.agency,
                code=doc_code,
                title=title,
                created=issued_on,
                maintenance=maintenance or parent.maintenance,
                confidence=confidence or parent.confidence,
                mode=mode or parent.mode,
                received=parent.received,
                accepted=parent.accepted,
                published=day(published_at) is not None,
                public=mode == PUBLIC_MODE and doc_id not in restricted_documents and parent.public,
                digitized=parent.digitized,
                high_use=parent.high_use,
            )
        )
    return out


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

    # Documents: the document's own retention, else its dossier's.
    for doc in held:
        if doc.unit == DOCUMENTS and doc.maintenance == PERMANENT:
            deadline = transfer_deadline(doc.created, records, basis) if doc.created else None
            group_of(doc.agency).documents[status(deadline, doc.accepted).value] += 1

    # Declared permanent records not received (per cohort year), in the unit they were declared in.
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


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


__all__ = [
    "DECLARED_PERMANENT_CREATED",
    "DOCUMENTS",
    "DOSSIERS",
    "PERMANENT",
    "UNITS",
    "AgencyDeadlines",
    "DeadlineReport",
    "DeadlineStatus",
    "DossierDeadline",
    "HeldRecord",
    "NotReceived",
    "PlannedNotReceived",
    "active_in",
    "add_months",
    "add_working_days",
    "add_years",
    "archive_day",
    "cohort_deadline",
    "deadline_report",
    "end_of_day",
    "held_records",
    "is_electronic",
    "is_working_day",
    "permanent_e_records",
    "transfer_deadline",
]
