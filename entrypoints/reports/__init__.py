"""Reports for auditors and managers, rendered from data built elsewhere (the catalog queries
live in ``workflows``; this package only shapes and renders).

* :mod:`.fixity`: the fixity audit report (ISO 16363 §4.4.1.2, §5.1.1.3) as HTML, CSV, JSON, PDF;
  its data and digest in :mod:`.fixity_data`, labels in :mod:`.fixity_labels`, the page in
  :mod:`.fixity_html`.
* :mod:`.printing`: PDF printing with headless Chromium and atomic file writes (every report).
* :mod:`.errors`: the reports' typed errors.
"""

from __future__ import annotations

from entrypoints.reports.errors import ChromiumNotFound, PdfFailed, ReportError
from entrypoints.reports.fixity import ReportFormat, render
from workflows.custody.fixity_data import FixityReport, document_digest, report_digest

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
