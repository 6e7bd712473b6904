"""``kholuu records ...``: phông, nguồn nộp lưu, thời hạn lưu trữ, tiếp cận có điều kiện, giải mật,
declared totals and search over the described holdings.

Every write runs in one transaction framed here; the rules live in
:mod:`repository.catalog.records_store`, errors are mapped to messages and exit codes by
:func:`entrypoints.cli.main.handles_errors`. Records are addressed by their code as received (mã hồ sơ,
mã tài liệu); a code held by several AIPs (a re-ingest, a package resubmitted after a rejection)
is narrowed with ``--aip``. Decisions record who took them: ``--by``, else the login name of the
operator.
"""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from entrypoints.cli.app import App, current_app, handles_errors, main
from repository.catalog import queries
from repository.catalog import records_store as store
from repository.catalog.records import (
    AccessChange,
    AccessRestriction,
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
BY_OPTION = click.option("--by", "by", default=None, help="Who records the decision (default: login name).")


def _by(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return "unknown"


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


def _target_of(session: Session, row: AccessRestriction | AccessChange) -> dict[str, Any]:
    if row.dossier_id is not None:
        dossier = session.get(Dossier, row.dossier_id)
        assert dossier is not None
        return {"kind": "dossier", "code": dossier.code, "title": dossier.title, "aip_id": dossier.aip_id}
    document = session.get(Document, row.document_id)
    assert document is not None
    return {
        "kind": "document",
        "code": document.doc_code,
        "title": document.title,
        "aip_id": document.dossier.aip_id,
    }


def _restriction_json(session: Session, r: AccessRestriction) -> dict[str, Any]:
    return {
        "id": r.id,
        "target": _target_of(session, r),
        "decision_number": r.decision_number,
        "decision_date": r.decision_date.isoformat(),
        "reason": r.reason,
        "review_date": r.review_date.isoformat() if r.review_date else None,
        "recorded_at": r.recorded_at.isoformat(),
        "recorded_by": r.recorded_by,
        "lifted_on": r.lifted_on.isoformat() if r.lifted_on else None,
        "lifted_at": r.lifted_at.isoformat() if r.lifted_at else None,
        "lifted_decision": r.lifted_decision or None,
        "lifted_by": r.lifted_by or None,
    }


def _change_json(session: Session, c: AccessChange) -> dict[str, Any]:
    return {
        "id": c.id,
        "target": _target_of(session, c),
        "from_mode": c.from_mode,
        "to_mode": c.to_mode,
        "decision_number": c.decision_number,
        "decision_date": c.decision_date.isoformat(),
        "reason": c.reason,
        "recorded_at": c.recorded_at.isoformat(),
        "recorded_by": c.recorded_by,
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
    if as_json:
        app.emit({"agency": data})
    else:
        click.echo(app.t.text("cli.records.agency_added", data))


@agency.command("list")
@JSON_OPTION
@handles_errors
def agency_list(as_json: bool) -> None:
    """The Danh mục nguồn nộp lưu."""
    app = _start(as_json)
    with app.sessions() as session:
        rows = [_agency_json(a) for a in store.list_agencies(session)]
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


# --------------------------------------------------------------------------- access


def _target_options(fn: Any) -> Any:
    fn = click.option(
        "--aip",
        "aip",
        default=None,
        help="The AIP holding the record (id or a prefix of 8+ characters), when several hold the code.",
    )(fn)
    fn = click.option("--document", "document_code", default=None, help="Mã tài liệu (docCode).")(fn)
    return click.option("--dossier", "dossier_code", default=None, help="Mã hồ sơ (fileCode).")(fn)


def _resolve(
    session: Session, dossier_code: str | None, document_code: str | None, aip: str | None
) -> Dossier | Document:
    """The record named on the command line; ``--aip`` is resolved as everywhere in the CLI."""
    aip_id = queries.resolve_aip_id(session, aip) if aip else None
    return store.resolve_target(
        session, dossier_code=dossier_code, document_code=document_code, aip_id=aip_id
    )


def _ids(record: Dossier | Document) -> tuple[int | None, int | None]:
    """(dossier_id, document_id) of the record a decision is about."""
    return (record.id, None) if isinstance(record, Dossier) else (None, record.id)


@records.command("restrict")
@_target_options
@click.option("--decision", "decision_number", required=True, help="Số quyết định.")
@click.option("--date", "decision_date", type=DAY, required=True, help="Ngày quyết định.")
@click.option("--reason", required=True, help="Lý do (căn cứ).")
@click.option("--review", "review_date", type=DAY, default=None, help="Ngày xem xét lại.")
@BY_OPTION
@JSON_OPTION
@handles_errors
def restrict_command(
    dossier_code: str | None,
    document_code: str | None,
    aip: str | None,
    decision_number: str,
    decision_date: date,
    reason: str,
    review_date: date | None,
    by: str | None,
    as_json: bool,
) -> None:
    """Put a dossier or a document on the list of tài liệu tiếp cận có điều kiện (Luật Lưu trữ 2024)."""
    app = _start(as_json)
    with app.sessions.begin() as session:
        record = _resolve(session, dossier_code, document_code, aip)
        dossier_id, document_id = _ids(record)
        row = store.restrict(
            session,
            dossier_id=dossier_id,
            document_id=document_id,
            decision_number=decision_number,
            decision_date=decision_date,
            reason=reason,
            review_date=review_date,
            by=_by(by),
        )
        data = _restriction_json(session, row)
    if as_json:
        app.emit({"restriction": data})
    else:
        click.echo(app.t.text("cli.records.restricted", {**data, "code": data["target"]["code"]}))


@records.command("restrictions")
@click.option("--on", "on", type=DAY, default=None, help="The list as it stood on this day (default: now).")
@click.option("--due-review", is_flag=True, help="Only restrictions whose review date has come.")
@JSON_OPTION
@handles_errors
def restrictions_command(on: date | None, due_review: bool, as_json: bool) -> None:
    """The dated danh mục tài liệu tiếp cận có điều kiện (or what is due for review)."""
    app = _start(as_json)
    with app.sessions() as session:
        if due_review:
            today = on or datetime.now(store.VIETNAM_TZ).date()
            found = store.restrictions_due_for_review(session, today)
        else:
            found = store.active_restrictions(session, on=on)
        rows = [_restriction_json(session, r) for r in found]
    if as_json:
        app.emit(
            {
                "on": on.isoformat() if on else None,
                "due_review": due_review,
                "restrictions": rows,
                "count": len(rows),
            }
        )
        return
    t = app.t
    if not rows:
        click.echo(t.text("cli.records.none"))
    for r in rows:
        target = r["target"]
        review = f"  ({t.text('cli.records.review', {'date': r['review_date']})})" if r["review_date"] else ""
        click.echo(
            f"#{r['id']:<5} {r['decision_date']}  {r['decision_number']:<16} {target['code']}  "
            f"{target['title']}: {r['reason']}{review}"
        )


@records.command("lift")
@click.argument("restriction_id", type=int)
@click.option("--decision", "decision_number", required=True, help="Số quyết định.")
@click.option("--date", "decision_date", type=DAY, required=True, help="Ngày quyết định.")
@BY_OPTION
@JSON_OPTION
@handles_errors
def lift_command(
    restriction_id: int, decision_number: str, decision_date: date, by: str | None, as_json: bool
) -> None:
    """Lift restriction RESTRICTION_ID by a dated decision; the entry stays in the record. The list
    as of a day (``restrictions --on``) follows the decision's date, not the day it was entered."""
    app = _start(as_json)
    with app.sessions.begin() as session:
        row = store.lift_restriction(
            session,
            restriction_id,
            decision_number=decision_number,
            decision_date=decision_date,
            by=_by(by),
            at=datetime.now(UTC),
        )
        data = _restriction_json(session, row)
    if as_json:
        app.emit({"restriction": data})
    else:
        click.echo(app.t.text("cli.records.lifted", {**data, "code": data["target"]["code"]}))


@records.command("declassify")
@_target_options
@click.option("--to", "to_mode", required=True, help="New mức độ tiếp cận code (01 Công khai).")
@click.option("--decision", "decision_number", required=True, help="Số quyết định.")
@click.option("--date", "decision_date", type=DAY, required=True, help="Ngày quyết định.")
@click.option("--reason", required=True, help="Lý do (căn cứ).")
@click.option(
    "--with-documents",
    "cascade",
    is_flag=True,
    help="A dossier: bring its documents whose mode is stricter than the new one to it too.",
)
@BY_OPTION
@JSON_OPTION
@handles_errors
def declassify_command(
    dossier_code: str | None,
    document_code: str | None,
    aip: str | None,
    to_mode: str,
    decision_number: str,
    decision_date: date,
    reason: str,
    cascade: bool,
    by: str | None,
    as_json: bool,
) -> None:
    """Giải mật / change the mức độ tiếp cận of a dossier or a document, by a decision.

    A dossier's documents keep their own mode unless ``--with-documents`` is given; when some stay
    stricter than the dossier's new mode, the command says how many.
    """
    app = _start(as_json)
    with app.sessions.begin() as session:
        record = _resolve(session, dossier_code, document_code, aip)
        dossier_id, document_id = _ids(record)
        changes = store.change_access(
            session,
            dossier_id=dossier_id,
            document_id=document_id,
            to_mode=to_mode,
            decision_number=decision_number,
            decision_date=decision_date,
            reason=reason,
            by=_by(by),
            cascade=cascade,
        )
        rows = [_change_json(session, c) for c in changes]
        stricter = store.stricter_documents(session, record.id, to_mode) if dossier_id is not None else []
        code = record.code if isinstance(record, Dossier) else record.doc_code
    kind = "dossier" if dossier_id is not None else "document"
    own = next((r for r in rows if r["target"]["kind"] == kind), None)
    documents = [r for r in rows if r is not own]
    if as_json:
        app.emit(
            {
                "change": own,
                "document_changes": documents,
                "stricter_documents": [
                    {"code": d.doc_code, "ordinal": d.ordinal, "mode": d.mode} for d in stricter
                ],
            }
        )
        return
    t = app.t
    if own is not None:
        labels = {
            "from_label": store.code_label("mode", own["from_mode"], t.language),
            "to_label": store.code_label("mode", own["to_mode"], t.language),
        }
        click.echo(t.text("cli.records.declassified", {**own, **labels, "code": own["target"]["code"]}))
    if documents:
        label = store.code_label("mode", to_mode, t.language)
        click.echo(
            t.text(
                "cli.records.documents_declassified",
                {"count": len(documents), "code": code, "mode": to_mode, "label": label},
            )
        )
    if stricter:
        click.echo(
            t.text(
                "cli.records.stricter_documents",
                {"count": len(stricter), "code": code, "mode": to_mode},
            ),
            err=True,
        )


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
    with app.sessions.begin() as session:
        row = store.set_declared_total(
            session, organ_id=organ_id, year=year, metric=metric, value=value, source=f"entered by {_by(by)}"
        )
        data = _declared_json(session, row)
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
    "--public", "public_only", is_flag=True, help="Only what readers may see (Công khai, not restricted)."
)
@click.option("--exact", is_flag=True, help="Diacritics must match too (case still ignored).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@JSON_OPTION
@handles_errors
def search_command(text: str, public_only: bool, exact: bool, limit: int, as_json: bool) -> None:
    """Find dossiers and documents by title or code; "ho so xay dung" finds "Hồ sơ xây dựng"."""
    app = _start(as_json)
    with app.sessions() as session:
        found = store.search_records(
            session, text, ignore_diacritics=not exact, public_only=public_only, limit=limit
        )
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
