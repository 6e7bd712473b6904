"""``kholuu records restrict|restrictions|lift|declassify``: tiếp cận có điều kiện and giải mật.

Kept apart from :mod:`entrypoints.cli.records` (the registers: phông, nguồn nộp lưu, thời hạn lưu
trữ, declared totals, search) because access decisions are their own concern: each names one record
(``--dossier``/``--document``, narrowed with ``--aip``) and records a numbered decision by someone.
The commands register themselves on the ``records`` group when :mod:`entrypoints.cli.main` imports
this module; the rules live in :mod:`repository.catalog.records_store`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from entrypoints.cli.app import current_app, handles_errors
from entrypoints.cli.records import BY_OPTION, DAY, JSON_OPTION, _start, records
from repository.catalog import queries
from repository.catalog import records_store as store
from repository.catalog.records import Document, Dossier
from workflows.records import access_decisions as decisions
from workflows.records.access_decisions import restriction_json

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
    actor = current_app().actor(by)
    with app.sessions.begin() as session:
        record = _resolve(session, dossier_code, document_code, aip)
        data = decisions.restrict(
            session, actor, record, decisions.Decision(decision_number, decision_date, reason), review_date
        )
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
        rows = [restriction_json(session, r) for r in found]
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
    actor = current_app().actor(by)
    with app.sessions.begin() as session:
        data = decisions.lift(
            session, actor, restriction_id, decisions.Decision(decision_number, decision_date)
        )
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
    actor = current_app().actor(by)
    with app.sessions.begin() as session:
        record = _resolve(session, dossier_code, document_code, aip)
        dossier_id = record.id if isinstance(record, Dossier) else None
        rows = decisions.declassify(
            session,
            actor,
            record,
            to_mode,
            decisions.Decision(decision_number, decision_date, reason),
            cascade=cascade,
        )
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
