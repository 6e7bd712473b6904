"""A new version of a stored AIP, the parts every kind of change shares: read, publish, register.

A metadata update (:mod:`workflows.custody.update`) and a migration
(:mod:`workflows.planning.migrate`) both make the AIP's next OCFL version from its current one:
the current version is exported from the first location whose copy matches its OCFL inventory and
the catalog (:func:`read_current`), the change is made to that copy, the result is published
through :class:`CopySet` under its one failure policy (:func:`publish`), and the new version is
registered in one catalog transaction that also ends the job (:func:`register`); if registering
fails, the version is withdrawn from every location, so storage never holds a version the catalog
does not know. Earlier versions are never rewritten (OCFL 1.1 §3.3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.errors import KholuuError
from preservation.events import Agent, Event
from preservation.fixity import Digests
from repository.catalog import store
from repository.catalog.models import Aip, AipStatus, AipVersion, Copy, CopyStatus, File, Job, JobStatus
from repository.catalog.models import Event as EventRow
from repository.settings import Settings
from repository.storage.copyset import CopySet, NewVersion, NoGoodCopy, Publication, aip_status
from repository.storage.errors import StorageError

__all__ = [
    "Current",
    "UpdateError",
    "copy_file",
    "events_since",
    "load_current",
    "mark_in_package",
    "publish",
    "read_current",
    "register",
]


class UpdateError(KholuuError):
    """A new version of the AIP could not be made; nothing of the AIP changed (see ``code``)."""

    code = "update.failed"


@dataclass(frozen=True)
class Current:
    """The job making the next version, and the AIP's current version as the catalog records it.

    Attributes:
        files: the current version's file rows by AIP path.
        holders: the locations holding a stored copy of it.
    """

    settings: Settings
    sessions: sessionmaker[Session]
    job_id: str
    aip_id: str
    version: int
    files: dict[str, File]
    holders: frozenset[str] = frozenset()


def load_current(sessions: sessionmaker[Session], aip_id: str) -> tuple[int, dict[str, File], set[str]]:
    """The AIP's current version number, its file rows by path, and the locations holding it.

    Raises:
        UpdateError: ``catalog.not_found`` for no such AIP; ``update.not_stored`` for an AIP that
            is not stored (or degraded).
    """
    with sessions() as session:
        aip = session.get(Aip, aip_id, options=[selectinload(Aip.files), selectinload(Aip.copies)])
        if aip is None:
            raise UpdateError(
                f"no AIP {aip_id}", code="catalog.not_found", params={"kind": "AIP", "id": aip_id}
            )
        if aip.status not in (AipStatus.STORED, AipStatus.DEGRADED):
            raise UpdateError(
                f"AIP {aip_id} is {aip.status.value}",
                code="update.not_stored",
                params={"status": aip.status.value},
            )
        current = aip.current_version
        files = {f.aip_path: f for f in aip.files if f.version == current}
        holders = {c.location for c in aip.copies if c.status is CopyStatus.STORED and c.version == current}
    return current, files, holders


def read_current(at: Current, copies: CopySet, folder: Path) -> dict[str, Digests]:
    """Export the current version into ``folder`` from the first location whose copy matches its
    inventory and the catalog; the manifest it read (path -> digests).

    Raises:
        UpdateError: ``update.storage_ahead`` when a location holds a later version than the
            catalog knows; ``update.no_source`` when no good copy can be read.
    """
    heads = copies.heads()
    for name, head in heads.items():
        if head > at.version:
            raise UpdateError(
                f"location {name} holds version v{head} of {at.aip_id}, the catalog knows v{at.version} "
                "(an update was interrupted after publishing): rebuild the catalog from that location first",
                code="update.storage_ahead",
                params={"location": name, "head": head, "catalog": at.version},
            )
    sources = [loc.name for loc in copies.locations if loc.name in at.holders and loc.name in heads]
    if not sources:
        raise UpdateError(
            f"no location holding v{at.version} of {at.aip_id} can be reached",
            code="update.no_source",
            params={"aip_id": at.aip_id},
        )
    try:
        _, exported = copies.read_verified(
            folder,
            version=at.version,
            expected={p: f.sha256 for p, f in at.files.items()},
            holders=sources,
        )
    except NoGoodCopy as exc:
        raise UpdateError(
            f"no good copy of the current version could be read: {exc}",
            code="update.no_source",
            params={"aip_id": at.aip_id},
        ) from exc
    return exported


def publish(at: Current, copies: CopySet, new: NewVersion, agent: Agent) -> Publication:
    """Publish under CopySet's one failure policy; ``update.not_written`` when it fails."""
    try:
        return copies.publish(new, agent=agent)
    except StorageError as exc:
        raise UpdateError(
            f"the new version could not be written: {exc}",
            code="update.not_written",
            params={"aip_id": at.aip_id},
        ) from exc


