"""Writing PREMIS events and agents into the catalog, and reading them back as records.

Agents are deduplicated by a fingerprint of everything that identifies them (name, version,
type, note): the same Siegfried with a newer signature file is a different agent, which is
exactly what an auditor needs to know when two identifications differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from preservation.events import Agent, AgentType, Event, EventType, Outcome
from repository.catalog import models


def agent_fingerprint(agent: Agent) -> str:
    text = "\x1f".join((agent.name, agent.version, agent.type.value, agent.note))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def agent_row(session: Session, agent: Agent) -> models.Agent:
    """The agent's row, created on first use. Processes that start at once (six ingests, an audit
    beside an ingest) may all meet a new agent: the insert skips a row another transaction holds
    (``ON CONFLICT DO NOTHING``, waiting for it on PostgreSQL), so no process fails on the unique
    fingerprint, as a select-then-insert did."""
    fingerprint = agent_fingerprint(agent)
    query = select(models.Agent).where(models.Agent.fingerprint == fingerprint)
    row = session.scalars(query).one_or_none()
    if row is not None:
        return row
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(models.Agent)
        .values(
            fingerprint=fingerprint,
            name=agent.name,
            version=agent.version,
            type=agent.type.value,
            note=agent.note,
        )
        .on_conflict_do_nothing(index_elements=["fingerprint"])
    )
    return session.scalars(query).one()


EVENT_BATCH = 500
"""Events inserted per statement: thousands of per-file events cost a few round trips, not one
each (issue 14)."""


def add_events(
    session: Session,
    events: Sequence[Event],
    *,
    job_id: str | None = None,
    aip_id: str | None = None,
    in_package: bool = False,
) -> int:
    """Insert ``events`` with their agents and objects, a batch of rows per statement; returns
    how many. The rows are read back through the ORM like any other (``events_for_job``)."""
    agent_ids: dict[str, int] = {}
    for start in range(0, len(events), EVENT_BATCH):
        batch = events[start : start + EVENT_BATCH]
        for event in batch:
            for agent in event.agents:
                key = agent_fingerprint(agent)
                if key not in agent_ids:
                    agent_ids[key] = agent_row(session, agent).id
        ids = session.scalars(
            insert(models.Event).returning(models.Event.id, sort_by_parameter_order=True),
            [
                {
                    "identifier": event.identifier,
                    "type": event.type.value,
                    "datetime": event.datetime,
                    "outcome": event.outcome.value,
                    "detail": event.detail,
                    "outcome_detail": event.outcome_detail,
                    "job_id": job_id,
                    "aip_id": aip_id,
                    "in_package": in_package,
                    "detail_code": event.detail_code or None,
                    "detail_params": dict(event.detail_params) or None,
                }
                for event in batch
            ],
        ).all()
        links = [
            {"event_id": event_id, "agent_id": agent_id}
            for event_id, event in zip(ids, batch, strict=True)
            for agent_id in dict.fromkeys(agent_ids[agent_fingerprint(a)] for a in event.agents)
        ]
        objects = [
            {"event_id": event_id, "identifier": identifier}
            for event_id, event in zip(ids, batch, strict=True)
            for identifier in dict.fromkeys(event.objects)
        ]
        if links:
            session.execute(insert(models.EventAgent), links)
        if objects:
            session.execute(insert(models.EventObject), objects)
    return len(events)


def to_record(row: models.Event) -> Event:
    return Event(
        type=EventType(row.type),
        outcome=Outcome(row.outcome),
        detail=row.detail,
        agents=tuple(_agent(link.agent) for link in row.agents),
        objects=tuple(o.identifier for o in row.objects),
        outcome_detail=row.outcome_detail,
        identifier=row.identifier,
        datetime=row.datetime,
        detail_code=row.detail_code or "",
        detail_params=row.detail_params or {},
    )


def _agent(row: models.Agent) -> Agent:
    return Agent(name=row.name, version=row.version, type=AgentType(row.type), note=row.note)


def events_for_job(session: Session, job_id: str) -> list[models.Event]:
    return list(
        session.scalars(
            select(models.Event)
            .where(models.Event.job_id == job_id)
            .order_by(models.Event.datetime, models.Event.id)
        )
    )


def events_for_aip(session: Session, aip_id: str) -> list[models.Event]:
    return list(
        session.scalars(
            select(models.Event)
            .where(models.Event.aip_id == aip_id)
            .order_by(models.Event.datetime, models.Event.id)
        )
    )


def attach_job_events(session: Session, job_id: str, aip_id: str, in_package_ids: Iterable[str]) -> int:
    """Link the events recorded during an ingest to the AIP they produced (two bulk updates and
    one per thousand events the package carries, not a row loaded per event)."""
    result = session.execute(
        update(models.Event).where(models.Event.job_id == job_id).values(aip_id=aip_id, in_package=False)
    )
    count = result.rowcount if isinstance(result, CursorResult) else 0
    wanted = list(dict.fromkeys(in_package_ids))
    for start in range(0, len(wanted), 1000):
        session.execute(
            update(models.Event)
            .where(models.Event.job_id == job_id, models.Event.identifier.in_(wanted[start : start + 1000]))
            .values(in_package=True)
        )
    return int(count or 0)
