"""Access rules of a stored AIP: which hồ sơ and tài liệu may leave, to whom, and why not.

A reader's DIP releases documents one by one under mức độ tiếp cận and the list of tài liệu tiếp cận
có điều kiện (:func:`select_documents`); a transfer package carries every record and needs a decision
for the restricted ones (:func:`restricted_content`). Both rules read the same catalog records, so
they live together, apart from the packages that apply them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from preservation.errors import ErrorKind
from repository.catalog.models import Aip
from repository.catalog.records import AccessRestriction, Document, Dossier
from workflows.access.errors import ExportError

#: Mức độ tiếp cận (TT 05 code list ``mode``): 01 Công khai, 02 Sử dụng có điều kiện, 03 Mật.
MODE_OPEN, MODE_CONDITIONAL, MODE_SECRET = "01", "02", "03"
MODES = (MODE_OPEN, MODE_CONDITIONAL, MODE_SECRET)


@dataclass(frozen=True)
class Withheld:
    """A document left out of a DIP: its code and why (``reason`` is a message code)."""

    code: str
    ordinal: int
    reason: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "ordinal": self.ordinal,
            "reason": self.reason,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class Selection:
    """What a DIP releases. ``whole_aip``: the AIP has no TT 05 descriptions, so there are no
    documents to decide on one by one; it is released whole, under the archive's decision."""

    released: tuple[tuple[Dossier, Document], ...]
    withheld: tuple[Withheld, ...]
    whole_aip: bool = False


def document_code(document: Document) -> str:
    return document.doc_code or f"#{document.ordinal}"


def narrow(selection: Selection, codes: Sequence[str]) -> Selection:
    """Only the documents a request names, by their code or their hồ sơ's; all of them when it
    names none. The withheld list keeps the named documents (all, when a hồ sơ is named)."""
    wanted = {c.strip().casefold() for c in codes if c.strip()}
    if not wanted or selection.whole_aip:
        return selection
    released = tuple(
        (dossier, document)
        for dossier, document in selection.released
        if dossier.code.casefold() in wanted or document_code(document).casefold() in wanted
    )
    dossier_named = any(d.code.casefold() in wanted for d, _ in selection.released)
    withheld = tuple(w for w in selection.withheld if dossier_named or w.code.casefold() in wanted)
    return Selection(released, withheld)


def select_documents(session: Session, aip_id: str, *, approved: bool) -> Selection:
    """Which tài liệu of the AIP a requester may receive, and why each other one may not.

    Released: mức độ tiếp cận 01 (Công khai); 02 (Sử dụng có điều kiện) only when the archive
    approved the request (``approved``); never 03 (Mật). A document is never more open than its hồ
    sơ (the stricter of the two modes counts), and nothing on the list of tài liệu tiếp cận có
    điều kiện (an active :class:`AccessRestriction` on the document or its hồ sơ; Luật Lưu trữ
    2024 khoản 4 Điều 25, vn-standards.md §3.3) is released until that restriction is lifted.

    An AIP without TT 05 descriptions (a legacy or plain E-ARK SIP) has no mức độ tiếp cận to read:
    nobody has yet judged it open. It is released whole, and only under the archive's decision
    (``approved``, the number of the decision approving the request; Luật Lưu trữ 2024 Điều 25-26:
    access beyond the open records is the archive head's to approve), never by default.

    Raises:
        ExportError: ``catalog.not_found`` (no such AIP), ``export.undescribed_needs_approval``
            (refused: the AIP carries no TT 05 descriptions and the request has no approval).
    """
    if session.get(Aip, aip_id) is None:
        raise ExportError(
            f"no AIP {aip_id}",
            code="catalog.not_found",
            kind=ErrorKind.NOT_FOUND,
            params={"kind": "AIP", "id": aip_id},
        )
    dossiers = _records(session, aip_id)
    if not dossiers:
        if approved:
            return Selection((), (), whole_aip=True)
        raise ExportError(
            f"AIP {aip_id} has no TT 05 descriptions (hồ sơ, tài liệu), so nothing records that its "
            "files are open; it can be released only under the archive's decision approving the "
            "request (--approved-conditional DECISION)",
            code="export.undescribed_needs_approval",
            kind=ErrorKind.REFUSED,
            params={"aip_id": aip_id},
        )
    on_dossier, on_document = _active_restrictions(session, dossiers)
    released: list[tuple[Dossier, Document]] = []
    withheld: list[Withheld] = []
    for dossier in dossiers:
        for document in dossier.documents:
            reason = _withheld(
                dossier, document, on_document.get(document.id), on_dossier.get(dossier.id), approved
            )
            if reason is None:
                released.append((dossier, document))
            else:
                withheld.append(reason)
    return Selection(tuple(released), tuple(withheld))


