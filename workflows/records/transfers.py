"""Thu nộp: a source agency's transfer from the registered plan to the archive's decision.

The procedure and its deadlines (vn-standards.md §3.2; TT 05/2025/TT-BNV as transcribed [S: S1,
S5], Luật Lưu trữ 2024 for the intake of permanent records only):

1. **Kế hoạch / đăng ký nộp lưu** (:mod:`workflows.records.transfer_plans`): the agency registers a
   hand-over ``records.plan_lead_months`` (12) months ahead; the archive replies within
   ``records.plan_reply_working_days`` (07) working days. A registration with less lead time is
   recorded with a warning: refusing it would only delay the records.
2. **Receipt** (:func:`receive`): the package arrives; the receipt must be confirmed to the agency
   within ``records.confirm_receipt_days`` (60) days (:func:`confirm_receipt`) and the archive
   must process it and decide within ``records.decision_days`` (60) days.
3. **Processing** (:func:`link_ingest`): the ingest job and the AIP it made are linked, by
   ``kholuu ingest --transfer`` inside the ingest's own catalog transaction, or afterwards by
   ``kholuu transfer link``. One transfer is one package: a transfer keeps its AIP, an AIP has
   one transfer, and the records must be the transfer's agency's. From then on the AIP's
   records are *received, not accepted*: their ``accepted_at`` is empty.
4. **Decision** (:func:`decide`): accepted (the AIP is stored; every dossier of the AIP gets the
   decision time as its ``accepted_at``, the time the K3 figure measures) or rejected with a
   reason (the records were returned to the agency: ``accepted_at`` stays empty and the KPIs and
   deadlines leave them out, although the AIP's bytes stay in storage). A decision is final and
   made once: two archivists deciding at the same moment get one decision and one refusal
   (a conditional ``UPDATE``), never an overwrite.
5. **Biên bản giao nhận** (:mod:`workflows.records.handover`): the handover record of an accepted transfer,
   printed to PDF; the SHA-256 of every printed copy is kept on the transfer
   (``handover_prints``; ``handover_digest`` is the latest), since a copy once handed over must
   stay provable after a reprint.

Overdue steps and the lists are in :mod:`workflows.records.transfer_lists`; the deadlines of the
records themselves (3 or 5 years) are in :mod:`workflows.records.deadlines`.

Functions take a session and never commit (style guide item 20): the CLI frames the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from preservation.errors import ErrorKind, KholuuError
from repository.catalog.models import Aip, AipStatus
from repository.catalog.records import Dossier, SourceAgency, Transfer, TransferPlan, TransferStatus
from repository.settings import Settings
from workflows.records.deadline_calendar import archive_day

DECIDED = (TransferStatus.ACCEPTED, TransferStatus.REJECTED)
UNDECIDED = (TransferStatus.RECEIVED, TransferStatus.PROCESSING)
PERMANENT = "01"  # TT 05 maintenance code list: 01 Vĩnh viễn


class TransferError(KholuuError):
    """A transfer step was refused; nothing changed. ``code`` and ``params`` give the catalog text;
    the kind (what the user is told, and the exit code) follows from the code by :data:`KINDS`.

    One class for every step: callers act on the code, never on a subclass (the codes are listed
    in :data:`KINDS`, their texts under ``[transfer]`` in the message catalogs).
    """

    code = "transfer.error"
    kind = ErrorKind.REFUSED

    def __init__(self, code: str, message: str, *, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, code=code, kind=KINDS.get(code, ErrorKind.REFUSED), params=params)


#: Every code a transfer step raises, and its kind. A code not listed here is a refusal (the
#: archive's rules decline the step: a decision already made, another agency's records...).
KINDS: Mapping[str, ErrorKind] = {
    "transfer.agency_not_found": ErrorKind.NOT_FOUND,  # not in the Danh mục nguồn nộp lưu
    "transfer.plan_not_found": ErrorKind.NOT_FOUND,
    "transfer.not_found": ErrorKind.NOT_FOUND,
    "transfer.aip_not_found": ErrorKind.NOT_FOUND,
    # a hand-over planned before its registration, a time without a zone, nobody named...
    "transfer.bad_input": ErrorKind.USAGE,
    "transfer.reason_required": ErrorKind.USAGE,  # the agency is told why its package was returned
    "transfer.plan_exists": ErrorKind.REFUSED,
    "transfer.plan_replied": ErrorKind.REFUSED,
    "transfer.already_decided": ErrorKind.REFUSED,  # a decision is never overwritten
    "transfer.no_stored_aip": ErrorKind.REFUSED,  # accepting needs every required copy written
    "transfer.already_linked": ErrorKind.REFUSED,  # one transfer tracks one package
    "transfer.aip_linked_elsewhere": ErrorKind.REFUSED,  # the AIP would get two decisions
    "transfer.agency_mismatch": ErrorKind.REFUSED,  # the AIP holds another agency's records
    "transfer.not_permanent": ErrorKind.REFUSED,  # records.intake_only_permanent
    "transfer.not_accepted": ErrorKind.REFUSED,  # a biên bản is made for an accepted transfer
}


def find_agency(session: Session, organ_id: str) -> SourceAgency:
    """The source agency with this mã định danh.

    Raises:
        TransferError: ``transfer.agency_not_found``: naming the organ_id.
    """
    agency = session.scalars(select(SourceAgency).where(SourceAgency.organ_id == organ_id.strip())).first()
    if agency is None:
        raise TransferError(
            "transfer.agency_not_found",
            f"no source agency with organ_id {organ_id!r} (add it to the Danh mục nguồn nộp lưu first)",
            params={"organ_id": organ_id},
        )
    return agency


# --------------------------------------------------------------------------- transfers


def receive(
    session: Session,
    settings: Settings,
    *,
    organ_id: str,
    package_name: str,
    received_at: datetime,
    by: str,
    plan_reference: str | None = None,
) -> Transfer:
    """Record that an agency's package arrived.

    The deadlines count calendar days from the day of receipt in the archive's time zone
    (``package.timezone``, TT 05: +07:00): confirmation ``records.confirm_receipt_days``, decision
    ``records.decision_days`` (TT 05 [S]: 60 and 60).

    Raises:
        TransferError: ``transfer.agency_not_found``, ``transfer.plan_not_found`` (``plan_reference`` is not a
            plan of this agency), ``transfer.bad_input`` (``received_at`` without a time zone, or no receiver
            named).
    """
    if received_at.tzinfo is None:
        raise TransferError(
            "transfer.bad_input", "received_at needs a time zone", params={"problem": "received_at"}
        )
    if not by.strip():
        raise TransferError(
            "transfer.bad_input", "who received the package must be named", params={"problem": "by"}
        )
    if not package_name.strip():
        raise TransferError(
            "transfer.bad_input", "the package must be named", params={"problem": "package_name"}
        )
    agency = find_agency(session, organ_id)
    plan: TransferPlan | None = None
    if plan_reference:
        plan = session.scalars(
            select(TransferPlan).where(
                TransferPlan.agency_id == agency.id, TransferPlan.reference == plan_reference.strip()
            )
        ).first()
        if plan is None:
            raise TransferError(
                "transfer.plan_not_found",
                f"{organ_id} has no plan {plan_reference!r}",
                params={"plan": plan_reference, "organ_id": organ_id},
            )
    day = archive_day(received_at, ZoneInfo(settings.package.timezone))
    transfer = Transfer(
        id=str(uuid.uuid4()),
        plan_id=plan.id if plan else None,
        agency_id=agency.id,
        package_name=package_name,
        received_at=received_at.astimezone(UTC),
        received_by=by.strip(),
        confirm_due_on=day + timedelta(days=settings.records.confirm_receipt_days),
        decision_due_on=day + timedelta(days=settings.records.decision_days),
        status=TransferStatus.RECEIVED,
    )
    session.add(transfer)
    session.flush()
    return transfer


def get_transfer(session: Session, transfer_id: str) -> Transfer:
    """The transfer with this id (or an unambiguous prefix of at least 8 characters).

    Raises:
        TransferError: ``transfer.not_found``.
    """
    ident = transfer_id.strip().lower()
    found = session.get(Transfer, ident)
    if found is not None:
        return found
    if len(ident) >= 8:
        matches = list(
            session.scalars(select(Transfer).where(Transfer.id.startswith(ident, autoescape=True)))
        )
        if len(matches) == 1:
            return matches[0]
    raise TransferError(
        "transfer.not_found", f"no transfer {transfer_id!r}", params={"transfer": transfer_id}
    )


def confirm_receipt(session: Session, transfer_id: str, *, at: datetime | None = None) -> Transfer:
    """Record that the receipt was confirmed to the agency (idempotent: the first time stays)."""
    transfer = get_transfer(session, transfer_id)
    if transfer.confirmed_at is None:
        transfer.confirmed_at = (at or datetime.now(UTC)).astimezone(UTC)
        session.flush()
    return transfer


def link_ingest(session: Session, transfer_id: str, job_id: str | None, aip_id: str) -> Transfer:
    """Link the ingest job and the AIP made from the package; the transfer is then processing and
    the AIP's dossiers are received, not accepted (``accepted_at`` cleared) until :func:`decide`.

    Usable inside the caller's transaction (the ingest registers the AIP, its records and this link
    in one): it flushes, never commits. Linking the same AIP again is a no-op (a resumed ingest);
    the check of the agency covers the dossiers registered so far, so the ingest links after
    registering them. ``job_id`` defaults to the job that made the AIP.

    Raises:
        TransferError: ``transfer.not_found``, ``transfer.already_decided``, ``transfer.aip_not_found``,
            ``transfer.already_linked`` (the transfer has another AIP, both named),
            ``transfer.aip_linked_elsewhere`` (the AIP belongs to another transfer),
            ``transfer.agency_mismatch`` (dossiers of another agency than the transfer's).
    """
    transfer = get_transfer(session, transfer_id)
    require_undecided(transfer)
    aip = session.get(Aip, aip_id)
    if aip is None:
        raise TransferError("transfer.aip_not_found", f"no AIP {aip_id!r}", params={"aip": aip_id})
    if transfer.aip_id is not None and transfer.aip_id != aip.id:
        raise _already_linked(transfer.id, transfer.aip_id, aip.id)
    other = session.scalars(
        select(Transfer.id).where(Transfer.aip_id == aip.id, Transfer.id != transfer.id)
    ).first()
    if other is not None:
        raise TransferError(
            "transfer.aip_linked_elsewhere",
            f"AIP {aip.id} is already linked to transfer {other}",
            params={"transfer": transfer.id, "aip": aip.id, "other": other},
        )
    _same_agency(session, transfer, aip.id)
    # conditional, like decide(): a concurrent link or decision wins, this one is refused
    linked = _write(
        session,
        update(Transfer)
        .where(
            Transfer.id == transfer.id,
            Transfer.status.in_(UNDECIDED),
            or_(Transfer.aip_id.is_(None), Transfer.aip_id == aip.id),
        )
        .values(
            aip_id=aip.id, job_id=job_id or transfer.job_id or aip.job_id, status=TransferStatus.PROCESSING
        )
        .execution_options(synchronize_session=False),
    )
    session.refresh(transfer)
    if linked.rowcount != 1:
        require_undecided(transfer)
        raise _already_linked(transfer.id, transfer.aip_id or "", aip.id)
    session.execute(update(Dossier).where(Dossier.aip_id == aip.id).values(accepted_at=None))
    session.flush()
    return transfer


def _write(session: Session, statement: Any) -> CursorResult[Any]:
    """Execute an UPDATE whose row count says whether its condition held."""
    return cast(CursorResult[Any], session.execute(statement))


def _already_linked(transfer_id: str, linked: str, other: str) -> TransferError:
    return TransferError(
        "transfer.already_linked",
        f"transfer {transfer_id} is already linked to AIP {linked}; AIP {other} is another package "
        "(receive it as a transfer of its own)",
        params={"transfer": transfer_id, "aip": linked, "other": other},
    )


def _same_agency(session: Session, transfer: Transfer, aip_id: str) -> None:
    """Refuse an AIP holding a dossier of another agency than the transfer's: by the dossier's
    link to the Danh mục nguồn nộp lưu, else by the mã định danh its code carries. A dossier
    whose agency cannot be told is not evidence against the transfer."""
    agency = transfer.agency
    if agency is None:
        return
    rows = session.execute(
        select(Dossier.code, Dossier.agency_id, Dossier.organ_id, SourceAgency.organ_id)
        .outerjoin(SourceAgency, SourceAgency.id == Dossier.agency_id)
        .where(Dossier.aip_id == aip_id)
        .order_by(Dossier.code, Dossier.id)
    )
    foreign: list[tuple[str, str]] = []
    for code, agency_id, dossier_organ, linked_organ in rows:
        if agency_id is not None and agency_id != agency.id:
            foreign.append((code, linked_organ or dossier_organ))
        elif agency_id is None and dossier_organ and dossier_organ != agency.organ_id:
            foreign.append((code, dossier_organ))
    if foreign:
        others = sorted({organ for _, organ in foreign})
        raise TransferError(
            "transfer.agency_mismatch",
            f"AIP {aip_id} holds {len(foreign)} dossier(s) of {', '.join(others)}, not of "
            f"{agency.organ_id} whose transfer {transfer.id} this is: "
            + ", ".join(c for c, _ in foreign[:10]),
            params={
                "transfer": transfer.id,
                "aip": aip_id,
                "organ_id": agency.organ_id,
                "others": others,
                "count": len(foreign),
                "codes": [c for c, _ in foreign[:10]],
            },
        )


def decide(
    session: Session,
    settings: Settings,
    transfer_id: str,
    *,
    accept: bool,
    by: str,
    reason: str = "",
    at: datetime | None = None,
) -> Transfer:
    """Accept or reject a transfer, once.

    Accepting requires the linked AIP to be stored (``stored``, or ``degraded``: a verified copy
    exists and a further required copy is still queued) and, with ``records.intake_only_permanent``,
    every dossier of the AIP to be permanent (TT 05: the Historical Archive takes only ``01``);
    every dossier of the AIP gets the decision time as ``accepted_at``. Rejecting clears
    ``accepted_at``: the records go back to the agency. Deciding also confirms the receipt if that
    was not recorded.

    The decision is written by ``UPDATE transfer ... WHERE id = :id AND status IN ('received',
    'processing')``: of two sessions deciding at once (PostgreSQL row lock, SQLite write lock),
    the second finds no undecided row and is refused with the first one's decision. Never
    commits.

    Raises:
        TransferError: ``transfer.not_found``, ``transfer.already_decided``, ``transfer.reason_required``
            (rejecting without a reason), ``transfer.no_stored_aip``, ``transfer.not_permanent``,
            ``transfer.bad_input`` (no decider named).
    """
    transfer = get_transfer(session, transfer_id)
    require_undecided(transfer)
    reason = reason.strip()
    if not by.strip():
        raise TransferError("transfer.bad_input", "who decided must be named", params={"problem": "by"})
    if not accept and not reason:
        raise TransferError(
            "transfer.reason_required",
            f"transfer {transfer.id} cannot be rejected without a reason",
            params={"transfer": transfer.id},
        )
    when = (at or datetime.now(UTC)).astimezone(UTC)
    if accept:
        _check_acceptable(session, settings, transfer)
    session.flush()
    decided = _write(
        session,
        update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.status.in_(UNDECIDED))
        .values(
            status=TransferStatus.ACCEPTED if accept else TransferStatus.REJECTED,
            decided_at=when,
            decided_by=by.strip(),
            decision_reason=reason,
        )
        .execution_options(synchronize_session=False),
    )
    if decided.rowcount != 1:  # another session decided between our read and our write
        session.refresh(transfer)
        require_undecided(transfer)
        raise TransferError(
            "transfer.not_found", f"no transfer {transfer.id!r}", params={"transfer": transfer.id}
        )
    session.execute(
        update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.confirmed_at.is_(None))
        .values(confirmed_at=when)
        .execution_options(synchronize_session=False)
    )
    if transfer.aip_id is not None:
        session.execute(
            update(Dossier)
            .where(Dossier.aip_id == transfer.aip_id)
            .values(accepted_at=when if accept else None)
        )
    session.refresh(transfer)
    return transfer


def _check_acceptable(session: Session, settings: Settings, transfer: Transfer) -> None:
    """Refuse to accept a transfer whose AIP is not stored, or (with
    ``records.intake_only_permanent``) holds a dossier that is not permanent."""
    aip = session.get(Aip, transfer.aip_id) if transfer.aip_id else None
    if aip is None or aip.status not in (AipStatus.STORED, AipStatus.DEGRADED):
        raise TransferError("transfer.no_stored_aip",
            f"transfer {transfer.id} has no stored AIP "
            + (f"(AIP {aip.id} is {aip.status.value})" if aip else "(link the ingest first)"),
            params={"transfer": transfer.id, "aip": aip.id if aip else None,
                    "status": aip.status.value if aip else None},
        )  # fmt: skip
    if settings.records.intake_only_permanent:
        other = list(
            session.scalars(
                select(Dossier.code)
                .where(Dossier.aip_id == aip.id, Dossier.maintenance != PERMANENT)
                .order_by(Dossier.id)
            )
        )
        if other:
            raise TransferError(
                "transfer.not_permanent",
                f"transfer {transfer.id}: {len(other)} dossier(s) are not permanent (maintenance "
                f"01): {', '.join(other[:10])}",
                params={"transfer": transfer.id, "count": len(other), "codes": other[:10]},
            )


def require_undecided(transfer: Transfer) -> None:
    """A decision is never overwritten: every step after the decision, and an ingest under the
    transfer (:func:`workflows.ingest.preflight.open_transfer`), stops here.

    Raises:
        TransferError: ``transfer.already_decided``, with when and by whom.
    """
    if transfer.status in DECIDED:
        decided = transfer.decided_at.isoformat() if transfer.decided_at else None
        raise TransferError("transfer.already_decided",
            f"transfer {transfer.id} was already {transfer.status.value} "
            f"({decided} by {transfer.decided_by})",
            params={"transfer": transfer.id, "status": transfer.status.value, "decided_at": decided,
                    "by": transfer.decided_by},
        )  # fmt: skip


__all__ = [
    "DECIDED",
    "KINDS",
    "UNDECIDED",
    "TransferError",
    "confirm_receipt",
    "decide",
    "find_agency",
    "get_transfer",
    "link_ingest",
    "receive",
    "require_undecided",
]
