"""Access decisions on hồ sơ and tài liệu, with their row in the staff audit log.

Putting a record on the list of tài liệu tiếp cận có điều kiện, lifting it, and changing a
record's mức độ tiếp cận (giải mật) are decisions of the archive (Luật Lưu trữ 2024 Điều 25;
vn-standards.md §3.3). Each is taken by an :class:`repository.actor.Actor` — the logged-in user in
the web app, the OS user plus ``--by`` on the command line — whose signature goes into the
catalog's ``*_by`` column, and is written to the staff audit log in the same transaction as the
decision itself. The CLI (``kholuu records restrict|lift|declassify``) and the web app's
``/restrictions`` call these functions, so the two cannot record a decision differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from repository.actor import Actor
from repository.catalog import records_store as store
from repository.catalog.auditlog import record_action
from repository.catalog.records import AccessChange, AccessRestriction, Document, Dossier


@dataclass(frozen=True)
class Decision:
    """A numbered, dated decision and its grounds (lý do, căn cứ)."""

    number: str
    day: date
    reason: str = ""


def target_of(session: Session, row: AccessRestriction | AccessChange) -> dict[str, Any]:
    if row.dossier_id is not None:
        dossier = session.get(Dossier, row.dossier_id)
        assert dossier is not None
        return {"kind": "dossier", "code": dossier.code, "title": dossier.title, "aip_id": dossier.aip_id}
    document = session.get(Document, row.document_id)
    assert document is not None
    return {
        "kind": "document",
        "code": document.doc_code,
        "title": document.title,
        "aip_id": document.dossier.aip_id,
    }


def restriction_json(session: Session, r: AccessRestriction) -> dict[str, Any]:
    return {
        "id": r.id,
        "target": target_of(session, r),
        "decision_number": r.decision_number,
        "decision_date": r.decision_date.isoformat(),
        "reason": r.reason,
        "review_date": r.review_date.isoformat() if r.review_date else None,
        "recorded_at": r.recorded_at.isoformat(),
        "recorded_by": r.recorded_by,
        "lifted_on": r.lifted_on.isoformat() if r.lifted_on else None,
        "lifted_at": r.lifted_at.isoformat() if r.lifted_at else None,
        "lifted_decision": r.lifted_decision or None,
        "lifted_by": r.lifted_by or None,
    }


def change_json(session: Session, c: AccessChange) -> dict[str, Any]:
    return {
        "id": c.id,
        "target": target_of(session, c),
        "from_mode": c.from_mode,
        "to_mode": c.to_mode,
        "decision_number": c.decision_number,
        "decision_date": c.decision_date.isoformat(),
        "reason": c.reason,
        "recorded_at": c.recorded_at.isoformat(),
        "recorded_by": c.recorded_by,
    }


def _log(session: Session, actor: Actor, action: str, data: dict[str, Any]) -> None:
    """The decision's row in the staff audit log: the record's code as target, the decision
    (number, date, reason, modes) as parameters."""
    target = data["target"]
    params = {k: v for k, v in data.items() if k not in ("target", "recorded_by", "lifted_by")}
    params |= {"kind": target["kind"], "aip_id": target["aip_id"]}
    record_action(session, actor, action, target["code"], params)


def _ids(record: Dossier | Document) -> tuple[int | None, int | None]:
    return (record.id, None) if isinstance(record, Dossier) else (None, record.id)


def restrict(
    session: Session, actor: Actor, record: Dossier | Document, decision: Decision, review_date: date | None
) -> dict[str, Any]:
    """Put ``record`` on the list; returns the entry as JSON. Raises the store's RecordsError."""
    dossier_id, document_id = _ids(record)
    row = store.restrict(
        session,
        dossier_id=dossier_id,
        document_id=document_id,
        decision_number=decision.number,
        decision_date=decision.day,
        reason=decision.reason,
        review_date=review_date,
        by=actor.signature(),
    )
    data = restriction_json(session, row)
    _log(session, actor, "restriction.add", data)
    return data


def lift(session: Session, actor: Actor, restriction_id: int, decision: Decision) -> dict[str, Any]:
    """Lift a restriction by a dated decision; the entry stays in the record."""
    row = store.lift_restriction(
        session,
        restriction_id,
        decision_number=decision.number,
        decision_date=decision.day,
        by=actor.signature(),
        at=datetime.now(UTC),
    )
    data = restriction_json(session, row)
    _log(session, actor, "restriction.lift", data)
    return data


def declassify(
    session: Session,
    actor: Actor,
    record: Dossier | Document,
    to_mode: str,
    decision: Decision,
    *,
    cascade: bool,
) -> list[dict[str, Any]]:
    """Change the mức độ tiếp cận of ``record`` (and, ``cascade``, of its stricter documents); one
    audit-log row per record changed."""
    dossier_id, document_id = _ids(record)
    changes = store.change_access(
        session,
        dossier_id=dossier_id,
        document_id=document_id,
        to_mode=to_mode,
        decision_number=decision.number,
        decision_date=decision.day,
        reason=decision.reason,
        by=actor.signature(),
        cascade=cascade,
    )
    rows = [change_json(session, c) for c in changes]
    for change in rows:
        _log(session, actor, "access.change", change)
    return rows
