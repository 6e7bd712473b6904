"""``kholuu policy``: the format policy in force (``show``), the holdings set against it (``check``)
and what a proposed policy would change and migrate (``diff``). Read only: nothing is converted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from entrypoints.cli.app import EXIT_NOT_FOUND, App, current_app, handles_errors, main
from entrypoints.reports.policy_text import field_lines, holding_actions, holding_name, shown, yes_no
from preservation.planning.model import FormatPolicy, Purpose
from preservation.planning.policy import REGULATIONS, PolicyRegistry, Provenance


@main.group()
def policy() -> None:
    """Format policy: what the archive does with each format (PRONOM PUID), and what it holds."""


def _files(app: App, registry: PolicyRegistry) -> dict[str, str | None]:
    files = registry.files
    return {"shipped": str(files[0]), "override": str(files[1]) if len(files) > 1 else None}


@policy.command("show")
@click.argument("puid")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def policy_show(puid: str, as_json: bool) -> None:
    """The effective policy for PUID, and whether each field comes from the shipped file or the
    data folder's override."""
    from workflows.planning.policy import action_json, load_policy

    app = current_app()
    app.json_output = as_json
    registry = load_policy(app.settings)
    entry, provenance = registry.get(puid), registry.provenance(puid)
    if entry is None or provenance is None:
        app.fail("cli.policy.no_entry", f"no policy entry for {puid}", EXIT_NOT_FOUND, params={"puid": puid})
    applies = {p.value: registry.action(puid, p) for p in Purpose}
    if as_json:
        app.emit(
            {
                "puid": entry.puid,
                "name": entry.name,
                "risk": entry.risk.value,
                "media": entry.media,
                "accepted": {r: entry.accepted.get(r) for r in REGULATIONS},
                "preservation": action_json(entry.preservation),
                "access": action_json(entry.access),
                "applies": {k: action_json(v) for k, v in applies.items()},
                "ocr": entry.ocr,
                "unacceptable": entry.unacceptable,
                "fingerprint": registry.fingerprint(puid),
                "sources": {k: v.value for k, v in provenance.sources.items()},
                "actions": dict(provenance.actions),
                "files": _files(app, registry),
            }
        )
        return
    _show_text(app, registry, entry, provenance)


def _show_text(app: App, registry: PolicyRegistry, entry: FormatPolicy, provenance: Provenance) -> None:
    t = app.t
    click.echo(t.text("cli.policy.show_header", {"puid": entry.puid, "name": entry.name}))
    lines = field_lines(t, registry, entry, provenance)
    width = max(len(x.label) for x in lines)
    for line in lines:
        click.echo(f"  {line.label:<{width}}  {line.value}  [{line.source_text}]")
    click.echo(t.text("cli.policy.fingerprint", {"fingerprint": registry.fingerprint(entry.puid)}))
    files = _files(app, registry)
    click.echo(
        t.text(
            "cli.policy.files",
            {"shipped": files["shipped"], "override": files["override"] or t.text("cli.policy.no_override")},
        )
    )


@policy.command("check")
@click.option(
    "--all", "include_unheld", is_flag=True, help="Also list the policy's formats nothing is held in."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def policy_check(include_unheld: bool, as_json: bool) -> None:
    """Holdings by format: files and bytes of the current version of every stored AIP, per PUID,
    with the policy's risk, TT 05/TT 02 acceptance and action; riskiest first, then largest."""
    from workflows.planning.policy import holdings, load_policy

    app = current_app()
    app.json_output = as_json
    registry = load_policy(app.settings)
    with app.sessions() as session:
        held = holdings(session, registry, include_unheld=include_unheld)
    if as_json:
        app.emit(held.as_dict() | {"policy": _files(app, registry)})
        return
    t = app.t
    if not held.rows:
        click.echo(t.text("cli.policy.empty"))
        return
    click.echo(t.text("cli.policy.check_header"))
    heads = [
        t.text(f"cli.policy.col.{c}") for c in ("puid", "name", "risk", "tt05", "tt02", "files", "bytes")
    ]
    rows: list[list[str]] = []
    for h in held.rows:
        rows.append(
            [
                h.puid or t.text("cli.policy.no_puid"),
                holding_name(t, h),
                t.text(f"policy.risk.{h.risk.value}"),
                yes_no(t, h.accepted.get("tt05")) if h.in_policy else "—",
                yes_no(t, h.accepted.get("tt02")) if h.in_policy else "—",
                str(h.files),
                str(h.bytes),
                holding_actions(t, h),
            ]
        )
    _table([*heads, t.text("cli.policy.col.action")], rows)
    click.echo(
        t.text("cli.policy.total", {"formats": len(held.rows), "files": held.files, "bytes": held.bytes})
    )


def _table(heads: list[str], rows: list[list[str]]) -> None:
    """Columns as wide as their widest cell; numbers (files, bytes) right-aligned; the last column
    free."""
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads) - 1)]
    right = {5, 6}
    for row in [heads, *rows]:
        cells = [
            f"{c:>{w}}" if i in right else f"{c:<{w}}"
            for i, (c, w) in enumerate(zip(row, widths, strict=False))
        ]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


@policy.command("diff")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-shipped",
    is_flag=True,
    help="FILE replaces the shipped policy (a new release's) instead of the local override.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def policy_diff(file: Path, as_shipped: bool, as_json: bool) -> None:
    """Compare the policy in force with a proposed one: FILE as the new local override (default)
    or, with --as-shipped, as the new shipped policy. For each format whose actions or acceptance
    change: what changes and how many held files and bytes a migration would touch."""
    from workflows.planning.policy import diff, holdings, load_policy, load_proposed, totals

    app = current_app()
    app.json_output = as_json
    current = load_policy(app.settings)
    proposed = load_proposed(app.settings, file, replaces="shipped" if as_shipped else "override")
    with app.sessions() as session:
        held = holdings(session, current)
    changes = diff(current, proposed, held)
    files, size = totals(changes)
    if as_json:
        app.emit(
            {
                "proposed": str(file),
                "replaces": "shipped" if as_shipped else "override",
                "changes": [c.as_dict() for c in changes],
                "files": files,
                "bytes": size,
            }
        )
        return
    t = app.t
    click.echo(t.text("cli.policy.diff_header", {"file": str(file)}))
    if not changes:
        click.echo(t.text("cli.policy.diff_none"))
        return
    for change in changes:
        params: dict[str, Any] = {"puid": change.puid, "name": change.name}
        if change.purposes:
            purposes = ", ".join(t.text(f"policy.purpose.{p.value}") for p in change.purposes)
            params |= {"files": change.files, "bytes": change.bytes, "purposes": purposes}
            click.echo(t.text("cli.policy.diff_entry", params))
        else:
            click.echo(t.text("cli.policy.diff_entry_none", params))
        for c in change.changes:
            label = t.text(f"policy.field.{c.field}")
            click.echo(f"    {label}: {shown(t, c.before)} → {shown(t, c.after)}")
    click.echo(t.text("cli.policy.diff_total", {"formats": len(changes), "files": files, "bytes": size}))
