"""Conversions with the real tools on real files, verified by the rules of docs/planning.md.

Every corpus file is converted once, in a module-scoped fixture that runs the conversions three at
a time (each LibreOffice run has its own profile, so they may run side by side); the tests assert
on the results.
"""

from __future__ import annotations

import math
import os
import socket
import struct
import subprocess
import sys
import time
import wave
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from preservation.identify.siegfried import SiegfriedEngine
from preservation.planning.convert import convert
from preservation.planning.model import Action, Check, Conversion, ConversionOutcome, Purpose
from preservation.planning.sandbox import Sandbox, SandboxOptions
from preservation.planning.text_compare import extract_text, words
from preservation.planning.verify import check_pdfa, duration
from repository.i18n import Translator
from tests.conftest import CORPUS
from tests.office_files import make_macro_odt

FORMATS = CORPUS / "format-corpus"
PDFA = (Check.OPENS, Check.FORMAT, Check.PAGES, Check.TEXT, Check.PDFA)
PDFA_2B = "fmt/477"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
NO_NAMESPACES = SandboxOptions(unshare="/nonexistent/unshare")
MACRO_MARKER = "MACRO_RAN"
Identify = Callable[[Path], str | None]


@pytest.fixture(scope="module")
def identify() -> Iterator[Identify]:
    engine = SiegfriedEngine(workers=1)
    yield lambda path: engine.identify([path])[path].puid


def _made_files(folder: Path) -> dict[str, Path]:
    """The inputs the corpus lacks: an XLSX, a scanned page, a JPEG, a WAV and an MP4."""
    folder.mkdir()
    xlsx = folder / "so-lieu.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Số liệu"
    sheet.append(["Năm", "Số hồ sơ", "Ghi chú"])
    sheet.append([2024, 12, "Phông lưu trữ Ủy ban"])
    book.save(xlsx)
    scan = folder / "scan.png"
    page = Image.new("RGB", (1240, 420), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 40)
    for n, line in enumerate(["Cộng hòa xã hội chủ nghĩa Việt Nam", "Quyết định về việc lưu trữ hồ sơ"]):
        draw.text((60, 80 + n * 100), line, font=font, fill="black")
    page.save(scan, dpi=(200, 200))
    photo = folder / "photo.jpg"
    Image.linear_gradient("L").resize((320, 200)).convert("RGB").save(photo, quality=90)
    sound = folder / "tone.wav"
    with wave.open(str(sound), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(22050 * 3)))
    film = folder / "film.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=d=2:s=320x240:r=25", "-f", "lavfi",
         "-i", "sine=d=2", "-shortest", "-c:v", "mpeg4", "-c:a", "mp3", str(film)],
        check=True,
    )  # fmt: skip
    truncated = folder / "truncated.docx"
    truncated.write_bytes(_docx().read_bytes()[:3000])
    macro = make_macro_odt(folder / "co-macro.odt", folder / MACRO_MARKER)
    return {
        "xlsx": xlsx, "scan": scan, "photo": photo, "wav": sound, "mp4": film, "truncated": truncated,
        "macro": macro,
    }  # fmt: skip


def _docx() -> Path:
    docx = "vnd.openxmlformats-officedocument.wordprocessingml.document"
    return FORMATS / "variations" / "variations" / "application" / docx / "lorem-ipsum.docx"


