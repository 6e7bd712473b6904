"""The public catalog as data, without a token: ``GET /api/v1/search?q=`` (JSON) and each public
record's linked data, ``/api/v1/records/<mã hồ sơ>[/<mã tài liệu>].jsonld|.ttl`` (Dublin Core terms,
Schema.org ``ArchiveComponent`` and ``ArchiveOrganization``, PREMIS 3 events of its AIP).

Errors are JSON here (``{"error": code, "message": …}``) with the status of the error's kind, and a
record that is not public is a 404 exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from entrypoints.web.access import allow
from entrypoints.web.api_schemas import path_param, query_int
from entrypoints.web.context import context
from entrypoints.web.openapi import json_response, operation
from entrypoints.web.public import MAX_PAGE, hit_views, links, run_search, search_params
from repository.actor import Role
from workflows.access.linked_data import record_graph, serialize
from workflows.access.public import public_document, public_documents, public_dossier

bp = Blueprint("public_api", __name__, url_prefix="/api/v1")

MEDIA_TYPES = {"jsonld": "application/ld+json", "ttl": "text/turtle"}


_TEXT: dict[str, Any] = {"type": "string"}
_RECORD_ANSWERS: dict[int, dict[str, Any]] = {
    200: {
        "description": "The record as JSON-LD or Turtle: DC terms, Schema.org, its AIP's PREMIS events",
        "content": {"application/ld+json": {"schema": {"type": "object"}}, "text/turtle": {"schema": _TEXT}},
    }
}
_FORMAT: dict[str, Any] = {
    "name": "fmt", "in": "path", "required": True, "schema": {"type": "string", "enum": ["jsonld", "ttl"]}
}  # fmt: skip
_SEARCH_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "q", "in": "query", "required": False, "schema": _TEXT,
        "description": "Words (diacritics optional) and \"quoted phrases\" (exact); empty: everything",
    },
    *(
        {"name": n, "in": "query", "required": False, "schema": _TEXT}
        for n in ("type", "fonds", "agency", "year")
    ),
    query_int("page", "Page number, from 1", 1, MAX_PAGE),
]  # fmt: skip


@bp.get("/search")
@allow(Role.PUBLIC)
@operation(
    "GET",
    summary="Search the public catalog (unrestricted hồ sơ and tài liệu only; no token needed)",
    parameters=_SEARCH_PARAMETERS,
    responses={200: json_response("A page of public hits with facet counts", {"type": "object"})},
    errors=(400,),
    public=True,
)
def search() -> Response:
    """Public hồ sơ and tài liệu: ``q`` (the search syntax of docs/catalog.md; empty: everything),
    ``type``, ``fonds``, ``agency``, ``year``, ``page`` (20 a page)."""
    text, filters, page = search_params()
    with context().sessions() as session:
        result = run_search(session, text, filters, page)
        hits = hit_views(result)
    return jsonify(
        {
            "query": text,
            "total": result.total if result.exact else None,
            "total_at_least": result.total,  # past COUNT_LIMIT + 1 matches counting stops
            "exact": result.exact,
            "page": page,
            "page_size": result.limit,
            "hits": [
                {
                    "type": h.kind,
                    "code": h.code,
                    "title": h.title,
                    "date": h.date,
                    "url": h.url,
                    "dossier": {"code": h.dossier_code, "title": h.dossier_title},
                }
                for h in hits
            ],
            "facets": {
                name: [{"value": v.value, "label": v.label, "count": v.count} for v in values]
                for name, values in result.facets.items()
            },
        }
    )


@bp.get("/records/<code>.<any(jsonld, ttl):fmt>")
@allow(Role.PUBLIC)
@operation(
    "GET",
    summary="A public hồ sơ as linked data",
    parameters=[path_param("code", "mã hồ sơ"), _FORMAT],
    responses=_RECORD_ANSWERS,
    errors=(404,),
    public=True,
)
def dossier(code: str, fmt: str) -> Response:
    with context().sessions() as session:
        record = public_dossier(session, code)
        graph = record_graph(session, record, links(session, record, public_documents(session, record)))
        return Response(serialize(graph, fmt), mimetype=MEDIA_TYPES[fmt])


@bp.get("/records/<code>/<doc>.<any(jsonld, ttl):fmt>")
@allow(Role.PUBLIC)
@operation(
    "GET",
    summary="A public tài liệu as linked data",
    parameters=[path_param("code", "mã hồ sơ"), path_param("doc", "mã tài liệu, or #N"), _FORMAT],
    responses=_RECORD_ANSWERS,
    errors=(404,),
    public=True,
)
def document(code: str, doc: str, fmt: str) -> Response:
    with context().sessions() as session:
        record = public_document(session, public_dossier(session, code), doc)
        graph = record_graph(session, record, links(session, record))
        return Response(serialize(graph, fmt), mimetype=MEDIA_TYPES[fmt])


__all__ = ["bp"]
