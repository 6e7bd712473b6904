"""``kholuu transfer`` (thu nộp: plan → receipt → decision, deadlines, biên bản giao nhận); ``kholuu
kpi`` is in :mod:`entrypoints.cli.kpi`.

Exit codes (the kinds of ``workflows.records.transfers.KINDS``, through the table in
``entrypoints/errors.py``): 2 for bad input (dates, a rejection without a reason), 3 when the
archive's rules refuse the step (a decision already made, a transfer linked to another AIP,
another agency's records, no stored AIP, records that are not permanent, a biên bản for a
transfer not accepted), 4 when the agency, plan, transfer, AIP or dossier named does not exist.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from entrypoints.cli.app import (
    EXIT_USAGE,
    App,
    current_app,
    handles_errors,
    main,
)
from repository.catalog import queries
from workflows.records.transfer_steps import log_step

DAY = click.DateTime(["%Y-%m-%d"])
MOMENT = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])


def archive_today(app: App) -> date:
    """Today at the archive (``package.timezone``): the default day of a command."""
    return datetime.now(UTC).astimezone(ZoneInfo(app.settings.package.timezone)).date()


def archive_moment(app: App, moment: datetime | None) -> datetime:
    """A time typed without a zone, read at the archive (TT 05: +07:00); now when none."""
    zone = ZoneInfo(app.settings.package.timezone)
    return moment.replace(tzinfo=zone) if moment else datetime.now(UTC)


# --------------------------------------------------------------------------- transfer


@main.group()
def transfer() -> None:
    """Thu nộp: plans, receipts, decisions, deadlines and the biên bản giao nhận."""


@transfer.command("plan")
@click.argument("organ_id")
@click.argument("reference")
@click.option("--registered", type=DAY, default=None, help="Day the agency registered (default: today).")
@click.option("--planned", type=DAY, required=True, help="Day the agency plans to hand over.")
@click.option("--expected", type=click.IntRange(min=0), default=None, help="Number of dossiers expected.")
@click.option("--notes", default="", help="Free text kept with the plan.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_plan(
    organ_id: str,
    reference: str,
    registered: datetime | None,
    planned: datetime,
    expected: int | None,
    notes: str,
    as_json: bool,
) -> None:
    """Register an agency's transfer plan (đăng ký nộp lưu); the reply is due in working days."""
    from workflows.records.agency_scope import narrow
    from workflows.records.transfer_plans import plan_dict, register_plan

    app = current_app()
    app.json_output = as_json
    narrow(app.actor(), organ_id)  # a records officer plans for their own agency
    with app.sessions.begin() as session:
        result = register_plan(
            session,
            app.settings,
            organ_id,
            reference,
            registered.date() if registered else archive_today(app),
            planned.date(),
            expected,
            notes=notes,
        )
        data = plan_dict(result.plan) | {"findings": [f.as_dict() for f in result.findings]}
        keys = ("organ_id", "reference", "registered_on", "planned_on", "expected_dossiers")
        log_step(session, current_app().actor(), "transfer.plan", data["plan_id"], data, *keys)
    if as_json:
        app.emit(data)
        return
    click.echo(app.t.text("cli.transfer.planned", data))
    for f in result.findings:
        click.echo(f"  {app.t.text(f.code, f.params, default=f.message)}", err=True)


