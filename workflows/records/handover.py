"""Biên bản giao nhận: the handover record of an accepted transfer, gathered and printed.

The last step of a transfer: the biên bản is printed to PDF and the SHA-256 of every printed copy
is kept on the transfer (``handover_prints``; ``handover_digest`` is the latest), since a copy once
handed over must stay provable after a reprint. Here the data is gathered from the catalog and the
print recorded. Rendering is presentation, the entry points' (:mod:`entrypoints.reports.handover`):
they hand it in as a :class:`HandoverPrinter`, so that no workflow imports a renderer. Apart from
:mod:`workflows.records.transfers` because printing needs neither the steps' rules nor their
checks, only an accepted transfer.

Functions take a session and never commit (style guide item 20): the CLI frames the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from preservation.atomic_file import write_atomic
from repository.catalog.records import Dossier, Transfer, TransferStatus
from repository.settings import Settings
from workflows.records.transfers import TransferError, get_transfer


@dataclass(frozen=True)
class HandoverDossier:
    """One hồ sơ in the list: dates as the description wrote them, codes as received."""

    code: str
    title: str
    start_date: str
    end_date: str
    maintenance: str
    mode: str
    documents: int
    pages: int | None


@dataclass(frozen=True)
class Handover:
    """What the biên bản shows (:func:`handover_data`); times in UTC, shown in ``timezone``."""

    transfer_id: str
    archive_name: str
    archive_id: str
    organ_id: str
    agency_name: str
    package_name: str
    plan_reference: str | None
    received_at: datetime
    received_by: str
    decided_at: datetime
    decided_by: str
    aip_id: str
    timezone: str
    dossiers: tuple[HandoverDossier, ...]


class HandoverPrinter(Protocol):
    """How the biên bản is rendered: given by the entry point (presentation is theirs), so that
    this workflow keeps only what the archive must prove, the digest of every printed copy."""

    def pdf(self, handover: Handover, *, language: str) -> bytes:
        """The PDF to hand over and sign.

        Raises:
            KholuuError: the PDF could not be made (no printer, printer failed).
        """
        ...

    def html(self, handover: Handover, *, language: str, pdf_sha256: str) -> str:
        """The HTML page whose footer states the PDF's digest."""
        ...


@dataclass(frozen=True)
class HandoverIssued:
    """A printed biên bản; ``prints`` is the transfer's whole print history, this one last."""

    transfer_id: str
    path: Path
    sha256: str
    previous_sha256: str | None
    dossiers: int
    html_path: Path | None = None
    prints: tuple[Mapping[str, Any], ...] = ()

    @property
    def reprinted(self) -> bool:
        """True when a copy was printed before this one. Not "the digest changed": Chromium stamps
        the print time to the second, so two prints within one second are byte-identical and a
        reprint still has to be reported as one."""
        return self.previous_sha256 is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "transfer_id": self.transfer_id,
            "path": str(self.path),
            "sha256": self.sha256,
            "previous_sha256": self.previous_sha256,
            "dossiers": self.dossiers,
            "html_path": str(self.html_path) if self.html_path else None,
            "prints": [dict(p) for p in self.prints],
        }


