"""Ingest: a submission package becomes a verified archival package, end to end.

Read this function top to bottom to know what ingest does (style guide item 4):

    start → quarantine (safe copy/unpack) → read package (folder | BagIt | E-ARK SIP)
    → virus check → message digests → supplied checksums → duplicate check
    → format identification → validation/characterization → AIP creation (METS, PREMIS, CSIP check)
    → storage (OCFL, every required location, read back) → catalog registration → ingestion end

Nothing half-done is ever visible: the AIP is built in a staging folder private to the job, an OCFL
object appears in storage in one step after every file was read back and verified, and the catalog
says ``stored`` only in the transaction that also ends the job. A job killed at any moment is
rolled back by :func:`workflows.jobs.recovery.recover_interrupted` at the next run. The ingest runs in
the job envelope (:mod:`workflows.jobs.envelope`), whose failure model it follows: roll back and start again.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from preservation.aip import AipInput, AipProfile, BuiltAip, build_aip
from preservation.characteristics import Characterization
from preservation.csip import validate_package
from preservation.errors import SchemaValidationError
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from preservation.facts import PackageFacts, RecordsRegistration
from preservation.findings import Severity
from preservation.formats import FormatIdentification
from preservation.package import Submission
from preservation.tt05.model import RecordSet
from preservation.tt05.package import Tt05Reading
from repository import __version__
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
from repository.settings import Settings
from repository.storage.copyset import CopySet, NewVersion, PublishedCopy, aip_status
from workflows.ingest import claims, steps
from workflows.ingest import records as records_step
from workflows.jobs.envelope import SOFTWARE_NAME, JobSpec, Workflow, run_job, workflow_agent
from workflows.jobs.runner import Progress, StepContext, StepFailed, StepRunner


def software_agent() -> Agent:
    """The ingest's PREMIS agent (each workflow has its own:
    :func:`workflows.jobs.envelope.workflow_agent`)."""
    return workflow_agent(Workflow.INGEST)


def new_aip_id() -> str:
    """``uuid-<uuid4>``: the form TT 05/2025 packages use for identifiers (vn-standards.md §1.1)."""
    return f"uuid-{uuid.uuid4()}"


@dataclass(frozen=True)
class IngestOptions:
    allow_duplicate: bool = False
    organ_id: str = ""  # the sending agency's mã định danh, when the operator names it
    converted_from: str = ""  # the legacy export a converted SIP came from (its folder and metadata file)
    transfer_id: str = ""  # the received transfer (kholuu transfer receive) this package is
    supersedes: str = ""  # the AIP holding the hồ sơ this package re-submits (kholuu ingest --supersedes)


@dataclass
class IngestResult:
    """What the CLI reports. On failure ``error`` holds the cause and ``errors`` the per-file records."""

    job_id: str
    status: JobStatus
    aip_id: str | None = None
    files: int = 0
    bytes: int = 0
    events: list[Event] = field(default_factory=list)
    locations: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    quarantine: str | None = None
    error: StepFailed | None = None


StoredCopy = PublishedCopy
"""One location's copy after the storage step: ``stored`` (written and verified) or ``pending``
(the location was down; ``reason`` says why)."""


def ingest(
    settings: Settings,
    sessions: sessionmaker[Session],
    source: Path,
    *,
    options: IngestOptions | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest one submission. Never raises for a bad submission or a failing tool: the result says
    ``failed`` or ``refused`` and the catalog holds the error records."""
    options = options or IngestOptions()
    source = Path(os.path.abspath(source))
    job_id = str(uuid.uuid4())
    aip_id = new_aip_id()
    spec = JobSpec(
        kind=Workflow.INGEST,
        source=os.fsdecode(source),
        source_name=source.name,
        aip_id=aip_id,
        quarantine_path=str(settings.quarantine_dir / job_id),
        options={
            "allow_duplicate": options.allow_duplicate,
            "organ_id": options.organ_id,
            "converted_from": options.converted_from,
            "transfer_id": options.transfer_id,
            "supersedes": options.supersedes,
        },
    )
    with run_job(settings, sessions, spec, job_id=job_id, progress=progress) as ctx:
        return _run(ctx, source, aip_id, options)


