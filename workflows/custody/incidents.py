"""Incidents: damage with no good copy left, open until a person acknowledges it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Actor
from repository.catalog.models import Incident


def acknowledge_incident(
    sessions: sessionmaker[Session], incident_id: int, *, by: str, note: str = ""
) -> dict[str, Any]:
    """Close an incident: a person has looked at it (who, when, what they say)."""
    with sessions.begin() as session:
        row = session.get(Incident, incident_id)
        if row is None:
            raise LookupError(incident_id)
        row.status = "acknowledged"
        row.acknowledged_at = datetime.now(UTC)
        row.acknowledged_by = by
        row.note = note
        return incident_dict(row)


def acknowledge_as(
    sessions: sessionmaker[Session], incident_id: int, actor: Actor, *, note: str = ""
) -> dict[str, Any]:
    """A staff member acknowledges an incident from the web app: the decision is the actor's (the
    audit log's row goes here)."""
    return acknowledge_incident(sessions, incident_id, by=actor.name, note=note)


def incident_dict(row: Incident) -> dict[str, Any]:
    return {
        "id": row.id,
        "aip_id": row.aip_id,
        "location": row.location,
        "path": row.path,
        "kind": row.kind,
        "code": row.code,
        "message": row.message,
        "opened_at": row.opened_at.isoformat(),
        "status": row.status,
        "acknowledged_at": row.acknowledged_at.isoformat() if row.acknowledged_at else None,
        "acknowledged_by": row.acknowledged_by,
        "note": row.note,
    }
