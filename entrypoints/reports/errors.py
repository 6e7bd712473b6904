"""Why a report could not be rendered: typed errors with a stable ``code`` (texts in the message
catalogs), shared by every report (fixity audit, handover) and by PDF printing. A period that
cannot be reported on is the builder's error (:class:`workflows.custody.fixity_data.ReportPeriodError`).
"""

from __future__ import annotations

from preservation.errors import ErrorKind, KholuuError


class ReportError(KholuuError):
    """A report could not be written. ``code`` and ``params`` give the catalog text."""

    code = "report.error"


class ChromiumNotFound(ReportError):
    """No headless Chromium to print the PDF with (the HTML, CSV and JSON need none)."""

    code = "report.chromium_missing"
    kind = ErrorKind.UNAVAILABLE


class PdfFailed(ReportError):
    """Chromium ran but gave no PDF: exit code, timeout or output that is not a PDF."""

    code = "report.pdf_failed"


__all__ = ["ChromiumNotFound", "PdfFailed", "ReportError"]
