"""Valid files of every format we characterise, made at run time (the truncated corpus cuts them)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pikepdf
from PIL import Image

from preservation.formats import FormatMatch
from tests.office_files import CONTENT_TYPES, RELS, document_xml
from tests.preservation.test_hostile_characterize import _valid_bytes


def _pdf() -> bytes:
    out = io.BytesIO()
    pdf = pikepdf.new()
    for _ in range(3):
        pdf.add_blank_page()
    pdf.save(out, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


def _image(fmt: str, **kw: object) -> Callable[[], bytes]:
    def make() -> bytes:
        out = io.BytesIO()
        img = Image.effect_noise((96, 64), 60).convert("RGB")
        img.save(out, fmt, **kw)
        return out.getvalue()

    return make


def _wav() -> bytes:
    return _valid_bytes("wav", Path("."))


def _zip(entries: dict[str, str], first_stored: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        if first_stored:
            zf.writestr(zipfile.ZipInfo("mimetype"), first_stored, compress_type=zipfile.ZIP_STORED)
        for name, text in entries.items():
            zf.writestr(name, text + "<!--" + "x" * 4000 + "-->" if name.endswith(".xml") else text)
    return out.getvalue()


def _docx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": RELS,
            "word/document.xml": document_xml("Công văn số 01"),
        }
    )


def _odt() -> bytes:
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        "<text:p>Tờ trình</text:p></office:text></office:body></office:document-content>"
    )
    return _zip(
        {"META-INF/manifest.xml": manifest, "content.xml": content}, "application/vnd.oasis.opendocument.text"
    )


def _rtf() -> bytes:
    return b"{\\rtf1\\ansi{\\fonttbl{\\f0 Times;}}\\f0 " + b"Cong van so 01 {\\b dam} " * 50 + b"}"


#: kind -> (maker, format as identification reports it)
SAMPLES: dict[str, tuple[Callable[[], bytes], FormatMatch]] = {
    "pdf": (_pdf, FormatMatch("fmt/276", mime="application/pdf")),
    "png": (_image("PNG"), FormatMatch("fmt/11", mime="image/png")),
    "jpg": (_image("JPEG", quality=90), FormatMatch("fmt/43", mime="image/jpeg")),
    "tif": (_image("TIFF"), FormatMatch("fmt/353", mime="image/tiff")),
    "gif": (_image("GIF"), FormatMatch("fmt/4", mime="image/gif")),
    "bmp": (_image("BMP"), FormatMatch("fmt/116", mime="image/bmp")),
    "webp": (_image("WEBP"), FormatMatch("fmt/567", mime="image/webp")),
    "jp2": (_image("JPEG2000"), FormatMatch("x-fmt/392", mime="image/jp2")),
    "xml": (
        lambda: b'<?xml version="1.0"?>\n<doc>' + b"<a>m\xe1\xbb\x99t</a>" * 300 + b"</doc>\n",
        FormatMatch("fmt/101", mime="application/xml"),
    ),
    "wav": (_wav, FormatMatch("fmt/141", mime="audio/x-wav")),
    "docx": (_docx, FormatMatch("fmt/412")),
    "odt": (_odt, FormatMatch("fmt/291")),
    "rtf": (_rtf, FormatMatch("fmt/355", mime="application/rtf")),
}
