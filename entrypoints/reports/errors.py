"""Why a report could not be made: typed errors with a stable ``code`` (texts in the message
catalogs), shared by every report (fixity audit, handover) and by PDF printing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from preservation.errors import ErrorKind, KholuuError


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


__all__ = ["ChromiumNotFound", "PdfFailed", "ReportError", "ReportPeriodError"]
