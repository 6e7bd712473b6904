"""NĐ 30/2020 Phụ lục VI / TT 02/2019 XML exports → TT 05/2025 SIP_hoso records.

Agencies' document systems built to NĐ 30/2020 (Phụ lục VI Phần II: dossier data Mục III,
outgoing/incoming document data Mục I/II) and archive systems built to TT 02/2019 export dossiers
as XML whose element names are the "Name" column of those tables (vn-standards.md §1.5). The decree
gives names, not a nesting, so this reader accepts the shapes those systems write:

.. code-block:: xml

    <AnyRoot>                       <!-- or the dossier element itself as the root -->
      <HoSo>                        <!-- or File, Dossier; may sit in one wrapper level -->
        <FileCode>                  <!-- or the whole code as text: 000.00.00.G09.2010.01.TH -->
          <OrganId>000.00.00.G09</OrganId><FileCatalog>2010</FileCatalog>
          <FileNotation>01.TH</FileNotation>
        </FileCode>
        <Title>…</Title> <Maintenance>Vĩnh viễn</Maintenance> <Rights>Thường</Rights>
        <Creator>…</Creator> <Language>Tiếng Việt</Language> <StartDate>…</StartDate>
        <EndDate>…</EndDate> <DocTotal>2</DocTotal> <PageTotal>7</PageTotal> <Description>…</Description>
        <VanBan>                    <!-- or Document, Doc, TaiLieu; directly or in one wrapper -->
          <FileCode>…</FileCode> <DocOrdinal>1</DocOrdinal> <TypeName>Quyết định</TypeName>
          <CodeNumber>12</CodeNumber> <CodeNotation>QĐ-UBND</CodeNotation> <IssuedDate>…</IssuedDate>
          <OrganName>…</OrganName> <Subject>…</Subject> <Language>…</Language>
          <PageAmount>3</PageAmount> <Description>…</Description>
          <SignerInfo><Position>…</Position><FullName>…</FullName></SignerInfo>
          <To>…</To> <Priority>…</Priority> <IssuedAmount>…</IssuedAmount> <DueDate>…</DueDate>
          <FileName>…</FileName>    <!-- or File, FilePath, TenTep; several in Files/Attachments -->
        </VanBan>
      </HoSo>
    </AnyRoot>

Element names are matched without case, namespace, "_" or "-". TT 02/2019 names that TT 05 kept
(InforSign, Keyword, Mode, ConfidenceLevel, Autograph, Format, DocCode = mã định danh văn bản) are
read too. What TT 05 has no element for (SignerInfo, To, Priority, IssuedAmount, DueDate,
ArrivalDate, ArrivalNumber, ToPlaces, TraceHeaderList, TT 02's archive Identifier) is reported with
its value, never dropped silently.

An export that declares a DTD (``<!DOCTYPE …>``) is refused (``legacy.doctype``), as TT 05
description files are (:func:`preservation.tt05.ead.parse_description`): neither decree uses a DTD,
entities are never expanded here (no external file, no "billion laughs"), and an entity reference
left unexpanded would silently drop the text it stands for from a title or trích yếu.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from preservation.tt05.legacy_build import RawField, RawRecord, build_import, file_code_of
from preservation.tt05.mapping import LegacyDossier, LegacyError, LegacyImport, Reason, header_key, nfc
from preservation.tt05.model import RecordSource, Unmapped
from preservation.tt05.muc_luc import looks_like_muc_luc
from preservation.tt05.tables import Tables

__all__ = ["LegacyDossier", "LegacyImport", "detect_legacy", "looks_like_nd30", "read_nd30"]

DOSSIER_TAGS = frozenset({"hoso", "file", "dossier"})
DOCUMENT_TAGS = frozenset({"vanban", "document", "doc", "tailieu"})
FILE_TAGS = frozenset({"filename", "filepath", "file", "tentep", "tenfile", "attachment", "path", "href"})
FILE_LISTS = frozenset({"files", "attachments", "filelist", "tepdinhkem", "danhsachtep"})

#: NĐ 30 Mục III (and TT 02) dossier element → canonical key (mostly the TT 05 element name).
DOSSIER_FIELDS = {
    "title": "title",
    "maintenance": "maintenance",
    "rights": "mode",
    "mode": "mode",
    "creator": "creator",
    "language": "language",
    "startdate": "startDate",
    "enddate": "endDate",
    "doctotal": "totalDoc",
    "totaldoc": "totalDoc",
    "pagetotal": "numberOfPage",
    "numberofpage": "numberOfPage",
    "papertotal": "numberOfPaper",
    "numberofpaper": "numberOfPaper",
    "description": "description",
    "keyword": "keyword",
    "inforsign": "inforSign",
    "format": "format",
    "confidencelevel": "confidenceLevel",
    "paperfilecode": "paperFileCode",
    "riskrecovery": "riskRecovery",
    "riskrecoverystatus": "riskRecoveryStatus",
    "organid": "organId",
    "filecatalog": "fileCatalog",
    "filenotation": "fileNotation",
}

#: NĐ 30 Mục I/II (and TT 02) document element → canonical key.
DOCUMENT_FIELDS = {
    "docordinal": "docOrdinal",
    "typename": "typeName",
    "codenumber": "codeNumber",
    "codenotation": "codeNotation",
    "issueddate": "issuedDate",
    "organname": "organName",
    "subject": "subject",
    "language": "language",
    "pageamount": "numberOfPage",
    "numberofpage": "numberOfPage",
    "description": "description",
    "doccode": "docId",  # TT 02/2019 "Mã định danh văn bản" (String 25) = TT 05 docId
    "docid": "docId",
    "inforsign": "inforSign",
    "keyword": "keyword",
    "mode": "mode",
    "rights": "mode",
    "confidencelevel": "confidenceLevel",
    "autograph": "autograph",
    "format": "format",
    "maintenance": "maintenance",
    "riskrecovery": "riskRecovery",
    "riskrecoverystatus": "riskRecoveryStatus",
    "process": "process",
}

#: Legacy elements TT 05 has no place for (NĐ 30 Mục I/II; TT 02 archive Identifier).
NO_ELEMENT = frozenset(
    {
        "signerinfo",
        "to",
        "priority",
        "issuedamount",
        "duedate",
        "arrivaldate",
        "arrivalnumber",
        "toplaces",
        "traceheaderlist",
        "identifier",
    }
)

#: Enough of a file to recognise an export without reading it whole.
SNIFF_BYTES = 256 * 1024


def _parser() -> etree.XMLParser:
    """No entities, no network, no DTD: an export is data from outside."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _key(element: etree._Element) -> str:
    return header_key(etree.QName(element).localname).replace(" ", "")


