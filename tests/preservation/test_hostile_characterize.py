"""Issue 11 items 5, 10 (XML limits) and 18: one damaged or hostile file never fails a whole
ingest, its finding names it and says why, and XML validation reads nothing outside the package."""

from __future__ import annotations

import io
import os
import struct
import threading
import time
import wave
import zlib
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from preservation.characteristics import Characterization, Validity
from preservation.characterize import CharacterizeOptions, characterize, characterizers
from preservation.characterize.xml import XmlCharacterizer
from preservation.events import Agent
from preservation.formats import FormatMatch
from tests.conftest import CORPUS

FORMATS = {
    "pdf": FormatMatch("fmt/276", mime="application/pdf"),
    "png": FormatMatch("fmt/11", mime="image/png"),
    "jpg": FormatMatch("fmt/43", mime="image/jpeg"),
    "tif": FormatMatch("fmt/353", mime="image/tiff"),
    "xml": FormatMatch("fmt/101", mime="application/xml"),
    "wav": FormatMatch("fmt/141", mime="audio/x-wav"),
}
XML = FORMATS["xml"]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _tiff(entries: list[list[tuple[int, int, int, int]]], pixel: bytes = b"\x80") -> bytes:
    """A little-endian TIFF with one IFD per page; StripOffsets (273) point at ``pixel``."""
    sizes = [2 + 12 * len(e) + 4 for e in entries]
    offsets = [8 + sum(sizes[:i]) for i in range(len(entries))]
    data_offset = 8 + sum(sizes)
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for i, page in enumerate(entries):
        nxt = offsets[i + 1] if i + 1 < len(entries) else 0
        fixed = [(t, ty, c, data_offset if t == 273 else v) for t, ty, c, v in page]
        out += struct.pack("<H", len(fixed)) + b"".join(struct.pack("<HHII", *e) for e in fixed)
        out += struct.pack("<I", nxt)
    return bytes(out + pixel)


GREY_1X1 = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1)]
GREY_1X1 += [(273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1)]


def _valid_bytes(kind: str, tmp: Path) -> bytes:
    if kind == "pdf":
        out = io.BytesIO()
        pdf = pikepdf.new()
        pdf.add_blank_page()
        pdf.save(out)
        return out.getvalue()
    if kind in ("png", "jpg", "tif"):
        out = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 10, 10)).save(out, {"jpg": "JPEG", "tif": "TIFF"}.get(kind, "PNG"))
        return out.getvalue()
    if kind == "xml":
        return b'<?xml version="1.0"?>\n<doc><a>m\xe1\xbb\x99t</a>' + b"<b/>" * 200 + b"</doc>\n"
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 8000)
    return out.getvalue()


def broken_files(folder: Path) -> dict[str, tuple[Path, FormatMatch]]:
    """Deliberately broken files of each format: truncated, wrong header, zero or missing size."""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, tuple[bytes, str]] = {}
    for kind in FORMATS:
        good = _valid_bytes(kind, folder)
        made[f"truncated.{kind}"] = (good[: max(len(good) // 3, 12)], kind)
        made[f"wrong-header.{kind}"] = (b"\x00GARBAGE\xff" + good[10:], kind)
        made[f"empty.{kind}"] = (b"", kind)
    ihdr_zero = struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)
    made["zero-size.png"] = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr_zero)
        + _png_chunk(b"IDAT", zlib.compress(b""))
        + _png_chunk(b"IEND", b""),
        "png",
    )
    zero = [(t, ty, c, 0 if t in (256, 257) else v) for t, ty, c, v in GREY_1X1]
    made["zero-size.tif"] = (_tiff([zero]), "tif")
    # the JHOVE case of issue 11: page 2 has no ImageWidth/ImageLength, Pillow raises TypeError
    made["missing-dimensions.tif"] = (
        _tiff([GREY_1X1, [(262, 3, 1, 1), (273, 4, 1, 0), (279, 4, 1, 1)]]),
        "tif",
    )
    made["no-pages.pdf"] = (
        b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF",
        "pdf",
    )
    made["zero-channels.wav"] = (
        _valid_bytes("wav", folder)[:22] + b"\x00\x00" + _valid_bytes("wav", folder)[24:],
        "wav",
    )
    out: dict[str, tuple[Path, FormatMatch]] = {}
    for name, (data, kind) in made.items():
        (folder / name).write_bytes(data)
        out[name] = (folder / name, FORMATS[kind])
    return out


