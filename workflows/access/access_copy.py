"""The reader's copy of a public tài liệu's file, read from storage for the public catalog's viewer.

Which copy: the same as a DIP gives (:func:`workflows.access.dip_writer.access_copies`): the access
copy made at ingest, else the preservation copy, else the original, in the AIP's current version.
The bytes are read from the first storage location holding a stored copy of the AIP and checked
against the catalog's SHA-256 before a byte is sent: a damaged copy is passed over for the next
location, and when none is good the reader gets an error, never damaged bytes.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.errors import ErrorKind
from repository.catalog.models import Aip, Copy, CopyStatus, File
from repository.catalog.records import Document, DocumentFile
from repository.settings import Settings
from repository.storage.copyset import CopySet
from repository.storage.errors import StorageError
from workflows.access.dip_writer import StoredFile, access_copies
from workflows.access.errors import ExportError

#: MIME types a browser shows itself (the viewer serves them inline; others as a download).
log = logging.getLogger("kholuu.access")
INLINE = frozenset({"application/pdf", "image/jpeg", "image/png", "image/gif", "image/webp", "text/plain"})


@dataclass(frozen=True)
class ReaderCopy:
    """The file a reader gets for one original of a tài liệu."""

    original_uuid: str
    path: str  # inside the AIP (aip_path)
    name: str  # the file name a download gets
    mime: str
    sha256: str
    size: int
    aip_id: str
    version: int
    kind: str  # access | preservation | original

    @property
    def inline(self) -> bool:
        return self.mime in INLINE


def reader_copies(session: Session, document: Document) -> list[ReaderCopy]:
    """For each file carrying ``document`` (a public one: the caller checked), what a reader gets."""
    aip_id = document.dossier.aip_id
    aip = session.get(Aip, aip_id)
    if aip is None:
        return []
    rows = session.scalars(
        select(File).where(File.aip_id == aip_id, File.version == aip.current_version)
    ).all()
    stored = {
        r.aip_path: StoredFile(r.aip_path, r.sha256, r.uuid, r.representation, r.mime, r.derived_from or "")
        for r in rows
    }
    by_path = {r.aip_path: r for r in rows}
    best = access_copies(stored)
    originals = {r.uuid: r for r in rows if r.uuid and not r.derived_from}
    uuids = session.scalars(
        select(DocumentFile.file_uuid)
        .where(DocumentFile.document_id == document.id)
        .order_by(DocumentFile.id)
    ).all()
    copies: list[ReaderCopy] = []
    for uuid in uuids:
        original = originals.get(uuid)
        if original is None:
            continue
        chosen = best.get(uuid)
        row = by_path[chosen.path] if chosen is not None else original
        kind = (
            "original"
            if chosen is None
            else ("access" if (row.representation or "").endswith("-access") else "preservation")
        )
        name = (row.path or row.aip_path).rsplit("/", 1)[-1]
        copies.append(
            ReaderCopy(
                uuid,
                row.aip_path,
                name,
                row.mime or "application/octet-stream",
                row.sha256,
                row.size,
                aip_id,
                aip.current_version,
                kind,
            )
        )
    return copies


def fetch_copy(settings: Settings, session: Session, copy: ReaderCopy, into: Path) -> Path:
    """The copy's bytes in a file under ``into``, checked against the catalog's digest.

    Raises:
        ExportError: ``access.copy_unavailable`` (unavailable) when no location gives good bytes.
    """
    held = session.scalars(
        select(Copy.location).where(Copy.aip_id == copy.aip_id, Copy.status == CopyStatus.STORED)
    ).all()
    target = into / "copy"
    try:
        CopySet.of(settings, copy.aip_id).read_file_verified(
            target, version=copy.version, path=copy.path, sha256=copy.sha256, holders=held
        )
    except StorageError as exc:
        log.error("access copy %s of AIP %s: %s", copy.path, copy.aip_id, exc)
        raise ExportError(
            f"no storage location gave good bytes of {copy.path} (AIP {copy.aip_id})",
            code="access.copy_unavailable",
            kind=ErrorKind.UNAVAILABLE,
            params={},
        ) from exc
    return target


def spool_folder() -> Path:
    """A private temporary folder for one copy; the caller removes it (:func:`remove`)."""
    return Path(tempfile.mkdtemp(prefix="kholuu-copy-"))


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


__all__ = ["INLINE", "ReaderCopy", "fetch_copy", "reader_copies", "remove", "spool_folder"]
