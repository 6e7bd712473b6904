"""Wrong encodings in TT 05 metadata, at the description reader and checker: UTF-16 and
Windows-1258 files (read when they say what they are, refused when they lie), and Vietnamese typed in
the TCVN3 or VNI font encodings and carried as Unicode (kept, with a ``tt05.legacy_font_text``
warning naming the element). Names in those encodings are in ``test_containers.py``."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from preservation.errors import KholuuError
from preservation.findings import Severity
from preservation.tt05.ead import parse_description, write_description
from preservation.tt05.ead_check import check_description
from preservation.tt05.model import Description
from preservation.tt05.tables import Variant, shipped_tables
from tests.hostile.builders import cp1258
from tests.hostile.corpus import Case, Outcome
from tests.tt05 import TITLE, valid_values

KIND = "wrong encodings: TT 05 metadata"
TCVN3_TITLE = "Hå s¬ vÒ viÖc x©y dùng trô së"  # "Hồ sơ về việc xây dựng trụ sở" in TCVN3 (ABC)
VNI_TITLE = "Hoà sô veà vieäc xaây döïng truï sôû"  # the same in VNI-Windows
CASES: list[Case] = []


def _utf8(d: Path, **overrides: str) -> Path:
    tables = shipped_tables()
    path = d / "EAD.xml"
    d.mkdir(parents=True, exist_ok=True)
    values = valid_values(Variant.HOSO_SIP, tables, **overrides)
    write_description(Description(Variant.HOSO_SIP, "EAD.xml", values), tables, path)
    return path


def _recoded(encoding: str, declared: str | None, *, bom: bytes = b"") -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        path = _utf8(d)
        text = path.read_text(encoding="utf-8")
        if declared is not None:
            text = text.replace("encoding='UTF-8'", f"encoding='{declared}'").replace(
                'encoding="UTF-8"', f'encoding="{declared}"'
            )
        data = cp1258(text) if encoding == "cp1258" else text.encode(encoding)
        path.write_bytes(bom + data)
        return path

    return build


def _add(id: str, build: Callable[[Path], Path], code: str, outcome: Outcome) -> None:
    CASES.append(Case(id, KIND, build, code, outcome))


_add("ead-utf16-declared", _recoded("utf-16", "UTF-16"), "", Outcome.ACCEPTED)
_add("ead-utf16be-declared", _recoded("utf-16-be", "UTF-16", bom=b"\xfe\xff"), "", Outcome.ACCEPTED)
# no BOM and a declaration that says UTF-8: libxml2 recognises UTF-16 by "<?" (XML 1.0 Appendix F)
_add("ead-utf16le-without-bom-declaring-utf8", _recoded("utf-16-le", None), "", Outcome.ACCEPTED)
_add(
    "ead-utf32-declared", _recoded("utf-32", "UTF-32"), "tt05.not_xml", Outcome.REFUSED
)  # libxml2 has no UTF-32
_add("ead-windows-1258-declared", _recoded("cp1258", "windows-1258"), "", Outcome.ACCEPTED)
_add("ead-windows-1258-declared-utf8", _recoded("cp1258", None), "tt05.not_xml", Outcome.REFUSED)
_add("ead-utf8-with-bom", _recoded("utf-8", None, bom=b"\xef\xbb\xbf"), "", Outcome.ACCEPTED)
_add(
    "ead-latin1-declared-for-utf8-bytes",
    _recoded("utf-8", "ISO-8859-1"),
    "tt05.legacy_font_text",
    Outcome.WARNED,
)
_add("ead-title-tcvn3", lambda d: _utf8(d, title=TCVN3_TITLE), "tt05.legacy_font_text", Outcome.WARNED)
_add("ead-title-vni", lambda d: _utf8(d, title=VNI_TITLE), "tt05.legacy_font_text", Outcome.WARNED)
_add(
    "ead-description-tcvn3",
    lambda d: _utf8(d, description="Ng\u00adêi lËp hå s¬: NguyÔn ThÞ H\u00ad¬ng"),
    "tt05.legacy_font_text",
    Outcome.WARNED,
)
_add(
    "ead-keyword-vni",
    lambda d: _utf8(d, keyword="xaây döïng; truï sôû"),
    "tt05.legacy_font_text",
    Outcome.WARNED,
)
_add(
    "ead-title-nfd",
    lambda d: _utf8(d, title=unicodedata.normalize("NFD", TITLE)),
    "",
    Outcome.ACCEPTED,
)


@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_wrong_encoding(hostile: Case, tmp_path: Path) -> None:
    path = hostile.build(tmp_path)
    try:
        parsed = parse_description(path, Variant.HOSO_SIP, "metadata/descriptive/EAD.xml")
    except KholuuError as exc:
        assert hostile.outcome is Outcome.REFUSED, f"refused with {exc.code}: {exc}"
        assert exc.code == hostile.code
        return
    assert hostile.outcome is not Outcome.REFUSED, "read; expected a refusal"
    findings = check_description(parsed, shipped_tables())
    assert [f.code for f in findings if f.severity is Severity.ERROR] == []
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    if hostile.outcome is Outcome.ACCEPTED:
        assert warnings == []
        # what was read is the Vietnamese text, in NFC, whatever the file's encoding
        assert parsed.description.values["title"] == unicodedata.normalize("NFC", TITLE)
    else:
        assert hostile.code in {f.code for f in warnings}
        for legacy in [f for f in warnings if f.code == hostile.code]:
            assert legacy.params["encoding"] in ("TCVN3", "VNI")