def _forced(path: Path) -> list[Characterization]:
    """Every characterizer on the file, whatever the file is, under the guard of ``characterize``."""
    results: list[Characterization] = []
    for fmt in FORMATS.values():
        results.extend(characterize(path, fmt, characterizers(CharacterizeOptions(timeout=60))))
    return results


def test_item05_every_characterizer_survives_broken_files_and_names_them(tmp_path: Path) -> None:
    for name, (path, fmt) in broken_files(tmp_path / "broken").items():
        own = characterize(path, fmt, characterizers(CharacterizeOptions(timeout=60)))
        assert own, name
        for r in own:
            assert r.validity in (Validity.INVALID, Validity.COULD_NOT_CHECK), (name, r)
            assert r.findings and all(f.where.startswith(path.name) for f in r.findings), (name, r)
            assert all(str(path.parent) not in f.message for f in r.findings), (name, r)
        for r in _forced(path):  # a characterizer for another format never raises either
            assert r.validity is not Validity.NOT_CHECKED


def test_item05_missing_dimensions_tiff_is_invalid_not_a_crash(tmp_path: Path) -> None:
    path, fmt = broken_files(tmp_path)["missing-dimensions.tif"]
    (r,) = characterize(path, fmt, characterizers(CharacterizeOptions()))
    assert r.validity is Validity.INVALID
    assert [(f.code, f.where) for f in r.findings] == [("image.damaged", "missing-dimensions.tif")]
    assert "Missing dimensions" in r.findings[0].message


class _Exploding:
    name = "exploding"
    agent = Agent(name="exploding", version="1")

    def applies(self, fmt: FormatMatch) -> bool:
        return True

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization:
        raise RuntimeError(f"library bug while reading {path}")


class _Hanging:
    name = "hanging"
    agent = Agent(name="hanging", version="1")

    def __init__(self) -> None:
        self.release = threading.Event()

    def applies(self, fmt: FormatMatch) -> bool:
        return True

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization:
        self.release.wait(30)
        return Characterization(self.name, self.agent, Validity.VALID)


def test_item05_any_exception_is_a_could_not_check_finding(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"x")
    (r,) = characterize(path, XML, [_Exploding()])
    assert r.validity is Validity.COULD_NOT_CHECK
    (f,) = r.findings
    assert (f.code, f.where, f.params["error"]) == ("characterize.failed", "a.bin", "RuntimeError")
    assert str(tmp_path) not in f.message


def test_item18_a_hanging_characterizer_is_stopped_by_the_time_limit(tmp_path: Path) -> None:
    path = tmp_path / "slow.xml"
    path.write_bytes(b"<a/>")
    hanging = _Hanging()
    started = time.monotonic()
    (r,) = characterize(path, XML, [hanging], timeout=0.5)
    hanging.release.set()
    assert time.monotonic() - started < 10
    assert r.validity is Validity.COULD_NOT_CHECK
    assert [(f.code, f.where) for f in r.findings] == [("characterize.timeout", "slow.xml")]


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
def test_item05_every_characterizer_over_the_whole_corpus() -> None:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and not p.is_symlink())
    assert len(files) > 1000
    by_name = {c.name: c for c in characterizers(CharacterizeOptions(timeout=60))}
    chosen = [by_name[n] for n in ("pdf", "pdfa", "image", "jp2", "xml", "office")]
    av = by_name["av"]
    formats = [FORMATS["pdf"], FORMATS["png"], XML, FormatMatch("x-fmt/392"), FormatMatch("fmt/412"),
               FormatMatch("fmt/40"), FormatMatch("fmt/45"), FormatMatch("x-fmt/114")]  # fmt: skip
    crashed: list[tuple[str, str]] = []
    for path in files:
        results = [r for fmt in formats for r in characterize(path, fmt, chosen)]
        if path.suffix.lower() in {".wav", ".mp3", ".mp4", ".avi", ".mov", ".ogg", ".flac", ".mkv", ".webm"}:
            results.extend(characterize(path, FORMATS["wav"], [av]))
        crashed += [
            (str(path.relative_to(CORPUS)), f.message)
            for r in results
            for f in r.findings
            if f.code in ("characterize.failed", "characterize.timeout")
        ]
        assert all(r.validity is not Validity.NOT_CHECKED for r in results)
    assert crashed == []  # every failure a characterizer meets in the corpus is a named finding of its own


