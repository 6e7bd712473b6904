"""What an ingest is asked to do, checked against the catalog before a byte of the submission is read.

An ingest takes minutes; a typo in a transfer id, an agency's mã định danh or a superseded AIP's id
must stop it at once, not after the package was unpacked, scanned and characterised. The command
line and the web app both start an ingest from these checks, so they live here and not in either.

Functions take a session and never commit (style guide item 20): they only read.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from repository.catalog import queries
from repository.catalog.records_store import check_agency
from workflows.ingest.pipeline import IngestOptions
from workflows.records.transfers import get_transfer, require_undecided


@dataclass(frozen=True)
class TransferTarget:
    """An undecided transfer a package is ingested under (``kholuu ingest --transfer``).

    Attributes:
        transfer_id: the transfer's full id (the operator may give a prefix).
        organ_id: the mã định danh of the agency that sent it; empty when the transfer names none.
    """

    transfer_id: str
    organ_id: str


def open_transfer(session: Session, transfer_id: str) -> TransferTarget:
    """The transfer a package is about to be ingested under, checked to be still undecided: an
    ingest against a decided transfer would be stored and then refused at registration (a
    decision is never overwritten), having cost a whole ingest.

    Args:
        transfer_id: the transfer's id, or an unambiguous prefix of at least 8 characters.

    Raises:
        TransferError: ``transfer.not_found``, ``transfer.already_decided``.
    """
    transfer = get_transfer(session, transfer_id)
    require_undecided(transfer)
    return TransferTarget(transfer.id, transfer.agency.organ_id if transfer.agency is not None else "")


def checked_options(
    session: Session,
    *,
    allow_duplicate: bool = False,
    organ_id: str = "",
    transfer_id: str = "",
    supersedes: str = "",
) -> IngestOptions:
    """The options of one ingest with every id resolved and checked: the transfer opened
    (:func:`open_transfer`), the sending agency (the one named, else the transfer's) found in the
    Danh mục nguồn nộp lưu, the superseded AIP's full id.

    Raises:
        TransferError: see :func:`open_transfer`.
        RecordsError: ``records.bad_organ_id``, ``records.agency_unknown``.
        NotFoundError: no AIP, or more than one, has the id ``supersedes``.
    """
    if transfer_id:
        target = open_transfer(session, transfer_id)
        transfer_id = target.transfer_id
        organ_id = organ_id or target.organ_id  # the transfer says whose records these are
    if organ_id:
        check_agency(session, organ_id)
    if supersedes:
        supersedes = queries.resolve_aip_id(session, supersedes)
    return IngestOptions(
        allow_duplicate=allow_duplicate, organ_id=organ_id, transfer_id=transfer_id, supersedes=supersedes
    )


__all__ = ["TransferTarget", "checked_options", "open_transfer"]
