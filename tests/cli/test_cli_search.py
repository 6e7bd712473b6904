"""OCR at ingest and ``kholuu search``: a scanned page of Vietnamese text is found by its words.

The pages are rendered here from known words (DejaVu Sans at 300 dpi, the size of a typed A4
line), so the test knows what OCR must read; Tesseract's Vietnamese model reads these words
reliably (checked by hand: every word at confidence above 95). One real ingest per database
backend, shared by the module: it OCRs a scanned PDF and a TIFF (about 2-4 s each) and reads the
text of a born-digital PDF and a DOCX from the format corpus.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import Session

from repository.catalog.file_text import FileText
from repository.catalog.models import File
from tests.conftest import CORPUS, cli_env, module_catalog, run_cli, write_home_config

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
SCANNED_PDF_LINES = ("Quyết định thành lập Ủy ban nhân dân", "tỉnh An Giang năm 1976")
SCANNED_TIFF_LINES = ("Đà Nẵng đồng bằng sông Cửu Long", "Hồ sơ lưu trữ tài liệu")
OFFICE = CORPUS / "format-corpus" / "office-examples" / "OpenOffice.org 3.2.0 OSX" / "pdf-features"
BORN_DIGITAL_PDF = OFFICE / "simple.pdf"  # "This is simple document, created in Open Office."
DOCX = CORPUS / "format-corpus" / "fully-featured-pdf" / "PDF-Sample-Document-Fully-Featured-Layout.docx"


def render_page(lines: tuple[str, ...]) -> Image.Image:
    """A strip of an A4 page at 300 dpi with ``lines`` typed in 12-point DejaVu Sans."""
    image = Image.new("L", (2480, 200 + 100 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 50)
    for i, line in enumerate(lines):
        draw.text((200, 100 + 100 * i), line, font=font, fill=0)
    return image


def make_sip(folder: Path) -> Path:
    folder.mkdir(parents=True)
    render_page(SCANNED_PDF_LINES).convert("RGB").save(folder / "quyet-dinh-scan.pdf", resolution=300)
    render_page(SCANNED_TIFF_LINES).save(folder / "ban-do-scan.tif", dpi=(300, 300), compression="tiff_lzw")
    shutil.copyfile(BORN_DIGITAL_PDF, folder / "simple.pdf")
    shutil.copyfile(DOCX, folder / "sample.docx")
    return folder


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ingested(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A data folder with OCR on, one ingest of the scans and documents above; its env and result."""
    root = tmp_path_factory.mktemp("ocr")
    with module_catalog(request, root) as url:
        yield _ingest(root, url)


