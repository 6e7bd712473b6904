"""The ingest steps: each wraps one preservation action and records its PREMIS events.

Every step is ``step(ctx, input) -> output``. The events say what was done (detail), with which
tool and version (agent), and what came out (outcome and outcome detail), per file where the
action is per file, so that an auditor can ask of any file in any AIP "was it scanned, hashed,
identified, validated, and by what?" and get an answer.
"""

from __future__ import annotations

import hashlib
import os
import platform
import ssl
from collections.abc import Sequence
from pathlib import Path

from preservation.characteristics import Characterization, Validity
from preservation.characterize import (
    CharacterizeOptions,
    LibreOfficeCharacterizer,
    characterize,
    characterizers,
)
from preservation.csip import validate_package
from preservation.errors import InvalidPackageError
from preservation.events import Agent, Event, EventType, Outcome
from preservation.findings import Finding, Severity
from preservation.formats import UNIDENTIFIED, FormatIdentification
from preservation.identify import get_engine
from preservation.package import Container, PackageKind, PayloadFile, ReceivedTree, Submission
from preservation.quarantine import receive
from preservation.submission import read_submission
from preservation.supplied import raise_on_mismatch, verify_supplied
from repository.settings import Settings
from workflows.ingest.parallel import ordered_map
from workflows.jobs.runner import Refusal, StepContext
from workflows.planning.policy import load_policy

HASHLIB_AGENT = Agent(
    name="Python hashlib",
    version=f"{platform.python_version()} ({ssl.OPENSSL_VERSION})",
    note="SHA-256 and SHA-512 computed in one streamed pass while copying into quarantine",
)


PACKAGE_VALIDATION_DETAIL = {
    PackageKind.FOLDER: "Plain folder: every file is payload of representation rep1",
    PackageKind.BAGIT: "BagIt bag (RFC 8493) validated with bagit-python: complete, every manifest and "
    "tag manifest verified",
    PackageKind.EARK_SIP: "E-ARK SIP read: root and representation METS parsed, referenced files present",
}
"""The detail of the package ``validation`` event, per kind. Prose for people: the kind itself is
kept as data in the package's facts file (``preservation.facts``), which
``workflows.custody.rebuild`` reads."""


def start(ctx: StepContext, source: Path, aip_id: str) -> None:
    ctx.record(
        Event(
            type=EventType.INGESTION_START,
            outcome=Outcome.SUCCESS,
            detail=f"Ingest of submission {source.name!r} started (job {ctx.job_id})",
            detail_code="ingest.started",
            detail_params={"source": source.name, "job": ctx.job_id},
            agents=(ctx.software,),
            objects=(aip_id,),
        )
    )


def own_folders(settings: Settings) -> list[Path]:
    """Folders this archive writes into: the data folder (catalog, quarantine, work, conversion)
    and every local storage root, wherever it is configured."""
    folders = [settings.home, settings.quarantine_dir, settings.work_dir, settings.conversion_dir]
    for loc in settings.storage.locations:
        if loc.backend == "local":
            folders.append(settings.path(loc.path or f"storage/{loc.name}"))
    return folders


def refuse_own_folders(settings: Settings, source: Path) -> None:
    """Refuse a submission that is, or contains, a folder the archive writes into: copying it into
    quarantine would copy the quarantine into itself until the depth limit (issue 11, item 12),
    and it would take the catalog and stored AIPs in as payload.

    Raises:
        Refusal: ``ingest.own_data_folder``.
    """
    resolved = Path(os.path.realpath(source))
    for folder in own_folders(settings):
        real = Path(os.path.realpath(folder))
        if resolved == real or resolved in real.parents:
            raise Refusal(
                f"the submission {source} is or contains the archive's own folder {folder}; "
                "choose a folder outside it",
                code="ingest.own_data_folder",
                params={"source": str(source), "folder": str(folder)},
            )


def quarantine(ctx: StepContext, source: Path, aip_id: str) -> ReceivedTree:
    """Copy (and safely unpack) the submission into this job's quarantine folder."""
    refuse_own_folders(ctx.settings, source)
    destination = ctx.settings.quarantine_dir / ctx.job_id
    ctx.progress.start("quarantine", 0)
    try:
        tree = receive(source, destination, ctx.settings.unpack, progress=ctx.progress.advance)
    except Exception as exc:
        ctx.record(
            Event(
                type=EventType.QUARANTINE,
                outcome=Outcome.FAILURE,
                detail=f"Copy of {source.name!r} into quarantine refused or failed",
                detail_code="ingest.quarantine_failed",
                detail_params={"source": source.name},
                outcome_detail=str(exc),
                agents=(ctx.software,),
                objects=(aip_id,),
            )
        )
        raise
    finally:
        ctx.progress.finish()
    ctx.record(
        Event(
            type=EventType.QUARANTINE,
            outcome=Outcome.SUCCESS,
            detail=f"Submission copied into quarantine at {destination}",
            detail_code="ingest.quarantined",
            detail_params={"destination": destination},
            outcome_detail=(
                f"{len(tree.files)} files, {tree.total_bytes} bytes, container {tree.container.value}"
            ),
            agents=(ctx.software,),
            objects=(aip_id,),
        )
    )
    if tree.container is not Container.DIRECTORY:
        warnings = [f for f in tree.findings if f.severity is not Severity.INFO]
        ctx.record(
            Event(
                type=EventType.UNPACKING,
                outcome=Outcome.WARNING if warnings else Outcome.SUCCESS,
                detail=(
                    f"{tree.container.value} archive unpacked safely (no traversal, links, devices or bombs)"
                ),
                detail_code="ingest.unpacked",
                detail_params={"container": tree.container.value},
                outcome_detail=_findings_text(tree.findings) or f"{len(tree.files)} files extracted",
                agents=(ctx.software,),
                objects=(aip_id,),
            )
        )
    return tree


