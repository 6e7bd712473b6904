"""Legacy text onto TT 05/2025 codes and forms: the matching rules shared by the legacy readers.

Agencies' systems built to NĐ 30/2020 (Phụ lục VI Phần II) and archive systems built to TT 02/2019
write retention, access regime, language and document type as free text ("Vĩnh viễn", "Thường",
"Tiếng Việt", "QĐ"), and dates in whatever form their database printed (vn-standards.md §1.5). TT 05
wants codes and ``DD/MM/YYYY`` (Phụ lục III, IV). Matching ignores diacritics, case and spacing
(:func:`fold`), because the same label arrives composed, decomposed (NFD from macOS), in capitals or
typed without accents; the labels and aliases are data (``config/tt05/codelists.toml``).

What cannot be carried over is never dropped: the readers (:mod:`~preservation.tt05.legacy_nd30`,
:mod:`~preservation.tt05.muc_luc`) record an :class:`~preservation.tt05.model.Unmapped` with one of
the :class:`Reason` phrases, which the message catalogs translate (``legacy.reason.<phrase>``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from preservation.errors import PreservationError
from preservation.names import fold
from preservation.tt05.model import (
    Description,
    DocumentKind,
    DocumentRecord,
    DossierCode,
    PackageType,
    RecordSet,
    RecordSource,
    Unmapped,
    doc_code,
    split_file_code,
)
from preservation.tt05.tables import CodeList, Element, ElementTable, ElementType, Tables, Variant

__all__ = [
    "LegacyDossier",
    "LegacyError",
    "LegacyImport",
    "RawField",
    "RawRecord",
    "Reason",
    "build_import",
    "cell_text",
    "file_code_of",
    "fold",
    "header_key",
    "invented_doc_id",
    "map_code",
    "map_codes",
    "map_retention",
    "map_value",
    "nfc",
    "normalize_date",
    "normalize_number",
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


class LegacyError(PreservationError):
    """A legacy export cannot be read at all (not XML, not a spreadsheet, no header, no dossier)."""

    code = "legacy.unreadable"


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
    return _by_label(codelist, years) or _by_label(codelist, f"{years} nam") or _by_label(codelist, "khac")


def years_lost(codelist: CodeList, text: str, code: str | None) -> bool:
    """True when :func:`map_retention` turned a number of years without a code into Khác."""
    return (
        code is not None and code == _by_label(codelist, "khac") and _by_label(codelist, _loose(text)) != code
    )


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


# ------------------------------------------------------------------------------------- the records


@dataclass
class RawField:
    """One legacy value as read, with the name it had in the source and where it was."""

    value: str
    label: str
    where: str


@dataclass
class RawRecord:
    """A dossier or document as a reader found it: canonical field keys → legacy values.

    Keys are TT 05 element names where the legacy field means the same thing, plus
    ``organId``/``fileCatalog``/``fileNotation`` (parts of the mã hồ sơ), ``creator`` (người lập hồ
    sơ), ``docOrdinal`` and ``numberNotation`` ("12/QĐ-UBND" in one cell). ``lost`` holds what the
    reader could not take from the record itself (it ends up in the dossier's report).
    """

    where: str
    fields: dict[str, RawField] = field(default_factory=dict)
    files: list[RawField] = field(default_factory=list)
    documents: list[RawRecord] = field(default_factory=list)
    lost: list[Unmapped] = field(default_factory=list)

    def put(self, key: str, value: str, label: str, where: str) -> None:
        """Keep the first non-empty value of a key; a second one is reported, not silently lost."""
        text = nfc(value)
        if not text:
            return
        if key in self.fields:
            self.lost.append(Unmapped(where, label, text, Reason.DUPLICATE))
            return
        self.fields[key] = RawField(text, label, where)

    def text(self, key: str) -> str:
        found = self.fields.get(key)
        return found.value if found else ""


def file_code_of(raw: RawRecord) -> tuple[str, str, list[str]]:
    """(fileCode, organ id, missing parts) of a record, from the whole code or its parts.

    fileCode = OrganId + FileCatalog (năm hình thành) + FileNotation (NĐ 30/2020 Phụ lục VI Mục
    III.1; TT 05 fileCode, vn-standards.md §1.1). A code written whole is kept as written.
    """
    organ, year, notation = raw.text("organId"), raw.text("fileCatalog"), raw.text("fileNotation")
    whole = raw.text("fileCode")
    if whole:
        if not organ:
            split = split_file_code(whole)
            organ = split.organ_id if split else ""
        return whole, organ, []
    missing = [
        name
        for name, part in (("OrganId", organ), ("FileCatalog", year), ("FileNotation", notation))
        if not part
    ]
    if not missing and len(year) == 4 and year.isdigit():
        return DossierCode(organ_id=organ, year=int(year), notation=notation).render(), organ, []
    return ".".join(p for p in (organ, year, notation) if p), organ, missing


class _FilePool:
    """The given files, found by name or by the TT 05 digitized-file naming (Điều 8.1.d)."""

    def __init__(self, files: Sequence[str], exclude: Sequence[str]) -> None:
        skip = {nfc(_base(name)) for name in exclude}
        self.files = [name for name in files if nfc(_base(name)) not in skip]
        self.used: set[str] = set()
        self._full: dict[str, list[str]] = {}
        self._base: dict[str, list[str]] = {}
        self._stem: dict[str, list[str]] = {}
        for name in self.files:
            base = nfc(_base(name))
            self._full.setdefault(nfc(name.replace("\\", "/")), []).append(name)
            for index, key in ((self._base, base), (self._base, base.casefold())):
                if name not in index.setdefault(key, []):
                    index[key].append(name)
            for key in {base, base.rsplit(".", 1)[0] if "." in base else base}:
                self._stem.setdefault(key, []).append(name)

    def named(self, name: str) -> list[str]:
        text = nfc(name.replace("\\", "/"))
        for found in (
            self._full.get(text),
            self._base.get(_base(text)),
            self._base.get(_base(text).casefold()),
        ):
            if found and len(found) == 1:
                return self._take(found)
        return []

    def by_stem(self, stems: Sequence[str]) -> list[str]:
        found: list[str] = []
        for stem in (nfc(s) for s in stems if s):
            found.extend(name for name in self._stem.get(stem, []) if name not in found)
        return self._take(found)

    def _take(self, names: list[str]) -> list[str]:
        self.used.update(names)
        return names

    def orphans(self) -> tuple[str, ...]:
        return tuple(name for name in self.files if name not in self.used)


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def build_import(
    raws: Sequence[RawRecord],
    tables: Tables,
    files: Sequence[str],
    *,
    source: RecordSource,
    exclude: Sequence[str],
    lost: list[Unmapped],
) -> LegacyImport:
    """Map the dossiers a reader found onto TT 05 SIP_hoso records and match their files.

    Args:
        raws: the dossiers, each with its documents.
        tables: the TT 05 element tables and code lists.
        files: the names of the files submitted beside the export.
        source: which kind of export it was.
        exclude: the export's own file names (never a payload, never an orphan).
        lost: what the reader could not attribute to any dossier (rows skipped, documents without a
            dossier); the dossiers' own losses follow it in the import's report.
    """
    pool = _FilePool(files, exclude)
    dossiers: list[LegacyDossier] = []
    for raw in raws:
        own: list[Unmapped] = list(raw.lost)
        dossiers.append(_dossier(raw, tables, pool, source, own))
        lost.extend(own)
    return LegacyImport(dossiers=tuple(dossiers), unmapped=tuple(lost), orphan_files=pool.orphans())


def _dossier(
    raw: RawRecord, tables: Tables, pool: _FilePool, source: RecordSource, lost: list[Unmapped]
) -> LegacyDossier:
    file_code, organ_id, missing = file_code_of(raw)
    for part in missing:
        lost.append(Unmapped(raw.where, f"FileCode/{part}", file_code, Reason.INCOMPLETE_CODE))
    values: dict[str, str] = {"fileCode": file_code} if file_code else {}
    _map_elements(tables.table(Variant.HOSO_SIP), raw, tables, values, lost, extra=DOSSIER_KEYS)
    if "title" not in values:
        lost.append(Unmapped(raw.where, "Title", "", Reason.NO_TITLE))
    creator = raw.fields.get("creator")
    if creator is not None:
        # TT 05 Phụ lục III row 18: Ghi chú holds the name of who compiled the dossier.
        note = f"Người lập hồ sơ: {creator.value}"
        values["description"] = f"{note}; {values['description']}" if "description" in values else note
        lost.append(Unmapped(creator.where, creator.label, creator.value, Reason.IN_DESCRIPTION))
    documents: list[DocumentRecord] = []
    unmatched: list[str] = []
    for position, doc in enumerate(raw.documents, start=1):
        record, missing_file = _document(doc, position, file_code, values, tables, pool, lost)
        documents.append(record)
        if missing_file:
            unmatched.append(missing_file)
    if "riskRecovery" not in values or any("riskRecovery" not in d.fields for d in raw.documents):
        # No legacy standard has a backup-copy regime and TT 05 makes it mandatory (Phụ lục III
        # row 16): "0" (none) for the dossier and its documents, said once per dossier.
        values.setdefault("riskRecovery", "0")
        lost.append(Unmapped(raw.where, "riskRecovery", "0", Reason.DEFAULTED))
    if "totalDoc" not in values and documents:
        values["totalDoc"] = str(len(documents))
        lost.append(Unmapped(raw.where, "totalDoc", values["totalDoc"], Reason.DEFAULTED))
    pages = [d.description.get("numberOfPage") for d in documents]
    if "numberOfPage" not in values and pages and all(pages):
        values["numberOfPage"] = str(sum(int(p) for p in pages))
        lost.append(Unmapped(raw.where, "numberOfPage", values["numberOfPage"], Reason.DEFAULTED))
    records = RecordSet(
        package_type=PackageType.SIP_HOSO,
        package=Description(variant=Variant.HOSO_SIP, path=raw.where, values=values),
        documents=tuple(documents),
        source=source,
        unmapped=tuple(lost),
    )
    return LegacyDossier(records=records, organ_id=organ_id, unmatched_files=tuple(unmatched))


DOC_ID_MAX = 25

#: Keys a reader may give besides the element names (the mã hồ sơ parts, the compiler's name...).
DOSSIER_KEYS = frozenset({"fileCode", "organId", "fileCatalog", "fileNotation", "creator"})
DOCUMENT_KEYS = frozenset(
    {"docOrdinal", "numberNotation", "title", "fileCode", "organId", "fileCatalog", "fileNotation"}
)

#: Document values a văn bản takes from its hồ sơ when it does not say (TT 05 Phụ lục III: the
#: document's thời hạn lưu trữ defaults to the dossier's; NĐ 30 Mục I has no access regime).
INHERITED = ("maintenance", "mode", "language")


def _document(
    raw: RawRecord,
    position: int,
    file_code: str,
    dossier: dict[str, str],
    tables: Tables,
    pool: _FilePool,
    lost: list[Unmapped],
) -> tuple[DocumentRecord, str]:
    lost.extend(raw.lost)
    ordinal_field = raw.fields.get("docOrdinal")
    ordinal_text = normalize_number(ordinal_field.value) if ordinal_field else None
    ordinal = int(ordinal_text) if ordinal_text and int(ordinal_text) > 0 else position
    if ordinal_text is None or int(ordinal_text) == 0:
        label = ordinal_field.label if ordinal_field else "DocOrdinal"
        lost.append(Unmapped(raw.where, label, str(ordinal), Reason.DEFAULTED))
    values: dict[str, str] = {}
    code = doc_code(file_code, ordinal) if file_code else ""
    own_id = raw.text("docId")
    if own_id:
        values["docId"] = own_id
    elif file_code:
        values["docId"] = invented_doc_id(file_code, ordinal)
        lost.append(Unmapped(raw.where, "docId", values["docId"], Reason.INVENTED))
    if code:
        values["docCode"] = code
    _split_number_notation(raw)
    if "subject" not in raw.fields and "title" in raw.fields:
        raw.fields["subject"] = raw.fields.pop("title")
    _map_elements(
        tables.table(Variant.DOC_SIP),
        raw,
        tables,
        values,
        lost,
        skip=("docId", "docCode"),
        extra=DOCUMENT_KEYS,
    )
    for name in INHERITED:
        if name not in values and name in dossier:
            values[name] = dossier[name]
    values.setdefault("riskRecovery", "0")
    if "title" in raw.fields:
        title = raw.fields["title"]
        lost.append(Unmapped(title.where, title.label, title.value, Reason.NO_ELEMENT))
    given = [f for f in raw.files if f.value]
    data_files: list[str] = []
    for named in given:
        data_files.extend(f for f in pool.named(named.value) if f not in data_files)
    if not data_files:
        data_files = pool.by_stem([code, own_id, f"{file_code}.{ordinal}" if file_code else ""])
    missing = ""
    if not data_files:
        missing = given[0].value if given else code or raw.where
        label = given[0].label if given else "file"
        lost.append(Unmapped(raw.where, label, missing, Reason.FILE_NOT_FOUND))
    description = Description(variant=Variant.DOC_SIP, path=raw.where, values=values)
    return DocumentRecord(
        kind=DocumentKind.DOC, description=description, data_files=tuple(data_files)
    ), missing


def invented_doc_id(file_code: str, ordinal: int) -> str:
    """A docId for a document the export gives none: fileCode + "." + ordinal, as in the TT 05 example
    ``H49.64.33.2001.160.1`` (vn-standards.md §1.1), cut to String 25 from the front, whole parts
    first, so the ordinal and the dossier's own number survive (a 13-character mã định danh makes
    most such codes longer than 25)."""
    text = f"{file_code}.{ordinal}"
    while len(text) > DOC_ID_MAX and "." in text:
        text = text.split(".", 1)[1]
    return text[-DOC_ID_MAX:]


def _split_number_notation(raw: RawRecord) -> None:
    """ "12/QĐ-UBND" in one "Số, ký hiệu" cell → codeNumber 12, codeNotation QĐ-UBND (NĐ 30 Mục I)."""
    combined = raw.fields.pop("numberNotation", None)
    if combined is None:
        return
    number, sep, notation = combined.value.partition("/")
    number, notation = number.strip(), notation.strip()
    if not sep:
        number, notation = (number, "") if number.isdigit() else ("", number)
    for key, part in (("codeNumber", number), ("codeNotation", notation)):
        if part:
            raw.put(key, part, combined.label, combined.where)


def _map_elements(
    table: ElementTable,
    raw: RawRecord,
    tables: Tables,
    values: dict[str, str],
    lost: list[Unmapped],
    *,
    skip: Sequence[str] = ("fileCode",),
    extra: frozenset[str],
) -> None:
    """Map every field that is an element of ``table``; a field of the other level (a dossier's
    dates on a document row) is reported, the reader's own keys (``extra``) are left alone."""
    for element in table.elements:
        found = raw.fields.get(element.name)
        if found is None or element.name in skip:
            continue
        value = map_value(element, found, tables, lost)
        if value:
            values[element.name] = value
    for key, found in raw.fields.items():
        if key not in table.names and key not in extra:
            lost.append(Unmapped(found.where, found.label, found.value, Reason.WRONG_LEVEL))


