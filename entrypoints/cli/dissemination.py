"""``kholuu request``: dissemination requests for staff who work without the web app.

``submit`` enters a request on a reader's behalf; ``approve`` (with ``--decision`` when the AIP's
access rules need it) builds the DIP at once unless ``--no-build``; ``refuse`` needs
``--reason``; ``build`` builds (again) an approved or failed request's DIP and prints its one-time
download path ``/dip/<token>`` (the token is shown once: only its hash is kept); ``expire`` ends
the links past their time and deletes the ZIPs no longer needed. ``--by`` names the person the
operator acts for (``Actor.signature()``, kept in the request and its PREMIS events).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from entrypoints.cli.app import App, current_app, handles_errors, main
from repository.catalog.requests import DisseminationRequest, RequestStatus
from workflows.access import request_build, requests

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
BY_OPTION = click.option("--by", default="", metavar="NAME", help="The person the operator acts for.")


def _row(r: DisseminationRequest) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": r.id,
        "status": r.status.value,
        "requester_name": r.requester_name,
        "requester_contact": r.requester_contact,
        "submitted_by": r.submitted_by,
        "aip_id": r.aip_id,
        "record_codes": list(r.record_codes),
        "purpose": r.purpose,
        "purpose_content": r.purpose_content,
        "fee_object": r.fee_object,
        "topic": r.topic,
        "note": r.note,
        "submitted_at": when(r.submitted_at),
        "decided_by": r.decided_by,
        "decided_at": when(r.decided_at),
        "decision_number": r.decision_number,
        "reason": r.reason,
        "job_id": r.job_id,
        "dip_id": r.dip_id,
        "dip_path": r.dip_path,
        "dip_bytes": r.dip_bytes,
        "dip_sha256": r.dip_sha256,
        "failure": r.failure,
        "expires_at": when(r.expires_at),
        "download_count": r.download_count,
        "downloaded_at": when(r.downloaded_at),
    }


def _show(app: App, shown: dict[str, Any]) -> None:
    if app.json_output:
        app.emit({"request": shown})
        return
    status = app.t.text(f"request.status.{shown['status']}")
    click.echo(app.t.text("cli.request.line", {**shown, "status_text": status}))


@main.group("request")
def request_group() -> None:
    """Dissemination requests: submit, list, show, approve, refuse, build, expire."""


@request_group.command("submit")
@click.argument("target")
@click.option("--name", "requester_name", required=True, help="The requester's full name.")
@click.option("--contact", "requester_contact", required=True, help="E-mail or telephone.")
@click.option("--purpose", required=True, help="Mục đích khai thác: 01/02/03 or its name.")
@click.option("--purpose-content", default="", help="Nội dung mục đích.")
@click.option("--fee-object", default="", help="Đối tượng tính phí, 01-10 or its name.")
@click.option("--topic", default="", help="Đề tài nghiên cứu.")
@click.option("--note", default="", help="Ghi chú.")
@click.option("--record", "records", multiple=True, metavar="CODE", help="A document code asked for.")
@BY_OPTION
@JSON_OPTION
@handles_errors
def submit(target: str, records: tuple[str, ...], by: str, as_json: bool, **fields: str) -> None:
    """Enter a reader's request for TARGET (an AIP id or a hồ sơ code)."""
    app = current_app()
    app.json_output = as_json
    form = requests.RequestForm(target=target, record_codes=records, **fields)
    with app.sessions.begin() as session:
        done = requests.submit(session, form, app.actor(by), now=datetime.now(UTC))
        shown = _row(requests.get_request(session, done.request_id))
    if as_json:
        app.emit({"request": shown, "follow_key": done.follow_key})
        return
    click.echo(app.t.text("cli.request.submitted", {"request": done.request_id, "aip_id": done.aip_id}))
    click.echo(f"/requests/{done.request_id}?key={done.follow_key}")


@request_group.command("list")
@click.option("--status", type=click.Choice([s.value for s in RequestStatus]), default=None)
@JSON_OPTION
@handles_errors
def list_requests(status: str | None, as_json: bool) -> None:
    """List the requests, newest first."""
    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        rows = [_row(r) for r in session.scalars(requests.listed(RequestStatus(status) if status else None))]
    if as_json:
        app.emit({"requests": rows, "count": len(rows)})
        return
    if not rows:
        click.echo(app.t.text("cli.request.none"), err=True)
    for shown in rows:
        _show(app, shown)


@request_group.command("show")
@click.argument("request_id")
@JSON_OPTION
@handles_errors
def show(request_id: str, as_json: bool) -> None:
    """One request with its decision, DIP and link."""
    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        shown = _row(requests.get_request(session, request_id))
    if as_json:
        app.emit({"request": shown})
        return
    for key, value in shown.items():
        if value not in (None, "", []):
            click.echo(f"{key}: {value}")


@request_group.command("approve")
@click.argument("request_id")
@click.option("--decision", default="", metavar="NUMBER", help="Number of the archive's approval decision.")
@click.option("--no-build", is_flag=True, help="Approve only; build later with `kholuu request build`.")
@BY_OPTION
@JSON_OPTION
@handles_errors
def approve(request_id: str, decision: str, no_build: bool, by: str, as_json: bool) -> None:
    """Approve a submitted request, then build its DIP and print the download path."""
    app = current_app()
    app.json_output = as_json
    actor = app.actor(by)
    with app.sessions.begin() as session:
        row = requests.approve(session, request_id, actor, decision=decision, now=datetime.now(UTC))
        request_id = row.id
    if no_build:
        with app.sessions() as session:
            _show(app, _row(requests.get_request(session, request_id)))
        return
    _build(app, request_id, by)


@request_group.command("refuse")
@click.argument("request_id")
@click.option("--reason", required=True, help="Why; shown to the reader and kept.")
@BY_OPTION
@JSON_OPTION
@handles_errors
def refuse(request_id: str, reason: str, by: str, as_json: bool) -> None:
    """Refuse a submitted request with its reason."""
    app = current_app()
    app.json_output = as_json
    with app.sessions.begin() as session:
        row = requests.refuse(session, request_id, app.actor(by), reason=reason, now=datetime.now(UTC))
        shown = _row(row)
    _show(app, shown)


@request_group.command("build")
@click.argument("request_id")
@BY_OPTION
@JSON_OPTION
@handles_errors
def build(request_id: str, by: str, as_json: bool) -> None:
    """Build the DIP of an approved (or failed) request and print its one-time download path."""
    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        request_id = requests.get_request(session, request_id).id
    _build(app, request_id, by)


def _build(app: App, request_id: str, by: str) -> None:
    built = request_build.build(app.settings, app.sessions, request_id, app.actor(by))
    with app.sessions() as session:
        shown = _row(requests.get_request(session, request_id))
    link = f"/dip/{built.token}"
    if app.json_output:
        app.emit({"request": shown, "download": link})
        return
    click.echo(
        app.t.text(
            "cli.request.built",
            {
                "request": request_id,
                "bytes": built.bytes,
                "expires": built.expires_at.isoformat(),
                "job": built.job_id,
            },
        )
    )
    click.echo(link)


@request_group.command("expire")
@JSON_OPTION
@handles_errors
def expire(as_json: bool) -> None:
    """End the download links past their time and delete the DIPs no longer needed."""
    app = current_app()
    app.json_output = as_json
    done = request_build.expire(app.sessions, now=datetime.now(UTC))
    if as_json:
        app.emit({"expired": list(done.expired), "deleted": list(done.deleted)})
        return
    click.echo(
        app.t.text("cli.request.expired", {"expired": len(done.expired), "deleted": len(done.deleted)})
    )
