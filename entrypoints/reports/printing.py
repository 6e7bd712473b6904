"""Printing a report page to PDF with headless Chromium, shared by the fixity audit report and the
handover report (one way to print). Files are written by :func:`preservation.atomic_file.write_atomic`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from entrypoints.reports.errors import ChromiumNotFound, PdfFailed

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


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


__all__ = ["CHROMIUM_NAMES", "find_chromium", "print_pdf", "run_chromium"]
