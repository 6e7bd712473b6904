"""The fixity audit report: its data, its digest, and its renderings (HTML, CSV, JSON, PDF).

ISO 16363 §4.4.1.2 asks a repository to monitor the integrity of its AIPs actively and §5.1.1.3 to
detect bit corruption or loss; this report is the evidence an auditor reads: what was checked in
a period, how much of the holdings was checked within the fixity cycle, every failure with what
was done about it, and the incidents still open. The data is built from the catalog by
:func:`workflows.custody.fixity_report.build_fixity_report`; here it is only shaped and rendered, so that
the HTML, CSV and JSON renderings show the same values, and each carries the report's digest
(SHA-256 of the canonical JSON of the data) so that a printed copy can be matched to the system.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from lxml import etree

from preservation.errors import ErrorKind, KholuuError
from repository.i18n import Translator

ReportFormat = Literal["html", "csv", "json", "pdf"]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ReportError(KholuuError):
    """A report could not be written. ``code`` and ``params`` give the catalog text."""

    code = "report.error"


class ReportPeriodError(ReportError):
    """The period asked for cannot be reported on: longer than ``[audit] report_max_days``
    (``report.period_too_long``), or a day outside what a date and time can hold
    (``report.bad_period``). The reader's mistake: exit 2 on the command line, 400 on the web."""

    kind = ErrorKind.USAGE

    def __init__(self, message: str, *, code: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, params=params)
        self.code = code


class ChromiumNotFound(ReportError):
    """No headless Chromium to print the PDF with (the HTML, CSV and JSON need none)."""

    code = "report.chromium_missing"
    kind = ErrorKind.UNAVAILABLE


class PdfFailed(ReportError):
    """Chromium ran but gave no PDF: exit code, timeout or output that is not a PDF."""

    code = "report.pdf_failed"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Summary:
    """The report's figures. Runs, copies, files and bytes are sums over the audit runs that
    started in the period; failures are the findings detected in it; holdings and the cycle
    figures describe the catalog at ``until``; open incidents are all open ones, whatever the
    period (an incident stays on every report until a person acknowledges it)."""

    runs: int
    copies_checked: int
    objects_checked: int
    files_checked: int
    bytes_checked: int
    could_not_check: int
    holdings_objects: int
    holdings_bytes: int
    holdings_copies: int
    copies_within_cycle: int
    holdings_pct_within_cycle: float | None
    objects_within_cycle: int
    objects_pct_within_cycle: float | None
    failures: int
    failures_repaired: int
    failures_moved_aside: int
    failures_no_good_copy: int
    failures_repair_off: int
    failures_no_repair: int
    open_incidents: int


@dataclass(frozen=True)
class RunRow:
    id: str
    started_at: datetime
    ended_at: datetime | None
    status: str
    trigger: str
    mode: str
    location: str | None
    copies_checked: int
    files_checked: int
    bytes_checked: int
    failures: int
    repaired: int
    incidents: int
    could_not_check: int


@dataclass(frozen=True)
class CopyRow:
    """One copy of the current version of a held AIP, as of its last audit. ``status`` is the
    copy's true state (``stored``, ``damaged``, ``pending``, ``failed``): a copy whose last check
    found damage that is still there is ``damaged`` although its catalog row says stored."""

    location: str
    status: str
    last_checked_at: datetime | None
    check_outcome: str | None
    within_cycle: bool


@dataclass(frozen=True)
class ObjectRow:
    aip_id: str
    label: str
    status: str
    version: int
    payload_bytes: int
    copies: tuple[CopyRow, ...]


@dataclass(frozen=True)
class FailureRow:
    id: int
    run_id: str
    detected_at: datetime
    aip_id: str
    version: int
    location: str
    path: str
    kind: str
    code: str
    message: str
    repair: str
    repaired_from: str | None
    event_id: str | None


@dataclass(frozen=True)
class IncidentRow:
    id: int
    aip_id: str
    location: str
    path: str
    kind: str
    code: str
    message: str
    opened_at: datetime
    run_id: str


@dataclass(frozen=True)
class DayRow:
    """Copies checked by the runs that started that day, failures detected that day (in the
    report's time zone)."""

    day: date
    copies_checked: int
    failures: int


