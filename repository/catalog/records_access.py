"""Access to the described holdings: search, the dated list of tài liệu tiếp cận có điều kiện
(Luật Lưu trữ 2024 khoản 4 Điều 25; NĐ 113/2025) and changes of mức độ tiếp cận (giải mật).

Decisions are facts with dates: a restriction is on the list from its decision's date until the
date of the decision that lifts it, and the entry is never deleted, so the list can be given as it
stood on any day. The time an entry was typed in (``recorded_at``, ``lifted_at``) is kept for the
audit trail only. Functions take a session and never commit (style guide item 20).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import cast

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from preservation.names import fold
from repository.catalog.records import AccessChange, AccessRestriction, Document, Dossier
from repository.catalog.records_core import (
    VIETNAM_TZ,
    RecordNotFoundError,
    RecordsError,
    _nfc,
    mode_codes,
    mode_rank,
)
from repository.catalog.search import EVERYTHING, Visibility

_SPACES = re.compile(r"\s+")


def _exact_form(text: str) -> str:
    """Case-folded NFC with collapsed spaces: diacritics still count (``--exact``)."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return _SPACES.sub(" ", folded).strip()


# --------------------------------------------------------------------------- search


def _restricted_now() -> ColumnElement[bool]:
    return AccessRestriction.lifted_on.is_(None)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_records(
    session: Session,
    text: str,
    *,
    ignore_diacritics: bool = True,
    visible: Visibility = EVERYTHING,
    limit: int = 50,
) -> list[Dossier | Document]:
    """Dossiers, then documents, whose title or code contains ``text``; for a document the code
    is its mã tài liệu or its số and ký hiệu as written on it ("15", "KH-UBND", "15/KH-UBND").

    Matching ignores case and, by default, diacritics and đ/d ("ho so xay dung" finds "Hồ sơ xây
    dựng"); with ``ignore_diacritics=False`` the marks must match too. ``visible`` says what the
    searcher may see: :data:`repository.catalog.search.EVERYTHING` for staff, or the public
    catalog's one rule, :data:`workflows.access.public.PUBLIC` (``kholuu records search --public``),
    so that this search and the public catalog can never disagree on what a reader may see.
    """
    needle = fold(text)
    if not needle or limit <= 0:
        return []
    pattern = f"%{_escape_like(needle)}%"
    exact = _exact_form(text)
    found: list[Dossier | Document] = []
    batch = max(limit, 100)
    for model in (Dossier, Document):
        code_column = Dossier.code if model is Dossier else Document.doc_code
        condition = or_(
            model.title_search.like(pattern, escape="\\"),
            func.lower(code_column).like(pattern, escape="\\"),
            *([Document.number_search.like(pattern, escape="\\")] if model is Document else []),
        )
        # a hồ sơ re-submitted under --supersedes is found once: as the record that replaced it
        condition = and_(condition, Dossier.superseded_by_id.is_(None))
        condition = and_(condition, visible.dossiers() if model is Dossier else visible.documents())
        last_id = 0
        while True:
            query = select(model)
            if model is Document:
                query = query.join(Document.dossier)
            query = query.where(condition, model.id > last_id).order_by(model.id).limit(batch)
            rows = cast(Sequence[Dossier | Document], session.scalars(query).all())
            for row in rows:
                codes = (row.code,) if isinstance(row, Dossier) else (row.doc_code, _number(row))
                if ignore_diacritics or any(exact in _exact_form(c) for c in (row.title, *codes)):
                    found.append(row)
                    if len(found) >= limit:
                        return found
            if len(rows) < batch:
                break
            last_id = rows[-1].id
    return found


def _number(document: Document) -> str:
    return "/".join(p for p in (document.code_number, document.code_notation) if p)


# --------------------------------------------------------------------------- restrictions and giải mật


