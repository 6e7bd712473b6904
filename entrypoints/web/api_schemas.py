"""The JSON schemas of ``/api/v1`` (OpenAPI 3.1 components): the shapes are the CLI's ``--json``
(``repository/catalog/queries.py``, docs/cli.md)."""

from __future__ import annotations

from typing import Any

STR: dict[str, Any] = {"type": "string"}
OPT_STR: dict[str, Any] = {"type": ["string", "null"]}
INT: dict[str, Any] = {"type": "integer"}
WHEN: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def obj(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    return {"type": "object", "required": sorted(required), "properties": required | optional}


def path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": STR}


def query_int(name: str, description: str, default: int, most: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": 1, "default": default}
    if most is not None:
        schema["maximum"] = most
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


PAGING = [
    query_int("page", "Page number, from 1", 1, 10**9),
    query_int("per_page", "AIPs per page", 50, 200),
    {
        "name": "status",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["stored", "degraded", "storing", "failed"]},
    },
]
AIP_ROW = obj(
    {"aip_id": STR, "label": STR, "status": STR, "files": INT, "bytes": INT, "version": INT},
    package_kind=OPT_STR,
    source_name=OPT_STR,
    created_at=WHEN,
    stored_at=WHEN,
    locations={"type": "array", "items": STR},
)
EVENT = obj(
    {"identifier": STR, "type": STR, "outcome": STR},
    datetime=WHEN,
    detail=STR,
    detail_code=STR,
    detail_params={"type": "object"},
    outcome_detail=STR,
    agents={"type": "array", "items": {"type": "object"}},
    objects={"type": "array", "items": STR},
)
COPY = obj(
    {"location": STR, "version": INT, "status": STR},
    object_path=STR,
    written_at=WHEN,
    verified_at=WHEN,
    last_checked_at=WHEN,
    check_outcome=OPT_STR,
)
FILE = obj(
    {"aip_path": STR, "role": STR, "size": INT, "sha256": STR},
    path=OPT_STR,
    representation=OPT_STR,
    puid=OPT_STR,
    format_name=OPT_STR,
    mime=OPT_STR,
    validity=OPT_STR,
)
AIP = obj(
    {
        "aip_id": STR,
        "label": STR,
        "status": STR,
        "version": INT,
        "files": {"type": "array", "items": FILE},
        "copies": {"type": "array", "items": COPY},
        "events": {"type": "array", "items": EVENT},
    },
    objid=OPT_STR,
    payload_digest=OPT_STR,
    created_at=WHEN,
    stored_at=WHEN,
    job_id=OPT_STR,
    versions={"type": "array", "items": obj({"number": INT}, created_at=WHEN, message=OPT_STR)},
)
PROGRESS = obj({"state": STR, "step": STR, "done": INT, "total": INT, "item": STR})
JOB = obj(
    {
        "job_id": STR,
        "status": {
            "type": "string",
            "enum": ["queued", "running", "completed", "failed", "refused", "interrupted", "dead"],
        },
    },
    kind=STR,
    attempt={"type": ["integer", "null"], "description": "Which attempt the job is at (1 first)"},
    attempt_job_id={"type": "string", "description": "The job row of that attempt"},
    source_name=OPT_STR,
    aip_id=OPT_STR,
    started_at=WHEN,
    ended_at=WHEN,
    error={"type": ["object", "null"]},
    steps={"type": "array", "items": {"type": "object"}},
    errors={"type": "array", "items": {"type": "object"}},
    progress={"oneOf": [PROGRESS, {"type": "null"}]},
)
UPLOAD_START = obj(
    {
        "name": {
            "type": "string",
            "maxLength": 200,
            "description": "The SIP's file name (a path is cut to its last part): .zip, .tar, .tar.gz, .tgz",
        },
        "size": {"type": "integer", "minimum": 1, "description": "Bytes; at most [web] upload_max_gb"},
    }
)
UPLOAD = obj(
    {
        "upload_id": STR,
        "name": STR,
        "size": INT,
        "offset": INT,
        "complete": {"type": "boolean"},
        "chunk_bytes": INT,
    }
)
INGEST_BODY: dict[str, Any] = {
    "type": "object",
    "description": "Exactly one of upload_id (a finished upload) and transfer (a SIP's name in the "
    "transfer folder).",
    "oneOf": [{"required": ["upload_id"]}, {"required": ["transfer"]}],
    "properties": {
        "upload_id": STR,
        "transfer": STR,
        "allow_duplicate": {"type": "boolean", "default": False},
        "agency": {"type": "string", "description": "The sending agency's mã định danh"},
    },
}
INGEST_STARTED = obj({"job_id": STR, "status": STR, "job": STR})
FIXITY = {"type": "object", "description": "docs/audit.md: the fixity report's JSON file"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Aip": AIP,
    "AipPage": obj(
        {"items": {"type": "array", "items": AIP_ROW}, "page": INT, "per_page": INT, "total": INT}
    ),
    "FixityReport": FIXITY,
    "IngestStarted": INGEST_STARTED,
    "Job": JOB,
    "Upload": UPLOAD,
}

__all__ = ["INGEST_BODY", "PAGING", "SCHEMAS", "UPLOAD_START", "path_param"]
