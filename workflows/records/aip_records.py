"""The hồ sơ and tài liệu one AIP carries, as a reader of the AIP is shown them.

A TT 05/2025 package (and a legacy export converted to one) is registered in the records catalog
one row per hồ sơ and tài liệu; ``kholuu aip show`` lists them under the AIP, and the web app's
AIP page will list the same, so the query and the code-list labels live here rather than in
either entry point. A hồ sơ re-submitted under ``kholuu ingest --supersedes`` says which AIP
holds it now, and a re-submission which AIPs it replaced: without that, a reader of an old AIP
would take a replaced description for the current one.

Functions take a session and never commit (style guide item 20).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.tt05.tables import Tables
from preservation.tt05.tables import shipped_tables as tt05_tables
from repository.catalog.records import Document, Dossier
from repository.catalog.records_store import dossiers_for_aip

C = TypeVar("C", "CarriedDossier", "CarriedDocument")


@dataclass(frozen=True)
class CarriedDocument:
    """One tài liệu of a hồ sơ: codes as received, ``mode_label`` in the reader's language."""

    ordinal: int
    kind: str
    doc_code: str
    title: str
    issued_date: str
    mode: str
    mode_label: str
    description_path: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class CarriedDossier:
    """One hồ sơ an AIP carries. ``superseded_by``: the AIP holding the re-submission that
    replaced it (None: it is current); ``supersedes``: the AIPs whose hồ sơ it replaced."""

    code: str
    title: str
    package_type: str
    source: str
    maintenance: str
    maintenance_label: str
    mode: str
    mode_label: str
    start_date: str
    end_date: str
    description_path: str
    superseded_by: str | None
    supersedes: tuple[str, ...]
    documents: tuple[CarriedDocument, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types, keys in field order (the order ``kholuu aip show --json`` prints)."""
        out = _plain(self)
        out["supersedes"] = list(self.supersedes)
        out["documents"] = [_plain(d) | {"files": list(d.files)} for d in self.documents]
        return out


def _plain(obj: CarriedDossier | CarriedDocument) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def records_of(session: Session, aip_id: str, *, language: str) -> list[CarriedDossier]:
    """The hồ sơ and tài liệu the AIP ``aip_id`` carries, in the order they were registered,
    with the TT 05 code-list labels (thời hạn lưu trữ, mức độ tiếp cận) in ``language``.

    Returns:
        An empty list for an AIP that carries no TT 05 description (a BagIt or E-ARK package).
    """
    dossiers = dossiers_for_aip(session, aip_id)
    if not dossiers:
        return []
    tables = tt05_tables()
    return [_dossier(session, d, tables, language) for d in dossiers]


def _dossier(session: Session, d: Dossier, tables: Tables, language: str) -> CarriedDossier:
    later = session.get(Dossier, d.superseded_by_id) if d.superseded_by_id else None
    earlier = session.scalars(select(Dossier.aip_id).where(Dossier.superseded_by_id == d.id)).all()
    return _carried(
        CarriedDossier,
        d,
        maintenance_label=tables.label("maintenance", d.maintenance, language),
        mode_label=tables.label("mode", d.mode, language),
        superseded_by=later.aip_id if later else None,
        supersedes=tuple(sorted(earlier)),
        documents=tuple(_document(doc, tables, language) for doc in d.documents),
    )


def _document(doc: Document, tables: Tables, language: str) -> CarriedDocument:
    return _carried(
        CarriedDocument,
        doc,
        mode_label=tables.label("mode", doc.mode, language),
        files=tuple(f.path for f in doc.files),
    )


def _carried(cls: type[C], row: Dossier | Document, **derived: Any) -> C:
    """``cls`` with each field the catalog row has of the same name, and the ``derived`` ones."""
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls) if f.name not in derived}, **derived)


__all__ = ["CarriedDocument", "CarriedDossier", "records_of"]