def _run(ctx: StepContext, source: Path, aip_id: str, options: IngestOptions) -> IngestResult:
    run = StepRunner(ctx)
    try:
        run("ingestion start", steps.start, source, aip_id)
        tree = run("quarantine", steps.quarantine, source, aip_id)
        submission = run("package validation", steps.read_package, tree, aip_id)
        reading = run("descriptive metadata validation", records_step.describe, submission, aip_id)
        run("virus check", steps.virus_check, submission, aip_id)
        run("message digest calculation", steps.message_digests, submission)
        run("supplied checksums", steps.supplied_checksums, submission)
        identity = run(
            "duplicate check",
            claims.check,
            submission,
            reading,
            allow_duplicate=options.allow_duplicate,
            supersedes=options.supersedes,
        )
        formats = run("format identification", steps.identify, submission)
        characterizations = run("validation", steps.validate_files, submission, formats)
        prepared = None
        if reading is not None:
            prepared = run("descriptive metadata conversion", records_step.prepare, submission, reading)
            submission = prepared.submission
        built = run(
            "information package creation",
            build,
            submission,
            formats,
            characterizations,
            aip_id,
            prepared,
            organ_id=options.organ_id,
            transfer_id=options.transfer_id,
        )
        copies = run("storage", store_aip, built, aip_id)
        run(
            "catalog registration",
            register,
            submission,
            built,
            formats,
            characterizations,
            copies,
            identity.payload_digest,
            records=(reading, prepared.archival) if reading is not None and prepared is not None else None,
            organ_id=options.organ_id,
            transfer_id=options.transfer_id,
            supersedes=identity.supersedes,
        )
    except StepFailed as failure:
        return _failed(ctx, failure, aip_id)
    _cleanup_success(ctx)
    return IngestResult(
        job_id=ctx.job_id,
        status=JobStatus.COMPLETED,
        aip_id=aip_id,
        files=len(submission.payload),
        bytes=submission.payload_bytes,
        events=list(ctx.events),
        locations={c.location: c.object_path for c in copies if c.status is CopyStatus.STORED},
        pending={c.location: c.reason for c in copies if c.status is CopyStatus.PENDING},
    )


def build(
    ctx: StepContext,
    submission: Submission,
    formats: dict[str, FormatIdentification],
    characterizations: dict[str, list[Characterization]],
    aip_id: str,
    prepared: records_step.Prepared | None = None,
    *,
    organ_id: str = "",
    transfer_id: str = "",
) -> BuiltAip:
    """Write the AIP in the job's staging folder, then check it against CSIP ourselves (and, for a
    TT 05 package, its descriptions against our EAD XSDs and the AIP element tables).

    The package carries its facts file (``preservation.facts``) so that a catalog rebuilt from
    storage gets the package kind, container, submitted names, agency and transfer back as data."""
    p = ctx.settings.package
    profile = AipProfile(
        objid_template=p.objid_template,
        mets_profile=p.mets_profile,
        content_category=p.content_category,
        timezone=p.timezone,
        creator_name=SOFTWARE_NAME,
        creator_version=__version__,
    )
    organization = Agent(name=ctx.settings.archive.name, version="", type=AgentType.ORGANIZATION)
    agents: dict[str, Agent] = {}
    for event in ctx.events:
        for agent in event.agents:
            agents.setdefault(agent.identifier + agent.note, agent)
    agents.setdefault(organization.identifier, organization)
    staging = ctx.settings.work_dir / ctx.job_id / "aip"
    staging.mkdir(parents=True, exist_ok=True)
    built = build_aip(
        AipInput(
            aip_id=aip_id,
            submission=submission,
            formats=formats,
            characterizations={k: tuple(v) for k, v in characterizations.items()},
            events=tuple(ctx.events),
            agents=tuple(agents.values()),
            profile=profile,
            label=submission.label,
            extra_schemas=prepared.schemas if prepared is not None else (),
            facts=PackageFacts(
                aip_id=aip_id,
                job_id=ctx.job_id,
                source_name=submission.tree.source_name,
                package_kind=submission.kind.value,
                container=submission.tree.container.value,
                organ_id=organ_id,
                transfer_id=transfer_id,
                records=None
                if prepared is None
                else RecordsRegistration(
                    source=prepared.archival.source.value,
                    package_type=prepared.archival.package_type.value,
                    description=prepared.archival.package.path,
                    documents=len(prepared.archival.documents),
                ),
            ),
        ),
        staging,
    )
    ctx.record(built.creation_event)
    findings = validate_package(built.folder, expected_type="AIP")
    if prepared is not None:
        findings += records_step.check_archival(built.folder, prepared.archival, records_step.tables_for(ctx))
    errors = [f for f in findings if f.severity is Severity.ERROR]
    ctx.record(
        Event(
            type=EventType.VALIDATION,
            outcome=Outcome.FAILURE if errors else Outcome.SUCCESS,
            detail="AIP checked against E-ARK CSIP 2.0.4 requirements, METS 1.12 and PREMIS 3 schemas"
            + (
                ", and its TT 05 descriptions against Kho Lưu's EAD XSDs and the AIP element tables"
                if prepared
                else ""
            ),
            outcome_detail="\n".join(f"{f.code} {f.where}: {f.message}" for f in findings) or "no findings",
            detail_code="ingest.aip_validated_tt05" if prepared else "ingest.aip_validated",
            agents=(ctx.software,),
            objects=(aip_id,),
        )
    )
    if errors:
        raise SchemaValidationError(
            f"the AIP we built breaks {len(errors)} CSIP requirement(s), first {errors[0].code}: "
            f"{errors[0].message}",
            code="aip.not_conformant",
            params={"problems": [{"code": f.code, "path": f.where, "message": f.message} for f in errors]},
        )
    return built