def _name(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _children(element: etree._Element) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _text(element: etree._Element) -> str:
    return nfc("".join(str(t) for t in element.itertext()))


def _flat(element: etree._Element) -> str:
    """An element with children as one line for the report: "Position: …; FullName: …"."""
    children = _children(element)
    if not children:
        return _text(element)
    parts = ((_name(child), _flat(child)) for child in children)
    return "; ".join(f"{name}: {value}" for name, value in parts if value)


def read_nd30(path: Path, tables: Tables, files: Sequence[str], *, where: str | None = None) -> LegacyImport:
    """Map an NĐ 30/2020 or TT 02/2019 XML export onto TT 05 SIP_hoso records.

    Args:
        path: the XML file.
        tables: the TT 05 element tables and code lists.
        files: the names (relative to the submitted folder) of the files beside it; documents are
            matched to them by their file element, else by docCode / docId / "<fileCode>.<ordinal>"
            (TT 05 Điều 8.1.d).
        where: the export's name in messages (default: its file name).

    Returns:
        The dossiers, what could not be mapped, and the files no document describes.

    Raises:
        LegacyError: ``legacy.not_xml`` (unreadable or not well-formed), ``legacy.doctype`` (a
            DTD is declared), ``legacy.no_dossier`` (no element holds a dossier).
    """
    label = where or path.name
    try:
        tree = etree.parse(str(path), _parser())
    except (etree.XMLSyntaxError, OSError) as exc:
        raise LegacyError(
            f"{label} is not well-formed XML: {exc}",
            code="legacy.not_xml",
            path=label,
            params={"file": label, "problem": str(exc)},
        ) from exc
    info = tree.docinfo
    if info.internalDTD is not None or info.system_url or info.public_id:  # any <!DOCTYPE>
        raise LegacyError(
            f"{label} declares a DTD (<!DOCTYPE>); an NĐ 30/2020 export needs none and its entities "
            "are not expanded, so the export is refused: save it without the DOCTYPE",
            code="legacy.doctype",
            path=label,
            params={"file": label},
        )
    root = tree.getroot()
    found = _dossier_elements(root)
    if not found:
        raise LegacyError(
            f"{label}: no dossier element (HoSo, File, Dossier, or a root with FileCode and Title)",
            code="legacy.no_dossier",
            path=label,
            params={"file": label},
        )
    lost: list[Unmapped] = []
    raws: list[RawRecord] = []
    for index, element in enumerate(found, start=1):
        place = f"{label}/{_name(element)}" + (f"[{index}]" if element is not root else "")
        raws.append(_dossier(element, place))
    return build_import(raws, tables, files, source=RecordSource.ND30_XML, exclude=[path.name], lost=lost)


def _is_dossier(element: etree._Element) -> bool:
    """A dossier element by name, or by content whatever its name: a Title beside a FileCode or
    Maintenance (documents have a Subject, not a Title: NĐ 30 Mục I/II)."""
    key = _key(element)
    if key in DOCUMENT_TAGS or not _children(element):
        return False
    keys = {_key(c) for c in _children(element)}
    return key in DOSSIER_TAGS or ("title" in keys and bool(keys & {"filecode", "maintenance"}))


def _dossier_elements(root: etree._Element) -> list[etree._Element]:
    if _is_dossier(root):
        return [root]
    found: list[etree._Element] = []

    def walk(element: etree._Element, depth: int) -> None:
        for child in _children(element):
            if _is_dossier(child):
                found.append(child)
            elif depth < 3 and _key(child) not in DOCUMENT_TAGS and _children(child):
                walk(child, depth + 1)

    walk(root, 0)
    return found


def _dossier(element: etree._Element, where: str) -> RawRecord:
    raw = RawRecord(where)
    lost = raw.lost
    documents: list[etree._Element] = []
    for child in _children(element):
        key, name, place = _key(child), _name(child), f"{where}/{_name(child)}"
        nested = _children(child)
        if key == "filecode":
            _file_code(child, raw, place)
        elif key in DOCUMENT_TAGS:
            documents.append(child)
        elif nested and (key in {"documents", "vanbans", "tailieus", "docs"} or _has_documents(child)):
            for item in nested:
                if _key(item) in DOCUMENT_TAGS:
                    documents.append(item)
                else:
                    lost.append(
                        Unmapped(f"{place}/{_name(item)}", _name(item), _flat(item), Reason.UNKNOWN_ELEMENT)
                    )
        elif key in DOSSIER_FIELDS and not nested:
            raw.put(DOSSIER_FIELDS[key], _text(child), name, place)
        else:
            _lose(child, place, lost)
    for index, document in enumerate(documents, start=1):
        raw.documents.append(_document(document, f"{where}/{_name(document)}[{index}]", raw))
    return raw


def _has_documents(element: etree._Element) -> bool:
    return any(_key(child) in DOCUMENT_TAGS for child in _children(element))


def _lose(element: etree._Element, place: str, lost: list[Unmapped]) -> None:
    value = _flat(element)
    if value or _key(element) in NO_ELEMENT:
        reason = Reason.NO_ELEMENT if _key(element) in NO_ELEMENT else Reason.UNKNOWN_ELEMENT
        lost.append(Unmapped(place, _name(element), value, reason))


def _file_code(element: etree._Element, raw: RawRecord, place: str) -> None:
    """FileCode: OrganId + FileCatalog + FileNotation (NĐ 30 Phụ lục VI Mục III.1), or the whole code."""
    parts = _children(element)
    if not parts:
        raw.put("fileCode", _text(element), _name(element), place)
        return
    for part in parts:
        key = _key(part)
        if key in ("organid", "filecatalog", "filenotation"):
            raw.put(DOSSIER_FIELDS[key], _text(part), f"FileCode/{_name(part)}", f"{place}/{_name(part)}")
        else:
            _lose(part, f"{place}/{_name(part)}", raw.lost)


def _document(element: etree._Element, where: str, dossier: RawRecord) -> RawRecord:
    raw = RawRecord(where)
    lost = raw.lost
    for child in _children(element):
        key, name, place = _key(child), _name(child), f"{where}/{_name(child)}"
        nested = _children(child)
        if key == "filecode":
            _check_file_code(child, dossier, place, lost)
        elif key in FILE_TAGS and not nested:
            raw.files.extend(_file_names(child, place))
        elif key in FILE_LISTS and nested:
            for item in nested:
                raw.files.extend(_file_names(item, f"{place}/{_name(item)}"))
        elif key in DOCUMENT_FIELDS and not nested:
            raw.put(DOCUMENT_FIELDS[key], _text(child), name, place)
        else:
            _lose(child, place, lost)
    return raw


def _file_names(element: etree._Element, place: str) -> list[RawField]:
    text = _text(element)
    return [
        RawField(name.strip(), _name(element), place) for name in re.split(r"[;\n]", text) if name.strip()
    ]


def _check_file_code(element: etree._Element, dossier: RawRecord, place: str, lost: list[Unmapped]) -> None:
    """A document's own FileCode must be its dossier's; a different one is said, not followed."""
    probe = RawRecord(place)
    _file_code(element, probe, place)
    lost.extend(probe.lost)
    mine, _, _ = file_code_of(probe)
    theirs, _, _ = file_code_of(dossier)
    if mine and theirs and mine != theirs:
        lost.append(Unmapped(place, _name(element), mine, Reason.OTHER_DOSSIER))


# -------------------------------------------------------------------------------------- detection

_TAG = re.compile(rb"<\s*(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_LEGACY_ONLY = frozenset(
    {"organid", "filecatalog", "filenotation", "rights", "doctotal", "pagetotal", "pageamount"}
)
_CONTENT = frozenset({"title", "maintenance", "subject", "typename", "docordinal"})


def looks_like_nd30(path: Path) -> bool:
    """Whether the start of ``path`` names NĐ 30 / TT 02 elements (only the first 256 KiB is read).

    A TT 05 ``EAD.xml`` also has fileCode, title and maintenance; only the legacy names (OrganId,
    FileCatalog, FileNotation, Rights, DocTotal, PageTotal, PageAmount) tell the old shape apart.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return False
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return False
    names = {
        m.decode("ascii", "replace").replace("_", "").replace("-", "").lower() for m in _TAG.findall(head)
    }
    has_code = "filecode" in names or bool(names & {"organid", "filecatalog", "filenotation"})
    return has_code and bool(names & _LEGACY_ONLY) and bool(names & _CONTENT)


def detect_legacy(folder_files: Sequence[tuple[str, Path]]) -> tuple[str, Path] | None:
    """Which legacy export a submitted folder carries, if any.

    Args:
        folder_files: (name relative to the folder, path on disk) of every file submitted.

    Returns:
        ``("nd30", path)`` for an XML file at the top level that looks like an NĐ 30 / TT 02 export,
        else ``("muc-luc", path)`` for a top-level ``.xlsx`` / ``.csv`` whose header row has the
        mục lục columns, else ``None``. With several candidates the first by name wins.
    """
    top = sorted((name, path) for name, path in folder_files if "/" not in name.replace("\\", "/").strip("/"))
    for name, path in top:
        if name.lower().endswith(".xml") and looks_like_nd30(path):
            return "nd30", path
    for name, path in top:
        if name.lower().endswith((".xlsx", ".csv")) and looks_like_muc_luc(path):
            return "muc-luc", path
    return None