def _target(session: Session, dossier_id: int | None, document_id: int | None) -> Dossier | Document:
    if (dossier_id is None) == (document_id is None):
        raise RecordsError(
            code="records.one_target",
            message="name exactly one record: a dossier or a document",
            params={},
        )
    record = (
        session.get(Dossier, dossier_id) if dossier_id is not None else session.get(Document, document_id)
    )
    if record is None:
        kind = "dossier" if dossier_id is not None else "document"
        raise RecordNotFoundError(
            code="records.record_not_found",
            message=f"no {kind} with id {dossier_id or document_id}",
            params={"kind": kind, "id": dossier_id or document_id},
        )
    return record


def _required(**values: str) -> None:
    for column, value in values.items():
        if not value.strip():
            raise RecordsError(
                code="records.missing_value", message=f"{column} is empty", params={"column": column}
            )


def restrict(
    session: Session,
    *,
    dossier_id: int | None = None,
    document_id: int | None = None,
    decision_number: str,
    decision_date: date,
    reason: str,
    review_date: date | None = None,
    by: str,
    at: datetime | None = None,
) -> AccessRestriction:
    """Put a dossier or a document on the list of tài liệu tiếp cận có điều kiện (Luật Lưu trữ 2024
    khoản 4 Điều 25; NĐ 113/2025), by a dated decision. The record's mức độ tiếp cận is unchanged:
    the list is kept beside it (vn-standards.md §3.3)."""
    _required(decision=decision_number, reason=reason, by=by)
    _target(session, dossier_id, document_id)
    if review_date is not None and review_date < decision_date:
        raise RecordsError(
            code="records.bad_review_date",
            message=f"the review date {review_date} is before the decision ({decision_date})",
            params={"review_date": review_date.isoformat(), "decision_date": decision_date.isoformat()},
        )
    same_record = (
        AccessRestriction.dossier_id == dossier_id
        if dossier_id is not None
        else AccessRestriction.document_id == document_id
    )
    current = session.scalars(select(AccessRestriction).where(same_record, _restricted_now())).first()
    if current is not None:
        raise RecordsError(
            code="records.already_restricted",
            message=f"the record is already restricted (restriction {current.id}, decision "
            f"{current.decision_number}); lift it first",
            params={"id": current.id, "decision": current.decision_number},
        )
    restriction = AccessRestriction(
        dossier_id=dossier_id,
        document_id=document_id,
        decision_number=_nfc(decision_number),
        decision_date=decision_date,
        reason=_nfc(reason),
        review_date=review_date,
        recorded_at=at or datetime.now(UTC),
        recorded_by=by,
        lifted_decision="",
        lifted_by="",
    )
    session.add(restriction)
    session.flush()
    return restriction


def lift_restriction(
    session: Session,
    restriction_id: int,
    *,
    decision_number: str,
    decision_date: date | None = None,
    by: str,
    at: datetime,
    tz: tzinfo = VIETNAM_TZ,
) -> AccessRestriction:
    """End a restriction by a later, dated decision; the entry stays in the record.

    The list as it stood on a day (:func:`active_restrictions`) follows the lifting decision's
    date (``lifted_on``), as it follows the restricting decision's date: a decision taken on 10/3
    and entered on 15/3 lifted the restriction on 10/3.

    Args:
        decision_date: the date of the lifting decision. When a caller does not know it, the day
            the lifting is recorded (``at``, in ``tz``) stands for it.
        at: when the lifting is recorded (audit trail).

    Raises:
        RecordNotFoundError: ``records.restriction_not_found``.
        RecordsError: ``records.already_lifted``; ``records.bad_lift_date`` when the lifting
            decision is dated before the restricting one; ``records.missing_value``.
    """
    _required(decision=decision_number, by=by)
    restriction = session.get(AccessRestriction, restriction_id)
    if restriction is None:
        raise RecordNotFoundError(
            code="records.restriction_not_found",
            message=f"no restriction {restriction_id}",
            params={"id": restriction_id},
        )
    if restriction.lifted_on is not None:
        raise RecordsError(
            code="records.already_lifted",
            message=f"restriction {restriction_id} was lifted on {restriction.lifted_on:%Y-%m-%d} "
            f"(decision {restriction.lifted_decision})",
            params={
                "id": restriction_id,
                "decision": restriction.lifted_decision,
                "at": restriction.lifted_on.isoformat(),
            },
        )
    lifted_on = decision_date or at.astimezone(tz).date()
    if lifted_on < restriction.decision_date:
        raise RecordsError(
            code="records.bad_lift_date",
            message=f"the lifting decision ({lifted_on}) is dated before the decision that put the "
            f"record on the list ({restriction.decision_date})",
            params={"date": lifted_on.isoformat(), "decision_date": restriction.decision_date.isoformat()},
        )
    restriction.lifted_on = lifted_on
    restriction.lifted_at = at
    restriction.lifted_decision = _nfc(decision_number)
    restriction.lifted_by = by
    session.flush()
    return restriction


