"""The text of a payload file, for search: PDF text layers, plain text, DOCX/ODT, HTML and XML.

Extraction streams: a text layer is written by ``pdftotext`` to a file and read back line by line,
office documents and HTML are read with ``lxml``'s ``iterparse`` from inside the package, plain
text line by line. Whatever the file, at most :data:`MAX_TEXT_BYTES` of UTF-8 text are kept (the
rest is not read: ``truncated`` says so), so a 2 GB log file costs 2 MB of memory and catalog.

Text is NFC (Unicode normalization forms, UAX #15): a document typed on macOS (NFD) and one typed
on Windows give the same characters, so "Quyết định" is one string to search. The PDF "needs OCR"
decision is here too (:func:`pdf_text_layer`): a page with an image and no text is a scan, and TT
05/2025 asks for "PDF/A hai lớp" (image plus text layer) for scanned text (vn-standards.md §2.2).
"""

from __future__ import annotations

import codecs
import functools
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

import pikepdf
from lxml import etree

from preservation.errors import PreservationError, ToolError
from preservation.names import fold
from preservation.tools import run_tool

MAX_TEXT_BYTES = 2 * 1024 * 1024
"""UTF-8 bytes of text kept per file (2 MiB, about 300 000 Vietnamese words or 700 pages). Text
past it is not read; search finds a word only in the first 2 MiB of a file's text."""

INDEX_TERM_BYTES = 700_000
"""Budget of distinct search terms per file: PostgreSQL refuses a ``tsvector`` whose distinct
lexemes exceed 1 MiB, so :func:`search_form` stops before a (pathological) text of mostly distinct
tokens, such as a table of numbers, reaches it. Real Vietnamese text has a few thousand distinct
syllables and never comes near."""

TEXT_PAGE_MIN_CHARS = 10
"""A PDF page with fewer non-blank characters than this in its text layer has no text (a page
number or a stray mark on a scan does not make it born-digital)."""


class TextKind(StrEnum):
    """How a file's text is read."""

    PDF = "pdf"
    IMAGE = "image"  # needs OCR
    PLAIN = "plain"
    DOCX = "docx"
    ODT = "odt"
    HTML = "html"
    XML = "xml"


class TextMethod(StrEnum):
    """Where the stored text came from (the ``method`` of the catalog's ``file_text`` row)."""

    TEXT_LAYER = "text layer"  # a PDF's own text
    CONTENT = "content"  # the characters of a text, office or markup file
    OCR = "ocr"  # recognized from page images


_BY_MIME = {
    "application/pdf": TextKind.PDF,
    "image/tiff": TextKind.IMAGE,
    "image/jpeg": TextKind.IMAGE,
    "image/png": TextKind.IMAGE,
    "text/plain": TextKind.PLAIN,
    "text/csv": TextKind.PLAIN,
    "text/html": TextKind.HTML,
    "application/xhtml+xml": TextKind.HTML,
    "application/xml": TextKind.XML,
    "text/xml": TextKind.XML,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": TextKind.DOCX,
    "application/vnd.oasis.opendocument.text": TextKind.ODT,
}
_BY_EXTENSION = {
    ".pdf": TextKind.PDF,
    ".tif": TextKind.IMAGE,
    ".tiff": TextKind.IMAGE,
    ".jpg": TextKind.IMAGE,
    ".jpeg": TextKind.IMAGE,
    ".png": TextKind.IMAGE,
    ".txt": TextKind.PLAIN,
    ".csv": TextKind.PLAIN,
    ".htm": TextKind.HTML,
    ".html": TextKind.HTML,
    ".xml": TextKind.XML,
    ".docx": TextKind.DOCX,
    ".odt": TextKind.ODT,
}


def text_kind(path: Path, mime: str | None) -> TextKind | None:
    """How to read the text of ``path``: by its identified MIME type, else by its extension; None
    for formats with no text to search (audio, video, archives, spreadsheets for now)."""
    if mime:
        kind = _BY_MIME.get(mime.split(";")[0].strip().lower())
        if kind is not None:
            return kind
    return _BY_EXTENSION.get(path.suffix.lower())