def map_value(element: Element, raw: RawField, tables: Tables, lost: list[Unmapped]) -> str | None:
    """One legacy value in the form the TT 05 element wants, or ``None`` (and a report) when it
    cannot be; a retention with no code and an unknown document type become Khác, reported."""
    text = raw.value

    def report(reason: str, value: str = text) -> None:
        lost.append(Unmapped(raw.where, raw.label, value, reason))

    if element.type is ElementType.STRING:
        return text
    if element.type is ElementType.NUMBER:
        number = normalize_number(text)
        if number is None:
            report(Reason.NOT_NUMBER)
        return number
    if element.type is ElementType.DATE:
        day = normalize_date(text)
        if day is None:
            report(Reason.BAD_DATE)
        return day
    codelist = tables.codelist(element.codelist or "boolean")
    if element.name == "maintenance":
        code = map_retention(codelist, text)
        if code is None:
            report(Reason.UNKNOWN_CODE)
        elif years_lost(codelist, text, code):
            report(Reason.YEARS_LOST)
        return code
    if element.multi:
        codes, unmatched = map_codes(codelist, text)
        for part in unmatched:
            report(Reason.UNKNOWN_CODE, part)
        return ",".join(codes) or None
    code = map_code(codelist, text)
    if code is None and element.name == "typeName":
        report(Reason.TYPE_AS_OTHER)
        return _by_label(codelist, "khac")
    if code is None:
        report(Reason.UNKNOWN_CODE)
    return code
