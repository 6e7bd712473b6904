"""Legacy exports (NĐ 30/2020 Phụ lục VI XML, spreadsheet mục lục hồ sơ) mapped onto TT 05/2025.

The fixtures are built here (lxml, openpyxl, csv) so every expected value can be read next to the
input it comes from. What a user notices: the TT 05 values of each dossier and document, every
field that could not be carried over (with where it was), the files matched, missing or left over.
"""

from __future__ import annotations

import csv
import shutil
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest
from lxml import etree

from preservation.tt05.ead import ParsedDescription
from preservation.tt05.ead_check import check_description
from preservation.tt05.legacy_headers import load_headers
from preservation.tt05.legacy_nd30 import detect_legacy, read_nd30
from preservation.tt05.mapping import (
    LegacyError,
    LegacyImport,
    Reason,
    fold,
    map_code,
    map_codes,
    map_retention,
    normalize_date,
)
from preservation.tt05.model import Description, PackageType, RecordSource, Unmapped
from preservation.tt05.muc_luc import read_muc_luc
from preservation.tt05.tables import DEFAULT_DIR, Tables, TablesError, Variant, load_tables
from repository.i18n import codes


@pytest.fixture(scope="module")
def tables() -> Tables:
    return load_tables()


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ------------------------------------------------------------------------------------ text matching


def test_fold_ignores_diacritics_case_spacing_and_d(tables: Tables) -> None:
    assert fold("  Vĩnh   VIỄN ") == "vinh vien"
    assert fold(nfd("Đề án")) == "de an"
    assert fold("Ðề án") == "de an"  # U+00D0 left by TCVN3/VNI conversions


@pytest.mark.parametrize(
    ("codelist", "text", "code"),
    [
        ("mode", "Thường", "01"),
        ("mode", nfd("Hạn chế"), "02"),
        ("mode", "MẬT", "03"),
        ("mode", "1", "01"),
        ("mode", "01", "01"),
        ("mode", "Công khai.", "01"),
        ("typeName", "QĐ", "02"),
        ("typeName", "Công văn", "22"),
        ("typeName", "quyet dinh", "02"),
        ("language", "Tiếng Việt", "01"),
        ("language", "Việt - Anh", "06"),
        ("mode", "Bình thường", None),
        ("typeName", "Tờ khai", None),
    ],
)
def test_map_code(tables: Tables, codelist: str, text: str, code: str | None) -> None:
    assert map_code(tables.codelist(codelist), text) == code


#: NĐ 30/2020 Phụ lục III: the abbreviations of the document types, as agencies write them.
TYPE_ABBREVIATIONS = {
    "NQ": "01", "QĐ": "02", "CT": "03", "QC": "04", "QyĐ": "05", "TC": "06", "TB": "07", "HD": "08",
    "CTr": "09", "KH": "10", "PA": "11", "ĐA": "12", "DA": "13", "BC": "14", "TTr": "15", "PG": "17",
    "PC": "18", "PB": "19", "BB": "20", "HĐ": "21", "CĐ": "23", "BGN": "24", "BTT": "25", "GM": "26",
    "GGT": "27",
}  # fmt: skip


def test_type_abbreviations_that_fold_alike_are_never_guessed(tables: Tables) -> None:
    types = tables.codelist("typeName")
    owners: dict[str, set[str]] = {}
    for abbreviation, code in TYPE_ABBREVIATIONS.items():
        owners.setdefault(fold(abbreviation), set()).add(code)
    assert owners["hd"] == {"08", "21"} and owners["da"] == {"12", "13"}
    for abbreviation, code in TYPE_ABBREVIATIONS.items():
        expected = code if len(owners[fold(abbreviation)]) == 1 else None
        assert map_code(types, abbreviation) == expected, abbreviation
    assert map_code(types, "TT") is None  # Thông tư (not in the list) far more often than Tờ trình


def test_no_two_codes_of_a_list_share_a_folded_label_or_alias(tables: Tables) -> None:
    for name, codelist in tables.codelists.items():
        owners: dict[str, set[str]] = {}
        for code in codelist.codes:
            for text in (code.vi, code.en, *code.aliases):
                owners.setdefault(fold(text).strip(" .;:,"), set()).add(code.code)
        assert {text: owned for text, owned in owners.items() if len(owned) > 1} == {}, name
        for text, owned in owners.items():  # a code's value wins over a label: never another's
            assert text not in codelist.values or owned == {text}, (name, text)


def test_ambiguous_document_types_become_other_and_are_reported(tmp_path: Path, tables: Tables) -> None:
    root = etree.Element("HoSo")
    _sub(root, "FileCode", CODE_1)
    _sub(root, "Title", "Hồ sơ")
    for ordinal, type_name in enumerate(["HĐ", "DA", "TT", "Hợp đồng", "QĐ"], start=1):
        doc = _sub(root, "VanBan")
        _sub(doc, "DocOrdinal", str(ordinal))
        _sub(doc, "TypeName", type_name)
    path = tmp_path / "ho-so.xml"
    etree.ElementTree(root).write(str(path), encoding="utf-8")
    result = read_nd30(path, tables, [])
    documents = result.dossiers[0].records.documents
    assert [d.description.get("typeName") for d in documents] == ["32", "32", "32", "21", "02"]
    reported = [(u.where, u.value) for u in result.unmapped if u.reason == Reason.TYPE_AS_OTHER]
    assert reported == [
        (f"ho-so.xml/HoSo/VanBan[{i}]/TypeName", v) for i, v in enumerate(["HĐ", "DA", "TT"], 1)
    ]


