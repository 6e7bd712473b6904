"""BagIt submissions against the LoC conformance suite and bagit-python's test data."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import bagit
import pytest

from preservation.errors import ChecksumMismatchError, InvalidPackageError
from preservation.package import PackageKind
from preservation.quarantine import receive
from preservation.safepath import UnpackLimits
from preservation.submission import read_submission
from preservation.supplied import raise_on_mismatch, verify_supplied
from tests.conftest import CORPUS

SUITE = CORPUS / "bagit-conformance-suite"
BAGIT_PYTHON_DATA = CORPUS / "bagit-python-testdata" / "test-data"

VALID = sorted(p for p in SUITE.glob("v*/valid/*") if p.is_dir())

# Each invalid bag, the code we refuse it with, and the file that code names.
INVALID = {
    "v0.97/invalid/baginfo-missing-encoding": ("bag.invalid_declaration", "bagit.txt"),
    "v0.97/invalid/bom-in-bagit.txt": ("bag.invalid_declaration", "bagit.txt"),
    "v0.97/invalid/corrupt-data-file": ("bag.checksum_mismatch", "data/bare-filename"),
    "v0.97/invalid/corrupt-tag-file": ("bag.checksum_mismatch", "bag-info.txt"),
    "v0.97/invalid/extra-file-in-bag": ("bag.unexpected_file", "data/bar"),
    "v0.97/invalid/invalid-version-number": ("bag.invalid_declaration", "bagit.txt"),
    "v0.97/invalid/missing-baginfo": ("bag.missing_file", "bag-info.txt"),
    "v0.97/invalid/missing-bagit.txt": ("bag.missing_declaration", "bagit.txt"),
    "v0.97/invalid/out-of-scope-file-paths-using-dot-notation": ("bag.unsafe_path", "manifest-md5.txt"),
    "v0.97/invalid/out-of-scope-file-paths-using-dot-notation-for-fetch": ("bag.unsafe_path", "fetch.txt"),
    "v0.97/invalid/same-filename-listed-twice-with-different-hashes": (
        "bag.duplicate_manifest_entry",
        "data/README",
    ),
    "v0.97/linux-only/out-of-scope-file-paths-using-absolute-path": ("bag.unsafe_path", "manifest-md5.txt"),
    "v0.97/linux-only/out-of-scope-file-paths-using-absolute-path-for-fetch": (
        "bag.unsafe_path",
        "fetch.txt",
    ),
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut": ("bag.unsafe_path", "manifest-md5.txt"),
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-for-fetch": ("bag.unsafe_path", "fetch.txt"),
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username": (
        "bag.unsafe_path",
        "manifest-md5.txt",
    ),
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username-for-fetch": (
        "bag.unsafe_path",
        "fetch.txt",
    ),
    # bagit-python accepts this one; RFC 8493 §2.1.1 does not ("BagIt-Version : 1.0").
    "v1.0/invalid/bagit-with-invalid-whitespace": ("bag.invalid_declaration", "bagit.txt"),
    "v1.0/invalid/notAllManifestsListAllFiles": ("bag.unexpected_file", "data/missingFromManifest.txt"),
    # Its bagit.txt also has a trailing space after "1.0": the first defect found is named.
    "v1.0/invalid/same-filename-listed-twice-with-different-hashes": ("bag.invalid_declaration", "bagit.txt"),
    "v1.0/invalid/same-filename-listed-twice-with-the-same-hash": (
        "bag.duplicate_manifest_entry",
        "data/README",
    ),
}


def read(path: Path, tmp: Path):  # type: ignore[no-untyped-def]
    return read_submission(receive(path, tmp / "q", UnpackLimits()))


def test_every_invalid_bag_of_the_suite_is_listed() -> None:
    on_disk = {
        p.relative_to(SUITE).as_posix()
        for p in [*SUITE.glob("v*/invalid/*"), *SUITE.glob("v*/linux-only/*")]
        if p.is_dir()
    }
    assert on_disk == set(INVALID)


@pytest.mark.parametrize("bag", VALID, ids=lambda p: p.relative_to(SUITE).as_posix())
def test_valid_conformance_bags_are_read(bag: Path, tmp_path: Path) -> None:
    s = read(bag, tmp_path)
    assert s.kind is PackageKind.BAGIT
    assert s.payload
    assert all(f.path.is_file() for f in s.payload)
    checks = verify_supplied(s)
    assert checks and all(c.ok for c in checks)
    assert {m.name.text for m in s.metadata} >= {"bagit.txt"}


@pytest.mark.parametrize(("bag", "expected"), sorted(INVALID.items()), ids=sorted(INVALID))
def test_invalid_conformance_bags_are_refused_naming_the_file(
    bag: str, expected: tuple[str, str], tmp_path: Path
) -> None:
    code, path = expected
    with pytest.raises(InvalidPackageError) as exc:
        read(SUITE / bag, tmp_path)
    assert exc.value.code == code
    assert exc.value.path == path
    assert path in str(exc.value)


@pytest.fixture
def made_bag(tmp_path: Path) -> Path:
    """bagit-python's own test images, bagged with all four algorithms (as bagit-python's tests do)."""
    bag_dir = tmp_path / "bag"
    shutil.copytree(BAGIT_PYTHON_DATA, bag_dir)
    bagit.make_bag(
        str(bag_dir),
        {"Source-Organization": "UBND tỉnh An Giang"},
        checksums=["md5", "sha1", "sha256", "sha512"],
    )
    return bag_dir


def test_bagit_python_testdata_bag_reads_with_all_algorithms(made_bag: Path, tmp_path: Path) -> None:
    s = read(made_bag, tmp_path)
    assert {c.algorithm for c in s.supplied} == {"md5", "sha1", "sha256", "sha512"}
    assert len(s.payload) == len(list(BAGIT_PYTHON_DATA.rglob("*.*"))) + 1  # images + README
    assert dict(s.info)["Source-Organization"] == "UBND tỉnh An Giang"
    assert all(c.ok for c in verify_supplied(s))


def test_flipped_bit_is_named(made_bag: Path, tmp_path: Path) -> None:
    victim = made_bag / "data" / "loc" / "2478433644_2839c5e8b8_o_d.jpg"
    data = bytearray(victim.read_bytes())
    data[1000] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(InvalidPackageError) as exc:
        read(made_bag, tmp_path)
    assert exc.value.code == "bag.checksum_mismatch"
    assert exc.value.path == "data/loc/2478433644_2839c5e8b8_o_d.jpg"
    problems = exc.value.params["problems"]
    assert {p["algorithm"] for p in problems} == {"md5", "sha1", "sha256", "sha512"}
    assert all(p["path"] == exc.value.path for p in problems)


def test_missing_payload_file_is_named(made_bag: Path, tmp_path: Path) -> None:
    (made_bag / "data" / "si" / "4011399822_65987a4806_b_d.jpg").unlink()
    with pytest.raises(InvalidPackageError) as exc:
        read(made_bag, tmp_path)
    assert exc.value.code == "bag.missing_file"
    assert exc.value.path == "data/si/4011399822_65987a4806_b_d.jpg"


def test_stray_payload_file_is_named(made_bag: Path, tmp_path: Path) -> None:
    (made_bag / "data" / "stray.txt").write_text("not in any manifest")
    with pytest.raises(InvalidPackageError) as exc:
        read(made_bag, tmp_path)
    assert exc.value.code == "bag.unexpected_file"
    assert exc.value.path == "data/stray.txt"


def test_corrupt_bag_info_is_named(made_bag: Path, tmp_path: Path) -> None:
    info = made_bag / "bag-info.txt"
    info.write_text(info.read_text() + "Contact-Name: someone who edited after bagging\n")
    with pytest.raises(ChecksumMismatchError) as exc:
        read(made_bag, tmp_path)
    assert exc.value.path == "bag-info.txt"


def test_nfd_payload_listed_nfc_in_manifest(tmp_path: Path) -> None:
    """A macOS submitter's NFD file name, listed NFC by a Windows bagging tool."""
    bag_dir = tmp_path / "bag"
    bag_dir.mkdir()
    nfc_name = unicodedata.normalize("NFC", "Quyết định số 12.pdf")
    (bag_dir / nfc_name).write_bytes(b"%PDF-1.4 quyet dinh")
    bagit.make_bag(str(bag_dir), checksums=["sha256"])
    (bag_dir / "data" / nfc_name).rename(bag_dir / "data" / unicodedata.normalize("NFD", nfc_name))
    s = read(bag_dir, tmp_path)
    (f,) = s.payload
    assert f.name.raw == unicodedata.normalize("NFD", nfc_name).encode()
    checks = verify_supplied(s)
    assert any(c.checksum.file_uuid == f.uuid and c.ok for c in checks)
    raise_on_mismatch(checks)


def test_zipped_bag(made_bag: Path, tmp_path: Path) -> None:
    archive = shutil.make_archive(str(tmp_path / "bag"), "zip", root_dir=made_bag.parent, base_dir="bag")
    s = read(Path(archive), tmp_path)
    assert s.kind is PackageKind.BAGIT
    assert s.tree.source_name == "bag.zip"


def test_incomplete_holey_bag_is_refused(tmp_path: Path) -> None:
    bag_dir = tmp_path / "holey"
    shutil.copytree(SUITE / "v0.97" / "valid" / "holey-bag", bag_dir)
    (bag_dir / "data" / "test2.txt").unlink()
    with pytest.raises(InvalidPackageError) as exc:
        read(bag_dir, tmp_path)
    assert exc.value.code == "bag.fetch_not_supported"
    assert exc.value.path == "data/test2.txt"
