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
ingest: a version published but never registered (a crash between the two) is withdrawn by
recovery, as a migration's is, and the next update makes it anew. A location that still holds a
version the catalog does not know (one recovery could not withdraw) makes the next update stop
and say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.aip_update import MetadataUpdate, add_descriptive_metadata
from preservation.events import Agent, Event
from preservation.facts import FACTS_PATH, PackageFacts, RecordsRegistration, facts_json
from preservation.fixity import Digests
from preservation.names import nfc
from repository.catalog import store
from repository.catalog.models import Aip, File, FileRole, Job
from repository.catalog.records import Dossier, Transfer
from repository.settings import Settings
from repository.storage.copyset import CopySet, NewVersion
from workflows.custody.versions import (
    Current,
    UpdateError,
    copy_file,
    events_since,
    load_current,
    mark_in_package,
    publish,
    read_current,
    register,
)
from workflows.jobs.envelope import JobSpec, Workflow, run_job, workflow_agent
from workflows.jobs.recovery import recover_interrupted
from workflows.jobs.runner import kill_point


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
    current, old_files, holders = load_current(sessions, aip_id)
    spec = JobSpec(
        kind=Workflow.UPDATE,
        source=os.fsdecode(source.resolve()),
        source_name=source.name,
        aip_id=aip_id,
        # the version it makes: recovery withdraws it if the job dies before registering it
        options={"reason": reason, "version": current + 1, "from_version": current},
    )
    with run_job(settings, sessions, spec, recover=False) as job:
        return _update(settings, sessions, job.job_id, aip_id, current, old_files, holders, source, reason)


def software_agent() -> Agent:
    """The update's PREMIS agent: the metadata modification and its replication events name it."""
    return workflow_agent(Workflow.UPDATE)


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
    at = Current(settings, sessions, job_id, aip_id, current, old_files, frozenset(holders))
    copies = CopySet.of(settings, aip_id)
    folder = settings.work_dir / job_id / "aip"
    exported = read_current(at, copies, folder)
    kill_point("update: read")  # crash tests (KHOLUU_KILL_AT): the current version exported
    agent = software_agent()
    built = _build(at, folder, exported, source, reason, agent)
    kill_point("update: built")  # the next version assembled in the work folder
    publication = publish(at, copies, built.new, agent)
    kill_point("update: published")  # in storage, not registered

    def record(session: Session) -> None:
        """The modification event (in the package), the carried events marked ``in_package``."""
        store.add_events(session, [built.update.event], job_id=job_id, aip_id=aip_id, in_package=True)
        mark_in_package(session, [e.identifier for e in built.since])

    status = register(
        at,
        copies,
        built.new,
        publication,
        message=f"Metadata update: {built.added}",
        files=_version_files(old_files, built, source),
        changed=built.update.changed,
        record=record,
    )
    return UpdateResult(
        aip_id=aip_id,
        version=built.new.number,
        added=built.added,
        status=status.value,
        locations=publication.stored,
        pending=publication.pending,
        events=[built.update.event, *publication.events],
    )


def _build(
    at: Current, folder: Path, exported: dict[str, Digests], source: Path, reason: str, agent: Agent
) -> _Built:
    """Apply the change to the exported copy (new file, METS and PREMIS edited and validated);
    the PREMIS takes the AIP's events the package did not carry yet."""
    since = events_since(at.sessions, at.aip_id)
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


def _version_files(old_files: dict[str, File], built: _Built, source: Path) -> list[File]:
    """The catalog's file rows of the new version: an unchanged file carries its row over, a new
    or rewritten one gets a fresh row (the added metadata file with its original name)."""
    version, changed = built.new.number, built.update.changed
    rows = []
    for path, digests in sorted(built.new.expected.items()):
        old = old_files.get(path)
        row = copy_file(old, version) if old is not None and path not in changed else None
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


__all__ = ["UpdateError", "UpdateResult", "add_metadata"]
