"""``kholuu storage ...`` and ``kholuu rebuild-catalog``: storage locations and what is in them."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import click

from entrypoints.cli.app import (
    CONFIG_TEMPLATE,
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    App,
    current_app,
    handles_errors,
    log_action,
    main,
)
from repository.catalog import queries
from repository.catalog.db import upgrade
from repository.settings import Settings

# --------------------------------------------------------------------------- storage


@main.group()
def storage() -> None:
    """Storage locations: list, check, add, sync queued copies."""


@storage.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def storage_list(as_json: bool) -> None:
    """The configured locations and how many AIP copies the catalog has in each."""
    from repository.storage.locations import open_locations

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        counts = queries.copy_counts(session)
    rows: list[dict[str, Any]] = [
        {
            "name": loc.name,
            "role": loc.role,
            "backend": loc.config.backend,
            "required": loc.required,
            "root": loc.describe(),
            "copies": counts.get(loc.name, {}),
        }
        for loc in open_locations(app.settings)
    ]
    if as_json:
        app.emit({"locations": rows})
        return
    t = app.t
    for r in rows:
        need = t.label("required") if r["required"] else t.label("optional")
        copies = ", ".join(f"{n} {status}" for status, n in sorted(r["copies"].items())) or "0"
        click.echo(f"{r['name']:<12} {r['role']:<8} {r['backend']:<6} {need:<10} {r['root']}  [{copies}]")


@storage.command("check")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def storage_check(name: str | None, as_json: bool) -> None:
    """Test each location (or NAME): reachable, OCFL root ours, write/read/delete probe, debris."""
    from repository.storage.health import check_location
    from repository.storage.locations import open_locations

    app = current_app()
    app.json_output = as_json
    locations = [loc for loc in open_locations(app.settings) if name is None or loc.name == name]
    if name is not None and not locations:
        app.fail("storage.location_unknown", f"no storage location {name!r}", EXIT_NOT_FOUND,
                 params={"location": name})  # fmt: skip
    reports = [check_location(loc) for loc in locations]
    failed = any(not r.ok and (r.required or name is not None) for r in reports)
    if as_json:
        app.emit({"ok": not failed, "locations": [r.as_dict() for r in reports]})
    else:
        t = app.t
        for r in reports:
            state = "OK" if r.ok else t.label("error")
            probe = f", probe {r.probe_ms} ms" if r.probe_ms is not None else ""
            objects = f", {r.objects} AIP" if r.objects is not None else ""
            click.echo(f"{r.name} ({r.backend}, {r.role}): {state}{objects}{probe}  {r.root}")
            if r.credentials is not None:
                click.echo("  " + _credentials_text(app, r.name, r.credentials))
            for p in r.problems:
                values = {**p.get("params", {}), "location": r.name}
                click.echo(f"  - {p['code']}: {t.text(p['code'], values, default=p['message'])}")
                click.echo(f"    {p['message']}")
            for kind, items in r.debris.items():
                click.echo(f"  ! {kind}: {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}")
    if failed:
        raise SystemExit(EXIT_FAILED)


@storage.command("add")
@click.argument("name")
@click.option("--backend", type=click.Choice(["local", "s3"]), required=True)
@click.option("--role", type=click.Choice(["primary", "replica", "offline"]), default="replica")
@click.option("--optional", "optional", is_flag=True, help="Not required for an AIP to count as stored.")
@click.option("--path", default="", help="local: the folder (relative to the data folder if relative).")
@click.option("--endpoint", default="", help="s3: endpoint URL (empty: AWS).")
@click.option("--bucket", default="", help="s3: bucket.")
@click.option("--prefix", default="", help="s3: key prefix inside the bucket.")
@click.option("--region", default="us-east-1", help="s3: signing region.")
@click.option("--profile", default="", help="s3: profile in the credentials file.")
@click.option("--credentials-file", default="", help="s3: credentials file (default ~/.aws/credentials).")
@click.option("--ca-bundle", default="", help="s3: CA bundle for a private certificate authority.")
@click.option("--no-verify-tls", is_flag=True, help="s3: do not check the TLS certificate (tests only).")
@click.option("--object-lock-mode", type=click.Choice(["", "GOVERNANCE", "COMPLIANCE"]), default="")
@click.option("--object-lock-days", type=int, default=0)
@click.option("--part-size-mb", type=int, default=16)
@click.option("--create-bucket", is_flag=True, help="s3: create the bucket if it does not exist.")
@click.option("--no-fill", is_flag=True, help="Do not queue copies of the AIPs already stored.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def storage_add(
    name: str, as_json: bool, no_fill: bool, optional: bool, no_verify_tls: bool, **fields: Any
) -> None:
    """Add a location to this data folder's kholuu.toml, test it, and queue copies of every AIP.

    The queued copies are written by `kholuu storage sync`; until then AIPs are degraded if the
    new location is required.
    """
    from repository.settings import StorageLocation
    from repository.storage.health import check_location
    from repository.storage.locations import open_location
    from workflows.custody.replication import queue_copies

    app = current_app()
    app.json_output = as_json
    settings = app.settings
    if any(loc.name == name for loc in settings.storage.locations):
        app.fail("storage.location_exists", f"a location {name!r} exists already", EXIT_USAGE,
                 params={"location": name})  # fmt: skip
    entry = StorageLocation(name=name, required=not optional, verify_tls=not no_verify_tls, **fields)
    new_settings = _append_location(settings, entry)
    location = open_location(new_settings, name)  # only the new one: another may be unusable here
    health = check_location(location, count_objects=False)
    if not health.ok:
        app.fail(health.problems[0]["code"], health.problems[0]["message"], EXIT_FAILED,
                 params={"location": name}, extra={"location": health.as_dict()})  # fmt: skip
    found = (health.credentials or {}).get("found")
    if found:  # recorded, so that `storage check` in a cron or systemd shell can say what is missing
        entry = replace(entry, credentials_source=found)
        health.credentials = {"found": found, "recorded": found}
    _write_location(settings, entry)
    queued = [] if no_fill else queue_copies(new_settings, app.sessions, name)
    params = {"backend": entry.backend, "required": entry.required, "queued": len(queued)}
    log_action(app, "storage.add", name, params)
    payload = {"location": health.as_dict(), "queued": len(queued), "config": str(settings.config_file)}
    if as_json:
        app.emit(payload)
    else:
        click.echo(app.t.text("cli.storage.added", {"location": name, "queued": len(queued),
                                                   "config": settings.config_file}))  # fmt: skip
        if health.credentials is not None:
            click.echo("  " + _credentials_text(app, name, health.credentials))
    if found == "env":
        click.echo(app.t.text("cli.storage.credentials_from_env", {"location": name}), err=True)


@storage.command("sync")
@click.option("--aip", "aip_id", default=None, help="Only this AIP.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def storage_sync(aip_id: str | None, as_json: bool) -> None:
    """Write every queued (pending) copy from a location that holds the AIP, verified."""
    from workflows.custody.replication import sync_pending

    app = current_app()
    app.json_output = as_json
    if aip_id is not None:
        with app.sessions() as session:
            aip_id = queries.resolve_aip_id(session, aip_id)
    outcomes = sync_pending(app.settings, app.sessions, aip_id=aip_id)
    left = [o for o in outcomes if o.outcome != "stored"]
    if outcomes:
        copies = [f"{o.aip_id} v{o.version} -> {o.location}: {o.outcome}" for o in outcomes]
        log_action(app, "storage.sync", aip_id or "", {"copies": copies})
    if as_json:
        app.emit({"ok": not left, "copies": [o.as_dict() for o in outcomes]})
    else:
        t = app.t
        if not outcomes:
            click.echo(t.text("cli.storage.nothing_pending"))
        for o in outcomes:
            click.echo(f"{o.aip_id} v{o.version} -> {o.location}: {o.outcome}  {o.message}")
    if left:
        raise SystemExit(EXIT_FAILED)


def _credentials_text(app: Any, name: str, credentials: dict[str, str | None]) -> str:
    """Where this process finds the location's credentials, and where `storage add` found them."""
    none = app.t.text("cli.storage.credentials_none")
    params = {
        "location": name,
        "found": credentials.get("found") or none,
        "recorded": credentials.get("recorded") or "—",
    }
    return str(app.t.text("cli.storage.credentials", params))


