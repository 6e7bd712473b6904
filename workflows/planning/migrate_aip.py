"""One AIP migrated: its planned copies made, verified, and stored as its next version.

Runs in the job envelope (kind ``migration``, its own PREMIS agent) as named steps, so that
``kholuu job show`` lists them and a crash test can stop the process at any of them
(``KHOLUU_KILL_AT``): ``read`` (the current version exported from the first good copy, through
:class:`CopySet`), ``migration`` (each planned conversion, verified; a ``migration`` event per
file naming the tool and its version, and the copy it replaces), ``information package creation``
(the next version assembled by :func:`preservation.aip_migrate.migrate_representations`),
``storage`` (published under CopySet's one failure policy) and ``catalog registration`` (the
version, its file rows, events and copies, and the end of the job, in one transaction).

A conversion that fails makes no copy: a failed ``migration`` event with the tool's message and
stderr, and a ``job_error`` row (``planning.conversion_failed``), record it; the other files go on.
When no copy could be made the AIP gets no new version; the failed events wait in the catalog for
the AIP's next version, and the job ends ``failed``.

Nothing is visible before the registration commits: a migration stopped at any point leaves the
previous version current; recovery withdraws whatever it left in storage, and the next ``kholuu
migrate`` plans the same work again (:mod:`workflows.jobs.recovery`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from preservation.aip import folder_name
from preservation.aip_migrate import Derivative, Migrated, migrate_representations
from preservation.characteristics import Characterization
from preservation.events import Event, EventType, Outcome
from preservation.fixity import Digests
from preservation.formats import FormatIdentification
from preservation.identify.base import get_engine
from preservation.names import FileName
from preservation.package import PayloadFile
from preservation.planning.convert import convert
from preservation.planning.model import Conversion
from repository.catalog import store
from repository.catalog.models import Aip, File, FileRole, Job, JobStatus
from repository.settings import Settings
from repository.storage.copyset import CopySet, NewVersion, Publication
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
from workflows.ingest.registration import describe_payload
from workflows.ingest.steps import identify_files, validate_payload
from workflows.jobs.envelope import JobSpec, Workflow, run_job
from workflows.jobs.runner import ErrorRecord, Progress, StepContext, StepRunner, job_error_row
from workflows.planning.migrate_plan import Wanted
from workflows.planning.normalize import derivative, tool_agent

__all__ = ["AipMigration", "migrate_aip"]

STEP = "migration"


@dataclass
class AipMigration:
    """What the migration of one AIP did. ``version`` is the version it made (None: none)."""

    aip_id: str
    job_id: str
    from_version: int
    version: int | None = None
    status: str = ""
    made: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "aip_id": self.aip_id,
            "job_id": self.job_id,
            "from_version": self.from_version,
            "version": self.version,
            "status": self.status,
            "made": self.made,
            "failed": self.failed,
            "error": self.error,
        }


@dataclass
class _Made:
    """The conversions of the ``migration`` step: the copies kept, with the item each answers."""

    kept: list[tuple[Wanted, PayloadFile, Conversion]] = field(default_factory=list)
    failed: list[tuple[Wanted, Conversion]] = field(default_factory=list)
    formats: dict[str, FormatIdentification] = field(default_factory=dict)
    characterizations: dict[str, list[Characterization]] = field(default_factory=dict)


def migrate_aip(
    settings: Settings,
    sessions: sessionmaker[Session],
    items: Sequence[Wanted],
    *,
    job_id: str,
    progress: Progress | None = None,
) -> AipMigration:
    """Make the copies ``items`` (all of one AIP, planned from its version ``items[0].version``)
    ask for, as the AIP's next version (see the module docstring). The caller has run recovery.

    Raises:
        StepFailed: a step failed (reading, building, storing, registering): the job is failed,
            rolled back, and the AIP unchanged.
    """
    aip_id, version = items[0].aip_id, items[0].version
    spec = JobSpec(
        kind=Workflow.MIGRATION,
        source=aip_id,
        source_name=f"{aip_id} v{version}",
        aip_id=aip_id,
        options={"version": version + 1, "from_version": version, "files": [i.source for i in items]},
    )
    result = AipMigration(aip_id, job_id, version)
    with run_job(settings, sessions, spec, job_id=job_id, progress=progress, recover=False) as ctx:
        run = StepRunner(ctx)
        at, folder, exported = run("read", _read, aip_id, version)
        made = run(STEP, _convert, folder, exported, at.files, items)
        result.made = [_made_dict(item, d, c) for item, d, c in made.kept]
        result.failed = [_failed_dict(item, c) for item, c in made.failed]
        if not made.kept:
            _nothing_made(ctx, aip_id, len(made.failed))
            result.status = JobStatus.FAILED.value
            return result
        new, migrated, since = run("information package creation", _build, at, folder, exported, made)
        publication = run("storage", _publish, at, new)
        status = run("catalog registration", _register, at, new, migrated, made, publication, since)
        result.version, result.status = new.number, status
    return result


def _read(ctx: StepContext, aip_id: str, planned: int) -> tuple[Current, Path, dict[str, Digests]]:
    """The current version as the plan saw it, exported from a verified copy."""
    version, files, holders = load_current(ctx.sessions, aip_id)
    if version != planned:
        raise UpdateError(
            f"AIP {aip_id} is at version {version}, the migration was planned from version {planned}",
            code="migrate.changed",
            params={"aip_id": aip_id, "version": version, "planned": planned},
        )
    at = Current(ctx.settings, ctx.sessions, ctx.job_id, aip_id, version, files, frozenset(holders))
    with ctx.sessions() as session:
        objid = session.get_one(Aip, aip_id).objid
    folder = ctx.work_dir / "current" / folder_name(objid)  # CSIPSTR2: named after the OBJID
    exported = read_current(at, CopySet.of(ctx.settings, aip_id), folder)
    return at, folder, exported


def _convert(
    ctx: StepContext,
    folder: Path,
    exported: dict[str, Digests],
    rows: dict[str, File],
    items: Sequence[Wanted],
) -> _Made:
    """Run each planned conversion; keep the verified outputs, record every outcome."""
    engine = get_engine(ctx.settings.identification.engine)

    def identify(path: Path) -> str | None:
        return engine.identify([path])[path].chosen.puid

    made = _Made()
    ctx.progress.start(STEP, len(items))
    for item in items:
        row = rows[item.source]
        source = PayloadFile(
            name=FileName(row.path_raw or item.name.encode()),
            path=folder / item.source,
            digests=exported[item.source],
            representation=row.representation or "rep1",
            uuid=item.source_uuid,
        )
        out_dir = ctx.work_dir / "derivatives" / item.source_uuid / item.purpose.value
        conversion = convert(source.path, item.action, item.purpose, out_dir, identify=identify)
        kept = derivative(source, conversion) if conversion.output is not None else None
        ctx.record(_event(ctx, item, conversion, kept))
        if kept is None:
            made.failed.append((item, conversion))
            _record_failure(ctx, item, conversion)
        else:
            made.kept.append((item, kept, conversion))
        ctx.progress.advance(item.name)
    ctx.progress.finish()
    if made.kept:
        copies = [d for _, d, _ in made.kept]
        made.formats = identify_files(ctx, copies)
        made.characterizations = validate_payload(ctx, copies, made.formats, folder)
    return made


def _event(ctx: StepContext, item: Wanted, conversion: Conversion, made: PayloadFile | None) -> Event:
    """PREMIS ``migration``: source, new copy (and the copies it replaces), the tool as its own
    agent and the migration workflow, every check's result; the tool's stderr when it failed."""
    checks = "; ".join(f"{c.check.value}: {c.detail}" for c in conversion.checks)
    replaced = ", ".join(path for path, _ in item.replaces)
    if made is not None:
        detail = f"{made.representation}/{made.name.text}; {checks}"
        outcome = Outcome.SUCCESS
    else:
        stderr = f"; stderr: {conversion.stderr}" if conversion.stderr else ""
        detail = f"{conversion.outcome.value}: {conversion.message}{stderr}"
        outcome = Outcome.FAILURE
    if replaced:
        detail += f"; replaces {replaced} (kept in version {item.version})" if made else f"; {replaced} kept"
    objects = (item.source_uuid,) + ((made.uuid, *(u for _, u in item.replaces if u)) if made else ())
    return Event(
        type=EventType.MIGRATION,
        outcome=outcome,
        detail=f"{item.purpose.value} copy as {conversion.action.output_puid} with {conversion.tool_name} "
        f"({item.why.value})",
        detail_code={"preservation": "planning.migrated.preservation", "access": "planning.migrated.access"}[
            item.purpose.value
        ],
        detail_params={
            "puid": conversion.action.output_puid,
            "tool": conversion.tool_name,
            "why": item.why.value,
        }
        | ({"action": conversion.action.fingerprint()} if made is not None else {}),
        outcome_detail=detail,
        agents=(tool_agent(conversion), ctx.software),
        objects=objects,
        datetime=conversion.ended,
    )


def _record_failure(ctx: StepContext, item: Wanted, conversion: Conversion) -> None:
    """The operator learns why from ``kholuu job show``; the original and any older copy stay."""
    record = ErrorRecord(
        code="planning.conversion_failed",
        message=conversion.message,
        path=item.name,
        tool=conversion.tool_name,
        stderr=conversion.stderr or None,
        params={
            "purpose": item.purpose.value,
            "outcome": conversion.outcome.value,
            "puid": item.puid,
            "target": conversion.action.output_puid,
        },
    )
    with ctx.sessions.begin() as session:
        session.add(job_error_row(ctx.job_id, STEP, record))


def _nothing_made(ctx: StepContext, aip_id: str, failed: int) -> None:
    """No copy could be made: the job's events go to the AIP (its next version carries them) and
    the job ends failed."""
    with ctx.sessions.begin() as session:
        store.attach_job_events(session, ctx.job_id, aip_id, ())
        job = session.get(Job, ctx.job_id)
        assert job is not None
        job.status = JobStatus.FAILED
        job.ended_at = ctx.clock()
        job.error_code = "planning.nothing_migrated"
        job.error_message = f"none of the {failed} planned copies of {aip_id} could be made"
        job.error_params = {"aip_id": aip_id, "failed": failed}


def _build(
    ctx: StepContext, at: Current, folder: Path, exported: dict[str, Digests], made: _Made
) -> tuple[NewVersion, Migrated, list[Event]]:
    """The next version, from the exported current one; its PREMIS takes this job's events and
    the AIP's events the package did not carry yet."""
    since = events_since(at.sessions, at.aip_id)
    add = [
        Derivative(d, made.formats.get(d.uuid), tuple(made.characterizations.get(d.uuid, ())))
        for _, d, _ in made.kept
    ]
    stale = {path for item, _, _ in made.kept for path, _ in item.replaces}
    migrated = migrate_representations(
        folder,
        ctx.work_dir / "next" / folder.name,
        add=add,
        remove=sorted(stale | {a.rel for a in add if a.rel in exported}),
        events=[*since, *ctx.events],
        creator=ctx.software,
        zone=ZoneInfo(at.settings.package.timezone),
    )
    expected = {p: d for p, d in exported.items() if p not in migrated.removed} | migrated.changed
    new = NewVersion(
        migrated.folder,
        at.version + 1,
        expected,
        deposit_id=at.job_id,
        message=f"{_message(made)} (job {at.job_id})",
        user_name=at.settings.archive.name,
        user_address=at.settings.archive.address,
    )
    return new, migrated, since


