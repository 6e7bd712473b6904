"""Issue 11 items 10 and 21: names a Windows recipient cannot restore, or that climb out there,
are refused on receipt with a reason of their own, and exports never carry them."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from preservation.errors import UnsafePackageError
from preservation.names import portable_path_problem, windows_problem
from preservation.quarantine import copy_tree, receive
from preservation.safepath import UnpackLimits
from workflows.access.errors import ExportError
from workflows.access.export_zip import write_zip


class _RawInfo(zipfile.ZipInfo):
    """A ZIP entry whose name bytes are written exactly (zipfile would re-encode them as UTF-8)."""

    raw = b""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.raw, self.flag_bits & ~0x800


def zip_of(path: Path, names: list[bytes]) -> Path:
    """A ZIP whose entry names are exactly ``names``: old Windows tools write non-UTF-8 bytes."""
    with zipfile.ZipFile(path, "w") as zf:
        for raw in names:
            info = _RawInfo(raw.decode("utf-8", "replace"))
            info.raw = raw
            zf.writestr(info, b"x")
    return path


def refused(tmp_path: Path, source: Path) -> UnsafePackageError:
    with pytest.raises(UnsafePackageError) as caught:
        receive(source, tmp_path / "q", UnpackLimits())
    return caught.value


@pytest.mark.parametrize(
    ("name", "code"),
    [
        (b"..\\..\\x.txt", "unpack.path_traversal"),
        (b"ho-so\\..\\..\\..\\x.txt", "unpack.path_traversal"),
        (b"C:\\Windows\\x.txt", "unpack.absolute_path"),
        (b"ho-so\\x.txt", "unpack.windows_name"),
    ],
)
def test_item21_backslash_names_in_a_zip(tmp_path: Path, name: bytes, code: str) -> None:
    err = refused(tmp_path, zip_of(tmp_path / "sip.zip", [b"ok.txt", name]))
    assert err.code == code
    assert not (tmp_path / "x.txt").exists() and not (tmp_path / "q" / "x.txt").exists()


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("CON", "reserved device name"),
        ("NUL.txt", "reserved device name"),
        ("com1.pdf", "reserved device name"),
        ("bao-cao.", "ends with a dot or a space"),
        ("bao-cao.pdf ", "ends with a dot or a space"),
        ("hỏi?.pdf", "character ?"),
        ("a*b.txt", "character *"),
        ("a|b.txt", "character |"),
        ("<tờ trình>.txt", "character < >"),
        ('"trích".txt', 'character "'),
        ("Quyết định: số 12.pdf", "character :"),
    ],
)
def test_item21_names_windows_cannot_create_are_refused_in_folders_and_zips(
    tmp_path: Path, name: str, problem: str
) -> None:
    assert windows_problem(name) == problem
    folder = tmp_path / "sip"
    (folder / "ho-so").mkdir(parents=True)
    (folder / "ho-so" / name).write_bytes(b"x")
    err = refused(tmp_path / "f", folder)
    assert (err.code, err.path, err.params["problem"]) == ("unpack.windows_name", f"ho-so/{name}", problem)
    err = refused(tmp_path / "z", zip_of(tmp_path / "sip.zip", [f"ho-so/{name}".encode()]))
    assert err.code == "unpack.windows_name"


def test_item21_ordinary_vietnamese_names_are_still_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "sip"
    folder.mkdir()
    for name in ("Tờ trình số 12.pdf", "v1.2 báo cáo.docx", "CONSOLE.txt", "nul-xx.txt", ".an"):
        (folder / name).write_bytes(b"x")
    tree = copy_tree(folder, tmp_path / "q", UnpackLimits())
    assert len(tree.files) == 5


def test_item21_names_differing_only_by_case_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "sip"
    folder.mkdir()
    (folder / "Bao-cao.pdf").write_bytes(b"1")
    (folder / "bao-cao.PDF").write_bytes(b"2")
    err = refused(tmp_path, folder)
    assert err.code == "unpack.case_collision"
    assert {err.path, err.params["other"]} == {"Bao-cao.pdf", "bao-cao.PDF"}
    # folders too: Windows would merge them
    err = refused(tmp_path / "z", zip_of(tmp_path / "s.zip", [b"Ho-so/a.txt", b"ho-so/b.txt"]))
    assert err.code == "unpack.case_collision"


def test_item10_a_300_byte_name_is_not_called_a_damaged_archive(tmp_path: Path) -> None:
    name = "Tài liệu " * 30 + ".pdf"
    assert len(name.encode()) > 255
    err = refused(tmp_path, zip_of(tmp_path / "sip.zip", [b"ok.txt", name.encode()]))
    assert err.code == "unpack.component_too_long"
    assert err.params["value"] == len(name.encode()) and err.params["limit"] == 255


def test_item10_a_non_utf8_name_clash_is_not_called_an_nfc_nfd_collision(tmp_path: Path) -> None:
    # b"caf\xe9" (Latin-1, not UTF-8) is stored percent-escaped as "caf%E9", which is also a literal name
    err = refused(tmp_path, zip_of(tmp_path / "sip.zip", [b"caf%E9", b"caf\xe9"]))
    assert err.code == "unpack.name_collision"


# ------------------------------------------------------------------------------- export ZIPs


@pytest.mark.parametrize(
    "name", ["..\\..\\x.txt", "CON", "NUL.txt", "a?.txt", "trailing.", "sub\\..\\..\\evil.bat"]
)
def test_item21_export_zip_entry_names_are_checked(tmp_path: Path, name: str) -> None:
    """An AIP stored before these rules may hold such a name: no export ZIP may carry it out."""
    package = tmp_path / "uuid-1"
    (package / "representations" / "rep1" / "data").mkdir(parents=True)
    (package / "METS.xml").write_bytes(b"<mets/>")
    (package / "representations" / "rep1" / "data" / name).write_bytes(b"x")
    out = io.BytesIO()
    with pytest.raises(ExportError) as caught:
        write_zip(out, package, {}, False, datetime.now(UTC))
    assert caught.value.code == "export.unsafe_name"
    assert portable_path_problem(f"uuid-1/representations/rep1/data/{name}") is not None


def test_item21_export_zip_of_ordinary_names_has_only_portable_entries(tmp_path: Path) -> None:
    package = tmp_path / "uuid-1"
    (package / "data").mkdir(parents=True)
    for name in ("Tờ trình.pdf", "CONSOLE.txt", "v1.2.txt"):
        (package / "data" / name).write_bytes(b"x")
    out = io.BytesIO()
    assert write_zip(out, package, {}, False, datetime.now(UTC))[0] == 3
    names = zipfile.ZipFile(io.BytesIO(out.getvalue())).namelist()
    assert names and all(portable_path_problem(n) is None for n in names)
    assert not os.path.isabs(names[0])