def test_map_codes_splits_and_reports_what_it_cannot_match(tables: Tables) -> None:
    languages = tables.codelist("language")
    assert map_codes(languages, "Tiếng Việt, Tiếng Anh") == (["01", "02"], [])
    assert map_codes(languages, "Tiếng Việt và tiếng Pháp; Tiếng Việt") == (["01", "03"], [])
    assert map_codes(languages, "Tiếng Việt; Tiếng Khmer") == (["01"], ["Tiếng Khmer"])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Vĩnh viễn", "01"),
        ("VV", "01"),
        ("Bảo quản vĩnh viễn", "01"),
        ("70 năm", "02"),
        ("70", "02"),
        ("50 năm", "03"),
        ("10 năm", "06"),
        ("02", "02"),
        ("15 năm", "07"),
        ("5", "07"),
        ("Khác", "07"),
        ("Đến khi hết hiệu lực", None),
        ("2010", None),
    ],
)
def test_map_retention(tables: Tables, text: str, code: str | None) -> None:
    assert map_retention(tables.codelist("maintenance"), text) == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05/03/2020", "05/03/2020"),
        ("5/3/2020", "05/03/2020"),
        ("2020-03-05", "05/03/2020"),
        ("2020-03-05T00:00:00", "05/03/2020"),
        ("05-03-2020", "05/03/2020"),
        ("05.03.2020", "05/03/2020"),
        ("ngày 5 tháng 3 năm 2020", "05/03/2020"),
        ("3/2020", "03/2020"),
        ("2020", "2020"),
        ("31/02/2020", None),
        ("13/2020", None),
        ("mùa xuân 2020", None),
    ],
)
def test_normalize_date(text: str, expected: str | None) -> None:
    assert normalize_date(text) == expected


# ------------------------------------------------------------------------------------ NĐ 30 XML

ORGAN = "H49.64.33"
CODE_1 = f"{ORGAN}.2010.01.TH"
CODE_2 = f"{ORGAN}.2011.05.KH"
NS = "urn:example:qlvb"


def _sub(parent: etree._Element, name: str, text: str | None = None, *, ns: str = "") -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{name}" if ns else name)
    if text is not None:
        element.text = text
    return element


def _file_code(parent: etree._Element, year: str, notation: str, *, ns: str = "") -> None:
    code = _sub(parent, "FileCode", ns=ns)
    _sub(code, "OrganId", ORGAN, ns=ns)
    _sub(code, "FileCatalog", year, ns=ns)
    _sub(code, "FileNotation", notation, ns=ns)


def write_nd30(path: Path) -> None:
    """Two dossiers the way two different NĐ 30 systems write them: <HoSo>/<VanBan> with NFD text,
    and a namespaced <File> with lower-case names and documents in a <Documents> wrapper."""
    root = etree.Element("DanhSachHoSo")
    first = _sub(root, "HoSo")
    _file_code(first, "2010", "01.TH")
    _sub(first, "Title", nfd("Hồ sơ ban hành Quy chế làm việc của Ủy ban nhân dân tỉnh năm 2010"))
    _sub(first, "Maintenance", nfd("Vĩnh viễn"))
    _sub(first, "Rights", "Thường")
    _sub(first, "Creator", nfd("Nguyễn Thị Hoa"))
    _sub(first, "Language", "Tiếng Việt")
    _sub(first, "StartDate", "05/01/2010")
    _sub(first, "EndDate", "2010-12-28")
    _sub(first, "DocTotal", "2")
    _sub(first, "PageTotal", "7")
    _sub(first, "Description", "Bản chính")
    doc = _sub(first, "VanBan")
    _file_code(doc, "2010", "01.TH")
    _sub(doc, "DocOrdinal", "1")
    _sub(doc, "TypeName", nfd("Quyết định"))
    _sub(doc, "CodeNumber", "12")
    _sub(doc, "CodeNotation", nfd("QĐ-UBND"))
    _sub(doc, "IssuedDate", "05/01/2010")
    _sub(doc, "OrganName", nfd("Ủy ban nhân dân tỉnh An Giang"))
    _sub(doc, "Subject", nfd("Về việc ban hành Quy chế làm việc"))
    _sub(doc, "Language", "Tiếng Việt")
    _sub(doc, "PageAmount", "3")
    signer = _sub(doc, "SignerInfo")
    _sub(signer, "Position", nfd("Chủ tịch"))
    _sub(signer, "FullName", nfd("Trần Văn Bình"))
    _sub(doc, "Priority", "1")
    doc = _sub(first, "VanBan")
    _sub(doc, "DocOrdinal", "2")
    _sub(doc, "TypeName", "CV")
    _sub(doc, "CodeNumber", "45")
    _sub(doc, "CodeNotation", "UBND-VP")
    _sub(doc, "IssuedDate", "28-12-2010")
    _sub(doc, "OrganName", nfd("Văn phòng Ủy ban nhân dân tỉnh"))
    _sub(doc, "Subject", nfd("Về việc triển khai Quy chế"))
    _sub(doc, "PageAmount", "4")

    second = _sub(root, "File", ns=NS)
    _file_code(second, "2011", "05.KH", ns=NS)
    _sub(second, "title", nfd("Hồ sơ xây dựng Kế hoạch cải cách hành chính năm 2011"), ns=NS)
    _sub(second, "MAINTENANCE", "70 năm", ns=NS)
    _sub(second, "rights", nfd("Hạn chế"), ns=NS)
    _sub(second, "language", "Tiếng Việt, Tiếng Anh", ns=NS)
    _sub(second, "startDate", "03/02/2011", ns=NS)
    _sub(second, "endDate", "20/11/2011", ns=NS)
    _sub(second, "docTotal", "1", ns=NS)
    _sub(second, "pageTotal", "10", ns=NS)
    wrapper = _sub(second, "Documents", ns=NS)
    doc = _sub(wrapper, "Document", ns=NS)
    _sub(doc, "DocOrdinal", "1", ns=NS)
    _sub(doc, "TypeName", nfd("Kế hoạch"), ns=NS)
    _sub(doc, "CodeNumber", "08", ns=NS)
    _sub(doc, "CodeNotation", "KH-UBND", ns=NS)
    _sub(doc, "IssuedDate", "03.02.2011", ns=NS)
    _sub(doc, "OrganName", nfd("Ủy ban nhân dân tỉnh An Giang"), ns=NS)
    _sub(doc, "Subject", nfd("Kế hoạch cải cách hành chính năm 2011"), ns=NS)
    _sub(doc, "Language", "Tiếng Anh", ns=NS)
    _sub(doc, "PageAmount", "10", ns=NS)
    _sub(doc, "Priority", "2", ns=NS)
    _sub(doc, "DueDate", "31/12/2011", ns=NS)
    _sub(doc, "FileName", nfd("Kế hoạch 08.pdf"), ns=NS)
    etree.ElementTree(root).write(str(path), xml_declaration=True, encoding="utf-8")