def _publish(ctx: StepContext, at: Current, new: NewVersion) -> Publication:
    """The next version written to every location under CopySet's one failure policy."""
    return publish(at, CopySet.of(ctx.settings, at.aip_id), new, ctx.software)


def _message(made: _Made) -> str:
    """Why the version exists, for the catalog and the OCFL version block."""
    parts = [
        f"{item.name} → {item.purpose.value} copy {item.action.output_puid} ({item.why.value})"
        for item, _, _ in made.kept[:5]
    ]
    more = f"; and {len(made.kept) - 5} more" if len(made.kept) > 5 else ""
    return f"Migration by the format policy: {'; '.join(parts)}{more}"


def _register(
    ctx: StepContext,
    at: Current,
    new: NewVersion,
    migrated: Migrated,
    made: _Made,
    publication: Publication,
    since: list[Event],
) -> str:
    """The version, its rows and events, and the end of the job, in one transaction."""
    in_package = [e.identifier for e in ctx.events]

    def record(session: Session) -> None:
        store.attach_job_events(session, ctx.job_id, at.aip_id, in_package)
        mark_in_package(session, [e.identifier for e in since])

    status = register(
        at,
        CopySet.of(ctx.settings, at.aip_id),
        new,
        publication,
        message=_message(made),
        files=_version_files(at, new, migrated, made),
        changed=migrated.changed,
        record=record,
    )
    return status.value


