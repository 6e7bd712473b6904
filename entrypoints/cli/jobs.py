"""``kholuu job``: what ran and what failed, and cleaning what a failed job kept."""

from __future__ import annotations

import click

from entrypoints.cli.app import (
    current_app,
    handles_errors,
    main,
)
from entrypoints.errors import (
    EXIT_USAGE,
)
from repository.catalog import queries
from repository.catalog.models import JobStatus

# --------------------------------------------------------------------------- job


@main.group()
def job() -> None:
    """Ingest jobs: what ran, what failed and why."""


@job.command("list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def job_list(status: str | None, as_json: bool) -> None:
    """List recent jobs, newest first."""
    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        rows = queries.job_list(session, status=JobStatus(status) if status else None)
    if as_json:
        app.emit({"jobs": rows, "count": len(rows)})
        return
    for r in rows:
        tail = r["aip_id"] or (f"{r['error_code']} ({r['errors']})" if r["error_code"] else "")
        click.echo(f"{r['job_id']}  {r['status']:<11} {r['started_at']}  {r['source']}  {tail}")


@job.command("show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def job_show(job_id: str, as_json: bool) -> None:
    """Show a job: its steps, and for a failed job every error record (file, tool, exit code, stderr)."""
    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        detail = queries.job_detail(session, queries.resolve_job_id(session, job_id))
    t = app.t
    for e in detail["events"]:
        e["detail_text"] = t.event_detail(e["detail_code"], e["detail_params"], e["detail"])
    if as_json:
        app.emit(detail)
        return
    click.echo(f"{detail['job_id']}  {detail['status']}  {detail['source']}")
    if detail["aip_id"]:
        click.echo(f"  AIP: {detail['aip_id']}")
    if detail["error"]:
        err = detail["error"]
        text = t.text(err["code"], {"message": err["message"], **err["params"]}, default=err["message"])
        click.echo(f"  {t.label('error')}: {text}")
    for s in detail["steps"]:
        click.echo(f"  {s['status']:<8} {s['name']}")
    for e in detail["errors"]:
        where = f" [{e['path']}]" if e["path"] else ""
        tool = f" ({e['tool']}, exit {e['exit_code']})" if e["tool"] else ""
        click.echo(
            f"  - {e['code']}{where}{tool}: "
            + t.text(
                e["code"], {"message": e["message"], **e["params"], "path": e["path"]}, default=e["message"]
            )
        )
        if e["stderr"]:
            click.echo("    " + e["stderr"].replace("\n", "\n    "))
    package_events = [
        e for e in detail["events"] if not (len(e["objects"]) == 1 and e["objects"][0] != detail["aip_id"])
    ]
    if package_events:
        click.echo(f"  {t.label('events')}:")
    for e in package_events:  # per-file events: see --json
        click.echo(f"    {e['datetime']}  {e['type']:<30} {e['outcome']:<8} {e['detail_text']}")
    if detail["quarantine"]:
        click.echo(f"  {t.label('quarantine')}: {detail['quarantine']}")


@job.command("clean")
@click.argument("job_id")
@handles_errors
def job_clean(job_id: str) -> None:
    """Delete the quarantine copy kept for a failed or refused job."""
    import shutil

    from repository.catalog.auditlog import record_action
    from repository.catalog.models import Job

    app = current_app()
    with app.sessions.begin() as session:
        row = session.get(Job, queries.resolve_job_id(session, job_id))
        assert row is not None
        if row.status is JobStatus.RUNNING:
            app.fail(
                "cli.job.running", f"job {row.id} is still running", EXIT_USAGE, params={"job_id": row.id}
            )
        if row.quarantine_path:
            record_action(
                session, current_app().actor(), "job.clean", row.id, {"quarantine": row.quarantine_path}
            )
            shutil.rmtree(row.quarantine_path, ignore_errors=True)
            row.quarantine_path = None
    click.echo(app.t.text("cli.job.cleaned", {"job_id": job_id}))