# ----------------------------------------------------------------------------- XML (items 10, 18)


def _schema_doc(folder: Path, include: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:include schemaLocation="{include}"/></xs:schema>'
    )
    doc = folder / "d.xml"
    doc.write_text(
        '<doc xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="s.xsd">'
        "hi</doc>"
    )
    return doc


def test_item18_schema_include_of_a_server_file_is_not_read(tmp_path: Path) -> None:
    server = tmp_path / "server-secret.xsd"
    server.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="doc" type="xs:string"/>'
        "</xs:schema>"
    )
    pkg = tmp_path / "pkg"
    doc = _schema_doc(pkg, str(server))
    r = XmlCharacterizer(search_root=pkg).characterize(doc, XML)
    assert r.properties["schema_validated"] is False
    assert r.validity is Validity.COULD_NOT_CHECK
    (f,) = r.findings
    assert f.code == "xml.schema_outside_package" and f.params["location"] == str(server)
    # the same include inside the package is fine
    (pkg / "inside.xsd").write_text(server.read_text())
    doc = _schema_doc(pkg, "inside.xsd")
    r = XmlCharacterizer(search_root=pkg).characterize(doc, XML)
    assert r.validity is Validity.VALID and r.properties["schema_validated"] is True


@pytest.mark.parametrize("target", ["/dev/stdin", "fifo"])
def test_item18_schema_include_of_stdin_or_a_fifo_does_not_hang(tmp_path: Path, target: str) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    if target == "fifo":
        os.mkfifo(pkg / "fifo.xsd")
        target = "fifo.xsd"
    doc = _schema_doc(pkg, target)
    rfd, wfd = os.pipe()  # a stdin that never ends: reading it would block forever
    saved = os.dup(0)
    os.dup2(rfd, 0)
    try:
        (r,) = characterize(doc, XML, [XmlCharacterizer(search_root=pkg)], timeout=20)
    finally:
        os.dup2(saved, 0)
        for fd in (saved, rfd, wfd):
            os.close(fd)
    assert r.validity is Validity.COULD_NOT_CHECK
    assert [f.code for f in r.findings] == ["xml.schema_outside_package"]


def test_item10_billion_laughs_and_depth_are_not_called_malformed(tmp_path: Path) -> None:
    entities = "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "lol" * 10}">\n'
        for i in range(1, 10)
    )
    laughs = tmp_path / "laughs.xml"
    laughs.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n{entities}]>\n<lolz>&lol9;</lolz>\n')
    deep = tmp_path / "deep.xml"
    deep.write_text("<a>" * 300 + "</a>" * 300)
    broken = tmp_path / "broken.xml"
    broken.write_text("<a><b></a>")
    got = {p.name: XmlCharacterizer().characterize(p, XML) for p in (laughs, deep, broken)}
    assert [f.code for f in got["laughs.xml"].findings] == ["xml.entity_bomb"]
    assert [f.code for f in got["deep.xml"].findings] == ["xml.too_deep"]
    assert [f.code for f in got["broken.xml"].findings] == ["xml.not_well_formed"]
    assert got["laughs.xml"].validity is got["deep.xml"].validity is Validity.COULD_NOT_CHECK
    assert got["broken.xml"].validity is Validity.INVALID


@pytest.mark.parametrize("language", ["vi", "en"])
def test_item10_new_finding_codes_have_texts(language: str) -> None:
    from repository.i18n import Translator

    params = {"path": "a.xml", "location": "/etc/x.xsd", "reason": "outside", "validator": "xml"}
    params |= {"error": "TypeError", "seconds": 300}
    for code in (
        "xml.entity_bomb",
        "xml.too_deep",
        "xml.too_large",
        "xml.schema_outside_package",
        "characterize.failed",
        "characterize.timeout",
    ):
        text = Translator(language).text(code, params, default="")
        assert text and "{" not in text and "a.xml" in text, code