ND30_FILES = [
    f"{CODE_1}.0000001.pdf",
    f"{CODE_1}.0000002.pdf",
    "Kế hoạch 08.pdf",
    "ghi-chu.txt",
    "ho-so.xml",
]


@pytest.fixture()
def nd30(tmp_path: Path, tables: Tables) -> LegacyImport:
    path = tmp_path / "ho-so.xml"
    write_nd30(path)
    return read_nd30(path, tables, ND30_FILES)


def assert_valid(description: Description, tables: Tables) -> None:
    findings = check_description(ParsedDescription(description=description), tables)
    assert [(f.code, f.where) for f in findings] == []


def test_nd30_dossiers_map_to_tt05_values(nd30: LegacyImport, tables: Tables) -> None:
    assert len(nd30.dossiers) == 2
    first, second = nd30.dossiers
    assert first.organ_id == ORGAN
    assert first.records.package_type is PackageType.SIP_HOSO
    assert first.records.source is RecordSource.ND30_XML
    assert first.records.package.variant is Variant.HOSO_SIP
    assert first.records.package.path == "ho-so.xml/HoSo[1]"
    assert dict(first.records.package.values) == {
        "fileCode": CODE_1,
        "title": "Hồ sơ ban hành Quy chế làm việc của Ủy ban nhân dân tỉnh năm 2010",
        "maintenance": "01",
        "mode": "01",
        "language": "01",
        "startDate": "05/01/2010",
        "endDate": "28/12/2010",
        "totalDoc": "2",
        "numberOfPage": "7",
        "riskRecovery": "0",
        "description": "Người lập hồ sơ: Nguyễn Thị Hoa; Bản chính",
    }
    assert first.records.package.get("title") == nfc(first.records.package.get("title"))
    assert dict(second.records.package.values) == {
        "fileCode": CODE_2,
        "title": "Hồ sơ xây dựng Kế hoạch cải cách hành chính năm 2011",
        "maintenance": "02",
        "mode": "02",
        "language": "01,02",
        "startDate": "03/02/2011",
        "endDate": "20/11/2011",
        "totalDoc": "1",
        "numberOfPage": "10",
        "riskRecovery": "0",
    }
    assert second.records.package.path == "ho-so.xml/File[2]"


def test_nd30_documents_map_to_tt05_values(nd30: LegacyImport) -> None:
    first, second = nd30.dossiers
    docs = first.records.documents
    assert [d.description.variant for d in docs] == [Variant.DOC_SIP, Variant.DOC_SIP]
    assert dict(docs[0].description.values) == {
        "docId": f"{CODE_1}.1",
        "docCode": f"{CODE_1}.0000001",
        "maintenance": "01",
        "typeName": "02",
        "codeNumber": "12",
        "codeNotation": "QĐ-UBND",
        "issuedDate": "05/01/2010",
        "organName": "Ủy ban nhân dân tỉnh An Giang",
        "subject": "Về việc ban hành Quy chế làm việc",
        "language": "01",
        "numberOfPage": "3",
        "mode": "01",
        "riskRecovery": "0",
    }
    assert docs[1].description.get("typeName") == "22"
    assert docs[1].description.get("issuedDate") == "28/12/2010"
    assert docs[1].description.get("language") == "01"  # the dossier's, the document gives none
    assert docs[1].description.path == "ho-so.xml/HoSo[1]/VanBan[2]"
    other = second.records.documents[0].description
    assert other.get("typeName") == "10"
    assert other.get("language") == "02"
    assert other.get("mode") == "02"
    assert other.get("maintenance") == "02"
    assert other.get("issuedDate") == "03/02/2011"


def test_nd30_descriptions_pass_the_tt05_check(nd30: LegacyImport, tables: Tables) -> None:
    for dossier in nd30.dossiers:
        assert_valid(dossier.records.package, tables)
        for document in dossier.records.documents:
            assert_valid(document.description, tables)


def test_nd30_files_are_matched_by_doc_code_and_file_element(nd30: LegacyImport) -> None:
    first, second = nd30.dossiers
    assert [d.data_files for d in first.records.documents] == [
        (f"{CODE_1}.0000001.pdf",),
        (f"{CODE_1}.0000002.pdf",),
    ]
    assert second.records.documents[0].data_files == ("Kế hoạch 08.pdf",)
    assert nd30.orphan_files == ("ghi-chu.txt",)
    assert all(d.unmatched_files == () for d in nd30.dossiers)


def test_nd30_reports_what_it_could_not_carry_over(nd30: LegacyImport) -> None:
    lost = set(nd30.unmapped)
    doc1 = "ho-so.xml/HoSo[1]/VanBan[1]"
    doc3 = "ho-so.xml/File[2]/Document[1]"
    assert {
        Unmapped(
            f"{doc1}/SignerInfo",
            "SignerInfo",
            "Position: Chủ tịch; FullName: Trần Văn Bình",
            Reason.NO_ELEMENT,
        ),
        Unmapped(f"{doc1}/Priority", "Priority", "1", Reason.NO_ELEMENT),
        Unmapped(f"{doc3}/Priority", "Priority", "2", Reason.NO_ELEMENT),
        Unmapped(f"{doc3}/DueDate", "DueDate", "31/12/2011", Reason.NO_ELEMENT),
        Unmapped("ho-so.xml/HoSo[1]/Creator", "Creator", "Nguyễn Thị Hoa", Reason.IN_DESCRIPTION),
        Unmapped("ho-so.xml/HoSo[1]", "riskRecovery", "0", Reason.DEFAULTED),
        Unmapped("ho-so.xml/File[2]", "riskRecovery", "0", Reason.DEFAULTED),
        Unmapped(doc1, "docId", f"{CODE_1}.1", Reason.INVENTED),
    } <= lost
    # the per-dossier lists partition the whole report
    assert sum(len(d.records.unmapped) for d in nd30.dossiers) == len(nd30.unmapped)
    assert all(u.where.startswith("ho-so.xml/File[2]") for u in nd30.dossiers[1].records.unmapped)