@dataclass(frozen=True)
class Case:
    source: Path
    action: Action
    out_dir: Path


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory, identify: Identify
) -> dict[str, tuple[Case, Conversion]]:
    root = tmp_path_factory.mktemp("conversions")
    made = _made_files(root / "made")
    office = FORMATS / "office-examples"
    av = (Check.OPENS, Check.FORMAT, Check.DURATION)
    picture = (Check.OPENS, Check.FORMAT, Check.IMAGE)
    cases = {
        "docx": (_docx(), Action("libreoffice", PDFA_2B, "pdf", checks=PDFA)),
        "odt": (
            office / "LibreOffice7-ODF-1.3" / "LibreOfficeWriter_odt_1.3.odt",
            Action("libreoffice", PDFA_2B, "pdf", checks=PDFA),
        ),
        "doc": (
            FORMATS / "variations/variations/application/msword/lorem-ipsum.doc",
            Action("libreoffice", PDFA_2B, "pdf", checks=PDFA),
        ),
        "xlsx": (
            made["xlsx"],
            Action("libreoffice", "fmt/1755", "ods", checks=(Check.OPENS, Check.FORMAT, Check.TEXT)),
        ),
        "pdf": (
            FORMATS / "pdfCabinetOfHorrors" / "text_only_fontsNotEmbedded.pdf",
            Action("ghostscript", PDFA_2B, "pdf", checks=PDFA),
        ),
        "tiff": (
            FORMATS / "tiff-examples/old-style-jpeg-compression/old-style-jpeg-compression.tif",
            Action("image", "fmt/43", "jpg", checks=picture),
        ),
        "jpeg": (made["photo"], Action("image", "fmt/11", "png", checks=picture)),
        "ocr": (made["scan"], Action("ocrmypdf", PDFA_2B, "pdf", checks=PDFA)),
        "wav": (made["wav"], Action("ffmpeg", "fmt/134", "mp3", checks=av)),
        "mp4": (made["mp4"], Action("ffmpeg", "fmt/199", "mp4", checks=av)),
        "truncated": (made["truncated"], Action("libreoffice", PDFA_2B, "pdf", checks=PDFA)),
        "macro": (made["macro"], Action("libreoffice", PDFA_2B, "pdf", checks=PDFA)),
        "gs_rejects": (
            FORMATS / "pdf-handbuilt-test-corpus" / "T01_006_header-invalid-syntax-no-pdf.pdf",
            Action("ghostscript", PDFA_2B, "pdf", checks=PDFA),
        ),
        "wrong_puid": (made["photo"], Action("image", "fmt/11", "jpg", checks=picture)),
    }

    def run(name: str) -> tuple[str, tuple[Case, Conversion]]:
        source, action = cases[name]
        case = Case(source, action, root / "out" / name)
        purpose = Purpose.ACCESS if action.tool in ("image", "ffmpeg") else Purpose.PRESERVATION
        return name, (case, convert(source, action, purpose, case.out_dir, identify=identify))

    # the slow ones first, so that three workers finish together
    order = sorted(cases, key=lambda n: n not in ("ocr", "docx", "doc", "odt", "xlsx", "macro"))
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(run, order))


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _checks(conversion: Conversion) -> dict[Check, str]:
    return {c.check: c.detail for c in conversion.checks if c.passed}


@pytest.mark.parametrize("name", ["docx", "odt", "doc", "pdf", "ocr"])
def test_pdfa_outputs_are_verified_pdfa_2b(results: dict[str, tuple[Case, Conversion]], name: str) -> None:
    case, conversion = results[name]
    assert conversion.outcome is ConversionOutcome.SUCCESS, conversion.message
    assert conversion.output is not None and conversion.output.parent == case.out_dir
    assert _files(case.out_dir) == [conversion.output.name]  # nothing else left behind
    assert [c.check for c in conversion.checks] == list(PDFA)
    assert all(c.passed for c in conversion.checks)
    assert "identified as fmt/477" in _checks(conversion)[Check.FORMAT]
    assert _checks(conversion)[Check.PDFA].startswith("declares PDF/A-2B")
    with pikepdf.open(conversion.output) as pdf, pdf.open_metadata() as meta:
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("2", "B")
    assert conversion.tool_version and conversion.tool_version != "missing"
    assert conversion.stderr == ""
    assert "no network" in conversion.isolation


def test_office_page_counts_are_compared_only_where_the_source_records_them(
    results: dict[str, tuple[Case, Conversion]],
) -> None:
    assert "2 pages, source 2 (docProps/app.xml" in _checks(results["docx"][1])[Check.PAGES]
    assert "source 1 (meta.xml" in _checks(results["odt"][1])[Check.PAGES]
    # A Word 97 .doc keeps its page count in an OLE property set we do not read: said, not faked.
    assert "source page count unknown" in _checks(results["doc"][1])[Check.PAGES]


def test_text_is_kept_and_measured(results: dict[str, tuple[Case, Conversion]]) -> None:
    for name in ("docx", "odt", "pdf", "xlsx"):
        detail = _checks(results[name][1])[Check.TEXT]
        assert "of the source's" in detail and "words kept" in detail, (name, detail)
    assert "100.0% of the source's 659 words kept" in _checks(results["docx"][1])[Check.TEXT]
    # We read no text out of a binary Word 97 file: the check says it did not compare.
    assert _checks(results["doc"][1])[Check.TEXT].startswith("source text cannot be read here: not compared")
    ods = results["xlsx"][1]
    assert ods.outcome is ConversionOutcome.SUCCESS and ods.output is not None
    assert ods.output.suffix == ".ods"
    assert {"phông", "lưu", "trữ", "ủy", "ban"} <= set(words(extract_text(ods.output) or ""))


