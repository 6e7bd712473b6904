"""``kholuu aip``: list, show, verify, fetch and add metadata to stored AIPs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from entrypoints.cli.app import (
    current_app,
    handles_errors,
    log_action,
    main,
)
from entrypoints.errors import (
    EXIT_FAILED,
)
from repository.catalog import queries
from repository.i18n import UnfilledPlaceholder

# --------------------------------------------------------------------------- aip


@main.group()
def aip() -> None:
    """Archival packages: list, show, verify, fetch."""


@aip.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_list(as_json: bool) -> None:
    """List the stored AIPs."""
    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        rows = queries.aip_list(session)
    if as_json:
        app.emit({"aips": rows, "count": len(rows)})
        return
    t = app.t
    if not rows:
        click.echo(t.text("cli.aip.none"))
    for r in rows:
        click.echo(
            f"{r['aip_id']}  {r['status']:<8} {r['files']:>6} {t.label('files')} "
            f"{r['bytes']:>12} B  {r['label']}"
        )


@aip.command("show")
@click.argument("aip_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_show(aip_id: str, as_json: bool) -> None:
    """Show an AIP: its files (path, size, SHA-256, PUID, format) and its PREMIS events."""
    from workflows.records.aip_records import records_of

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        detail = queries.aip_detail(session, queries.resolve_aip_id(session, aip_id))
        carried = records_of(session, detail["aip_id"], language=app.settings.ui.language)
        detail["records"] = [r.as_dict() for r in carried]
    t = app.t
    for e in detail["events"]:
        e["detail_text"] = t.event_detail(e["detail_code"], e["detail_params"], e["detail"])
    if as_json:
        app.emit(detail)
        return
    click.echo(f"{detail['aip_id']}  {detail['status']}  {detail['label']}")
    for r in detail["records"]:
        click.echo(f"  {t.text('cli.aip.dossier', r)}")
        if r["superseded_by"]:
            click.echo(f"    {t.text('cli.aip.superseded_by', r)}")
        if r["supersedes"]:
            click.echo(f"    {t.text('cli.aip.supersedes', r)}")
        for d in r["documents"]:
            files = ", ".join(d["files"])
            click.echo(f"    {d['ordinal']:>3}. {d['doc_code']}  {d['title']}  [{d['mode_label']}]  {files}")
    click.echo(
        f"  {t.label('source')}: {detail['source_name']} ({detail['package_kind']}, {detail['container']})"
    )
    for c in detail["copies"]:
        click.echo(
            f"  {t.label('location')} {c['location']} v{c['version']}: {c['status']} {c['object_path']}"
        )
    click.echo(f"  {t.label('files')}:")
    for f in detail["files"]:
        if f["role"] != "original":
            continue
        fmt = f"{f['puid']} {f['format_name'] or ''} {f['format_version'] or ''}".strip()
        click.echo(f"    {f['path']}  {f['size']} B  sha256:{f['sha256']}  {fmt}  [{f['validity']}]")
        for line in _check_lines(t, f["characteristics"]):
            click.echo(f"      {line}")
    click.echo(f"  {t.label('events')}: {len(detail['events'])}")
    for e in detail["events"]:
        if len(e["objects"]) == 1 and e["objects"][0] != detail["aip_id"]:
            continue  # per-file events: see --json
        click.echo(f"    {e['datetime']}  {e['type']:<30} {e['outcome']:<8} {e['detail_text']}")


def _check_lines(t: Any, characteristics: list[dict[str, Any]]) -> list[str]:
    """What each validator said about a file, beyond "valid": its findings, the PDF/A claim and
    its result, and the TT 05/2025 parameters (pass / below / not stated / unknown)."""
    lines: list[str] = []
    for c in characteristics:
        props = c.get("properties", {})
        measures = {
            k[5:]: v for k, v in props.items() if k.startswith("tt05_") and not k.endswith("_minimum")
        }
        if "pdfa_claim" in props and c["validator"] == "pdfa":
            lines.append(
                t.text(
                    "cli.aip.pdfa",
                    {
                        "claim": props["pdfa_claim"],
                        "result": props.get("pdfa_result"),
                        "checks": props.get("pdfa_checks_passed") or "—",
                    },
                )
            )
        if measures:
            lines.append(
                t.text("cli.aip.tt05", {"measures": ", ".join(f"{k} {v}" for k, v in measures.items())})
            )
        if c["findings"] or c["validity"] not in ("valid",):
            lines.append(
                t.text("cli.aip.file_check", {"validator": c["validator"], "validity": c["validity"]})
            )
        for finding in c["findings"]:
            params = {"path": finding["where"], "detail": finding["message"], **finding.get("params", {})}
            try:
                text = t.text(finding["code"], params, default=finding["message"])
            except UnfilledPlaceholder:  # a stored finding whose code's text wants other values
                text = f"{finding['where']}: {finding['message']}"
            lines.append(f"  - {text}")
    return lines


@aip.command("verify")
@click.argument("aip_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_verify(aip_id: str, as_json: bool) -> None:
    """Re-read every stored copy of an AIP and compare with the recorded digests."""
    from workflows.custody.verify import verify_aip

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
    report = verify_aip(app.settings, app.sessions, resolved)
    if as_json:
        app.emit(report.as_dict())
    else:
        t = app.t
        click.echo(t.text("cli.verify.ok" if report.ok else "cli.verify.failed", report.as_dict()))
        for loc in report.locations:
            state = "OK" if not loc.problems else f"{len(loc.problems)} {t.label('problems')}"
            click.echo(
                f"  {t.label('location')} {loc.name}: {loc.files} {t.label('files')}, {loc.bytes} B — {state}"
            )
            for p in loc.problems:
                click.echo(f"    - {p.code} {p.where}: {p.message}")
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


@aip.command("fetch")
@click.argument("aip_id")
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path), help="Folder to copy the AIP into."
)
@click.option("--version", "version", type=int, default=None, help="OCFL version (default: the latest).")
@click.option("--location", "location", default=None, help="Storage location to read from.")
@click.option(
    "--by",
    "by",
    default="",
    metavar="NAME",
    help="Who takes the copy (default: login name; required, "
    "with --reason, for an AIP holding records that are not public).",
)
@click.option(
    "--reason", "reason", default="", metavar="TEXT", help="Why the copy is taken (kept in the event)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_fetch(
    aip_id: str, out: Path, version: int | None, location: str | None, by: str, reason: str, as_json: bool
) -> None:
    """Copy the stored AIP folder out to OUT/<AIP folder>, verifying every file; recorded as a
    PREMIS dissemination event naming who took it."""
    from workflows.custody.retrieve import fetch_aip

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
    result = fetch_aip(
        app.settings,
        app.sessions,
        resolved,
        out,
        version=version,
        location=location,
        by=by,
        reason=reason,
        actor=current_app().actor(by),
    )
    if as_json:
        app.emit(result)
    else:
        click.echo(app.t.text("cli.fetch.done", result))


@aip.command("add-metadata")
@click.argument("aip_id")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--reason", default="", help="Why the metadata is added (kept in the PREMIS event).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_add_metadata(aip_id: str, file: Path, reason: str, as_json: bool) -> None:
    """Add FILE as descriptive metadata: a new AIP version; earlier versions stay unchanged."""
    from workflows.custody.update import add_metadata

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
    result = add_metadata(app.settings, app.sessions, resolved, file, reason=reason)
    params = {"file": file.name, "reason": reason, "version": result.version, "status": result.status}
    log_action(app, "aip.add_metadata", resolved, params)
    if as_json:
        app.emit(result.as_dict())
    else:
        click.echo(app.t.text("cli.aip.updated", result.as_dict()))
        for name, reason_text in result.pending.items():
            click.echo(app.t.text("cli.ingest.pending", {"location": name, "reason": reason_text}), err=True)


@aip.command("history")
@click.argument("aip_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def aip_history(aip_id: str, as_json: bool) -> None:
    """The versions of an AIP: when, why, by which job, what each changed, and its events."""
    from repository.catalog.history import aip_history as history

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        data = history(session, queries.resolve_aip_id(session, aip_id))
    t = app.t
    for v in data["versions"]:
        for e in v["events"]:
            e["detail_text"] = t.event_detail(e["detail_code"], e["detail_params"], e["detail"])
    if as_json:
        app.emit(data)
        return
    click.echo(f"{data['aip_id']}  {data['label']}")
    for v in data["versions"]:
        mark = "*" if v["current"] else " "
        click.echo(f"{mark} v{v['number']}  {v['created_at']}  {v['message']}")
        if v["job_id"]:
            click.echo(f"    {t.text('cli.aip.history_job', v)}")
        for rep, change in v["changes"].items():
            for kind in ("added", "removed", "modified"):
                for path in change[kind]:
                    click.echo(f"    {t.text(f'cli.aip.history_{kind}', {'rep': rep, 'path': path})}")
            for pair in change["replaced"]:
                click.echo(f"    {t.text('cli.aip.history_replaced', {'rep': rep, **pair})}")
        for e in v["events"]:
            agents = ", ".join(f"{a['name']} {a['version']}".strip() for a in e["agents"])
            click.echo(
                f"      {e['datetime']}  {e['type']:<22} {e['outcome']:<8} {e['detail_text']} [{agents}]"
            )
