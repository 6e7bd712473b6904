"""Incidents: damage with no good copy left, open until a person acknowledges it."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Actor
from repository.catalog.auditlog import record_action
from repository.catalog.models import Incident


def acknowledge_incident(
    sessions: sessionmaker[Session], incident_id: int, *, actor: Actor, note: str = ""
) -> dict[str, Any]:
    """Close an incident: a person has looked at it (who, when, what they say). ``actor``'s
    signature is kept on the incident, and the acknowledgement is a row of the staff audit log
    written in the same transaction."""
    with sessions.begin() as session:
        row = session.get(Incident, incident_id)
        if row is None:
            raise LookupError(incident_id)
        row.status = "acknowledged"
        row.acknowledged_at = datetime.now(UTC)
        row.acknowledged_by = actor.signature()
        row.note = unicodedata.normalize("NFC", note.strip())  # Vietnamese text is kept in NFC
        data = incident_dict(row)
        params = {k: data[k] for k in ("aip_id", "location", "path", "kind", "code", "note")}
        record_action(session, actor, "incident.acknowledge", str(incident_id), params)
        return data


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
