"""``kholuu reindex`` reads a scan's text from its OCR'd PDF/A copy instead of OCRing it again."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

from repository.settings import load_settings
from tests.conftest import CORPUS
from workflows.planning.reindex import Wanted, stored_text

SIMPLE_PDF = (
    CORPUS / "format-corpus" / "office-examples" / "OpenOffice.org 3.2.0 OSX" / "pdf-features" / "simple.pdf"
)


def test_a_scan_takes_the_text_layer_of_its_preservation_copy(home: Path, tmp_path: Path) -> None:
    settings = load_settings(home, environ={})
    folder = tmp_path / "aip"
    folder.mkdir()
    Image.new("L", (600, 200), 255).convert("RGB").save(folder / "scan.pdf", resolution=150)  # no text
    shutil.copyfile(SIMPLE_PDF, folder / "scan.pdf.pdf")  # stands in for the PDF/A hai lớp copy
    scan = Wanted("u-1", "scan.pdf", "application/pdf", "scan.pdf.pdf")

    found, from_copy = stored_text(settings, folder, scan, tmp_path / "work", ocr=False)
    assert from_copy and found is not None
    assert "simple document" in found.text and "preservation copy" in found.note

    alone, from_copy = stored_text(
        settings, folder, Wanted("u-1", "scan.pdf", "application/pdf"), tmp_path / "w2", ocr=False
    )
    assert not from_copy and (alone is None or not alone.text.strip())