def test_a_documents_macro_never_runs_during_conversion(results: dict[str, tuple[Case, Conversion]]) -> None:
    """The ODT's load event calls a StarBasic macro that would write a file next to it. The
    conversion succeeds, and no file appears. The sandbox's LibreOffice profile disables macros
    (sandbox.LIBREOFFICE_SETTINGS). LibreOffice 7.4's headless conversion did not run this macro
    even with a permissive profile when tried by hand, so the profile is a second line. This test
    is the guard against a LibreOffice or a profile change that would run it."""
    case, conversion = results["macro"]
    assert conversion.outcome is ConversionOutcome.SUCCESS, conversion.message
    with zipfile.ZipFile(case.source) as z:  # the document really carries the bound macro
        assert (
            "dom:load" in z.read("content.xml").decode()
            and "Open " in z.read("Basic/Standard/Module1.xml").decode()
        )
    assert not (case.source.parent / MACRO_MARKER).exists()


def test_ghostscript_embeds_the_fonts_the_source_lacked(results: dict[str, tuple[Case, Conversion]]) -> None:
    case, conversion = results["pdf"]
    source_check = check_pdfa(case.source, case.source, case.action, None, None)
    assert not source_check.passed
    assert "fonts not embedded: TimesNewRomanPSMT" in source_check.detail
    assert "no PDF/A output intent" in source_check.detail
    assert conversion.outcome is ConversionOutcome.SUCCESS
    assert "every font embedded" in _checks(conversion)[Check.PDFA]


def test_ocr_gives_a_scanned_page_a_vietnamese_text_layer(
    results: dict[str, tuple[Case, Conversion]],
) -> None:
    _case, conversion = results["ocr"]
    assert conversion.output is not None
    text = words(extract_text(conversion.output) or "")
    assert {"việt", "nam", "quyết", "định", "lưu", "trữ", "hồ", "sơ"} <= set(text)
    assert (
        "source has no text layer" in _checks(conversion)[Check.TEXT]
        or "cannot be read" in _checks(conversion)[Check.TEXT]
    )
    assert "tesseract" in conversion.tool_version


def test_images_keep_their_pixel_dimensions(results: dict[str, tuple[Case, Conversion]]) -> None:
    for name, size in (("tiff", "4160x870"), ("jpeg", "320x200")):
        _case, conversion = results[name]
        assert conversion.outcome is ConversionOutcome.SUCCESS, conversion.message
        assert _checks(conversion)[Check.IMAGE] == f"{size} pixels, source {size}"
        assert conversion.tool_name == "Pillow"


def test_audio_and_video_keep_their_duration(results: dict[str, tuple[Case, Conversion]]) -> None:
    for name, seconds in (("wav", 3.0), ("mp4", 2.0)):
        _case, conversion = results[name]
        assert conversion.outcome is ConversionOutcome.SUCCESS, conversion.message
        assert conversion.output is not None
        assert abs((duration(conversion.output) or 0) - seconds) < 0.2
        assert "tolerance 1 s" in _checks(conversion)[Check.DURATION]
    video = results["mp4"][1].output
    assert video is not None
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", str(video)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert sorted(probe.stdout.split()) == ["aac", "h264"]


def test_a_file_the_tool_cannot_load_fails_and_keeps_nothing(
    results: dict[str, tuple[Case, Conversion]],
) -> None:
    case, conversion = results["truncated"]
    assert conversion.outcome is ConversionOutcome.FAILED
    assert conversion.output is None
    assert _files(case.out_dir) == []
    assert "source file could not be loaded" in conversion.stderr  # soffice says so, and exits 0
    assert conversion.message_code == "planning.convert.no_output"
    assert "truncated.docx" in Translator("vi").text(conversion.message_code, conversion.message_params)


def test_a_tool_error_fails_with_its_stderr_and_no_partial_output(
    results: dict[str, tuple[Case, Conversion]],
) -> None:
    case, conversion = results["gs_rejects"]
    assert conversion.outcome is ConversionOutcome.FAILED
    assert conversion.message_code == "planning.convert.tool_failed"
    assert conversion.message_params["exit_code"] == "1"
    assert "Unrecoverable error" in conversion.stderr  # Ghostscript's own words
    assert _files(case.out_dir) == []  # gs had written a partial PDF: it stayed in the sandbox


