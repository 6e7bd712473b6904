"""``kholuu auditlog show|verify``: the staff audit log (who did what, when, from where) and its
hash chain checked against the heads anchored in storage (:mod:`repository.catalog.auditlog`,
:mod:`repository.catalog.auditlog_anchor`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from entrypoints.cli.app import EXIT_FAILED, current_app, handles_errors, main
from repository.catalog.auditlog import Entry, canonical_json, read_entries

MOMENT = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])


@main.group()
def auditlog() -> None:
    """The staff audit log: every decision and action, who took it, hash-chained."""


def _moment(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A time typed without a zone is read at the archive (``package.timezone``)."""
    return value.replace(tzinfo=zone) if value is not None else None


@auditlog.command("show")
@click.option("--actor", default=None, help="Only this user (OS or login name) or person acted for (--by).")
@click.option("--action", default=None, help="Only this action (transfer.receive) or subject (transfer).")
@click.option("--target", default=None, help="Only this target (AIP id, record code, transfer id).")
@click.option("--since", type=MOMENT, default=None, help="At or after (archive time).")
@click.option("--until", type=MOMENT, default=None, help="Before (archive time).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="The newest N.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def auditlog_show(
    actor: str | None,
    action: str | None,
    target: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """The newest rows of the audit log matching the filters, oldest first."""
    app = current_app()
    app.json_output = as_json
    zone = ZoneInfo(app.settings.package.timezone)
    with app.sessions() as session:
        rows = read_entries(
            session,
            actor=actor,
            action=action,
            target=target,
            since=_moment(since, zone),
            until=_moment(until, zone),
            limit=limit,
            newest_first=True,
        )
    rows.reverse()
    if as_json:
        app.emit({"entries": [r.as_dict() for r in rows], "count": len(rows)})
        return
    if not rows:
        click.echo(app.t.text("cli.auditlog.none"))
    for row in rows:
        click.echo(_line(row, zone))


def _line(row: Entry, zone: ZoneInfo) -> str:
    when = row.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    where = f"{row.channel}{'@' + row.address if row.address else ''}"
    params = f"  {canonical_json(row.params)}" if row.params else ""
    return f"#{row.seq:<6} {when}  {row.who()}  [{row.role}, {where}]  {row.action}  {row.target}{params}"


@auditlog.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def auditlog_verify(as_json: bool) -> None:
    """Walk the hash chain and compare it with the heads anchored in storage; exit 1 and name the
    first broken row when a row was edited, deleted or reordered, or history was rewritten."""
    from repository.catalog.auditlog_anchor import verify_log

    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        report = verify_log(app.settings, session)
    t = app.t
    data = report.as_dict()
    problems = [*report.chain.problems, *report.problems]
    for p, shown in zip(problems, [*data["chain_problems"], *data["anchor_problems"]], strict=True):
        shown["text"] = t.text(p.code, p.params, default=p.message)
    if report.first is not None:
        data["first_problem"]["text"] = t.text(
            report.first.code, report.first.params, default=report.first.message
        )
    if as_json:
        app.emit(data)
    else:
        head = {"rows": report.chain.rows, "seq": report.chain.head_seq, "hash": report.chain.head_hash}
        if report.ok:
            click.echo(t.text("cli.auditlog.ok", head))
        else:
            click.echo(t.text("cli.auditlog.tampered", head), err=True)
            first = report.first
            if first is not None and first.seq:  # an unreadable anchor names no row
                click.echo(t.text("cli.auditlog.first_problem", {"seq": first.seq}), err=True)
            for shown in [*data["chain_problems"], *data["anchor_problems"]]:
                click.echo(f"  - {shown['text']}", err=True)
        if report.anchors:
            latest = report.anchors[-1].as_dict()
            click.echo(t.text("cli.auditlog.anchors", latest | {"count": len(report.anchors)}))
        else:
            click.echo(t.text("cli.auditlog.no_anchors"))
        for name, reason in report.unreachable.items():
            click.echo(t.text("cli.auditlog.unreachable", {"location": name, "reason": reason}), err=True)
    if not report.ok:
        raise SystemExit(EXIT_FAILED)
