"""``/transfers``: the transfers (thu nộp) received and the plans registered, for staff, and for an
agency's records officer only their own agency's; the steps staff take on them.

A records officer's account names their agency (``Actor.agency``, set when the account is made);
lists are narrowed to it in the query, so another agency's transfers are neither shown nor
counted; asking for another agency with ``?agency=`` is refused (``transfer.other_agency``), and
another agency's transfer or plan is answered as one that does not exist — the rule of
:mod:`workflows.records.agency_scope`, which ``kholuu transfer …`` applies too. Staff who read the
holdings see every agency's and may narrow to one. The data is
:func:`workflows.records.transfer_lists.list_transfers`, as ``kholuu transfer list`` prints it.

The steps are the command line's, through the same functions
(:mod:`workflows.records.transfer_steps`), signed with the logged-in user and written to the staff
audit log in the step's transaction, for the roles the CLI's rule table gives them
(``entrypoints/cli/rules.py``): accepting or rejecting a transfer (``transfer decide``) and
replying to a plan (``transfer reply``) are custody staff's; confirming the receipt to the agency
(``transfer confirm``) is also a records officer's, for their own agency.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.web.access import allow, current_actor, may
from entrypoints.web.context import context
from entrypoints.web.params import BadParameter, check_language, link
from repository.actor import Role
from repository.catalog.records import TransferStatus
from workflows.records.agency_scope import narrow
from workflows.records.transfer_lists import list_transfers, transfer_dict
from workflows.records.transfer_plans import list_plans, plan_dict
from workflows.records.transfer_steps import confirm_transfer, decide_transfer, reply_to_plan

bp = Blueprint("transfers", __name__, url_prefix="/transfers")
bp.before_request(check_language)

READERS = (Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER, Role.AUDITOR, Role.RECORDS_OFFICER)
DECIDERS = (Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER)
"""``kholuu transfer decide`` and ``transfer reply``: CUSTODY in entrypoints/cli/rules.py."""
CONFIRMERS = (Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER, Role.RECORDS_OFFICER)
"""``kholuu transfer confirm``: TRANSFERS in entrypoints/cli/rules.py."""
FIELD_LIMIT = 1000


@bp.get("")
@allow(*READERS)
def index() -> str:
    actor = current_actor()
    asked = narrow(actor, request.args.get("agency", "").strip() or None)
    raw_status = request.args.get("status", "").strip()
    try:
        status = TransferStatus(raw_status) if raw_status else None
    except ValueError:
        choices = ", ".join(s.value for s in TransferStatus)
        raise BadParameter(
            "web.bad_choice",
            f"status={raw_status!r}: one of {choices}",
            {"name": "status", "value": raw_status, "choices": choices},
        ) from None
    with context().sessions() as session:
        rows = [transfer_dict(t) for t in list_transfers(session, status=status, organ_id=asked)]
        plans = [plan_dict(p) for p in list_plans(session, organ_id=asked)]
    return render_template(
        "transfers.html",
        rows=rows,
        plans=plans,
        agency=asked,
        status=raw_status,
        may_decide=may("transfers.decide"),
        may_confirm=may("transfers.confirm"),
        may_reply=may("transfers.reply"),
    )


def _reason() -> str:
    return unicodedata.normalize("NFC", request.form.get("reason", "").strip())[:FIELD_LIMIT]


@bp.post("/<transfer_id>/decide")
@allow(*DECIDERS)
def decide(transfer_id: str) -> BaseResponse:
    """Accept (``decision=accept``) or reject (``decision=reject`` with a reason) a transfer."""
    decision = request.form.get("decision", "")
    if decision not in ("accept", "reject"):
        raise BadParameter(
            "web.bad_choice",
            f"decision={decision!r}: one of accept, reject",
            {"name": "decision", "value": decision, "choices": "accept, reject"},
        )
    with context().sessions.begin() as session:
        decide_transfer(
            session,
            context().settings,
            current_actor(),
            transfer_id,
            accept=decision == "accept",
            reason=_reason(),
        )
    return redirect(link("transfers.index"))


@bp.post("/<transfer_id>/confirm")
@allow(*CONFIRMERS)
def confirm(transfer_id: str) -> BaseResponse:
    """The receipt was confirmed to the agency, now."""
    with context().sessions.begin() as session:
        confirm_transfer(session, current_actor(), transfer_id, at=datetime.now(UTC))
    return redirect(link("transfers.index"))


@bp.post("/plans/<int:plan_id>/reply")
@allow(*DECIDERS)
def reply(plan_id: int) -> BaseResponse:
    """The archive answered the agency's plan today (the archive's day)."""
    today = datetime.now(UTC).astimezone(ZoneInfo(context().settings.package.timezone)).date()
    notes = _reason()
    with context().sessions.begin() as session:
        reply_to_plan(session, current_actor(), plan_id, today, notes=notes)
    return redirect(link("transfers.index"))
