"""``/ingest`` and ``/jobs/<id>``: ingest in the browser and a job's live progress (docs/web.md).

The ingest page uploads a SIP in chunks through ``/api/v1/uploads`` (``static/ingest.js``: it asks
the server's offset first, so a broken upload goes on from what the server has) and then starts
the ingest with ``/api/v1/ingests``; a SIP of the transfer folder is picked with a plain form. The
job page shows the job's steps and errors as the catalog has them and, while it runs, what the
current step is doing; ``static/job.js`` refreshes it from ``/api/v1/jobs/<id>`` every second.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, current_app, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from entrypoints.web.access import CUSTODY, STAFF_PAGES, allow, current_actor
from entrypoints.web.context import context, translator
from entrypoints.web.holdings import event_type
from entrypoints.web.params import BadParameter, check_language, link
from repository.catalog import queries
from repository.catalog.models import JobStatus
from workflows.ingest import uploads
from workflows.ingest.background import IngestQueue
from workflows.jobs.queue import attempts, has_ended

bp = Blueprint("jobs", __name__)
bp.before_request(check_language)
QUEUE = "kholuu.ingests"


def ingest_queue() -> IngestQueue:
    """This app's queue of ingests (made on first use: an app that never ingests starts no thread)."""
    queue = current_app.extensions.get(QUEUE)
    if queue is None:
        ctx = context()
        queue = current_app.extensions[QUEUE] = IngestQueue(ctx.settings, ctx.sessions)
    return cast(IngestQueue, queue)


def stop_ingests(app: Flask) -> None:
    """Let the running ingest end and drop the queued ones (``kholuu serve`` stopping)."""
    queue = app.extensions.get(QUEUE)
    if isinstance(queue, IngestQueue):
        queue.shutdown()


def job_status(job_id: str) -> dict[str, Any]:
    """``kholuu job show --json`` of the job's latest attempt (under the id the submitter holds),
    with ``progress``: this process's while it runs the job here, else what the job row says (a
    worker writes it). A job whose attempt failed and that the queue will try again is
    ``queued``."""
    queue = ingest_queue()
    live = queue.progress(job_id.strip().lower())
    with context().sessions() as session:
        try:
            found = queries.resolve_job_id(session, job_id)
        except queries.NotFoundError:
            if live is None:
                raise
            return _queued(job_id, queue)
        first, latest = attempts(session, found)
        detail = queries.job_detail(session, latest.id)
        waiting = not has_ended(latest) and latest.status in (JobStatus.FAILED, JobStatus.INTERRUPTED)
    detail["attempt_job_id"], detail["job_id"] = detail["job_id"], first.id
    if waiting:
        detail["status"] = JobStatus.QUEUED.value
    live = queue.progress(first.id) or queue.progress(latest.id)
    detail.pop("events", None)  # kholuu job show --json has them; the page and the poll do not
    t = translator()
    detail["error_text"] = (
        t.text(detail["error"]["code"], detail["error"]["params"], default=detail["error"]["message"])
        if detail["error"]
        else ""
    )
    for step in detail["steps"]:
        step["name_text"] = step_name(step["name"])
        step["status_text"] = t.text(f"web.step_status.{step['status']}")
    running = detail["status"] == "running"
    shown = live.__dict__ if live is not None else _from_row(detail.pop("live", None))
    detail.pop("live", None)
    detail["progress"] = shown if running and shown is not None else None
    detail["progress_text"] = (
        t.text("web.job.progress", shown | {"step": step_name(shown["step"])})
        if running and shown is not None and shown["step"]
        else ""
    )
    return detail


def _from_row(live: Any) -> dict[str, Any] | None:
    """The progress a worker wrote on the job row, in the shape of :class:`ProgressSnapshot`."""
    if not isinstance(live, dict):
        return None
    return {
        "state": "running",
        "step": str(live.get("step", "")),
        "done": int(live.get("done", 0)),
        "total": int(live.get("total", 0)),
        "item": str(live.get("item", "")),
    }


def _queued(job_id: str, queue: IngestQueue) -> dict[str, Any]:
    """A job this process has queued and not started: no catalog row yet."""
    job_id = job_id.strip().lower()
    return {
        "job_id": job_id,
        "kind": "ingest",
        "status": "queued",
        "attempt": None,
        "attempt_job_id": job_id,
        "source_name": queue.source_name(job_id),
        "aip_id": None,
        "started_at": None,
        "ended_at": None,
        "error": None,
        "error_text": "",
        "steps": [],
        "errors": [],
        "progress": None,
        "progress_text": "",
    }


def start_ingest(upload_id: Any, transfer: Any, options: dict[str, Any]) -> str:
    """Queue the ingest of an upload or a transfer-folder SIP (exactly one of them)."""
    settings, actor = context().settings, current_actor()
    if (upload_id is None) == (transfer is None):
        raise BadParameter("web.api.upload_or_transfer", "give upload_id or transfer", {})
    if upload_id is not None:
        if not isinstance(upload_id, str):
            raise BadParameter("web.api.bad_field", "upload_id", {"name": "upload_id", "value": upload_id})
        source = uploads.claim_upload(settings, upload_id, owner=actor.name)
        try:
            return ingest_queue().submit(actor, source, upload_id=upload_id, **options)
        except BaseException:
            uploads.release_upload(settings, upload_id)  # not queued: it may be sent again
            raise
    if not isinstance(transfer, str):
        raise BadParameter("web.api.bad_field", "transfer", {"name": "transfer", "value": transfer})
    return ingest_queue().submit(actor, uploads.transfer_source(settings, transfer), **options)


def step_name(name: str) -> str:
    """A job step's name in the reader's language (most are PREMIS event types)."""
    return translator().text(f"web.step.{name.replace(' ', '_')}", default=event_type(name))


@bp.get("/ingest")
@allow(*CUSTODY)
def ingest() -> str:
    settings = context().settings
    return render_template(
        "ingest.html",
        entries=uploads.transfer_entries(settings),
        transfer_folder=settings.web.transfer_folder,
        suffixes=", ".join(uploads.SIP_SUFFIXES),
        chunk_bytes=settings.web.upload_chunk_mib * 1024 * 1024,
    )


@bp.post("/ingest")
@allow(*CUSTODY)
def ingest_transfer() -> BaseResponse:
    """A SIP picked from the transfer folder (a form: no script needed)."""
    options = {
        "allow_duplicate": request.form.get("allow_duplicate") == "on",
        "organ_id": request.form.get("agency", "").strip(),
    }
    job_id = start_ingest(None, request.form.get("transfer", ""), options)
    return redirect(link("jobs.job", job_id=job_id), code=303)


@bp.get("/jobs")
@allow(*STAFF_PAGES)
def jobs() -> str:
    """Recent jobs, newest first, with their errors; ``?status=dead`` is the dead letter (jobs
    that failed on every attempt the queue allows)."""
    status = request.args.get("status", "")
    if status not in {s.value for s in JobStatus}:
        status = ""
    with context().sessions() as session:
        rows = queries.job_list(session, status=JobStatus(status) if status else None)
    t = translator()
    for row in rows:
        row["error_text"] = (
            t.text(row["error_code"], row["error_params"], default=row["error_message"] or "")
            if row["error_code"]
            else ""
        )
    shown = ("queued", "running", "failed", "dead")
    return render_template("jobs.html", rows=rows, status=status, statuses=shown)


@bp.get("/jobs/<job_id>")
@allow(*STAFF_PAGES)
def job(job_id: str) -> str:
    return render_template("job.html", job=job_status(job_id))


__all__ = ["bp", "ingest_queue", "job_status", "start_ingest", "stop_ingests"]
