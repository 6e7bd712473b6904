"""TT 05/2025 test packages built from the element tables (config/tt05/elements.toml), not from
hand-copied lists: a change of a table row changes what the tests build and check."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from pathlib import Path

from preservation.tt05.model import (
    Description,
    DocumentKind,
    DocumentRecord,
    PackageType,
    RecordSet,
    doc_code,
)
from preservation.tt05.sip import build_sip
from preservation.tt05.tables import ElementTable, ElementType, Tables, Variant

ORGAN_ID = "H49.64.33"
FILE_CODE = f"{ORGAN_ID}.2024.01.XD"
TITLE = "Hồ sơ về việc xây dựng trụ sở Ủy ban nhân dân tỉnh An Giang năm 2024"

SAMPLE_TEXT = {
    "title": TITLE,
    "keyword": "xây dựng; trụ sở; Ủy ban nhân dân",
    "description": "Người lập hồ sơ: Nguyễn Thị Hương, Văn phòng UBND tỉnh",
    "inforSign": "XD-01",
    "paperFileCode": "LTLS.K1.G2.H3.45",
    "subject": "Về việc phê duyệt dự án đầu tư xây dựng trụ sở làm việc",
    "organName": "Ủy ban nhân dân tỉnh An Giang",
    "codeNumber": "12",
    "codeNotation": "QĐ-UBND",
    "autograph": "Bút phê của Chủ tịch UBND tỉnh",
    "imageTitle": "Lễ khởi công xây dựng trụ sở",
    "movieTitle": "Phóng sự lễ khởi công",
    "eventName": "Khởi công trụ sở Ủy ban nhân dân tỉnh",
    "photographer": "Trần Văn Đức",
    "photoPlace": "Thành phố Long Xuyên",
    "recorder": "Đài Phát thanh - Truyền hình An Giang",
    "recordPlace": "Long Xuyên",
    "archivesNumber": "A-2024-15",
    "filmSize": "10x15",
    "playTime": "00:12:30",
    "quality": "Tốt",
    "source": "0",
}
SAMPLE_CODE = {"maintenance": "01", "mode": "01", "language": "01", "confidenceLevel": "01", "typeName": "02"}


def element_value(table: ElementTable, name: str, tables: Tables) -> str:
    """A valid value for ``name`` in ``table``: typed from the table, Vietnamese where text."""
    e = table.element(name)
    assert e is not None, name
    if name in SAMPLE_TEXT and e.type in (ElementType.STRING, ElementType.CODE):
        value = SAMPLE_TEXT[name]
    elif e.type is ElementType.CODE:
        assert e.codelist is not None
        value = SAMPLE_CODE.get(name, tables.codelist(e.codelist).codes[0].code)
    elif e.type is ElementType.NUMBER:
        value = "3"
    elif e.type is ElementType.BOOLEAN:
        value = "1"
    elif e.type is ElementType.DATE:
        value = {"startDate": "01/01/2024", "endDate": "31/12/2024"}.get(name, "15/03/2024")
    else:
        value = f"{e.vi} mẫu"
    if e.max is not None:
        value = value[: e.max]
    return value


def valid_values(variant: Variant, tables: Tables, **overrides: str | None) -> dict[str, str]:
    """Every element of the table with a valid value (so every condition is met), then overrides
    (``None`` removes an element)."""
    table = tables.table(variant)
    values = {name: element_value(table, name, tables) for name in table.names}
    if "riskRecoveryStatus" in values:
        values["riskRecoveryStatus"] = "01"
    for key, value in overrides.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def dossier_records(
    tables: Tables,
    data_names: list[str],
    *,
    package: Mapping[str, str | None] | None = None,
    documents: Mapping[int, Mapping[str, str | None]] | None = None,
) -> RecordSet:
    """A SIP_hoso with one EAD_doc per data file; ``documents`` overrides by position (0-based)."""
    pkg = valid_values(
        Variant.HOSO_SIP, tables, fileCode=FILE_CODE, totalDoc=str(len(data_names)), **(package or {})
    )
    docs = []
    for i, name in enumerate(data_names):
        ordinal = i + 1
        overrides: dict[str, str | None] = {
            "docId": f"{FILE_CODE}.{ordinal}",
            "docCode": doc_code(FILE_CODE, ordinal),
        }
        overrides.update((documents or {}).get(i, {}))
        values = valid_values(Variant.DOC_SIP, tables, **overrides)
        docs.append(
            DocumentRecord(
                kind=DocumentKind.DOC,
                description=Description(Variant.DOC_SIP, f"doc-{ordinal}", values),
                data_files=(name,),
            )
        )
    return RecordSet(
        package_type=PackageType.SIP_HOSO,
        package=Description(Variant.HOSO_SIP, "metadata/descriptive/EAD.xml", pkg),
        documents=tuple(docs),
    )


DATA = {
    "Quyết định số 12-QĐ-UBND.pdf": b"%PDF-1.4\n% Quyet dinh so 12\n%%EOF\n",
    unicodedata.normalize("NFD", "Tờ trình số 05.txt"): "Tờ trình số 05 về việc xây dựng trụ sở\n".encode(),
    "Biên bản nghiệm thu.txt": "Biên bản nghiệm thu công trình\n".encode(),
}


def replace_file(sip: Path, rel: str, content: bytes) -> None:
    """Change one file of a built SIP and keep its METS honest (CHECKSUM, SIZE of its reference),
    as an agency's system that wrote that content would have."""
    import hashlib

    from lxml import etree

    path = sip / rel
    old = hashlib.sha256(path.read_bytes()).hexdigest().upper()
    path.write_bytes(content)
    new = hashlib.sha256(content).hexdigest().upper()
    for mets_path in [sip / "METS.xml", *sip.glob("representations/*/METS.xml")]:
        tree = etree.parse(str(mets_path))
        changed = False
        for el in tree.getroot().iter():
            if el.get("CHECKSUM") == old:
                el.set("CHECKSUM", new)
                el.set("SIZE", str(len(content)))
                changed = True
        if changed:
            tree.write(str(mets_path), xml_declaration=True, encoding="UTF-8")


def write_sip(parent: Path, tables: Tables, records: RecordSet, data: Mapping[str, bytes]) -> Path:
    """Write ``records`` as a SIP under ``parent`` with the given data files (name → bytes)."""
    src = parent / "src"
    src.mkdir(parents=True, exist_ok=True)
    files = {}
    for i, (name, content) in enumerate(data.items()):
        path = src / f"{i}.bin"
        path.write_bytes(content)
        files[("rep1", name)] = path
    return build_sip(records, files, parent / "sips", tables, label=TITLE, submitter="UBND tỉnh An Giang")


def build_sample_sip(
    parent: Path,
    tables: Tables,
    *,
    package: Mapping[str, str | None] | None = None,
    documents: Mapping[int, Mapping[str, str | None]] | None = None,
    data: Mapping[str, bytes] | None = None,
) -> Path:
    """Write a TT 05 SIP_hoso with Vietnamese names and text under ``parent`` and return its folder."""
    data = dict(data or DATA)
    records = dossier_records(tables, list(data), package=package, documents=documents)
    return write_sip(parent, tables, records, data)