@dataclass(frozen=True)
class FixityReport:
    """Everything the report says. ``digest`` is :func:`report_digest` of the rest."""

    archive_name: str
    generated_at: datetime
    since: datetime
    until: datetime
    cycle_days: int
    timezone: str
    summary: Summary
    runs: tuple[RunRow, ...]
    objects: tuple[ObjectRow, ...]
    failures: tuple[FailureRow, ...]
    open_incidents: tuple[IncidentRow, ...]
    series: tuple[DayRow, ...]
    row_limit: int = 0
    """The most rows any table lists (``[audit] report_max_rows``); 0: no limit. The summary's
    counts are always complete: a table with fewer rows than its count was cut here."""
    digest: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types: datetimes as ISO 8601 with offset, dates as ISO dates, tuples as lists."""
        data = _plain(self)
        assert isinstance(data, dict)
        return data

    def figures(self) -> dict[str, Any]:
        """The headline figures, in the order the HTML and CSV list them."""
        head = {
            "archive_name": self.archive_name,
            "generated_at": self.generated_at,
            "since": self.since,
            "until": self.until,
            "cycle_days": self.cycle_days,
            "timezone": self.timezone,
            "digest": self.digest,
        }
        return head | {f.name: getattr(self.summary, f.name) for f in fields(self.summary)}


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):  # datetime too
        return _iso(value)
    return value


def _iso(value: date) -> str:
    """ISO 8601; a time to the second, with the offset it carries (the builder gives every time
    in the report's time zone, so the files read as the archive's local time)."""
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else value.isoformat()


def document_digest(data: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of a report document (sorted keys, no whitespace,
    UTF-8), leaving out its ``digest`` key: anyone holding the JSON export can recompute it."""
    payload = {k: v for k, v in data.items() if k != "digest"}
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def report_digest(report: FixityReport) -> str:
    """The digest the report carries: :func:`document_digest` of :meth:`FixityReport.as_dict`."""
    return document_digest(report.as_dict())


# --------------------------------------------------------------------------- labels

