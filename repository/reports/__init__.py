"""Reports for auditors and managers, rendered from data built elsewhere (the catalog queries
live in ``workflows``; this package only shapes and renders).

* :mod:`.fixity`: the fixity audit report (ISO 16363 §4.4.1.2, §5.1.1.3) as HTML, CSV, JSON, PDF.
"""

from __future__ import annotations

from repository.reports.fixity import (
    ChromiumNotFound,
    FixityReport,
    PdfFailed,
    ReportError,
    ReportFormat,
    document_digest,
    render,
    report_digest,
)

__all__ = [
    "ChromiumNotFound",
    "FixityReport",
    "PdfFailed",
    "ReportError",
    "ReportFormat",
    "document_digest",
    "render",
    "report_digest",
]