@transfer.command("reply")
@click.argument("plan_id", type=int)
@click.option("--on", "on", type=DAY, default=None, help="Day of the reply (default: today).")
@click.option("--notes", default="", help="What was answered.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_reply(plan_id: int, on: datetime | None, notes: str, as_json: bool) -> None:
    """Record the archive's reply to a registered plan."""
    from workflows.records.transfer_steps import reply_to_plan

    app = current_app()
    app.json_output = as_json
    with app.sessions.begin() as session:
        data = reply_to_plan(
            session, app.actor(), plan_id, on.date() if on else archive_today(app), notes=notes
        )
    if as_json:
        app.emit(data)
    else:
        key = "cli.transfer.replied_late" if data["replied_late"] else "cli.transfer.replied"
        click.echo(app.t.text(key, data))


@transfer.command("receive")
@click.argument("organ_id")
@click.argument("package_name")
@click.option("--by", "by", default=None, help="Who received the package (default: the OS user).")
@click.option("--at", "at", type=MOMENT, default=None, help="When (archive time; default: now).")
@click.option("--plan", "plan_reference", default=None, help="The agency's plan reference, if any.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_receive(
    organ_id: str,
    package_name: str,
    by: str | None,
    at: datetime | None,
    plan_reference: str | None,
    as_json: bool,
) -> None:
    """Record that an agency's package arrived; prints the confirmation and decision deadlines."""
    from workflows.records.agency_scope import narrow
    from workflows.records.transfer_lists import transfer_dict
    from workflows.records.transfers import receive

    app = current_app()
    app.json_output = as_json
    actor = current_app().actor(by)
    narrow(actor, organ_id)  # a records officer receives for their own agency
    with app.sessions.begin() as session:
        row = receive(
            session,
            app.settings,
            organ_id=organ_id,
            package_name=package_name,
            received_at=archive_moment(app, at),
            by=actor.signature(),
            plan_reference=plan_reference,
        )
        data = transfer_dict(row)
        keys = ("organ_id", "package_name", "received_at", "plan_reference")
        log_step(session, actor, "transfer.receive", row.id, data, *keys)
    if as_json:
        app.emit(data)
    else:
        click.echo(app.t.text("cli.transfer.received", data))


@transfer.command("confirm")
@click.argument("transfer_id")
@click.option("--at", "at", type=MOMENT, default=None, help="When (archive time; default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_confirm(transfer_id: str, at: datetime | None, as_json: bool) -> None:
    """Record that the receipt was confirmed to the agency."""
    from workflows.records.transfer_steps import confirm_transfer

    app = current_app()
    app.json_output = as_json
    with app.sessions.begin() as session:
        data = confirm_transfer(session, app.actor(), transfer_id, at=archive_moment(app, at))
    if as_json:
        app.emit(data)
    else:
        click.echo(app.t.text("cli.transfer.confirmed", data))


@transfer.command("link")
@click.argument("transfer_id")
@click.argument("aip_id")
@click.option("--job", "job_id", default=None, help="The ingest job (default: the job that made the AIP).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_link(transfer_id: str, aip_id: str, job_id: str | None, as_json: bool) -> None:
    """Link the AIP ingested from the package; the transfer is then being processed."""
    from workflows.records.transfer_lists import transfer_dict
    from workflows.records.transfers import link_ingest

    app = current_app()
    app.json_output = as_json
    with app.sessions.begin() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
        data = transfer_dict(link_ingest(session, transfer_id, job_id, resolved))
        log_step(
            session, current_app().actor(), "transfer.link", transfer_id, data, "organ_id", "aip_id", "job_id"
        )
    if as_json:
        app.emit(data)
    else:
        click.echo(app.t.text("cli.transfer.linked", data))


@transfer.command("decide")
@click.argument("transfer_id")
@click.option("--accept/--reject", "accept", default=None, help="The decision.")
@click.option("--by", "by", default=None, help="Who decided (default: the OS user).")
@click.option("--reason", default="", help="Why (required when rejecting).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_decide(
    transfer_id: str, accept: bool | None, by: str | None, reason: str, as_json: bool
) -> None:
    """Accept (the AIP must be stored) or reject (with --reason) a transfer; a decision is final."""
    from workflows.records.transfer_steps import decide_transfer

    app = current_app()
    app.json_output = as_json
    if accept is None:
        app.fail("cli.transfer.accept_or_reject", "give --accept or --reject", EXIT_USAGE)
    with app.sessions.begin() as session:
        data = decide_transfer(
            session, app.settings, app.actor(by), transfer_id, accept=accept, reason=reason
        )
    if as_json:
        app.emit(data)
    else:
        click.echo(app.t.text("cli.transfer.accepted" if accept else "cli.transfer.rejected", data))


@transfer.command("list")
@click.option("--status", type=click.Choice(["received", "processing", "accepted", "rejected"]), default=None)
@click.option("--agency", "organ_id", default=None, help="Only this agency (mã định danh).")
@click.option("--plans", is_flag=True, help="List the registered plans instead.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_list(status: str | None, organ_id: str | None, plans: bool, as_json: bool) -> None:
    """Transfers, newest first (or, with --plans, the registered plans)."""
    from repository.catalog.records import TransferStatus
    from workflows.records.agency_scope import narrow
    from workflows.records.transfer_lists import list_transfers, transfer_dict
    from workflows.records.transfer_plans import list_plans, plan_dict

    app = current_app()
    app.json_output = as_json
    t = app.t
    organ_id = narrow(app.actor(), organ_id)
    with app.sessions() as session:
        if plans:
            rows = [plan_dict(p) for p in list_plans(session, organ_id=organ_id)]
        else:
            chosen = TransferStatus(status) if status else None
            rows = [transfer_dict(x) for x in list_transfers(session, status=chosen, organ_id=organ_id)]
    if as_json:
        app.emit({"plans" if plans else "transfers": rows, "count": len(rows)})
        return
    if not rows:
        click.echo(t.text("cli.transfer.none"))
    for r in rows:
        if plans:
            replied = r["replied_on"] or f"{t.text('cli.transfer.reply_due')} {r['reply_due_on']}"
            expected = "—" if r["expected_dossiers"] is None else r["expected_dossiers"]
            click.echo(
                f"#{r['plan_id']:<4} {r['organ_id']:<14} {r['reference']:<20} {r['registered_on']} → "
                f"{r['planned_on']}  {expected}  {replied}"
            )
        else:
            state = t.text("transfer.status." + r["status"])
            click.echo(
                f"{r['transfer_id']}  {state:<14} {r['organ_id'] or '—':<14} "
                f"{r['received_at'][:10]}  {r['package_name']}  {r['aip_id'] or ''}"
            )


@transfer.command("show")
@click.argument("transfer_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_show(transfer_id: str, as_json: bool) -> None:
    """One transfer: its deadlines, AIP, decision and every printed biên bản (SHA-256 of each)."""
    from workflows.records.agency_scope import check_transfer
    from workflows.records.transfer_lists import transfer_dict
    from workflows.records.transfers import get_transfer

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        data = transfer_dict(check_transfer(app.actor(), get_transfer(session, transfer_id)))
    if as_json:
        app.emit(data)
        return
    t = app.t
    click.echo(t.text("cli.transfer.show", data | {"status": t.text("transfer.status." + data["status"])}))
    if not data["handover_prints"]:
        click.echo("  " + t.text("cli.transfer.no_prints"))
    for number, printed in enumerate(data["handover_prints"], start=1):
        click.echo(
            "  "
            + t.text("cli.transfer.print_line", printed | {"number": number, "by": printed["by"] or None})
        )


@transfer.command("overdue")
@click.option("--on", "on", type=DAY, default=None, help="As of this day (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_overdue(on: datetime | None, as_json: bool) -> None:
    """Transfers past their confirmation or decision deadline (TT 05: 60 days each)."""
    from workflows.records.agency_scope import narrow
    from workflows.records.transfer_lists import overdue_transfers, transfer_dict

    app = current_app()
    app.json_output = as_json
    day = on.date() if on else archive_today(app)
    own = narrow(app.actor(), None)
    with app.sessions() as session:
        rows = [
            transfer_dict(o.transfer)
            | {"kind": o.kind, "due_on": o.due_on.isoformat(), "days_late": o.days_late}
            for o in overdue_transfers(session, day)
            if own is None or (o.transfer.agency is not None and o.transfer.agency.organ_id == own)
        ]
    if as_json:
        app.emit({"on": day.isoformat(), "overdue": rows, "count": len(rows)})
    else:
        if not rows:
            click.echo(app.t.text("cli.transfer.no_overdue", {"on": day}))
        for r in rows:
            kind = app.t.text(f"transfer.overdue.{r['kind']}")
            click.echo(app.t.text("cli.transfer.overdue", r | {"kind": kind}))


@transfer.command("handover")
@click.argument("transfer_id")
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="The PDF to write."
)
@click.option(
    "--html", "html_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Also write the HTML, whose footer states the PDF's SHA-256.",
)  # fmt: skip
@click.option(
    "--doc-lang",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="Language of the biên bản itself (the signed record is Vietnamese; en is a working copy).",
)
@click.option(
    "--by", "by", default=None, help="Who printed it (kept with its SHA-256; default: the OS user)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_handover(
    transfer_id: str, out: Path, html_out: Path | None, doc_lang: str, by: str | None, as_json: bool
) -> None:
    """Print the biên bản giao nhận of an accepted transfer to PDF and record its SHA-256 (every
    printed copy's digest is kept: see ``transfer show``)."""
    from entrypoints.reports.handover import ChromiumPrinter
    from workflows.records.handover import issue_handover

    app = current_app()
    app.json_output = as_json
    actor = current_app().actor(by)
    with app.sessions.begin() as session:
        result = issue_handover(
            session,
            app.settings,
            transfer_id,
            out,
            printer=ChromiumPrinter(),
            html_out=html_out,
            language=doc_lang,
            by=actor.signature(),
        )
        data = result.as_dict()
        log_step(session, actor, "transfer.handover", transfer_id, data, "path", "sha256", "previous_sha256")
    if as_json:
        app.emit(data)
        return
    click.echo(app.t.text("cli.transfer.handover_done", data))
    if result.reprinted:
        click.echo(
            app.t.text("cli.transfer.handover_reprinted", data | {"count": len(result.prints)}), err=True
        )


@transfer.command("deadlines")
@click.option("--agency", "organ_id", default=None, help="Only this agency (mã định danh).")
@click.option(
    "--within-days", type=click.IntRange(min=0), default=90, show_default=True, help="Window of 'due'."
)
@click.option("--on", "on", type=DAY, default=None, help="As of this day (default: today).")
@click.option(
    "--basis", type=click.Choice(["programme", "law"]), default=None, help="Default: records.deadline_basis."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def transfer_deadlines(
    organ_id: str | None, within_days: int, on: datetime | None, basis: str | None, as_json: bool
) -> None:
    """Transfer deadlines of permanent records per agency: due, overdue, on time, late, not received."""
    from workflows.records.agency_scope import narrow
    from workflows.records.deadlines import DeadlineStatus, deadline_report
    from workflows.records.transfers import find_agency

    app = current_app()
    app.json_output = as_json
    organ_id = narrow(app.actor(), organ_id)
    day = on.date() if on else archive_today(app)
    with app.sessions() as session:
        if organ_id is not None:
            find_agency(session, organ_id)
        report = deadline_report(session, app.settings, on=day, within_days=within_days, organ_id=organ_id,
                                 basis=basis)  # fmt: skip
    shown = (
        DeadlineStatus.OVERDUE,
        DeadlineStatus.DUE,
        DeadlineStatus.LATE,
        DeadlineStatus.ON_TIME,
        DeadlineStatus.UNDATED,
    )
    records = app.settings.records
    years = records.transfer_deadline_years if report.basis == "law" else records.programme_deadline_years
    data = report.as_dict() | {"basis_text": app.t.text(report.basis_note, {"years": years})}
    if as_json:
        app.emit(data)
        return
    t = app.t
    click.echo(t.text("cli.transfer.deadlines_header", {"on": day, "within_days": within_days}))
    click.echo(f"  {data['basis_text']}")
    for agency in report.agencies:
        name = agency.name or t.text("cli.transfer.unknown_agency")
        click.echo(f"\n{agency.organ_id or '?'}  {name}")
        for status in shown:
            rows = agency.of(status)
            if not rows:
                continue
            click.echo(f"  {t.text('transfer.deadline.status.' + status.value)} ({len(rows)}):")
            for d in rows:
                click.echo(
                    f"    {d.code}  {d.title}  {t.text('cli.transfer.created')} {d.created_on or '—'}  "
                    f"{t.text('cli.transfer.deadline')} {d.deadline or '—'}"
                    + (f"  {t.text('cli.transfer.accepted_on')} {d.accepted_on}" if d.accepted_on else "")
                )
        pending = agency.of(DeadlineStatus.PENDING)
        if pending:
            click.echo(f"  {t.text('transfer.deadline.status.pending')}: {len(pending)}")
        for n in agency.not_received:
            status_text = t.text("transfer.deadline.status." + n.status.value)
            click.echo("  " + t.text("cli.transfer.not_received", n.as_dict() | {"status": status_text}))
        for p in agency.plans:
            status_text = t.text("transfer.deadline.status." + p.status.value)
            click.echo("  " + t.text("cli.transfer.plan_not_received", p.as_dict() | {"status": status_text}))
        counts = {k: v for k, v in agency.documents.items() if v}
        if counts:
            summary = ", ".join(
                f"{t.text('transfer.deadline.status.' + k)} {v}" for k, v in sorted(counts.items())
            )
            click.echo("  " + t.text("cli.transfer.documents", {"counts": summary}))