def _records(session: Session, aip_id: str) -> Sequence[Dossier]:
    return session.scalars(
        select(Dossier)
        .where(Dossier.aip_id == aip_id)
        .options(selectinload(Dossier.documents).selectinload(Document.files))
        .order_by(Dossier.id)
    ).all()


def _active_restrictions(
    session: Session, dossiers: Sequence[Dossier]
) -> tuple[dict[int, AccessRestriction], dict[int, AccessRestriction]]:
    """The restrictions not lifted (the list of tài liệu tiếp cận có điều kiện), by dossier id and
    by document id."""
    dossier_ids = [d.id for d in dossiers]
    document_ids = [doc.id for d in dossiers for doc in d.documents]
    active = session.scalars(
        select(AccessRestriction)
        .where(
            AccessRestriction.lifted_at.is_(None),
            or_(
                AccessRestriction.dossier_id.in_(dossier_ids), AccessRestriction.document_id.in_(document_ids)
            ),
        )
        .order_by(AccessRestriction.id)
    ).all()
    on_dossier = {r.dossier_id: r for r in active if r.dossier_id is not None}
    on_document = {r.document_id: r for r in active if r.document_id is not None}
    return on_dossier, on_document


def restricted_content(session: Session, aip_id: str) -> tuple[Withheld, ...]:
    """What of the AIP may leave whole only under a decision: hồ sơ and tài liệu of mức độ tiếp
    cận 03 (Mật), and those on the list of tài liệu tiếp cận có điều kiện (an active
    :class:`AccessRestriction`; Luật Lưu trữ 2024 khoản 4 Điều 25, vn-standards.md §3.3).

    A transfer package (tt05-aip, bagit) carries every record of the AIP, so the rule is per
    record, not per document as for a DIP: a Mật or listed hồ sơ is named once (its documents go
    with it), a document only when it is restricted itself. An AIP without TT 05 records has
    nothing to report (``()``); mức độ tiếp cận 02 alone needs no decision to go to another archive.
    """
    found: list[Withheld] = []
    dossiers = _records(session, aip_id)
    on_dossier, on_document = _active_restrictions(session, dossiers)
    for dossier in dossiers:
        listed = on_dossier.get(dossier.id)
        if dossier.mode == MODE_SECRET or listed is not None:
            found.append(_restricted(dossier.code, 0, dossier.mode, listed))
            continue
        for document in dossier.documents:
            listed = on_document.get(document.id)
            if document.mode == MODE_SECRET or listed is not None:
                found.append(_restricted(document_code(document), document.ordinal, document.mode, listed))
    return tuple(found)


def _restricted(code: str, ordinal: int, mode: str, listed: AccessRestriction | None) -> Withheld:
    if mode == MODE_SECRET:
        return Withheld(code, ordinal, "export.restricted_secret", {"code": code, "mode": mode})
    assert listed is not None
    return Withheld(
        code,
        ordinal,
        "export.restricted_listed",
        {
            "code": code,
            "decision": listed.decision_number,
            "decision_date": listed.decision_date.isoformat(),
        },
    )


def _withheld(
    dossier: Dossier,
    document: Document,
    own: AccessRestriction | None,
    inherited: AccessRestriction | None,
    approved: bool,
) -> Withheld | None:
    code = document_code(document)
    mode = document.mode or dossier.mode
    if mode not in MODES:
        return Withheld(
            code, document.ordinal, "export.withheld_no_mode", {"code": code, "mode": mode or "—"}
        )
    if dossier.mode in MODES:
        mode = max(mode, dossier.mode)
    if mode == MODE_SECRET:
        return Withheld(code, document.ordinal, "export.withheld_secret", {"code": code, "mode": mode})
    restriction = own or inherited
    if restriction is not None:
        target = code if own is not None else dossier.code
        return Withheld(
            code,
            document.ordinal,
            "export.withheld_restricted",
            {
                "code": code,
                "target": target,
                "decision": restriction.decision_number,
                "decision_date": restriction.decision_date.isoformat(),
            },
        )
    if mode == MODE_CONDITIONAL and not approved:
        return Withheld(code, document.ordinal, "export.withheld_conditional", {"code": code, "mode": mode})
    return None