def store_aip(ctx: StepContext, built: BuiltAip, aip_id: str) -> list[StoredCopy]:
    """Write the AIP as version 1 of an OCFL object to every configured location, read back and
    verified, under the one failure policy of :class:`repository.storage.copyset.CopySet`.

    A location that cannot be reached gets a queued (``pending``) copy that lands with ``kholuu
    storage sync``, and the AIP is ``degraded`` until every required copy is there. Any other
    failure, or no location taking a copy, fails the ingest with nothing stored.
    """
    new = NewVersion(
        built.folder,
        1,
        built.manifest,
        deposit_id=ctx.job_id,
        message=f"Ingest of {built.objid} (job {ctx.job_id})",
        user_name=ctx.settings.archive.name,
        user_address=ctx.settings.archive.address,
        created=ctx.clock(),
    )
    publication = CopySet.of(ctx.settings, aip_id).publish(new, agent=ctx.software, progress=ctx.progress)
    ctx.record_all(publication.events)
    return publication.copies


def register(
    ctx: StepContext,
    submission: Submission,
    built: BuiltAip,
    formats: dict[str, FormatIdentification],
    characterizations: dict[str, list[Characterization]],
    copies: list[StoredCopy],
    payload_digest: str,
    records: tuple[Tt05Reading, RecordSet] | None = None,
    organ_id: str = "",
    transfer_id: str = "",
    supersedes: str = "",
) -> None:
    """One transaction: the AIP, its files and copies, its hồ sơ/tài liệu records, its events, and
    the end of the job. With ``supersedes`` the new hồ sơ replaces the held one and takes over what
    the archive decided about it (:func:`workflows.ingest.claims.supersede`).

    If it fails, the stored objects are removed again so that storage never holds an AIP the
    catalog does not know.
    """
    aip_id = _aip_id_of(built)
    now = ctx.clock()
    accession = Event(
        type=EventType.ACCESSION,
        outcome=Outcome.SUCCESS,
        detail="AIP registered in the catalog",
        detail_code="ingest.accession",
        outcome_detail=f"{len(built.manifest)} files, copies in "
        + ", ".join(f"{c.location} ({c.status.value})" for c in copies),
        agents=(ctx.software,),
        objects=(aip_id,),
        datetime=now,
    )
    queued = [c.location for c in copies if c.status is CopyStatus.PENDING]
    end = Event(
        type=EventType.INGESTION_END,
        outcome=Outcome.SUCCESS,
        detail="Ingest completed: AIP stored and verified in every required location"
        if not queued
        else f"Ingest completed: AIP stored and verified; copies queued for {', '.join(queued)}",
        detail_code="ingest.completed_queued" if queued else "ingest.completed",
        detail_params={"queued": ", ".join(queued)} if queued else {},
        agents=(ctx.software,),
        objects=(aip_id,),
        datetime=now,
    )
    try:
        with ctx.sessions.begin() as session:
            _insert_aip(
                session, ctx, submission, built, formats, characterizations, copies, payload_digest, now
            )
            session.flush()
            if records is not None:
                reading, archival = records
                # Under a transfer the records are accepted by the archive's decision, not by the
                # ingest (TT 05: process, then decide); without one, storing them is the acceptance.
                accepted = None if transfer_id else now
                dossier = records_step.register(
                    session,
                    ctx,
                    submission,
                    reading,
                    archival,
                    aip_id,
                    ctx.events[0].datetime,
                    accepted,
                    organ_id,
                )
                if supersedes:
                    replaced = claims.supersede(
                        session, dossier, now=now, by=f"{SOFTWARE_NAME} ingest (job {ctx.job_id})"
                    )
                    accession = _superseding(accession, replaced, dossier.code)
                    for old_aip, event in _superseded(ctx, replaced, aip_id, dossier.code, now):
                        store.add_events(session, [event], aip_id=old_aip)
            if transfer_id:
                records_step.link_transfer(session, transfer_id, ctx.job_id, aip_id)
            in_package = [e.identifier for e in ctx.events if e.datetime <= built.creation_event.datetime]
            store.attach_job_events(session, ctx.job_id, aip_id, in_package)
            store.add_events(session, [accession, end], job_id=ctx.job_id, aip_id=aip_id)
            job = session.get(Job, ctx.job_id)
            assert job is not None
            job.status = JobStatus.COMPLETED
            job.ended_at = now
            job.file_count = len(submission.payload)
            job.total_bytes = submission.payload_bytes
    except BaseException:
        CopySet.of(ctx.settings, aip_id).withdraw(1, deposit_id=ctx.job_id)  # logs what it could not remove
        raise
    ctx.events.extend([accession, end])


