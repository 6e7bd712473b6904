"""What a legacy reader found → TT 05/2025 SIP_hoso records: values mapped, files matched.

The readers (:mod:`~preservation.tt05.legacy_nd30` for NĐ 30/2020 / TT 02/2019 XML,
:mod:`~preservation.tt05.muc_luc` for spreadsheets) only say what each dossier and document row
holds, as :class:`RawRecord` fields named after the TT 05 elements. Everything the two have in
common is here: the mã hồ sơ from its parts (NĐ 30/2020 Phụ lục VI Mục III.1), each value in the
form its element wants (:func:`map_value`, with the matching rules of
:mod:`~preservation.tt05.mapping`), the defaults TT 05 makes mandatory and no legacy standard has
(riskRecovery, Phụ lục III row 16), the docId the export did not give, and the payload files found
by name or by the TT 05 digitized-file naming (Điều 8.1.d). Every value not carried over as it was
is an :class:`~preservation.tt05.model.Unmapped` in the dossier's report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from preservation.tt05.mapping import (
    LegacyDossier,
    LegacyImport,
    Reason,
    map_code,
    map_codes,
    map_retention,
    nfc,
    normalize_date,
    normalize_number,
    other_code,
    years_lost,
)
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
from preservation.tt05.tables import Element, ElementTable, ElementType, Tables, Variant

__all__ = [
    "RawField",
    "RawRecord",
    "build_import",
    "file_code_of",
    "invented_doc_id",
    "map_value",
]


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
        # An unknown or ambiguous type (see codelists.toml: "HĐ", "DA") is Khác, said, never guessed.
        report(Reason.TYPE_AS_OTHER)
        return other_code(codelist)
    if code is None:
        report(Reason.UNKNOWN_CODE)
    return code
