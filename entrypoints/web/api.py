"""``/api/v1``: AIPs, jobs, ingests (with the chunked upload protocol) and the fixity report as
JSON, and the OpenAPI document of it all at ``/api/v1/openapi.json`` (docs/web.md).

Authentication is the access guard's: a bearer API token, or the staff session cookie (then a
write carries the CSRF token in ``X-CSRFToken``, as the ingest page's script does). Errors are
the coded-error JSON of the app's error handlers. Every view declares its OpenAPI operation with
:func:`entrypoints.web.openapi.operation`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from entrypoints.web.access import CUSTODY, FIXITY_READERS, STAFF_PAGES, allow, current_actor
from entrypoints.web.api_schemas import INGEST_BODY, PAGING, SCHEMAS, UPLOAD_START, path_param
from entrypoints.web.context import context
from entrypoints.web.jobs import job_status, start_ingest
from entrypoints.web.openapi import json_response, openapi_document, operation, ref
from entrypoints.web.params import BadParameter, check_language, page_number
from repository import __version__
from repository.actor import Role
from repository.catalog import queries
from repository.catalog.models import AipStatus
from workflows.ingest import uploads

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(check_language)

PER_PAGE_MAX = 200


@bp.get("/openapi.json")
@allow(Role.PUBLIC)
@operation(
    "GET",
    summary="This OpenAPI document",
    responses={200: json_response("OpenAPI 3.1", {"type": "object"})},
    schemas=SCHEMAS,
    errors=(),
    public=True,
)
def openapi() -> Response:
    return jsonify(openapi_document(current_app, title="Kho Lưu API", version=__version__))


def _status() -> AipStatus | None:
    raw = request.args.get("status", "").strip()
    if not raw:
        return None
    try:
        return AipStatus(raw)
    except ValueError:
        choices = ", ".join(s.value for s in AipStatus)
        raise BadParameter(
            "web.bad_choice", f"status={raw!r}", {"name": "status", "value": raw, "choices": choices}
        ) from None


@bp.get("/aips")
@allow(*STAFF_PAGES)
@operation(
    "GET",
    summary="AIPs, newest first, a page at a time",
    parameters=PAGING,
    responses={200: json_response("A page of AIPs", ref("AipPage"))},
    errors=(400, 401, 403),
)
def aips() -> Response:
    page = page_number("page")
    per_page = page_number("per_page", default=50, most=PER_PAGE_MAX)
    with context().sessions() as session:
        items, total = queries.aip_page(
            session, offset=(page - 1) * per_page, limit=per_page, status=_status()
        )
    return jsonify({"items": items, "page": page, "per_page": per_page, "total": total})


@bp.get("/aips/<aip_id>")
@allow(*STAFF_PAGES)
@operation(
    "GET",
    summary="One AIP: metadata, files, copies, versions, PREMIS events",
    parameters=[path_param("aip_id", "uuid-…, a bare UUID or an unambiguous prefix")],
    responses={200: json_response("The AIP", ref("Aip"))},
    errors=(401, 403, 404),
)
def aip(aip_id: str) -> Response:
    with context().sessions() as session:
        return jsonify(queries.aip_detail(session, queries.resolve_aip_id(session, aip_id)))


@bp.get("/jobs/<job_id>")
@allow(*STAFF_PAGES)
@operation(
    "GET",
    summary="A job: status, steps, errors and, while it runs here, its progress",
    parameters=[path_param("job_id", "The job id (or an unambiguous prefix)")],
    responses={200: json_response("The job", ref("Job"))},
    errors=(401, 403, 404),
)
def job(job_id: str) -> Response:
    return jsonify(job_status(job_id))


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadParameter("web.api.json_object", "the body must be a JSON object", {})
    return body


def _field(body: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = body.get(name, default)
    if value is None and default is None:
        raise BadParameter("web.api.missing_field", f"{name} is required", {"name": name})
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadParameter("web.api.bad_field", f"{name}={value!r}", {"name": name, "value": value})
    return value


def _upload_json(upload: uploads.Upload) -> dict[str, Any]:
    return {
        "upload_id": upload.upload_id,
        "name": upload.name,
        "size": upload.size,
        "offset": upload.offset,
        "complete": upload.complete,
        "chunk_bytes": context().settings.web.upload_chunk_mib * 1024 * 1024,
    }


@bp.post("/uploads")
@allow(*CUSTODY)
@operation(
    "POST",
    summary="Announce a SIP upload (name and size); send its bytes with PATCH",
    request_body={"required": True, "content": {"application/json": {"schema": UPLOAD_START}}},
    responses={201: json_response("The upload, at offset 0", ref("Upload"))},
    errors=(400, 401, 403),
)
def upload_start() -> tuple[Response, int, dict[str, str]]:
    body = _json_body()
    name, size = _field(body, "name", str), _field(body, "size", int)
    upload = uploads.start_upload(context().settings, name=name, size=size, owner=current_actor().name)
    where = url_for("api.upload", upload_id=upload.upload_id)
    return jsonify(_upload_json(upload)), 201, {"Location": where}


def _content_range(length: int) -> int:
    """The chunk's first byte from ``Content-Range: bytes START-END/TOTAL`` (END inclusive)."""
    header = request.headers.get("Content-Range", "")
    unit, _, spec = header.partition(" ")
    span, _, _total = spec.partition("/")
    first, _, last = span.partition("-")
    if unit != "bytes" or not first.isdigit() or not last.isdigit() or int(last) - int(first) + 1 != length:
        raise BadParameter("web.upload.bad_range", f"Content-Range {header!r}", {"value": header})
    return int(first)


