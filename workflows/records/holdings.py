"""Holdings: the hồ sơ and tài liệu the archive held at the end of a day, as received and accepted.

What counts as held, received and accepted is :func:`held_records`, shared by the deadline report
(:mod:`workflows.records.deadlines`) and the KPIs (:mod:`workflows.records.kpi`) so that the two
never disagree:

* a package ingested without a transfer was taken by the archive when its AIP was stored
  (``Dossier.accepted_at``);
* a package ingested under a transfer (``kholuu ingest --transfer``) is *received, not accepted*
  until the archive decides (TT 05: process, then decide); accepted on the decision day;
* a package whose transfer was rejected was returned to the agency: it is not held, not
  received, not counted anywhere, even though the AIP's bytes stay in storage.

A declared ``permanent_e_records_created`` is counted in ``records.declared_unit`` (dossiers or
documents); :func:`permanent_e_records` is the one rule that says which received records it is
compared with, in the deadline report and in K3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalog.records import Document, Dossier, SourceAgency, Transfer, TransferStatus
from repository.catalog.records_store import PUBLIC_MODE, active_restrictions
from repository.settings import Settings
from workflows.records.deadline_calendar import archive_day, end_of_day

PERMANENT = "01"  # TT 05 maintenance code list: 01 Vĩnh viễn
DIGITIZED = "02"  # TT 05 confidenceLevel: 01 gốc điện tử, 02 số hóa, 03 hỗn hợp
DECLARED_PERMANENT_CREATED = "permanent_e_records_created"
"""The DeclaredTotal metric: permanent electronic records an agency created in a year, counted in
``records.declared_unit`` (dossiers, as a Danh mục hồ sơ lists them, or documents)."""
DOSSIERS, DOCUMENTS = "dossiers", "documents"
UNITS = (DOSSIERS, DOCUMENTS)


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
    out.extend(_held_documents(session, cutoff, dossiers, restricted_documents, day))
    return out


def _held_documents(
    session: Session,
    cutoff: datetime,
    dossiers: dict[int, HeldRecord],
    restricted: set[int],
    day: Callable[[datetime | None], date | None],
) -> list[HeldRecord]:
    """The tài liệu of the held ``dossiers`` (those of a returned dossier are left out), each
    defaulting its retention, confidence level and access level to its dossier's."""
    out: list[HeldRecord] = []
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
                public=mode == PUBLIC_MODE and doc_id not in restricted and parent.public,
                digitized=parent.digitized,
                high_use=parent.high_use,
            )
        )
    return out


__all__ = [
    "DECLARED_PERMANENT_CREATED",
    "DOCUMENTS",
    "DOSSIERS",
    "PERMANENT",
    "UNITS",
    "HeldRecord",
    "active_in",
    "held_records",
    "is_electronic",
    "permanent_e_records",
]
