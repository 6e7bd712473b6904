"""Dissemination requests: a reader asks, reader services decide, the DIP is built and downloaded.

The steps and who may take them (docs/requests.md):

* :func:`submit`: a reader (the public, through the web form) for an AIP that holds public
  records, or reader services / an administrator on a reader's behalf for any AIP. The phiếu yêu
  cầu is checked against TT 05/2025 Phụ lục V at once, so that the build never fails on it. The
  reader gets a follow-up key (kept only as its SHA-256) that opens the request's status page.
* :func:`approve` (with the decision number when the AIP's access rules need one) or
  :func:`refuse` (with a reason): reader services or an administrator, once.
* :func:`workflows.access.request_build.build` runs :func:`workflows.access.export.export_aip` as a
  job and issues the one-time download link (:mod:`workflows.access.request_link`).

Each step is a PREMIS ``dissemination`` event of the AIP in the catalog (like every export),
naming the deciding user as a PREMIS person agent (``Actor.signature()``). A staff decision is
one function that receives the :class:`repository.actor.Actor`; nothing here reads a global.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from preservation.errors import ErrorKind, KholuuError
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from preservation.tt05.mapping import map_code
from preservation.tt05.tables import Tables, shipped_tables
from repository.actor import Actor, Channel, Role
from repository.catalog import store
from repository.catalog.accounts import UserAccount
from repository.catalog.auditlog import record_action
from repository.catalog.models import Aip
from repository.catalog.queries import NotFoundError, resolve_aip_id
from repository.catalog.records import Dossier
from repository.catalog.requests import DisseminationRequest, RequestStatus
from workflows.access.access_rules import Selection, narrow, select_documents
from workflows.access.dip import AccessRequest, request_to_description, software_agent
from workflows.access.errors import ExportError, RequestError

DECIDERS = frozenset({Role.ADMINISTRATOR, Role.READER_SERVICES})
"""Who approves, refuses, builds and submits for any AIP (Luật Lưu trữ 2024 Điều 25-26: the
archive's reader services act under the archive head's decisions)."""


@dataclass(frozen=True)
class RequestForm:
    """What a requester fills in: who, which AIP (its id, or a hồ sơ code), and the phiếu yêu cầu
    fields of TT 05/2025 Phụ lục V (``purpose``/``fee_object``: code or label)."""

    requester_name: str
    requester_contact: str
    target: str
    purpose: str
    purpose_content: str = ""
    fee_object: str = ""
    topic: str = ""
    note: str = ""
    record_codes: Sequence[str] = ()


@dataclass(frozen=True)
class Submitted:
    """A new request; ``follow_key`` is shown once (only its hash is kept)."""

    request_id: str
    aip_id: str
    follow_key: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _text(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip())


# ------------------------------------------------------------------------------------------ submit


def submit(session: Session, form: RequestForm, actor: Actor, *, now: datetime) -> Submitted:
    """Record a reader's request (status ``submitted``) and its PREMIS event.

    Raises:
        RequestError: ``request.field_required`` (usage), ``request.not_public`` (the public asked
            for an AIP without public records, or one that does not exist: the same answer, so
            the form reveals nothing), ``request.target_unknown`` (staff: no such AIP or hồ sơ).
        ExportError: ``export.bad_request``: the phiếu breaks a rule of TT 05/2025 Phụ lục V.
    """
    for field_name in ("requester_name", "requester_contact", "target", "purpose"):
        if not _text(getattr(form, field_name)):
            raise RequestError(
                f"{field_name} is required",
                code="request.field_required",
                kind=ErrorKind.USAGE,
                params={"field": field_name},
            )
    aip_id = _resolve_target(session, _text(form.target), actor)
    request_id = f"YC-{uuid.uuid4().hex[:12].upper()}"
    access = _access_request(form, request_id, now)
    request_to_description(access, shipped_tables())  # raises export.bad_request
    key = new_secret()
    user = _account(session, actor)
    session.add(
        DisseminationRequest(
            id=request_id,
            status=RequestStatus.SUBMITTED,
            requester_name=_text(form.requester_name)[:200],
            requester_contact=_text(form.requester_contact)[:200],
            user_id=user.id if user is not None else None,
            submitted_by=actor.signature() if actor.role is not Role.PUBLIC else "",
            aip_id=aip_id,
            record_codes=[_text(c) for c in form.record_codes if _text(c)],
            purpose=access.purpose,
            purpose_content=access.purpose_content,
            fee_object=access.fee_object,
            topic=access.topic,
            note=access.note,
            follow_key_hash=secret_hash(key),
            submitted_at=now,
            updated_at=now,
        )
    )
    session.flush()
    staff = actor if actor.role is not Role.PUBLIC else None
    record_event(
        session,
        aip_id,
        request_id,
        staff,
        now,
        detail="Access request received (TT 05/2025 Phụ lục V)",
        detail_code="request.submitted",
        note=f"access request {request_id} received" + (f" from {staff.signature()}" if staff else ""),
    )
    return Submitted(request_id=request_id, aip_id=aip_id, follow_key=key)


def _account(session: Session, actor: Actor) -> UserAccount | None:
    """The account of a logged-in requester (web or API); a CLI actor is an OS user, not an
    account, even when the names coincide."""
    if actor.role is Role.PUBLIC or actor.channel not in (Channel.WEB, Channel.API) or not actor.name:
        return None
    return session.scalar(select(UserAccount).where(UserAccount.login == actor.name))


def _access_request(form: RequestForm, request_id: str, now: datetime) -> AccessRequest:
    tables = shipped_tables()
    return AccessRequest(
        request_id=request_id,
        request_date=now.date().isoformat(),
        purpose=_code(tables, "purpose", _text(form.purpose)),
        purpose_content=_text(form.purpose_content),
        fee_object=_code(tables, "feeObjectType", _text(form.fee_object)),
        topic=_text(form.topic),
        note=_text(form.note),
    )


def _code(tables: Tables, codelist: str, value: str) -> str:
    """The code of a code-list entry typed as its code or its label (kept as typed when unknown:
    the TT 05 check names it)."""
    return (map_code(tables.codelist(codelist), value) or value) if value else ""


def _resolve_target(session: Session, target: str, actor: Actor) -> str:
    """The AIP a request names: its id (or an unambiguous prefix), or the code of a hồ sơ."""
    aip_id: str | None
    try:
        aip_id = resolve_aip_id(session, target)
    except NotFoundError:
        found = session.scalars(select(Dossier.aip_id).where(Dossier.code == target).limit(2)).all()
        aip_id = found[0] if len(set(found)) == 1 else None
    if actor.role in DECIDERS:
        if aip_id is None:
            raise RequestError(
                f"no AIP or hồ sơ {target}",
                code="request.target_unknown",
                kind=ErrorKind.NOT_FOUND,
                params={"target": target},
            )
        return aip_id
    if aip_id is None or not _has_public_records(session, aip_id):
        raise RequestError(
            f"{target} cannot be requested online",
            code="request.not_public",
            params={"target": target},
        )
    return aip_id


def _has_public_records(session: Session, aip_id: str) -> bool:
    try:
        return bool(select_documents(session, aip_id, approved=False).released)
    except ExportError:
        return False


# ---------------------------------------------------------------------------------------- decide


def listed(status: RequestStatus | None = None) -> Select[DisseminationRequest]:
    """The requests (of one status), newest first: the queue of reader services."""
    query = select(DisseminationRequest).order_by(DisseminationRequest.submitted_at.desc())
    return query if status is None else query.where(DisseminationRequest.status == status)


def get_request(session: Session, request_id: str) -> DisseminationRequest:
    row = session.get(DisseminationRequest, _text(request_id).upper())
    if row is None:
        raise RequestError(
            f"no request {request_id}",
            code="request.not_found",
            kind=ErrorKind.NOT_FOUND,
            params={"request": request_id},
        )
    return row


def check_state(row: DisseminationRequest, action: str, *allowed: RequestStatus) -> None:
    if row.status not in allowed:
        raise RequestError(
            f"request {row.id} is {row.status.value}: it cannot be {action}",
            code="request.wrong_state",
            params={"request": row.id, "status": row.status.value, "action": action},
        )


def check_decider(actor: Actor, action: str) -> None:
    if actor.role not in DECIDERS:
        raise RequestError(
            f"{actor.role.value} may not {action} a request",
            code="request.not_allowed",
            params={"role": actor.role.value, "action": action},
        )


def approve(
    session: Session, request_id: str, actor: Actor, *, decision: str = "", now: datetime
) -> DisseminationRequest:
    """Approve a submitted request; ``decision`` is the number of the archive's decision, needed
    when the AIP has no TT 05 descriptions or when only its Sử dụng có điều kiện (02) records
    would be released.

    Raises:
        RequestError: ``request.not_allowed``, ``request.wrong_state`` (decided already),
            ``request.decision_required``, ``request.nothing_to_release`` (refused).
    """
    check_decider(actor, "approve")
    row = get_request(session, request_id)
    check_state(row, "approved", RequestStatus.SUBMITTED)
    decision = _text(decision)
    _check_releasable(session, row.aip_id, decision, [str(c) for c in row.record_codes])
    row.status = RequestStatus.APPROVED
    row.decided_by, row.decided_at, row.decision_number = actor.signature(), now, decision
    row.updated_at = now
    record_event(
        session,
        row.aip_id,
        row.id,
        actor,
        now,
        detail="Access request approved by reader services",
        detail_code="request.approved_decision" if decision else "request.approved",
        note=f"access request {row.id} approved by {actor.signature()}"
        + (f" under decision {decision}" if decision else ""),
        decision=decision,
    )
    record_action(session, actor, "request.approve", row.id, {"aip_id": row.aip_id, "decision": decision})
    return row


def _check_releasable(session: Session, aip_id: str, decision: str, codes: Sequence[str]) -> None:
    """What an approval would release: something, or the decision number it needs, or nothing."""

    def releases(approved: bool) -> Selection:
        return narrow(select_documents(session, aip_id, approved=approved), codes)

    try:
        selection = releases(bool(decision))
    except ExportError as exc:
        if exc.code != "export.undescribed_needs_approval":
            raise
        raise RequestError(
            f"AIP {aip_id} has no TT 05 descriptions: approving needs the decision number",
            code="request.decision_required",
            params={"aip_id": aip_id},
        ) from exc
    if selection.released or selection.whole_aip:
        return
    if not decision and releases(True).released:
        raise RequestError(
            f"AIP {aip_id} releases only Sử dụng có điều kiện records: give the decision number",
            code="request.decision_required",
            params={"aip_id": aip_id},
        )
    raise RequestError(
        f"nothing in AIP {aip_id} may be released",
        code="request.nothing_to_release",
        params={"aip_id": aip_id, "withheld": len(selection.withheld)},
    )


def refuse(
    session: Session, request_id: str, actor: Actor, *, reason: str, now: datetime
) -> DisseminationRequest:
    """Refuse a submitted request; the reason is shown to the reader and kept.

    Raises:
        RequestError: ``request.reason_required`` (usage), ``request.not_allowed``,
            ``request.wrong_state``.
    """
    check_decider(actor, "refuse")
    reason = _text(reason)
    if not reason:
        raise RequestError("a refusal needs its reason", code="request.reason_required", kind=ErrorKind.USAGE)
    row = get_request(session, request_id)
    check_state(row, "refused", RequestStatus.SUBMITTED)
    row.status = RequestStatus.REFUSED
    row.decided_by, row.decided_at, row.reason, row.updated_at = actor.signature(), now, reason, now
    record_event(
        session,
        row.aip_id,
        row.id,
        actor,
        now,
        detail="Access request refused by reader services",
        detail_code="request.refused",
        note=f"access request {row.id} refused by {actor.signature()}: {reason}",
        reason=reason,
    )
    record_action(session, actor, "request.refuse", row.id, {"aip_id": row.aip_id, "reason": reason})
    return row


# ---------------------------------------------------------------------------------------- events


def record_event(
    session: Session,
    aip_id: str,
    request_id: str,
    actor: Actor | None,
    now: datetime,
    *,
    detail: str,
    detail_code: str,
    note: str,
    **params: str,
) -> Event:
    """A step of the request as a PREMIS ``dissemination`` event of the AIP (catalog only, like
    every export's), naming the deciding user as a person agent."""
    agents = [software_agent()]
    by = actor.signature() if actor is not None else ""
    if by:
        agents.append(Agent(name=by, version="", type=AgentType.PERSON))
    event = Event(
        type=EventType.DISSEMINATION,
        outcome=Outcome.SUCCESS,
        detail=detail,
        detail_code=detail_code,
        detail_params={"request": request_id, "by": by or "—", **params},
        outcome_detail=note,
        agents=tuple(agents),
        objects=(aip_id,),
        datetime=now,
    )
    if session.get(Aip, aip_id) is not None:
        store.add_events(session, [event], aip_id=aip_id)
    return event


__all__ = [
    "DECIDERS",
    "KholuuError",
    "RequestError",
    "RequestForm",
    "Submitted",
    "approve",
    "check_decider",
    "check_state",
    "get_request",
    "listed",
    "new_secret",
    "record_event",
    "refuse",
    "secret_hash",
    "submit",
]