def _superseding(accession: Event, replaced: claims.Superseded, code: str) -> Event:
    """The accession event says which record the AIP took over, and what came with it."""
    return dataclasses.replace(
        accession,
        outcome_detail=f"{accession.outcome_detail}; hồ sơ {code} re-submitted: supersedes the record "
        f"held in AIP {', '.join(replaced.aips)} (kholuu ingest --supersedes); "
        f"{replaced.restrictions} restriction(s) and {replaced.modes} access level(s) carried over",
    )


def _superseded(
    ctx: StepContext, replaced: claims.Superseded, aip_id: str, code: str, now: datetime
) -> list[tuple[str, Event]]:
    """One event on each AIP whose record was replaced: its catalog rows stay, marked superseded."""
    return [
        (
            old,
            Event(
                type=EventType.METADATA_MODIFICATION,
                outcome=Outcome.SUCCESS,
                detail=f"catalog record of hồ sơ {code} superseded by a re-submission",
                detail_code="records.superseded",
                detail_params={"code": code, "aip": aip_id},
                outcome_detail=f"superseded by AIP {aip_id} (job {ctx.job_id}); this AIP is kept unchanged",
                agents=(ctx.software,),
                objects=(old,),
                datetime=now,
            ),
        )
        for old in replaced.aips
    ]


def _aip_id_of(built: BuiltAip) -> str:
    return built.aip_id


