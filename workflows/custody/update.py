"""A new AIP version after a metadata change: the earlier versions stay byte-identical.

The current version is exported from storage (every file verified against the OCFL inventory and
the catalog), the change is applied to that copy by :mod:`preservation.aip_update` (new file,
METS and PREMIS edited and validated), and the result is published as the next OCFL version in
every location. OCFL's forward-delta versions store only the changed files, and nothing of the
earlier versions is rewritten (OCFL 1.1 §3.3), so an auditor can still fetch v1 as it was
ingested. Reading and publishing go through :class:`repository.storage.copyset.CopySet`, under its
one failure policy: a location that is down (or behind) gets a pending copy, as in an ingest; any
other failure withdraws the new version from every location and the update fails, as does a
failure to register it in the catalog. The new version's PREMIS
also takes the AIP's events the package did not carry yet (replication, accession, ingestion end,
fixity checks: docs/aip.md), and the catalog marks them ``in_package``.

The work runs in the job envelope (:mod:`workflows.jobs.envelope`, kind ``update``): a failure ends the job
as failed with its ``job_error`` rows, and a crash is found and cleaned by the same recovery as an
ingest; a location that already holds a version the catalog does not know (a crash
after publishing, before registration) makes the next update stop and say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.aip_update import MetadataUpdate, add_descriptive_metadata
from preservation.errors import KholuuError
from preservation.events import Agent, Event
from preservation.facts import FACTS_PATH, PackageFacts, RecordsRegistration, facts_json
from preservation.fixity import Digests
from preservation.names import nfc
from repository.catalog import store
from repository.catalog.models import (
    Aip,
    AipStatus,
    AipVersion,
    Copy,
    CopyStatus,
    File,
    FileRole,
    Job,
    JobStatus,
)
from repository.catalog.models import Event as EventRow
from repository.catalog.records import Dossier, Transfer
from repository.settings import Settings
from repository.storage.copyset import CopySet, NewVersion, NoGoodCopy, Publication, aip_status
from repository.storage.errors import StorageError
from workflows.jobs.envelope import JobSpec, Workflow, run_job, workflow_agent
from workflows.jobs.recovery import recover_interrupted


class UpdateError(KholuuError):
    """The update could not be made; nothing of the AIP changed (see ``code``)."""

    code = "update.failed"


@dataclass
class UpdateResult:
    aip_id: str
    version: int
    added: str
    status: str
    locations: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "aip_id": self.aip_id,
            "version": self.version,
            "added": self.added,
            "status": self.status,
            "locations": self.locations,
            "pending": self.pending,
            "events": [e.identifier for e in self.events],
        }


def add_metadata(
    settings: Settings,
    sessions: sessionmaker[Session],
    aip_id: str,
    source: Path,
    *,
    reason: str = "",
) -> UpdateResult:
    """Add ``source`` as descriptive metadata of the AIP, as its next version in every location."""
    if not source.is_file():
        raise UpdateError(
            f"{source} is not a file", code="update.source_missing", params={"path": str(source)}
        )
    recover_interrupted(settings, sessions)
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
        old_files = {f.aip_path: f for f in aip.files if f.version == current}
        holders = {c.location for c in aip.copies if c.status is CopyStatus.STORED and c.version == current}
    spec = JobSpec(
        kind=Workflow.UPDATE,
        source=os.fsdecode(source.resolve()),
        source_name=source.name,
        aip_id=aip_id,
        options={"reason": reason},
    )
    with run_job(settings, sessions, spec, recover=False) as job:
        return _update(settings, sessions, job.job_id, aip_id, current, old_files, holders, source, reason)


def software_agent() -> Agent:
    """The update's PREMIS agent: the metadata modification and its replication events name it."""
    return workflow_agent(Workflow.UPDATE)


@dataclass(frozen=True)
class _Current:
    """The update's job and the AIP's current version, as the catalog records them."""

    settings: Settings
    sessions: sessionmaker[Session]
    job_id: str
    aip_id: str
    version: int
    files: dict[str, File]


@dataclass(frozen=True)
class _Built:
    """The next version, built in the work folder from a verified copy of the current one."""

    new: NewVersion
    update: MetadataUpdate
    added: str
    since: list[Event]


