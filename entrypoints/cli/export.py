"""``kholuu export``: a stored AIP as a ZIP for another archive (tt05-aip), a requester (tt05-dip)
or any BagIt tool (bagit); see :mod:`workflows.access.export`. A transfer package (tt05-aip, bagit) names
its recipient, and carries Mật or restricted records only under ``--decision``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from entrypoints.cli.app import (
    App,
    current_app,
    handles_errors,
    main,
)
from repository.catalog import queries

if TYPE_CHECKING:
    from workflows.access.export import ExportError

#: The values of ``workflows.access.export.ExportFormat`` (the workflow is imported only when the command
#: runs, like every command's workflow).
FORMATS = ("tt05-aip", "tt05-dip", "bagit")


@main.command("export")
@click.argument("aip_id")
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="What to write.")
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="The ZIP to write."
)
@click.option(
    "--version", "version", type=click.IntRange(min=1), default=None, help="AIP version (default: latest)."
)
@click.option("--location", default=None, help="Storage location to read from.")
@click.option("--request-id", default=None, help="DIP: mã yêu cầu khai thác (requestID).")
@click.option("--request-date", default=None, help="DIP: ngày yêu cầu, DD/MM/YYYY or YYYY-MM-DD.")
@click.option("--purpose", default=None, help="DIP: mục đích khai thác, 01/02/03 or its name.")
@click.option("--purpose-content", default=None, help="DIP: nội dung mục đích.")
@click.option("--fee-object", default=None, help="DIP: đối tượng tính phí, 01-10 or its name.")
@click.option("--topic", default=None, help="DIP: đề tài nghiên cứu (researchTopic).")
@click.option("--note", default=None, help="DIP: ghi chú (description).")
@click.option(
    "--approved-conditional",
    "approved",
    default=None,
    metavar="DECISION",
    help="DIP: number of the archive's decision approving access to Sử dụng có điều kiện (02) documents.",
)
@click.option(
    "--recipient",
    default=None,
    metavar="NAME",
    help="tt05-aip, bagit (required): who receives the package (another archive, the national database...).",
)
@click.option(
    "--decision",
    default=None,
    metavar="NUMBER",
    help="tt05-aip, bagit: number of the decision authorising the transfer of Mật or restricted records.",
)
@click.option(
    "--by",
    "by",
    default="",
    metavar="NAME",
    help="Who makes the export (default: the OS user, who is recorded anyway); kept in the event.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def export(
    aip_id: str,
    fmt: str,
    out: Path,
    version: int | None,
    location: str | None,
    request_id: str | None,
    request_date: str | None,
    purpose: str | None,
    purpose_content: str | None,
    fee_object: str | None,
    topic: str | None,
    note: str | None,
    approved: str | None,
    recipient: str | None,
    decision: str | None,
    by: str,
    as_json: bool,
) -> None:
    """Write AIP_ID as a ZIP: tt05-aip (the AIP as stored), tt05-dip (a DIP for an access request,
    only what the requester may see) or bagit (a BagIt bag). Every file is verified on the way.
    tt05-aip and bagit need --recipient; an AIP with Mật or restricted records also --decision."""
    from workflows.access.export import AccessRequest, ExportError, ExportFormat, export_aip

    app = current_app()
    app.json_output = as_json
    request_options = (request_id, request_date, purpose, purpose_content, fee_object, topic, note, approved)
    request = None
    if any(v is not None for v in request_options):
        request = AccessRequest(
            request_id=request_id or "",
            request_date=request_date or "",
            purpose=purpose or "",
            purpose_content=purpose_content or "",
            fee_object=fee_object or "",
            topic=topic or "",
            note=note or "",
            approved_conditional=approved or "",
        )
    with app.sessions() as session:
        resolved = queries.resolve_aip_id(session, aip_id)
    try:
        result = export_aip(
            app.settings,
            app.sessions,
            resolved,
            out,
            fmt=ExportFormat(fmt),
            version=version,
            location=location,
            request=request,
            recipient=recipient,
            decision=decision,
            actor=current_app().actor(by),
        )
    except ExportError as exc:
        _fail(app, exc)
    data = result.as_dict()
    if as_json:
        app.emit(data)
        return
    t = app.t
    click.echo(t.text("cli.export.done", data))
    if result.recipient:
        click.echo(t.text("cli.export.recipient", {"recipient": result.recipient}))
    if result.decision:
        codes = [r.code for r in result.restricted]
        click.echo(t.text("cli.export.decision", {"decision": result.decision, "codes": codes or "—"}))
    if result.whole_aip:
        click.echo(t.text("cli.export.whole_aip", {"decision": result.approved_conditional}))
    elif result.dip_id:
        click.echo(t.text("cli.export.released", {"count": len(result.released)}))
        for code in result.released:
            click.echo(f"  + {code}")
        if result.approved_conditional:
            click.echo(t.text("cli.export.approved", {"decision": result.approved_conditional}))
        _withheld(app, data["withheld"])


def _withheld(app: App, withheld: list[dict[str, Any]]) -> None:
    """The documents kept back, each with its reason: for the archivist, never in the DIP."""
    if not withheld:
        return
    click.echo(app.t.text("cli.export.withheld", {"count": len(withheld)}), err=True)
    for w in withheld:
        click.echo(f"  - {app.t.text(w['reason'], w['params'], default=w['reason'])}", err=True)


def _fail(app: App, exc: ExportError) -> NoReturn:
    """Every problem (or withheld document) in the user's language, then the error itself."""
    details = exc.details
    lines = [
        app.t.text(d.get("reason") or d["code"], d.get("params", {}), default=d.get("message") or d["code"])
        for d in details
    ]
    if not app.json_output:
        for line in lines:
            click.echo(f"  - {line}", err=True)
    extra = {"details": [{**d, "text": line} for d, line in zip(details, lines, strict=True)]}
    app.fail_with(exc, extra=extra if details else None)