def test_nd30_long_code_gives_a_25_character_doc_id_that_keeps_the_ordinal(
    tmp_path: Path, tables: Tables
) -> None:
    root = etree.Element("HoSo")
    code = _sub(root, "FileCode")
    _sub(code, "OrganId", "000.00.00.G09")
    _sub(code, "FileCatalog", "2010")
    _sub(code, "FileNotation", "01.TH")
    _sub(root, "Title", "Hồ sơ")
    _sub(_sub(root, "VanBan"), "DocOrdinal", "12")
    path = tmp_path / "x.xml"
    etree.ElementTree(root).write(str(path), encoding="utf-8")
    doc = read_nd30(path, tables, []).dossiers[0].records.documents[0].description
    assert doc.get("docCode") == "000.00.00.G09.2010.01.TH.0000012"
    assert doc.get("docId") == "00.00.G09.2010.01.TH.12"
    assert len(doc.get("docId")) <= 25


def test_nd30_missing_file_and_other_dossier_code_are_reported(tmp_path: Path, tables: Tables) -> None:
    path = tmp_path / "ho-so.xml"
    write_nd30(path)
    tree = etree.parse(str(path))
    notation = tree.getroot()[0][0][2]  # HoSo[1]/FileCode/FileNotation: the dossier itself moves
    notation.text = "02.TH"
    tree.write(str(path), encoding="utf-8")
    result = read_nd30(path, tables, [f"{CODE_1}.0000002.pdf"], where="legacy/ho-so.xml")
    first, second = result.dossiers
    moved = f"{ORGAN}.2010.02.TH"
    assert first.records.package.get("fileCode") == moved
    # the documents' codes follow their dossier: the files named by the old code are not theirs
    assert first.unmatched_files == (f"{moved}.0000001", f"{moved}.0000002")
    assert second.unmatched_files == ("Kế hoạch 08.pdf",)
    assert result.orphan_files == (f"{CODE_1}.0000002.pdf",)
    lost = set(result.unmapped)
    assert (
        Unmapped("legacy/ho-so.xml/HoSo[1]/VanBan[1]/FileCode", "FileCode", CODE_1, Reason.OTHER_DOSSIER)
        in lost
    )
    assert (
        Unmapped("legacy/ho-so.xml/File[2]/Document[1]", "FileName", "Kế hoạch 08.pdf", Reason.FILE_NOT_FOUND)
        in lost
    )


