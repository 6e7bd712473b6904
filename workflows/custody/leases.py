"""Audit leases: at most one auditor per storage location at a time, across processes and hosts.

A lease is a catalog row per location. It is taken with one conditional statement (an INSERT, or an
UPDATE of an expired row), renewed after every copy, released by its holder only, and it expires by
itself when the holder dies, so a crashed scheduler never blocks audits for longer than
``[audit] lease_seconds``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.models import AuditLease, AuditRun


def recently_audited(sessions: sessionmaker[Session], locations: list[str], since: datetime) -> set[str]:
    if not locations:
        return set()
    with sessions() as session:
        rows = session.scalars(
            select(AuditRun.location).where(
                AuditRun.trigger == "scheduler",
                AuditRun.location.in_(locations),
                AuditRun.started_at >= since,
            )
        )
        return {str(r) for r in rows if r}


def take_lease(
    sessions: sessionmaker[Session], location: str, holder: str, run_id: str, now: datetime, seconds: int
) -> bool:
    """Claim ``location`` for this run: insert the lease row, or take it over if it expired.
    One conditional statement each, so two processes can never both succeed."""
    expires = datetime.now(UTC) + timedelta(seconds=seconds)
    try:
        with sessions.begin() as session:
            session.add(AuditLease(location=location, holder=holder, run_id=run_id, expires_at=expires))
        return True
    except DbIntegrityError:
        pass
    with sessions.begin() as session:
        taken = session.execute(
            update(AuditLease)
            .where(AuditLease.location == location, AuditLease.expires_at < datetime.now(UTC))
            .values(holder=holder, run_id=run_id, expires_at=expires)
        )
        return bool(getattr(taken, "rowcount", 0) == 1)


def renew_lease(sessions: sessionmaker[Session], location: str, holder: str, seconds: int) -> bool:
    """Extend our lease; False when it was lost (expired and taken over): stop auditing there."""
    with sessions.begin() as session:
        renewed = session.execute(
            update(AuditLease)
            .where(AuditLease.location == location, AuditLease.holder == holder)
            .values(expires_at=datetime.now(UTC) + timedelta(seconds=seconds))
        )
        return bool(getattr(renewed, "rowcount", 0) == 1)


def release_lease(sessions: sessionmaker[Session], location: str, holder: str) -> None:
    with sessions.begin() as session:
        session.execute(
            delete(AuditLease).where(AuditLease.location == location, AuditLease.holder == holder)
        )