_EN: dict[str, str] = {
    "title": "Fixity audit report",
    "period": "Period",
    "digest_note": "SHA-256 of the report data as canonical JSON (sorted keys, no spaces, UTF-8), without "
    "the digest itself. The JSON and CSV exports of this report carry the same value.",
    "section.summary": "Summary",
    "section.plot": "Checks and failures per day",
    "section.failures": "Failures and their repair",
    "section.incidents": "Open incidents",
    "section.objects": "Copies per object and where",
    "section.runs": "Audit runs in the period",
    "nothing": "None.",
    "yes": "yes",
    "no": "no",
    "figure.archive_name": "Archive",
    "figure.generated_at": "Generated at",
    "figure.since": "From",
    "figure.until": "Until",
    "figure.cycle_days": "Fixity cycle (days)",
    "figure.timezone": "Time zone of the days",
    "figure.digest": "Report digest",
    "figure.runs": "Audit runs",
    "figure.copies_checked": "Copies checked",
    "figure.objects_checked": "Objects checked",
    "figure.files_checked": "Files checked",
    "figure.bytes_checked": "Bytes checked",
    "figure.could_not_check": "of which could not be checked",
    "figure.holdings_objects": "Objects held",
    "figure.holdings_bytes": "Bytes held",
    "figure.holdings_copies": "Stored copies held",
    "figure.copies_within_cycle": "Copies checked within the cycle",
    "figure.holdings_pct_within_cycle": "% of copies checked within the cycle",
    "figure.objects_within_cycle": "Objects with every copy checked within the cycle",
    "figure.objects_pct_within_cycle": "% of objects with every copy checked within the cycle",
    "figure.failures": "Failures",
    "figure.failures_repaired": "Failures repaired",
    "figure.failures_moved_aside": "Unexpected files moved aside",
    "figure.failures_no_good_copy": "Failures with no good copy",
    "figure.failures_repair_off": "Failures not repaired (repair off)",
    "figure.failures_no_repair": "Failures with no repair attempted",
    "figure.open_incidents": "Open incidents",
    "col.detected_at": "Detected",
    "col.aip_id": "AIP",
    "col.label": "Title",
    "col.status": "Status",
    "col.version": "Version",
    "col.location": "Location",
    "col.path": "Path",
    "col.kind": "Problem",
    "col.code": "Code",
    "col.message": "Message",
    "col.repair": "Repair",
    "col.repaired_from": "Repaired from",
    "col.opened_at": "Opened",
    "col.run_id": "Audit run",
    "col.last_checked_at": "Last checked",
    "col.check_outcome": "Outcome",
    "col.within_cycle": "Within cycle",
    "col.started_at": "Started",
    "col.ended_at": "Ended",
    "col.trigger": "Trigger",
    "col.mode": "Mode",
    "col.copies_checked": "Copies",
    "col.bytes_checked": "Bytes",
    "col.failures": "Failures",
    "col.day": "Day",
    "col.id": "ID",
    "col.event_id": "PREMIS event",
    "col.aip_status": "AIP status",
    "col.copy_status": "Copy status",
    "col.files_checked": "Files",
    "col.repaired": "Repaired",
    "col.incidents": "Incidents",
    "col.could_not_check": "Could not check",
    "repair.repaired": "repaired",
    "repair.moved aside": "moved aside",
    "repair.no good copy": "no good copy",
    "repair.repair off": "repair off",
    "repair.none": "none",
    "kind.corrupt": "corrupt",
    "kind.missing": "missing",
    "kind.unexpected": "unexpected",
    "kind.manifest": "manifest",
    "outcome.passed": "passed",
    "outcome.repaired": "repaired",
    "outcome.failed": "failed",
    "outcome.could not check": "could not check",
    "state.stored": "stored",
    "state.damaged": "damaged, not repaired",
    "state.pending": "copy queued",
    "state.failed": "write failed",
    "finding.corrupt": "File {path} in location '{location}' is corrupt: its content differs from the "
    "recorded digest.",
    "finding.missing": "File {path} in location '{location}' is missing.",
    "finding.unexpected": "Unexpected file {path} in location '{location}' (not in the package inventory).",
    "finding.manifest": "The package inventory in location '{location}' is faulty: {path}.",
    "finding.unavailable": "The copy in location '{location}' could not be read.",
    "truncated": "Only {shown} of {total} are listed (limit [audit] report_max_rows); the summary's "
    "figures are complete. Choose a shorter period to see them all.",
    "times_note": "Dates and times are local time ({timezone}).",
}
"""Label texts by key (``report.<key>`` in the message catalogs); English, the fallback."""


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class _Labels:
    language: str

    def one(self, key: str, params: Mapping[str, Any] | None = None) -> str:
        default = _EN.get(key, key)
        if params:
            default = default.format_map(_Blank(params))
        return Translator(self.language).text(f"report.{key}", params, default=default)

    def english(self, key: str) -> str | None:
        """The English text when it adds something (the page is not already in English)."""
        text = Translator("en").text(f"report.{key}", default=_EN.get(key, key))
        return None if text == self.one(key) else text


# --------------------------------------------------------------------------- rendering


def render(
    report: FixityReport,
    fmt: ReportFormat,
    out: Path,
    *,
    language: str = "vi",
    chromium: str | None = None,
    timeout: float = 120.0,
) -> None:
    """Write the report to ``out`` atomically (temporary file in the same folder, then rename).

    Args:
        report: the report; its digest must match its data.
        fmt: ``html`` (self-contained page), ``csv`` (UTF-8 with BOM, one section per kind of
            row), ``json`` (:meth:`FixityReport.as_dict`) or ``pdf`` (the HTML printed by
            headless Chromium).
        out: the file to write.
        language: of the labels (``vi`` shows English second).
        chromium: the Chromium executable for PDF (default: looked up on ``PATH``).
        timeout: seconds Chromium may take.

    Raises:
        ValueError: the report's digest does not match its data.
        ChromiumNotFound, PdfFailed: PDF only.
    """
    if report.digest != report_digest(report):
        raise ValueError("the report's digest does not match its data (changed after it was built?)")
    if fmt == "html":
        data = render_html(report, language=language).encode("utf-8")
    elif fmt == "csv":
        data = render_csv(report, language=language).encode("utf-8-sig")
    elif fmt == "json":
        data = render_json(report).encode("utf-8")
    elif fmt == "pdf":
        data = print_pdf(render_html(report, language=language), chromium=chromium, timeout=timeout)
    else:
        raise ValueError(f"unknown report format {fmt!r}")
    write_atomic(out, data)


