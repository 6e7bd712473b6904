"""From what an agency submitted to what the Archive keeps: SIP descriptions → AIP descriptions.

TT 05/2025 Điều 25.3.a: the historical archive converts an accepted SIP_hoso / SIP_tailieu into an
AIP_hoso / AIP_tailieu, and only the AIP is used for preservation (Điều 28). The AIP tables (Phụ lục
I, II) differ from the SIP tables (Phụ lục III, IV): the dossier code becomes the archival code
(arcFileCode = mã cơ quan lưu trữ + mã hồ sơ), each EAD_doc gains arcFileCode and docOrdinal and
loses docId, maintenance and the backup-regime elements (vn-standards.md §1.3). Nothing is lost: the
submitted description files stay in the AIP as submission metadata, and the catalog keeps every
submitted element.
"""

from __future__ import annotations

import re

from preservation.tt05.model import (
    PACKAGE_VARIANT,
    Description,
    DocumentKind,
    DocumentRecord,
    PackageType,
    RecordSet,
)
from preservation.tt05.tables import Tables, Variant

_TO_ARCHIVAL = {
    PackageType.SIP_HOSO: PackageType.AIP_HOSO,
    PackageType.SIP_TAILIEU: PackageType.AIP_TAILIEU,
}
#: A trailing run of at most 7 digits, never the tail of a longer run.
_ORDINAL = re.compile(r"(?<!\d)(\d{1,7})$")


def archival_code(file_code: str, archive_id: str) -> str:
    """arcFileCode = mã cơ quan lưu trữ + mã hồ sơ (TT 05 Phụ lục I; vn-standards.md §1.1)."""
    if not archive_id or file_code.startswith(f"{archive_id}."):
        return file_code
    return f"{archive_id}.{file_code}"


def document_ordinal(doc: Description, position: int) -> int:
    """Số thứ tự tài liệu trong hồ sơ: the 7-digit tail of docCode when it has one, else the position."""
    for name in ("docOrdinal", "docCode", "arcDocCode"):
        match = _ORDINAL.search(doc.get(name))
        if match and (name == "docOrdinal" or len(match.group(1)) == 7):
            return int(match.group(1))
    return position


def description_file_name(kind: DocumentKind, data_file: str, taken: set[str]) -> str:
    """``EAD_doc_<stem>.xml`` for a data file; the full name when two files share a stem."""
    base = data_file.rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    name = f"EAD_{kind.value}_{stem}.xml"
    if name in taken:
        name = f"EAD_{kind.value}_{base}.xml"
    return name


def to_archival(records: RecordSet, tables: Tables, *, archive_id: str) -> RecordSet:
    """The AIP form of ``records``. A package that already is an AIP (sent by a system of the same
    kind, Điều 17) keeps its descriptions, re-pathed to where the AIP carries them."""
    ptype = _TO_ARCHIVAL.get(records.package_type, records.package_type)
    package_table = tables.table(PACKAGE_VARIANT[ptype])
    values = dict(records.package.values)
    if records.package_type in _TO_ARCHIVAL:
        values["arcFileCode"] = archival_code(values.get("fileCode", ""), archive_id)
    package = Description(
        variant=package_table.variant,
        path="metadata/descriptive/EAD.xml",
        values={n: values[n] for n in package_table.names if values.get(n)},
    )
    taken: dict[str, set[str]] = {}
    documents: list[DocumentRecord] = []
    for position, doc in enumerate(records.documents, start=1):
        variant = doc.description.variant
        dvalues = dict(doc.description.values)
        if variant is Variant.DOC_SIP:
            variant = Variant.DOC_AIP
            dvalues["arcFileCode"] = package.get("arcFileCode")
            dvalues["docOrdinal"] = str(document_ordinal(doc.description, position))
        table = tables.table(variant)
        names = taken.setdefault(doc.representation, set())
        file_name = description_file_name(
            doc.kind, doc.data_files[0] if doc.data_files else str(position), names
        )
        names.add(file_name)
        documents.append(
            DocumentRecord(
                kind=doc.kind,
                description=Description(
                    variant=variant,
                    path=f"representations/{doc.representation}/metadata/descriptive/{file_name}",
                    values={n: dvalues[n] for n in table.names if dvalues.get(n)},
                ),
                data_files=doc.data_files,
                representation=doc.representation,
            )
        )
    return RecordSet(
        package_type=ptype,
        package=package,
        documents=tuple(documents),
        source=records.source,
        unmapped=records.unmapped,
    )


#: The XSD our AIP carries for each description variant, by the names TT 05 packages use in schemas/.
SCHEMA_NAMES = {
    Variant.HOSO_AIP: "EAD.xsd",
    Variant.TAILIEU_AIP: "EAD.xsd",
    Variant.DOC_AIP: "EAD_doc.xsd",
    Variant.PIC_SIP: "EAD_pic.xsd",
    Variant.MEDIA_SIP: "EAD_media.xsd",
    Variant.HOSO_SIP: "EAD.xsd",
    Variant.TAILIEU_SIP: "EAD.xsd",
    Variant.DOC_SIP: "EAD_doc.xsd",
    Variant.DOC_DIP: "EAD_doc.xsd",
    Variant.DIP_REQUEST: "EAD.xsd",
}
