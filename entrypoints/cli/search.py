"""``kholuu search TEXT``: find files by their text (OCR'd scans included) and records by title.

Unquoted words ignore diacritics and case ("quyet dinh" finds "Quyết định"); a quoted phrase must
match with its diacritics (``kholuu search '"Quyết định"'``). The rules and the index are in
:mod:`repository.catalog.search`, the same search the public catalog uses; ``--public`` shows only
what a reader may see there.
"""

from __future__ import annotations

from typing import Any

import click

from entrypoints.cli.app import EXIT_FAILED, current_app, handles_errors, main
from repository.catalog.search import EVERYTHING, SearchHit, SearchPage, search
from workflows.access.public import PUBLIC


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "kind": hit.kind,
        "aip_id": hit.aip_id,
        "path": hit.path,
        "file_uuid": hit.file_uuid,
        "record_code": hit.record_code,
        "title": hit.title,
        "snippet": hit.snippet,
        "score": hit.score,
        "method": hit.method,
        "language": hit.language,
        "confidence": hit.confidence,
    }


def page_json(page: SearchPage) -> dict[str, Any]:
    return {
        "query": page.query.text,
        "words": list(page.query.words),
        "phrases": list(page.query.phrases),
        "hits": [_hit_json(h) for h in page.hits],
        "count": len(page.hits),
        "offset": page.offset,
        "limit": page.limit,
        "more": page.more,
        "index": page.engine,
    }


@main.command("search")
@click.argument("words", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--public", "public_only", is_flag=True, help="Only what readers may see (public catalog).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def search_command(words: tuple[str, ...], limit: int, offset: int, public_only: bool, as_json: bool) -> None:
    """Find files by their text and records by title: "quyet dinh" finds "Quyết định";
    a quoted phrase ("\\"Quyết định\\"") must match with its diacritics."""
    text = " ".join(words)
    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        visible = PUBLIC if public_only else EVERYTHING
        page = search(session, text, limit=limit, offset=offset, visible=visible)
    if as_json:
        app.emit(page_json(page))
        return
    t = app.t
    if not page.hits:
        click.echo(t.text("cli.search.none", {"query": text}))
        return
    for number, hit in enumerate(page.hits, start=offset + 1):
        kind = t.text(f"cli.search.kind_{hit.kind}")
        click.echo(f"{number}. [{kind}] {hit.aip_id}  {hit.path}")
        if hit.title and hit.kind == "file":
            click.echo(f"   {t.text('cli.search.record', {'title': hit.title})}")
        if hit.method == "ocr":
            ocr = {"confidence": hit.confidence, "language": hit.language}
            click.echo(f"   {t.text('cli.search.ocr', ocr)}")
        elif hit.method is not None:
            method = t.text(f"cli.search.method_{hit.method.replace(' ', '_')}")
            click.echo(f"   {t.text('cli.search.method', {'method': method})}")
        click.echo(f"   {hit.snippet}")
    if page.more:
        click.echo(t.text("cli.search.more", {"offset": offset + limit}))


@main.command("reindex")
@click.option("--aip", "aip_id", default=None, metavar="ID", help="Only this AIP.")
@click.option("--ocr", is_flag=True, help="OCR the scans that have no OCR'd copy (slow).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handles_errors
def reindex_command(aip_id: str | None, ocr: bool, as_json: bool) -> None:
    """Extract again, from storage, the search text of files that have none (after
    rebuild-catalog, or for AIPs stored before text extraction)."""
    from repository.catalog import queries
    from workflows.planning.reindex import reindex

    app = current_app()
    app.json_output = as_json
    if aip_id is not None:
        with app.sessions() as session:
            aip_id = queries.resolve_aip_id(session, aip_id)
    report = reindex(app.settings, app.sessions, aip_id=aip_id, ocr=ocr)
    data = report.as_dict()
    if as_json:
        app.emit(data)
    else:
        click.echo(app.t.text("cli.reindex.done", {**data, "failed": len(report.failed)}))
        for failure in report.failed:
            click.echo(f"  - {failure['aip_id']} {failure['path'] or ''}: {failure['message']}", err=True)
    if not report.ok:
        raise SystemExit(EXIT_FAILED)
