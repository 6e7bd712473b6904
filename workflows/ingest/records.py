"""Ingest steps for the descriptive records of TT 05/2025 packages (issue 4).

``describe`` checks every description file against the element tables before anything is kept
(an agency gets every violation, each naming file, element and rule, and nothing is stored);
``prepare`` turns the submitted SIP descriptions into the AIP descriptions the Archive keeps (TT 05
Điều 25.3.a, Điều 28) and rewires the submission so that the AIP carries both: the generated AIP
``EAD.xml`` / ``EAD_doc_*`` as descriptive metadata and the submitted ones as submission metadata;
``check_archival`` proves the generated files against our XSDs and the AIP tables;
``register`` writes the hồ sơ and tài liệu rows in the ingest's catalog transaction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from preservation.csip import validate_package
from preservation.errors import InvalidPackageError
from preservation.events import Event, EventType, Outcome
from preservation.findings import Finding, Severity
from preservation.fixity import digest_file
from preservation.names import FileName
from preservation.package import MetadataFile, MetadataRole, Submission
from preservation.tt05.archival import SCHEMA_NAMES, to_archival
from preservation.tt05.ead import parse_description, validate_xsd, write_description
from preservation.tt05.ead_check import check_description
from preservation.tt05.model import Description, DocumentRecord, RecordSet
from preservation.tt05.package import Tt05Reading, read_records
from preservation.tt05.package_rules import check_mets, load_package_rules
from preservation.tt05.sip import schema_path
from preservation.tt05.tables import Tables, shipped_tables
from repository.catalog.records import Dossier
from repository.catalog.records_store import register_records
from workflows.jobs.runner import Refusal, StepContext
from workflows.records import transfers

DETAIL = (
    "Descriptive metadata (EAD.xml, EAD_doc/EAD_pic/EAD_media) validated against the element tables of "
    "Thông tư 05/2025/TT-BNV Phụ lục I-V (types, lengths, mandatory and conditional elements, code lists)"
)


@dataclass(frozen=True)
class Prepared:
    """The submission as the AIP builder should see it, and the AIP form of its records."""

    submission: Submission
    archival: RecordSet
    schemas: tuple[tuple[str, Path], ...]


def tables_for(ctx: StepContext) -> Tables:
    return shipped_tables()


def describe(ctx: StepContext, submission: Submission, aip_id: str) -> Tt05Reading | None:
    """Check the TT 05 descriptions; refuse the package when any rule is broken."""
    tables = tables_for(ctx)
    try:
        reading = read_records(submission, tables, intake=ctx.settings.records.intake_only_permanent)
    except InvalidPackageError as exc:
        _event(ctx, aip_id, Outcome.FAILURE, str(exc))
        raise
    if reading is None:
        return None
    csip = validate_package(submission.tree.root, expected_type=None, verify_checksums=False)
    rules = load_package_rules()
    reading = dataclasses.replace(
        reading, findings=(*check_mets(submission.tree.root, rules, csip), *reading.findings)
    )
    text = "\n".join(_line(f) for f in reading.findings)
    if reading.records.unmapped:
        text = "\n".join(
            filter(
                None,
                [
                    text,
                    f"mapped from a legacy export ({reading.records.source.value}); "
                    f"{len(reading.records.unmapped)} field(s) not carried over, listed in "
                    "documentation/legacy-mapping.json",
                ],
            )
        )
    errors = reading.errors
    outcome = Outcome.FAILURE if errors else Outcome.WARNING if text else Outcome.SUCCESS
    _event(
        ctx, aip_id, outcome, text or f"{len(reading.records.documents)} document description(s), no findings"
    )
    if errors:
        raise InvalidPackageError(
            f"{len(errors)} problem(s) in the TT 05 descriptions, first: {_line(errors[0])}",
            code="description.invalid",
            params={
                "count": len(errors),
                "problems": [
                    {
                        **{k: v for k, v in f.params.items()},
                        "code": f.code,
                        "path": f.where,
                        "message": f.message,
                    }
                    for f in errors
                ],
            },
        )
    return reading


def _line(f: Finding) -> str:
    return f"{f.severity.value} {f.code} {f.where}: {f.message}"


def _event(ctx: StepContext, aip_id: str, outcome: Outcome, detail: str) -> None:
    ctx.record(
        Event(
            type=EventType.VALIDATION,
            outcome=outcome,
            detail=DETAIL,
            outcome_detail=detail,
            detail_code="ingest.tt05_descriptions",
            agents=(ctx.software,),
            objects=(aip_id,),
        )
    )


def prepare(ctx: StepContext, submission: Submission, reading: Tt05Reading) -> Prepared:
    """Write the AIP descriptions into the job's work folder and hand the builder a submission in
    which they are the descriptive metadata and the submitted ones are submission metadata."""
    tables = tables_for(ctx)
    archival = to_archival(reading.records, tables, archive_id=ctx.settings.records.archive_id)
    out = ctx.settings.work_dir / ctx.job_id / "tt05"
    generated: list[MetadataFile] = []
    for desc, rep in [
        (archival.package, None),
        *((d.description, d.representation) for d in archival.documents),
    ]:
        path = out / desc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        write_description(desc, tables, path)
        generated.append(
            MetadataFile(
                name=FileName(desc.path.encode("utf-8")),
                path=path,
                digests=digest_file(path),
                role=MetadataRole.DESCRIPTIVE,
                representation=rep,
            )
        )
    submitted = {m.name.raw for m in reading.description_files}
    metadata = [
        dataclasses.replace(m, role=MetadataRole.SUBMISSION) if m.name.raw in submitted else m
        for m in submission.metadata
    ]
    variants = {archival.package.variant, *(d.description.variant for d in archival.documents)}
    schemas = tuple(sorted({(SCHEMA_NAMES[v], schema_path(v)) for v in variants}))
    return Prepared(
        submission=dataclasses.replace(submission, metadata=(*metadata, *generated)),
        archival=archival,
        schemas=schemas,
    )


def check_archival(folder: Path, archival: RecordSet, tables: Tables) -> list[Finding]:
    """Our AIP descriptions must pass our own XSDs and AIP element tables; a finding is our bug."""
    findings: list[Finding] = []
    for desc in [archival.package, *(d.description for d in archival.documents)]:
        path = folder / desc.path
        findings.extend(validate_xsd(path, desc.variant))
        findings.extend(check_description(parse_description(path, desc.variant, desc.path), tables))
    return [f for f in findings if f.severity is Severity.ERROR]


def register(
    session: Session,
    ctx: StepContext,
    submission: Submission,
    reading: Tt05Reading,
    archival: RecordSet,
    aip_id: str,
    received_at: datetime,
    accepted_at: datetime | None,
    organ_id: str = "",
) -> Dossier:
    """The hồ sơ and tài liệu rows: the submitted values and the archival ones (arcFileCode,
    docOrdinal) together, tied to the AIP's description files and payload files. ``organ_id`` is
    the sending agency's mã định danh when the operator named it (``kholuu ingest --agency``);
    otherwise the catalog splits it off the dossier code."""
    merged_docs = tuple(
        DocumentRecord(
            kind=sub.kind,
            description=Description(
                variant=sub.description.variant,
                path=sub.description.path,
                values={**sub.description.values, **arc.description.values},
            ),
            data_files=sub.data_files,
            representation=sub.representation,
        )
        for sub, arc in zip(reading.records.documents, archival.documents, strict=True)
    )
    merged = dataclasses.replace(
        reading.records,
        package=Description(
            variant=reading.records.package.variant,
            path=reading.records.package.path,
            values={**reading.records.package.values, **archival.package.values},
        ),
        documents=merged_docs,
    )
    paths = {reading.records.package.path: archival.package.path}
    for sub, arc in zip(reading.records.documents, archival.documents, strict=True):
        paths[sub.description.path] = arc.description.path
    file_uuids = {(p.representation, p.name.text): p.uuid for p in submission.payload}
    return register_records(
        session,
        aip_id=aip_id,
        records=merged,
        file_uuids=file_uuids,
        description_paths=paths,
        received_at=received_at,
        accepted_at=accepted_at,
        organ_id=organ_id,
        archive_id=ctx.settings.records.archive_id,
        extra=reading.unknown,
    )


def link_transfer(session: Session, transfer_id: str, job_id: str, aip_id: str) -> None:
    """Tie the AIP to the transfer it came in, in the registration transaction: a transfer that
    cannot take it (decided, already linked, another agency's records) refuses the package, and
    nothing is stored."""
    try:
        transfers.link_ingest(session, transfer_id, job_id, aip_id)
    except transfers.TransferError as exc:
        raise Refusal(str(exc), code=exc.code, params=exc.params) from exc
