"""What the public catalog may show: the one rule every public surface queries through.

Search, record pages, access copies, the sitemap, OAI-PMH, JSON-LD and Turtle, counts and facets all
ask :data:`PUBLIC` (SQL conditions) or :func:`public_dossier` / :func:`public_document` (one record
by its code) and nothing else, so a record is never shown on one surface and hidden on another.

A **hồ sơ** is public when all of these hold:

* its mức độ tiếp cận is ``01`` Công khai (TT 05/2025 code list ``mode``; 02 Sử dụng có điều
  kiện and 03 Mật are never public; vn-standards.md §3.3);
* it is not on the list of tài liệu tiếp cận có điều kiện: no :class:`AccessRestriction` on it that
  has not been lifted (Luật Lưu trữ 2024 khoản 4 Điều 25, NĐ 113/2025);
* its AIP is current: stored (or degraded: stored, a copy pending) and the hồ sơ not replaced by a
  later submission (``kholuu ingest --supersedes``). A failed or still-storing AIP is not a holding.

A **tài liệu** is public when its hồ sơ is, its own mức độ tiếp cận is ``01`` (or empty: it then
has its hồ sơ's, as the DIP rule :func:`workflows.access.access_rules.select_documents` reads it),
and no restriction that has not been lifted is on it. The effective mode is the stricter of the
document's and the dossier's: a hồ sơ that is not public hides all its tài liệu.

A **file** (its text, its access copy) is public when it carries a public tài liệu. A file of an AIP
without description is never public: nobody decided it may be.

Titles of records that are not public are never shown, nor counted: a reader who guesses a code
gets the same "not found" page as for a code that does not exist.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from repository.catalog.file_text import FileText
from repository.catalog.models import Aip, AipStatus
from repository.catalog.records import AccessRestriction, Document, DocumentFile, Dossier
from repository.catalog.records_core import PUBLIC_MODE, RecordNotFoundError, _nfc

#: AIP states in which the archive holds the package.
HELD = (AipStatus.STORED, AipStatus.DEGRADED)
_HELD_AIP = aliased(Aip, name="held_aip")


def _unlifted() -> ColumnElement[bool]:
    return AccessRestriction.lifted_on.is_(None)


class PublicRules:
    """The public catalog's conditions, as SQL (:class:`repository.catalog.search.Visibility`).

    The same rule is kept ahead by the database in ``public_record`` (migration
    ``0012_public_search``, the view ``public_record_rule``), which the catalog search reads
    (``public_index``); a test checks that both select the same records.
    """

    public_index = True

    def dossiers(self) -> ColumnElement[bool]:
        """A condition on :class:`Dossier`."""
        return and_(
            Dossier.mode == PUBLIC_MODE,
            Dossier.superseded_by_id.is_(None),
            ~exists().where(AccessRestriction.dossier_id == Dossier.id, _unlifted()),
            # an alias: a query that joins Aip itself (file search) must not correlate this one to it
            exists().where(_HELD_AIP.id == Dossier.aip_id, _HELD_AIP.status.in_(HELD)),
        )

    def own_document(self) -> ColumnElement[bool]:
        """The document's own part of the rule (its dossier's is :meth:`dossiers`)."""
        return and_(
            or_(Document.mode == PUBLIC_MODE, Document.mode == ""),
            ~exists().where(AccessRestriction.document_id == Document.id, _unlifted()),
        )

    def documents(self) -> ColumnElement[bool]:
        """A condition on :class:`Document` joined with its :class:`Dossier`."""
        return and_(self.own_document(), self.dossiers())

    def files(self) -> ColumnElement[bool]:
        """A condition on :class:`FileText`: it carries a public tài liệu of its AIP."""
        # a file that also carries a closed tài liệu stays closed
        return and_(_carries(self.documents()), not_(_carries(not_(self.documents()))))


def _carries(document: ColumnElement[bool]) -> ColumnElement[bool]:
    """A condition on :class:`FileText`: it carries a tài liệu of its AIP that meets ``document``."""
    return (
        select(DocumentFile.id)
        .join(Document, Document.id == DocumentFile.document_id)
        .join(Dossier, Dossier.id == Document.dossier_id)
        .where(DocumentFile.file_uuid == FileText.file_uuid, Dossier.aip_id == FileText.aip_id, document)
        .exists()
    )


PUBLIC = PublicRules()


def public_dossier(session: Session, code: str) -> Dossier:
    """The public hồ sơ with this code (as received).

    Raises:
        RecordNotFoundError: ``records.dossier_not_found`` when no public hồ sơ has it: one that
            exists but is not public gets the same answer, so its existence does not leak.
    """
    found = session.scalars(
        select(Dossier)
        .where(Dossier.code == _nfc(code), PUBLIC.dossiers())
        .options(selectinload(Dossier.documents))
        .order_by(Dossier.id)
        .limit(1)
    ).first()
    if found is None:
        raise _not_found("dossier", code)
    return found


def public_document(session: Session, dossier: Dossier, code: str) -> Document:
    """The public tài liệu of the public hồ sơ ``dossier`` with this mã tài liệu (or ``#N``, its
    ordinal, for one described without a code).

    Raises:
        RecordNotFoundError: ``records.document_not_found`` (also when it exists but is closed).
    """
    wanted = _nfc(code)
    query = (
        select(Document).join(Document.dossier).where(Document.dossier_id == dossier.id, PUBLIC.documents())
    )
    if wanted.startswith("#") and wanted[1:].isdigit():
        query = query.where(Document.ordinal == int(wanted[1:]), Document.doc_code == "")
    else:
        query = query.where(Document.doc_code == wanted)
    found = session.scalars(query.order_by(Document.id).limit(1)).first()
    if found is None:
        raise _not_found("document", code)
    return found


def public_documents(session: Session, dossier: Dossier) -> list[Document]:
    """The public tài liệu of a public hồ sơ, in their order."""
    return list(
        session.scalars(
            select(Document)
            .join(Document.dossier)
            .where(Document.dossier_id == dossier.id, PUBLIC.documents())
            .order_by(Document.ordinal)
        )
    )


def public_count(session: Session) -> int:
    """How many hồ sơ and tài liệu are public."""
    dossiers = session.scalar(select(func.count()).select_from(Dossier).where(PUBLIC.dossiers()))
    documents = session.scalar(
        select(func.count()).select_from(Document).join(Document.dossier).where(PUBLIC.documents())
    )
    return int(dossiers or 0) + int(documents or 0)


def public_urls(session: Session, offset: int, limit: int) -> list[tuple[str, str | None]]:
    """Public hồ sơ (``(code, None)``), then public tài liệu (``(dossier code, document key)``), in
    catalog order, ``limit`` from ``offset``: what a sitemap lists."""
    dossier_count = int(
        session.scalar(select(func.count()).select_from(Dossier).where(PUBLIC.dossiers())) or 0
    )
    found: list[tuple[str, str | None]] = []
    if offset < dossier_count:
        dossiers = (
            select(Dossier.code).where(PUBLIC.dossiers()).order_by(Dossier.id).offset(offset).limit(limit)
        )
        found += [(code, None) for code in session.scalars(dossiers)]
    if len(found) < limit:
        documents = (
            select(Dossier.code, Document.doc_code, Document.ordinal)
            .join(Document.dossier)
            .where(PUBLIC.documents())
            .order_by(Document.id)
            .offset(max(offset - dossier_count, 0))
            .limit(limit - len(found))
        )
        found += [(code, doc_code or f"#{ordinal}") for code, doc_code, ordinal in session.execute(documents)]
    return found


def document_key(document: Document) -> str:
    """How a tài liệu is named in a public URL: its mã tài liệu, else ``#`` and its ordinal."""
    return document.doc_code or f"#{document.ordinal}"


def _not_found(kind: str, code: str) -> RecordNotFoundError:
    return RecordNotFoundError(
        code=f"records.{kind}_not_found",
        message=f"no {kind} with the code {code!r} in the catalog",
        params={"code": code},
    )


__all__ = [
    "HELD",
    "PUBLIC",
    "PublicRules",
    "document_key",
    "public_count",
    "public_document",
    "public_documents",
    "public_dossier",
    "public_urls",
]
