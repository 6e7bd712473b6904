"""Validation and characterization: three outcomes, stable finding codes, real files."""

from __future__ import annotations

import shutil
import struct
import subprocess
import unicodedata
import wave
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from preservation.characteristics import Validity
from preservation.characterize import CharacterizeOptions, characterize, characterizers
from preservation.characterize.av import AvCharacterizer
from preservation.characterize.xml import XmlCharacterizer
from preservation.formats import FormatMatch
from preservation.identify import get_engine
from tests.conftest import CORPUS

HORRORS = CORPUS / "format-corpus" / "pdfCabinetOfHorrors"
PDF = FormatMatch("fmt/276", mime="application/pdf")


def run_all(path: Path, search_root: Path | None = None):  # type: ignore[no-untyped-def]
    fmt = get_engine("siegfried").identify([path])[path].chosen
    return characterize(path, fmt, characterizers(CharacterizeOptions(xml_search_root=search_root)))


def test_valid_pdfa_claim() -> None:
    r, pdfa = run_all(HORRORS / "text_only_pdfa1b.pdf")
    assert pdfa.validator == "pdfa" and pdfa.properties["pdfa_claim"] == "1B"
    assert r.validator == "pdf"
    assert r.validity is Validity.VALID
    assert r.properties["pages"] == 1
    assert r.properties["pdfa_claim"] == "1B"
    assert r.agent.name == "pikepdf" and "qpdf" in r.agent.version


def test_linearization_quirks_are_warnings_not_damage() -> None:
    (r,) = run_all(HORRORS / "text_only_fontsEmbeddedAll.pdf")
    assert r.validity is Validity.VALID
    assert {f.code for f in r.findings} == {"pdf.linearization"}


def test_damaged_pdf_is_invalid() -> None:
    r, pdfa = run_all(HORRORS / "corruptionOneByteMissing.pdf")
    assert pdfa.validity is Validity.INVALID and [f.code for f in pdfa.findings] == ["pdfa.damaged"]
    assert r.validity is Validity.INVALID
    assert any(f.code == "pdf.syntax" and "damaged" in f.message for f in r.findings)
    assert all(str(HORRORS) not in f.message for f in r.findings)  # no absolute paths in findings


