"""Office formats by family: which PUIDs and MIME types, which parser, which LibreOffice filter.

The LibreOffice import filter is named explicitly when a file is loaded: left to guess,
LibreOffice opens almost anything (random bytes become a text document), so a load without a
forced filter proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from preservation.formats import FormatMatch


class Family(StrEnum):
    OOXML = "ooxml"
    ODF = "odf"
    EPUB = "epub"
    OLE_WORD = "ole_word"
    OLE_EXCEL = "ole_excel"
    OLE_POWERPOINT = "ole_powerpoint"
    RTF = "rtf"
    WORDPERFECT = "wordperfect"
    LOTUS = "lotus"
    ACCESS = "access"


@dataclass(frozen=True)
class OfficeFormat:
    """Attributes:
    family: the parser that reads it.
    filter: LibreOffice's import filter name, ``""`` when LibreOffice cannot import it.
    output: what LibreOffice converts it to for the load check (the cheapest export).
    parser_checks_content: the parser reads the content (True) or only the framing (False:
        a header or record check that can show damage but cannot vouch for the file).
    """

    family: Family
    filter: str
    output: str
    parser_checks_content: bool = True


_P = OfficeFormat
FORMATS: dict[str, OfficeFormat] = {
    **dict.fromkeys(
        ("fmt/412", "fmt/523", "fmt/597", "fmt/599"), _P(Family.OOXML, "MS Word 2007 XML", "txt")
    ),
    **dict.fromkeys(("fmt/214", "fmt/445", "fmt/598"), _P(Family.OOXML, "Calc MS Excel 2007 XML", "csv")),
    **dict.fromkeys(
        ("fmt/215", "fmt/487", "fmt/629", "fmt/630", "fmt/631"),
        _P(Family.OOXML, "Impress MS PowerPoint 2007 XML", "pdf"),
    ),
    "fmt/189": _P(Family.OOXML, "", ""),
    **dict.fromkeys(("fmt/136", "fmt/290", "fmt/291", "fmt/1756"), _P(Family.ODF, "writer8", "txt")),
    **dict.fromkeys(("fmt/137", "fmt/294", "fmt/295", "fmt/1755"), _P(Family.ODF, "calc8", "csv")),
    **dict.fromkeys(("fmt/138", "fmt/292", "fmt/293", "fmt/1754"), _P(Family.ODF, "impress8", "pdf")),
    **dict.fromkeys(("fmt/139", "fmt/296", "fmt/297", "fmt/1753"), _P(Family.ODF, "draw8", "pdf")),
    **dict.fromkeys(("fmt/483", "fmt/1440", "fmt/1441"), _P(Family.EPUB, "", "")),
    **dict.fromkeys(("fmt/40", "fmt/39", "fmt/609"), _P(Family.OLE_WORD, "MS Word 97", "txt")),
    **dict.fromkeys(("fmt/61", "fmt/62", "fmt/59", "fmt/60"), _P(Family.OLE_EXCEL, "MS Excel 97", "csv")),
    **dict.fromkeys(("fmt/126", "fmt/125"), _P(Family.OLE_POWERPOINT, "MS PowerPoint 97", "pdf")),
    "x-fmt/88": _P(Family.OLE_POWERPOINT, "", "", parser_checks_content=False),
    **dict.fromkeys(
        ("fmt/45", "fmt/50", "fmt/52", "fmt/53", "fmt/355", "fmt/969"),
        _P(Family.RTF, "Rich Text Format", "txt"),
    ),
    **dict.fromkeys(
        ("x-fmt/44", "x-fmt/393", "x-fmt/394"),
        _P(Family.WORDPERFECT, "WordPerfect", "txt", parser_checks_content=False),
    ),
    **dict.fromkeys(
        ("x-fmt/114", "x-fmt/115", "x-fmt/117"), _P(Family.LOTUS, "Lotus", "csv", parser_checks_content=False)
    ),
    **dict.fromkeys(
        ("x-fmt/238", "x-fmt/239", "x-fmt/240", "x-fmt/241"),
        _P(Family.ACCESS, "", "", parser_checks_content=False),
    ),
}
"""PRONOM id → format. PowerPoint 4.0 (x-fmt/88, a ``PP40`` stream) has no import filter in
LibreOffice and no parser here beyond the OLE2 container."""

_MIMES: dict[str, OfficeFormat] = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FORMATS["fmt/412"],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FORMATS["fmt/214"],
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": FORMATS["fmt/215"],
    "application/vnd.oasis.opendocument.text": FORMATS["fmt/291"],
    "application/vnd.oasis.opendocument.spreadsheet": FORMATS["fmt/295"],
    "application/vnd.oasis.opendocument.presentation": FORMATS["fmt/293"],
    "application/vnd.oasis.opendocument.graphics": FORMATS["fmt/297"],
    "application/epub+zip": FORMATS["fmt/483"],
    "application/msword": FORMATS["fmt/40"],
    "application/vnd.ms-excel": FORMATS["fmt/61"],
    "application/vnd.ms-powerpoint": FORMATS["fmt/126"],
    "application/rtf": FORMATS["fmt/45"],
    "text/rtf": FORMATS["fmt/45"],
    "application/vnd.wordperfect": FORMATS["x-fmt/44"],
    "application/vnd.lotus-1-2-3": FORMATS["x-fmt/114"],
    "application/x-msaccess": FORMATS["x-fmt/239"],
    "application/vnd.ms-access": FORMATS["x-fmt/239"],
}


def office_format(fmt: FormatMatch) -> OfficeFormat | None:
    """The office format of an identification: by PUID first, then by the MIME type."""
    return FORMATS.get(fmt.puid) or _MIMES.get(fmt.mime)
