"""Legacy text onto TT 05/2025 codes and forms: the matching rules shared by the legacy readers.

Agencies' systems built to NĐ 30/2020 (Phụ lục VI Phần II) and archive systems built to TT 02/2019
write retention, access regime, language and document type as free text ("Vĩnh viễn", "Thường",
"Tiếng Việt", "QĐ"), and dates in whatever form their database printed (vn-standards.md §1.5). TT 05
wants codes and ``DD/MM/YYYY`` (Phụ lục III, IV). Matching ignores diacritics, case and spacing
(:func:`fold`), because the same label arrives composed, decomposed (NFD from macOS), in capitals or
typed without accents; the labels and aliases are data (``config/tt05/codelists.toml``).

Only what cannot be misread is matched: an abbreviation that two codes share once folded ("HĐ"
Hợp đồng and "HD" Hướng dẫn both fold to "hd"; "ĐA" Đề án and "DA" Dự án; NĐ 30/2020 Phụ lục III)
is no alias of either, so it is reported, never guessed.

What cannot be carried over is never dropped: the readers (:mod:`~preservation.tt05.legacy_nd30`,
:mod:`~preservation.tt05.muc_luc`) record an :class:`~preservation.tt05.model.Unmapped` with one of
the :class:`Reason` phrases, which the message catalogs translate (``legacy.reason.<phrase>``);
:mod:`~preservation.tt05.legacy_build` turns what they read into TT 05 records.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from preservation.errors import ErrorKind, PreservationError
from preservation.names import fold
from preservation.tt05.model import RecordSet, Unmapped
from preservation.tt05.tables import CodeList

__all__ = [
    "LegacyDossier",
    "LegacyError",
    "LegacyImport",
    "Reason",
    "cell_text",
    "fold",
    "header_key",
    "map_code",
    "map_codes",
    "map_retention",
    "nfc",
    "normalize_date",
    "normalize_number",
    "other_code",
    "years_lost",
]


class Reason(StrEnum):
    """Why a legacy value was not carried over as it was (texts: ``legacy.reason.<value>``)."""

    NO_ELEMENT = "no TT 05 element"
    UNKNOWN_ELEMENT = "unknown element"
    UNKNOWN_COLUMN = "unknown column"
    UNKNOWN_CODE = "unknown code"
    TYPE_AS_OTHER = "unknown document type"
    YEARS_LOST = "retention years not in the code list"
    BAD_DATE = "unparseable date"
    NOT_NUMBER = "not a number"
    DEFAULTED = "defaulted"
    INVENTED = "invented"
    IN_DESCRIPTION = "kept in description"
    DUPLICATE = "duplicate field"
    INCOMPLETE_CODE = "incomplete file code"
    OTHER_DOSSIER = "document of another dossier"
    NO_TITLE = "no title"
    ROW_SKIPPED = "row not understood"
    NO_DOSSIER = "no dossier for this document"
    WRONG_LEVEL = "column does not apply to this row"
    FILE_NOT_FOUND = "file not found"
    SHEET_SKIPPED = "sheet without a catalogue header"


class LegacyError(PreservationError):
    """A legacy export cannot be read at all (not XML, a DTD, not a spreadsheet, no header, no dossier)."""

    code = "legacy.unreadable"
    kind = ErrorKind.REFUSED


@dataclass(frozen=True)
class LegacyDossier:
    """One hồ sơ mapped from a legacy export.

    Attributes:
        records: a SIP_hoso :class:`RecordSet` (source ``ND30_XML`` or ``MUC_LUC``): the dossier
            description (variant ``HOSO_SIP``) and one ``DOC_SIP`` document per văn bản, its
            ``data_files`` the given file names that carry it; ``records.unmapped`` holds what was
            lost for this dossier.
        organ_id: the mã định danh of the agency (FileCode/OrganId), "" when the export omits it.
        unmatched_files: documents whose file could not be found: the file name the export gives,
            or the docCode when it names none.
    """

    records: RecordSet
    organ_id: str
    unmatched_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class LegacyImport:
    """Everything a legacy export said, mapped; and everything that could not be.

    Attributes:
        dossiers: the dossiers in export order.
        unmapped: every field or value not carried over (including the dossiers' own), in order.
        orphan_files: given files that no document describes (the export itself excluded).
    """

    dossiers: tuple[LegacyDossier, ...]
    unmapped: tuple[Unmapped, ...]
    orphan_files: tuple[str, ...]


# -------------------------------------------------------------------------------------- matching


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def header_key(text: str) -> str:
    """A column header or element name folded further: punctuation and "(3)"-style numbers gone.

    "Số, ký hiệu văn bản (4)" → ``"so ky hieu van ban"``.
    """
    text = re.sub(r"\(\s*\d+\s*\)|\(\s*\*\s*\)", " ", text)
    return " ".join(re.sub(r"[\W_]+", " ", fold(text)).split())


def _loose(text: str) -> str:
    return fold(text).strip(" .;:,")


def _by_label(codelist: CodeList, folded: str) -> str | None:
    for code in codelist.codes:
        if folded in (_loose(code.vi), _loose(code.en), *(_loose(a) for a in code.aliases)):
            return code.code
    return None


def map_code(codelist: CodeList, text: str) -> str | None:
    """The code ``text`` stands for: the code itself, its vi/en label or an alias, folded.

    A number without its leading zero ("1" for ``"01"``) is taken when exactly one code has that
    value. ``None`` when nothing matches.
    """
    raw = text.strip()
    if not raw:
        return None
    if raw in codelist.values:
        return raw
    found = _by_label(codelist, _loose(raw))
    if found is not None:
        return found
    if raw.isascii() and raw.isdigit():
        same = [c for c in codelist.values if c.isdigit() and int(c) == int(raw)]
        if len(same) == 1:
            return same[0]
    return None


_MULTI_SEPARATORS = re.compile(r"\s*(?:[,;/+&]|\bva\b|\band\b)\s*")


def map_codes(codelist: CodeList, text: str) -> tuple[list[str], list[str]]:
    """Several codes in one value ("Tiếng Việt, Tiếng Anh"): the codes and the parts not matched.

    The whole text is tried first ("Việt - Anh" is one code), then its parts split at ``,`` ``;``
    ``/`` ``+`` ``&`` and "và"/"and". Codes are returned once each, in the order written.
    """
    whole = map_code(codelist, text)
    if whole is not None:
        return [whole], []
    codes: list[str] = []
    unmatched: list[str] = []
    for part in (p.strip() for p in _MULTI_SEPARATORS.split(fold(text))):
        if not part:
            continue
        code = map_code(codelist, part)
        if code is None:
            original = _original_part(text, part)
            unmatched.append(original)
        elif code not in codes:
            codes.append(code)
    return codes, unmatched


def _original_part(text: str, folded_part: str) -> str:
    """The part of ``text`` as written, for the report (folding loses the diacritics)."""
    for piece in re.split(r"[,;/+&]", text):
        if fold(piece).strip() == folded_part:
            return nfc(piece)
    return folded_part


_YEARS = re.compile(r"(\d{1,3})\s*(?:nam|years?|y)?\b")


def map_retention(codelist: CodeList, text: str) -> str | None:
    """The thời hạn lưu trữ code of a free-text thời hạn bảo quản.

    NĐ 30/2020 Phụ lục V §I.4: the Danh mục hồ sơ writes "Vĩnh viễn hoặc thời hạn bằng số năm cụ
    thể"; TT 05 keeps 01 Vĩnh viễn, 70/50/30/20/10 năm and 07 Khác. A two-digit code written as
    such ("02") is a code; a bare or counted number of years ("70", "70 năm") is years. Years that
    have no code ("15 năm") give the Khác code: the caller records that the exact years are lost
    (:func:`years_lost`). ``None`` for text that is neither a label nor a number of years.
    """
    raw = text.strip()
    if not raw:
        return None
    if raw in codelist.values:
        return raw
    folded = _loose(raw)
    found = _by_label(codelist, folded)
    if found is not None:
        return found
    if "vinh vien" in folded:
        return _by_label(codelist, "vinh vien")
    match = _YEARS.match(folded)
    if match is None:
        return None
    years = str(int(match.group(1)))
    return _by_label(codelist, years) or _by_label(codelist, f"{years} nam") or other_code(codelist)


def other_code(codelist: CodeList) -> str | None:
    """The list's Khác (other) code: what an unknown document type or retention becomes."""
    return _by_label(codelist, "khac")


def years_lost(codelist: CodeList, text: str, code: str | None) -> bool:
    """True when :func:`map_retention` turned a number of years without a code into Khác."""
    return code is not None and code == other_code(codelist) and _by_label(codelist, _loose(text)) != code


# ------------------------------------------------------------------------------------ dates, numbers

_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_YMD = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\S*)?")
_MY = re.compile(r"(\d{1,2})[/.\-](\d{4})")
_Y = re.compile(r"\d{4}")
_WORDS = re.compile(r"(?:ngay\s*)?(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})")


