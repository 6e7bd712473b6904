"""Dissemination requests on the web: the request form, reader services' queue, a request's status
page and the one-time DIP download (``/dip/<token>``).

Who may do what (docs/requests.md): anyone may fill in the form for an AIP holding public
records (the public form shows only the request's own data, never a title, so it reveals nothing
restricted); reader services and administrators may enter one for any AIP, see the queue,
approve (with the decision number), refuse (with a reason) and build again a failed package. The
status page opens for them, and for the reader through the follow-up link given once at
submission (``?key=``; only its hash is kept). Approving builds the DIP at once as a job
(:func:`workflows.access.request_build.build`), in the request that approved it.

The download is streamed from disk by Werkzeug's ``send_file`` with conditional requests and
byte ranges (``Accept-Ranges: bytes``, 206 partial content, ``If-Range`` on the ZIP's SHA-256
as ETag), so an interrupted download resumes and no ZIP is ever held in memory. The first
response that hands over the last byte counts the download as complete; the link is refused
after that and after its expiry, with a page saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request, send_file
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.errors import http_status
from entrypoints.web.access import allow, current_actor
from entrypoints.web.context import context, translator
from entrypoints.web.params import check_language, link
from preservation.errors import KholuuError
from preservation.tt05.tables import shipped_tables
from repository.actor import Role
from repository.catalog.requests import DisseminationRequest, RequestStatus
from workflows.access import build_queue, request_build, requests
from workflows.access.requests import DECIDERS, RequestForm, listed, secret_hash
from workflows.jobs.queue import uses_queue

bp = Blueprint("requests", __name__)
bp.before_request(check_language)

DECIDER_ROLES = tuple(DECIDERS)
VIEWERS = frozenset({*DECIDERS, Role.AUDITOR})  # see every request's status page without its key
Page = str | tuple[str, int]


def _now() -> datetime:
    return datetime.now(UTC)


def _choices() -> dict[str, list[tuple[str, str]]]:
    tables, language = shipped_tables(), translator().language
    return {
        name: [(c.code, c.vi if language == "vi" else c.en) for c in tables.codelist(name).codes]
        for name in ("purpose", "feeObjectType")
    }


def _problem(exc: KholuuError) -> dict[str, Any]:
    return {"code": exc.code, "params": dict(exc.params)}


# ------------------------------------------------------------------------------------------ submit


@bp.route("/requests/new", methods=["GET", "POST"])
@allow(Role.PUBLIC)
def new() -> Page:
    """The request form; on success the follow-up link, shown once."""
    staff = current_actor().role in DECIDERS
    values = {k: request.form.get(k, "") for k in RequestForm.__dataclass_fields__ if k != "record_codes"}
    values["target"] = values["target"] or request.args.get("target", "")
    values["record_codes"] = request.form.get("record_codes", "")
    if request.method == "GET":
        return render_template(
            "request_new.html", values=values, staff=staff, choices=_choices(), problem=None
        )
    form = RequestForm(
        requester_name=values["requester_name"],
        requester_contact=values["requester_contact"],
        target=values["target"],
        purpose=values["purpose"],
        purpose_content=values["purpose_content"],
        fee_object=values["fee_object"],
        topic=values["topic"],
        note=values["note"],
        record_codes=[c for c in values["record_codes"].split(",") if c.strip()],
    )
    try:
        with context().sessions.begin() as session:
            done = requests.submit(session, form, current_actor(), now=_now())
    except KholuuError as exc:
        page = render_template(
            "request_new.html", values=values, staff=staff, choices=_choices(), problem=_problem(exc)
        )
        return page, http_status(exc)
    follow = link("requests.status", request_id=done.request_id, key=done.follow_key)
    return render_template("request_submitted.html", request_id=done.request_id, follow=follow), 201


# ------------------------------------------------------------------------------------------- queue


@bp.get("/requests")
@allow(*DECIDER_ROLES)
def queue() -> str:
    wanted = request.args.get("status", "")
    status = RequestStatus(wanted) if wanted in {s.value for s in RequestStatus} else None
    with context().sessions() as session:
        shown = [_row(r) for r in session.scalars(listed(status).limit(500))]
    return render_template("request_queue.html", rows=shown, status=status, statuses=list(RequestStatus))


def _row(r: DisseminationRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "status": r.status.value,
        "requester_name": r.requester_name,
        "requester_contact": r.requester_contact,
        "submitted_by": r.submitted_by,
        "aip_id": r.aip_id,
        "record_codes": ", ".join(str(c) for c in r.record_codes),
        "purpose": shipped_tables().label("purpose", r.purpose, translator().language),
        "purpose_content": r.purpose_content,
        "topic": r.topic,
        "note": r.note,
        "submitted_at": r.submitted_at,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "decision_number": r.decision_number,
        "reason": r.reason,
        "job_id": r.job_id or "",
        "dip_bytes": r.dip_bytes,
        "expires_at": r.expires_at,
        "download_count": r.download_count,
        "failure": r.failure,
    }


# ------------------------------------------------------------------------------------------ status


def _visible(request_id: str, key: str) -> dict[str, Any]:
    """The request, if this actor may see it: staff, or the reader with the follow-up key.
    Anything else is the same 404, so the page reveals nothing of other requests."""
    with context().sessions() as session:
        row = session.get(DisseminationRequest, request_id.strip().upper())
        if row is None:
            raise NotFound()
        if current_actor().role not in VIEWERS and (not key or secret_hash(key) != row.follow_key_hash):
            raise NotFound()
        return _row(row)


def _status_page(request_id: str, key: str, *, problem: KholuuError | None = None, **extra: Any) -> Page:
    shown = _visible(request_id, key)
    page = render_template(
        "request_status.html",
        r=shown,
        key=key,
        decider=current_actor().role in DECIDERS,
        problem=_problem(problem) if problem else None,
        **extra,
    )
    return (page, http_status(problem)) if problem else page


@bp.get("/requests/<request_id>")
@allow(Role.PUBLIC)
def status(request_id: str) -> Page:
    return _status_page(request_id, request.args.get("key", ""))


@bp.post("/requests/<request_id>/link")
@allow(Role.PUBLIC)
def get_link(request_id: str) -> Page:
    """A fresh one-time download link for a ready request (the reader with the key, or staff)."""
    key = request.form.get("key", "")
    _visible(request_id, key)
    try:
        with context().sessions.begin() as session:
            token, expires = request_build.issue_link(session, request_id, now=_now())
    except KholuuError as exc:
        return _status_page(request_id, key, problem=exc)
    return _status_page(request_id, key, download=link("requests.download", token=token), expires=expires)


# ------------------------------------------------------------------------------------------ decide


def _decide(request_id: str, action: Callable[[], object]) -> BaseResponse | Page:
    try:
        action()
    except KholuuError as exc:
        return _status_page(request_id, "", problem=exc)
    return redirect(link("requests.status", request_id=request_id))


def _approve_and_build(request_id: str) -> None:
    """Approve and build; on the job queue the build is a job a worker runs (queued in the
    approval's transaction), and staff issue the link once the request is ready."""
    web = context()
    with web.sessions.begin() as session:
        requests.approve(
            session, request_id, current_actor(), decision=request.form.get("decision", ""), now=_now()
        )
        if uses_queue(web.settings):
            build_queue.submit_build(session, web.settings, request_id, current_actor())
            return
    request_build.build(web.settings, web.sessions, request_id, current_actor())


def _refuse(request_id: str) -> None:
    with context().sessions.begin() as session:
        requests.refuse(
            session, request_id, current_actor(), reason=request.form.get("reason", ""), now=_now()
        )


@bp.post("/requests/<request_id>/approve")
@allow(*DECIDER_ROLES)
def approve(request_id: str) -> BaseResponse | Page:
    return _decide(request_id, lambda: _approve_and_build(request_id))


@bp.post("/requests/<request_id>/refuse")
@allow(*DECIDER_ROLES)
def refuse(request_id: str) -> BaseResponse | Page:
    return _decide(request_id, lambda: _refuse(request_id))


@bp.post("/requests/<request_id>/build")
@allow(*DECIDER_ROLES)
def build(request_id: str) -> BaseResponse | Page:
    web = context()
    if uses_queue(web.settings):
        return _decide(request_id, lambda: _queue_build(request_id))
    return _decide(
        request_id, lambda: request_build.build(web.settings, web.sessions, request_id, current_actor())
    )


def _queue_build(request_id: str) -> None:
    web = context()
    with web.sessions.begin() as session:
        build_queue.submit_build(session, web.settings, request_id, current_actor())


# ---------------------------------------------------------------------------------------- download


@bp.get("/dip/<token>")
@allow(Role.PUBLIC)
def download(token: str) -> BaseResponse | Page:
    """The DIP's ZIP, streamed with byte ranges; refused after a complete download or expiry."""
    web = context()
    try:
        with web.sessions() as session:
            found = request_build.open_download(session, token, now=_now())
    except KholuuError as exc:
        page = render_template("dip_unavailable.html", problem=_problem(exc))
        return page, 404 if exc.code == "request.link_unknown" else 410
    response = send_file(
        found.path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{found.request_id}.zip",
        conditional=True,
        etag=found.sha256,
        last_modified=found.built_at,
        max_age=0,
    )
    response.headers["Accept-Ranges"] = "bytes"
    served = response.content_range
    to_the_end = response.status_code == 200 or (
        response.status_code == 206 and served is not None and served.stop == found.size
    )
    if request.method == "GET" and to_the_end:
        sessions, request_id = web.sessions, found.request_id
        response.response = _counting(
            response.response, lambda: request_build.complete_download(sessions, request_id, now=_now())
        )
    return response


def _counting(
    body: Iterable[bytes] | Iterable[str], on_complete: Callable[[], object]
) -> Iterator[bytes] | Iterator[str]:
    """``body``, and ``on_complete`` once its last block has been handed on (not when the reader
    went away half-way: then the generator is closed before its end)."""
    try:
        yield from body
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    on_complete()


__all__ = ["bp"]
