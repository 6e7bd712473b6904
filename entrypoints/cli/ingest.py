"""``kholuu ingest``: one submission, or a legacy export converted to one SIP per hồ sơ."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from entrypoints.cli.app import (
    App,
    current_app,
    handles_errors,
    log_action,
    main,
)
from entrypoints.cli.progress import TerminalProgress
from entrypoints.errors import (
    EXIT_FAILED,
    EXIT_REFUSED,
    EXIT_USAGE,
    exit_code,
)
from preservation.errors import PreservationError
from repository.catalog.models import JobStatus

if TYPE_CHECKING:
    from workflows.ingest.legacy_ingest import ConvertedExport, DossierIngest
    from workflows.ingest.pipeline import IngestOptions

# --------------------------------------------------------------------------- ingest


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--allow-duplicate", is_flag=True, help="Store a payload even if it is already stored.")
@click.option(
    "--agency",
    "organ_id",
    default="",
    metavar="ORGAN_ID",
    help="Mã định danh of the sending agency (QĐ 20/2020), to file the hồ sơ under it.",
)
@click.option(
    "--transfer",
    "transfer_id",
    default="",
    metavar="ID",
    help="The received transfer (kholuu transfer receive) this package is: linked to the AIP once stored.",
)
@click.option(
    "--supersedes",
    "supersedes",
    default="",
    metavar="AIP_ID",
    help="The AIP holding the hồ sơ this package re-submits: the new AIP replaces that record and "
    "takes over its restrictions and access decisions (without it a held hồ sơ is refused).",
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="On the job queue ([jobs] dispatch): print the job's id and return without waiting for a worker.",
)
@handles_errors
def ingest(
    path: Path,
    as_json: bool,
    allow_duplicate: bool,
    organ_id: str,
    transfer_id: str,
    supersedes: str,
    no_wait: bool,
) -> None:
    """Ingest the submission at PATH (folder, BagIt bag, E-ARK SIP, TT 05 SIP_hoso/SIP_tailieu;
    zip, tar, tar.gz). A folder holding an NĐ 30/2020 XML export or a mục lục spreadsheet is
    converted to one TT 05 SIP_hoso per hồ sơ, and each is ingested."""
    from workflows.ingest.legacy import detect
    from workflows.ingest.preflight import checked_options
    from workflows.jobs.queue import uses_queue

    app = current_app()
    app.json_output = as_json
    if not path.exists() and not path.is_symlink():
        app.fail(
            "package.not_found",
            f"submission not found: {path}",
            EXIT_USAGE,
            params={"path": str(path)},
            path=str(path),
        )
    with app.sessions() as session:  # before anything is read: a typo must not cost an ingest
        options = checked_options(
            session,
            allow_duplicate=allow_duplicate,
            organ_id=organ_id,
            transfer_id=transfer_id,
            supersedes=supersedes,
        )
    if detect(path) is not None:
        _ingest_legacy(app, path, options)
        return
    if uses_queue(app.settings) and (no_wait or _workers_alive(app)):
        _queue_ingest(app, path, options, wait=not no_wait)
        return
    result = _run_ingest(app, path, options)
    log_action(app, "ingest.run", result.aip_id or str(path), _logged(path, options, result))
    if result.status is JobStatus.COMPLETED:
        payload = _ingest_payload(result)
        if options.transfer_id:
            payload["transfer"] = options.transfer_id
        if as_json:
            app.emit(payload)
        else:
            _echo_stored(app, result)
        return
    _report_failure(app, result)


def _workers_alive(app: App) -> bool:
    """Whether a worker will take the job; else the ingest runs here, said on stderr, rather than
    wait for a worker that is not there (the queue's jobs are the same functions)."""
    from workflows.jobs.queue import live_workers

    with app.sessions() as session:
        if live_workers(session, app.settings):
            return True
    click.echo(app.t.text("cli.ingest.no_worker"), err=True)
    return False


def _queue_ingest(app: App, path: Path, options: IngestOptions, *, wait: bool) -> None:
    """Submit the ingest to the job queue (a worker runs it) and, unless told not to, wait for it
    with the bar of its steps; the outcome is the job's, as ``kholuu job show`` has it."""
    from dataclasses import asdict

    from workflows.jobs.envelope import Workflow
    from workflows.jobs.queue import Submission, enqueue, ingest_priority, live_workers, source_size, wait_for

    source = path.absolute()
    priority, queue = ingest_priority(source_size(source), app.settings)
    args = {"source": str(source), "options": asdict(options)}
    submission = Submission(
        Workflow.INGEST, args, source=str(source), source_name=source.name, priority=priority, queue=queue
    )
    with app.sessions.begin() as session:
        job_id = enqueue(session, app.settings, submission)
    logged = {"path": str(source), "status": "queued", "job_id": job_id, "priority": priority, "queue": queue}
    log_action(app, "ingest.run", str(path), logged)
    if not wait:
        with app.sessions() as session:
            if not live_workers(session, app.settings):
                click.echo(app.t.text("cli.ingest.queued_no_worker"), err=True)
        if app.json_output:
            app.emit({"job_id": job_id, "status": "queued", "priority": priority, "queue": queue})
        else:
            click.echo(app.t.text("cli.ingest.queued", {"job_id": job_id}))
        return
    latest = wait_for(app.sessions, job_id, progress=_progress(app))
    assert latest is not None
    payload = {
        "job_id": job_id,
        "attempt_job_id": latest.id,
        "attempt": latest.attempt,
        "status": latest.status.value,
        "aip_id": latest.aip_id if latest.status is JobStatus.COMPLETED else None,
    }
    if latest.status is JobStatus.COMPLETED:
        if app.json_output:
            app.emit(payload)
        else:
            click.echo(app.t.text("cli.ingest.stored_by_worker", {"aip_id": latest.aip_id, "job_id": job_id}))
        return
    code = latest.error_code or "internal.error"
    params = dict(latest.error_params or {})
    if code == "internal.error":
        params.setdefault("message", latest.error_message or "")
    app.fail(
        code,
        latest.error_message or code,
        EXIT_REFUSED if latest.status is JobStatus.REFUSED else EXIT_FAILED,
        params=params,
        extra=payload,
    )


def _logged(path: Path, options: Any, result: Any) -> dict[str, Any]:
    """What the audit log keeps of an ingest: what was submitted, under which transfer, the outcome."""
    return {
        "path": str(path),
        "status": result.status.value,
        "job_id": result.job_id,
        "aip_id": result.aip_id,
        "agency": options.organ_id or None,
        "transfer": options.transfer_id or None,
        "supersedes": options.supersedes or None,
        "error": result.error.code if result.error else None,
    }


def _run_ingest(app: App, path: Path, options: Any) -> Any:
    from workflows.ingest.pipeline import ingest as run_ingest

    return run_ingest(app.settings, app.sessions, path, options=options, progress=_progress(app))


def _progress(app: App) -> TerminalProgress | None:
    """A bar on a terminal; nothing with ``--json`` or when stderr is a file or a pipe."""
    show_bar = not app.json_output and sys.stderr.isatty()
    return TerminalProgress(sys.stderr) if show_bar else None


def _ingest_payload(result: Any) -> dict[str, Any]:
    return {
        "aip_id": result.aip_id,
        "status": "degraded" if result.pending else "stored",
        "job_id": result.job_id,
        "files": result.files,
        "bytes": result.bytes,
        "locations": result.locations,
        "pending": result.pending,
        "derivatives": result.derivatives,
        "conversions_failed": [
            {
                "file": c.source.name,
                "purpose": c.purpose.value,
                "outcome": c.outcome.value,
                "tool": c.tool_name,
                "message": c.message,
                "stderr": c.stderr,
            }
            for c in result.failed_conversions
        ],
        "events": [_event_json(e) for e in result.events],
    }


def _echo_stored(app: App, result: Any) -> None:
    t = app.t
    click.echo(
        t.text("cli.ingest.stored", {"aip_id": result.aip_id, "files": result.files, "bytes": result.bytes})
    )
    for name, obj in result.locations.items():
        click.echo(f"  {t.label('location')} {name}: {obj}")
    for name, reason in result.pending.items():
        click.echo(t.text("cli.ingest.pending", {"location": name, "reason": reason}), err=True)
    if result.derivatives:
        click.echo(t.text("cli.ingest.derivatives", {"count": result.derivatives}))
    for c in result.failed_conversions:
        why = t.text(c.message_code, c.message_params) if c.message_code else c.message
        click.echo(
            t.text(
                "cli.ingest.conversion_failed",
                {"purpose": t.text(f"policy.purpose.{c.purpose.value}", {}), "why": why},
            ),
            err=True,
        )


def _ingest_legacy(app: App, path: Path, options: IngestOptions) -> None:
    """Run :func:`workflows.ingest.legacy_ingest.ingest_legacy` and render it: as it goes in text
    (every unmapped field, then each hồ sơ), one object at the end with ``--json``."""
    from workflows.ingest.legacy_ingest import ingest_legacy

    observer = None if app.json_output else _LegacyText(app)
    try:
        outcome = ingest_legacy(
            app.settings, app.sessions, path, options, observer=observer, progress=_progress(app)
        )
    except PreservationError as exc:
        if not app.json_output and exc.code.startswith("conversion."):
            _echo_conversion_problems(app, exc)
        app.fail_with(exc)
    unmapped = [
        {"where": u.where, "field": u.field, "value": u.value, "reason": u.reason}
        for u in outcome.export.unmapped
    ]
    results = [_dossier_json(app, d) for d in outcome.dossiers]
    for one in outcome.dossiers:
        params = _logged(path, options, one.result) | {"dossier": one.dossier, "legacy": outcome.export.kind}
        log_action(app, "ingest.run", one.result.aip_id or one.dossier, params)
    if outcome.failed:
        app.fail(
            "conversion.dossiers_failed",
            f"{len(outcome.failed)} of {len(results)} hồ sơ were not stored",
            EXIT_REFUSED,
            params={"failed": len(outcome.failed), "total": len(results)},
            extra={"legacy": outcome.export.kind, "unmapped": unmapped, "dossiers": results},
        )
    if app.json_output:
        app.emit(
            {
                "legacy": outcome.export.kind,
                "metadata_file": outcome.export.metadata_file,
                "unmapped": unmapped,
                "dossiers": results,
            }
        )


def _echo_conversion_problems(app: App, exc: PreservationError) -> None:
    """Each hồ sơ's problem under the TT 05 rules (``conversion.invalid``), before the error."""
    for p in exc.params.get("problems", []):
        text = app.t.text(p["code"], {**p, "path": p["path"]}, default=p["message"])
        click.echo(f"  - [{p.get('dossier', '')}] {p['code']} {p['path']}: {text}", err=True)


def _dossier_json(app: App, one: DossierIngest) -> dict[str, Any]:
    result = one.result
    if one.stored:
        return {"dossier": one.dossier, **_ingest_payload(result)}
    errors = [
        {
            "code": r.code,
            "path": r.path,
            "message": _record_text(app, r),
        }
        for r in (result.error.records if result.error else [])
    ]
    return {"dossier": one.dossier, "status": result.status.value, "job_id": result.job_id, "errors": errors}


class _LegacyText:
    """The text rendering of a legacy ingest as it goes: the conversion and its unmapped fields
    on stdout, each hồ sơ stored on stdout, each one not stored on stderr with its errors."""

    def __init__(self, app: App) -> None:
        self.app = app

    def converted(self, export: ConvertedExport) -> None:
        t = self.app.t
        params = {"kind": export.kind, "file": export.metadata_file, "count": len(export.dossier_codes)}
        click.echo(t.text("cli.ingest.legacy_text.converted", params))
        if export.unmapped:
            click.echo(t.text("cli.ingest.legacy_text.unmapped", {"count": len(export.unmapped)}))
            for u in export.unmapped:
                why = t.text(f"legacy.reason.{u.reason}", default=u.reason)
                click.echo(f"  - {u.where}: {u.field} = {u.value!r} ({why})")

    def ingested(self, one: DossierIngest) -> None:
        result = one.result
        if one.stored:
            click.echo(f"[{one.dossier}]")
            _echo_stored(self.app, result)
            return
        step = result.error.step if result.error else ""
        text = self.app.t.text(f"cli.ingest.{result.status.value}", {"job_id": result.job_id, "step": step})
        click.echo(f"[{one.dossier}] " + text, err=True)
        for e in _dossier_json(self.app, one)["errors"]:
            click.echo(f"  - {e['code']} [{e['path'] or ''}]: {e['message']}", err=True)


def _event_json(e: Any) -> dict[str, Any]:
    return {
        "identifier": e.identifier,
        "type": e.type.value,
        "datetime": e.datetime.isoformat(),
        "outcome": e.outcome.value,
        "detail": e.detail,
        "outcome_detail": e.outcome_detail,
        "agents": [a.identifier for a in e.agents],
        "objects": list(e.objects),
    }


def _record_text(app: App, record: Any) -> str:
    """An error record of a failed step, in the user's language (its English text when the code
    has none)."""
    params = {"message": record.message, **record.params, "path": record.path}
    return app.t.text(record.code, params, default=record.message)


def _report_failure(app: App, result: Any) -> NoReturn:
    from workflows.jobs.runner import StepFailed

    failure: StepFailed = result.error
    errors: list[dict[str, Any]] = [
        {
            "step": failure.step,
            "code": r.code,
            "message": _record_text(app, r),
            "path": r.path,
            "tool": r.tool,
            "exit_code": r.exit_code,
            "stderr": r.stderr,
        }
        for r in failure.records
    ]
    extra = {
        "job_id": result.job_id,
        "status": result.status.value,
        "step": failure.step,
        "quarantine": result.quarantine,
        "errors": errors,
    }
    if not app.json_output:
        t = app.t
        click.echo(
            t.text(f"cli.ingest.{result.status.value}", {"job_id": result.job_id, "step": failure.step}),
            err=True,
        )
        for e in errors:
            where = f" [{e['path']}]" if e["path"] else ""
            tool = f" ({e['tool']}, exit {e['exit_code']})" if e["tool"] else ""
            click.echo(f"  - {e['code']}{where}{tool}: {e['message']}", err=True)
            if e["stderr"]:
                click.echo("    " + str(e["stderr"]).replace("\n", "\n    "), err=True)
        if result.quarantine:
            click.echo(t.text("cli.ingest.kept_in_quarantine", {"path": result.quarantine}), err=True)
    app.fail(
        failure.code,
        str(failure.cause),
        exit_code(failure),
        params=failure.params,
        path=failure.path,
        extra=extra,
    )
