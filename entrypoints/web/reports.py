"""``/reports/fixity``: the fixity audit report for auditors (ISO 16363 §4.4.1.2, §5.1.1.3), as a
page and as the files ``kholuu report fixity`` writes.

The report is built by :func:`workflows.custody.fixity_report.fixity_report_for` and rendered by
:mod:`entrypoints.reports.fixity`, exactly as the command line does: the page embeds the body of
the very HTML the command writes, and ``/reports/fixity.<html|csv|json|pdf>`` answers with the
bytes ``render`` writes. The digest covers the moment the report was made, so the page's download
links carry that moment (``generated_at``): the files then match the page, and the command's
file for the same days and moment, as long as the catalog's figures have not changed. A reader
holding a printed report can reproduce it the same way and see whether the digests still agree.

Parameters: ``since`` (first day, default 30 days before), ``until`` (the day after the last;
default: up to the moment the report is made; at most ``[audit] report_max_days`` after ``since``,
else 400), ``generated_at`` (ISO 8601 with offset; default
now; never in the future), ``lang``. Days are the audit time zone's (``[audit] timezone``).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import cast
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template
from markupsafe import Markup

from entrypoints.reports.fixity import ReportFormat, render
from entrypoints.reports.fixity_html import render_html
from entrypoints.web.access import FIXITY_READERS, allow
from entrypoints.web.context import context, translator
from entrypoints.web.params import BadParameter, check_language, day, link, moment
from workflows.custody.fixity_data import FixityReport, ReportPeriodError
from workflows.custody.fixity_report import fixity_report_for, report_now, report_period

bp = Blueprint("reports", __name__, url_prefix="/reports")
bp.before_request(check_language)

FORMATS: tuple[ReportFormat, ...] = ("html", "csv", "json", "pdf")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
}
DEFAULT_DAYS = 30
"""Days before today the period starts when the reader gives no ``since``."""
CLOCK_SKEW = timedelta(minutes=1)
"""How far in the future a ``generated_at`` may be (clocks of the reader and the server differ)."""


def _report() -> tuple[FixityReport, date, date | None]:
    """The report the query asks for, with the days it was asked for."""
    settings = context().settings
    zone = ZoneInfo(settings.audit.timezone)
    now = report_now()  # to the second, rounded up
    pinned = moment("generated_at")
    if pinned is not None and pinned > now + CLOCK_SKEW:
        raise BadParameter(
            "web.future_moment",
            f"generated_at={pinned.isoformat()} is in the future",
            {"name": "generated_at", "value": pinned.isoformat()},
        )
    at = (pinned or now).astimezone(UTC)
    since = day("since") or at.astimezone(zone).date() - timedelta(days=DEFAULT_DAYS)
    until = day("until")
    try:
        start, end = report_period(since, until, tz=zone, now=at)
        if end <= start:
            raise BadParameter(
                "web.empty_period",
                f"since {start.date()} is not before the end of the period ({end.date()})",
                {"since": since.isoformat(), "until": end.astimezone(zone).date().isoformat()},
            )
        report = fixity_report_for(settings, context().sessions, since=start, until=end, generated_at=at)
    except ReportPeriodError as exc:  # a period too long or out of range: the reader's to change
        raise BadParameter(exc.code, str(exc), exc.params) from None
    return report, since, until


def _downloads(report: FixityReport, since: date, until: date | None) -> list[tuple[str, str]]:
    pinned = report.generated_at.isoformat()
    return [
        (
            fmt,
            link(
                "reports.fixity_file",
                fmt=fmt,
                since=since.isoformat(),
                until=until.isoformat() if until else None,
                generated_at=pinned,
            ),
        )
        for fmt in FORMATS
    ]


def _split(page: str) -> tuple[str, Markup]:
    """The report page's stylesheet and body, cut from the text ``render_html`` made (not parsed
    and re-serialised: the page shows the same markup as the file)."""
    head, _, rest = page.partition("<body>")
    body, _, _ = rest.rpartition("</body>")
    style = head.partition("<style>")[2].partition("</style>")[0]
    return style, Markup(body)  # made by lxml, which escaped every text and attribute


@bp.get("/fixity")
@allow(*FIXITY_READERS)
def fixity() -> Response:
    report, since, until = _report()
    style, body = _split(render_html(report, language=translator().language))
    page = render_template(
        "fixity.html",
        report=report,
        since=since,
        until=until,
        report_style=style,
        report_body=body,
        downloads=_downloads(report, since, until),
    )
    response = Response(page, mimetype="text/html")
    response.headers["X-Report-Digest"] = report.digest
    return response


@bp.get("/fixity.<any(html, csv, json, pdf):fmt>")
@allow(*FIXITY_READERS)
def fixity_file(fmt: str) -> Response:
    """The report as ``kholuu report fixity --format FMT`` writes it, byte for byte."""
    return report_file(fmt)


def report_file(fmt: str, *, download: bool = True) -> Response:
    """The report the query asks for, as the file ``render`` writes (``/api/v1/reports/fixity``
    answers with the JSON one, not as a download)."""
    report, since, until = _report()
    with TemporaryDirectory(prefix="kholuu-web-report-") as tmp:
        out = Path(tmp) / f"report.{fmt}"
        render(report, cast(ReportFormat, fmt), out, language=translator().language)
        data = out.read_bytes()
    last = until or report.generated_at.astimezone(ZoneInfo(report.timezone)).date()
    response = Response(data, content_type=MEDIA_TYPES[fmt])
    filename = f"fixity-report_{since.isoformat()}_{last.isoformat()}.{fmt}"
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Report-Digest"] = report.digest
    return response


__all__ = ["FORMATS", "bp", "report_file"]
