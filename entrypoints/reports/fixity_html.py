"""The fixity report as a self-contained HTML page (inline CSS and SVG plot, no script), the
rendering an auditor reads and the one printed to PDF. Each shown value carries ``data-*``
attributes with the value as the CSV has it, so the page can be checked against the exports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from entrypoints.reports.fixity_labels import ENGLISH, Labels
from workflows.custody.fixity_data import (
    COPY_COLUMNS,
    FAILURE_COLUMNS,
    INCIDENT_COLUMNS,
    RUN_COLUMNS,
    SERIES_COLUMNS,
    DayRow,
    FixityReport,
    copy_rows,
    raw,
    row_values,
)

_CSS = """
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 10pt; color: #111;
       margin: 1.5em; }
h1 { font-size: 16pt; margin: 0 0 .2em; } h2 { font-size: 12pt; margin: 1.4em 0 .4em; }
.en { color: #555; font-weight: normal; font-size: .85em; }
.en::before { content: " / "; }
table { border-collapse: collapse; width: 100%; margin: .3em 0; }
th, td { border: 1px solid #bbb; padding: 2px 4px; text-align: left; vertical-align: top; font-size: 8.5pt; }
td.long { overflow-wrap: anywhere; } td.when { white-space: nowrap; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary { width: auto; } table.summary th { font-weight: normal; background: #f6f6f6; }
.digest { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; word-break: break-all;
          border: 2px solid #111; padding: 4px 8px; display: inline-block; margin: .3em 0; }
.note { color: #444; font-size: 8.5pt; }
.bad { color: #b00020; font-weight: bold; }
svg { max-width: 100%; height: auto; }
tr { break-inside: avoid; }
@page { size: A4; margin: 12mm; }
"""


class _Html:
    """A tiny builder over lxml elements (lxml escapes text and attributes)."""

    def __init__(self, labels: Labels, tz: tzinfo) -> None:
        self.labels = labels
        self.tz = tz

    @staticmethod
    def el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        node = etree.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()})
        if text is not None:
            node.text = text
        return node

    def heading(self, parent: etree._Element, tag: str, key: str) -> etree._Element:
        node = self.el(parent, tag, self.labels.one(key))
        english = self.labels.english(key)
        if english:
            self.el(node, "span", english, class_="en")
        return node

    def table(
        self,
        parent: etree._Element,
        key: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        row_id: str,
    ) -> None:
        """A table whose cells carry ``data-field`` (and ``data-value``, see :meth:`cell`); with no
        rows, a "None." line instead."""
        if not rows:
            self.el(parent, "p", self.labels.one("nothing"), data_table=key, data_rows="0")
            return
        # Focusable: on a phone a wide table scrolls in its own box, which a keyboard must reach.
        table = self.el(parent, "table", data_table=key, data_rows=str(len(rows)), tabindex="0")
        head = self.el(self.el(table, "thead"), "tr")
        for col in columns:
            self.el(head, "th", self.labels.one(f"col.{col}") if f"col.{col}" in ENGLISH else col)
        body = self.el(table, "tbody")
        for row in rows:
            tr = self.el(body, "tr", data_row=raw(row[columns.index(row_id)]))
            values = dict(zip(columns, row, strict=True))
            for col, value in values.items():
                self.cell(tr, col, value, values)

    def cell(self, tr: etree._Element, col: str, value: Any, row: Mapping[str, Any] | None = None) -> None:
        """Codes (repair, kind, outcome, copy state) and yes/no in words, a finding's English
        machine message as a sentence in the reader's language (by its kind), times in the
        report's time zone to the minute; then ``data-value`` keeps the value as the CSV has it."""
        text, css = raw(value), "long"
        kind = (row or {}).get("kind")
        if col == "message" and row is not None and f"finding.{kind}" in ENGLISH:
            shown = self.labels.one(
                f"finding.{kind}", {"path": row.get("path"), "location": row.get("location")}
            )
        elif isinstance(value, datetime):
            shown, css = value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M"), "when"
        elif isinstance(value, bool):
            shown = self.labels.one("yes" if value else "no")
        elif isinstance(value, int | float):
            shown, css = text, "num"
        elif col in _WORDS and f"{_WORDS[col]}.{value}" in ENGLISH:
            shown = self.labels.one(f"{_WORDS[col]}.{value}")
        else:
            shown = text
        extra = {"data_value": text} if shown != text else {}
        self.el(tr, "td", shown, data_field=col, class_=css, **extra)


_WORDS = {"repair": "repair", "kind": "kind", "check_outcome": "outcome", "copy_status": "state"}
"""Columns whose values are codes with a label (``report.<prefix>.<value>``)."""


def render_html(report: FixityReport, *, language: str = "vi") -> str:
    """A self-contained page: inline CSS and SVG, no script, no external resource."""
    labels = Labels(language)
    h = _Html(labels, ZoneInfo(report.timezone))
    root = etree.Element("html", lang=language)
    head = h.el(root, "head")
    h.el(head, "meta", charset="utf-8")
    h.el(head, "title", f"{labels.one('title')} — {report.archive_name}")
    h.el(head, "style", _CSS)
    body = h.el(root, "body")

    h.heading(body, "h1", "title")
    h.el(body, "p", report.archive_name, data_figure="archive_name", class_="archive")
    p = h.el(body, "p", f"{labels.one('period')}: ")
    generated = f" · {labels.one('figure.generated_at')}: "
    shown = _period_text(report)
    for name, after in (("since", " → "), ("until", generated), ("generated_at", "")):
        value = raw(getattr(report, name))
        h.el(p, "span", shown[name], data_figure=name, data_value=value).tail = after
    h.el(body, "p", labels.one("times_note", {"timezone": report.timezone}), class_="note")
    _digest_block(h, body, report)

    h.heading(body, "h2", "section.summary")
    summary = h.el(body, "table", class_="summary")
    skip = {"archive_name", "since", "until", "generated_at", "digest"}
    for name, value in report.figures().items():
        if name in skip:
            continue
        tr = h.el(summary, "tr")
        h.heading(tr, "th", f"figure.{name}")
        td = h.el(tr, "td", class_="num")
        span = h.el(td, "span", raw(value) or "—", data_figure=name, data_value=raw(value))
        if name in {"failures_no_good_copy", "open_incidents"} and value:
            span.set("class", "bad")
        if name.endswith("_pct_within_cycle") and value is not None:
            h.el(td, "span", " %")
        if name.endswith("bytes"):
            h.el(td, "span", f" ({_human_bytes(int(value), language)})")

    h.heading(body, "h2", "section.plot")
    body.append(_plot(report, labels))
    active = [row_values(d) for d in report.series if d.copies_checked or d.failures]
    h.table(body, "series", SERIES_COLUMNS, active, row_id="day")

    summary_of = report.summary
    h.heading(body, "h2", "section.failures")
    h.table(body, "failures", FAILURE_COLUMNS, [row_values(r) for r in report.failures], row_id="id")
    _cut_note(h, body, len(report.failures), summary_of.failures)
    h.heading(body, "h2", "section.incidents")
    h.table(
        body, "open_incidents", INCIDENT_COLUMNS, [row_values(r) for r in report.open_incidents], row_id="id"
    )
    _cut_note(h, body, len(report.open_incidents), summary_of.open_incidents)
    h.heading(body, "h2", "section.objects")
    h.table(body, "copies", COPY_COLUMNS, copy_rows(report), row_id="aip_id")
    _cut_note(h, body, len(report.objects), summary_of.holdings_objects)
    h.heading(body, "h2", "section.runs")
    h.table(body, "runs", RUN_COLUMNS, [row_values(r) for r in report.runs], row_id="id")
    _cut_note(h, body, len(report.runs), summary_of.runs)
    _digest_block(h, body, report)

    text = etree.tostring(root, method="html", encoding="unicode", doctype="<!DOCTYPE html>")
    return text + "\n"


def _period_text(report: FixityReport) -> dict[str, str]:
    """The period as the archive reads it: local days (``until`` is the day after the last, so the
    last day is shown), or a local time to the minute where a bound is not a midnight."""
    tz = ZoneInfo(report.timezone)

    def local(value: datetime, *, last_day: bool = False) -> str:
        at = value.astimezone(tz)
        if at.time() == datetime.min.time():
            return (at.date() - timedelta(days=1) if last_day else at.date()).isoformat()
        return at.strftime("%Y-%m-%d %H:%M")

    return {
        "since": local(report.since),
        "until": local(report.until, last_day=True),
        "generated_at": report.generated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
    }


def _cut_note(h: _Html, body: etree._Element, shown: int, total: int) -> None:
    """Say so when a table lists fewer rows than the summary counts (``row_limit``)."""
    if shown < total:
        h.el(body, "p", h.labels.one("truncated", {"shown": shown, "total": total}), class_="note bad",
             data_truncated=f"{shown}/{total}")  # fmt: skip


def _digest_block(h: _Html, body: etree._Element, report: FixityReport) -> None:
    div = h.el(body, "div", class_="digest-block")
    h.el(div, "span", f"{h.labels.one('figure.digest')}: ")
    h.el(div, "span", report.digest, data_figure="digest", class_="digest")
    h.el(div, "p", h.labels.one("digest_note"), class_="note")


def _human_bytes(n: int, language: str) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            break
        size /= 1000
    text = f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
    return text.replace(".", ",") if language == "vi" else text


def _nice(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (an axis maximum)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def _plot(report: FixityReport, labels: Labels) -> etree._Element:
    """Bars: copies checked per day (left axis); red line and dots: failures (right axis)."""
    width, height, left, right, top, bottom = 760, 250, 50, 50, 30, 40
    pw, ph = width - left - right, height - top - bottom
    days = report.series or (DayRow(report.since.date(), 0, 0),)
    step = pw / len(days)
    cmax = _nice(max(d.copies_checked for d in days))
    fmax = _nice(max(d.failures for d in days))
    title = labels.one("section.plot")
    svg = etree.Element("svg", {"viewBox": f"0 0 {width} {height}", "role": "img", "aria-label": title})
    svg.set("data-figure", "plot")
    el = _Html.el
    el(svg, "title", title)
    for x1, y1, x2, y2 in ((0, ph, pw, ph), (0, 0, 0, ph), (pw, 0, pw, ph)):
        xy = {"x1": str(left + x1), "y1": str(top + y1), "x2": str(left + x2), "y2": str(top + y2)}
        el(svg, "line", **xy, stroke="#333", stroke_width="1")
    for frac in (0.0, 0.5, 1.0):
        y = f"{top + ph - frac * ph:.1f}"
        if (cmax * frac).is_integer():  # counts: no tick at 2.5
            el(svg, "text", f"{cmax * frac:g}", x=str(left - 4), y=y, text_anchor="end", font_size="10")
        if (fmax * frac).is_integer():
            el(svg, "text", f"{fmax * frac:g}", x=str(left + pw + 4), y=y, font_size="10", fill="#b00020")
    every = max(1, -(-len(days) // 10))
    points: list[str] = []
    for i, d in enumerate(days):
        x = left + i * step
        bar_h = ph * d.copies_checked / cmax
        bar = el(
            svg,
            "rect",
            x=f"{x + step * 0.15:.1f}",
            y=f"{top + ph - bar_h:.1f}",
            width=f"{max(step * 0.7, 0.5):.1f}",
            height=f"{bar_h:.1f}",
            fill="#4a78a8",
            data_day=d.day.isoformat(),
            data_copies_checked=str(d.copies_checked),
        )
        el(bar, "title", f"{d.day.isoformat()}: {d.copies_checked}")
        cx, cy = x + step / 2, top + ph - ph * d.failures / fmax
        points.append(f"{cx:.1f},{cy:.1f}")
        dot = el(svg, "circle", cx=f"{cx:.1f}", cy=f"{cy:.1f}", r="2.5", fill="#b00020")
        dot.attrib.update({"data-day": d.day.isoformat(), "data-failures": str(d.failures)})
        el(dot, "title", f"{d.day.isoformat()}: {d.failures}")
        if i % every == 0:
            label = d.day.strftime("%d/%m")
            el(svg, "text", label, x=f"{cx:.1f}", y=str(top + ph + 14), text_anchor="middle", font_size="10")
    el(svg, "polyline", points=" ".join(points), fill="none", stroke="#b00020", stroke_width="1.5")
    el(svg, "rect", x=str(left), y="8", width="12", height="10", fill="#4a78a8")
    el(svg, "text", labels.one("figure.copies_checked"), x=str(left + 16), y="17", font_size="11")
    el(svg, "rect", x=str(left + 260), y="12", width="12", height="2", fill="#b00020")
    el(svg, "text", labels.one("figure.failures"), x=str(left + 276), y="17", font_size="11", fill="#b00020")
    return svg


__all__ = ["render_html"]
