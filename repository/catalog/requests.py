"""Dissemination requests: a reader's phiếu yêu cầu khai thác, its decision, its DIP and its link.

One row per request (TT 05/2025 Phụ lục V; Luật Lưu trữ 2024 Điều 25-26: reader services decide
on a request, the archive head's decision opens what is not public). The row follows the request
from submission to the reader's download and keeps what an auditor asks afterwards: who asked
(name, contact, the account when a logged-in user asked), for which AIP and records, why, who
decided and under which decision number, which job built the DIP, where the ZIP lies, and how
often it was downloaded. The download link's token and the reader's follow-up key are kept only
as SHA-256 hashes, like API tokens (``repository/catalog/accounts.py``).

Requests are not preservation data: a catalog rebuilt from storage has none; what happened is
also in the AIP's PREMIS events in the catalog (docs/requests.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from repository.catalog import accounts as _accounts  # noqa: F401  (user_account, the FK's table)
from repository.catalog.base import Base, BigInt, Sha256, Timestamp, enum_column


class RequestStatus(StrEnum):
    """Where a request stands. submitted → approved | refused; approved → building → ready |
    failed; ready → downloaded | expired. ``failed`` may be built again."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REFUSED = "refused"
    BUILDING = "building"
    READY = "ready"
    DOWNLOADED = "downloaded"
    EXPIRED = "expired"
    FAILED = "failed"


class DisseminationRequest(Base):
    """A reader's request for the records of one AIP, and what became of it."""

    __tablename__ = "dissemination_request"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # YC-<12 hex>, shown to the reader
    status: Mapped[RequestStatus] = mapped_column(enum_column(RequestStatus), index=True)
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_contact: Mapped[str] = mapped_column(String(200))  # e-mail or telephone
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )  # the account of a logged-in requester (reader services acting for a reader)
    submitted_by: Mapped[str] = mapped_column(String(300))  # Actor.signature(); empty: the public
    aip_id: Mapped[str] = mapped_column(String(64), index=True)
    record_codes: Mapped[list[Any]] = mapped_column(default=list)  # hồ sơ / tài liệu codes named
    purpose: Mapped[str] = mapped_column(String(2))  # TT 05 code list purpose (01-03)
    purpose_content: Mapped[str] = mapped_column(Text, default="")
    fee_object: Mapped[str] = mapped_column(String(2), default="")  # code list feeObjectType
    topic: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    follow_key_hash: Mapped[Sha256]  # the reader's key to the status page
    submitted_at: Mapped[Timestamp]
    decided_by: Mapped[str] = mapped_column(String(300), default="")  # Actor.signature()
    decided_at: Mapped[datetime | None]
    decision_number: Mapped[str] = mapped_column(String(100), default="")  # the approval decision
    reason: Mapped[str] = mapped_column(Text, default="")  # why refused (or a note on approval)
    job_id: Mapped[str | None] = mapped_column(String(64))  # the export job that built the DIP
    dip_id: Mapped[str] = mapped_column(String(64), default="")  # the DIP's OBJID (uuid-…)
    dip_path: Mapped[str] = mapped_column(Text, default="")  # the ZIP under <home>/dips/
    dip_bytes: Mapped[BigInt | None]
    dip_sha256: Mapped[str] = mapped_column(String(64), default="")
    failure: Mapped[str] = mapped_column(Text, default="")  # message code of a failed build
    built_at: Mapped[datetime | None]
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # the download link's
    expires_at: Mapped[datetime | None]
    download_count: Mapped[int] = mapped_column(Integer, default=0)  # complete downloads
    downloaded_at: Mapped[datetime | None]
    updated_at: Mapped[Timestamp]


__all__ = ["DisseminationRequest", "RequestStatus"]
