"""Search text extracted again from storage (``kholuu reindex``).

The text of payload files is derived data kept in the catalog only (:mod:`repository.catalog.
file_text`): a catalog rebuilt from storage (``kholuu rebuild-catalog``), or AIPs stored before
text extraction existed, have none, and the public catalog and ``kholuu search`` would not find
them. This reads each current AIP version that has payload files without text from storage
(verified, :func:`workflows.custody.retrieve.copy_aip`, in a job of its own whose work folder the
envelope removes), extracts the text as ingest does, and stores it.

OCR is not run again by default: a scan OCR'd at ingest got a "PDF/A hai lớp" preservation copy
whose text layer holds what Tesseract read, so that copy's text is taken for the original (noted
as such; the confidence is not recovered). ``ocr=True`` OCRs the scans that have no such copy.
A file whose text cannot be read is listed, and the others go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import KholuuError
from preservation.planning.ocr import OcrOptions, file_text
from preservation.planning.text import ExtractedText
from repository.catalog.file_text import FileText, add_texts
from repository.catalog.models import Aip, File, FileRole
from repository.catalog.public_records import refresh_public_records
from repository.settings import Settings
from workflows.custody.retrieve import copy_aip
from workflows.ingest.text_step import ocr_options
from workflows.jobs.envelope import JobSpec, Workflow, run_job

__all__ = ["ReindexReport", "Wanted", "reindex", "stored_text"]


@dataclass(frozen=True)
class Wanted:
    """A payload file without text, and the PDF copy made of it (whose text layer may stand in)."""

    uuid: str
    path: str
    mime: str | None
    copy_path: str = ""


@dataclass
class ReindexReport:
    """What was read again: AIPs and files looked at, texts stored, and each failure with its code."""

    aips: int = 0
    files: int = 0
    texts: int = 0
    from_copies: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "aips": self.aips,
            "files": self.files,
            "texts": self.texts,
            "from_copies": self.from_copies,
            "failed": self.failed,
        }


def reindex(
    settings: Settings, sessions: sessionmaker[Session], *, aip_id: str | None = None, ocr: bool = False
) -> ReindexReport:
    """Extract and store the text of every current payload file that has none (``aip_id``: only
    that AIP). One job per AIP; one AIP's failure to be read is reported and the others go on.
    A whole reindex also copies the public records the catalog search reads from their rule
    again (:func:`repository.catalog.public_records.refresh_public_records`)."""
    report = ReindexReport()
    for aip, version, wanted in _missing(sessions, aip_id):
        report.aips += 1
        report.files += len(wanted)
        try:
            texts, from_copies, failed = _one_aip(settings, sessions, aip, version, wanted, ocr)
        except KholuuError as exc:
            report.failed.append({"aip_id": aip, "path": None, "code": exc.code, "message": str(exc)})
            continue
        report.texts += len(texts)
        report.from_copies += from_copies
        report.failed.extend(failed)
    if aip_id is None:
        with sessions.begin() as session:
            refresh_public_records(session)
    return report


def _missing(sessions: sessionmaker[Session], aip_id: str | None) -> Iterator[tuple[str, int, list[Wanted]]]:
    """AIP by AIP (one query each, never the whole holdings' file list at once): the current
    version's original payload files that have no text row."""
    with sessions() as session:
        query = select(Aip.id, Aip.current_version).order_by(Aip.id)
        aips = session.execute(query if aip_id is None else query.where(Aip.id == aip_id)).all()
    for aip, version in aips:
        with sessions() as session:
            wanted = _wanted(session, aip, version)
        if wanted:
            yield aip, version, wanted


def _wanted(session: Session, aip: str, version: int) -> list[Wanted]:
    have = select(FileText.file_uuid).where(FileText.aip_id == aip)
    rows = session.scalars(
        select(File).where(File.aip_id == aip, File.version == version, File.role.in_(_PAYLOAD))
    ).all()
    copies = {
        f.derived_from: f.aip_path
        for f in rows
        if f.role is FileRole.DERIVATIVE
        and (f.representation or "").endswith("-preservation")
        and f.mime == "application/pdf"
    }
    with_text = set(session.scalars(have).all())
    return [
        Wanted(f.uuid, f.aip_path, f.mime, copies.get(f.uuid, ""))
        for f in rows
        if f.role is FileRole.ORIGINAL and f.uuid and f.uuid not in with_text
    ]


_PAYLOAD = (FileRole.ORIGINAL, FileRole.DERIVATIVE)


def _one_aip(
    settings: Settings,
    sessions: sessionmaker[Session],
    aip: str,
    version: int,
    wanted: list[Wanted],
    ocr: bool,
) -> tuple[dict[str, ExtractedText], int, list[dict[str, Any]]]:
    options: dict[str, Any] = {"version": version, "ocr": ocr}
    spec = JobSpec(kind=Workflow.REINDEX, source=aip, source_name=aip, aip_id=aip, options=options)
    texts: dict[str, ExtractedText] = {}
    failed: list[dict[str, Any]] = []
    from_copies = 0
    with run_job(settings, sessions, spec) as job:
        job.work_dir.mkdir(parents=True)
        folder = Path(str(copy_aip(settings, sessions, aip, job.work_dir / "aip", version=version)["path"]))
        for n, f in enumerate(wanted):
            try:
                found, from_copy = stored_text(settings, folder, f, job.work_dir / "text" / str(n), ocr)
            except KholuuError as exc:
                failed.append({"aip_id": aip, "path": f.path, "code": exc.code, "message": str(exc)})
                continue
            if found is not None:
                texts[f.uuid] = found
                from_copies += from_copy
        with sessions.begin() as session:
            add_texts(session, aip, version, texts, datetime.now(UTC))
    return texts, from_copies, failed


def stored_text(
    settings: Settings, folder: Path, f: Wanted, work: Path, ocr: bool
) -> tuple[ExtractedText | None, bool]:
    """The file's own text; else, for a scan, the text layer of its PDF/A copy; else OCR if asked."""
    planning = settings.planning

    def read(path: str, mime: str | None, into: str, ocr: OcrOptions | None = None) -> ExtractedText | None:
        return file_text(
            folder / path, mime, work / into, ocr=ocr, timeout=planning.text_timeout_seconds,
            limit=planning.max_text_bytes,
        )  # fmt: skip

    found = read(f.path, f.mime, "own")
    if found is not None and found.text.strip():
        return found, False
    if f.copy_path:
        layer = read(f.copy_path, "application/pdf", "copy")
        if layer is not None and layer.text.strip():
            note = "text layer of the preservation copy (OCR'd at ingest); confidence not recovered"
            return replace(layer, note="; ".join(filter(None, [layer.note, note]))), True
    if ocr:
        forced = ocr_options(dataclasses.replace(planning, ocr=True))
        return read(f.path, f.mime, "ocr", forced), False
    return found, False
