"""The ingest's virus check: every file scanned with ClamAV, an event per payload file and one for
the package, and the submission refused when a virus is found or, by policy, when a file could not
be scanned whole (it then stays in quarantine).

Apart from :mod:`workflows.ingest.steps` because of what it must get right: a file ClamAV could not
read whole is never reported as clean (issue 11 item 20), and a refusal names every file and why.
"""

from __future__ import annotations

from pathlib import Path

from preservation import virus
from preservation.clamd import Clamd
from preservation.events import Agent, Event, EventType, Outcome
from preservation.package import Submission
from workflows.jobs.runner import Refusal, StepContext

DETAIL = "Virus check of every file of the submission with ClamAV"
"""The same for clamscan and clamd: the agent says which ran, with its signatures."""


def virus_check(ctx: StepContext, submission: Submission, aip_id: str) -> None:
    """Scan every file with ClamAV; refuse an infected submission (it stays in quarantine)."""
    vc = ctx.settings.virus_check
    scanner = _scanner(ctx)
    ctx.progress.start("virus check", 0)
    try:
        result = scanner.scan(submission.tree.root)
    finally:
        ctx.progress.finish()
    for f in submission.payload:
        ctx.record(_file_event(result, _tree_relative(submission, f.path), f.uuid, scanner.agent))
    outcome, outcome_detail = _package_outcome(submission, result, refuse_unscanned=vc.refuse_unscanned)
    ctx.record(
        Event(
            type=EventType.VIRUS_CHECK,
            outcome=outcome,
            detail=f"{DETAIL} ({result.scanned_files} files scanned)",
            detail_code="ingest.virus_check",
            detail_params={"files": result.scanned_files},
            outcome_detail=outcome_detail,
            agents=(scanner.agent,),
            objects=(aip_id,),
        )
    )
    if result.unscanned and vc.refuse_unscanned and not result.infected:
        raise _unscanned_refusal(result, scanner.agent)
    if result.infected:
        raise _infected_refusal(result, scanner.agent, submission)


def _scanner(ctx: StepContext) -> virus.ClamAV | Clamd:
    """The configured daemon (``[virus_check] clamd``), else ``clamscan``."""
    vc = ctx.settings.virus_check
    if vc.clamd:
        return Clamd(vc.clamd, timeout=vc.timeout_seconds, connections=vc.clamd_connections)
    database = ctx.settings.path(vc.database) if vc.database else virus.default_database_dir()
    return virus.ClamAV(
        clamscan=vc.clamscan,
        database=database,
        timeout=vc.timeout_seconds,
        max_filesize_mb=vc.max_filesize_mb,
        max_scansize_mb=vc.max_scansize_mb,
        temp_dir=ctx.work_dir / "clamav",  # removed with the job, or by recovery after a kill
    )


def _file_event(result: virus.ScanResult, rel: str, file_uuid: str, agent: Agent) -> Event:
    """One payload file's check: infected, not fully scanned (a warning, never "clean"), or clean."""
    signature = result.infected.get(rel)
    not_scanned = result.unscanned.get(rel)
    if signature:
        outcome, outcome_detail = Outcome.FAILURE, f"infected: {signature}"
    elif not_scanned:
        outcome, outcome_detail = (
            Outcome.WARNING,
            f"NOT FULLY SCANNED ({not_scanned}): {virus.unscanned_reason(not_scanned)}",
        )
    else:
        outcome, outcome_detail = Outcome.SUCCESS, "clean"
    return Event(
        type=EventType.VIRUS_CHECK,
        outcome=outcome,
        detail=DETAIL,
        outcome_detail=outcome_detail,
        detail_code="ingest.virus_check_file",
        agents=(agent,),
        objects=(file_uuid,),
    )


def _package_outcome(
    submission: Submission, result: virus.ScanResult, *, refuse_unscanned: bool
) -> tuple[Outcome, str]:
    """The package event's outcome and its note: every infected and unscanned file named."""
    infected = result.infected
    unscanned_text = _unscanned_text(result)
    if infected:
        detail = "infected: " + "; ".join(f"{p}: {s}" for p, s in sorted(infected.items()))
        if unscanned_text:
            detail += f"\nNOT FULLY SCANNED: {unscanned_text}"
        return Outcome.FAILURE, detail
    if result.unscanned:
        # never "no virus found" when some content was not read (issue 11 item 20)
        return Outcome.FAILURE if refuse_unscanned else Outcome.WARNING, (
            f"NOT FULLY SCANNED: {len(result.unscanned)} file(s) could not be scanned whole, so the "
            f"submission is not known to be free of viruses: {unscanned_text}"
        )
    clean_meta = len(submission.metadata) - sum(
        1 for m in submission.metadata if _tree_relative(submission, m.path) in infected
    )
    return Outcome.SUCCESS, (
        f"no virus found in {len(submission.payload)} payload and {clean_meta} metadata files"
    )


def _unscanned_text(result: virus.ScanResult) -> str:
    return "; ".join(f"{p}: {virus.unscanned_reason(s)} ({s})" for p, s in sorted(result.unscanned.items()))


def _unscanned_refusal(result: virus.ScanResult, agent: Agent) -> Refusal:
    return Refusal(
        f"{len(result.unscanned)} file(s) could not be scanned whole and the policy refuses "
        f"unscanned files: {_unscanned_text(result)}",
        code="virus.unscanned",
        path=sorted(result.unscanned)[0],
        params={
            "count": len(result.unscanned),
            "infected": [
                {
                    "code": _unscanned_code(s),
                    "path": p,
                    "message": f"{p}: {virus.unscanned_reason(s)} ({s})",
                    "signature": s,
                    "reason": virus.unscanned_reason(s),
                }
                for p, s in sorted(result.unscanned.items())
            ],
            "tool": agent.identifier,
        },
    )


def _infected_refusal(result: virus.ScanResult, agent: Agent, submission: Submission) -> Refusal:
    infected = result.infected
    by_name = {f.name.text: f.uuid for f in submission.payload}
    return Refusal(
        f"virus found in {len(infected)} file(s): "
        + "; ".join(f"{p} ({s})" for p, s in sorted(infected.items())),
        code="virus.infected",
        path=sorted(infected)[0],
        params={
            "count": len(infected),
            "infected": [
                {
                    "code": "virus.infected_file",
                    "path": p,
                    "signature": s,
                    "message": f"{p}: {s}",
                    "file_uuid": by_name.get(p),
                }
                for p, s in sorted(infected.items())
            ],
            "tool": agent.identifier,
            "exit_code": result.run.exit_code,
            "stderr": result.run.stderr_excerpt,
        },
    )


def _unscanned_code(signature: str) -> str:
    """The error code of one file ClamAV could not scan whole, by the reason it gives."""
    code = "virus.unscanned_file"
    if signature.startswith("Heuristics.Limits.Exceeded.MaxRecursion"):
        code = "virus.unscanned_nested"
    elif signature.startswith("Heuristics.Encrypted"):
        code = "virus.unscanned_encrypted"
    elif signature.startswith(
        ("Heuristics.Limits.Exceeded.MaxFileSize", "Heuristics.Limits.Exceeded.MaxScanSize")
    ):
        code = "virus.unscanned_size"
    return code


def _tree_relative(submission: Submission, path: Path) -> str:
    return path.relative_to(submission.tree.root).as_posix()
