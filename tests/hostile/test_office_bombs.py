"""ZIP bombs inside the documents we open ourselves: the parts of a DOCX, XLSX, ODT or EPUB read by
the office characterizer, and an XLSX mục lục read by openpyxl behind the container limits.

A bomb in a document is not a reason to refuse the package (the document is what the agency
holds): it is kept, and its check says "could not check" with ``office.too_large``. A mục lục that
is a bomb is refused by :func:`preservation.container.check_zip_container` before openpyxl sees it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from preservation.characteristics import Validity
from preservation.characterize.office import OfficeCharacterizer
from preservation.container import ContainerLimitError, check_zip_container
from preservation.formats import FormatMatch
from tests.hostile.builders import MIB, Raw, deflated, pattern_deflate, raw_zip, zero_deflate
from tests.hostile.corpus import Case, Outcome
from tests.office_files import CONTENT_TYPES, RELS, document_xml

FORMATS = {
    "docx": FormatMatch("fmt/412"),
    "xlsx": FormatMatch("fmt/214"),
    "odt": FormatMatch("fmt/291"),
    "epub": FormatMatch("fmt/483"),
}
KIND = "archive bomb: XLSX/DOCX/ODT/EPUB parts"
MUC_LUC = "archive bomb: XLSX mục lục"
CASES: list[Case] = []
FORMAT_OF: dict[str, str] = {}

W = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
X = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'


def _ooxml(main: str, *extra: Raw) -> list[Raw]:
    return [
        deflated(b"[Content_Types].xml", CONTENT_TYPES.encode()),
        deflated(b"_rels/.rels", RELS.encode()),
        *extra,
        *([deflated(main.encode(), document_xml("Công văn").encode())] if main else []),
    ]


def _bomb_part(name: bytes, head: bytes, unit: bytes, mib: int, tail: bytes) -> Raw:
    data, usize, crc = pattern_deflate(head, unit, mib, tail)
    return Raw(name, data, usize, crc)


def doc(id: str, fmt: str, build: Callable[[Path], Path], code: str = "office.too_large") -> None:
    CASES.append(Case(id, KIND, build, code, Outcome.WARNED))
    FORMAT_OF[id] = fmt


doc(
    "docx-media-part-ratio-bomb",
    "docx",
    lambda d: raw_zip(
        d / "a.docx", _ooxml("word/document.xml", Raw(b"word/media/image1.png", zero_deflate(200), 200 * MIB))
    ),
)
doc(
    "docx-main-part-xml-bomb",
    "docx",
    lambda d: raw_zip(
        d / "a.docx",
        _ooxml("", _bomb_part(b"word/document.xml", W, b"<w:p/><w:p/>    ", 100, b"</w:body></w:document>")),
    ),
)
doc(
    "docx-declared-sizes-over-4gib",
    "docx",
    lambda d: raw_zip(
        d / "a.docx",
        _ooxml(
            "word/document.xml",
            *(Raw(f"word/media/big{i}.bin".encode(), zero_deflate(1), 3 << 30) for i in range(2)),
        ),
    ),
)
doc(
    "xlsx-sheet-xml-bomb",
    "xlsx",
    lambda d: raw_zip(
        d / "a.xlsx",
        _ooxml(
            "",
            _bomb_part(
                b"xl/worksheets/sheet1.xml", X, b"<row><c/></row>" + b" ", 100, b"</sheetData></worksheet>"
            ),
        ),
    ),
)
doc(
    "xlsx-shared-strings-bomb",
    "xlsx",
    lambda d: raw_zip(
        d / "a.xlsx",
        _ooxml(
            "xl/workbook.xml",
            _bomb_part(b"xl/sharedStrings.xml", b"<sst>", b"<si><t/></si>   ", 100, b"</sst>"),
        ),
    ),
)
doc(
    "docx-entry-count",
    "docx",
    lambda d: raw_zip(
        d / "a.docx",
        _ooxml("word/document.xml", *(Raw(f"p/{i}".encode(), b"", 0, method=0) for i in range(20_001))),
    ),
)
doc(
    "odt-content-bomb",
    "odt",
    lambda d: raw_zip(
        d / "a.odt",
        [
            Raw(
                b"mimetype",
                b"application/vnd.oasis.opendocument.text",
                39,
                __import__("zlib").crc32(b"application/vnd.oasis.opendocument.text"),
                method=0,
            ),
            _bomb_part(
                b"content.xml", b"<office:document-content>", b"<p/>" * 4, 100, b"</office:document-content>"
            ),
        ],
    ),
)
doc(
    "epub-chapter-bomb",
    "epub",
    lambda d: raw_zip(
        d / "a.epub",
        [
            Raw(
                b"mimetype",
                b"application/epub+zip",
                20,
                __import__("zlib").crc32(b"application/epub+zip"),
                method=0,
            ),
            Raw(b"OEBPS/chapter1.xhtml", zero_deflate(200), 200 * MIB),
        ],
    ),
)


def muc_luc(id: str, build: Callable[[Path], Path], limit: str) -> None:
    CASES.append(Case(id, MUC_LUC, build, "container.limits", Outcome.REFUSED))
    FORMAT_OF[id] = limit


muc_luc(
    "xlsx-muc-luc-sheet-bomb",
    lambda d: raw_zip(
        d / "muc-luc.xlsx",
        _ooxml(
            "",
            _bomb_part(b"xl/worksheets/sheet1.xml", X, b"<row><c/></row> ", 64, b"</sheetData></worksheet>"),
        ),
    ),
    "max_ratio",
)
muc_luc(
    "xlsx-muc-luc-lying-sizes",
    lambda d: raw_zip(
        d / "muc-luc.xlsx", _ooxml("", Raw(b"xl/worksheets/sheet1.xml", zero_deflate(1), 600 * MIB))
    ),
    "max_total_bytes",
)
muc_luc(
    "xlsx-muc-luc-entry-count",
    lambda d: raw_zip(
        d / "muc-luc.xlsx",
        _ooxml("", *(Raw(f"xl/p{i}.xml".encode(), b"", 0, method=0) for i in range(10_001))),
    ),
    "max_members",
)


@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_bomb_in_a_document(hostile: Case, tmp_path: Path) -> None:
    path = hostile.build(tmp_path)
    started = time.process_time()
    if hostile.kind == MUC_LUC:
        with pytest.raises(ContainerLimitError) as refused:
            check_zip_container(path)
        assert refused.value.code == hostile.code
        assert refused.value.params["limit"] == FORMAT_OF[hostile.id]
    else:
        result = OfficeCharacterizer().characterize(path, FORMATS[FORMAT_OF[hostile.id]])
        assert result is not None
        assert result.validity is Validity.COULD_NOT_CHECK
        assert [f.code for f in result.findings] == [hostile.code]
    # refused long before the bomb is spent: a fraction of a second, whatever it would inflate to
    assert time.process_time() - started < 2.0