def active_restrictions(
    session: Session, *, on: date | None = None, tz: tzinfo = VIETNAM_TZ
) -> list[AccessRestriction]:
    """The danh mục tài liệu tiếp cận có điều kiện as it stood on day ``on``, or as it stands now.

    On a day, the list holds the restrictions decided on or before it and not lifted by a decision
    dated on or before it; both dates are the decisions' own calendar days, never the time they
    were entered, so ``tz`` no longer changes the answer (it is accepted for existing callers).
    Now, it holds every entry not lifted yet.
    """
    query = select(AccessRestriction)
    if on is None:
        query = query.where(_restricted_now())
    else:
        query = query.where(
            AccessRestriction.decision_date <= on,
            or_(AccessRestriction.lifted_on.is_(None), AccessRestriction.lifted_on > on),
        )
    return list(session.scalars(query.order_by(AccessRestriction.decision_date, AccessRestriction.id)))


def restrictions_due_for_review(session: Session, on: date) -> list[AccessRestriction]:
    """Restrictions still in force whose review date is ``on`` or earlier."""
    query = select(AccessRestriction).where(
        _restricted_now(), AccessRestriction.review_date.is_not(None), AccessRestriction.review_date <= on
    )
    return list(session.scalars(query.order_by(AccessRestriction.review_date, AccessRestriction.id)))


def stricter_documents(session: Session, dossier_id: int, mode: str) -> list[Document]:
    """The documents of a dossier whose mức độ tiếp cận is stricter than ``mode`` (TT 05 ``mode``
    list order: 01 Công khai, 02 Sử dụng có điều kiện, 03 Mật); documents with no or an unknown
    code are not compared."""
    rank = mode_rank(mode)
    if rank is None:
        return []
    rows = session.scalars(
        select(Document).where(Document.dossier_id == dossier_id).order_by(Document.ordinal)
    )
    return [d for d in rows if (r := mode_rank(d.mode)) is not None and r > rank]


