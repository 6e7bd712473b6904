"""``kholuu kpi``: the QĐ 458/QĐ-TTg dashboard, and ``kpi mark-published`` / ``kpi mark-high-use``,
which record the K4 and K6 inputs no other part of the archive sets yet.

Apart from ``kholuu transfer`` (:mod:`entrypoints.cli.transfers`) because the dashboard reports on
everything the archive holds, not on one procedure; it shares that module's reading of days.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from entrypoints.cli.app import EXIT_USAGE, App, current_app, handles_errors, main
from entrypoints.cli.transfers import DAY, archive_moment, archive_today
from repository.catalog import queries


@main.group(invoke_without_command=True)
@click.option(
    "--year", type=int, default=None, help="Cohort / reporting year (default: the year of --on, so far)."
)
@click.option("--on", "on", type=DAY, default=None, help="Snapshot day (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (every field).")
@click.pass_context
@handles_errors
def kpi(ctx: click.Context, year: int | None, on: datetime | None, as_json: bool) -> None:
    """QĐ 458/QĐ-TTg dashboard: K1-K6 per agency and overall (numerator/denominator/%, basis).

    The subcommands record what K4 and K6 need and nothing else sets yet."""
    if ctx.invoked_subcommand is not None:
        return
    from workflows.records.kpi import UNITS, compute_kpis
    from workflows.records.kpi_figures import Figure

    app = current_app()
    app.json_output = as_json
    day = on.date() if on else archive_today(app)
    # The year so far by default: a new archive sees what it holds, not last year's zeros; the
    # header names the year and the day, and a full year's report is asked for with --year.
    chosen = year is not None
    year = year if year is not None else day.year
    with app.sessions() as session:
        report = compute_kpis(session, app.settings, year, on=day)
    if as_json:
        app.emit(report.as_dict())
        return
    t = app.t

    def cell(f: Figure | None) -> str:
        if f is None:
            return "—"
        pct = "—" if f.percent is None else f"{f.percent:g}%"
        num = "—" if f.numerator is None else str(f.numerator)
        den = "—" if f.denominator is None else str(f.denominator)
        mark = {"proxy": "*", "declared": "†", "no_data": "?"}.get(f.basis.value, "")
        return f"{num}/{den} {pct}{mark}"

    columns = [("K1", u) for u in UNITS] + [("K2", None)] + [("K3", u) for u in UNITS]
    columns += [("K4", u) for u in UNITS] + [("K5", None)] + [("K6", u) for u in UNITS]
    heads = [k if u is None else f"{k} {t.text('kpi.unit_short.' + u)}" for k, u in columns]
    click.echo(
        t.text(
            "cli.kpi.header", {"year": year, "on": day, "unit": t.text("kpi.unit." + report.declared_unit)}
        )
    )
    if not chosen:
        click.echo(t.text("cli.kpi.default_year", {"year": year, "on": day, "previous": year - 1}))
    width = 16
    click.echo(f"{'':<16}" + "".join(f"{h:>{width}}" for h in heads))
    for agency in report.agencies:
        label = agency.organ_id or "?"
        click.echo(f"{label:<16}" + "".join(f"{cell(agency.figure(k, u)):>{width}}" for k, u in columns))
    overall = t.text("cli.kpi.overall")
    click.echo(f"{overall:<16}" + "".join(f"{cell(report.figure(k, u)):>{width}}" for k, u in columns))
    click.echo(
        t.text("cli.kpi.targets", {"targets": ", ".join(f"{k} ≥ {v}%" for k, v in _targets().items())})
    )
    click.echo(t.text("cli.kpi.legend"))
    click.echo(t.text("cli.kpi.legend_no_data"))
    notes: dict[str, Any] = {}
    for f in report.overall:
        if f.note:
            notes.setdefault(f.note, f.evidence)
    years = app.settings.records.programme_deadline_years
    for code, params in notes.items():
        click.echo(f"  - {t.text(code, dict(params or {}) | {'years': years})}")
    k5 = report.figure("K5")
    if k5 is not None:
        ev = dict(k5.evidence)
        click.echo(
            t.text("cli.kpi.k5_evidence", ev | {"required_locations": ev.get("required_locations") or "—"})
        )
        click.echo(
            "  "
            + t.text(
                "cli.kpi.k5_coverage",
                ev
                | {
                    "audited_locations": ev.get("audited_locations") or "—",
                    "missing_audit_locations": ev.get("missing_audit_locations") or "—",
                },
            )
        )


def _targets() -> dict[str, int]:
    from workflows.records.kpi_figures import TARGETS

    return dict(TARGETS)


def _marked_output(app: App, key: str, rows: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    if app.json_output:
        app.emit({"marked": rows, "count": len(rows)} | extra)
        return
    codes = ", ".join(r["code"] for r in rows)
    click.echo(app.t.text(key, extra | {"count": len(rows), "codes": codes}))


@kpi.command("mark-published")
@click.argument("codes", nargs=-1, required=True)
@click.option("--aip", "aip", default=None, help="The AIP, when a code is held by several.")
@click.option("--at", "at", type=DAY, default=None, help="Day the metadata went online (default: now).")
@click.option("--unset", is_flag=True, help="Record that the metadata is not published.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def kpi_mark_published(
    codes: tuple[str, ...], aip: str | None, at: datetime | None, unset: bool, as_json: bool
) -> None:
    """Record when the descriptive metadata of these hồ sơ (by code) and their tài liệu was
    published online (K4). Until a public portal exists, this is where the date comes from."""
    from workflows.records.kpi_marks import mark_published

    app = current_app()
    app.json_output = as_json
    if unset and at is not None:
        app.fail("cli.kpi.unset_with_at", "--unset takes no --at", EXIT_USAGE)
    with app.sessions.begin() as session:
        aip_id = queries.resolve_aip_id(session, aip) if aip else None
        when = None if unset else archive_moment(app, at)
        rows = [
            m.as_dict() for m in mark_published(session, list(codes), aip_id=aip_id, at=when, unset=unset)
        ]
    key = "cli.kpi.unpublished" if unset else "cli.kpi.published"
    _marked_output(app, key, rows, {"at": when.isoformat() if when else None})


@kpi.command("mark-high-use")
@click.argument("codes", nargs=-1, required=True)
@click.option("--aip", "aip", default=None, help="The AIP, when a code is held by several.")
@click.option("--unset", is_flag=True, help="Clear the mark.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def kpi_mark_high_use(codes: tuple[str, ...], aip: str | None, unset: bool, as_json: bool) -> None:
    """Mark these hồ sơ (by code), and so their tài liệu, as records of high use (tần suất sử dụng
    cao, K6); --unset clears the mark."""
    from workflows.records.kpi_marks import mark_high_use

    app = current_app()
    app.json_output = as_json
    with app.sessions.begin() as session:
        aip_id = queries.resolve_aip_id(session, aip) if aip else None
        rows = [m.as_dict() for m in mark_high_use(session, list(codes), aip_id=aip_id, unset=unset)]
    _marked_output(app, "cli.kpi.high_use_unset" if unset else "cli.kpi.high_use_set", rows, {})