def test_nd30_refuses_what_is_not_an_export(tmp_path: Path, tables: Tables) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<HoSo><Title>x</HoSo>", encoding="utf-8")
    with pytest.raises(LegacyError) as bad:
        read_nd30(broken, tables, [])
    assert bad.value.code == "legacy.not_xml"
    assert bad.value.params["file"] == "broken.xml"
    other = tmp_path / "other.xml"
    other.write_text("<config><setting>1</setting></config>", encoding="utf-8")
    with pytest.raises(LegacyError) as none:
        read_nd30(other, tables, [])
    assert none.value.code == "legacy.no_dossier"


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE HoSo [<!ENTITY x SYSTEM "file://{secret}">]>',  # an external entity
        '<!DOCTYPE HoSo [<!ENTITY x "Ủy ban nhân dân">]>',  # harmless, but "&x;" would vanish
        '<!DOCTYPE HoSo SYSTEM "hoso.dtd">',  # no entity used at all: still refused
    ],
)
def test_nd30_with_a_dtd_is_refused_never_read_with_text_missing(
    tmp_path: Path, tables: Tables, doctype: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    path = tmp_path / "x.xml"
    body = "<HoSo><FileCode>A.2010.1</FileCode><Title>Hồ sơ của &x;</Title></HoSo>"
    if "ENTITY" not in doctype:
        body = body.replace("&x;", "UBND")
    path.write_text(doctype.format(secret=secret) + body, encoding="utf-8")
    with pytest.raises(LegacyError) as refused:
        read_nd30(path, tables, [], where="legacy/x.xml")
    assert refused.value.code == "legacy.doctype"
    assert refused.value.params == {"file": "legacy/x.xml", "path": "legacy/x.xml"}
    assert "TOP SECRET" not in str(refused.value)


# ------------------------------------------------------------------------------------- mục lục

HOSO_HEADER = [
    "STT",
    "Mã hồ sơ",
    "Tiêu đề hồ sơ",
    "Thời hạn bảo quản",
    "Chế độ sử dụng",
    "Ngôn ngữ",
    "Thời gian bắt đầu",
    "Thời gian kết thúc",
    "Số lượng tờ",
    "Số lượng trang",
    "Người lập hồ sơ",
    "Ghi chú",
    "Người nhập liệu",
]
HOSO_ROWS: list[list[object]] = [
    [1, CODE_1, "Hồ sơ ban hành Quy chế làm việc", "Vĩnh viễn", "Thường", "Tiếng Việt",
     date(2010, 1, 5), datetime(2010, 12, 28), 12, 7, "Nguyễn Thị Hoa", "", "Lan"],
    [2, CODE_2, "Hồ sơ xây dựng Kế hoạch năm 2011", "15 năm", "Hạn chế", "Tiếng Việt, Tiếng Anh",
     "03/02/2011", "32/13/2011", None, 10, "", "Thiếu một trang", "Lan"],
    ["", "", "", "", "", "", "", "", "", "", "", "Mục lục này gồm 02 hồ sơ", ""],
]  # fmt: skip
TAILIEU_HEADER = [
    "STT",
    "Mã hồ sơ",
    "Số thứ tự văn bản",
    "Số, ký hiệu văn bản",
    "Ngày tháng văn bản",
    "Tên loại văn bản",
    "Trích yếu nội dung",
    "Tác giả",
    "Số trang",
    "Tên tệp",
]
TAILIEU_ROWS: list[list[object]] = [
    [1, CODE_1, 1, "12/QĐ-UBND", date(2010, 1, 5), "Quyết định", "Về việc ban hành Quy chế",
     "UBND tỉnh An Giang", 3, "qd-12.pdf"],
    [2, CODE_1, 2, "45/UBND-VP", "28/12/2010", "Công văn", "Về việc triển khai Quy chế",
     "Văn phòng UBND tỉnh", 4, ""],
    [3, CODE_2, 1, "08/KH-UBND", "2011-02-03", "Kế hoạch", "Kế hoạch cải cách hành chính",
     "UBND tỉnh An Giang", 10, "kh-08.pdf"],
    [4, "H49.64.33.2011.99.XX", 1, "01/TB", "01/01/2011", "Thông báo", "Văn bản lạc", "UBND", 1, ""],
]  # fmt: skip
MUC_LUC_FILES = ["qd-12.pdf", f"{CODE_1}.0000002.pdf", "anh-bia.jpg"]  # kh-08.pdf is missing


def write_xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    hoso = book.active
    assert hoso is not None
    hoso.title = "HoSo"
    hoso.append(["MỤC LỤC HỒ SƠ"])
    hoso.append(["Phông Ủy ban nhân dân tỉnh An Giang"])
    hoso.append(HOSO_HEADER)
    hoso.append([f"({i})" for i in range(1, len(HOSO_HEADER) + 1)])
    for row in HOSO_ROWS:
        hoso.append(row)
    tailieu = book.create_sheet("TaiLieu")
    tailieu.append(TAILIEU_HEADER)
    for row in TAILIEU_ROWS:
        tailieu.append(row)
    book.save(path)


def _text(value: object) -> str:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def write_csv(path: Path, *, encoding: str = "utf-8-sig") -> None:
    """The same catalogue as one sheet: a "Loại" column says hồ sơ or văn bản, documents follow
    their dossier (the first ones without a code) or name it."""
    header = ["Loại", *HOSO_HEADER[1:], *TAILIEU_HEADER[2:]]
    width = len(header)
    rows: list[list[str]] = [header]

    def dossier(row: Sequence[object]) -> list[str]:
        return ["Hồ sơ", *(_text(v) for v in row[1:])] + [""] * (width - len(row))

    def document(row: Sequence[object], code: str) -> list[str]:
        return ["Văn bản", code] + [""] * (len(HOSO_HEADER) - 2) + [_text(v) for v in row[2:]]

    rows.append(dossier(HOSO_ROWS[0]))
    rows += [document(TAILIEU_ROWS[0], ""), document(TAILIEU_ROWS[1], "")]
    rows.append(dossier(HOSO_ROWS[1]))
    rows.append(document(TAILIEU_ROWS[2], CODE_2))
    rows.append(document(TAILIEU_ROWS[3], "H49.64.33.2011.99.XX"))
    rows.append(["", *(_text(v) for v in HOSO_ROWS[2][1:])] + [""] * (width - len(HOSO_ROWS[2])))
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(rows)


@pytest.fixture()
def xlsx(tmp_path: Path, tables: Tables) -> LegacyImport:
    path = tmp_path / "muc-luc.xlsx"
    write_xlsx(path)
    return read_muc_luc(path, tables, [*MUC_LUC_FILES, "muc-luc.xlsx"])


def test_muc_luc_xlsx_maps_to_tt05_values(xlsx: LegacyImport, tables: Tables) -> None:
    assert [d.records.package.get("fileCode") for d in xlsx.dossiers] == [CODE_1, CODE_2]
    first, second = xlsx.dossiers
    assert first.organ_id == ORGAN
    assert first.records.source is RecordSource.MUC_LUC
    assert first.records.package.path == "muc-luc.xlsx#HoSo!5"
    assert dict(first.records.package.values) == {
        "fileCode": CODE_1,
        "title": "Hồ sơ ban hành Quy chế làm việc",
        "maintenance": "01",
        "mode": "01",
        "language": "01",
        "startDate": "05/01/2010",
        "endDate": "28/12/2010",
        "numberOfPaper": "12",
        "numberOfPage": "7",
        "totalDoc": "2",
        "riskRecovery": "0",
        "description": "Người lập hồ sơ: Nguyễn Thị Hoa",
    }
    assert second.records.package.get("maintenance") == "07"
    assert second.records.package.get("mode") == "02"
    assert second.records.package.get("language") == "01,02"
    assert "endDate" not in second.records.package.values
    docs = first.records.documents
    assert dict(docs[0].description.values) == {
        "docId": f"{CODE_1}.1",
        "docCode": f"{CODE_1}.0000001",
        "maintenance": "01",
        "typeName": "02",
        "codeNumber": "12",
        "codeNotation": "QĐ-UBND",
        "issuedDate": "05/01/2010",
        "organName": "UBND tỉnh An Giang",
        "subject": "Về việc ban hành Quy chế",
        "language": "01",
        "numberOfPage": "3",
        "mode": "01",
        "riskRecovery": "0",
    }
    assert docs[0].description.path == "muc-luc.xlsx#TaiLieu!2"
    assert docs[1].description.get("codeNotation") == "UBND-VP"
    assert_valid(first.records.package, tables)
    for doc in docs:
        assert_valid(doc.description, tables)


def test_muc_luc_reports_bad_rows_unknown_columns_and_lost_values(xlsx: LegacyImport) -> None:
    lost = set(xlsx.unmapped)
    assert {
        Unmapped("muc-luc.xlsx#HoSo!5", "Người nhập liệu", "Lan", Reason.UNKNOWN_COLUMN),
        Unmapped("muc-luc.xlsx#HoSo!6", "Người nhập liệu", "Lan", Reason.UNKNOWN_COLUMN),
        Unmapped("muc-luc.xlsx#HoSo!6", "Thời hạn bảo quản", "15 năm", Reason.YEARS_LOST),
        Unmapped("muc-luc.xlsx#HoSo!6", "Thời gian kết thúc", "32/13/2011", Reason.BAD_DATE),
        Unmapped("muc-luc.xlsx#HoSo!7", "title", "Mục lục này gồm 02 hồ sơ", Reason.ROW_SKIPPED),
        Unmapped("muc-luc.xlsx#TaiLieu!5", "fileCode", "H49.64.33.2011.99.XX", Reason.NO_DOSSIER),
        Unmapped("muc-luc.xlsx#TaiLieu!4", "Tên tệp", "kh-08.pdf", Reason.FILE_NOT_FOUND),
    } <= lost


def test_muc_luc_matches_files_and_reports_missing_and_orphans(xlsx: LegacyImport) -> None:
    first, second = xlsx.dossiers
    assert [d.data_files for d in first.records.documents] == [("qd-12.pdf",), (f"{CODE_1}.0000002.pdf",)]
    assert first.unmatched_files == ()
    assert second.records.documents[0].data_files == ()
    assert second.unmatched_files == ("kh-08.pdf",)
    assert xlsx.orphan_files == ("anh-bia.jpg",)


def _comparable(result: LegacyImport) -> tuple[object, ...]:
    return (
        [dict(d.records.package.values) for d in result.dossiers],
        [[(dict(x.description.values), x.data_files) for x in d.records.documents] for d in result.dossiers],
        [d.unmatched_files for d in result.dossiers],
        result.orphan_files,
        sorted(
            (u.field, u.value, u.reason) for u in result.unmapped if u.reason is not Reason.UNKNOWN_COLUMN
        ),
    )


def test_muc_luc_csv_with_semicolons_maps_like_the_xlsx(
    tmp_path: Path, tables: Tables, xlsx: LegacyImport
) -> None:
    path = tmp_path / "muc-luc.csv"
    write_csv(path)
    result = read_muc_luc(path, tables, MUC_LUC_FILES)
    assert _comparable(result) == _comparable(xlsx)
    assert result.dossiers[1].records.documents[0].description.path == "muc-luc.csv#6"
    assert Unmapped("muc-luc.csv#5", "Thời hạn bảo quản", "15 năm", Reason.YEARS_LOST) in result.unmapped


def test_muc_luc_csv_without_bom_and_with_commas(tmp_path: Path, tables: Tables, xlsx: LegacyImport) -> None:
    path = tmp_path / "muc-luc.csv"
    write_csv(path, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines(), delimiter=";"))
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=",").writerows(rows)
    assert _comparable(read_muc_luc(path, tables, MUC_LUC_FILES)) == _comparable(xlsx)


