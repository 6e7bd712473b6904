"""The documents the archive issues, rendered for auditors, managers and source agencies. The data
is built by the workflows, which return dataclasses; rendering is presentation, so it lives with
the entry points (the command line and the web app render the same data the same way).

* :mod:`.fixity`: the fixity audit report (ISO 16363 §4.4.1.2, §5.1.1.3) as HTML, CSV, JSON, PDF;
  its data and digest in :mod:`workflows.custody.fixity_data`, labels in :mod:`.fixity_labels`,
  the page in :mod:`.fixity_html`.
* :mod:`.handover`: the biên bản giao nhận of an accepted transfer (data in
  :mod:`workflows.records.handover`), and the :class:`.handover.ChromiumPrinter` the handover
  workflow prints with.
* :mod:`.printing`: PDF printing with headless Chromium (every report).
* :mod:`.policy_text`: the format policy in words, for ``kholuu policy`` and ``/policy``.
* :mod:`.errors`: the renderers' typed errors.
"""

from __future__ import annotations

from entrypoints.reports.errors import ChromiumNotFound, PdfFailed, ReportError
from entrypoints.reports.fixity import ReportFormat, render

__all__ = [
    "ChromiumNotFound",
    "PdfFailed",
    "ReportError",
    "ReportFormat",
    "render",
]
