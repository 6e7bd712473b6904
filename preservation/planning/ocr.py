"""OCR of scanned PDFs and images of text with OCRmyPDF and Tesseract ("PDF/A hai lớp").

TT 05/2025 keeps scanned text as PDF/A with two layers: the page image and a text layer under it
(vn-standards.md §2.2). ``ocrmypdf -l vie --output-type pdfa-2`` makes exactly that from a scanned
PDF or an image, through Tesseract's Vietnamese model and Ghostscript. One Tesseract pass gives
both the text layer and the confidence: a Tesseract config file (``tessedit_create_tsv 1``) makes
it write the words and their confidences as TSV beside each page's text, in OCRmyPDF's temporary
folder, which is kept (``--keep-temporary-files``) inside ours and removed afterwards.

:func:`file_text` is the one entry point: it reads a file's own text where it has one, and OCRs
only what needs it (an image; the pages of a PDF that show an image and carry no text) when the
caller allows OCR. The tool runs with a time limit, its own ``HOME`` and ``TMPDIR`` (the planning
sandbox, ``preservation.planning.sandbox``, replaces this when it lands).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import statistics
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from preservation.errors import ToolError
from preservation.planning.text import (
    MAX_TEXT_BYTES,
    ExtractedText,
    TextKind,
    TextMethod,
    guess_language,
    pdf_text_layer,
    read_content,
    text_kind,
)
from preservation.tools import run_tool

OCR_NOT_PDFA_EXIT = 10
"""OCRmyPDF's exit code when the OCR worked but the output could not be made PDF/A (its
``ExitCode.pdfa_conversion_failed``): the text is good, the PDF is not an archival master."""


@dataclass(frozen=True)
class OcrOptions:
    """How OCR runs (``[planning]`` in config/defaults.toml says why each value is what it is).

    Attributes:
        languages: Tesseract languages, ``+``-joined (``vie``, ``vie+eng``).
        timeout: seconds one file may take, all pages together.
        max_pages: pages OCR'd per file at most; the rest keep no text layer (OCRmyPDF takes 3-10
            s a page).
        image_dpi: resolution assumed for an image that does not state one.
        min_confidence: mean word confidence (0-100) below which the recognized text is not kept
            for search (a photograph OCR'd gives a few words of noise); the confidence is recorded.
        program: the ``ocrmypdf`` executable.
    """

    languages: str = "vie"
    timeout: float = 900.0
    max_pages: int = 50
    image_dpi: int = 300
    min_confidence: float = 40.0
    program: str = "ocrmypdf"


def file_text(
    path: Path,
    mime: str | None,
    work_dir: Path,
    *,
    ocr: OcrOptions | None,
    timeout: float = 300.0,
    limit: int = MAX_TEXT_BYTES,
) -> ExtractedText | None:
    """The searchable text of one file, OCR'd when it needs it and ``ocr`` is given.

    Returns None for a format without text (audio, video...), and for an image when OCR is off.
    ``work_dir`` is the caller's; an OCR'd PDF is left there (``ExtractedText.ocr_pdf``).

    Raises:
        ToolError: a tool is missing, timed out or failed (``ocr.failed`` for OCRmyPDF).
        PreservationError: ``text.unreadable`` for a file that is not what its format says.
    """
    kind = text_kind(path, mime)
    if kind is None:
        return None
    if kind is TextKind.IMAGE:
        return ocr_file(path, kind, work_dir, ocr, limit=limit) if ocr is not None else None
    if kind is not TextKind.PDF:
        return read_content(path, kind, limit=limit)
    layer = pdf_text_layer(path, work_dir / "layer", timeout=timeout, limit=limit)
    if layer.needs_ocr and ocr is not None:
        return ocr_file(path, kind, work_dir, ocr, pages=layer.scanned_pages, limit=limit)
    scans = len(layer.scanned_pages)
    note = f"{scans} scanned page(s) without a text layer (OCR off)" if scans else ""
    return ExtractedText(
        text=layer.text,
        method=TextMethod.TEXT_LAYER,
        language=guess_language(layer.text),
        pages=layer.pages,
        truncated=layer.truncated,
        tools=(layer.tool,),
        note=note,
    )


def ocr_file(
    path: Path,
    kind: TextKind,
    work_dir: Path,
    options: OcrOptions,
    *,
    pages: tuple[int, ...] = (),
    limit: int = MAX_TEXT_BYTES,
) -> ExtractedText:
    """OCR an image or the ``pages`` of a PDF into a PDF/A-2 with a text layer; its text (the
    born-digital pages' too), and Tesseract's mean word confidence over the OCR'd pages.

    Raises:
        ToolError: ``tool.missing``, ``tool.timeout``, or ``ocr.failed`` with OCRmyPDF's stderr.
    """
    scratch = work_dir / "ocr-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "home").mkdir(parents=True)
    output = work_dir / f"{path.stem[:80]}.ocr.pdf"
    chosen = pages[: options.max_pages]
    try:
        argv = _argv(path, kind, output, scratch, options, chosen)
        run = run_tool("ocrmypdf", argv, timeout=options.timeout, env=_environment(scratch))
        if run.exit_code not in (0, OCR_NOT_PDFA_EXIT) or not output.exists():
            raise ToolError(
                f"ocrmypdf could not OCR {path.name} (exit {run.exit_code})",
                tool="ocrmypdf",
                exit_code=run.exit_code,
                stderr=run.stderr_excerpt,
                code="ocr.failed",
            )
        words = _word_confidences(scratch)
        tsv_pages = len(list(scratch.glob("ocrmypdf.io.*/*.tsv")))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    layer = pdf_text_layer(output, work_dir / "layer", limit=limit)
    confidence = round(statistics.fmean(words), 2) if words else None
    notes = []
    if run.exit_code == OCR_NOT_PDFA_EXIT:
        notes.append("the OCR output could not be made PDF/A")
    if len(pages) > len(chosen):
        notes.append(f"page limit: {len(chosen)} of {len(pages)} scanned pages OCR'd")
    text = layer.text
    if confidence is None or confidence < options.min_confidence:
        notes.append(f"mean word confidence {confidence} below {options.min_confidence}: text not kept")
        text = ""
    return ExtractedText(
        text=text,
        method=TextMethod.OCR,
        language=options.languages,
        confidence=confidence,
        pages=layer.pages,
        pages_ocr=tsv_pages,
        truncated=layer.truncated,
        ocr_pdf=output,
        tools=(("OCRmyPDF", ocrmypdf_version(options.program)), ("Tesseract", tesseract_version())),
        note="; ".join(notes),
    )


def _argv(
    path: Path, kind: TextKind, output: Path, scratch: Path, options: OcrOptions, pages: tuple[int, ...]
) -> list[str]:
    config = scratch / "kholuu-tsv"
    config.write_text("tessedit_create_tsv 1\n", encoding="ascii")
    argv = [
        options.program,
        "--quiet",
        "-l",
        options.languages,
        "--output-type",
        "pdfa-2",
        "--skip-text",  # pages with text keep it; only scans get a text layer
        "--optimize",
        "0",
        "--jobs",
        "1",
        "--keep-temporary-files",  # the per-page TSV with word confidences, inside scratch
        "--tesseract-config",
        os.fspath(config),
    ]
    if kind is TextKind.IMAGE:
        argv += ["--image-dpi", str(options.image_dpi)]
    elif pages:
        argv += ["--pages", ",".join(str(p) for p in pages)]
    return [*argv, "--", os.fspath(path), os.fspath(output)]


def _environment(scratch: Path) -> dict[str, str]:
    """A private HOME and TMPDIR (OCRmyPDF's temporary folder lands in ``scratch``), one OpenMP
    thread (Tesseract's threads only fight each other on a shared server)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.fspath(scratch / "home"),
        "TMPDIR": os.fspath(scratch),
        "LANG": "C.UTF-8",
        "OMP_THREAD_LIMIT": "1",
    }


def _word_confidences(scratch: Path) -> list[float]:
    """Every recognized word's confidence from Tesseract's TSV (level 5 rows with text)."""
    found: list[float] = []
    for tsv in sorted(scratch.glob("ocrmypdf.io.*/*.tsv")):
        with tsv.open(encoding="utf-8", errors="replace", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                try:
                    if row.get("level") == "5" and (row.get("text") or "").strip():
                        conf = float(row.get("conf") or -1)
                        if conf >= 0:
                            found.append(conf)
                except ValueError:
                    continue
    return found


@cache
def ocrmypdf_version(program: str = "ocrmypdf") -> str:
    return _version([program, "--version"], r"(\d+\.\d+[^\s]*)")


@cache
def tesseract_version() -> str:
    return _version(["tesseract", "--version"], r"tesseract\s+v?(\S+)")


def _version(argv: list[str], pattern: str) -> str:
    try:
        run = run_tool(argv[0], argv, timeout=30)
    except ToolError:
        return "unknown"
    match = re.search(pattern, run.stdout + run.stderr)
    return match.group(1) if match else "unknown"
