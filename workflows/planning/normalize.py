"""Normalization at ingest: each file gets the preservation and access copies its format policy names.

The policy (``config/planning/formats.toml`` and the data folder's override) decides per PRONOM
PUID; this step only carries it out. A file already in a format accepted for preservation under
the configured regulation (``[planning] regulation``, TT 05/2025 by default) gets no preservation
copy. Every output is verified by :func:`preservation.planning.convert.convert` before it is kept,
and goes to its own representation (``rep1`` → ``rep1-preservation`` / ``rep1-access``) with a
PREMIS derivation relationship to its source and a ``normalization`` event naming the tool.

When the preservation copy is already in the access action's output format (an office document
made PDF/A), no second copy is made: the preservation copy serves readers too, and the DIP takes
it (an access copy, else such a preservation copy, else the original).

A conversion that fails keeps the original, records a failed ``normalization`` event with the
tool's stderr and a ``job_error`` row (``kholuu job show`` lists it, the ingest report counts it),
and the ingest goes on, unless the policy marks the format ``unacceptable``: then the ingest fails,
because the archive has said it will not keep that format as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from preservation.characteristics import Characterization
from preservation.errors import ErrorKind, PreservationError
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from preservation.fixity import digest_file
from preservation.formats import FormatIdentification
from preservation.identify.base import get_engine
from preservation.names import FileName
from preservation.package import PayloadFile, Submission
from preservation.planning.convert import convert
from preservation.planning.model import Action, Check, Conversion, ConversionOutcome, FormatPolicy, Purpose
from preservation.planning.policy import PolicyRegistry
from preservation.planning.text import ExtractedText
from preservation.planning.verify import verify
from repository.catalog.models import JobError
from repository.settings import PlanningSettings
from workflows.ingest import steps
from workflows.jobs.runner import ErrorRecord, StepContext, job_error_row
from workflows.planning.policy import load_policy

STEP = "normalization"


class UnacceptableFormatError(PreservationError):
    """The policy marks a format unacceptable as it is, and its preservation copy could not be made."""

    code = "planning.unacceptable_format"
    kind = ErrorKind.REFUSED

    def __init__(self, path: str, puid: str, reason: str) -> None:
        super().__init__(
            f"{path}: format {puid} is not accepted for preservation and its conversion failed: {reason}",
            path=path,
            params={"puid": puid, "reason": reason},
        )


@dataclass
class Normalized:
    """The submission with its derivatives added, and what every conversion did."""

    submission: Submission
    formats: dict[str, FormatIdentification]
    characterizations: dict[str, list[Characterization]]
    conversions: list[Conversion] = field(default_factory=list)

    @property
    def failed(self) -> list[Conversion]:
        return [c for c in self.conversions if c.outcome is not ConversionOutcome.SUCCESS]


def normalize(
    ctx: StepContext,
    submission: Submission,
    formats: dict[str, FormatIdentification],
    characterizations: dict[str, list[Characterization]],
    texts: Mapping[str, ExtractedText] | None = None,
) -> Normalized:
    """Make, verify and add the derivatives the policy asks for (see the module docstring).

    ``texts`` are the text extraction step's results: a scan it OCR'd left a PDF/A with a text
    layer ("PDF/A hai lớp", TT 05/2025 Điều 8), which becomes the scan's preservation copy once
    verified, in place of the policy's preservation action."""
    result = Normalized(submission, dict(formats), dict(characterizations))
    planning = ctx.settings.planning
    if not planning.normalize:
        return result
    run = _Run(ctx, result)
    by_uuid = {f.uuid: f for f in submission.originals}
    for uuid, extracted in (texts or {}).items():
        if extracted.ocr_pdf is not None and uuid in by_uuid:
            run.keep(by_uuid[uuid], adopt_ocr_pdf(by_uuid[uuid], extracted, run.identify), None)
    wanted = [
        (source, fmt_policy, purpose)
        for source, fmt_policy, purpose in _wanted(submission, formats, load_policy(ctx.settings), planning)
        if not (purpose is Purpose.PRESERVATION and source.uuid in run.preserved_as)
    ]
    ctx.progress.start(STEP, len(wanted))
    for source, fmt_policy, purpose in wanted:
        action = fmt_policy.action(purpose)
        assert action is not None  # _wanted yields only purposes with an action
        if purpose is Purpose.ACCESS and run.preserved_as.get(source.uuid) == action.output_puid:
            # The preservation copy already is what readers get: one file serves both.
            ctx.progress.advance(source.name.text)
            continue
        out_dir = ctx.work_dir / "derivatives" / source.uuid / purpose.value
        run.keep(source, convert(source.path, action, purpose, out_dir, identify=run.identify), fmt_policy)
        ctx.progress.advance(source.name.text)
    ctx.progress.finish()
    if run.made:
        _characterize(ctx, result, run.made)
    return result