def _ingest(root: Path, url: str) -> dict[str, Any]:
    home = root / "home"
    write_home_config(home, ocr=True)
    env = cli_env(home, url)
    assert run_cli("init", "--json", env=env).returncode == 0
    r = run_cli("ingest", str(make_sip(root / "sip")), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return {"env": env, "result": json.loads(r.stdout)}


def search_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    r = run_cli("search", *args, "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def paths(found: dict[str, Any]) -> set[str]:
    return {h["path"] for h in found["hits"]}


def test_a_scanned_pdf_is_found_by_words_without_diacritics(ingested: dict[str, Any]) -> None:
    found = search_json(ingested["env"], "quyet dinh")
    assert paths(found) == {"quyet-dinh-scan.pdf"}
    hit = found["hits"][0]
    assert hit["aip_id"] == ingested["result"]["aip_id"]
    assert hit["method"] == "ocr" and hit["language"] == "vie"
    assert hit["confidence"] > 80  # Tesseract's mean word confidence, recorded at ingest
    assert "Quyết định thành lập" in hit["snippet"]  # the recognized text has its diacritics


def test_a_quoted_phrase_must_match_with_its_diacritics(ingested: dict[str, Any]) -> None:
    env = ingested["env"]
    assert paths(search_json(env, '"Quyết định"')) == {"quyet-dinh-scan.pdf"}
    assert paths(search_json(env, '"Quyet dinh"')) == set()
    assert paths(search_json(env, '"ủy ban" an giang 1976')) == {"quyet-dinh-scan.pdf"}


def test_a_scanned_tiff_is_found_and_d_folds_to_d(ingested: dict[str, Any]) -> None:
    env = ingested["env"]
    assert paths(search_json(env, "da nang")) == {"ban-do-scan.tif"}
    assert paths(search_json(env, "DONG BANG song cuu long")) == {"ban-do-scan.tif"}
    assert paths(search_json(env, "da nang", "quyet")) == set()  # every word, in the same file


def test_born_digital_pdf_and_docx_are_found_by_their_own_text(ingested: dict[str, Any]) -> None:
    env = ingested["env"]
    pdf = search_json(env, "created in Open Office")
    assert paths(pdf) == {"simple.pdf"} and pdf["hits"][0]["method"] == "text layer"
    assert pdf["hits"][0]["confidence"] is None
    docx = search_json(env, "digital preservation testing")
    assert paths(docx) == {"sample.docx"} and docx["hits"][0]["method"] == "content"


def test_each_file_has_a_metadata_extraction_event_with_the_ocr_confidence(ingested: dict[str, Any]) -> None:
    env, aip_id = ingested["env"], ingested["result"]["aip_id"]
    show = json.loads(run_cli("aip", "show", aip_id, "--json", env=env).stdout)
    events = [e for e in show["events"] if e["type"] == "metadata extraction"]
    assert len(events) == 4
    ocr = [e for e in events if "OCR" in e["detail"]]
    assert len(ocr) == 2 and all("mean word confidence" in e["outcome_detail"] for e in ocr)
    assert all(e["outcome"] == "success" for e in events)


def test_human_output_is_vietnamese_and_public_search_shows_nothing_undescribed(
    ingested: dict[str, Any],
) -> None:
    env = {**ingested["env"], "KHOLUU_LANG": "vi"}
    r = run_cli("search", "quyet dinh", env=env)
    assert r.returncode == 0, r.stderr
    assert "[Tệp]" in r.stdout and "quyet-dinh-scan.pdf" in r.stdout and "độ tin cậy" in r.stdout
    # a plain folder has no hồ sơ, so nobody decided it may be shown to the public
    assert search_json(env, "quyet dinh", "--public")["hits"] == []
    nothing = run_cli("search", "khong co tu nay", env=env)
    assert "Không tìm thấy" in nothing.stdout
    empty = run_cli("search", '" "', "--json", env=env)
    assert empty.returncode == 2 and json.loads(empty.stdout)["error"]["code"] == "search.empty_query"


def test_reindex_reads_the_text_again_and_ocrs_scans_only_when_asked(ingested: dict[str, Any]) -> None:
    """Texts lost from the catalog (as after rebuild-catalog) come back with ``kholuu reindex``: a
    scan without an OCR'd copy stays without text unless ``--ocr`` says to read it again."""
    env = ingested["env"]
    engine = create_engine(env["KHOLUU_DATABASE_URL"])
    try:
        with Session(engine) as s, s.begin():
            tif = s.scalars(select(File.uuid).where(File.path == "ban-do-scan.tif")).one()
            s.execute(delete(FileText).where(FileText.file_uuid == tif))
        assert paths(search_json(env, "da nang")) == set()
        plain = json.loads(run_cli("reindex", "--json", env=env).stdout)
        assert (plain["ok"], plain["files"], plain["texts"]) == (True, 1, 0)
    finally:  # the module's other tests expect the text back
        again = run_cli("reindex", "--ocr", "--json", env=env)
        engine.dispose()
    assert again.returncode == 0 and json.loads(again.stdout)["texts"] == 1, again.stdout + again.stderr
    hit = search_json(env, "da nang")["hits"][0]
    assert (hit["path"], hit["method"]) == ("ban-do-scan.tif", "ocr") and hit["confidence"] > 80
