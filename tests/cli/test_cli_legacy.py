"""Legacy exports through ``kholuu ingest`` as an operator runs it: an NĐ 30/2020 XML export and a
spreadsheet mục lục become one TT 05 AIP_hoso per hồ sơ, mapped values land in the catalog, every
field that could not be carried over is reported, and a folder with a file no record describes is
refused with nothing stored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from repository.catalog.records import Dossier
from tests.cli.test_cli import env, kholuu  # noqa: F401  (env is a fixture)
from tests.conftest import SAMPLES


def dossiers(database_url: str) -> list[Dossier]:
    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            rows = s.scalars(select(Dossier).order_by(Dossier.code)).all()
            for r in rows:
                _ = r.documents
            return list(rows)
    finally:
        engine.dispose()


def test_nd30_export_becomes_one_aip_per_dossier(env: dict[str, str], database_url: str) -> None:  # noqa: F811
    r = kholuu("ingest", str(SAMPLES / "legacy-nd30-so-noi-vu"), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["legacy"] == "nd30"
    assert [d["dossier"] for d in out["dossiers"]] == [
        "000.00.27.H02.2023.12.TCCB",
        "000.00.27.H02.2023.15.VT",
    ]
    assert all(d["status"] == "stored" for d in out["dossiers"])
    unmapped = {(u["field"], u["reason"]) for u in out["unmapped"]}
    assert ("SignerInfo", "no TT 05 element") in unmapped
    assert ("Priority", "no TT 05 element") in unmapped
    assert ("DueDate", "no TT 05 element") in unmapped

    rows = dossiers(database_url)
    assert [d.code for d in rows] == ["000.00.27.H02.2023.12.TCCB", "000.00.27.H02.2023.15.VT"]
    first = rows[0]
    assert first.source == "nd30-xml"
    assert first.title == "Hồ sơ về việc tuyển dụng công chức tỉnh An Giang năm 2023"
    assert (first.maintenance, first.mode, first.languages) == ("01", "01", "01")  # "Vĩnh viễn", "Thường"
    assert (first.organ_id, first.year) == ("000.00.27.H02", 2023)
    assert "Phạm Văn Hùng" in first.elements["description"]  # Creator: no element, kept in Ghi chú
    assert [(d.ordinal, d.type_name, d.code_notation) for d in first.documents] == [
        (1, "10", "KH-SNV"),  # "Kế hoạch"
        (2, "07", "TB-SNV"),  # "Thông báo"
    ]
    show = json.loads(kholuu("aip", "show", first.aip_id, "--json", env=env).stdout)
    paths = {f["path"] for f in show["files"] if f["role"] != "original"}
    assert any(p.endswith("documentation/legacy-mapping.json") for p in paths)
    assert any(p.endswith("metadata/other/legacy/ho-so-nd30.xml") for p in paths)


def test_xlsx_muc_luc_with_free_text_values(env: dict[str, str], database_url: str, tmp_path: Path) -> None:  # noqa: F811
    folder = tmp_path / "muc-luc"
    folder.mkdir()
    book = openpyxl.Workbook()
    hs = book.active
    assert hs is not None
    hs.title = "HoSo"
    hs.append(
        [
            "Mã hồ sơ",
            "Tiêu đề hồ sơ",
            "Thời hạn bảo quản",
            "Chế độ sử dụng",
            "Ngôn ngữ",
            "Thời gian bắt đầu",
            "Thời gian kết thúc",
            "Số lượng trang",
            "Ghi chú",
            "Người lập",
        ]
    )
    hs.append(
        [
            "000.00.27.H05.2021.07.KH",
            "Hồ sơ kế hoạch phát triển kinh tế - xã hội năm 2021",
            "Vĩnh viễn",
            "Công khai",
            "Tiếng Việt, Tiếng Anh",
            "04/01/2021",
            "28/12/2021",
            3,
            "Bản gốc điện tử",
            "Võ Thị Lài",
        ]
    )
    tl = book.create_sheet("TaiLieu")
    tl.append(
        [
            "Mã hồ sơ",
            "STT văn bản",
            "Số, ký hiệu văn bản",
            "Ngày tháng văn bản",
            "Tên loại văn bản",
            "Trích yếu nội dung",
            "Tác giả",
            "Số trang",
            "Tên tệp",
        ]
    )
    tl.append(
        [
            "000.00.27.H05.2021.07.KH",
            1,
            "03/KH-UBND",
            "04/01/2021",
            "Kế hoạch",
            "Kế hoạch phát triển kinh tế - xã hội năm 2021",
            "UBND tỉnh An Giang",
            3,
            "KH-03.txt",
        ]
    )
    book.save(folder / "mục lục hồ sơ.xlsx")
    (folder / "KH-03.txt").write_text("Kế hoạch số 03/KH-UBND\n", encoding="utf-8")

    r = kholuu("ingest", str(folder), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["legacy"] == "muc-luc" and len(out["dossiers"]) == 1
    assert {u["field"] for u in out["unmapped"]} >= {"Người lập"}
    (row,) = dossiers(database_url)
    assert row.source == "muc-luc"
    assert (row.maintenance, row.mode, row.languages) == ("01", "01", "01,02")
    assert [(d.type_name, d.code_number, d.code_notation) for d in row.documents] == [("10", "03", "KH-UBND")]


def test_file_no_record_describes_is_refused(env: dict[str, str], database_url: str, tmp_path: Path) -> None:  # noqa: F811
    folder = tmp_path / "nd30"
    shutil.copytree(SAMPLES / "legacy-nd30-so-noi-vu", folder)
    (folder / "Tờ trình lạc.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    r = kholuu("--lang", "vi", "ingest", str(folder), env=env)
    assert r.returncode == 3
    assert "Tờ trình lạc.pdf" in r.stderr
    assert dossiers(database_url) == []
    assert json.loads(kholuu("aip", "list", "--json", env=env).stdout)["aips"] == []


def test_export_with_one_bad_dossier_stores_nothing(
    env: dict[str, str],  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    """Every hồ sơ is checked before any is stored: an export is taken whole or not at all."""
    folder = tmp_path / "nd30"
    shutil.copytree(SAMPLES / "legacy-nd30-so-noi-vu", folder)
    xml = folder / "ho-so-nd30.xml"
    text = xml.read_text(encoding="utf-8")
    second = text.index("<FileNotation>15.VT</FileNotation>")
    broken = text[:second] + text[second:].replace("<Rights>Thường</Rights>", "<Rights>Không rõ</Rights>", 1)
    xml.write_text(broken, encoding="utf-8")
    r = kholuu("--lang", "en", "ingest", str(folder), env=env)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "000.00.27.H02.2023.15.VT" in r.stderr and "mode" in r.stderr
    assert dossiers(database_url) == []
    assert json.loads(kholuu("aip", "list", "--json", env=env).stdout)["aips"] == []


def test_item11_muc_luc_csv_with_a_nul_byte_is_refused_not_ingested_as_a_plain_folder(
    env: dict[str, str],  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    from tests.preservation.test_hostile_muc_luc import _csv_with

    path = _csv_with(tmp_path, 4, b"\x00")
    r = kholuu("ingest", str(path.parent), "--json", env=env)
    assert r.returncode == 3, r.stdout + r.stderr
    error = json.loads(r.stdout)["error"]
    assert error["code"] == "legacy.csv_nul"
    assert error["params"]["line"] == 4 and error["path"] == "muc-luc.csv"
    assert "muc-luc.csv, line 4" in error["message"]
    assert dossiers(database_url) == []
    assert json.loads(kholuu("aip", "list", "--json", env=env).stdout)["aips"] == []


def test_a_transfer_or_supersedes_names_one_dossier(env: dict[str, str], database_url: str) -> None:  # noqa: F811
    """Both are refused as the operator's mistake (exit 2) before any hồ sơ is ingested."""
    stored = json.loads(kholuu("ingest", str(SAMPLES / "sip-bag-cong-van"), "--json", env=env).stdout)
    many = kholuu("ingest", str(SAMPLES / "legacy-nd30-so-noi-vu"), "--supersedes", stored["aip_id"], env=env)
    assert many.returncode == 2 and "holds 2" in many.stderr, many.stderr
    assert kholuu("records", "agency", "add", "000.00.27.H02", "Sở Nội vụ", "--json", env=env).returncode == 0
    receipt = kholuu("transfer", "receive", "000.00.27.H02", "p.zip", "--by", "Thu", "--json", env=env)
    transfer = json.loads(receipt.stdout)["transfer_id"]
    r = kholuu(
        "ingest", str(SAMPLES / "legacy-nd30-so-noi-vu"), "--transfer", transfer[:8], "--json", env=env
    )
    assert r.returncode == 2
    error = json.loads(r.stdout)["error"]
    assert (error["code"], error["params"]) == (
        "conversion.transfer_many",
        {"count": 2, "transfer": transfer},
    )
    assert dossiers(database_url) == []