def render_json(report: FixityReport) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def raw(value: Any) -> str:
    """A value as the CSV cell and the HTML ``data-value`` show it (the JSON value as text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return _iso(value)
    return str(value)


FAILURE_COLUMNS = tuple(f.name for f in fields(FailureRow))
INCIDENT_COLUMNS = tuple(f.name for f in fields(IncidentRow))
RUN_COLUMNS = tuple(f.name for f in fields(RunRow))
COPY_COLUMNS: tuple[str, ...] = ("aip_id", "label", "aip_status", "version", "location", "copy_status")
COPY_COLUMNS += ("last_checked_at", "check_outcome", "within_cycle")
SERIES_COLUMNS = ("day", "copies_checked", "failures")


def copy_rows(report: FixityReport) -> list[tuple[Any, ...]]:
    """Copies per object, one row per copy (objects with no copy get one row with no location)."""
    rows: list[tuple[Any, ...]] = []
    for o in report.objects:
        for c in o.copies or (None,):
            head = (o.aip_id, o.label, o.status, o.version)
            if c is None:
                rows.append((*head, None, None, None, None, False))
            else:
                rows.append((*head, c.location, c.status, c.last_checked_at, c.check_outcome, c.within_cycle))
    return rows


def render_csv(report: FixityReport, *, language: str = "vi") -> str:
    """Sections ``[summary]`` (``figure,value,label``), ``[failures]``, ``[open_incidents]``,
    ``[copies]``, ``[runs]``, ``[series]``, each with a header row, separated by an empty row."""
    labels = _Labels(language)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["[summary]"])
    w.writerow(["figure", "value", "label"])
    for name, value in report.figures().items():
        w.writerow([name, raw(value), labels.one(f"figure.{name}")])
    tables: list[tuple[str, Sequence[str], list[tuple[Any, ...]]]] = [
        ("failures", FAILURE_COLUMNS, [_row(r) for r in report.failures]),
        ("open_incidents", INCIDENT_COLUMNS, [_row(r) for r in report.open_incidents]),
        ("copies", COPY_COLUMNS, copy_rows(report)),
        ("runs", RUN_COLUMNS, [_row(r) for r in report.runs]),
        ("series", SERIES_COLUMNS, [_row(r) for r in report.series]),
    ]
    for title, columns, rows in tables:
        w.writerow([])
        w.writerow([f"[{title}]"])
        w.writerow(columns)
        w.writerows([raw(v) for v in row] for row in rows)
    return buf.getvalue()


def _row(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, f.name) for f in fields(obj))


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

    def __init__(self, labels: _Labels, tz: tzinfo) -> None:
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
        table = self.el(parent, "table", data_table=key, data_rows=str(len(rows)))
        head = self.el(self.el(table, "thead"), "tr")
        for col in columns:
            self.el(head, "th", self.labels.one(f"col.{col}") if f"col.{col}" in _EN else col)
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
        if col == "message" and row is not None and f"finding.{kind}" in _EN:
            shown = self.labels.one(
                f"finding.{kind}", {"path": row.get("path"), "location": row.get("location")}
            )
        elif isinstance(value, datetime):
            shown, css = value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M"), "when"
        elif isinstance(value, bool):
            shown = self.labels.one("yes" if value else "no")
        elif isinstance(value, int | float):
            shown, css = text, "num"
        elif col in _WORDS and f"{_WORDS[col]}.{value}" in _EN:
            shown = self.labels.one(f"{_WORDS[col]}.{value}")
        else:
            shown = text
        extra = {"data_value": text} if shown != text else {}
        self.el(tr, "td", shown, data_field=col, class_=css, **extra)


_WORDS = {"repair": "repair", "kind": "kind", "check_outcome": "outcome", "copy_status": "state"}
"""Columns whose values are codes with a label (``report.<prefix>.<value>``)."""


def render_html(report: FixityReport, *, language: str = "vi") -> str:
    """A self-contained page: inline CSS and SVG, no script, no external resource."""
    labels = _Labels(language)
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
    active = [_row(d) for d in report.series if d.copies_checked or d.failures]
    h.table(body, "series", SERIES_COLUMNS, active, row_id="day")

    summary_of = report.summary
    h.heading(body, "h2", "section.failures")
    h.table(body, "failures", FAILURE_COLUMNS, [_row(r) for r in report.failures], row_id="id")
    _cut_note(h, body, len(report.failures), summary_of.failures)
    h.heading(body, "h2", "section.incidents")
    h.table(body, "open_incidents", INCIDENT_COLUMNS, [_row(r) for r in report.open_incidents], row_id="id")
    _cut_note(h, body, len(report.open_incidents), summary_of.open_incidents)
    h.heading(body, "h2", "section.objects")
    h.table(body, "copies", COPY_COLUMNS, copy_rows(report), row_id="aip_id")
    _cut_note(h, body, len(report.objects), summary_of.holdings_objects)
    h.heading(body, "h2", "section.runs")
    h.table(body, "runs", RUN_COLUMNS, [_row(r) for r in report.runs], row_id="id")
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


def _plot(report: FixityReport, labels: _Labels) -> etree._Element:
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


# --------------------------------------------------------------------------- PDF and files


def find_chromium(explicit: str | None = None) -> str:
    """The Chromium executable: ``explicit``, else the first of :data:`CHROMIUM_NAMES` on ``PATH``.

    Raises:
        ChromiumNotFound: naming what was looked for.
    """
    names = (explicit,) if explicit else CHROMIUM_NAMES
    found = next((path for path in map(shutil.which, names) if path), None)
    if found is None:
        raise ChromiumNotFound(
            f"headless Chromium is needed to print the PDF report and none was found (tried: "
            f"{', '.join(names)}); install it (Debian: apt-get install chromium) or choose --format html",
            params={"tried": ", ".join(names)},
        )
    return found


def run_chromium(args: Sequence[str], *, chromium: str | None = None, timeout: float = 120.0) -> bytes:
    """Run headless Chromium (no sandbox, no GPU, a throw-away profile) with ``args`` and return
    its stdout. On timeout the whole process group is killed (Chromium forks helpers).

    Raises:
        ChromiumNotFound: no executable.
        PdfFailed: timeout or non-zero exit, with a stderr excerpt.
    """
    exe = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="kholuu-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            *args,
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise PdfFailed(
                f"{exe} did not finish within {timeout:g} s", params={"tool": exe, "problem": "timeout"}
            ) from None
    if proc.returncode != 0:
        excerpt = stderr.decode("utf-8", "replace")[-1500:]
        raise PdfFailed(
            f"{exe} exited with {proc.returncode}: {excerpt}",
            params={"tool": exe, "problem": f"exit code {proc.returncode}"},
        )
    return stdout


def print_pdf(html: str, *, chromium: str | None = None, timeout: float = 120.0) -> bytes:
    """Print an HTML page to PDF with headless Chromium and return the PDF bytes.

    Raises:
        ChromiumNotFound, PdfFailed: see :func:`run_chromium`; PdfFailed also when the output is
            missing or does not start with ``%PDF-``.
    """
    with tempfile.TemporaryDirectory(prefix="kholuu-report-") as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        run_chromium(
            ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
            chromium=chromium,
            timeout=timeout,
        )
        data = pdf.read_bytes() if pdf.exists() else b""
    if not data.startswith(b"%PDF-"):
        raise PdfFailed(
            "Chromium wrote no PDF (the output is missing or not a PDF)",
            params={"tool": chromium or "chromium", "problem": "no PDF output"},
        )
    return data


def write_atomic(out: Path, data: bytes) -> None:
    """Temporary file beside ``out`` (created with the umask's permissions), fsync, rename."""
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


__all__ = [
    "ChromiumNotFound",
    "CopyRow",
    "DayRow",
    "FailureRow",
    "FixityReport",
    "IncidentRow",
    "ObjectRow",
    "PdfFailed",
    "ReportError",
    "ReportFormat",
    "ReportPeriodError",
    "RunRow",
    "Summary",
    "document_digest",
    "find_chromium",
    "print_pdf",
    "raw",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "report_digest",
    "run_chromium",
]
