"""The public catalog, for readers without an account: search and browse, a page per public hồ sơ
and tài liệu, the reader's copy of a public tài liệu's files, and the sitemap.

Everything here asks :mod:`workflows.access.public` what may be shown; a record that is not public
answers exactly as one that does not exist (404 ``records.dossier_not_found``). Stable URLs name
records by their codes as received (mã hồ sơ, mã tài liệu; URL-quoted), never by database ids: the
code is the archival identifier (TT 05/2025), it survives re-import, migration and a re-submission
under ``--supersedes`` (the code then names the record that replaced it). A tài liệu without a code
is ``#<ordinal>`` within its hồ sơ.

:data:`PUBLIC_ENDPOINTS` lists the endpoints of this blueprint and of :mod:`entrypoints.web.oai`
and :mod:`entrypoints.web.public_api`: the ones an access rule table must leave open to everyone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound
from werkzeug.wsgi import wrap_file

from entrypoints.web.access import allow
from entrypoints.web.context import context
from entrypoints.web.params import BadParameter, check_language, whole_number
from repository.actor import Role
from repository.catalog.catalog_search import (
    COUNT_LIMIT,
    FACETS,
    RECORD_TYPES,
    CatalogPage,
    Filters,
    catalog_search,
)
from repository.catalog.records import Document, Dossier, Fonds, SourceAgency
from repository.catalog.records_core import code_label
from workflows.access.access_copy import fetch_copy, reader_copies, remove, spool_folder
from workflows.access.linked_data import RecordLinks, record_graph, serialize
from workflows.access.public import (
    PUBLIC,
    document_key,
    public_count,
    public_document,
    public_documents,
    public_dossier,
    public_urls,
)

bp = Blueprint("public", __name__)
bp.before_request(check_language)

#: Endpoints anyone may reach, without logging in (this blueprint, OAI-PMH and the public API).
PUBLIC_ENDPOINTS = (
    "public.search",
    "public.dossier",
    "public.document",
    "public.copy",
    "public.sitemap_index",
    "public.sitemap",
    "public_api.search",
    "public_api.dossier",
    "public_api.document",
    "oai.endpoint",
    "oai.tt05_schema",
    "static",
)
PAGE_SIZE = 20
MAX_PAGE = COUNT_LIMIT // PAGE_SIZE  # the pages of what is counted; narrow the search to go further
SITEMAP_SIZE = 50_000  # URLs per sitemap file (sitemaps.org protocol limit)
#: The viewer's own policy: the browser's PDF viewer and images, nothing else.
COPY_CSP = (
    "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
)


def search_params() -> tuple[str, Filters, int]:
    """``q``, the facet filters and the 1-based ``page`` of a search request, read strictly."""
    kind = request.args.get("type", "").strip() or None
    if kind is not None and kind not in RECORD_TYPES:
        raise BadParameter(
            "web.bad_choice",
            f"type={kind!r} is not one of {', '.join(RECORD_TYPES)}",
            {"name": "type", "value": kind, "choices": ", ".join(RECORD_TYPES)},
        )
    filters = Filters(
        type=kind,
        fonds=request.args.get("fonds", "").strip() or None,
        agency=request.args.get("agency", "").strip() or None,
        year=whole_number("year", 1000, 9999),
    )
    return request.args.get("q", ""), filters, whole_number("page", 1, MAX_PAGE) or 1


def run_search(session: Session, text: str, filters: Filters, page: int) -> CatalogPage:
    return catalog_search(
        session, text, visible=PUBLIC, filters=filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )


@dataclass(frozen=True)
class HitView:
    kind: str  # dossier | doc | pic | media
    code: str
    title: str
    url: str
    dossier_code: str
    dossier_title: str
    date: str


def hit_views(page: CatalogPage) -> list[HitView]:
    """The hits as pages and the API show them (call inside the session)."""
    views = []
    for hit in page.hits:
        record = hit.record
        if isinstance(record, Dossier):
            url = url_for("public.dossier", code=record.code)
            date = "–".join(d for d in (record.start_date, record.end_date) if d)
            views.append(HitView("dossier", record.code, record.title, url, record.code, record.title, date))
        else:
            dossier = record.dossier
            key = document_key(record)
            url = url_for("public.document", code=dossier.code, doc=key)
            views.append(
                HitView(record.kind, key, record.title, url, dossier.code, dossier.title, record.issued_date)
            )
    return views


@bp.get("/search")
@allow(Role.PUBLIC)
def search() -> str:
    text, filters, page = search_params()
    with context().sessions() as session:
        result = run_search(session, text, filters, page)
        hits = hit_views(result)
    last = max((result.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render_template(
        "public_search.html",
        text=text,
        filters=filters,
        result=result,
        hits=hits,
        page=page,
        last=min(last, MAX_PAGE),
        facets=FACETS,
        args=_kept_args(),
    )


def _kept_args() -> dict[str, str]:
    return {
        k: v for k, v in request.args.items() if k in ("q", "type", "fonds", "agency", "year", "lang") and v
    }


def _names(session: Session, dossier: Dossier) -> tuple[str, str]:
    fonds = session.get(Fonds, dossier.fonds_id) if dossier.fonds_id else None
    agency = session.get(SourceAgency, dossier.agency_id) if dossier.agency_id else None
    return (fonds.name if fonds else "", agency.name if agency else "")


def links(session: Session, record: Dossier | Document, parts: list[Document] | None = None) -> RecordLinks:
    """The absolute URLs the record's linked data names (on the host the request came to)."""
    root = request.url_root.rstrip("/")
    settings = context().settings
    dossier = record if isinstance(record, Dossier) else record.dossier
    _, agency = _names(session, dossier)
    if isinstance(record, Dossier):
        own = url_for("public.dossier", code=record.code)
        parent = None
        part_urls = [
            root + url_for("public.document", code=record.code, doc=document_key(d)) for d in parts or []
        ]
    else:
        own = url_for("public.document", code=dossier.code, doc=document_key(record))
        parent = root + url_for("public.dossier", code=dossier.code)
        part_urls = []
    return RecordLinks(
        record=root + own,
        archive=root + url_for("public.search"),
        archive_name=settings.archive.name or "Kho Lưu",
        parent=parent,
        parts=part_urls,
        agency_name=agency,
    )


