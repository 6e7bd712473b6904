"""``/aips`` and ``/aips/<id>``: the AIPs the archive holds, and one AIP as staff read it.

The figures are the command line's: ``kholuu aip list``/``show`` (:mod:`repository.catalog.queries`)
and ``kholuu aip history`` (:mod:`repository.catalog.history`). The AIP page shows its metadata,
its files by representation with their formats and validity, its versions and what each changed,
the PREMIS timeline in the reader's language (each event's ``detail_code`` through the message
catalogs), and each copy with the outcome of its last fixity check.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from entrypoints.web.access import STAFF_PAGES, allow
from entrypoints.web.context import context, translator
from entrypoints.web.params import check_language, page_number
from repository.catalog import queries
from repository.catalog.history import aip_history

bp = Blueprint("holdings", __name__)
bp.before_request(check_language)

PER_PAGE = 50


@bp.get("/aips")
@allow(*STAFF_PAGES)
def aips() -> str:
    page = page_number("page")
    with context().sessions() as session:
        items, total = queries.aip_page(session, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return render_template("aips.html", items=items, total=total, page=page, pages=pages)


def event_type(kind: str) -> str:
    """A PREMIS event type in the reader's language (the PREMIS term when there is no text)."""
    return translator().text(f"web.event_type.{kind.replace(' ', '_')}", default=kind)


def _timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    t = translator()
    rows = []
    for e in sorted(events, key=lambda e: (e["datetime"] or "", e["identifier"])):
        rows.append(
            e
            | {
                "type_text": event_type(e["type"]),
                "detail_text": t.event_detail(e["detail_code"], e["detail_params"], e["detail"]),
                "agents_text": ", ".join(f"{a['name']} {a['version'] or ''}".strip() for a in e["agents"]),
            }
        )
    return rows


def _representations(files: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Files by representation (``package`` for METS, PREMIS and the rest), originals first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in sorted(files, key=lambda f: (f["role"] != "original", f["aip_path"])):
        groups.setdefault(f["representation"] or "package", []).append(f)
    return groups


@bp.get("/aips/<aip_id>")
@allow(*STAFF_PAGES)
def aip(aip_id: str) -> str:
    with context().sessions() as session:
        found = queries.resolve_aip_id(session, aip_id)
        detail = queries.aip_detail(session, found)
        history = aip_history(session, found)
    copies = sorted(detail["copies"], key=lambda c: (-c["version"], c["location"]))
    return render_template(
        "aip.html",
        aip=detail,
        representations=_representations(detail["files"]),
        versions=list(reversed(history["versions"])),
        timeline=_timeline(detail["events"]),
        copies=copies,
        event_type=event_type,
    )


__all__ = ["bp", "event_type"]
