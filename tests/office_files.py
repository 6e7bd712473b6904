"""Small office files made in tests: a minimal WordprocessingML document (ECMA-376) and damaged
variants of any ZIP package."""

from __future__ import annotations

import zipfile
from pathlib import Path

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)


def document_xml(text: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    )


def make_docx(path: Path, text: str = "Công văn số 01", *, parts: dict[str, str] | None = None) -> Path:
    """A DOCX Word and LibreOffice open; ``parts`` replaces or adds parts (a value of "" drops it)."""
    content = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": RELS,
        "word/document.xml": document_xml(text),
    }
    content.update(parts or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in content.items():
            if data:
                z.writestr(name, data)
    return path


def flip_byte_in(path: Path, member: str, out: Path) -> Path:
    """A copy of the package with one byte of ``member``'s compressed data changed (CRC mismatch)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    return out


_ODF = "urn:oasis:names:tc:opendocument:xmlns"
_LIBRARY_DTD = '<!DOCTYPE {0} PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "{1}">'


def make_macro_odt(path: Path, marker: Path, text: str = "Tài liệu có macro") -> Path:
    """An ODF text document whose StarBasic macro, bound to the document's load event
    (``dom:load``), writes ``marker``: if it exists after a conversion, a macro ran."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="{_ODF}:office:1.0" '
        f'xmlns:text="{_ODF}:text:1.0" xmlns:script="{_ODF}:script:1.0" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.2"><office:scripts>'
        '<office:event-listeners><script:event-listener script:language="ooo:script" '
        'script:event-name="dom:load" xlink:type="simple" xlink:href="vnd.sun.star.script:'
        'Standard.Module1.Main?language=Basic&amp;location=document"/></office:event-listeners>'
        f"</office:scripts><office:body><office:text><text:p>{text}</text:p></office:text>"
        "</office:body></office:document-content>"
    )
    module = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        + _LIBRARY_DTD.format("script:module", "module.dtd")
        + '<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" '
        'script:language="StarBasic">Sub Main\n  Dim n As Integer\n  n = FreeFile()\n'
        f'  Open "{marker}" For Output As #n\n  Print #n, "macro ran"\n  Close #n\nEnd Sub\n'
        "</script:module>"
    )
    library = "http://openoffice.org/2000/library"
    parts = {
        "content.xml": content,
        "Basic/script-lc.xml": '<?xml version="1.0" encoding="UTF-8"?>'
        + _LIBRARY_DTD.format("library:libraries", "libraries.dtd")
        + f'<library:libraries xmlns:library="{library}" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<library:library library:name="Standard" library:link="false"/></library:libraries>',
        "Basic/Standard/script-lb.xml": '<?xml version="1.0" encoding="UTF-8"?>'
        + _LIBRARY_DTD.format("library:library", "library.dtd")
        + f'<library:library xmlns:library="{library}" library:name="Standard" library:readonly="false" '
        'library:passwordprotected="false"><library:element library:name="Module1"/></library:library>',
        "Basic/Standard/Module1.xml": module,
    }
    entries = "".join(
        f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>' for name in parts
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        f'xmlns:manifest="{_ODF}:manifest:1.0" manifest:version="1.2"><manifest:file-entry '
        'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        f"{entries}</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        for name, data in parts.items():
            z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path