class _Run:
    """One normalization: what was made, and the PUID of each source's verified preservation copy."""

    def __init__(self, ctx: StepContext, result: Normalized) -> None:
        self.ctx = ctx
        self.result = result
        self.made: list[PayloadFile] = []
        self.preserved_as: dict[str, str] = {}
        self._engine = get_engine(ctx.settings.identification.engine)

    def identify(self, path: Path) -> str | None:
        return self._engine.identify([path])[path].chosen.puid

    def keep(self, source: PayloadFile, conversion: Conversion, fmt_policy: FormatPolicy | None) -> None:
        """Record the conversion (its event; a job error when it failed); keep a verified output."""
        self.result.conversions.append(conversion)
        made = derivative(source, conversion) if conversion.output is not None else None
        self.ctx.record(_event(self.ctx, source, conversion, made))
        if made is None:
            puid = self.result.formats[source.uuid].chosen.puid
            _record_failure(self.ctx, source, puid, fmt_policy, conversion)
            return
        self.made.append(made)
        if conversion.purpose is Purpose.PRESERVATION:
            self.preserved_as[source.uuid] = conversion.action.output_puid


OCR_ACTION = Action(
    tool="ocrmypdf",
    output_puid="fmt/477",
    output_extension="pdf",
    checks=(Check.OPENS, Check.FORMAT, Check.PDFA),
)
"""What the text extraction step's OCR produced (``ocrmypdf --output-type pdfa-2``) and how it is
verified before it is kept as the scan's preservation copy."""


def adopt_ocr_pdf(
    source: PayloadFile, extracted: ExtractedText, identify: Callable[[Path], str | None]
) -> Conversion:
    """The OCR'd PDF/A of a scan, verified like any conversion's output (it opens, is PDF/A-2,
    declares it and embeds its fonts; a PDF source keeps its page count)."""
    assert extracted.ocr_pdf is not None
    pages = (Check.PAGES,) if source.path.suffix.lower() == ".pdf" else ()
    action = replace(OCR_ACTION, checks=OCR_ACTION.checks + pages)
    started = datetime.now(UTC)
    results = verify(source.path, extracted.ocr_pdf, action, identify=identify)
    passed = all(c.passed for c in results)
    tool, version = next(iter(extracted.tools), ("ocrmypdf", ""))
    failed = "; ".join(f"{c.check.value}: {c.detail}" for c in results if not c.passed)
    return Conversion(
        source=source.path,
        purpose=Purpose.PRESERVATION,
        action=action,
        outcome=ConversionOutcome.SUCCESS if passed else ConversionOutcome.FAILED,
        output=extracted.ocr_pdf if passed else None,
        tool_name=tool,
        tool_version=version,
        started=started,
        ended=datetime.now(UTC),
        checks=results,
        message=(
            f"{source.name.text} made PDF/A with an OCR text layer, every check passed"
            if passed
            else f"the OCR'd PDF of {source.name.text} failed verification: {failed}"
        ),
    )


def _wanted(
    submission: Submission,
    formats: dict[str, FormatIdentification],
    policy: PolicyRegistry,
    planning: PlanningSettings,
) -> Sequence[tuple[PayloadFile, FormatPolicy, Purpose]]:
    """The conversions to run: each original with a policy, for each purpose that has an action;
    no preservation copy of a format already accepted for preservation."""
    out: list[tuple[PayloadFile, FormatPolicy, Purpose]] = []
    for f in submission.originals:
        fmt_policy = policy.get(formats[f.uuid].chosen.puid)
        if fmt_policy is None:
            continue
        for purpose in Purpose:
            if fmt_policy.action(purpose) is None:
                continue
            if purpose is Purpose.PRESERVATION and fmt_policy.accepted.get(planning.regulation, False):
                continue
            out.append((f, fmt_policy, purpose))
    return out