def read_package(ctx: StepContext, tree: ReceivedTree, aip_id: str) -> Submission:
    """Tell folder, bag and E-ARK SIP apart; validate the package structure."""
    try:
        submission = read_submission(tree)
    except InvalidPackageError as exc:
        ctx.record(
            Event(
                type=EventType.VALIDATION,
                outcome=Outcome.FAILURE,
                detail="Submission package structure validated",
                outcome_detail=str(exc),
                detail_code="ingest.package_refused",
                agents=(ctx.software,),
                objects=(aip_id,),
            )
        )
        raise
    names: dict[str, str] = {}
    for f in submission.payload:
        key = f"{f.representation}/{f.name.normalized}"
        if key in names:
            raise InvalidPackageError(
                f"two payload files have the same name after Unicode normalization: {names[key]!r} and "
                f"{f.name.text!r}",
                code="package.normalization_collision",
                path=f.name.text,
                params={"other": names[key]},
            )
        names[key] = f.name.text
    detail = PACKAGE_VALIDATION_DETAIL[submission.kind]
    outcome_detail = _findings_text(submission.findings)
    if submission.kind is PackageKind.EARK_SIP:
        csip = validate_package(tree.root, expected_type=None, verify_checksums=False)
        if csip:
            outcome_detail = "\n".join(filter(None, [outcome_detail, "CSIP findings:", _findings_text(csip)]))
    ctx.record(
        Event(
            type=EventType.VALIDATION,
            outcome=Outcome.WARNING if outcome_detail else Outcome.SUCCESS,
            detail=detail,
            outcome_detail=outcome_detail,
            detail_code="ingest.package_validated",
            detail_params={"kind": submission.kind.value},
            agents=(ctx.software, *_bagit_agent(submission)),
            objects=(aip_id,),
        )
    )
    return submission


def _bagit_agent(submission: Submission) -> tuple[Agent, ...]:
    if submission.kind is not PackageKind.BAGIT:
        return ()
    import bagit

    return (Agent(name="bagit-python", version=str(getattr(bagit, "VERSION", "unknown"))),)


def message_digests(ctx: StepContext, submission: Submission) -> None:
    for f in submission.payload:
        ctx.record(
            Event(
                type=EventType.MESSAGE_DIGEST_CALCULATION,
                outcome=Outcome.SUCCESS,
                detail="SHA-256 and SHA-512 of the file as received",
                detail_code="ingest.digests",
                outcome_detail=f"sha256:{f.digests.sha256} sha512:{f.digests.sha512} size:{f.size}",
                agents=(HASHLIB_AGENT,),
                objects=(f.uuid,),
            )
        )


def supplied_checksums(ctx: StepContext, submission: Submission) -> None:
    """Verify every checksum that came with the submission (bag manifests, METS CHECKSUM)."""
    if not submission.supplied:
        return
    checks = verify_supplied(submission)
    for check in checks:
        s = check.checksum
        if not s.file_uuid:
            continue  # tag files: covered by the package validation event
        ctx.record(
            Event(
                type=EventType.FIXITY_CHECK,
                outcome=Outcome.SUCCESS if check.ok else Outcome.FAILURE,
                detail=f"{s.algorithm} supplied in {s.source} compared with the received bytes",
                detail_code="ingest.supplied_checksum",
                detail_params={"algorithm": s.algorithm, "source": s.source},
                outcome_detail=(
                    f"{s.algorithm}:{s.value} matches"
                    if check.ok
                    else f"mismatch: supplied {s.algorithm}:{s.value}, computed {check.found}"
                ),
                agents=(HASHLIB_AGENT,),
                objects=(s.file_uuid,),
            )
        )
    raise_on_mismatch(checks)


def payload_digest(submission: Submission) -> str:
    """The identity of a payload: SHA-256 over its sorted (NFC name, SHA-256) pairs.

    NFC names, so that the same documents sent once from Windows and once from macOS (NFD) count
    as the same payload; representation names included, so a reorganised package is not.
    """
    lines = sorted(
        f"{f.representation}/{f.name.normalized}\0{f.digests.sha256}\n" for f in submission.payload
    )
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


IDENTIFY_BATCH = 1000
"""Files given to the engine at once: Siegfried's workers stay busy across a batch (a batch of 200
left them idle at each end), and a batch's answers are all that is held."""


