"""``kholuu job``: what ran and what failed, and cleaning what a failed job kept."""

from __future__ import annotations

import click

from entrypoints.cli.app import (
    current_app,
    handles_errors,
    log_action,
    main,
)
from entrypoints.errors import (
    EXIT_USAGE,
)
from repository.catalog import queries
from repository.catalog.models import JobStatus
from repository.catalog.queries import NotFoundError
from repository.settings import Settings

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
    """Delete the quarantine copy kept for a failed or refused job, and whatever else the job (or a
    leftover folder of that name) left: a dead running job is rolled back, its staging deposits,
    working folder and lock are removed (``kholuu check --consistency`` names this repair)."""
    import shutil

    from repository.catalog.auditlog import record_action
    from repository.catalog.models import Job
    from workflows.jobs.recovery import clean_leftovers, is_dead

    app = current_app()
    with app.sessions() as session:
        try:
            job_id = queries.resolve_job_id(session, job_id)
        except NotFoundError:
            if not _leftover_exists(app.settings, job_id):
                raise
    logged = False
    with app.sessions.begin() as session:
        row = session.get(Job, job_id)
        if row is not None and row.status is JobStatus.RUNNING:
            if not is_dead(app.settings.work_dir / f"{row.id}.lock"):
                app.fail(
                    "cli.job.running", f"job {row.id} is still running", EXIT_USAGE, params={"job_id": row.id}
                )
        elif row is not None and row.quarantine_path:
            record_action(
                session, current_app().actor(), "job.clean", row.id, {"quarantine": row.quarantine_path}
            )
            shutil.rmtree(row.quarantine_path, ignore_errors=True)
            row.quarantine_path = None
            logged = True
    if not clean_leftovers(app.settings, app.sessions, job_id):
        app.fail("cli.job.running", f"job {job_id} is still running", EXIT_USAGE, params={"job_id": job_id})
    if not logged:  # a dead job rolled back, or leftovers removed: an action on the holdings' storage
        log_action(app, "job.clean", job_id, {"leftovers": True})
    click.echo(app.t.text("cli.job.cleaned", {"job_id": job_id}))


def _leftover_exists(settings: Settings, name: str) -> bool:
    """A folder or lock of that name in the working or quarantine folder (no job row)."""
    if "/" in name or name in ("", ".", ".."):
        return False
    work, quarantine = settings.work_dir, settings.quarantine_dir
    return any(p.exists() for p in (work / name, work / f"{name}.lock", quarantine / name)) or (
        _deposit_exists(settings, name)
    )


def _deposit_exists(settings: Settings, name: str) -> bool:
    from repository.storage.backend import join_key
    from repository.storage.locations import open_locations
    from repository.storage.ocfl import DEPOSIT_PREFIX

    for loc in open_locations(settings):
        if next(iter(loc.backend.iter_keys(join_key(DEPOSIT_PREFIX, name))), None) is not None:
            return True
    return False
