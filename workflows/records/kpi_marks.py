"""The K4 and K6 inputs of the QĐ 458/QĐ-TTg dashboard, set by an archivist record by record.

Nothing in the repository records yet when a dossier's metadata was published online (K4) or
which records are of high use (K6): until a public portal exists, ``kholuu kpi mark-published``
and ``kholuu kpi mark-high-use`` set them here, and :mod:`workflows.records.kpi` reads them.

Functions take a session and never commit (style guide item 20): the CLI frames the transaction.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from repository.catalog.records import Dossier, Transfer, TransferStatus
from repository.catalog.records_store import RecordNotFoundError, RecordsError


@dataclass(frozen=True)
class Marked:
    """A dossier whose K4 / K6 input was set (or cleared), with how many documents followed it."""

    code: str
    aip_id: str
    dossier_id: int
    documents: int
    metadata_published_at: datetime | None
    high_use: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "aip_id": self.aip_id,
            "dossier_id": self.dossier_id,
            "documents": self.documents,
            "metadata_published_at": self.metadata_published_at.isoformat()
            if self.metadata_published_at
            else None,
            "high_use": self.high_use,
        }


def addressed_dossiers(session: Session, codes: Sequence[str], *, aip_id: str | None = None) -> list[Dossier]:
    """The dossiers named by their codes (as received, NFC), all or none.

    Without ``aip_id``, a code held by several AIPs is ambiguous, except that the records of a
    rejected transfer (returned to the agency, and usually sent again) are passed over.

    Raises:
        RecordNotFoundError: ``kpi.mark.dossier_not_found`` naming the code (and the AIP).
        RecordsError: ``kpi.mark.ambiguous_code`` naming the AIPs that hold the code.
    """
    rejected = set(
        session.scalars(
            select(Transfer.aip_id).where(
                Transfer.status == TransferStatus.REJECTED, Transfer.aip_id.is_not(None)
            )
        )
    )
    out: list[Dossier] = []
    for raw in codes:
        code = unicodedata.normalize("NFC", raw).strip()
        query = select(Dossier).where(Dossier.code == code).options(selectinload(Dossier.documents))
        if aip_id is not None:
            query = query.where(Dossier.aip_id == aip_id)
        rows = list(session.scalars(query.order_by(Dossier.id)))
        if not rows:
            raise RecordNotFoundError(
                code="kpi.mark.dossier_not_found",
                message=f"no dossier with the code {code!r}" + (f" in AIP {aip_id}" if aip_id else ""),
                params={"code": code, "aip": aip_id},
            )
        if len(rows) > 1:
            rows = [d for d in rows if d.aip_id not in rejected] or rows
        if len(rows) > 1:  # a hồ sơ re-submitted under --supersedes is the record that replaced it
            rows = [d for d in rows if d.superseded_by_id is None] or rows
        if len(rows) > 1:
            aips = sorted({d.aip_id for d in rows})
            raise RecordsError(
                code="kpi.mark.ambiguous_code",
                message=f"the code {code!r} is held by AIPs {', '.join(aips)}: name one with --aip",
                params={"code": code, "aips": aips},
            )
        if rows[0] not in out:
            out.append(rows[0])
    return out


def mark_published(
    session: Session,
    codes: Sequence[str],
    *,
    aip_id: str | None = None,
    at: datetime | None = None,
    unset: bool = False,
) -> list[Marked]:
    """Record when the descriptive metadata of these dossiers and their documents was published
    online (K4), or with ``unset`` that it is not. Until the archive runs a public portal the date
    comes from outside (QĐ 458: "công bố dữ liệu đặc tả ... trên môi trường mạng").

    Raises:
        RecordNotFoundError, RecordsError: see :func:`addressed_dossiers`; ValueError for a naive ``at``.
    """
    if at is not None and at.tzinfo is None:
        raise ValueError("the publication time needs a time zone")
    when = None if unset else (at or datetime.now(UTC)).astimezone(UTC)
    marked: list[Marked] = []
    for dossier in addressed_dossiers(session, codes, aip_id=aip_id):
        dossier.metadata_published_at = when
        for document in dossier.documents:
            document.metadata_published_at = when
        marked.append(_marked(dossier))
    session.flush()
    return marked


def mark_high_use(
    session: Session, codes: Sequence[str], *, aip_id: str | None = None, unset: bool = False
) -> list[Marked]:
    """Mark these dossiers (and so their documents) as records of high use (tần suất sử dụng cao,
    K6), or with ``unset`` clear the mark. The client has not defined high use (vn-standards.md
    §4): the archive decides, record by record.

    Raises:
        RecordNotFoundError, RecordsError: see :func:`addressed_dossiers`.
    """
    marked: list[Marked] = []
    for dossier in addressed_dossiers(session, codes, aip_id=aip_id):
        dossier.high_use = not unset
        marked.append(_marked(dossier))
    session.flush()
    return marked


def _marked(dossier: Dossier) -> Marked:
    return Marked(
        dossier.code,
        dossier.aip_id,
        dossier.id,
        len(dossier.documents),
        dossier.metadata_published_at,
        dossier.high_use,
    )


__all__ = ["Marked", "addressed_dossiers", "mark_high_use", "mark_published"]
