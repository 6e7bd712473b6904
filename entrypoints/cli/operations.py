"""``kholuu check --consistency``, ``kholuu backup`` and ``kholuu restore`` (docs/operations.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from entrypoints.cli.app import EXIT_FAILED, EXIT_USAGE, App, current_app, handles_errors, log_action, main
from workflows.custody.consistency import ConsistencyReport


@main.command("check")
@click.option("--consistency", is_flag=True, help="Catalog against storage, jobs, leftovers, audit log.")
@click.option("--location", default=None, help="Only this storage location (and not the data folder).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def check_command(consistency: bool, location: str | None, as_json: bool) -> None:
    """Read-only check that catalog and storage agree; every finding names its repair command.
    Exit 0 when clean, 1 with findings."""
    from workflows.custody.consistency import check_consistency

    app = current_app()
    app.json_output = as_json
    if not consistency:
        app.fail("cli.check.which", "say which check: --consistency", EXIT_USAGE)
    report = check_consistency(app.settings, app.sessions, location=location)
    if as_json:
        app.emit(_report_json(app, report))
    else:
        _echo_report(app, report)
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


def _report_json(app: App, report: ConsistencyReport) -> dict[str, Any]:
    data = report.as_dict()
    for shown, finding in zip(data["findings"], report.findings, strict=True):
        shown["text"] = app.t.text(finding.code, finding.values(), default=finding.message)
    return data


def _echo_report(app: App, report: ConsistencyReport) -> None:
    t = app.t
    where = ", ".join(report.locations)
    if report.ok:
        click.echo(t.text("consistency.clean", {"locations": where}))
        return
    click.echo(t.text("consistency.found", {"count": len(report.findings), "locations": where}))
    for f in report.findings:
        click.echo(f"  - [{f.severity.value}] {f.code}: {t.text(f.code, f.values(), default=f.message)}")
        click.echo(f"    {t.text('consistency.repair', {'repair': f.repair})}")


@main.command("backup")
@click.option("--out", "out", required=True, metavar="DIR", help="A new folder for the backup.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def backup_command(out: str, as_json: bool) -> None:
    """Online backup of the catalog, kholuu.toml and the web session key, with a manifest of
    SHA-256 digests, verified after writing. The AIPs are in the storage locations, not here."""
    from entrypoints.web.secret import SECRET_NAME
    from workflows.custody.backup import backup

    app = current_app()
    app.json_output = as_json
    app.sessions  # noqa: B018  (the data folder and its catalog must exist and be current)
    report = backup(app.settings, Path(out), secret_name=SECRET_NAME)
    manifest = report.manifest
    catalog = manifest["catalog"]
    log_action(app, "catalog.backup", str(report.folder), {
        "aips": catalog["aips"], "schema_revision": manifest["schema_revision"],
        "catalog_sha256": manifest["files"][catalog["file"]]["sha256"],
    })  # fmt: skip
    if as_json:
        app.emit(report.as_dict())
        return
    values = {
        "folder": str(report.folder),
        "files": len(manifest["files"]),
        "aips": manifest["catalog"]["aips"],
        "revision": manifest["schema_revision"],
    }
    click.echo(app.t.text("cli.backup.done", values))


@main.command("restore")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a catalog that holds tables, and the settings and key.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def restore_command(folder: Path, force: bool, as_json: bool) -> None:
    """Verify a backup, restore it into this data folder's (empty) catalog, upgrade its schema,
    then run the consistency check. Exit 1 when the check has findings."""
    from repository.settings import resolve_home
    from workflows.custody.backup import restore

    app = current_app()
    app.json_output = as_json
    home = resolve_home(app.home_option, os.environ)
    report = restore(home, folder, force=force)
    consistency = report.consistency
    assert consistency is not None
    log_action(app, "catalog.restore", str(report.folder), {
        "created_at": report.manifest.get("created_at"), "schema_from": report.schema_from,
        "schema_to": report.schema_to, "findings": len(consistency.findings),
    })  # fmt: skip
    if as_json:
        data = report.as_dict()
        data["consistency"] = _report_json(app, consistency)
        app.emit(data)
    else:
        values = {
            "folder": str(folder),
            "home": str(home),
            "created_at": report.manifest.get("created_at"),
            "schema_from": report.schema_from,
            "schema_to": report.schema_to,
        }
        click.echo(app.t.text("cli.restore.done", values))
        for name in report.kept:
            click.echo(app.t.text("cli.restore.kept", {"file": name}))
        _echo_report(app, consistency)
    if not consistency.ok:
        raise SystemExit(EXIT_FAILED)
