"""Biên bản giao nhận: the handover record of an accepted transfer, as HTML and as PDF.

The biên bản is what the source agency and the Historical Archive sign when records change hands
(Luật Lưu trữ 2024 on thu nộp; TT 06/2025/TT-BNV details khoản 3 Điều 19, the thu nộp procedure;
the list of hồ sơ carries the TT 05/2025 dossier data set: mã hồ sơ, tiêu đề, thời gian, thời hạn
lưu trữ, mức độ tiếp cận, số tài liệu, số trang, vn-standards.md §1.2). Labels of the code lists
come from ``config/tt05/codelists.toml`` through :func:`preservation.tt05.tables.shipped_tables`.

The data is gathered by ``workflows.records.handover.handover_data``; here it is only rendered. The PDF
is printed by headless Chromium with :func:`entrypoints.reports.printing.print_pdf` (the same
printer as the fixity report). A PDF cannot carry its own digest, so the SHA-256 of the PDF is
stored on the transfer and printed in the footer of the HTML rendering, which is the copy that
proves which PDF was issued. Chromium stamps the print time into the PDF (to the second), so a
reprint has a new digest, unless it is printed within the same second: the transfer keeps the
digest of every printed copy (``Transfer.handover_prints``), as a copy already signed and handed
to the agency must stay provable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from lxml import etree

from entrypoints.reports.printing import print_pdf
from preservation.tt05.tables import Tables, shipped_tables
from repository.i18n import Translator
from workflows.records.handover import Handover, HandoverDossier

_CSS = """
body { font-family: "DejaVu Serif", "Noto Serif", "Times New Roman", serif; font-size: 11pt;
       color: #000; margin: 0; }
.head { display: flex; justify-content: space-between; text-align: center; margin-bottom: 1.2em; }
.head div { width: 48%; } .head b { display: block; }
.motto { text-decoration: underline; font-weight: bold; }
h1 { text-align: center; font-size: 14pt; margin: .6em 0 .2em; }
p.sub { text-align: center; margin: 0 0 1em; font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; }
th, td { border: 1px solid #000; padding: 2px 4px; vertical-align: top; font-size: 9.5pt; }
th { background: #eee; } td.num { text-align: right; white-space: nowrap; }
td.code { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; overflow-wrap: anywhere;
          min-width: 10em; }
p { margin: .35em 0; }
tr { break-inside: avoid; }
.sign { display: flex; justify-content: space-around; text-align: center; margin-top: 2em;
        min-height: 7em; }
.sign div { width: 45%; }
.footer { margin-top: 2em; border-top: 1px solid #888; font-size: 8.5pt; color: #333; }
.digest { font-family: "DejaVu Sans Mono", monospace; word-break: break-all; }
@page { size: A4; margin: 15mm 15mm 15mm 20mm; }
"""

COLUMNS = ("no", "code", "title", "dates", "maintenance", "mode", "documents", "pages")


def _tables() -> Tables:
    return shipped_tables()


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


class _Text(Protocol):
    """A text of the ``transfer.handover`` message section, in the page's language."""

    def __call__(self, key: str, **params: object) -> str: ...


def render_html(handover: Handover, *, language: str = "vi", pdf_sha256: str | None = None) -> str:
    """A self-contained page (inline CSS, no script, no external resource).

    Args:
        handover: the data.
        language: ``vi`` (the biên bản is a Vietnamese document) or ``en`` (a working translation).
        pdf_sha256: the digest of the issued PDF, printed in the footer; the PDF itself is printed
            without it.
    """
    t = Translator(language)

    def tr(key: str, **params: object) -> str:
        return t.text(f"transfer.handover.{key}", params)

    root = etree.Element("html", lang=language)
    head = _el(root, "head")
    _el(head, "meta", charset="utf-8")
    _el(head, "title", f"{tr('title')} — {handover.agency_name}")
    _el(head, "style", _CSS)
    body = _el(root, "body")
    _letterhead(body, handover, tr)
    _statement(body, handover, tr)
    _dossier_table(body, handover, tr, language)
    _signatures(body, handover, tr)
    _footer(body, handover, tr, pdf_sha256)
    return etree.tostring(root, method="html", encoding="unicode", doctype="<!DOCTYPE html>") + "\n"


def _letterhead(body: etree._Element, handover: Handover, tr: _Text) -> None:
    """The archive on the left, the national motto on the right."""
    top = _el(body, "div", class_="head")
    left = _el(top, "div")
    _el(left, "b", handover.archive_name.upper(), data_field="archive_name")
    if handover.archive_id:
        _el(left, "span", f"{tr('archive_id')}: {handover.archive_id}", data_field="archive_id")
    right = _el(top, "div")
    _el(right, "b", tr("nation"))
    _el(right, "span", tr("motto"), class_="motto")


def _statement(body: etree._Element, handover: Handover, tr: _Text) -> None:
    """The title and the paragraphs above the list: who gave, who received, when, what."""
    zone = ZoneInfo(handover.timezone)
    decided = handover.decided_at.astimezone(zone)
    received = handover.received_at.astimezone(zone)
    _el(body, "h1", tr("title"))
    _el(body, "p", tr("subtitle", package=handover.package_name), class_="sub")
    _el(
        body,
        "p",
        tr("opening", day=f"{decided.day:02d}", month=f"{decided.month:02d}", year=decided.year,
           archive=handover.archive_name),
        data_field="decided_on",
        data_value=decided.date().isoformat(),
    )  # fmt: skip
    _el(body, "p", tr("giver", agency=handover.agency_name, organ_id=handover.organ_id), data_field="agency")
    _el(
        body,
        "p",
        tr("receiver", archive=handover.archive_name, by=handover.received_by),
        data_field="receiver",
    )
    _el(body, "p", tr("received", when=received.strftime("%d/%m/%Y %H:%M"), package=handover.package_name))
    if handover.plan_reference:
        _el(body, "p", tr("plan", reference=handover.plan_reference), data_field="plan")
    _el(
        body,
        "p",
        tr("decided", when=decided.strftime("%d/%m/%Y %H:%M"), by=handover.decided_by),
        data_field="decided",
    )
    total_docs, total_pages = _totals(handover)
    _el(body, "p", tr("content", dossiers=len(handover.dossiers), documents=total_docs, pages=total_pages))


def _totals(handover: Handover) -> tuple[int, int]:
    """(documents, pages) over every hồ sơ; a hồ sơ without a page count counts none."""
    return sum(d.documents for d in handover.dossiers), sum(d.pages or 0 for d in handover.dossiers)


def _dossier_table(body: etree._Element, handover: Handover, tr: _Text, language: str) -> None:
    """The list of hồ sơ, one row each, and the totals."""
    tables = _tables()
    table = _el(body, "table", data_table="dossiers", data_rows=str(len(handover.dossiers)))
    head_row = _el(_el(table, "thead"), "tr")
    for col in COLUMNS:
        _el(head_row, "th", tr(f"col.{col}"))
    tbody = _el(table, "tbody")
    for number, d in enumerate(handover.dossiers, start=1):
        _dossier_row(_el(tbody, "tr", data_row=d.code), number, d, tables, language)
    total_docs, total_pages = _totals(handover)
    total = _el(_el(table, "tfoot"), "tr")
    _el(total, "th", tr("total"), colspan="6")
    _el(total, "td", str(total_docs), class_="num", data_field="documents_total")
    _el(total, "td", str(total_pages), class_="num", data_field="pages_total")


def _dossier_row(row: etree._Element, number: int, d: HandoverDossier, tables: Tables, language: str) -> None:
    """The cells of one hồ sơ; code list values shown by their label, the code kept in ``data-value``."""
    dates = " – ".join(x for x in (d.start_date, d.end_date) if x)
    cells: Sequence[tuple[str, str, str]] = (
        ("no", str(number), "num"),
        ("code", d.code, "code"),
        ("title", d.title, ""),
        ("dates", dates, ""),
        (
            "maintenance",
            tables.label("maintenance", d.maintenance, language) if d.maintenance else "",
            "",
        ),
        ("mode", tables.label("mode", d.mode, language) if d.mode else "", ""),
        ("documents", str(d.documents), "num"),
        ("pages", "" if d.pages is None else str(d.pages), "num"),
    )
    for col, text, css in cells:
        attrs = {"data_field": col}
        if css:
            attrs["class_"] = css
        if col in ("maintenance", "mode"):
            attrs["data_value"] = d.maintenance if col == "maintenance" else d.mode
        _el(row, "td", text, **attrs)


def _signatures(body: etree._Element, handover: Handover, tr: _Text) -> None:
    """The number of copies, then a signature block for the giver and one for the receiver."""
    _el(body, "p", tr("copies"))
    sign = _el(body, "div", class_="sign")
    for key, name in (("sign_giver", ""), ("sign_receiver", handover.received_by)):
        block = _el(sign, "div")
        _el(block, "b", tr(key))
        _el(block, "br")
        _el(block, "i", tr("sign_hint"))
        if name:
            _el(block, "p", name)


def _footer(body: etree._Element, handover: Handover, tr: _Text, pdf_sha256: str | None) -> None:
    """The transfer and AIP identifiers, and the issued PDF's digest when there is one."""
    footer = _el(body, "div", class_="footer")
    _el(footer, "p", tr("footer", transfer=handover.transfer_id, aip=handover.aip_id))
    if pdf_sha256:
        p = _el(footer, "p", f"{tr('pdf_digest')}: ")
        _el(p, "span", pdf_sha256, class_="digest", data_field="pdf_sha256")


def render_pdf(
    handover: Handover, *, language: str = "vi", chromium: str | None = None, timeout: float = 120.0
) -> bytes:
    """The biên bản printed by headless Chromium.

    Raises:
        ChromiumNotFound, PdfFailed: see :func:`entrypoints.reports.printing.print_pdf`.
    """
    return print_pdf(render_html(handover, language=language), chromium=chromium, timeout=timeout)


@dataclass(frozen=True)
class ChromiumPrinter:
    """The :class:`workflows.records.handover.HandoverPrinter` the entry points give
    :func:`workflows.records.handover.issue_handover`: the page of :func:`render_html`, printed to
    PDF by headless Chromium. The workflow records what was issued; rendering stays here, with
    the entry points that own presentation."""

    chromium: str | None = None
    timeout: float = 120.0

    def pdf(self, handover: Handover, *, language: str) -> bytes:
        return render_pdf(handover, language=language, chromium=self.chromium, timeout=self.timeout)

    def html(self, handover: Handover, *, language: str, pdf_sha256: str) -> str:
        return render_html(handover, language=language, pdf_sha256=pdf_sha256)


__all__ = ["COLUMNS", "ChromiumPrinter", "render_html", "render_pdf"]
