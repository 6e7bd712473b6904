"""``/transfers``: the transfers (thu nộp) received, for staff, and for an agency's records officer
only their own agency's.

A records officer's account names their agency (``Actor.agency``, set when the account is made);
the list is narrowed to it in the query, so another agency's transfers are neither shown nor
counted, and asking for another agency with ``?agency=`` is refused (403). Staff who read the
holdings see every agency's and may narrow to one. The data is
:func:`workflows.records.transfer_lists.list_transfers`, as ``kholuu transfer list`` prints it.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from entrypoints.web.access import allow, current_actor
from entrypoints.web.context import context
from entrypoints.web.params import BadParameter, check_language
from repository.actor import Role
from repository.catalog.records import TransferStatus
from workflows.records.transfer_lists import list_transfers, transfer_dict

bp = Blueprint("transfers", __name__, url_prefix="/transfers")
bp.before_request(check_language)

READERS = (Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER, Role.AUDITOR, Role.RECORDS_OFFICER)


@bp.get("")
@allow(*READERS)
def index() -> str:
    actor = current_actor()
    asked = request.args.get("agency", "").strip() or None
    if actor.role is Role.RECORDS_OFFICER:
        if asked is not None and asked != actor.agency:
            abort(403)
        asked = actor.agency
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
    return render_template("transfers.html", rows=rows, agency=asked, status=raw_status)