def test_muc_luc_single_sheet_documents_by_ordinal_under_the_dossier_above(
    tmp_path: Path, tables: Tables
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Hồ sơ số", "Tiêu đề", "THBQ", "Mức độ tiếp cận", "Ngôn ngữ", "STT văn bản", "Số ký hiệu",
                  "Ngày ban hành", "Trích yếu", "Cơ quan ban hành", "Tên loại", "Số trang"])  # fmt: skip
    sheet.append(["01", "Hồ sơ A", "VV", "Công khai", "Tiếng Việt"])
    sheet.append([None, None, None, None, None, 1, "3/QĐ-UBND", "2012-05-04", "Trích yếu 1", "UBND", "QĐ", 2])
    sheet.append(["02", "Hồ sơ B", "30 năm", "Mật", "Tiếng Việt"])
    sheet.append([None, None, None, None, None, 1, "7/BC", "04/06/2012", "Trích yếu 2", "UBND", "BC", 5])
    path = tmp_path / "mot-sheet.xlsx"
    book.save(path)
    result = read_muc_luc(path, tables, [])
    a, b = result.dossiers
    assert a.records.package.get("title") == "Hồ sơ A"
    assert a.records.package.get("fileCode") == "01"
    assert [d.description.get("subject") for d in a.records.documents] == ["Trích yếu 1"]
    assert [d.description.get("typeName") for d in b.records.documents] == ["14"]
    assert b.records.documents[0].description.get("mode") == "03"
    assert b.records.package.get("maintenance") == "04"
    assert b.records.package.get("numberOfPage") == "5"  # the documents' pages, said in the report
    assert (
        Unmapped("mot-sheet.xlsx#Sheet!2", "FileCode/OrganId", "01", Reason.INCOMPLETE_CODE)
        in result.unmapped
    )
    assert Unmapped("mot-sheet.xlsx#Sheet!4", "numberOfPage", "5", Reason.DEFAULTED) in result.unmapped


def test_muc_luc_two_row_header_and_columns_without_a_tt05_element(tmp_path: Path, tables: Tables) -> None:
    path = tmp_path / "muc-luc.csv"
    lines = [
        "Loại;Hộp số;Mã hồ sơ;Tiêu đề hồ sơ;Thời gian;;Số lượng;;THBQ;Chế độ sử dụng;Ngôn ngữ;Trích yếu;"
        "Ngày văn bản;Tên loại văn bản;Tác giả",
        ";;;;Bắt đầu;Kết thúc;Tờ;Trang;;;;;;;",
        f"Hồ sơ;3;{CODE_1};Hồ sơ A;01/2010;2010;;;VV;Công khai;Tiếng Việt;;;;",
        "Văn bản;;;;;;2;4;;;;Trích yếu;05/01/2010;Quyết định;UBND",
    ]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    result = read_muc_luc(path, tables, [])
    (dossier,) = result.dossiers
    values = dossier.records.package.values
    # month and year precision are kept as written: the SIP check says they are not DD/MM/YYYY
    assert (values["startDate"], values["endDate"]) == ("01/2010", "2010")
    assert dossier.records.documents[0].description.get("numberOfPage") == "4"
    lost = set(result.unmapped)
    assert Unmapped("muc-luc.csv#3", "Hộp số", "3", Reason.NO_ELEMENT) in lost
    assert Unmapped("muc-luc.csv#4", "Tờ", "2", Reason.WRONG_LEVEL) in lost  # a document has no sheet count
    codes_found = {
        f.code for f in check_description(ParsedDescription(description=dossier.records.package), tables)
    }
    assert codes_found == {"tt05.bad_date"}