def _update(
    settings: Settings,
    sessions: sessionmaker[Session],
    job_id: str,
    aip_id: str,
    current: int,
    old_files: dict[str, File],
    holders: set[str],
    source: Path,
    reason: str,
) -> UpdateResult:
    """Read the verified current version, build the next one from it, publish it through
    CopySet, register it in the catalog (which withdraws it again if registering fails)."""
    at = _Current(settings, sessions, job_id, aip_id, current, old_files)
    copies = CopySet.of(settings, aip_id)
    folder = settings.work_dir / job_id / "aip"
    exported = _read_current(at, copies, folder, holders)
    agent = software_agent()
    built = _build(at, folder, exported, source, reason, agent)
    publication = _publish(at, copies, built.new, agent)
    status = _register(at, copies, built, publication, source)
    return UpdateResult(
        aip_id=aip_id,
        version=built.new.number,
        added=built.added,
        status=status.value,
        locations=publication.stored,
        pending=publication.pending,
        events=[built.update.event, *publication.events],
    )


def _read_current(at: _Current, copies: CopySet, folder: Path, holders: set[str]) -> dict[str, Digests]:
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
    sources = [loc.name for loc in copies.locations if loc.name in holders and loc.name in heads]
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


def _build(
    at: _Current, folder: Path, exported: dict[str, Digests], source: Path, reason: str, agent: Agent
) -> _Built:
    """Apply the change to the exported copy (new file, METS and PREMIS edited and validated);
    the PREMIS takes the AIP's events the package did not carry yet."""
    since = _events_since(at.sessions, at.aip_id)
    update = add_descriptive_metadata(
        folder,
        source,
        agent=agent,
        zone=ZoneInfo(at.settings.package.timezone),
        reason=reason,
        since=since,
        facts=_missing_facts(at.sessions, at.aip_id, at.files),
    )
    added = next(p for p in update.changed if p.startswith("metadata/descriptive/"))
    new = NewVersion(
        folder,
        at.version + 1,
        {**exported, **update.changed},
        deposit_id=at.job_id,
        message=f"Metadata update: {added} (job {at.job_id})" + (f": {reason}" if reason else ""),
        user_name=at.settings.archive.name,
        user_address=at.settings.archive.address,
    )
    return _Built(new, update, added, since)


def _publish(at: _Current, copies: CopySet, new: NewVersion, agent: Agent) -> Publication:
    """Publish under CopySet's one failure policy; ``update.not_written`` when it fails."""
    try:
        return copies.publish(new, agent=agent)
    except StorageError as exc:
        raise UpdateError(
            f"the new version could not be written: {exc}",
            code="update.not_written",
            params={"aip_id": at.aip_id},
        ) from exc


def _register(
    at: _Current, copies: CopySet, built: _Built, publication: Publication, source: Path
) -> AipStatus:
    """Record the new version, its files, copies and events, and complete the job, in one
    transaction; on any failure the version is withdrawn from every location, so that storage
    never holds a version the catalog does not know. The AIP's status after the update."""
    version = built.new.number
    now = datetime.now(UTC)
    try:
        with at.sessions.begin() as session:
            aip = session.get(Aip, at.aip_id, options=[selectinload(Aip.copies)])
            assert aip is not None
            aip.current_version = version
            aip.versions.append(
                AipVersion(number=version, created_at=now, message=f"Metadata update: {built.added}")
            )
            aip.files.extend(_version_files(at.files, built, source))
            for c in publication.copies:
                aip.copies.append(
                    Copy(
                        version=version,
                        location=c.location,
                        status=c.status,
                        object_path=c.object_path,
                        written_at=c.written_at,
                        verified_at=c.written_at,
                    )
                )
            session.flush()
            aip.status = aip_status(aip.copies, copies.required, version)
            status = aip.status
            _record_events(session, at, built, publication.events)
            _complete_job(session, at.job_id, now, built.update.changed)
    except BaseException:
        copies.withdraw(version, deposit_id=at.job_id)  # never a stored version the catalog does not know
        raise
    return status


