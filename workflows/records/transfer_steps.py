"""The transfer steps staff take by hand, signed and logged: the command line (``kholuu transfer
decide|confirm|reply``) and the web app (``/transfers``) both call these, so the two cannot record
a step differently.

Each step runs the rule of :mod:`workflows.records.transfers` (or
:mod:`workflows.records.transfer_plans`) in the caller's transaction, signs it with the
:class:`repository.actor.Actor` (the logged-in user; on the command line the OS user and its
``--by``), and writes its row in the staff audit log in the same transaction. A records
officer may act on their own agency's transfers only (:mod:`workflows.records.agency_scope`).
Functions never commit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from repository.actor import Actor
from repository.catalog.auditlog import record_action
from repository.catalog.records import Dossier, TransferPlan
from repository.settings import Settings
from workflows.records.agency_scope import check_plan, check_transfer
from workflows.records.transfer_lists import transfer_dict
from workflows.records.transfer_plans import plan_dict, reply_plan
from workflows.records.transfers import TransferError, confirm_receipt, decide, get_transfer


def log_step(
    session: Session, actor: Actor, action: str, target: object, data: dict[str, Any], *keys: str
) -> None:
    """The step's row in the staff audit log (``keys``: what of ``data`` the row keeps)."""
    record_action(session, actor, action, str(target), {k: data.get(k) for k in keys})


def decide_transfer(
    session: Session, settings: Settings, actor: Actor, transfer_id: str, *, accept: bool, reason: str = ""
) -> dict[str, Any]:
    """Accept or reject a transfer (:func:`workflows.records.transfers.decide`), signed with
    ``actor``; the transfer's JSON with the number of its AIP's dossiers."""
    check_transfer(actor, get_transfer(session, transfer_id))
    row = decide(session, settings, transfer_id, accept=accept, by=actor.signature(), reason=reason)
    dossiers = (
        session.scalar(select(func.count()).select_from(Dossier).where(Dossier.aip_id == row.aip_id))
        if row.aip_id
        else 0
    )
    data = transfer_dict(row) | {"dossiers": dossiers}
    action = "transfer.accept" if accept else "transfer.reject"
    log_step(session, actor, action, row.id, data, "organ_id", "aip_id", "decision_reason", "dossiers")
    return data


def confirm_transfer(
    session: Session, actor: Actor, transfer_id: str, *, at: datetime | None = None
) -> dict[str, Any]:
    """Record that the receipt was confirmed to the agency (idempotent)."""
    check_transfer(actor, get_transfer(session, transfer_id))
    data = transfer_dict(confirm_receipt(session, transfer_id, at=at))
    log_step(session, actor, "transfer.confirm", data["transfer_id"], data, "organ_id", "confirmed_at")
    return data


def reply_to_plan(
    session: Session, actor: Actor, plan_id: int, on: date, *, notes: str = ""
) -> dict[str, Any]:
    """Record the archive's reply to a registered plan."""
    plan = session.get(TransferPlan, plan_id)
    if plan is None:
        raise TransferError(
            "transfer.plan_not_found", f"no transfer plan #{plan_id}", params={"plan": plan_id}
        )
    check_plan(actor, plan)
    data = plan_dict(reply_plan(session, plan_id, on, notes=notes))
    log_step(session, actor, "transfer.reply", plan_id, data, "organ_id", "replied_on", "notes")
    return data


__all__ = ["confirm_transfer", "decide_transfer", "log_step", "reply_to_plan"]