def test_nd30_dossier_found_by_content_whatever_its_name(tmp_path: Path, tables: Tables) -> None:
    root = etree.Element("Export")
    record = _sub(_sub(root, "Records"), "Record")
    _sub(record, "FileCode", CODE_1)
    _sub(record, "Title", "Hồ sơ")
    _sub(record, "Maintenance", "Vĩnh viễn")
    _sub(record, "Rights", "Thường")
    _sub(record, "Stamp", "ĐÃ DUYỆT")
    _sub(record, "Identifier", "H49.64.33.LT")  # TT 02/2019: the archive's own code, no SIP element
    path = tmp_path / "export.xml"
    etree.ElementTree(root).write(str(path), encoding="utf-8")
    result = read_nd30(path, tables, [])
    (dossier,) = result.dossiers
    assert dossier.records.package.get("fileCode") == CODE_1
    assert dossier.organ_id == ORGAN
    assert dossier.records.documents == ()
    lost = set(result.unmapped)
    assert Unmapped("export.xml/Record[1]/Stamp", "Stamp", "ĐÃ DUYỆT", Reason.UNKNOWN_ELEMENT) in lost
    assert (
        Unmapped("export.xml/Record[1]/Identifier", "Identifier", "H49.64.33.LT", Reason.NO_ELEMENT) in lost
    )


def test_muc_luc_refuses_what_it_cannot_read(tmp_path: Path, tables: Tables) -> None:
    latin = tmp_path / "cu.csv"
    latin.write_bytes(b"Ti\xeau \xf0\xe8 h\xf4 s\xa1;M\xe3 h\xf4 s\xa1\nH\xf4 s\xa1;1\n")  # Windows-1258
    with pytest.raises(LegacyError) as encoding:
        read_muc_luc(latin, tables, [])
    assert encoding.value.code == "legacy.not_utf8"
    plain = tmp_path / "danh-ba.csv"
    plain.write_text("Họ tên;Ngày sinh\nAn;01/01/1990\n", encoding="utf-8")
    with pytest.raises(LegacyError) as header:
        read_muc_luc(plain, tables, [])
    assert header.value.code == "legacy.no_header"
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip")
    with pytest.raises(LegacyError) as broken:
        read_muc_luc(fake, tables, [])
    assert broken.value.code == "legacy.not_spreadsheet"


def write_book(path: Path, sheets: Mapping[str, Sequence[Sequence[object]]]) -> None:
    book = openpyxl.Workbook()
    assert book.active is not None
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    book.save(path)


COVER = [["MỤC LỤC HỒ SƠ"], ["Phông Ủy ban nhân dân tỉnh An Giang"], ["Năm 2010 - 2011"]]
NOTES = [["Ghi chú"], ["Mục lục gồm 02 hồ sơ, lập ngày 05/01/2012"]]
MIXED: list[list[object]] = [
    ["Loại", "Mã hồ sơ", "Tiêu đề hồ sơ", "THBQ", "Chế độ sử dụng", "STT văn bản", "Trích yếu", "Tên tệp"],
    ["Hồ sơ", CODE_1, "Hồ sơ ban hành Quy chế", "Vĩnh viễn", "Thường", None, None, None],
    ["Văn bản", None, None, None, None, 1, "Về việc ban hành Quy chế", "qd-12.pdf"],
]


def test_muc_luc_cover_and_notes_sheets_are_skipped_and_said(tmp_path: Path, tables: Tables) -> None:
    folder = tmp_path / "nop-luu"
    folder.mkdir()
    path = folder / "muc-luc.xlsx"
    write_book(path, {"Bìa": COVER, "Mục lục": MIXED, "Ghi chú": NOTES})
    (folder / "qd-12.pdf").write_bytes(b"%PDF-1.4")
    assert detect_legacy(_listing(folder)) == ("muc-luc", path)
    result = read_muc_luc(path, tables, ["qd-12.pdf"])
    (dossier,) = result.dossiers
    assert dossier.records.package.get("fileCode") == CODE_1
    assert [d.data_files for d in dossier.records.documents] == [("qd-12.pdf",)]
    assert result.orphan_files == ()
    skipped = [u for u in result.unmapped if u.reason == Reason.SHEET_SKIPPED]
    assert skipped == [
        Unmapped("muc-luc.xlsx#Bìa", "sheet", "Bìa", Reason.SHEET_SKIPPED),
        Unmapped("muc-luc.xlsx#Ghi chú", "sheet", "Ghi chú", Reason.SHEET_SKIPPED),
    ]


def test_muc_luc_reads_every_dossier_and_document_sheet(tmp_path: Path, tables: Tables) -> None:
    hoso = ["Mã hồ sơ", "Tiêu đề hồ sơ", "Thời hạn bảo quản", "Chế độ sử dụng"]
    tailieu = ["Mã hồ sơ", "Số thứ tự văn bản", "Trích yếu nội dung", "Tên loại văn bản", "Tên tệp"]
    path = tmp_path / "muc-luc.xlsx"
    write_book(
        path,
        {  # one sheet per year, documents first: their dossiers are on sheets further on
            "TaiLieu 2011": [tailieu, [CODE_2, 1, "Kế hoạch cải cách hành chính", "Kế hoạch", "kh-08.pdf"]],
            "TaiLieu 2010": [tailieu, [CODE_1, 1, "Về việc ban hành Quy chế", "Quyết định", "qd-12.pdf"]],
            "Bìa": COVER,
            "HoSo 2010": [hoso, [CODE_1, "Hồ sơ ban hành Quy chế", "Vĩnh viễn", "Thường"]],
            "HoSo 2011": [hoso, [CODE_2, "Hồ sơ Kế hoạch năm 2011", "70 năm", "Hạn chế"]],
        },
    )
    result = read_muc_luc(path, tables, ["qd-12.pdf", "kh-08.pdf"])
    assert [d.records.package.get("fileCode") for d in result.dossiers] == [CODE_1, CODE_2]
    assert [[doc.data_files for doc in d.records.documents] for d in result.dossiers] == [
        [("qd-12.pdf",)],
        [("kh-08.pdf",)],
    ]
    assert result.orphan_files == ()
    assert [u.where for u in result.unmapped if u.reason == Reason.SHEET_SKIPPED] == ["muc-luc.xlsx#Bìa"]


