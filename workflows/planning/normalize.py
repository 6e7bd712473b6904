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

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
from preservation.planning.model import Conversion, ConversionOutcome, FormatPolicy, Purpose
from preservation.planning.policy import PolicyRegistry
from repository.catalog.models import JobError
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
) -> Normalized:
    """Make, verify and add the derivatives the policy asks for (see the module docstring)."""
    result = Normalized(submission, dict(formats), dict(characterizations))
    planning = ctx.settings.planning
    if not planning.normalize:
        return result
    policy = load_policy(ctx.settings)
    engine = get_engine(ctx.settings.identification.engine)

    def identify(path: Path) -> str | None:
        return engine.identify([path])[path].chosen.puid

    wanted = list(_wanted(submission, formats, policy, planning.regulation))
    ctx.progress.start(STEP, len(wanted))
    made: list[PayloadFile] = []
    preserved_as: dict[str, str] = {}  # source uuid -> PUID of its verified preservation copy
    for source, fmt_policy, purpose in wanted:
        out_dir = ctx.work_dir / "derivatives" / source.uuid / purpose.value
        action = fmt_policy.action(purpose)
        assert action is not None  # _wanted yields only purposes with an action
        if purpose is Purpose.ACCESS and preserved_as.get(source.uuid) == action.output_puid:
            # The preservation copy already is what readers get: one file serves both.
            ctx.progress.advance(source.name.text)
            continue
        conversion = convert(source.path, action, purpose, out_dir, identify=identify)
        result.conversions.append(conversion)
        derivative = _derivative(source, conversion) if conversion.output is not None else None
        ctx.record(_event(ctx, source, conversion, derivative))
        if derivative is not None:
            made.append(derivative)
            if purpose is Purpose.PRESERVATION:
                preserved_as[source.uuid] = action.output_puid
        else:
            _record_failure(ctx, source, fmt_policy, conversion)
        ctx.progress.advance(source.name.text)
    ctx.progress.finish()
    if made:
        _characterize(ctx, result, made)
    return result


def _wanted(
    submission: Submission,
    formats: dict[str, FormatIdentification],
    policy: PolicyRegistry,
    regulation: str,
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
            if purpose is Purpose.PRESERVATION and fmt_policy.accepted.get(regulation, False):
                continue
            out.append((f, fmt_policy, purpose))
    return out


def derivative_name(source: FileName, extension: str) -> FileName:
    """``report.docx`` → ``report.docx.pdf``: the source's whole name stays visible, and two
    sources that differ only by extension (``a.doc``, ``a.docx``) never collide."""
    return FileName(source.raw + b"." + extension.lstrip(".").encode("ascii"))


def _derivative(source: PayloadFile, conversion: Conversion) -> PayloadFile:
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
        detail_code=f"planning.normalized.{purpose}",
        detail_params={"puid": conversion.action.output_puid, "tool": conversion.tool_name},
        outcome_detail=detail,
        agents=(tool_agent(conversion), ctx.software),
        objects=(source.uuid,) if derivative is None else (source.uuid, derivative.uuid),
        datetime=conversion.ended,
    )


def _record_failure(
    ctx: StepContext, source: PayloadFile, policy: FormatPolicy, conversion: Conversion
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
            "puid": policy.puid,
            "target": conversion.action.output_puid,
        },
    )
    row: JobError = job_error_row(ctx.job_id, STEP, record)
    with ctx.sessions.begin() as session:
        session.add(row)
    if policy.unacceptable and conversion.purpose is Purpose.PRESERVATION:
        raise UnacceptableFormatError(source.name.text, policy.puid, conversion.message)


def _characterize(ctx: StepContext, result: Normalized, made: list[PayloadFile]) -> None:
    """Derivatives are identified and validated like submitted files (their own events)."""
    only_new = replace(result.submission, payload=tuple(made))
    formats = steps.identify(ctx, only_new)
    result.formats.update(formats)
    result.characterizations.update(steps.validate_files(ctx, only_new, formats))
    result.submission = replace(result.submission, payload=tuple(result.submission.payload) + tuple(made))
