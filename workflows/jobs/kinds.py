"""The runners of the queued job kinds: the same workflow functions the CLI calls, given the job's id.

* ``ingest``: :func:`workflows.ingest.pipeline.ingest` of ``args["source"]`` (a path every worker
  sees: the transfer folder or the data folder on shared storage), then the browser upload it
  came from is removed (``args["upload_id"]``) once no attempt will read it again.
* ``export`` (a reader's DIP): :func:`workflows.access.request_build.build` of
  ``args["request_id"]``, signed by the staff member who approved it; staff issue its link.
* ``audit``: a fixity audit batch, :func:`workflows.custody.audit.run_audit` (its own job rows).
* ``migration``: :func:`workflows.planning.migrate.migrate` (normalization of stored AIPs under the
  policy, one job row per AIP), of one AIP or one format when ``args`` names them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Actor, Channel, Role
from repository.settings import Settings
from workflows.jobs.envelope import Workflow
from workflows.jobs.outcome import Kind, Outcome, retryable
from workflows.jobs.runner import Progress


def run_ingest(
    settings: Settings,
    sessions: sessionmaker[Session],
    job_id: str,
    args: Mapping[str, Any],
    progress: Progress,
) -> Outcome:
    from workflows.ingest.pipeline import IngestOptions, ingest

    options = IngestOptions(**dict(args.get("options") or {}))
    result = ingest(
        settings, sessions, Path(args["source"]), options=options, progress=progress, job_id=job_id
    )
    again = result.error is not None and retryable(result.error)
    if args.get("upload_id") and not again:  # no attempt will read the browser's upload again
        from workflows.ingest.uploads import discard_upload

        discard_upload(settings, str(args["upload_id"]))
    return Outcome(result.status, retryable=again, result={"aip_id": result.aip_id})


def run_dip_build(
    settings: Settings,
    sessions: sessionmaker[Session],
    job_id: str,
    args: Mapping[str, Any],
    progress: Progress,
) -> Outcome:
    from repository.catalog.models import JobStatus
    from workflows.access.request_build import build

    actor = Actor(
        name=str(args["actor"]),
        role=Role(str(args["role"])),
        channel=Channel(str(args.get("channel", "web"))),
    )
    try:
        built = build(settings, sessions, str(args["request_id"]), actor, job_id=job_id)
    except BaseException as exc:
        return Outcome(JobStatus.FAILED, retryable=retryable(exc))
    return Outcome(JobStatus.COMPLETED, result={"request_id": built.request_id, "bytes": built.bytes})


def run_audit_batch(
    settings: Settings,
    sessions: sessionmaker[Session],
    job_id: str,
    args: Mapping[str, Any],
    progress: Progress,
) -> Outcome:
    from repository.catalog.models import JobStatus
    from workflows.custody.alerts import send_alerts
    from workflows.custody.audit import AuditOptions, run_audit

    gap = args.get("gap_seconds")
    report = run_audit(
        settings,
        sessions,
        AuditOptions(
            mode=str(args.get("mode", "due")),
            location=args.get("location"),
            limit=args.get("limit") or None,
            budget_bytes=args.get("budget_bytes") or None,
            trigger=str(args.get("trigger", "queue")),
            skip_if_run_within=timedelta(seconds=float(gap)) if gap else None,
        ),
    )
    if report.copies:
        send_alerts(settings, sessions, report)
    return Outcome(JobStatus.COMPLETED, result=report.as_dict())


def run_migration(
    settings: Settings,
    sessions: sessionmaker[Session],
    job_id: str,
    args: Mapping[str, Any],
    progress: Progress,
) -> Outcome:
    from repository.catalog.models import JobStatus
    from workflows.planning.migrate import migrate

    report = migrate(settings, sessions, puid=args.get("puid"), aip_id=args.get("aip_id"), progress=progress)
    failed = [a.aip_id for a in report.aips if a.status == "failed"]
    status = JobStatus.FAILED if failed else JobStatus.COMPLETED
    return Outcome(status, result={"aips": len(report.aips), "failed": failed})


RUNNERS: dict[Workflow, Kind] = {
    Workflow.INGEST: Kind(run_ingest),
    Workflow.EXPORT: Kind(run_dip_build),
    Workflow.AUDIT: Kind(run_audit_batch, own_row=False),
    Workflow.MIGRATION: Kind(run_migration, own_row=False),
}
"""Each queued kind's runner; a new kind is one function and one line here."""

__all__ = ["RUNNERS", "run_audit_batch", "run_dip_build", "run_ingest", "run_migration"]
