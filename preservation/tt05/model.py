"""The descriptive records a TT 05/2025 package carries, independent of how they arrived.

A TT 05 SIP_hoso, a legacy NĐ 30/2020 XML export and a spreadsheet "mục lục hồ sơ" all become one
:class:`RecordSet`: the package-level description (``EAD.xml``: a hồ sơ, or a SIP_tailieu's package
description) and one :class:`DocumentRecord` per tài liệu (``EAD_doc_*`` / ``EAD_pic_*`` /
``EAD_media_*``), each tied to the payload files that carry it. Values are element name → text in
Unicode NFC, exactly the element names of ``config/tt05/elements.toml``; codes stay codes (``"01"``),
labels come from the code lists when shown.

Codes such as the mã hồ sơ are kept as their parts (:class:`DossierCode`) and rendered; they are
never parsed to be used as keys (vn-standards.md §1.1: the sources disagree on separators).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from preservation.tt05.tables import Variant


class PackageType(StrEnum):
    """TT 05/2025 package types (Điều 17: SIP from another system, AIP from one of the same kind)."""

    SIP_HOSO = "SIP_hoso"
    SIP_TAILIEU = "SIP_tailieu"
    AIP_HOSO = "AIP_hoso"
    AIP_TAILIEU = "AIP_tailieu"
    DIP = "DIP"

    @property
    def is_dossier(self) -> bool:
        return self in (PackageType.SIP_HOSO, PackageType.AIP_HOSO)


class DocumentKind(StrEnum):
    DOC = "doc"  # văn bản, tài liệu kỹ thuật (EAD_doc)
    PIC = "pic"  # phim âm bản, ảnh (EAD_pic)
    MEDIA = "media"  # ghi âm, ghi hình (EAD_media)


class RecordSource(StrEnum):
    """Where the descriptions came from; legacy sources were mapped and may have lost fields."""

    TT05 = "tt05"
    ND30_XML = "nd30-xml"
    MUC_LUC = "muc-luc"


#: The element table that describes the package level of each package type.
PACKAGE_VARIANT: Mapping[PackageType, Variant] = {
    PackageType.SIP_HOSO: Variant.HOSO_SIP,
    PackageType.AIP_HOSO: Variant.HOSO_AIP,
    PackageType.SIP_TAILIEU: Variant.TAILIEU_SIP,
    PackageType.AIP_TAILIEU: Variant.TAILIEU_AIP,
    PackageType.DIP: Variant.DIP_REQUEST,
}


@dataclass(frozen=True)
class Description:
    """One description file, parsed: which element table it follows and its element values.

    Attributes:
        variant: the element table.
        path: where it is in the package (``metadata/descriptive/EAD.xml``), or the legacy source
            and row (``muc-luc.xlsx#HoSo!3``) for mapped records.
        values: element name → NFC text; an element absent from the file is absent here. Several
            codes of a ``multi`` element are kept as written (``"01,02"``).
    """

    variant: Variant
    path: str
    values: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.values.get(name, "")


@dataclass(frozen=True)
class DocumentRecord:
    """A tài liệu: its description and the payload files (paths under ``data/``) that carry it."""

    kind: DocumentKind
    description: Description
    data_files: tuple[str, ...]
    representation: str = "rep1"


@dataclass(frozen=True)
class Unmapped:
    """A legacy field we could not carry onto the TT 05 model, said to the user, never dropped silently.

    Attributes:
        where: source file and row/element (``ho-so.xml/FileCode[2]/Creator``).
        field: the legacy field name.
        value: its text.
        reason: why it was not mapped (``no TT 05 element``, ``unknown code``...).
    """

    where: str
    field: str
    value: str
    reason: str


@dataclass(frozen=True)
class RecordSet:
    """Everything descriptive a package says: the package description and its documents."""

    package_type: PackageType
    package: Description
    documents: tuple[DocumentRecord, ...]
    source: RecordSource = RecordSource.TT05
    unmapped: tuple[Unmapped, ...] = ()


@dataclass(frozen=True)
class DossierCode:
    """A mã hồ sơ as its parts (NĐ 30/2020 Phụ lục VI Mục III.1; TT 05 fileCode/arcFileCode).

    Attributes:
        organ_id: mã định danh of the creating agency (QĐ 20/2020, ≤ 13 chars), or the mã phông of a
            closed fonds.
        year: năm hình thành hồ sơ (FileCatalog).
        notation: số và ký hiệu hồ sơ (FileNotation, ≤ 20 chars).
        archive_id: mã cơ quan lưu trữ, only in archival (AIP) codes (TT 05 arcFileCode).
        catalog_no: mục lục số, when the archive numbers its catalogues.
    """

    organ_id: str
    year: int
    notation: str
    archive_id: str = ""
    catalog_no: str = ""
    separator: str = field(default=".", compare=False)

    def render(self) -> str:
        """The fileCode form: agency + year + notation (vn-standards.md §1.1)."""
        return self.separator.join(p for p in (self.organ_id, str(self.year), self.notation) if p)

    def render_archival(self) -> str:
        """The arcFileCode form: archive + agency + year + notation + mục lục số (if any)."""
        parts = (self.archive_id, self.organ_id, str(self.year), self.notation, self.catalog_no)
        return self.separator.join(p for p in parts if p)


_YEAR = re.compile(r"(?:^|[.\-_/ ])((?:1[89]|20)\d\d)(?=[.\-_/ ])")


def split_file_code(code: str, organ_id: str = "") -> DossierCode | None:
    """Best-effort split of a received fileCode into parts, for display and search only.

    When the sending agency's mã định danh is known and prefixes the code, the year is the next
    part; otherwise the first 4-digit year-like part splits agency from notation. ``None`` when no
    year can be found: the code is then kept whole as received (the catalog always keeps the code
    exactly as received besides its parts).
    """
    text = code.strip()
    rest = text
    if organ_id and text.startswith(organ_id) and len(text) > len(organ_id) + 1:
        sep = text[len(organ_id)]
        rest = text[len(organ_id) + 1 :]
        year, _, notation = rest.partition(sep)
        if year.isdigit() and len(year) == 4 and notation:
            return DossierCode(organ_id=organ_id, year=int(year), notation=notation, separator=sep)
    match = _YEAR.search(text)
    if match is None or match.start(1) == 0:
        return None
    sep = text[match.start(1) - 1]
    notation = text[match.end(1) + 1 :]
    if not notation:
        return None
    return DossierCode(
        organ_id=text[: match.start(1) - 1], year=int(match.group(1)), notation=notation, separator=sep
    )


def doc_code(file_code: str, ordinal: int) -> str:
    """docCode = fileCode + số thứ tự tài liệu trong hồ sơ, 7 digits (vn-standards.md §1.1)."""
    return f"{file_code}.{ordinal:07d}"
