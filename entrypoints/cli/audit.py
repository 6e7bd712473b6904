"""``kholuu audit``, ``incident``, ``scheduler`` and ``report``: fixity, proven again and again."""

from __future__ import annotations

import gc
from datetime import datetime
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import click

from entrypoints.cli.app import (
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    current_app,
    handles_errors,
    main,
)
from repository.catalog.db import upgrade

# --------------------------------------------------------------------------- audit


@main.command()
@click.option("--all", "mode", flag_value="all", help="Every stored copy.")
@click.option(
    "--due", "mode", flag_value="due", default=True, help="Copies not checked within the cycle (default)."
)
@click.option("--location", default=None, help="Only this storage location.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N copies.")
@click.option(
    "--budget-gb", type=click.FloatRange(min=0.001), default=None, help="Stop after about G GB read."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def audit(mode: str, location: str | None, limit: int | None, budget_gb: float | None, as_json: bool) -> None:
    """Fixity audit: re-read stored copies, find corrupt, missing and unexpected files, repair them
    from a good copy, open an incident when there is none."""
    from repository.catalog.auditlog import record_action
    from workflows.custody.alerts import send_alerts
    from workflows.custody.audit import AuditOptions, run_audit

    app = current_app()
    app.json_output = as_json
    if limit is not None and budget_gb is not None:
        app.fail("cli.audit.limit_or_budget", "give --limit or --budget-gb, not both", EXIT_USAGE)
    options = AuditOptions(
        mode=mode,
        location=location,
        limit=limit,
        budget_bytes=int(budget_gb * 1e9) if budget_gb else None,
    )
    with app.sessions.begin() as session:  # before the run, so the anchor it writes holds this row
        params = {"mode": mode, "location": location, "limit": limit, "budget_gb": budget_gb}
        record_action(session, current_app().actor(), "audit.run", location or "", params)
    # What is alive now is the program itself (modules, mappers): the garbage collector need not scan
    # it again in each of the hundreds of collections an audit of thousands of files triggers (about
    # a tenth of the CPU of a small-file audit, issue 14); unfrozen after, for an in-process caller.
    gc.freeze()
    try:
        report = run_audit(app.settings, app.sessions, options)
    finally:
        gc.unfreeze()
    alert = send_alerts(app.settings, app.sessions, report)
    data = report.as_dict() | {"alert": alert}
    if as_json:
        app.emit(data)
    else:
        t = app.t
        click.echo(t.text("cli.audit.summary", data))
        for copy in report.copies:
            click.echo(f"  {copy.aip_id} v{copy.version} @ {copy.location}: {copy.outcome}")
            for p in copy.as_dict()["problems"]:
                source = f" <- {p['repaired_from']}" if p.get("repaired_from") else ""
                click.echo(f"    - {p['kind']} {p['path']}: {p.get('repair', '')}{source}")
        for name in report.busy:
            click.echo(t.text("cli.audit.busy", {"location": name}), err=True)
        for stray in report.unregistered:
            click.echo(t.text("audit.unregistered_object", stray.as_dict()), err=True)
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


@main.group()
def incident() -> None:
    """Damage with no good copy left: list, acknowledge."""


@incident.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also acknowledged incidents.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def incident_list(show_all: bool, as_json: bool) -> None:
    """Open incidents (and with --all the acknowledged ones), oldest first."""
    from sqlalchemy import select

    from repository.catalog.models import Incident
    from workflows.custody.audit import incident_dict

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        query = select(Incident).order_by(Incident.id)
        if not show_all:
            query = query.where(Incident.status == "open")
        rows = [incident_dict(i) for i in session.scalars(query)]
    if as_json:
        app.emit({"incidents": rows, "open": sum(1 for r in rows if r["status"] == "open")})
        return
    if not rows:
        click.echo(app.t.text("cli.incident.none"))
    for r in rows:
        who = f" ({r['acknowledged_by']}: {r['note']})" if r["acknowledged_by"] else ""
        click.echo(f"#{r['id']} {r['status']:<12} {r['opened_at']} {r['aip_id']} @ {r['location']}: "
                   f"{r['kind']} {r['path']}{who}")  # fmt: skip


@incident.command("ack")
@click.argument("incident_id", type=int)
@click.option("--by", "by", default=None, help="Who has looked at it (default: the OS user).")
@click.option("--note", default="", help="What was found or decided.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def incident_ack(incident_id: int, by: str | None, note: str, as_json: bool) -> None:
    """Acknowledge an incident: it stays in the record, no longer open."""
    from workflows.custody.audit import acknowledge_incident

    app = current_app()
    app.json_output = as_json
    try:
        row = acknowledge_incident(app.sessions, incident_id, actor=current_app().actor(by), note=note)
    except LookupError:
        app.fail("catalog.not_found", f"no incident {incident_id}", EXIT_NOT_FOUND,
                 params={"kind": "incident", "id": incident_id})  # fmt: skip
    if as_json:
        app.emit(row)
    else:
        click.echo(app.t.text("cli.incident.acknowledged", row))


@main.command()
@click.option(
    "--run-for", type=float, default=None, help="Stop after this many seconds (tests, cron-driven sites)."
)
@handles_errors
def scheduler(run_for: float | None) -> None:
    """Run the audit schedules of [[audit.schedules]] until stopped (Ctrl-C / SIGTERM)."""
    import signal
    import threading

    from workflows.jobs.scheduler import start_in_background

    app = current_app()
    upgrade(app.engine)
    sched, jobs = start_in_background(app.settings)
    click.echo(app.t.text("cli.scheduler.started", {"jobs": ", ".join(jobs) or "-"}), err=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait(run_for)
    except KeyboardInterrupt:
        pass
    finally:
        sched.shutdown(wait=True)


# --------------------------------------------------------------------------- reports


@main.group()
def report() -> None:
    """Reports for auditors."""


@report.command("fixity")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "csv", "json", "pdf"]), default="html", show_default=True
)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (audit time zone)."
)
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Day after the last (default: now)."
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (where, digest).")
@handles_errors
def report_fixity(fmt: str, since: datetime, until: datetime | None, out: Path, as_json: bool) -> None:
    """Fixity report: what was checked in the period, % of holdings within the cycle, copies and
    where, every failure and its repair, open incidents, a plot; it states its own digest."""
    from entrypoints.reports import ReportFormat, render
    from workflows.custody.fixity_data import ReportPeriodError
    from workflows.custody.fixity_report import fixity_report_for, report_now, report_period

    app = current_app()
    app.json_output = as_json
    zone = ZoneInfo(app.settings.audit.timezone)
    now = report_now()  # to the second, rounded up
    try:
        start, end = report_period(since.date(), until.date() if until else None, tz=zone, now=now)
        if end <= start:
            app.fail(
                "cli.report.empty_period",
                f"--since {start.date()} is not before the end of the period ({end.date()})",
                EXIT_USAGE,
                params={"since": start.date().isoformat(), "until": end.date().isoformat()},
            )
        result = fixity_report_for(app.settings, app.sessions, since=start, until=end, generated_at=now)
    except ReportPeriodError as exc:  # the reader's mistake, not a failure
        app.fail(exc.code, str(exc), EXIT_USAGE, params=exc.params)
    render(result, cast(ReportFormat, fmt), out, language=app.t.language)
    if as_json:
        app.emit({"path": str(out), "format": fmt, "digest": result.digest})
    else:
        click.echo(app.t.text("cli.report.done", {"path": out, "digest": result.digest}))
