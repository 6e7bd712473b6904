"""Catalog tables of the archival description: phông, source agencies, hồ sơ, tài liệu, retention
schedules, access restrictions, transfers and agency-declared totals (issue 4).

Where the rules come from: Thông tư 05/2025/TT-BNV (dossier and document data sets, Phụ lục I-V,
procedural deadlines), Luật Lưu trữ 33/2024/QH15 (transfer deadlines, tiếp cận có điều kiện), QĐ
458/QĐ-TTg (KPIs); see ../shared/docs/vn-standards.md. Codes are kept as their parts and as
received; they are never primary keys. Every element a description file carried is also kept whole
in ``elements`` (JSON) so nothing the agency sent is lost to the typed columns (elements outside the
variant's table under ``elements["_unknown"]``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from repository.catalog import models as _models  # noqa: F401  (the "aip" table these tables refer to)
from repository.catalog.base import Base, Timestamp, enum_column

#: A restriction or an access change is about exactly one record: a dossier or one document.
_ONE_TARGET = "(dossier_id IS NULL) <> (document_id IS NULL)"


class FondsStatus(StrEnum):
    OPEN = "open"  # mở: the creating body still exists and transfers more
    CLOSED = "closed"  # đóng


class TransferStatus(StrEnum):
    RECEIVED = "received"  # the package arrived; receipt confirmed to the agency
    PROCESSING = "processing"  # ingested, being checked by the archive
    ACCEPTED = "accepted"  # decision: taken into the archive (AIP stored)
    REJECTED = "rejected"  # decision: returned, with the reason


class Fonds(Base):
    """Phông / công trình / sưu tập lưu trữ (TT 05/2025 phông data set, vn-standards.md §1.2)."""

    __tablename__ = "fonds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(13), unique=True)
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[FondsStatus] = mapped_column(enum_column(FondsStatus))
    history: Mapped[str] = mapped_column(Text, default="")  # lịch sử đơn vị hình thành phông
    date_range: Mapped[str] = mapped_column(String(100), default="")  # thời gian tài liệu
    total_documents: Mapped[int | None] = mapped_column(Integer)
    classification: Mapped[str] = mapped_column(Text, default="")  # phương án phân loại / nhóm chủ yếu
    languages: Mapped[str] = mapped_column(String(100), default="")  # language codes, comma-separated
    backup_regime: Mapped[bool] = mapped_column(Boolean, default=False)  # chế độ dự phòng
    notes: Mapped[str] = mapped_column(Text, default="")


class SourceAgency(Base):
    """Cơ quan, tổ chức thuộc nguồn nộp lưu (Danh mục nguồn nộp lưu of the historical archive)."""

    __tablename__ = "source_agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organ_id: Mapped[str] = mapped_column(String(13), unique=True)  # mã định danh, QĐ 20/2020/QĐ-TTg
    name: Mapped[str] = mapped_column(Text)
    name_search: Mapped[str] = mapped_column(Text, default="")  # NFC, case- and diacritic-folded
    fonds_id: Mapped[int | None] = mapped_column(ForeignKey("fonds.id"))
    active_from: Mapped[date | None] = mapped_column(Date)
    active_to: Mapped[date | None] = mapped_column(Date)
    in_scope: Mapped[bool] = mapped_column(Boolean, default=True)  # listed in the Danh mục nguồn nộp lưu
    notes: Mapped[str] = mapped_column(Text, default="")

    fonds: Mapped[Fonds | None] = relationship()


class Dossier(Base):
    """A hồ sơ (or a SIP_tailieu's package description), described by the package's ``EAD.xml``.

    ``kind`` is ``hoso`` or ``tailieu``. Dates keep the form written (``start_date``) and a
    normalised first day (``start_on``) for sorting and the K3 cohort.
    """

    __tablename__ = "dossier"
    __table_args__ = (Index("ix_dossier_agency_id_end_on", "agency_id", "end_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aip_id: Mapped[str] = mapped_column(ForeignKey("aip.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    package_type: Mapped[str] = mapped_column(String(20))  # as received: SIP_hoso, AIP_hoso...
    source: Mapped[str] = mapped_column(String(20))  # tt05 | nd30-xml | muc-luc
    code: Mapped[str] = mapped_column(String(100), index=True)  # fileCode/arcFileCode as received
    organ_id: Mapped[str] = mapped_column(String(13), default="")
    year: Mapped[int | None] = mapped_column(Integer)
    notation: Mapped[str] = mapped_column(String(100), default="")
    archive_id: Mapped[str] = mapped_column(String(13), default="")
    catalog_no: Mapped[str] = mapped_column(String(20), default="")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("source_agency.id"))
    fonds_id: Mapped[int | None] = mapped_column(ForeignKey("fonds.id"))
    title: Mapped[str] = mapped_column(Text)
    title_search: Mapped[str] = mapped_column(Text, default="")  # folded for diacritic-free search
    maintenance: Mapped[str] = mapped_column(String(2), default="")
    mode: Mapped[str] = mapped_column(String(2), default="", index=True)  # mức độ tiếp cận code
    languages: Mapped[str] = mapped_column(String(100), default="")
    start_date: Mapped[str] = mapped_column(String(10), default="")
    end_date: Mapped[str] = mapped_column(String(10), default="")
    start_on: Mapped[date | None] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date, index=True)  # last day: deadline and K3 cohort
    total_doc: Mapped[int | None] = mapped_column(Integer)
    number_of_page: Mapped[int | None] = mapped_column(Integer)
    confidence_level: Mapped[str] = mapped_column(String(2), default="")
    description_path: Mapped[str] = mapped_column(Text)  # EAD.xml inside the AIP
    elements: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[Timestamp] = mapped_column(index=True)  # KPI and deadline reports cut on it
    accepted_at: Mapped[Timestamp | None]  # AIP stored (K3 numerator time)
    metadata_published_at: Mapped[Timestamp | None]  # descriptive metadata public online (K4)
    digitized: Mapped[bool] = mapped_column(Boolean, default=False)  # confidence_level 02 (K6)
    high_use: Mapped[bool] = mapped_column(Boolean, default=False)  # tần suất sử dụng cao (K6)
    # the dossier of a later AIP that re-submitted this hồ sơ (kholuu ingest --supersedes): this row
    # stays with its AIP, but search, KPIs and the code lookup count the record once, as the new one
    superseded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossier.id", ondelete="SET NULL"), index=True
    )

    documents: Mapped[list[Document]] = relationship(
        back_populates="dossier", order_by="Document.ordinal", cascade="all, delete-orphan"
    )


class Document(Base):
    """A tài liệu: one ``EAD_doc_*`` / ``EAD_pic_*`` / ``EAD_media_*`` description."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("dossier_id", "ordinal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # doc | pic | media
    ordinal: Mapped[int] = mapped_column(Integer)
    doc_id: Mapped[str] = mapped_column(String(25), default="")
    doc_code: Mapped[str] = mapped_column(String(100), default="", index=True)
    type_name: Mapped[str] = mapped_column(String(2), default="")
    code_number: Mapped[str] = mapped_column(String(11), default="")
    code_notation: Mapped[str] = mapped_column(String(30), default="")
    # "số/ký hiệu" as written on the document ("15/KH-UBND"), folded like titles: what search compares
    number_search: Mapped[str] = mapped_column(Text, default="")
    issued_date: Mapped[str] = mapped_column(String(10), default="")
    issued_on: Mapped[date | None] = mapped_column(Date)
    organ_name: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text)  # subject / imageTitle / movieTitle
    title_search: Mapped[str] = mapped_column(Text, default="")
    maintenance: Mapped[str] = mapped_column(String(2), default="")
    mode: Mapped[str] = mapped_column(String(2), default="", index=True)
    languages: Mapped[str] = mapped_column(String(100), default="")
    number_of_page: Mapped[int | None] = mapped_column(Integer)
    confidence_level: Mapped[str] = mapped_column(String(2), default="")
    description_path: Mapped[str] = mapped_column(Text)
    elements: Mapped[dict[str, Any]] = mapped_column(JSON)
    metadata_published_at: Mapped[Timestamp | None]

    dossier: Mapped[Dossier] = relationship(back_populates="documents")
    files: Mapped[list[DocumentFile]] = relationship(cascade="all, delete-orphan")