@dataclass(frozen=True)
class ExtractedText:
    """The text of one file, as the catalog keeps it.

    Attributes:
        text: NFC text, at most :data:`MAX_TEXT_BYTES` of UTF-8.
        method: text layer, content, or OCR.
        language: ISO 639-2 codes: the OCR languages (``vie``), else a guess from the text (``vie``
            when Vietnamese letters are common, else ``und``).
        confidence: OCR only: mean word confidence (0-100) Tesseract gave, over every OCR'd page.
        pages: pages of a PDF (or an OCR'd image: its frames), else None.
        pages_ocr: pages OCR was run on (the rest had text, or were past the page limit).
        truncated: the file had more text than was kept.
        ocr_pdf: the PDF/A with a text layer OCR produced ("PDF/A hai lớp"), in the caller's work
            folder; normalization keeps it as a derivative.
        tools: (name, version) of every program that produced the text, for the PREMIS agents.
        note: one English line on anything a reader should know (page limit reached, not PDF/A).
    """

    text: str
    method: TextMethod
    language: str
    confidence: float | None = None
    pages: int | None = None
    pages_ocr: int = 0
    truncated: bool = False
    ocr_pdf: Path | None = None
    tools: tuple[tuple[str, str], ...] = ()
    note: str = ""


class TextBuffer:
    """Collects NFC text up to a byte budget; :attr:`full` tells a reader to stop reading."""

    def __init__(self, limit: int = MAX_TEXT_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self.truncated = False
        self._parts: list[str] = []

    @property
    def full(self) -> bool:
        return self.truncated

    def add(self, chunk: str) -> None:
        if self.truncated or not chunk:
            return
        chunk = unicodedata.normalize("NFC", chunk)
        size = len(chunk.encode("utf-8", "surrogatepass"))
        if self.size + size > self.limit:
            room = self.limit - self.size
            cut = chunk.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
            self._parts.append(cut)
            self.size += len(cut.encode("utf-8", "surrogatepass"))
            self.truncated = True
            return
        self._parts.append(chunk)
        self.size += size

    def text(self) -> str:
        return "".join(self._parts)


_VIETNAMESE_MARKS = frozenset("\u0111\u0110\u0306\u031b\u0309\u0323")
"""In NFD: đ, Đ, breve (ă), horn (ơ, ư), hook above, dot below: letters and marks that, among
languages written in Latin letters, Vietnamese alone uses often."""


def guess_language(text: str, sample: int = 20_000) -> str:
    """``vie`` when at least one word in twenty carries a letter or mark only Vietnamese uses
    (:data:`_VIETNAMESE_MARKS`), else ``und`` (ISO 639-2 undetermined)."""
    words = unicodedata.normalize("NFD", text[:sample]).split()
    if not words:
        return "und"
    marked = sum(1 for w in words if not _VIETNAMESE_MARKS.isdisjoint(w))
    return "vie" if marked * 20 >= len(words) else "und"


_NOT_ALNUM = re.compile(r"[\W_]+")


def search_form(text: str, budget: int = INDEX_TERM_BYTES) -> str:
    """The form of ``text`` the search index holds: :func:`preservation.names.fold` (NFC, no
    diacritics, đ → d, case-folded), every run of characters that are not letters or digits made
    one space, so PostgreSQL's parser and SQLite FTS5 cut the same words ("15/KH-UBND" → "15 kh
    ubnd"). Stops where the distinct words reach ``budget`` bytes (:data:`INDEX_TERM_BYTES`)."""
    tokens = _NOT_ALNUM.sub(" ", fold(text)).split()
    seen: set[str] = set()
    used = 0
    for i, token in enumerate(tokens):
        if token not in seen:
            seen.add(token)
            used += len(token.encode("utf-8")) + 1
            if used > budget:
                return " ".join(tokens[:i])
    return " ".join(tokens)


def query_words(text: str) -> list[str]:
    """The words of a query, in :func:`search_form`."""
    return search_form(text).split()


# --------------------------------------------------------------------------- readers


def read_plain(path: Path, buffer: TextBuffer) -> None:
    """A text file: UTF-8 (with or without BOM), or UTF-16 with a BOM; undecodable bytes become
    U+FFFD rather than failing the file."""
    with path.open("rb") as fh:
        head = fh.read(4)
    encoding = "utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        for line in fh:
            buffer.add(line)
            if buffer.full:
                return


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


def _iterparse(
    source: IO[bytes], *, html: bool = False, encoding: str | None = None
) -> Iterator[tuple[str, etree._Element]]:
    # no network, no DTDs, no entity expansion: a hostile document reads as its characters only
    parser_args: dict[str, object] = {"events": ("start", "end"), "huge_tree": False}
    if html:
        parser_args["html"] = True
        if encoding:
            parser_args["encoding"] = encoding
    else:
        parser_args.update(resolve_entities=False, no_network=True, load_dtd=False)
    yield from etree.iterparse(source, **parser_args)


def read_docx(path: Path, buffer: TextBuffer) -> None:
    """The body text of a Word document (``word/document.xml``): runs, tabs, breaks, paragraphs."""
    with zipfile.ZipFile(path) as archive, archive.open("word/document.xml") as part:
        for event, el in _iterparse(part):
            if event != "end":
                continue
            if el.tag == f"{_W}t" and el.text:
                buffer.add(el.text)
            elif el.tag == f"{_W}tab":
                buffer.add("\t")
            elif el.tag in (f"{_W}br", f"{_W}p"):
                buffer.add("\n")
            if el.tag == f"{_W}p":
                el.clear()
            if buffer.full:
                return


def read_odt(path: Path, buffer: TextBuffer) -> None:
    """The text of an OpenDocument text (``content.xml``): paragraphs, headings, spaces, tabs."""
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as part:
        for event, el in _iterparse(part):
            if event == "start":
                if el.text and el.tag.startswith(_TEXT):
                    buffer.add(el.text)
                continue
            if el.tag == f"{_TEXT}s":
                buffer.add(" " * int(el.get(f"{_TEXT}c", "1") or 1))
            elif el.tag == f"{_TEXT}tab":
                buffer.add("\t")
            elif el.tag in (f"{_TEXT}line-break", f"{_TEXT}p", f"{_TEXT}h"):
                buffer.add("\n")
            parent = el.getparent()
            if el.tail and parent is not None and str(parent.tag).startswith(_TEXT):
                buffer.add(el.tail)
            if buffer.full:
                return


_SKIPPED_HTML = frozenset({"script", "style", "head", "template"})


def read_markup(path: Path, buffer: TextBuffer, *, html: bool) -> None:
    """Every text node of an HTML or XML document (HTML without scripts, styles and head)."""
    skipping = 0
    with path.open("rb") as fh:
        declared = b"charset" in fh.read(4096).lower()
        fh.seek(0)
        # an HTML file that names no charset is read as UTF-8 (HTML5), not as Latin-1 (lxml's default)
        for event, el in _iterparse(fh, html=html, encoding=None if declared else "utf-8"):
            tag = str(el.tag).lower() if isinstance(el.tag, str) else ""
            if html and tag in _SKIPPED_HTML:
                skipping += 1 if event == "start" else -1
                continue
            if skipping:
                continue
            if event == "start" and el.text:
                buffer.add(el.text + " ")
            elif event == "end":
                if el.tail:
                    buffer.add(el.tail + " ")
                if len(el) == 0 and el.getparent() is not None:
                    el.clear()
            if buffer.full:
                return


@dataclass(frozen=True)
class PdfTextLayer:
    """A PDF's own text and which of its pages are scans.

    ``scanned_pages`` are the 1-based numbers of pages that show an image and have no text: the
    pages OCR would add a text layer to. A PDF with none needs no OCR.
    """

    text: str
    pages: int
    scanned_pages: tuple[int, ...]
    truncated: bool
    tool: tuple[str, str]

    @property
    def needs_ocr(self) -> bool:
        return bool(self.scanned_pages)


def pdf_text_layer(
    path: Path, work_dir: Path, *, timeout: float = 300.0, limit: int = MAX_TEXT_BYTES
) -> PdfTextLayer:
    """The text layer of a PDF (``pdftotext``, pages separated by form feeds) and its scanned pages.

    Raises:
        ToolError: ``pdftotext`` is missing, timed out, or could not read the file (damaged,
            encrypted).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    out = work_dir / "layer.txt"
    argv = ["pdftotext", "-q", "-enc", "UTF-8", os.fspath(path), os.fspath(out)]
    run = run_tool("pdftotext", argv, timeout=timeout)
    if run.exit_code != 0 or not out.exists():
        raise ToolError(
            f"pdftotext could not read {path.name} (exit {run.exit_code})",
            tool="pdftotext",
            exit_code=run.exit_code,
            stderr=run.stderr_excerpt,
        )
    buffer = TextBuffer(limit)
    chars: list[int] = [0]
    try:
        with out.open("r", encoding="utf-8", errors="replace", newline="") as fh:
            for line in fh:
                for i, piece in enumerate(line.split("\f")):
                    if i:
                        chars.append(0)
                    chars[-1] += sum(1 for c in piece if not c.isspace())
                buffer.add(line.replace("\f", "\n"))
    finally:
        out.unlink(missing_ok=True)
    images = _pages_with_images(path)
    pages = len(images) if images else max(len(chars) - 1, 1)
    scanned = tuple(
        n
        for n, has_image in enumerate(images, start=1)
        if has_image and (chars[n - 1] if n - 1 < len(chars) else 0) < TEXT_PAGE_MIN_CHARS
    )
    return PdfTextLayer(buffer.text(), pages, scanned, buffer.truncated, ("pdftotext", poppler_version()))


def _pages_with_images(path: Path) -> list[bool]:
    """Per page: does it draw an image (directly or in a form XObject)?"""
    try:
        with pikepdf.open(path) as pdf:
            return [_has_image(page.obj.get("/Resources")) for page in pdf.pages]
    except (pikepdf.PdfError, OSError, ValueError) as exc:
        raise _unreadable(path, "pages", exc) from exc


def _has_image(resources: object, depth: int = 0) -> bool:
    if not isinstance(resources, pikepdf.Dictionary) or depth > 4:
        return False
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, pikepdf.Dictionary):
        return False
    for key in xobjects.keys():  # noqa: SIM118  (pikepdf dictionaries iterate their keys this way)
        obj = xobjects.get(key)
        if not isinstance(obj, pikepdf.Stream):
            continue
        subtype = obj.get("/Subtype")
        if subtype == pikepdf.Name.Image:
            return True
        if subtype == pikepdf.Name.Form and _has_image(obj.get("/Resources"), depth + 1):
            return True
    return False


@functools.cache
def poppler_version() -> str:
    """``pdftotext -v`` prints e.g. ``pdftotext version 22.02.0`` on stderr."""
    try:
        run = run_tool("pdftotext", ["pdftotext", "-v"], timeout=30)
    except ToolError:
        return "unknown"
    match = re.search(r"version\s+(\S+)", run.stderr + run.stdout)
    return match.group(1) if match else "unknown"


def _unreadable(path: Path, what: str, exc: Exception) -> PreservationError:
    return PreservationError(
        f"cannot read the {what} of {path.name}: {exc}", code="text.unreadable", params={"problem": str(exc)}
    )


def read_content(path: Path, kind: TextKind, *, limit: int = MAX_TEXT_BYTES) -> ExtractedText:
    """The text of a plain, office or markup file.

    Raises:
        PreservationError: ``text.unreadable`` when the file is not what its format says (a DOCX
            that is not a ZIP, XML that is not well-formed).
    """
    buffer = TextBuffer(limit)
    readers = {
        TextKind.PLAIN: lambda: read_plain(path, buffer),
        TextKind.DOCX: lambda: read_docx(path, buffer),
        TextKind.ODT: lambda: read_odt(path, buffer),
        TextKind.HTML: lambda: read_markup(path, buffer, html=True),
        TextKind.XML: lambda: read_markup(path, buffer, html=False),
    }
    try:
        readers[kind]()
    except (zipfile.BadZipFile, KeyError, etree.LxmlError, OSError, ValueError) as exc:
        raise _unreadable(path, "text", exc) from exc
    text = buffer.text()
    return ExtractedText(
        text=text,
        method=TextMethod.CONTENT,
        language=guess_language(text),
        truncated=buffer.truncated,
        tools=(("lxml", etree.__version__),) if kind is not TextKind.PLAIN else (),
    )