def normalize_date(text: str) -> str | None:
    """A legacy date in the TT 05 form ``DD/MM/YYYY``; month or year precision kept as written.

    Accepts ``DD/MM/YYYY``, ``D/M/YYYY``, ``DD-MM-YYYY``, ``DD.MM.YYYY``, ``YYYY-MM-DD`` (with a
    time, as databases print it), "ngày 5 tháng 3 năm 2020"; ``MM/YYYY`` and ``YYYY`` stay at that
    precision (allowed in AIP variants; the SIP check flags them: a day is never guessed).
    ``None`` when the text is not a date or the date does not exist (31/02/2020).
    """
    raw = text.strip()
    try:
        if match := _DMY.fullmatch(raw):
            return _dmy(int(match[1]), int(match[2]), int(match[3]))
        if match := _YMD.fullmatch(raw):
            return _dmy(int(match[3]), int(match[2]), int(match[1]))
        if match := _WORDS.fullmatch(fold(raw)):
            return _dmy(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    if match := _MY.fullmatch(raw):
        month = int(match[1])
        return f"{month:02d}/{match[2]}" if 1 <= month <= 12 else None
    if _Y.fullmatch(raw):
        return raw
    return None


def _dmy(day: int, month: int, year: int) -> str:
    return date(year, month, day).strftime("%d/%m/%Y")


def cell_text(value: object) -> str:
    """A spreadsheet cell as text: dates in ``DD/MM/YYYY``, whole floats without ``.0``, NFC."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value))


_NUMBER = re.compile(r"(\d+)(?:[.,]0+)?(?:\s*(?:to|trang|van ban|tai lieu|vb|tl))?")


def normalize_number(text: str) -> str | None:
    """A count as TT 05 digits: "12", "12.0" (a spreadsheet float), "12 tờ", "012" → ``"12"``."""
    match = _NUMBER.fullmatch(fold(text))
    return str(int(match.group(1))) if match else None
