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

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from preservation.aip import BuiltAip
from preservation.events import Agent, Event
from preservation.planning.model import Conversion
from repository.catalog.models import CopyStatus, Job, JobStatus
from repository.settings import Settings
from repository.storage.copyset import CopySet, NewVersion, PublishedCopy
from workflows.ingest import claims, steps, text_step, virus_step
from workflows.ingest import records as records_step
from workflows.ingest.aip_creation import build
from workflows.ingest.registration import register
from workflows.jobs.envelope import JobSpec, Workflow, run_job, workflow_agent
from workflows.jobs.runner import Progress, StepContext, StepFailed, StepRunner
from workflows.planning.normalize import normalize


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
    conversions: list[Conversion] = field(default_factory=list)
    """What normalization did, file by file (failed ones included: the original was kept)."""

    @property
    def derivatives(self) -> int:
        return sum(1 for c in self.conversions if c.output is not None)

    @property
    def failed_conversions(self) -> list[Conversion]:
        return [c for c in self.conversions if c.output is None]


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
    job_id: str | None = None,
) -> IngestResult:
    """Ingest one submission. Never raises for a bad submission or a failing tool: the result says
    ``failed`` or ``refused`` and the catalog holds the error records.

    ``job_id`` is the job's id when the caller hands it out before the job starts (the web app
    answers an ingest request with it and runs the job in the background)."""
    options = options or IngestOptions()
    source = Path(os.path.abspath(source))
    job_id = job_id or str(uuid.uuid4())
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
        run("virus check", virus_step.virus_check, submission, aip_id)
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
        texts = run("text extraction", text_step.extract_texts, submission, formats)
        prepared = None
        if reading is not None:
            prepared = run("descriptive metadata conversion", records_step.prepare, submission, reading)
            submission = prepared.submission
        normalized = run("normalization", normalize, submission, formats, characterizations, texts)
        submission = normalized.submission
        formats, characterizations = normalized.formats, normalized.characterizations
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
            texts=texts,
        )
    except StepFailed as failure:
        return _failed(ctx, failure, aip_id)
    _cleanup_success(ctx)
    return IngestResult(
        job_id=ctx.job_id,
        status=JobStatus.COMPLETED,
        aip_id=aip_id,
        files=len(submission.originals),
        bytes=sum(f.size for f in submission.originals),
        events=list(ctx.events),
        conversions=normalized.conversions,
        locations={c.location: c.object_path for c in copies if c.status is CopyStatus.STORED},
        pending={c.location: c.reason for c in copies if c.status is CopyStatus.PENDING},
    )


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