def identify(ctx: StepContext, submission: Submission) -> dict[str, FormatIdentification]:
    return identify_files(ctx, submission.payload)


def identify_files(ctx: StepContext, payload: Sequence[PayloadFile]) -> dict[str, FormatIdentification]:
    """Identify each file's format (and cross-check it when configured); one PREMIS ``format
    identification`` event per file. Used for submitted files and for the copies preservation
    planning makes (normalization, migration)."""
    settings = ctx.settings.identification
    engine = get_engine(settings.engine, workers=settings.workers)
    paths = [f.path for f in payload]
    ctx.progress.start("format identification", len(paths))
    results: dict[Path, FormatIdentification] = {}
    for batch in _batches(paths, IDENTIFY_BATCH):
        results.update(engine.identify(batch))
        for p in batch:
            ctx.progress.advance(p.name)
    ctx.progress.finish()
    second = get_engine(settings.cross_check) if settings.cross_check else None
    second_results = second.identify(paths) if second else {}
    out: dict[str, FormatIdentification] = {}
    for f in payload:
        ident = results[f.path]
        out[f.uuid] = ident
        m = ident.chosen
        note = ""
        if second is not None:
            other = second_results.get(f.path)
            if other is not None and m.puid not in {c.puid for c in other.candidates or (other.chosen,)}:
                note = f"; cross-check {second.agent.identifier} says {other.chosen.puid}"
        unidentified = m.puid == UNIDENTIFIED
        ctx.record(
            Event(
                type=EventType.FORMAT_IDENTIFICATION,
                outcome=Outcome.WARNING if unidentified or m.warning or note else Outcome.SUCCESS,
                detail="Format identification against PRONOM",
                detail_code="ingest.format_identification",
                outcome_detail=(
                    f"{m.puid}"
                    + (f" {m.name}" if m.name else "")
                    + (f" {m.version}" if m.version else "")
                    + (f"; basis: {m.basis}" if m.basis else "")
                    + (f"; warning: {m.warning}" if m.warning else "")
                    + note
                ),
                agents=(ident.agent,),
                objects=(f.uuid,),
            )
        )
    return out


def _batches(items: Sequence[Path], size: int) -> list[Sequence[Path]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def validate_files(
    ctx: StepContext, submission: Submission, formats: dict[str, FormatIdentification]
) -> dict[str, list[Characterization]]:
    """Validate and characterize every file a well-kept library understands."""
    return validate_payload(ctx, submission.payload, formats, submission.tree.root)


def validate_payload(
    ctx: StepContext, payload: Sequence[PayloadFile], formats: dict[str, FormatIdentification], root: Path
) -> dict[str, list[Characterization]]:
    """Validate and characterize ``payload`` (``root``: where an XML file's schemas are looked
    for); one PREMIS ``validation`` event per result."""
    out: dict[str, list[Characterization]] = {}
    if not ctx.settings.characterization.enabled:
        return out
    c = ctx.settings.characterization
    chosen = characterizers(
        CharacterizeOptions(
            ffprobe=c.ffprobe,
            ffprobe_timeout=c.ffprobe_timeout_seconds,
            xml_search_root=root,
            timeout=c.timeout_seconds,
            office_load=c.office_load,
            soffice=c.soffice,
            soffice_timeout=c.soffice_timeout_seconds,
            external=c.external,
            parameters=load_policy(ctx.settings).parameters,
        )
    )
    for batched in chosen:  # LibreOffice: one start for many files, not one per file
        if isinstance(batched, LibreOfficeCharacterizer):
            batched.prepare([(f.path, formats[f.uuid].chosen) for f in payload])
    ctx.progress.start("validation", len(payload))

    def one(f: PayloadFile) -> list[Characterization]:
        return characterize(f.path, formats[f.uuid].chosen, chosen, timeout=c.timeout_seconds)

    for f, results in ordered_map(one, payload, ctx.settings.ingest.workers):
        out[f.uuid] = results
        for r in results:
            ctx.record(_validation_event(f.uuid, r))
        ctx.progress.advance(f.name.text)
    ctx.progress.finish()
    return out


def _validation_event(file_uuid: str, r: Characterization) -> Event:
    outcome = {
        Validity.VALID: Outcome.SUCCESS,
        Validity.INVALID: Outcome.FAILURE,
        Validity.COULD_NOT_CHECK: Outcome.WARNING,
        Validity.NOT_CHECKED: Outcome.WARNING,
    }[r.validity]
    props = ", ".join(f"{k}={v}" for k, v in sorted(r.properties.items()))
    findings = _findings_text(r.findings)
    return Event(
        type=EventType.VALIDATION,
        outcome=outcome,
        detail=f"{r.validator} validation and characterization",
        detail_code="ingest.file_validation",
        detail_params={"validator": r.validator},
        outcome_detail="; ".join(filter(None, [r.validity.value, props, findings])),
        agents=(r.agent,),
        objects=(file_uuid,),
    )


def _findings_text(findings: Sequence[Finding]) -> str:
    return "\n".join(f"[{f.severity.value}] {f.code} {f.where}: {f.message}" for f in findings)