@bp.get("/uploads/<upload_id>")
@allow(*CUSTODY)
@operation(
    "GET",
    summary="How many bytes of the upload the server holds (resume from offset)",
    parameters=[path_param("upload_id", "The upload id")],
    responses={200: json_response("The upload", ref("Upload"))},
    errors=(401, 403, 404),
)
def upload(upload_id: str) -> Response:
    state = uploads.upload_state(context().settings, upload_id, owner=current_actor().name)
    return jsonify(_upload_json(state))


@bp.patch("/uploads/<upload_id>")
@allow(*CUSTODY)
@operation(
    "PATCH",
    summary="Append a chunk at the server's offset (Content-Range: bytes a-b/size)",
    parameters=[
        path_param("upload_id", "The upload id"),
        {
            "name": "Content-Range",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"},
        },
    ],
    request_body={
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    responses={200: json_response("The upload after the chunk", ref("Upload"))},
    errors=(400, 401, 403, 404, 409),
)
def upload_chunk(upload_id: str) -> Response:
    settings, owner = context().settings, current_actor().name
    uploads.upload_state(settings, upload_id, owner=owner)  # 404 first: no such upload
    length = request.content_length
    if length is None:
        raise BadParameter("web.upload.no_length", "Content-Length is required", {})
    start = _content_range(length)
    state = uploads.write_chunk(
        settings,
        upload_id,
        owner=owner,
        start=start,
        length=length,
        stream=request.stream,
    )
    return jsonify(_upload_json(state))


@bp.post("/ingests")
@allow(*CUSTODY)
@operation(
    "POST",
    summary="Ingest a finished upload or a SIP of the transfer folder, as a job",
    request_body={"required": True, "content": {"application/json": {"schema": INGEST_BODY}}},
    responses={202: json_response("The job, queued", ref("IngestStarted"))},
    errors=(400, 401, 403, 404),
)
def ingests() -> tuple[Response, int, dict[str, str]]:
    body = _json_body()
    options = {
        "allow_duplicate": _field(body, "allow_duplicate", bool, False),
        "organ_id": _field(body, "agency", str, ""),
    }
    job_id = start_ingest(body.get("upload_id"), body.get("transfer"), options)
    where = url_for("api.job", job_id=job_id)
    return jsonify({"job_id": job_id, "status": "queued", "job": where}), 202, {"Location": where}


@bp.get("/reports/fixity")
@allow(*FIXITY_READERS)
@operation(
    "GET",
    summary="The fixity audit report, as kholuu report fixity --format json writes it",
    parameters=[
        {"name": n, "in": "query", "required": False, "schema": {"type": "string", "format": "date"}}
        for n in ("since", "until")
    ],
    responses={200: json_response("The report", ref("FixityReport"))},
    errors=(400, 401, 403),
)
def fixity() -> Response:
    from entrypoints.web.reports import report_file

    return report_file("json", download=False)


__all__ = ["SCHEMAS", "bp"]
