"""``preservation.planning.text``: what each format's text reads as, the cap, the folding search
uses, and which PDFs need OCR. No OCR runs here (tests/cli/test_cli_search.py runs it once)."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from preservation.errors import PreservationError
from preservation.planning.ocr import file_text
from preservation.planning.text import (
    TextBuffer,
    TextKind,
    TextMethod,
    guess_language,
    pdf_text_layer,
    read_content,
    search_form,
    text_kind,
)
from tests.conftest import CORPUS

OFFICE = CORPUS / "format-corpus" / "office-examples"
SIMPLE_PDF = OFFICE / "OpenOffice.org 3.2.0 OSX" / "pdf-features" / "simple.pdf"
ODT = OFFICE / "LibreOffice7-ODF-1.3" / "LibreOfficeWriter_odt_1.3.odt"
DOCX = CORPUS / "format-corpus" / "fully-featured-pdf" / "PDF-Sample-Document-Fully-Featured-Layout.docx"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đà Nẵng", "da nang"),
        ("ĐỒNG", "dong"),
        ("Ðồng Tháp", "dong thap"),  # U+00D0, which TCVN3/VNI conversions carry for Đ
        (unicodedata.normalize("NFD", "Quyết định"), "quyet dinh"),  # macOS-typed text
        ("15/KH-UBND ngày 05/03/2001", "15 kh ubnd ngay 05 03 2001"),
        ("  Ủy\tban\n\nnhân   dân ", "uy ban nhan dan"),
    ],
)
def test_search_form_folds_vietnamese(text: str, folded: str) -> None:
    assert search_form(text) == folded


def test_search_form_stops_before_a_tsvector_would_overflow() -> None:
    numbers = " ".join(str(n) for n in range(200_000))  # 1.3 MB of distinct words
    kept = search_form(numbers, budget=100_000)
    assert 10_000 < len(kept.split()) < 20_000
    assert search_form("a b a b " * 1000, budget=10) == ("a b " * 2000).strip()  # repeats cost nothing


def test_the_text_buffer_caps_at_a_byte_budget_without_splitting_a_character() -> None:
    buffer = TextBuffer(limit=10)
    buffer.add("Quyết")  # 7 bytes in UTF-8
    buffer.add(" định")  # would reach 13
    assert buffer.full and buffer.truncated
    assert buffer.text() == "Quyết đ" and len(buffer.text().encode()) <= 10
    nfd = TextBuffer()
    nfd.add(unicodedata.normalize("NFD", "Hồ sơ"))
    assert nfd.text() == "Hồ sơ"  # stored NFC


def test_language_guess() -> None:
    assert guess_language("Quyết định thành lập Ủy ban nhân dân tỉnh An Giang") == "vie"
    assert guess_language("This is simple document, created in Open Office.") == "und"
    assert guess_language("Le château où nous étions à Noël") == "und"


def test_kind_by_mime_then_extension() -> None:
    assert text_kind(Path("a.bin"), "application/pdf") is TextKind.PDF
    assert text_kind(Path("scan.TIF"), None) is TextKind.IMAGE
    assert text_kind(Path("a.docx"), "") is TextKind.DOCX
    assert text_kind(Path("song.mp3"), "audio/mpeg") is None


def test_office_and_markup_text(tmp_path: Path) -> None:
    docx = read_content(DOCX, TextKind.DOCX)
    assert "digital preservation testing" in docx.text and docx.method is TextMethod.CONTENT
    assert "This is an example document" in read_content(ODT, TextKind.ODT).text
    html = tmp_path / "a.html"
    html.write_text(
        "<html><head><title>T</title><script>var secret = 1;</script></head>"
        "<body><p>Hồ sơ <b>lưu trữ</b></p><style>p{}</style></body></html>",
        encoding="utf-8",
    )
    text = read_content(html, TextKind.HTML).text
    assert "Hồ sơ" in text and "lưu trữ" in text and "secret" not in text
    utf16 = tmp_path / "a.txt"
    utf16.write_text("Công văn số 12", encoding="utf-16")
    assert read_content(utf16, TextKind.PLAIN).text == "Công văn số 12"


def test_a_file_that_is_not_its_format_is_unreadable(tmp_path: Path) -> None:
    fake = tmp_path / "fake.docx"
    fake.write_bytes(b"not a zip")
    with pytest.raises(PreservationError) as exc:
        read_content(fake, TextKind.DOCX)
    assert exc.value.code == "text.unreadable"
    empty = tmp_path / "empty.docx"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("other.xml", "<a/>")
    with pytest.raises(PreservationError):
        read_content(empty, TextKind.DOCX)


def test_a_born_digital_pdf_needs_no_ocr_and_a_scan_does(tmp_path: Path) -> None:
    layer = pdf_text_layer(SIMPLE_PDF, tmp_path / "a")
    assert "created in Open Office" in layer.text and not layer.needs_ocr
    scan = tmp_path / "scan.pdf"
    Image.new("L", (800, 400), 255).save(scan, resolution=300)
    assert pdf_text_layer(scan, tmp_path / "b").scanned_pages == (1,)
    # with OCR off a scan keeps what it has, and says why it has no text
    kept = file_text(scan, "application/pdf", tmp_path / "c", ocr=None)
    assert kept is not None and kept.method is TextMethod.TEXT_LAYER and "OCR off" in kept.note
    assert file_text(tmp_path / "x.png", "image/png", tmp_path / "d", ocr=None) is None
