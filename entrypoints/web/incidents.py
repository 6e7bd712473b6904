"""``/incidents``: damage with no good copy anywhere, and its acknowledgement by a person.

An incident names a damaged file, possibly of a restricted hồ sơ, so only those who read the
fixity report see the list (``FIXITY_READERS``); acknowledging one is a custody decision
(administrator, preservation officer), signed with the logged-in user and written to the staff
audit log in the same transaction (:func:`workflows.custody.incidents.acknowledge_incident`) —
the web twin of ``kholuu incident ack``.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.web.access import FIXITY_READERS, allow, current_actor
from entrypoints.web.context import context
from entrypoints.web.params import check_language, link
from repository.actor import Role
from repository.catalog.models import Incident
from workflows.custody.incidents import acknowledge_incident, incident_dict

bp = Blueprint("incidents", __name__, url_prefix="/incidents")
bp.before_request(check_language)

ACKNOWLEDGERS = (Role.ADMINISTRATOR, Role.PRESERVATION_OFFICER)
RECENT = 50
"""Acknowledged incidents shown below the open ones, newest first."""
NOTE_LIMIT = 2000


@bp.get("")
@allow(*FIXITY_READERS)
def index() -> str:
    with context().sessions() as session:
        open_rows = session.scalars(
            select(Incident).where(Incident.status == "open").order_by(Incident.opened_at, Incident.id)
        ).all()
        closed = session.scalars(
            select(Incident)
            .where(Incident.status != "open")
            .order_by(Incident.acknowledged_at.desc(), Incident.id.desc())
            .limit(RECENT)
        ).all()
        opened = [incident_dict(r) for r in open_rows]
        done = [incident_dict(r) for r in closed]
    may_ack = current_actor().role in ACKNOWLEDGERS
    return render_template("incidents.html", opened=opened, done=done, may_ack=may_ack)


@bp.post("/<int:incident_id>/ack")
@allow(*ACKNOWLEDGERS)
def acknowledge(incident_id: int) -> BaseResponse:
    note = request.form.get("note", "").strip()[:NOTE_LIMIT]
    with context().sessions() as session:
        row = session.get(Incident, incident_id)
        if row is None:
            abort(404)
        if row.status != "open":
            abort(409)
    acknowledge_incident(context().sessions, incident_id, actor=current_actor(), note=note)
    return redirect(link("incidents.index"))