def _version_files(at: Current, new: NewVersion, migrated: Migrated, made: _Made) -> list[File]:
    """An unchanged file carries its row over; a new copy gets a derivative row (source, action,
    format, validation); a rewritten METS or PREMIS a package row."""
    copies = {f"representations/{d.representation}/data/{d.name.text}": d for _, d, _ in made.kept}
    rows = []
    for path, digests in sorted(new.expected.items()):
        old = at.files.get(path)
        if old is not None and path not in migrated.changed:
            rows.append(copy_file(old, new.number))
            continue
        row = File(version=new.number, aip_path=path, size=digests.size, sha256=digests.sha256,
                   sha512=digests.sha512, role=FileRole.PACKAGE)  # fmt: skip
        if path in copies:
            d = copies[path]
            describe_payload(row, d, made.formats.get(d.uuid), made.characterizations.get(d.uuid, []))
        rows.append(row)
    return rows


def _made_dict(item: Wanted, made: PayloadFile, conversion: Conversion) -> dict[str, Any]:
    return {
        **item.as_dict(),
        "copy": f"representations/{made.representation}/data/{made.name.text}",
        "tool": conversion.tool_name,
        "tool_version": conversion.tool_version,
    }


def _failed_dict(item: Wanted, conversion: Conversion) -> dict[str, Any]:
    return {
        **item.as_dict(),
        "outcome": conversion.outcome.value,
        "message": conversion.message,
        "stderr": conversion.stderr,
        "tool": conversion.tool_name,
    }