def test_truncated_pdf(tmp_path: Path) -> None:
    src = (HORRORS / "text_only_pdfa1b.pdf").read_bytes()
    broken = tmp_path / "truncated.pdf"
    broken.write_bytes(src[: len(src) // 3])
    r, *_ = characterize(broken, PDF, characterizers(CharacterizeOptions()))
    assert r.validity is Validity.INVALID
    assert r.findings and r.findings[0].code in {"pdf.damaged", "pdf.syntax"}


def test_password_pdf_could_not_be_checked() -> None:
    (r,) = run_all(HORRORS / "encryption_openpassword.pdf")
    assert r.validity is Validity.COULD_NOT_CHECK
    assert [f.code for f in r.findings] == ["pdf.encrypted"]


def test_encrypted_pdf_made_here(tmp_path: Path) -> None:
    path = tmp_path / unicodedata.normalize("NFD", "Mật.pdf")
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(owner="o", user="secret"))
    (r,) = characterize(path, PDF, characterizers(CharacterizeOptions()))
    assert r.validity is Validity.COULD_NOT_CHECK


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_images_valid_with_properties(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / unicodedata.normalize("NFD", f"Ảnh trụ sở.{fmt.lower()}")
    Image.new("RGB", (64, 48), (200, 30, 30)).save(path, format=fmt, dpi=(300, 300))
    (r,) = run_all(path)
    assert r.validator == "image"
    assert r.validity is Validity.VALID
    assert (r.properties["width"], r.properties["height"], r.properties["format"]) == (64, 48, fmt)
    assert round(float(r.properties["dpi_x"])) == 300


def test_truncated_png_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    Image.new("RGB", (256, 256), (10, 200, 30)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    (r,) = characterize(path, FormatMatch("fmt/11", mime="image/png"), characterizers(CharacterizeOptions()))
    assert r.validity is Validity.INVALID
    assert r.findings[0].code == "image.damaged"


XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="hoSo"><xs:complexType><xs:sequence>
    <xs:element name="tieuDe" type="xs:string"/>
    <xs:element name="soTo" type="xs:positiveInteger"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>
"""


def xml_doc(body: str, location: str | None = "danh-muc.xsd") -> str:
    decl = (
        f' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="{location}"'
        if location
        else ""
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<hoSo{decl}>{body}</hoSo>\n'


XML = FormatMatch("fmt/101", mime="application/xml")


def test_xml_schema_valid(tmp_path: Path) -> None:
    (tmp_path / "danh-muc.xsd").write_text(XSD, encoding="utf-8")
    doc = tmp_path / "danh-muc.xml"
    doc.write_text(xml_doc("<tieuDe>Hồ sơ số 1</tieuDe><soTo>12</soTo>"), encoding="utf-8")
    r = XmlCharacterizer(search_root=tmp_path).characterize(doc, XML)
    assert r.validity is Validity.VALID
    assert r.properties["schema_validated"] is True


def test_xml_schema_invalid(tmp_path: Path) -> None:
    (tmp_path / "danh-muc.xsd").write_text(XSD, encoding="utf-8")
    doc = tmp_path / "danh-muc.xml"
    doc.write_text(xml_doc("<tieuDe>Hồ sơ</tieuDe><soTo>mười hai</soTo>"), encoding="utf-8")
    r = XmlCharacterizer(search_root=tmp_path).characterize(doc, XML)
    assert r.validity is Validity.INVALID
    assert r.findings[0].code == "xml.schema_invalid"
    assert "soTo" in r.findings[0].message


def test_xml_without_schema_is_well_formed_only(tmp_path: Path) -> None:
    doc = tmp_path / "plain.xml"
    doc.write_text(xml_doc("<tieuDe>x</tieuDe>", location=None), encoding="utf-8")
    r = XmlCharacterizer().characterize(doc, XML)
    assert r.validity is Validity.VALID
    assert r.properties["schema_validated"] is False


def test_xml_remote_schema_could_not_check(tmp_path: Path) -> None:
    doc = tmp_path / "remote.xml"
    doc.write_text(
        xml_doc("<tieuDe>x</tieuDe>", location="https://example.invalid/schema.xsd"), encoding="utf-8"
    )
    r = XmlCharacterizer(search_root=tmp_path).characterize(doc, XML)
    assert r.validity is Validity.COULD_NOT_CHECK
    assert r.findings[0].code == "xml.schema_unavailable"


def test_xml_schema_outside_the_submission_is_not_used(tmp_path: Path) -> None:
    (tmp_path / "danh-muc.xsd").write_text(XSD, encoding="utf-8")
    inner = tmp_path / "sip"
    inner.mkdir()
    doc = inner / "x.xml"
    doc.write_text(xml_doc("<tieuDe>x</tieuDe><soTo>1</soTo>", location="../danh-muc.xsd"), encoding="utf-8")
    r = XmlCharacterizer(search_root=inner).characterize(doc, XML)
    assert r.validity is Validity.COULD_NOT_CHECK


def test_xml_not_well_formed(tmp_path: Path) -> None:
    doc = tmp_path / "bad.xml"
    doc.write_text("<hoSo><tieuDe>x</hoSo>", encoding="utf-8")
    r = XmlCharacterizer().characterize(doc, XML)
    assert r.validity is Validity.INVALID
    assert r.findings[0].code == "xml.not_well_formed"
    assert r.findings[0].where.startswith("bad.xml:1:")


def test_xml_entities_are_not_expanded(tmp_path: Path) -> None:
    doc = tmp_path / "xxe.xml"
    doc.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<d>&x;</d>\n',
        encoding="utf-8",
    )
    r = XmlCharacterizer().characterize(doc, XML)
    assert r.validity is Validity.VALID
    assert "root:" not in str(r.properties)


def wav(path: Path, seconds: float = 1.0, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", (i * 37) % 2000) for i in range(int(rate * seconds))))
    return path


def test_wav_is_valid(tmp_path: Path) -> None:
    path = wav(tmp_path / unicodedata.normalize("NFD", "Ghi âm buổi họp.wav"))
    results = run_all(path)
    (r,) = [x for x in results if x.validator == "av"]
    assert r.validity is Validity.VALID
    assert r.properties["sample_rate"] == 8000
    assert r.agent.name == "ffprobe" and r.agent.version not in {"unknown", "missing"}


def test_garbage_video_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x13\x37" * 500)
    r = AvCharacterizer().characterize(path, FormatMatch("fmt/199", mime="video/mp4"))
    assert r.validity is Validity.INVALID
    assert r.findings[0].code == "av.damaged"


@pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (only ffprobe is needed by Kho Lưu)"
)
def test_real_mp4_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=64x64:rate=5",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    results = run_all(path)
    (r,) = [x for x in results if x.validator == "av"]
    assert r.validity is Validity.VALID
    assert r.properties["width"] == 64


def test_missing_ffprobe_could_not_check(tmp_path: Path) -> None:
    path = wav(tmp_path / "a.wav")
    r = AvCharacterizer(ffprobe="/nonexistent/ffprobe").characterize(
        path, FormatMatch("fmt/141", mime="audio/x-wav")
    )
    assert r.validity is Validity.COULD_NOT_CHECK
    assert r.findings[0].code == "av.tool_missing"


def test_no_characterizer_for_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("ghi chú", encoding="utf-8")
    assert run_all(path) == []