def test_muc_luc_after_three_other_sheets_is_still_found(tmp_path: Path) -> None:
    path = tmp_path / "muc-luc.xlsx"
    write_book(path, {"Bìa": COVER, "Hướng dẫn": NOTES, "Ghi chú": NOTES, "Mục lục": MIXED})
    assert detect_legacy([("muc-luc.xlsx", path)]) == ("muc-luc", path)
    write_book(path, {"Bìa": COVER, "Ghi chú": NOTES})
    assert detect_legacy([("muc-luc.xlsx", path)]) is None


def test_a_document_sheet_row_without_a_code_needs_a_single_dossier(tmp_path: Path, tables: Tables) -> None:
    hoso = ["Số hồ sơ", "Tiêu đề hồ sơ", "Thời hạn bảo quản"]
    tailieu = ["Số thứ tự văn bản", "Trích yếu nội dung", "Tên loại văn bản"]
    path = tmp_path / "muc-luc.xlsx"
    document = [1, "Về việc ban hành Quy chế", "Quyết định"]
    write_book(path, {"HoSo": [hoso, ["01", "Hồ sơ A", "Vĩnh viễn"]], "TaiLieu": [tailieu, document]})
    (only,) = read_muc_luc(path, tables, []).dossiers
    assert len(only.records.documents) == 1
    write_book(
        path,
        {
            "HoSo": [hoso, ["01", "Hồ sơ A", "Vĩnh viễn"], ["02", "Hồ sơ B", "Vĩnh viễn"]],
            "TaiLieu": [tailieu, document],
        },
    )
    result = read_muc_luc(path, tables, [])
    assert [len(d.records.documents) for d in result.dossiers] == [0, 0]  # not the last one's
    assert Unmapped("muc-luc.xlsx#TaiLieu!2", "fileCode", "", Reason.NO_DOSSIER) in result.unmapped


def _headers_folder(tmp_path: Path, change: tuple[str, str]) -> Path:
    folder = tmp_path / "tt05"
    shutil.copytree(DEFAULT_DIR, folder)
    path = folder / "legacy_headers.toml"
    text = path.read_text(encoding="utf-8")
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    return folder


def test_header_wordings_are_data_an_archivist_can_extend(tmp_path: Path, tables: Tables) -> None:
    extended = _headers_folder(tmp_path, ('subject = ["', 'subject = ["Nội dung tóm tắt", "'))
    path = tmp_path / "muc-luc.csv"
    path.write_text(
        f"Mã hồ sơ;Tiêu đề hồ sơ;STT văn bản;Nội dung tóm tắt\n{CODE_1};Hồ sơ A;;\n;;1;Về việc A\n",
        encoding="utf-8",
    )
    shipped = read_muc_luc(path, tables, [])
    assert (
        Unmapped("muc-luc.csv#3", "Nội dung tóm tắt", "Về việc A", Reason.UNKNOWN_COLUMN) in shipped.unmapped
    )
    result = read_muc_luc(path, tables, [], headers=load_headers(extended))
    assert result.dossiers[0].records.documents[0].description.get("subject") == "Về việc A"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('title = ["', 'tittle = ["'), "columns.tittle"),  # a field that is no element
        (('keyword = ["', 'keyword = ["Tiêu đề", "'), "columns.keyword"),  # "Tiêu đề" is the title's
        (('"Bắt đầu" = "startDate"', '"Bắt đầu" = "startDay"'), "subheaders.Bắt đầu"),
    ],
)
def test_header_wordings_are_checked_when_loaded(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    with pytest.raises(TablesError) as bad:
        load_headers(_headers_folder(tmp_path, change))
    assert "legacy_headers.toml" in str(bad.value) and f"[{key}]" in str(bad.value)


# ------------------------------------------------------------------------------------- detection


def _listing(folder: Path) -> list[tuple[str, Path]]:
    return [(p.relative_to(folder).as_posix(), p) for p in sorted(folder.rglob("*")) if p.is_file()]


def test_detect_legacy_recognises_both_shapes_and_ignores_an_ordinary_folder(tmp_path: Path) -> None:
    nd30 = tmp_path / "nd30"
    nd30.mkdir()
    write_nd30(nd30 / "ho-so.xml")
    (nd30 / f"{CODE_1}.0000001.pdf").write_bytes(b"%PDF-1.4")
    assert detect_legacy(_listing(nd30)) == ("nd30", nd30 / "ho-so.xml")

    xlsx = tmp_path / "xlsx"
    xlsx.mkdir()
    write_xlsx(xlsx / "muc-luc.xlsx")
    (xlsx / "qd-12.pdf").write_bytes(b"%PDF-1.4")
    assert detect_legacy(_listing(xlsx)) == ("muc-luc", xlsx / "muc-luc.xlsx")

    csv_folder = tmp_path / "csv"
    csv_folder.mkdir()
    write_csv(csv_folder / "muc-luc.csv")
    assert detect_legacy(_listing(csv_folder)) == ("muc-luc", csv_folder / "muc-luc.csv")

    ordinary = tmp_path / "ordinary"
    (ordinary / "sub").mkdir(parents=True)
    (ordinary / "bao-cao.pdf").write_bytes(b"%PDF-1.4")
    (ordinary / "danh-ba.csv").write_text("Họ tên;Ngày sinh\nAn;01/01/1990\n", encoding="utf-8")
    (ordinary / "EAD.xml").write_text(  # a TT 05 description is not a legacy export
        "<ead><fileCode>A.2010.1</fileCode><title>T</title><maintenance>01</maintenance></ead>",
        encoding="utf-8",
    )
    write_nd30(ordinary / "sub" / "ho-so.xml")  # only the top level counts
    (ordinary / "hong.xlsx").write_bytes(b"not a zip")
    assert detect_legacy(_listing(ordinary)) is None


def test_detect_legacy_reads_only_the_start_of_a_big_file(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("<root>" + "<x/>" * 200_000)  # 800 KB before any legacy element
        fh.write("<HoSo><FileCode><OrganId>A</OrganId></FileCode><Title>T</Title></HoSo></root>")
    assert detect_legacy([("big.xml", big)]) is None


# ------------------------------------------------------------------------------------- messages


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_reason_has_a_text(language: str) -> None:
    assert sorted(f"legacy.reason.{r.value}" for r in Reason) == sorted(
        c for c in codes(language) if c.startswith("legacy.reason.")
    )
