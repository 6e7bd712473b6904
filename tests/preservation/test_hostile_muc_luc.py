"""Issue 11 items 10 (formula cells), 11 (a mục lục CSV with a NUL byte or bytes that are not
UTF-8) and 19 (a workbook that inflates to gigabytes): refused, naming the file and the place."""

from __future__ import annotations

import resource
import zipfile
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from preservation.container import ContainerLimitError, check_zip_container
from preservation.tt05.mapping import LegacyError
from preservation.tt05.muc_luc import looks_like_muc_luc, read_muc_luc
from preservation.tt05.tables import Tables, load_tables
from tests.preservation.test_tt05_legacy import MUC_LUC_FILES, write_csv, write_xlsx
from workflows.ingest.legacy import detect


@pytest.fixture(scope="module")
def tables() -> Tables:
    return load_tables()


def _csv_with(tmp_path: Path, line: int, bad: bytes) -> Path:
    folder = tmp_path / "xuat"
    folder.mkdir()
    path = folder / "muc-luc.csv"
    write_csv(path)
    lines = path.read_bytes().split(b"\n")
    lines[line - 1] = lines[line - 1][:10] + bad + lines[line - 1][10:]
    path.write_bytes(b"\n".join(lines))
    for name in MUC_LUC_FILES:
        (folder / name).write_bytes(b"%PDF-1.4")
    return path


@pytest.mark.parametrize(
    ("bad", "code"),
    [(b"\x00", "legacy.csv_nul"), (b"\xff\xfe", "legacy.not_utf8"), (b"\xe1\xba", "legacy.not_utf8")],
)
def test_item11_a_muc_luc_csv_with_a_bad_byte_is_refused_naming_file_and_line(
    tmp_path: Path, tables: Tables, bad: bytes, code: str
) -> None:
    path = _csv_with(tmp_path, 4, bad)
    # recognised as the mục lục it is, never a plain folder with no hồ sơ
    assert looks_like_muc_luc(path)
    assert detect(path.parent) == ("muc-luc", path)
    with pytest.raises(LegacyError) as refused:
        read_muc_luc(path, tables, MUC_LUC_FILES)
    assert refused.value.code == code
    assert refused.value.params["file"] == "muc-luc.csv"
    assert refused.value.params["line"] == 4


def test_item11_a_bad_byte_in_the_header_line_is_refused_too(tmp_path: Path, tables: Tables) -> None:
    path = _csv_with(tmp_path, 1, b"\x00")
    assert detect(path.parent) == ("muc-luc", path)
    with pytest.raises(LegacyError) as refused:
        read_muc_luc(path, tables, MUC_LUC_FILES)
    assert (refused.value.code, refused.value.params["line"]) == ("legacy.csv_nul", 1)


def test_item10_formula_cells_without_values_are_not_missing_elements(tmp_path: Path, tables: Tables) -> None:
    path = tmp_path / "muc-luc.xlsx"
    write_xlsx(path)
    book = openpyxl.load_workbook(path)
    sheet = book["HoSo"]
    sheet["C5"] = '="Hồ sơ ban hành " & "Quy chế làm việc"'  # openpyxl stores no computed value
    book.save(path)
    with pytest.raises(LegacyError) as refused:
        read_muc_luc(path, tables, [*MUC_LUC_FILES, "muc-luc.xlsx"])
    assert refused.value.code == "legacy.formula_without_value"
    assert refused.value.params["count"] == 1
    assert refused.value.params["cells"].startswith("HoSo!C5 =")


def _bomb_xlsx(path: Path, inflated: int) -> None:
    """A real workbook whose first sheet is replaced by one that inflates to ``inflated`` bytes."""
    write_xlsx(path.with_name("plain.xlsx"))
    with (
        zipfile.ZipFile(path.with_name("plain.xlsx")) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, src.read(info))
                continue
            body = src.read(info)
            head, tail = body.split(b"</sheetData>", 1)
            with out.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
                fh.write(head)
                block = b" " * (1 << 20)
                for _ in range(inflated >> 20):
                    fh.write(block)
                fh.write(b"</sheetData>" + tail)


def test_item19_an_xlsx_that_inflates_past_the_limits_is_refused_without_inflating_it(
    tmp_path: Path, tables: Tables
) -> None:
    folder = tmp_path / "xuat"
    folder.mkdir()
    path = folder / "muc-luc.xlsx"
    _bomb_xlsx(path, 600 << 20)
    assert path.stat().st_size < 2 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ContainerLimitError) as over:
        check_zip_container(path)
    assert over.value.params["member"] == "xl/worksheets/sheet1.xml"
    assert detect(folder) == ("muc-luc", path)  # not stored unread as payload of a plain folder
    with pytest.raises(LegacyError) as refused:
        read_muc_luc(path, tables, [])
    assert refused.value.code == "legacy.spreadsheet_too_large"
    assert refused.value.params["limit"] in {"max_total_bytes", "max_ratio"}
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100 * 1024  # never near the 600 MiB the sheet claims


def test_item19_a_workbook_within_the_limits_still_reads(tmp_path: Path, tables: Tables) -> None:
    path = tmp_path / "muc-luc.xlsx"
    write_xlsx(path)
    check_zip_container(path)
    assert len(read_muc_luc(path, tables, [*MUC_LUC_FILES, "muc-luc.xlsx"]).dossiers) == 2