def change_access(
    session: Session,
    *,
    dossier_id: int | None = None,
    document_id: int | None = None,
    to_mode: str,
    decision_number: str,
    decision_date: date,
    reason: str,
    by: str,
    at: datetime | None = None,
    cascade: bool = False,
) -> list[AccessChange]:
    """Change a record's mức độ tiếp cận by a decision (giải mật, reclassification), recorded as an
    event with the mode it had before (Luật Lưu trữ 2024: classified records go to the historical
    archive only after giải mật). The record's ``elements["mode"]`` follows, so the description the
    catalog gives out says what was decided.

    ``cascade`` (a dossier only) applies the decision to the dossier's documents too: every
    document whose mode is stricter than ``to_mode`` is brought to it, with one event each.
    Why "stricter ones only", not all: a decision that opens a hồ sơ (giải mật) is about what is
    in it, and a document left stricter would stay closed inside a dossier the decision opened;
    a document already more open than the new mode (a published decree filed in a classified
    dossier) was never closed by the dossier's level, and opening the dossier must not close it.
    For the same reason a cascade is refused when the change makes the dossier stricter:
    following it would either close open documents or lower stricter ones, and neither is what a
    decision on the dossier's level says; each document's level is then decided on its own. (Our
    digest of the rules, vn-standards.md, has no article on how a hồ sơ's level and its tài
    liệu's levels relate; this is the conservative reading.) A dossier that already has
    ``to_mode`` may still cascade, to bring along the documents an earlier change left stricter.

    Returns:
        The events recorded: the record's own first (none when only documents change), then one
        per document in ordinal order.

    Raises:
        RecordsError: ``records.bad_mode``, ``records.mode_unchanged`` (nothing would change),
            ``records.cascade_needs_dossier``, ``records.cascade_stricter``,
            ``records.missing_value``, ``records.one_target``.
    """
    _required(decision=decision_number, reason=reason, by=by)
    if to_mode not in mode_codes():
        raise RecordsError(
            code="records.bad_mode",
            message=f"{to_mode!r} is not a mức độ tiếp cận code ({', '.join(mode_codes())})",
            params={"mode": to_mode, "modes": list(mode_codes())},
        )
    record = _target(session, dossier_id, document_id)
    documents = _cascaded_documents(session, record, to_mode) if cascade else []
    if record.mode == to_mode and not documents:
        raise RecordsError(
            code="records.mode_unchanged",
            message=f"the record already has mức độ tiếp cận {to_mode}",
            params={"mode": to_mode},
        )
    moment = at or datetime.now(UTC)
    targets: list[Dossier | Document] = [record] if record.mode != to_mode else []
    changes: list[AccessChange] = []
    for target in [*targets, *documents]:
        changes.append(
            _apply_change(
                target,
                to_mode,
                decision_number=decision_number,
                decision_date=decision_date,
                reason=reason,
                by=by,
                at=moment,
            )
        )
    session.add_all(changes)
    session.flush()
    return changes


def _cascaded_documents(session: Session, record: Dossier | Document, to_mode: str) -> list[Document]:
    """The documents a cascading change brings to ``to_mode``: the dossier's stricter ones.

    Raises:
        RecordsError: ``records.cascade_needs_dossier``, ``records.cascade_stricter``.
    """
    if not isinstance(record, Dossier):
        raise RecordsError(
            code="records.cascade_needs_dossier",
            message="only a dossier's change can be applied to its documents",
            params={},
        )
    before, after = mode_rank(record.mode), mode_rank(to_mode)
    if before is not None and after is not None and after > before:
        raise RecordsError(
            code="records.cascade_stricter",
            message=f"a change to a stricter mode ({record.mode} → {to_mode}) is not applied to "
            "the documents: decide each document's mode on its own",
            params={"from_mode": record.mode, "to_mode": to_mode},
        )
    return stricter_documents(session, record.id, to_mode)


def _apply_change(
    target: Dossier | Document,
    to_mode: str,
    *,
    decision_number: str,
    decision_date: date,
    reason: str,
    by: str,
    at: datetime,
) -> AccessChange:
    """The decision's event for ``target``, with the mode it had; ``target`` then has ``to_mode``."""
    is_dossier = isinstance(target, Dossier)
    change = AccessChange(
        dossier_id=target.id if is_dossier else None,
        document_id=None if is_dossier else target.id,
        from_mode=target.mode,
        to_mode=to_mode,
        decision_number=_nfc(decision_number),
        decision_date=decision_date,
        reason=_nfc(reason),
        recorded_at=at,
        recorded_by=by,
    )
    target.mode = to_mode
    target.elements = {**target.elements, "mode": to_mode}  # a new dict: JSON columns track assignment
    return change


def access_changes(session: Session) -> list[AccessChange]:
    return list(session.scalars(select(AccessChange).order_by(AccessChange.recorded_at, AccessChange.id)))
