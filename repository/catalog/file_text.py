"""The text of payload files, kept for search (``kholuu search``, later the public catalog).

One row per payload file of an AIP that has text: the text as extracted or recognized (NFC, at
most ``[planning] max_text_bytes``), how it was obtained and, for OCR, Tesseract's mean word
confidence. ``text_folded`` is the same text in :func:`preservation.planning.text.search_form`
(no diacritics, đ → d, case-folded, words separated by single spaces), the column the full-text
index covers: on PostgreSQL a GIN index over the stored generated column ``file_text_fts_vector``
(``to_tsvector('simple', text_folded)``), on SQLite an
FTS5 table kept in step by triggers (migration ``0007_file_text``; :mod:`repository.catalog.search`
reads both).

Rows are keyed by (AIP, file uuid): a file's uuid is stable across AIP versions, and its text does
not change with a new version. The text is derived data: it is not in the AIP, so a catalog rebuilt
from storage has none until the text is extracted again (a known limit, docs/planning.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from preservation.planning.text import ExtractedText, search_form
from repository.catalog.base import Base, Timestamp
from repository.catalog.models import File

FTS_PREFIX = "file_text_fts"
"""Names of the full-text index objects the migration creates outside the models (the SQLite FTS5
table, its shadow tables and triggers; the PostgreSQL tsvector column and its GIN index); schema
comparisons skip them."""

RECORD_FTS_PREFIX = "record_fts"
"""The same for the index over the descriptions of hồ sơ and tài liệu (migration 0010_catalog)."""


class FileText(Base):
    """The searchable text of one payload file."""

    __tablename__ = "file_text"
    __table_args__ = (UniqueConstraint("aip_id", "file_uuid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aip_id: Mapped[str] = mapped_column(ForeignKey("aip.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]  # the AIP version the text was extracted from
    file_id: Mapped[int] = mapped_column(ForeignKey("file.id", ondelete="CASCADE"), index=True)
    file_uuid: Mapped[str] = mapped_column(String(36), index=True)
    method: Mapped[str] = mapped_column(String(20))  # text layer | content | ocr
    language: Mapped[str] = mapped_column(String(40))  # ISO 639-2, OCR: Tesseract's "vie+eng"
    confidence: Mapped[float | None] = mapped_column(Float)  # OCR: mean word confidence 0-100
    pages: Mapped[int | None]
    pages_ocr: Mapped[int] = mapped_column(default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)  # more text than was kept
    text: Mapped[str] = mapped_column(Text)
    text_folded: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    extracted_at: Mapped[Timestamp]


PUBLIC_RULE_PREFIX = "public_record_rule"
"""The view of the public rule and its triggers (migration 0012_public_search)."""


def is_index_object(name: str | None) -> bool:
    """Whether ``name`` is one of the full-text index objects the models do not describe."""
    return bool(name) and str(name).startswith((FTS_PREFIX, RECORD_FTS_PREFIX, PUBLIC_RULE_PREFIX))


QUEUE_PREFIX = "procrastinate_"
"""The job queue's objects (PostgreSQL only, made from procrastinate's own SQL by 0013_queue)."""


def include_in_comparison(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: schema comparisons (autogenerate, the drift tests) leave
    alone the objects a migration made by hand from SQL: the full-text index objects, and the job
    queue's tables."""
    if name is not None and (name.startswith(QUEUE_PREFIX) or name.startswith("idx_procrastinate_")):
        return False
    if isinstance(parent_names, dict) and str(parent_names.get("table_name") or "").startswith(QUEUE_PREFIX):
        return False
    return not is_index_object(name)


def add_texts(
    session: Session, aip_id: str, version: int, texts: Mapping[str, ExtractedText], at: datetime
) -> int:
    """Insert the text rows of the payload files ``texts`` names (file uuid → text) in the AIP's
    ``version``; returns how many. The files' rows must be flushed already."""
    if not texts:
        return 0
    files = session.execute(
        select(File.id, File.uuid).where(
            File.aip_id == aip_id, File.version == version, File.uuid.in_(list(texts))
        )
    ).all()
    for file_id, file_uuid in files:
        assert file_uuid is not None  # selected by uuid
        extracted = texts[file_uuid]
        session.add(
            FileText(
                aip_id=aip_id,
                version=version,
                file_id=file_id,
                file_uuid=file_uuid,
                method=extracted.method.value,
                language=extracted.language,
                confidence=extracted.confidence,
                pages=extracted.pages,
                pages_ocr=extracted.pages_ocr,
                truncated=extracted.truncated,
                text=extracted.text,
                text_folded=search_form(extracted.text),
                note=extracted.note,
                extracted_at=at,
            )
        )
    session.flush()
    return len(files)