def register(
    at: Current,
    copies: CopySet,
    new: NewVersion,
    publication: Publication,
    *,
    message: str,
    files: list[File],
    changed: dict[str, Digests],
    record: Callable[[Session], None],
) -> AipStatus:
    """Record the new version (with ``message`` saying why), its file rows, copies and events, and
    complete the job, in one transaction; ``record`` adds the change's own events and rows. On any
    failure the version is withdrawn from every location. The AIP's status after the change."""
    now = datetime.now(UTC)
    try:
        with at.sessions.begin() as session:
            aip = session.get(Aip, at.aip_id, options=[selectinload(Aip.copies)])
            assert aip is not None
            aip.current_version = new.number
            aip.versions.append(AipVersion(number=new.number, created_at=now, message=message))
            aip.files.extend(files)
            for c in publication.copies:
                aip.copies.append(
                    Copy(
                        version=new.number,
                        location=c.location,
                        status=c.status,
                        object_path=c.object_path,
                        written_at=c.written_at,
                        verified_at=c.written_at,
                    )
                )
            session.flush()
            aip.status = aip_status(aip.copies, copies.required, new.number)
            status = aip.status
            record(session)
            store.add_events(session, publication.events, job_id=at.job_id, aip_id=at.aip_id)
            _complete_job(session, at.job_id, now, changed)
    except BaseException:
        copies.withdraw(new.number, deposit_id=at.job_id)  # never a stored version the catalog does not know
        raise
    return status


def _complete_job(session: Session, job_id: str, now: datetime, changed: dict[str, Digests]) -> None:
    job = session.get(Job, job_id)
    assert job is not None
    job.status = JobStatus.COMPLETED
    job.ended_at = now
    job.file_count = len(changed)
    job.total_bytes = sum(d.size for d in changed.values())


def events_since(sessions: sessionmaker[Session], aip_id: str) -> list[Event]:
    """The AIP's events the stored package does not carry yet (replication, accession, ingestion
    end, fixity checks...): docs/aip.md promises them to the next version."""
    with sessions() as session:
        rows = session.scalars(
            select(EventRow)
            .where(EventRow.aip_id == aip_id, ~EventRow.in_package)
            .order_by(EventRow.datetime, EventRow.id)
        )
        return [store.to_record(row) for row in rows]


def mark_in_package(session: Session, identifiers: Iterable[str]) -> None:
    """The events the new version's PREMIS now carries."""
    carried = list(identifiers)
    for start in range(0, len(carried), 500):
        session.execute(
            sql_update(EventRow)
            .where(EventRow.identifier.in_(carried[start : start + 500]))
            .values(in_package=True)
        )


def copy_file(old: File, version: int) -> File:
    """The same file in the next version: every recorded property carries over."""
    row = File(version=version)
    for column in File.__table__.columns:
        if column.name not in ("id", "aip_id", "version"):
            setattr(row, column.key, getattr(old, column.key))
    return row
