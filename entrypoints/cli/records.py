"""``kholuu records ...``: phông, nguồn nộp lưu, thời hạn lưu trữ, tiếp cận có điều kiện, giải mật,
declared totals and search over the described holdings. The access decisions (restrict, lift,
declassify) are in :mod:`entrypoints.cli.records_access`, which registers on the group defined here.

Every write runs in one transaction framed here; the rules live in
:mod:`repository.catalog.records_store`, errors are mapped to messages and exit codes by
:func:`entrypoints.cli.main.handles_errors`. Records are addressed by their code as received (mã hồ sơ,
mã tài liệu); a code held by several AIPs (a re-ingest, a package resubmitted after a rejection)
is narrowed with ``--aip``. Decisions record who took them (:func:`repository.actor.cli_actor`: the
operator's OS user, acting for ``--by`` if given) in their ``*_by`` columns, and every change is a
row of the staff audit log written in the same transaction (:mod:`repository.catalog.auditlog`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from entrypoints.cli.app import App, current_app, handles_errors, main
from repository.catalog import records_store as store
from repository.catalog.auditlog import record_action
from repository.catalog.records import (
    DeclaredTotal,
    Document,
    Dossier,
    Fonds,
    FondsStatus,
    RetentionSchedule,
    SourceAgency,
)


class DayType(click.ParamType[date]):
    """A calendar day typed as ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (how Vietnamese decisions are dated)."""

    name = "day"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        day = store.parse_day(str(value))
        if day is None:
            app = ctx.find_object(App) if ctx else None
            text = f"{value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)"
            if app is not None:
                text = app.t.text("cli.records.bad_day", {"value": value}, default=text)
            self.fail(text, param, ctx)
        return day


DAY = DayType()
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
BY_OPTION = click.option(
    "--by", "by", default=None, help="Who takes the decision (default: the OS user, who is recorded anyway)."
)


def _start(as_json: bool) -> App:
    app = current_app()
    app.json_output = as_json
    return app


# --------------------------------------------------------------------------- JSON shapes


def _fonds_json(f: Fonds) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": f.name,
        "status": f.status.value,
        "date_range": f.date_range,
        "notes": f.notes,
    }


def _agency_json(a: SourceAgency) -> dict[str, Any]:
    return {
        "organ_id": a.organ_id,
        "name": a.name,
        "fonds_code": a.fonds.code if a.fonds else None,
        "active_from": a.active_from.isoformat() if a.active_from else None,
        "active_to": a.active_to.isoformat() if a.active_to else None,
        "in_scope": a.in_scope,
    }


def _schedule_json(s: RetentionSchedule) -> dict[str, Any]:
    return {
        "code": s.code,
        "name": s.name,
        "legal_basis": s.legal_basis,
        "valid_from": s.valid_from.isoformat() if s.valid_from else None,
        "valid_to": s.valid_to.isoformat() if s.valid_to else None,
        "source_file": s.source_file,
        "items": [
            {
                "item_code": i.item_code,
                "title": i.title,
                "maintenance": i.maintenance,
                "years": i.years,
                "legal_basis": i.legal_basis,
                "notes": i.notes,
            }
            for i in s.items
        ],
    }


def _record_json(record: Dossier | Document) -> dict[str, Any]:
    if isinstance(record, Dossier):
        return {
            "kind": "dossier",
            "code": record.code,
            "aip_id": record.aip_id,
            "title": record.title,
            "mode": record.mode,
            "maintenance": record.maintenance,
            "start_date": record.start_date,
            "end_date": record.end_date,
            "organ_id": record.organ_id,
            "documents": len(record.documents),
        }
    return {
        "kind": "document",
        "code": record.doc_code,
        "aip_id": record.dossier.aip_id,
        "dossier_code": record.dossier.code,
        "ordinal": record.ordinal,
        "title": record.title,
        "mode": record.mode,
        "issued_date": record.issued_date,
    }


def _declared_json(session: Session, d: DeclaredTotal) -> dict[str, Any]:
    agency = session.get(SourceAgency, d.agency_id)
    assert agency is not None
    return {
        "organ_id": agency.organ_id,
        "year": d.year,
        "metric": d.metric,
        "value": d.value,
        "source": d.source,
        "recorded_at": d.recorded_at.isoformat(),
    }


# --------------------------------------------------------------------------- records


@main.group()
def records() -> None:
    """Hồ sơ, tài liệu: phông, nguồn nộp lưu, thời hạn lưu trữ, tiếp cận có điều kiện, tìm kiếm."""


@records.group()
def fonds() -> None:
    """Phông lưu trữ: add, list."""


@fonds.command("add")
@click.argument("code")
@click.argument("name")
@click.option(
    "--status", type=click.Choice([s.value for s in FondsStatus]), default="open", show_default=True
)
@click.option("--date-range", default="", help="Thời gian tài liệu, as written (e.g. 1976-2020).")
@click.option("--notes", default="")
@JSON_OPTION
@handles_errors
def fonds_add(code: str, name: str, status: str, date_range: str, notes: str, as_json: bool) -> None:
    """Register the fonds CODE (mã phông, at most 13 characters) named NAME."""
    app = _start(as_json)
    with app.sessions.begin() as session:
        row = store.add_fonds(
            session, code, name, status=FondsStatus(status), date_range=date_range, notes=notes
        )
        data = _fonds_json(row)
        record_action(session, current_app().actor(), "fonds.add", code, data)
    if as_json:
        app.emit({"fonds": data})
    else:
        click.echo(app.t.text("cli.records.fonds_added", data))


@fonds.command("list")
@JSON_OPTION
@handles_errors
def fonds_list(as_json: bool) -> None:
    """The registered fonds."""
    app = _start(as_json)
    with app.sessions() as session:
        rows = [_fonds_json(f) for f in store.list_fonds(session)]
    if as_json:
        app.emit({"fonds": rows, "count": len(rows)})
        return
    if not rows:
        click.echo(app.t.text("cli.records.none"))
    for r in rows:
        click.echo(f"{r['code']:<14} {r['status']:<7} {r['name']}")


@records.group()
def agency() -> None:
    """Cơ quan thuộc nguồn nộp lưu: add, list, import."""


@agency.command("add")
@click.argument("organ_id")
@click.argument("name")
@click.option("--fonds", "fonds_code", default=None, help="Mã phông the agency's records belong to.")
@click.option("--from", "active_from", type=DAY, default=None, help="In the Danh mục from this day.")
@click.option("--to", "active_to", type=DAY, default=None, help="Until this day (merged, dissolved).")
@click.option("--out-of-scope", is_flag=True, help="Known, but not in the Danh mục nguồn nộp lưu.")
@JSON_OPTION
@handles_errors
def agency_add(
    organ_id: str,
    name: str,
    fonds_code: str | None,
    active_from: date | None,
    active_to: date | None,
    out_of_scope: bool,
    as_json: bool,
) -> None:
    """Add the agency ORGAN_ID (mã định danh, QĐ 20/2020/QĐ-TTg) named NAME."""
    app = _start(as_json)
    with app.sessions.begin() as session:
        row = store.add_agency(
            session,
            organ_id,
            name,
            fonds_code=fonds_code,
            active_from=active_from,
            active_to=active_to,
            in_scope=not out_of_scope,
        )
        data = _agency_json(row)
        record_action(session, current_app().actor(), "agency.add", organ_id, data)
    if as_json:
        app.emit({"agency": data})
    else:
        click.echo(app.t.text("cli.records.agency_added", data))


@agency.command("list")
@JSON_OPTION
@handles_errors
def agency_list(as_json: bool) -> None:
    """The Danh mục nguồn nộp lưu (a records officer: their own agency)."""
    from workflows.records.agency_scope import narrow

    app = _start(as_json)
    own = narrow(app.actor(), None)
    with app.sessions() as session:
        rows = [_agency_json(a) for a in store.list_agencies(session) if own is None or a.organ_id == own]
    if as_json:
        app.emit({"agencies": rows, "count": len(rows)})
        return
    if not rows:
        click.echo(app.t.text("cli.records.none"))
    for r in rows:
        scope = "" if r["in_scope"] else f"  [{app.t.text('cli.records.out_of_scope')}]"
        period = (
            f"  {r['active_from'] or '…'} – {r['active_to'] or '…'}"
            if r["active_from"] or r["active_to"]
            else ""
        )
        click.echo(f"{r['organ_id']:<14} {r['fonds_code'] or '-':<14} {r['name']}{period}{scope}")


@agency.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@JSON_OPTION
@handles_errors
def agency_import(csv_file: Path, as_json: bool) -> None:
    """Import agencies from a CSV (organ_id,name,fonds_code,active_from,active_to,in_scope): all
    rows or none; every bad row is named."""
    app = _start(as_json)
    with app.sessions.begin() as session:
        count = store.import_agencies_csv(session, csv_file)
        record_action(
            session,
            current_app().actor(),
            "agency.import",
            csv_file.name,
            {"path": str(csv_file), "count": count},
        )
    data = {"imported": count, "path": str(csv_file)}
    if as_json:
        app.emit(data)
    else:
        click.echo(app.t.text("cli.records.imported", data))


# --------------------------------------------------------------------------- retention


@records.group()
def retention() -> None:
    """Bảng thời hạn lưu trữ, loaded from data files: load, list."""


@retention.command("load")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@JSON_OPTION
@handles_errors
def retention_load(file: Path, as_json: bool) -> None:
    """Load (or replace) the retention schedule in the TOML FILE (see config/retention/)."""
    app = _start(as_json)
    with app.sessions.begin() as session:
        data = _schedule_json(store.load_retention_schedule(session, file))
        params = {"path": str(file), "name": data["name"], "items": len(data["items"])}
        record_action(session, current_app().actor(), "retention.load", data["code"], params)
    if as_json:
        app.emit({"schedule": data})
    else:
        click.echo(app.t.text("cli.records.schedule_loaded", {**data, "items": len(data["items"])}))


@retention.command("list")
@JSON_OPTION
@handles_errors
def retention_list(as_json: bool) -> None:
    """The loaded retention schedules and their items."""
    app = _start(as_json)
    with app.sessions() as session:
        rows = [_schedule_json(s) for s in store.list_schedules(session)]
    if as_json:
        app.emit({"schedules": rows, "count": len(rows)})
        return
    t = app.t
    if not rows:
        click.echo(t.text("cli.records.none"))
    for s in rows:
        valid = f"{s['valid_from'] or '…'} – {s['valid_to'] or '…'}"
        click.echo(f"{s['code']}  {s['name']}  ({valid}; {s['legal_basis']})")
        for i in s["items"]:
            period = store.code_label("maintenance", i["maintenance"], t.language)
            if i["maintenance"] == store.OTHER_PERIOD:
                period = t.text("cli.records.years", {"years": i["years"]})
            click.echo(f"  {i['item_code']:<10} {period:<12} {i['title']}")


# --------------------------------------------------------------------------- declared totals


@records.group()
def declared() -> None:
    """Figures agencies declare (KPI denominators): set, import, list."""


@declared.command("set")
@click.argument("organ_id")
@click.argument("year", type=int)
@click.argument("metric", type=click.Choice(list(store.DECLARED_METRICS)))
@click.argument("value", type=int)
@BY_OPTION
@JSON_OPTION
@handles_errors
def declared_set(organ_id: str, year: int, metric: str, value: int, by: str | None, as_json: bool) -> None:
    """Record that agency ORGAN_ID declared VALUE for METRIC in YEAR (replaces an earlier figure)."""
    app = _start(as_json)
    actor = current_app().actor(by)
    with app.sessions.begin() as session:
        row = store.set_declared_total(
            session,
            organ_id=organ_id,
            year=year,
            metric=metric,
            value=value,
            source=f"entered by {actor.signature()}",
        )
        data = _declared_json(session, row)
        record_action(
            session, actor, "declared.set", organ_id, {"year": year, "metric": metric, "value": value}
        )
    if as_json:
        app.emit({"declared": data})
    else:
        click.echo(app.t.text("cli.records.declared_set", data))


@declared.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@JSON_OPTION
@handles_errors
def declared_import(csv_file: Path, as_json: bool) -> None:
    """Import declared figures from a CSV (organ_id,year,metric,value): all rows or none."""
    app = _start(as_json)
    with app.sessions.begin() as session:
        count = store.import_declared_totals_csv(session, csv_file)
        params = {"path": str(csv_file), "count": count}
        record_action(session, current_app().actor(), "declared.import", csv_file.name, params)
    data = {"imported": count, "path": str(csv_file)}
    if as_json:
        app.emit(data)
    else:
        click.echo(app.t.text("cli.records.imported", data))


@declared.command("list")
@click.option("--year", type=int, default=None)
@JSON_OPTION
@handles_errors
def declared_list(year: int | None, as_json: bool) -> None:
    """The declared figures, by agency, year and metric."""
    app = _start(as_json)
    with app.sessions() as session:
        rows = [_declared_json(session, d) for d in store.list_declared_totals(session, year=year)]
    if as_json:
        app.emit({"declared": rows, "metrics": dict(store.DECLARED_METRICS), "count": len(rows)})
        return
    if not rows:
        click.echo(app.t.text("cli.records.none"))
    for r in rows:
        click.echo(f"{r['organ_id']:<14} {r['year']} {r['metric']:<28} {r['value']:>10}  {r['source']}")


# --------------------------------------------------------------------------- search


@records.command("search")
@click.argument("text")
@click.option(
    "--public", "public_only", is_flag=True, help="Only what readers may see (the public catalog's rule)."
)
@click.option("--exact", is_flag=True, help="Diacritics must match too (case still ignored).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@JSON_OPTION
@handles_errors
def search_command(text: str, public_only: bool, exact: bool, limit: int, as_json: bool) -> None:
    """Find dossiers and documents by title or code; "ho so xay dung" finds "Hồ sơ xây dựng"."""
    from repository.catalog.search import EVERYTHING
    from workflows.access.public import PUBLIC

    app = _start(as_json)
    with app.sessions() as session:
        visible = PUBLIC if public_only else EVERYTHING
        found = store.search_records(session, text, ignore_diacritics=not exact, visible=visible, limit=limit)
        rows = [_record_json(r) for r in found]
    if as_json:
        app.emit({"query": text, "results": rows, "count": len(rows)})
        return
    t = app.t
    if not rows:
        click.echo(t.text("cli.records.none"))
    for r in rows:
        mode = store.code_label("mode", r["mode"], t.language) if r["mode"] else "-"
        kind = t.text(f"cli.records.kind_{r['kind']}")
        click.echo(f"{kind:<9} {r['code']:<32} [{mode}] {r['title']}")
