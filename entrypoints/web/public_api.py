"""The public catalog as data, without a token: ``GET /api/v1/search?q=`` (JSON) and each public
record's linked data, ``/api/v1/records/<mã hồ sơ>[/<mã tài liệu>].jsonld|.ttl`` (Dublin Core terms,
Schema.org ``ArchiveComponent`` and ``ArchiveOrganization``, PREMIS 3 events of its AIP).

Errors are JSON here (``{"error": code, "message": …}``) with the status of the error's kind, and a
record that is not public is a 404 exactly like one that does not exist.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from werkzeug.exceptions import HTTPException

from entrypoints.errors import http_status
from entrypoints.web.access import allow
from entrypoints.web.context import context, translator
from entrypoints.web.public import hit_views, links, run_search, search_params
from preservation.errors import KholuuError
from repository.actor import Role
from workflows.access.linked_data import record_graph, serialize
from workflows.access.public import public_document, public_documents, public_dossier

bp = Blueprint("public_api", __name__, url_prefix="/api/v1")

MEDIA_TYPES = {"jsonld": "application/ld+json", "ttl": "text/turtle"}


@bp.errorhandler(KholuuError)
def _coded(exc: KholuuError) -> tuple[Response, int]:
    message = translator().text(exc.code, exc.params, default=str(exc))
    return jsonify({"error": exc.code, "message": message}), http_status(exc)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    return jsonify(
        {"error": "web.not_found" if status == 404 else "web.http_error", "status": status}
    ), status


@bp.get("/search")
@allow(Role.PUBLIC)
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
def dossier(code: str, fmt: str) -> Response:
    with context().sessions() as session:
        record = public_dossier(session, code)
        graph = record_graph(session, record, links(session, record, public_documents(session, record)))
        return Response(serialize(graph, fmt), mimetype=MEDIA_TYPES[fmt])


@bp.get("/records/<code>/<doc>.<any(jsonld, ttl):fmt>")
@allow(Role.PUBLIC)
def document(code: str, doc: str, fmt: str) -> Response:
    with context().sessions() as session:
        record = public_document(session, public_dossier(session, code), doc)
        graph = record_graph(session, record, links(session, record))
        return Response(serialize(graph, fmt), mimetype=MEDIA_TYPES[fmt])


__all__ = ["bp"]