def handover_data(session: Session, settings: Settings, transfer_id: str) -> Handover:
    """What the biên bản giao nhận of an accepted transfer shows: the agency, the archive, who
    received and decided when, and every hồ sơ of the AIP in code order.

    Raises:
        TransferError: ``transfer.not_found``, ``transfer.not_accepted``.
    """
    transfer = get_transfer(session, transfer_id)
    if (
        transfer.status is not TransferStatus.ACCEPTED
        or transfer.aip_id is None
        or transfer.decided_at is None
    ):
        raise TransferError(
            "transfer.not_accepted",
            f"transfer {transfer.id} is {transfer.status.value}: a biên bản giao nhận is made for an "
            "accepted transfer",
            params={"transfer": transfer.id, "status": transfer.status.value},
        )
    dossiers = session.scalars(
        select(Dossier)
        .where(Dossier.aip_id == transfer.aip_id)
        .options(selectinload(Dossier.documents))
        .order_by(Dossier.code, Dossier.id)
    )
    rows = tuple(
        HandoverDossier(
            code=d.code,
            title=d.title,
            start_date=d.start_date,
            end_date=d.end_date,
            maintenance=d.maintenance,
            mode=d.mode,
            documents=len(d.documents) if d.documents else (d.total_doc or 0),
            pages=d.number_of_page
            if d.number_of_page is not None
            else (sum(doc.number_of_page or 0 for doc in d.documents) if d.documents else None),
        )
        for d in dossiers
    )
    agency = transfer.agency
    return Handover(
        transfer_id=transfer.id,
        archive_name=settings.archive.name,
        archive_id=settings.records.archive_id,
        organ_id=agency.organ_id if agency else "",
        agency_name=agency.name if agency else "",
        package_name=transfer.package_name,
        plan_reference=transfer.plan.reference if transfer.plan else None,
        received_at=transfer.received_at,
        received_by=transfer.received_by,
        decided_at=transfer.decided_at,
        decided_by=transfer.decided_by,
        aip_id=transfer.aip_id,
        timezone=settings.package.timezone,
        dossiers=rows,
    )


def issue_handover(
    session: Session,
    settings: Settings,
    transfer_id: str,
    out: Path,
    *,
    printer: HandoverPrinter,
    html_out: Path | None = None,
    language: str = "vi",
    by: str = "",
    at: datetime | None = None,
) -> HandoverIssued:
    """Print the biên bản giao nhận to ``out`` (the PDF of ``printer``), record its SHA-256 on the
    transfer, and with ``html_out`` also write the HTML whose footer states that digest.

    Printing again makes a new PDF (Chromium stamps the time in it, to the second) with a new
    digest, the same one within the same second: a reprint is any print after the first. Every
    print is appended to ``handover_prints`` (digest, time, who, language) and
    ``handover_digest`` names the latest: a copy signed and handed to the agency stays provable
    after a reprint. The previous digest is returned so that the caller can say so.

    Raises:
        TransferError: ``transfer.not_found``, ``transfer.not_accepted``, ``transfer.bad_input``
            (``at`` without a time zone); and what ``printer.pdf`` raises (ChromiumNotFound,
            PdfFailed), before anything is recorded.
    """
    if at is not None and at.tzinfo is None:
        raise TransferError(
            "transfer.bad_input", "the print time needs a time zone", params={"problem": "at"}
        )
    data = handover_data(session, settings, transfer_id)
    pdf = printer.pdf(data, language=language)
    digest = hashlib.sha256(pdf).hexdigest()
    # the row is locked while the history is extended: two prints at once both stay in it
    transfer = session.scalars(
        select(Transfer)
        .where(Transfer.id == data.transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    prints = list(transfer.handover_prints or [])
    previous = transfer.handover_digest or (prints[-1]["sha256"] if prints else None)
    prints.append(
        {
            "sha256": digest,
            "printed_at": (at or datetime.now(UTC)).astimezone(UTC).isoformat(),
            "by": by.strip(),
            "language": language,
        }
    )
    transfer.handover_prints = prints  # a new list: the JSON column is not tracked in place
    transfer.handover_digest = digest
    session.flush()  # recorded before the files appear: a failed write rolls the digest back
    write_atomic(out, pdf)
    if html_out is not None:
        write_atomic(html_out, printer.html(data, language=language, pdf_sha256=digest).encode("utf-8"))
    return HandoverIssued(transfer.id, out, digest, previous, len(data.dossiers), html_out, tuple(prints))


__all__ = [
    "Handover",
    "HandoverDossier",
    "HandoverIssued",
    "HandoverPrinter",
    "handover_data",
    "issue_handover",
]
