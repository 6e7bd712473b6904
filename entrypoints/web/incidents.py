"""``/incidents``: damage a fixity audit found with no good copy left, open until a person
acknowledges it (as ``kholuu incident list`` and ``kholuu incident ack``).

Custody staff and auditors read the list (it names damaged files of restricted hồ sơ); custody
staff acknowledge an incident with a note, as themselves (the form carries no "by": the account
that is logged in is who looked at it).
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.web.access import CUSTODY, FIXITY_READERS, allow, current_actor
from entrypoints.web.context import context
from entrypoints.web.params import check_language, link
from repository.catalog.models import Incident
from repository.catalog.queries import NotFoundError
from workflows.custody.incidents import acknowledge_as, incident_dict

bp = Blueprint("incidents", __name__)
bp.before_request(check_language)

NOTE_MAX = 2000


@bp.get("/incidents")
@allow(*FIXITY_READERS)
def incidents() -> str:
    show_all = request.args.get("all") == "1"
    with context().sessions() as session:
        query = select(Incident).order_by(Incident.opened_at.desc(), Incident.id.desc())
        if not show_all:
            query = query.where(Incident.status == "open")
        rows = [incident_dict(i) for i in session.scalars(query)]
    return render_template("incidents.html", rows=rows, show_all=show_all)


@bp.post("/incidents/<int:incident_id>/ack")
@allow(*CUSTODY)
def acknowledge(incident_id: int) -> BaseResponse:
    note = request.form.get("note", "").strip()[:NOTE_MAX]
    try:
        acknowledge_as(context().sessions, incident_id, current_actor(), note=note)
    except LookupError:
        raise NotFoundError("incident", str(incident_id)) from None
    return redirect(link("incidents.incidents", all="1"), code=303)


__all__ = ["bp"]