def test_an_output_that_fails_a_check_is_not_kept(results: dict[str, tuple[Case, Conversion]]) -> None:
    case, conversion = results["wrong_puid"]
    assert conversion.outcome is ConversionOutcome.FAILED
    assert conversion.message_code == "planning.convert.check_failed"
    failed = [c for c in conversion.checks if not c.passed]
    assert [(c.check, c.detail) for c in failed] == [(Check.FORMAT, "identified as fmt/43, expected fmt/11")]
    assert _files(case.out_dir) == []
    assert "format: identified as fmt/43" in Translator("en").text(
        conversion.message_code, conversion.message_params
    )


SLEEPER = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "kholuu-orphan-{marker}"])
time.sleep(60)
"""


def _running(marker: str) -> bool:
    for proc in Path("/proc").iterdir():
        try:
            if marker.encode() in (proc / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_a_hanging_tool_is_timed_out_with_everything_it_started(tmp_path: Path, identify: Identify) -> None:
    marker = os.urandom(6).hex()
    script = tmp_path / "sleeper.py"
    script.write_text(SLEEPER.format(marker=marker))
    action = Action(
        "command", "fmt/477", "pdf", args=(sys.executable, str(script), "{input}", "{output}"), timeout=1
    )
    started = time.monotonic()
    conversion = convert(script, action, Purpose.ACCESS, tmp_path / "out", identify=identify)
    assert time.monotonic() - started < 10
    assert conversion.outcome is ConversionOutcome.TIMED_OUT
    assert conversion.message_code == "planning.convert.timed_out"
    assert "within 1 s" in conversion.message
    assert not _running(f"kholuu-orphan-{marker}")
    assert _files(tmp_path / "out") == []


CONNECT = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
open(sys.argv[2], "w").write("connected")
"""


def test_the_sandbox_has_no_network_and_says_when_it_cannot_isolate(tmp_path: Path) -> None:
    script = tmp_path / "connect.py"
    script.write_text(CONNECT)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = str(listener.getsockname()[1])
        with Sandbox() as box:
            isolated = box.run([sys.executable, str(script), port, "out"], timeout=20, memory_mb=0)
        with Sandbox(NO_NAMESPACES) as box:
            open_net = box.run([sys.executable, str(script), port, "out"], timeout=20, memory_mb=0)
            connected = (box.work / "out").exists()
    if not isolated.isolation.network:
        why = isolated.isolation.note or "unshare --net could not create one"
        pytest.skip(reason=f"no network namespace on this machine ({why}): isolation cannot be shown")
    assert isolated.exit_code != 0 and "Network is unreachable" in isolated.stderr
    assert open_net.exit_code == 0 and connected
    assert not open_net.isolation.network
    assert "network NOT isolated" in open_net.isolation.describe()
    assert "/nonexistent/unshare not found" in open_net.isolation.note


ALLOCATE = "import sys; block = bytearray(int(sys.argv[1]) * 1024 * 1024); print(len(block))"


def test_the_memory_limit_stops_a_program_that_allocates_too_much(tmp_path: Path) -> None:
    with Sandbox() as box:
        over = box.run([sys.executable, "-c", ALLOCATE, "600"], timeout=30, memory_mb=300)
        under = box.run([sys.executable, "-c", ALLOCATE, "100"], timeout=30, memory_mb=300)
    assert over.isolation.memory_mb == 300
    assert over.exit_code != 0 and "MemoryError" in over.stderr
    assert under.exit_code == 0 and under.stdout == str(100 * 1024 * 1024)


def test_an_unknown_tool_or_a_missing_program_fails_without_raising(
    tmp_path: Path, identify: Identify
) -> None:
    source = FORMATS / "pdf-handbuilt-test-corpus" / "hello_world.pdf"
    unknown = convert(source, Action("jhove", "fmt/477", "pdf"), Purpose.ACCESS, tmp_path, identify=identify)
    assert unknown.outcome is ConversionOutcome.FAILED
    assert unknown.message_code == "planning.convert.unknown_tool"
    missing = convert(
        source,
        Action("command", "fmt/477", "pdf", args=("/nonexistent/validator", "{input}", "{output}")),
        Purpose.ACCESS,
        tmp_path,
        identify=identify,
    )
    assert missing.outcome is ConversionOutcome.FAILED
    assert missing.message_code == "planning.convert.tool_missing"
    assert _files(tmp_path) == []