class DocumentFile(Base):
    """Which AIP payload file carries which tài liệu (by the file's uuid, stable across versions)."""

    __tablename__ = "document_file"
    __table_args__ = (UniqueConstraint("document_id", "file_uuid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    file_uuid: Mapped[str] = mapped_column(String(36), index=True)
    path: Mapped[str] = mapped_column(Text)  # under the representation's data/


class RetentionSchedule(Base):
    """A retention schedule (bảng thời hạn lưu trữ), loaded from data (config/retention/*.toml)."""

    __tablename__ = "retention_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source_file: Mapped[str] = mapped_column(Text, default="")

    items: Mapped[list[RetentionItem]] = relationship(
        back_populates="schedule", order_by="RetentionItem.id", cascade="all, delete-orphan"
    )


class RetentionItem(Base):
    __tablename__ = "retention_item"
    __table_args__ = (UniqueConstraint("schedule_id", "item_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("retention_schedule.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(Text)
    maintenance: Mapped[str] = mapped_column(String(2))  # TT 05 code: 01 vĩnh viễn ... 07 khác
    years: Mapped[int | None] = mapped_column(Integer)  # None = permanent
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    schedule: Mapped[RetentionSchedule] = relationship(back_populates="items")


class AccessRestriction(Base):
    """An entry of the dated list of records under tiếp cận có điều kiện (Luật 2024, NĐ 113/2025
    khoản 4 Điều 25): on a dossier or on one document, lifted by a later decision, never deleted."""

    __tablename__ = "access_restriction"
    __table_args__ = (
        CheckConstraint(_ONE_TARGET, name="one_target"),
        CheckConstraint("(lifted_on IS NULL) = (lifted_at IS NULL)", name="lift_dated"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    decision_number: Mapped[str] = mapped_column(String(100))
    decision_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    review_date: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[Timestamp]
    recorded_by: Mapped[str] = mapped_column(String(200))
    lifted_on: Mapped[date | None] = mapped_column(Date)  # date of the lifting decision
    lifted_at: Mapped[Timestamp | None]  # when the lifting was entered
    lifted_decision: Mapped[str] = mapped_column(String(100), default="")
    lifted_by: Mapped[str] = mapped_column(String(200), default="")  # who recorded the lifting decision


class AccessChange(Base):
    """A change of mức độ tiếp cận (giải mật / declassification, or a new restriction), as an event."""

    __tablename__ = "access_change"
    __table_args__ = (CheckConstraint(_ONE_TARGET, name="one_target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    from_mode: Mapped[str] = mapped_column(String(2))
    to_mode: Mapped[str] = mapped_column(String(2))
    decision_number: Mapped[str] = mapped_column(String(100))
    decision_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[Timestamp]
    recorded_by: Mapped[str] = mapped_column(String(200))


class TransferPlan(Base):
    """Kế hoạch nộp lưu / đăng ký nộp lưu: an agency registers a transfer ahead (TT 05: 12 months
    ahead; the archive replies within 07 working days)."""

    __tablename__ = "transfer_plan"
    # one registration per agency and plan number: the plan is named by it in `transfer receive --plan`
    __table_args__ = (UniqueConstraint("agency_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("source_agency.id"), index=True)
    reference: Mapped[str] = mapped_column(String(100))  # the agency's plan number
    registered_on: Mapped[date] = mapped_column(Date)
    planned_on: Mapped[date] = mapped_column(Date)  # when the agency plans to hand over
    expected_dossiers: Mapped[int | None] = mapped_column(Integer)
    reply_due_on: Mapped[date] = mapped_column(Date)
    replied_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")

    agency: Mapped[SourceAgency] = relationship()


class Transfer(Base):
    """One received package, tracked from receipt to the acceptance decision (TT 05 procedural
    deadlines: confirm receipt, then process and decide within the days config sets)."""

    __tablename__ = "transfer"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("transfer_plan.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("source_agency.id"), index=True)
    package_name: Mapped[str] = mapped_column(Text)
    received_at: Mapped[Timestamp]
    received_by: Mapped[str] = mapped_column(String(200))
    confirm_due_on: Mapped[date] = mapped_column(Date)
    confirmed_at: Mapped[Timestamp | None]
    decision_due_on: Mapped[date] = mapped_column(Date)
    job_id: Mapped[str | None] = mapped_column(String(36))
    aip_id: Mapped[str | None] = mapped_column(ForeignKey("aip.id"), index=True)
    status: Mapped[TransferStatus] = mapped_column(enum_column(TransferStatus), index=True)
    decided_at: Mapped[Timestamp | None]
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    handover_digest: Mapped[str] = mapped_column(String(64), default="")  # SHA-256 of the latest biên bản PDF
    # every printed biên bản, oldest first: {"sha256", "printed_at", "by", "language"}; a reprint
    # never loses the digest of a copy already handed to the agency
    handover_prints: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    agency: Mapped[SourceAgency | None] = relationship()
    plan: Mapped[TransferPlan | None] = relationship()


class DeclaredTotal(Base):
    """A figure an agency declares that the repository cannot see (paper volume, permanent records
    created, agencies working online...): KPI denominators (vn-standards.md §4)."""

    __tablename__ = "declared_total"
    __table_args__ = (UniqueConstraint("agency_id", "year", "metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("source_agency.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)  # "entered by <user>" or the imported file name
    recorded_at: Mapped[Timestamp]
