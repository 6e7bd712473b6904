"""The words of a document, to check that a conversion kept its text (``Check.TEXT``).

Text comes from ``pdftotext`` (poppler, run in the sandbox) for PDF; from the XML inside a DOCX,
XLSX or OpenDocument file, read as a stream (``zipfile`` + lxml ``iterparse``, elements cleared as
they are read, entities never expanded) so a large or hostile document never sits in memory
whole; and from plain-text files as they are. Other formats have no text we can read here
(``None``): the check then says so instead of passing a comparison it did not make.

Similarity is the share of the source's words (Unicode NFC, case-folded, counted with
repetition) that are found in the output: it measures text *kept*; words the output adds (a page
number, a sheet name) do not lower it.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from lxml import etree

from preservation.planning.sandbox import Sandbox, SandboxOptions

MAX_CHARS = 5_000_000
"""Text read per document at most: enough for any comparison, bounded for a zip bomb."""

PDFTOTEXT_TIMEOUT = 120.0
PDFTOTEXT_MEMORY_MB = 1024

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_PLAIN = frozenset({".txt", ".csv", ".tsv", ".md", ".text"})
_WORD = re.compile(r"\w+")


def words(text: str) -> Counter[str]:
    """The words of ``text``: NFC, case-folded, with their counts."""
    return Counter(_WORD.findall(unicodedata.normalize("NFC", text).casefold()))


def similarity(source: Counter[str], output: Counter[str]) -> float:
    """The share of the source's words found in the output (1.0 when the source has none)."""
    total = sum(source.values())
    if not total:
        return 1.0
    return sum((source & output).values()) / total


def extract_text(path: Path, *, options: SandboxOptions | None = None) -> str | None:
    """The text of ``path``, or None when its format has no text we can read.

    Never raises for the file's content: an unreadable document has no text (None).
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    if head.startswith(b"%PDF-") or path.suffix.lower() == ".pdf":
        return _pdf_text(path, options)
    if head.startswith(b"PK\x03\x04"):
        try:
            return _zipped_text(path)
        except (zipfile.BadZipFile, etree.LxmlError, OSError, KeyError, ValueError, EOFError):
            return None
    if path.suffix.lower() in _PLAIN:
        with path.open("rb") as fh:
            return fh.read(MAX_CHARS * 4).decode("utf-8", "replace")[:MAX_CHARS]
    return None


def _pdf_text(path: Path, options: SandboxOptions | None) -> str | None:
    with Sandbox(options) as box:
        target = box.work / "text.txt"
        run = box.run(
            ["pdftotext", "-q", "-enc", "UTF-8", str(path), str(target)],
            timeout=PDFTOTEXT_TIMEOUT,
            memory_mb=PDFTOTEXT_MEMORY_MB,
        )
        if not run.ok or not target.exists():
            return None
        with target.open("rb") as fh:
            return fh.read(MAX_CHARS * 4).decode("utf-8", "replace")[:MAX_CHARS]


def _zipped_text(path: Path) -> str | None:
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if "word/document.xml" in names:
            return _join(_member_texts(zf, ["word/document.xml"], {_W + "p"}))
        if "xl/workbook.xml" in names:
            sheets = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
            shared = [n for n in ("xl/sharedStrings.xml",) if n in names]
            return _join(_member_texts(zf, shared, {_S + "si"}), _sheet_values(zf, sheets))
        if "content.xml" in names:
            return _join(_member_texts(zf, ["content.xml"], {_TEXT + "p", _TEXT + "h"}))
    return None


def _join(*parts: Iterator[str]) -> str:
    out: list[str] = []
    size = 0
    for part in parts:
        for piece in part:
            out.append(piece)
            size += len(piece) + 1
            if size >= MAX_CHARS:
                return "\n".join(out)[:MAX_CHARS]
    return "\n".join(out)


def _iterparse(stream: IO[bytes], tags: set[str]) -> Iterator[etree._Element]:
    for _event, elem in etree.iterparse(
        stream, events=("end",), tag=tuple(tags), resolve_entities=False, no_network=True, huge_tree=False
    ):
        yield elem


def _member_texts(zf: zipfile.ZipFile, members: list[str], tags: set[str]) -> Iterator[str]:
    """The text of each paragraph-like element; cleared as soon as read, so a paragraph nested in
    another (a text box) is counted once."""
    for member in members:
        with zf.open(member) as stream:
            for elem in _iterparse(stream, tags):
                yield etree.tostring(elem, method="text", encoding="unicode", with_tail=False)
                elem.clear(keep_tail=True)  # type: ignore[call-arg]  # lxml >= 4.4; the stubs lag


def _sheet_values(zf: zipfile.ZipFile, sheets: list[str]) -> Iterator[str]:
    """Cell values that are not shared strings: numbers, formula results, inline strings."""
    for member in sheets:
        with zf.open(member) as stream:
            for cell in _iterparse(stream, {_S + "c"}):
                if cell.get("t") != "s":  # the formula (<f>) is not text a reader sees
                    inline = cell.find(_S + "is")
                    yield " ".join(
                        (
                            cell.findtext(_S + "v") or "",
                            ""
                            if inline is None
                            else etree.tostring(inline, method="text", encoding="unicode", with_tail=False),
                        )
                    )
                cell.clear(keep_tail=True)  # type: ignore[call-arg]