def _append_location(settings: Settings, entry: Any) -> Settings:
    from dataclasses import replace

    from repository.settings import StorageSettings

    return replace(settings, storage=StorageSettings(locations=(*settings.storage.locations, entry)))


def _write_location(settings: Settings, entry: Any) -> None:
    """Append the entry to the home kholuu.toml. If that file defines no locations yet, the ones in
    effect (the shipped defaults) are written first, since a list in the home file replaces them."""
    import dataclasses
    import tomllib

    path = settings.config_file
    text = path.read_text(encoding="utf-8") if path.exists() else CONFIG_TEMPLATE
    current = tomllib.loads(text)
    entries = [entry] if "locations" in current.get("storage", {}) else [*settings.storage.locations, entry]
    defaults = {f.name: f.default for f in dataclasses.fields(entry)}
    out = [text.rstrip("\n"), ""]
    for e in entries:
        out.append("[[storage.locations]]")
        for f in dataclasses.fields(e):
            value = getattr(e, f.name)
            if f.name in ("name", "backend") or value != defaults[f.name]:
                out.append(f"{f.name} = {_toml_value(value)}")
        out.append("")
    path.write_text("\n".join(out), encoding="utf-8")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


# --------------------------------------------------------------------------- rebuild


@main.command("rebuild-catalog")
@click.option("--location", "location", required=True, help="The location whose OCFL root is read.")
@click.option("--replace", "replace_rows", is_flag=True, help="Recreate AIPs the catalog already has.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def rebuild_catalog_command(location: str, replace_rows: bool, as_json: bool) -> None:
    """Recreate the catalog from a storage root alone (after losing the database): the AIPs, then
    the records from the catalog journal."""
    from workflows.custody.rebuild import rebuild_catalog

    app = current_app()
    app.json_output = as_json
    upgrade(app.engine)
    report = rebuild_catalog(app.settings, app.sessions, location, replace=replace_rows)
    data = report.as_dict()
    log_action(
        app, "catalog.rebuild", location, {"replace": replace_rows, "objects": len(data.get("objects", []))}
    )
    if as_json:
        app.emit(data)
    else:
        _echo_rebuild(app, data)
    if any(o.get("outcome") == "failed" for o in data.get("objects", [])) or report.records.failed:
        raise SystemExit(EXIT_FAILED)  # a damaged object, or a journal entry that could not be applied


def _echo_rebuild(app: App, data: dict[str, Any]) -> None:
    """The rebuild for a person: totals, one line per object (damage with its reason), what could
    not be recovered, and the locations that could not be compared. JSON only with ``--json``."""
    t = app.t
    totals = {k: 0 for k in ("added", "replaced", "skipped", "failed")} | dict(data.get("totals", {}))
    click.echo(t.text("cli.rebuild.done", {"location": data.get("location", "")} | totals))
    for obj in data.get("objects", []):
        outcome = str(obj.get("outcome", ""))
        line = t.text("cli.rebuild.object", obj | {"outcome": t.text(f"cli.rebuild.outcome_{outcome}")})
        if outcome == "failed":
            click.echo(f"  {line}: {obj.get('code', '')} {obj.get('message', '')}", err=True)
        else:
            click.echo(f"  {line}")
        for note in obj.get("notes", []):
            click.echo(f"    - {note}")
    for name, reason in dict(data.get("unreachable_locations", {})).items():
        click.echo(t.text("cli.rebuild.unreachable", {"location": name, "reason": reason}), err=True)