def _insert_aip(
    session: Session,
    ctx: StepContext,
    submission: Submission,
    built: BuiltAip,
    formats: dict[str, FormatIdentification],
    characterizations: dict[str, list[Characterization]],
    copies: list[StoredCopy],
    payload_digest: str,
    now: datetime,
) -> None:
    aip = Aip(
        id=built.aip_id,
        objid=built.objid,
        label=submission.label,
        status=AipStatus.STORED,
        package_kind=submission.kind.value,
        container=submission.tree.container.value,
        source_name=submission.tree.source_name,
        payload_digest=payload_digest,
        file_count=len(submission.payload),
        payload_bytes=submission.payload_bytes,
        created_at=built.creation_event.datetime,
        stored_at=now,
        current_version=1,
        job_id=ctx.job_id,
    )
    aip.versions.append(AipVersion(number=1, created_at=now, message=f"Ingest (job {ctx.job_id})"))
    payload_by_path = {built.payload_paths[f.uuid]: f for f in submission.payload}
    metadata_by_path = {built.metadata_paths.get(m.name.text, ""): m for m in submission.metadata}
    for aip_path, digests in sorted(built.manifest.items()):
        row = File(
            version=1,
            aip_path=aip_path,
            size=digests.size,
            sha256=digests.sha256,
            sha512=digests.sha512,
            role=FileRole.PACKAGE,
        )
        payload = payload_by_path.get(aip_path)
        meta = metadata_by_path.get(aip_path)
        if payload is not None:
            ident = formats.get(payload.uuid)
            chars = characterizations.get(payload.uuid, [])
            row.role = FileRole.ORIGINAL
            row.uuid = payload.uuid
            row.representation = payload.representation
            row.path_raw = payload.name.raw
            row.path = payload.name.text
            row.path_nfc = payload.name.normalized
            if ident is not None:
                m = ident.chosen
                row.puid = m.puid
                row.format_name = m.name or None
                row.format_version = m.version or None
                row.mime = m.mime or None
                row.identification_basis = m.basis or None
                row.identification_warning = m.warning or None
            row.validity = overall_validity(chars)
            row.characteristics = [char_json(c) for c in chars]
        elif meta is not None:
            row.role = FileRole.METADATA
            row.path_raw = meta.name.raw
            row.path = meta.name.text
            row.path_nfc = meta.name.normalized
        aip.files.append(row)
    for c in copies:
        aip.copies.append(
            Copy(
                version=1,
                location=c.location,
                status=c.status,
                object_path=c.object_path,
                written_at=c.written_at,
                verified_at=c.written_at,
            )
        )
    aip.status = aip_status(aip.copies, {c.location for c in copies if c.required}, 1)
    session.add(aip)
    session.flush()


def overall_validity(chars: list[Characterization]) -> str:
    if not chars:
        return "not checked"
    order = ["invalid", "could not check", "valid", "not checked"]
    return min((c.validity.value for c in chars), key=order.index)


def char_json(c: Characterization) -> dict[str, Any]:
    return {
        "validator": c.validator,
        "agent": c.agent.identifier,
        "validity": c.validity.value,
        "properties": dict(c.properties),
        "findings": [f.as_dict() for f in c.findings],
    }


def _failed(ctx: StepContext, failure: StepFailed, aip_id: str) -> IngestResult:
    now = ctx.clock()
    cause = failure.cause
    with ctx.sessions.begin() as session:
        job = session.get(Job, ctx.job_id)
        assert job is not None
        job.status = failure.status
        job.ended_at = now
        claims.release(session, ctx.job_id)  # nothing was stored: what it claimed is free again
        job.error_code = str(getattr(cause, "code", "internal.error"))
        job.error_message = str(cause)
        params = getattr(cause, "params", None)
        job.error_params = _json_safe(params) if isinstance(params, dict) else None
        quarantine = job.quarantine_path
    return IngestResult(
        job_id=ctx.job_id,
        status=failure.status,
        aip_id=None,
        events=list(ctx.events),
        quarantine=quarantine if quarantine and Path(quarantine).exists() else None,
        error=failure,
    )


def _json_safe(value: Any) -> Any:
    from workflows.jobs.runner import _jsonable

    return _jsonable(value)


def _cleanup_success(ctx: StepContext) -> None:
    if not ctx.settings.ingest.keep_quarantine_on_success:
        shutil.rmtree(ctx.settings.quarantine_dir / ctx.job_id, ignore_errors=True)
        with ctx.sessions.begin() as session:
            job = session.get(Job, ctx.job_id)
            if job is not None:
                job.quarantine_path = None


_ = UTC
