"""``kholuu migrate``: the holdings brought in line with the format policy in force."""

from __future__ import annotations

import sys
from typing import Any

import click

from entrypoints.cli.app import EXIT_FAILED, App, current_app, handles_errors, log_action, main
from entrypoints.cli.progress import TerminalProgress
from repository.catalog import queries


@main.command()
@click.option("--puid", default=None, metavar="PUID", help="Only files of this format (e.g. fmt/353).")
@click.option("--aip", "aip_id", default=None, metavar="ID", help="Only this AIP.")
@click.option("--dry-run", is_flag=True, help="List what would be converted and why; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def migrate(puid: str | None, aip_id: str | None, dry_run: bool, as_json: bool) -> None:
    """Make the copies the format policy now asks for (a format at risk, an action changed): each
    AIP with work gets a new version; the earlier versions stay unchanged."""
    from workflows.planning.migrate import migrate as run_migration

    app = current_app()
    app.json_output = as_json
    if aip_id is not None:
        with app.sessions() as session:
            aip_id = queries.resolve_aip_id(session, aip_id)
    show_bar = not as_json and not dry_run and sys.stderr.isatty()
    report = run_migration(
        app.settings,
        app.sessions,
        puid=puid,
        aip_id=aip_id,
        dry_run=dry_run,
        progress=TerminalProgress(sys.stderr) if show_bar else None,
    )
    data = report.as_dict()
    if not dry_run:
        keys = ("made", "failed", "versions", "aips_failed")
        log_action(app, "aip.migrate", aip_id or "", {"puid": puid} | {k: data.get(k) for k in keys})
    if as_json:
        app.emit(data)
    else:
        _print_plan(app, data["plan"], dry_run)
        if not dry_run:
            _print_results(app, data)
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


def _why(app: App, why: str) -> str:
    return app.t.text(f"cli.migrate.why.{why.replace(' ', '_')}", default=why)


def _print_plan(app: App, plan: dict[str, Any], dry_run: bool) -> None:
    t = app.t
    counts = {"files": plan["files"], "bytes": plan["bytes"], "aips": len(plan["aips"])}
    if not plan["files"]:
        click.echo(t.text("cli.migrate.nothing"))
        return
    click.echo(t.text("cli.migrate.plan_dry" if dry_run else "cli.migrate.plan", counts))
    for aip in plan["aips"]:
        click.echo(f"  {aip['aip_id']} v{aip['version']}")
        for f in aip["files"]:
            action = f["action"]
            line = t.text(
                "cli.migrate.item",
                {
                    "file": f["file"],
                    "puid": f["puid"],
                    "purpose": t.text(f"policy.purpose.{f['purpose']}", {}),
                    "tool": action["tool"],
                    "target": action["output_puid"],
                    "why": _why(app, f["why"]),
                },
            )
            click.echo(f"    {line}")
            for path in f["replaces"]:
                click.echo(f"      {t.text('cli.migrate.replaces', {'path': path})}")


def _print_results(app: App, data: dict[str, Any]) -> None:
    t = app.t
    for result in data["results"]:
        if result["version"] is not None:
            click.echo(t.text("cli.migrate.version", result))
        for made in result["made"]:
            click.echo(f"  + {made['copy']} ({made['tool']} {made['tool_version']})")
        for failed in result["failed"]:
            shown = {**failed, "purpose": t.text(f"policy.purpose.{failed['purpose']}", {})}
            click.echo(t.text("cli.migrate.failed_file", shown), err=True)
        if result["error"] is not None:
            error = result["error"]
            text = t.text(error["code"], error["params"], default=error["message"])
            click.echo(
                t.text("cli.migrate.failed_aip", {"aip_id": result["aip_id"], "error": text}), err=True
            )
    click.echo(t.text("cli.migrate.summary", data))