def _version_files(old_files: dict[str, File], built: _Built, source: Path) -> list[File]:
    """The catalog's file rows of the new version: an unchanged file carries its row over, a new
    or rewritten one gets a fresh row (the added metadata file with its original name)."""
    version, changed = built.new.number, built.update.changed
    rows = []
    for path, digests in sorted(built.new.expected.items()):
        old = old_files.get(path)
        row = _copy_file(old, version) if old is not None and path not in changed else None
        if row is None:
            row = File(
                version=version,
                aip_path=path,
                size=digests.size,
                sha256=digests.sha256,
                sha512=digests.sha512,
                role=FileRole.METADATA if path == built.added else FileRole.PACKAGE,
            )
            if path == built.added:
                row.path = source.name
                row.path_raw = os.fsencode(source.name)
                row.path_nfc = nfc(source.name)
        rows.append(row)
    return rows


def _record_events(session: Session, at: _Current, built: _Built, replication: list[Event]) -> None:
    """The modification event (in the package), the carried events marked ``in_package``, then
    the replication events of the copies."""
    store.add_events(session, [built.update.event], job_id=at.job_id, aip_id=at.aip_id, in_package=True)
    carried = [e.identifier for e in built.since]
    for start in range(0, len(carried), 500):
        session.execute(
            sql_update(EventRow)
            .where(EventRow.identifier.in_(carried[start : start + 500]))
            .values(in_package=True)
        )
    store.add_events(session, replication, job_id=at.job_id, aip_id=at.aip_id)


def _complete_job(session: Session, job_id: str, now: datetime, changed: dict[str, Digests]) -> None:
    job = session.get(Job, job_id)
    assert job is not None
    job.status = JobStatus.COMPLETED
    job.ended_at = now
    job.file_count = len(changed)
    job.total_bytes = sum(d.size for d in changed.values())


def _events_since(sessions: sessionmaker[Session], aip_id: str) -> list[Event]:
    """The AIP's events the stored package does not carry yet (replication, accession, ingestion
    end, fixity checks...): docs/aip.md promises them to the next version, which this is."""
    with sessions() as session:
        rows = session.scalars(
            select(EventRow)
            .where(EventRow.aip_id == aip_id, ~EventRow.in_package)
            .order_by(EventRow.datetime, EventRow.id)
        )
        return [store.to_record(row) for row in rows]


def _missing_facts(sessions: sessionmaker[Session], aip_id: str, old_files: dict[str, File]) -> bytes | None:
    """For a package written before packages carried a facts file: the facts the catalog holds, so
    that from this version on a rebuild reads them from storage. None when the package has the
    file, or when the catalog does not know them either (itself rebuilt from such a package)."""
    if FACTS_PATH in old_files:
        return None
    with sessions() as session:
        aip = session.get_one(Aip, aip_id)
        stated = (aip.source_name, aip.job_id, aip.package_kind, aip.container)
        if "unknown" in stated:
            return None
        job = session.get(Job, aip.job_id)
        transfer = session.scalars(select(Transfer.id).where(Transfer.aip_id == aip_id)).first()
        dossier = session.scalars(
            select(Dossier)
            .where(Dossier.aip_id == aip_id)
            .order_by(Dossier.id)
            .options(selectinload(Dossier.documents))
        ).first()
        records = None
        if dossier is not None:
            archived = "AIP_hoso" if dossier.kind == "hoso" else "AIP_tailieu"  # as ingest records it
            records = RecordsRegistration(
                dossier.source, archived, dossier.description_path, len(dossier.documents)
            )
        facts = PackageFacts(
            aip_id=aip_id,
            job_id=aip.job_id,
            source_name=aip.source_name,
            package_kind=aip.package_kind,
            container=aip.container,
            metadata_names={
                f.aip_path: f.path for f in old_files.values() if f.role is FileRole.METADATA and f.path
            },
            organ_id=str((job.options or {}).get("organ_id", "")) if job is not None else "",
            transfer_id=transfer or "",
            records=records,
        )
    return facts_json(facts)


def _copy_file(old: File, version: int) -> File:
    """The same file in the next version: every recorded property carries over."""
    row = File(version=version)
    for column in File.__table__.columns:
        if column.name not in ("id", "aip_id", "version"):
            setattr(row, column.key, getattr(old, column.key))
    return row


__all__ = ["UpdateError", "UpdateResult", "add_metadata"]
