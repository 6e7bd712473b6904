"""The fixity audit report's renderings (HTML, CSV, JSON, PDF), written by one entry point.

ISO 16363 §4.4.1.2 asks a repository to monitor the integrity of its AIPs actively and §5.1.1.3 to
detect bit corruption or loss; this report is the evidence an auditor reads: what was checked in
a period, how much of the holdings was checked within the fixity cycle, every failure with what
was done about it, and the incidents still open. The data is built from the catalog by
:func:`workflows.custody.fixity_report.build_fixity_report`; here it is only shaped and rendered, so that
the HTML, CSV and JSON renderings show the same values, and each carries the report's digest
(SHA-256 of the canonical JSON of the data) so that a printed copy can be matched to the system.

The data and its digest are in :mod:`workflows.custody.fixity_data`, the HTML page in
:mod:`entrypoints.reports.fixity_html`, PDF printing in :mod:`entrypoints.reports.printing`; this
module is the one entry point that writes any of the four formats.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from entrypoints.reports.fixity_html import render_html
from entrypoints.reports.fixity_labels import Labels
from entrypoints.reports.printing import print_pdf
from preservation.atomic_file import write_atomic
from workflows.custody.fixity_data import (
    COPY_COLUMNS,
    FAILURE_COLUMNS,
    INCIDENT_COLUMNS,
    RUN_COLUMNS,
    SERIES_COLUMNS,
    FixityReport,
    copy_rows,
    raw,
    report_digest,
    row_values,
)

ReportFormat = Literal["html", "csv", "json", "pdf"]


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


def render_csv(report: FixityReport, *, language: str = "vi") -> str:
    """Sections ``[summary]`` (``figure,value,label``), ``[failures]``, ``[open_incidents]``,
    ``[copies]``, ``[runs]``, ``[series]``, each with a header row, separated by an empty row."""
    labels = Labels(language)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["[summary]"])
    w.writerow(["figure", "value", "label"])
    for name, value in report.figures().items():
        w.writerow([name, raw(value), labels.one(f"figure.{name}")])
    tables: list[tuple[str, Sequence[str], list[tuple[Any, ...]]]] = [
        ("failures", FAILURE_COLUMNS, [row_values(r) for r in report.failures]),
        ("open_incidents", INCIDENT_COLUMNS, [row_values(r) for r in report.open_incidents]),
        ("copies", COPY_COLUMNS, copy_rows(report)),
        ("runs", RUN_COLUMNS, [row_values(r) for r in report.runs]),
        ("series", SERIES_COLUMNS, [row_values(r) for r in report.series]),
    ]
    for title, columns, rows in tables:
        w.writerow([])
        w.writerow([f"[{title}]"])
        w.writerow(columns)
        w.writerows([raw(v) for v in row] for row in rows)
    return buf.getvalue()


__all__ = ["ReportFormat", "render", "render_csv", "render_json"]
