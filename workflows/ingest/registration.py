"""Catalog registration, the ingest step that makes a stored AIP known, in one transaction.

The AIP, its versions, files and copies, its hồ sơ/tài liệu records, its events and the end of the
job are written together, so the catalog says ``stored`` only in the transaction that also ends the
job; if it fails, the stored objects are withdrawn so storage never holds an AIP the catalog does not
know. A module of its own because it is the one place the ingest writes the catalog's AIP rows (a
catalog rebuilt from storage reads the same file rows through :func:`char_json`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from preservation.aip import BuiltAip
from preservation.characteristics import Characterization
from preservation.events import Event, EventType, Outcome
from preservation.formats import FormatIdentification
from preservation.package import PayloadFile, Submission
from preservation.planning.text import ExtractedText
from preservation.tt05.model import RecordSet
from preservation.tt05.package import Tt05Reading
from repository.catalog import file_text, store
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
from repository.storage.copyset import CopySet, PublishedCopy, aip_status
from workflows.ingest import claims
from workflows.ingest import records as records_step
from workflows.jobs.envelope import SOFTWARE_NAME
from workflows.jobs.outcome import JobTakenOver
from workflows.jobs.runner import StepContext, kill_point


def register(
    ctx: StepContext,
    submission: Submission,
    built: BuiltAip,
    formats: dict[str, FormatIdentification],
    characterizations: dict[str, list[Characterization]],
    copies: list[PublishedCopy],
    payload_digest: str,
    records: tuple[Tt05Reading, RecordSet] | None = None,
    organ_id: str = "",
    transfer_id: str = "",
    supersedes: str = "",
    texts: Mapping[str, ExtractedText] | None = None,
) -> None:
    """One transaction: the AIP, its files and copies, its hồ sơ/tài liệu records, its events, and
    the end of the job. With ``supersedes`` the new hồ sơ replaces the held one and takes over what
    the archive decided about it (:func:`workflows.ingest.claims.supersede`).

    If it fails, the stored objects are removed again so that storage never holds an AIP the
    catalog does not know.
    """
    aip_id = _aip_id_of(built)
    now = ctx.clock()
    accession, end = _closing_events(ctx, built, copies, aip_id, now)
    try:
        with ctx.sessions.begin() as session:
            _insert_aip(
                session, ctx, submission, built, formats, characterizations, copies, payload_digest, now
            )
            session.flush()
            kill_point("registration: in transaction")  # fault tests: rows sent, not committed
            file_text.add_texts(session, aip_id, 1, texts or {}, now)  # the files' text, for search
            if records is not None:
                accession = _register_records(
                    session,
                    ctx,
                    submission,
                    records,
                    aip_id,
                    now,
                    accession,
                    organ_id=organ_id,
                    transfer_id=transfer_id,
                    supersedes=supersedes,
                )
            if transfer_id:
                records_step.link_transfer(session, transfer_id, ctx.job_id, aip_id)
            in_package = [e.identifier for e in ctx.events if e.datetime <= built.creation_event.datetime]
            store.attach_job_events(session, ctx.job_id, aip_id, in_package)
            store.add_events(session, [accession, end], job_id=ctx.job_id, aip_id=aip_id)
            job = session.get(Job, ctx.job_id, with_for_update=True)
            assert job is not None
            if job.status is not JobStatus.RUNNING:  # the job queue gave this attempt up as lost
                raise JobTakenOver(
                    f"job {ctx.job_id} is {job.status.value}: its work was rolled back",
                    code="job.taken_over",
                    params={"job_id": ctx.job_id, "status": job.status.value},
                )
            job.status = JobStatus.COMPLETED
            job.ended_at = now
            job.file_count = len(submission.payload)
            job.total_bytes = submission.payload_bytes
    except BaseException:
        CopySet.of(ctx.settings, aip_id).withdraw(1, deposit_id=ctx.job_id)  # logs what it could not remove
        raise
    ctx.events.extend([accession, end])


def _closing_events(
    ctx: StepContext, built: BuiltAip, copies: list[PublishedCopy], aip_id: str, now: datetime
) -> tuple[Event, Event]:
    """The accession event and the ingestion end, which says which copies are still queued."""
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
    return accession, end


def _register_records(
    session: Session,
    ctx: StepContext,
    submission: Submission,
    records: tuple[Tt05Reading, RecordSet],
    aip_id: str,
    now: datetime,
    accession: Event,
    *,
    organ_id: str,
    transfer_id: str,
    supersedes: str,
) -> Event:
    """The hồ sơ and tài liệu of a TT 05 package; with ``supersedes`` the held record is replaced
    and the returned accession event says so."""
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
    return accession


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
    copies: list[PublishedCopy],
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
        file_count=len(submission.originals),
        payload_bytes=sum(f.size for f in submission.originals),
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
            describe_payload(row, payload, formats.get(payload.uuid), characterizations.get(payload.uuid, []))
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


def describe_payload(
    row: File, payload: PayloadFile, ident: FormatIdentification | None, chars: list[Characterization]
) -> None:
    """A payload file's row: an original as submitted, or a derivative with its source and action."""
    row.role = FileRole.DERIVATIVE if payload.derived_from else FileRole.ORIGINAL
    row.uuid = payload.uuid
    row.representation = payload.representation
    row.derived_from = payload.derived_from or None
    row.action = payload.action or None
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