@bp.get("/records/<code>")
@allow(Role.PUBLIC)
def dossier(code: str) -> str:
    with context().sessions() as session:
        record = public_dossier(session, code)
        documents = public_documents(session, record)
        fonds, agency = _names(session, record)
        jsonld = _embedded(
            serialize(record_graph(session, record, links(session, record, documents)), "jsonld")
        )
        rows = [(d, url_for("public.document", code=record.code, doc=document_key(d))) for d in documents]
        return render_template(
            "public_record.html",
            record=record,
            dossier=record,
            documents=rows,
            fonds=fonds,
            agency=agency,
            label=code_label,
            jsonld=jsonld,
            copies=[],
            api=_api_links("public_api.dossier", code=record.code),
        )


@bp.get("/records/<code>/<doc>")
@allow(Role.PUBLIC)
def document(code: str, doc: str) -> str:
    with context().sessions() as session:
        parent = public_dossier(session, code)
        record = public_document(session, parent, doc)
        fonds, agency = _names(session, parent)
        jsonld = _embedded(serialize(record_graph(session, record, links(session, record)), "jsonld"))
        copies = [
            (c, url_for("public.copy", code=parent.code, doc=document_key(record), uuid=c.original_uuid))
            for c in reader_copies(session, record)
        ]
        return render_template(
            "public_record.html",
            record=record,
            dossier=parent,
            documents=[],
            fonds=fonds,
            agency=agency,
            label=code_label,
            jsonld=jsonld,
            copies=copies,
            api=_api_links("public_api.document", code=parent.code, doc=document_key(record)),
        )


def _embedded(jsonld: str) -> str:
    """JSON-LD safe inside ``<script>``: no ``</`` can end the element early."""
    return jsonld.replace("</", "<\\/")


def _api_links(endpoint: str, **values: Any) -> dict[str, str]:
    return {fmt: url_for(endpoint, fmt=fmt, **values) for fmt in ("jsonld", "ttl")}


@bp.get("/records/<code>/<doc>/files/<uuid>")
@allow(Role.PUBLIC)
def copy(code: str, doc: str, uuid: str) -> Response:
    """The reader's copy of one file of a public tài liệu: inline when a browser shows it (PDF,
    images), with byte ranges (``Range``) for large files."""
    ctx = context()
    with ctx.sessions() as session:
        parent = public_dossier(session, code)
        record = public_document(session, parent, doc)
        chosen = {c.original_uuid: c for c in reader_copies(session, record)}.get(uuid)
        if chosen is None:
            raise NotFound()
        folder = spool_folder()
        try:
            path = fetch_copy(ctx.settings, session, chosen, folder)
            stream = path.open("rb")  # open before the folder goes: nothing is left behind
        finally:
            remove(folder)
    response = Response(wrap_file(request.environ, stream), mimetype=chosen.mime, direct_passthrough=True)
    response.content_length = chosen.size
    disposition = "inline" if chosen.inline else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(chosen.name)}"
    response.set_etag(chosen.sha256)
    response.make_conditional(request, accept_ranges=True, complete_length=chosen.size)
    response.headers["Content-Security-Policy"] = COPY_CSP
    return response


@bp.get("/sitemap.xml")
@allow(Role.PUBLIC)
def sitemap_index() -> Response:
    """A sitemap index (sitemaps.org): one sitemap file per :data:`SITEMAP_SIZE` public records."""
    with context().sessions() as session:
        total = public_count(session)
    root = request.url_root.rstrip("/")
    count = max((total + SITEMAP_SIZE - 1) // SITEMAP_SIZE, 1)
    body = render_template(
        "sitemap_index.xml", urls=[root + url_for("public.sitemap", n=n) for n in range(1, count + 1)]
    )
    return Response(body, mimetype="application/xml")


@bp.get("/sitemap-<int:n>.xml")
@allow(Role.PUBLIC)
def sitemap(n: int) -> Response:
    if n < 1:
        raise NotFound()
    root = request.url_root.rstrip("/")
    with context().sessions() as session:
        urls = list(_urls(session, root, (n - 1) * SITEMAP_SIZE))
    if not urls and n > 1:
        raise NotFound()
    return Response(render_template("sitemap.xml", urls=urls), mimetype="application/xml")


def _urls(session: Session, root: str, offset: int) -> Iterator[str]:
    for dossier_code, key in public_urls(session, offset, SITEMAP_SIZE):
        if key is None:
            yield root + url_for("public.dossier", code=dossier_code)
        else:
            yield root + url_for("public.document", code=dossier_code, doc=key)


__all__ = ["PAGE_SIZE", "PUBLIC_ENDPOINTS", "bp", "hit_views", "links", "run_search", "search_params"]