def derivative_name(source: FileName, extension: str) -> FileName:
    """``report.docx`` → ``report.docx.pdf``: the source's whole name stays visible, and two
    sources that differ only by extension (``a.doc``, ``a.docx``) never collide."""
    return FileName(source.raw + b"." + extension.lstrip(".").encode("ascii"))


def derivative(source: PayloadFile, conversion: Conversion) -> PayloadFile:
    """The verified output of ``conversion`` as a payload file of its own representation
    (``<source representation>-<purpose>``), linked to its source and the action that made it."""
    assert conversion.output is not None
    return PayloadFile(
        name=derivative_name(source.name, conversion.action.output_extension),
        path=conversion.output,
        digests=digest_file(conversion.output),
        representation=f"{source.representation}-{conversion.purpose.value}",
        derived_from=source.uuid,
        action=conversion.action.fingerprint(),
    )


def tool_agent(conversion: Conversion) -> Agent:
    """The program that made (or failed to make) the copy, with its version: PREMIS names it."""
    return Agent(name=conversion.tool_name, version=conversion.tool_version, type=AgentType.SOFTWARE)


def _event(
    ctx: StepContext, source: PayloadFile, conversion: Conversion, derivative: PayloadFile | None
) -> Event:
    purpose = conversion.purpose.value
    checks = "; ".join(f"{c.check.value}: {c.detail}" for c in conversion.checks)
    if derivative is not None:
        outcome, detail = Outcome.SUCCESS, f"{derivative.representation}/{derivative.name.text}; {checks}"
    else:
        stderr = f"; stderr: {conversion.stderr}" if conversion.stderr else ""
        outcome, detail = Outcome.FAILURE, f"{conversion.outcome.value}: {conversion.message}{stderr}"
    return Event(
        type=EventType.NORMALIZATION,
        outcome=outcome,
        detail=f"{purpose} copy as {conversion.action.output_puid} with {conversion.tool_name}",
        detail_code={
            "preservation": "planning.normalized.preservation",
            "access": "planning.normalized.access",
        }[purpose],
        # the action's fingerprint goes into the AIP so that a rebuilt catalog still knows which
        # policy action made the copy (kholuu migrate compares it)
        detail_params={"puid": conversion.action.output_puid, "tool": conversion.tool_name}
        | ({"action": conversion.action.fingerprint()} if derivative is not None else {}),
        outcome_detail=detail,
        agents=(tool_agent(conversion), ctx.software),
        objects=(source.uuid,) if derivative is None else (source.uuid, derivative.uuid),
        datetime=conversion.ended,
    )


def _record_failure(
    ctx: StepContext, source: PayloadFile, puid: str, policy: FormatPolicy | None, conversion: Conversion
) -> None:
    """The original stays; the operator learns why from ``kholuu job show``. An unacceptable
    format whose preservation copy failed stops the ingest."""
    record = ErrorRecord(
        code="planning.conversion_failed",
        message=conversion.message,
        path=source.name.text,
        tool=conversion.tool_name,
        stderr=conversion.stderr or None,
        params={
            "purpose": conversion.purpose.value,
            "outcome": conversion.outcome.value,
            "puid": puid,
            "target": conversion.action.output_puid,
        },
    )
    row: JobError = job_error_row(ctx.job_id, STEP, record)
    with ctx.sessions.begin() as session:
        session.add(row)
    if policy is not None and policy.unacceptable and conversion.purpose is Purpose.PRESERVATION:
        raise UnacceptableFormatError(source.name.text, puid, conversion.message)


def _characterize(ctx: StepContext, result: Normalized, made: list[PayloadFile]) -> None:
    """Derivatives are identified and validated like submitted files (their own events)."""
    only_new = replace(result.submission, payload=tuple(made))
    formats = steps.identify(ctx, only_new)
    result.formats.update(formats)
    result.characterizations.update(steps.validate_files(ctx, only_new, formats))
    result.submission = replace(result.submission, payload=tuple(result.submission.payload) + tuple(made))
