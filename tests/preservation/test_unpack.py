"""Hostile and odd submissions: each refused with a clear code, nothing written outside quarantine."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import unicodedata
import zipfile
from pathlib import Path

import pytest

from preservation.errors import InvalidPackageError, UnsafePackageError
from preservation.package import Container
from preservation.quarantine import copy_tree, receive
from preservation.safepath import UnpackLimits
from preservation.unpack import detect_container, unpack_archive

LIMITS = UnpackLimits()


def make_zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def zip_link(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tf:  # type: ignore[call-overload]
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                tf.addfile(info)
    return path


def tar_member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mtime = 1_700_000_000
    return info


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A sentinel next to the quarantine folder: no hostile case may touch it."""
    sentinel = tmp_path / "outside.txt"
    sentinel.write_text("untouched")
    return sentinel


def assert_untouched(outside: Path) -> None:
    assert outside.read_text() == "untouched"
    assert sorted(
        p.name
        for p in outside.parent.iterdir()
        if p.name not in {"q", "src"} and p.suffix not in {".zip", ".tar", ".gz", ".tgz"}
    ) == ["outside.txt"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("../outside.txt", "unpack.path_traversal"),
        ("a/../../outside.txt", "unpack.path_traversal"),
        ("/etc/kholuu-evil", "unpack.absolute_path"),
        ("C:/evil.txt", "unpack.absolute_path"),
        ("a/bad\nname.txt", "unpack.control_character"),
    ],
)
def test_zip_bad_names_refused(tmp_path: Path, outside: Path, name: str, code: str) -> None:
    archive = make_zip(tmp_path / "evil.zip", [("ok.txt", b"fine"), (name, b"evil")])
    with pytest.raises(UnsafePackageError) as exc:
        unpack_archive(archive, tmp_path / "q", LIMITS)
    assert exc.value.code == code
    assert exc.value.path is not None
    assert_untouched(outside)


@pytest.mark.parametrize(
    ("member", "code"),
    [
        (tar_member("../outside.txt"), "unpack.path_traversal"),
        (tar_member("/tmp/kholuu-evil"), "unpack.absolute_path"),
        (tar_member("link", tarfile.SYMTYPE, "/etc/passwd"), "unpack.link_escapes"),
        (tar_member("d/link", tarfile.SYMTYPE, "../../outside.txt"), "unpack.link_escapes"),
        (tar_member("hard", tarfile.LNKTYPE, "../outside.txt"), "unpack.link_escapes"),
        (tar_member("dev", tarfile.CHRTYPE), "unpack.special_file"),
        (tar_member("blk", tarfile.BLKTYPE), "unpack.special_file"),
        (tar_member("fifo", tarfile.FIFOTYPE), "unpack.special_file"),
    ],
)
def test_tar_hostile_members_refused(
    tmp_path: Path, outside: Path, member: tarfile.TarInfo, code: str
) -> None:
    data = b"evil" if member.type == tarfile.REGTYPE else None
    archive = make_tar(tmp_path / "evil.tar", [(tar_member("ok.txt"), b"fine"), (member, data)])
    with pytest.raises(UnsafePackageError) as exc:
        receive(archive, tmp_path / "q", LIMITS)
    assert exc.value.code == code
    assert_untouched(outside)


def test_zip_symlink_escaping_refused(tmp_path: Path, outside: Path) -> None:
    archive = make_zip(tmp_path / "l.zip", [("a.txt", b"x"), zip_link("evil", "../../outside.txt")])
    with pytest.raises(UnsafePackageError) as exc:
        unpack_archive(archive, tmp_path / "q", LIMITS)
    assert exc.value.code == "unpack.link_escapes"
    assert_untouched(outside)


def test_link_inside_is_materialised_as_copy(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "l.zip", [("docs/a.txt", b"content A"), zip_link("docs/alias.txt", "a.txt")]
    )
    tree = unpack_archive(archive, tmp_path / "q", LIMITS)
    names = {f.name.text: f for f in tree.files}
    assert set(names) == {"a.txt", "alias.txt"}  # unwrapped from docs/
    assert names["alias.txt"].path.read_bytes() == b"content A"
    assert not names["alias.txt"].path.is_symlink()
    assert [f.code for f in tree.findings] == ["unpack.link_materialised"]


def test_link_to_directory_refused(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "d.tar",
        [
            (tar_member("d", tarfile.DIRTYPE), None),
            (tar_member("d/x.txt"), b"x"),
            (tar_member("l", tarfile.SYMTYPE, "d"), None),
        ],
    )
    with pytest.raises(UnsafePackageError) as exc:
        unpack_archive(archive, tmp_path / "q", LIMITS)
    assert exc.value.code == "unpack.link_to_directory"


def test_zip_bomb_ratio_and_total(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("zeros.bin", b"\0" * (20 << 20))
    assert archive.stat().st_size < 100_000
    with pytest.raises(UnsafePackageError) as exc:
        unpack_archive(archive, tmp_path / "q1", UnpackLimits(max_ratio=100, ratio_floor_bytes=1 << 20))
    assert exc.value.code == "unpack.bomb"
    assert exc.value.params["limit"] == "max_ratio"
    with pytest.raises(UnsafePackageError) as exc:
        unpack_archive(archive, tmp_path / "q2", UnpackLimits(max_total_bytes=5 << 20))
    assert exc.value.params["limit"] == "max_total_bytes"


def test_tar_bomb_counted_while_streaming(tmp_path: Path) -> None:
    """tar.gz declares sizes per member only as it streams; the total is counted as bytes arrive."""
    members = [(tar_member(f"f{i}.bin"), b"\0" * (1 << 20)) for i in range(8)]
    archive = make_tar(tmp_path / "bomb.tar.gz", members, mode="w:gz")
    with pytest.raises(UnsafePackageError) as exc:
        receive(archive, tmp_path / "q", UnpackLimits(max_ratio=50, ratio_floor_bytes=2 << 20))
    assert exc.value.params["limit"] == "max_ratio"


def test_lying_zip_header_does_not_bypass_limits(tmp_path: Path) -> None:
    """A zip whose headers claim 10 bytes for a 5 MB member: the limits still hold (zipfile stops at
    the declared size and the CRC check then fails: refused as damaged, nothing big written)."""
    archive = tmp_path / "liar.zip"
    payload = b"A" * (5 << 20)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.txt", payload)
    data = bytearray(archive.read_bytes())
    real = len(payload).to_bytes(4, "little")
    fake = (10).to_bytes(4, "little")
    data = bytearray(bytes(data).replace(real, fake))
    archive.write_bytes(bytes(data))
    with pytest.raises((UnsafePackageError, InvalidPackageError)) as exc:
        unpack_archive(archive, tmp_path / "q", UnpackLimits(max_file_bytes=1 << 20, max_total_bytes=2 << 20))
    assert exc.value.code in {"unpack.corrupt_archive", "unpack.bomb"}
    written = sum(p.stat().st_size for p in (tmp_path / "q").rglob("*") if p.is_file())
    assert written <= 2 << 20


def test_too_many_files(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "many.zip", [(f"f{i}.txt", b"x") for i in range(20)])
    with pytest.raises(UnsafePackageError) as exc:
        unpack_archive(archive, tmp_path / "q", UnpackLimits(max_files=10))
    assert exc.value.params["limit"] == "max_files"


def test_duplicate_entry_refused(tmp_path: Path) -> None:
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("a.txt", b"1")
        zf.writestr("a.txt", b"2")
    with pytest.raises(UnsafePackageError) as exc:
        unpack_archive(archive, tmp_path / "q", LIMITS)
    assert exc.value.code == "unpack.duplicate_entry"


def test_nfc_nfd_collision_refused(tmp_path: Path) -> None:
    name = "Quyết định số 12.pdf"
    archive = make_zip(
        tmp_path / "n.zip",
        [(unicodedata.normalize("NFC", name), b"1"), (unicodedata.normalize("NFD", name), b"2")],
    )
    with pytest.raises(UnsafePackageError) as exc:
        unpack_archive(archive, tmp_path / "q", LIMITS)
    assert exc.value.code == "unpack.normalization_collision"


def test_nfd_name_kept_byte_for_byte(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Quyết định số 12.pdf")
    archive = make_zip(tmp_path / "n.zip", [(nfd, b"%PDF-1.4 test")])
    tree = unpack_archive(archive, tmp_path / "q", LIMITS)
    (f,) = tree.files
    assert f.name.raw == nfd.encode("utf-8")
    assert f.name.normalized == unicodedata.normalize("NFC", nfd)
    assert os.fsencode(f.path.name) == nfd.encode("utf-8")  # NFD on disk too


def test_cp1258_name_without_utf8_flag(tmp_path: Path) -> None:
    """An old Windows zip: name bytes in Windows-1258, no UTF-8 flag. The exact bytes are kept;
    on disk the name is percent-escaped UTF-8."""
    raw = "Báo cáo.txt".encode("cp1258")
    placeholder = "BXo cXo.txt"  # Python would set the UTF-8 flag for a non-ASCII name: patch bytes in
    assert len(placeholder.encode()) == len(raw)
    archive = make_zip(tmp_path / "w.zip", [(placeholder, b"legacy")])
    archive.write_bytes(archive.read_bytes().replace(placeholder.encode(), raw))
    tree = unpack_archive(archive, tmp_path / "q", LIMITS)
    (f,) = tree.files
    assert f.name.raw == raw
    assert not f.name.is_utf8
    assert "%" in f.path.name
    assert f.path.read_bytes() == b"legacy"


def test_encrypted_zip_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "e.zip", [("a.txt", b"secret")])
    data = bytearray(archive.read_bytes())
    # set the encryption flag bit in the local and the central header
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        i = data.find(sig)
        flag_at = i + (6 if sig == b"PK\x03\x04" else 8)
        data[flag_at] |= 0x01
    archive.write_bytes(bytes(data))
    with pytest.raises(UnsafePackageError) as exc:
        unpack_archive(archive, tmp_path / "q", LIMITS)
    assert exc.value.code == "unpack.encrypted"


def test_corrupt_zip(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "c.zip", [("a.txt", b"hello world " * 1000)])
    data = bytearray(archive.read_bytes())
    data[60] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises((InvalidPackageError, UnsafePackageError)) as exc:
        unpack_archive(archive, tmp_path / "q", LIMITS)
    assert exc.value.code == "unpack.corrupt_archive"


def test_single_top_folder_unwrapped_and_digests(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "bag.tar.gz",
        [
            (tar_member("mybag/bagit.txt"), b"BagIt-Version: 1.0\n"),
            (tar_member("mybag/data/x.txt"), b"payload"),
        ],
        mode="w:gz",
    )
    assert detect_container(archive) is Container.TAR_GZ
    tree = receive(archive, tmp_path / "q", LIMITS)
    assert [f.name.text for f in tree.files] == ["bagit.txt", "data/x.txt"]
    assert tree.root.name == "mybag"
    x = tree.files[1]
    assert x.digests.sha256 == hashlib.sha256(b"payload").hexdigest()
    assert x.digests.sha512 == hashlib.sha512(b"payload").hexdigest()
    assert (tmp_path / "q" / "archive" / "bag.tar.gz").is_file()


def test_unknown_container(tmp_path: Path) -> None:
    f = tmp_path / "x.zip"
    f.write_bytes(b"not really a zip")
    with pytest.raises(InvalidPackageError) as exc:
        receive(f, tmp_path / "q", LIMITS)
    assert exc.value.code == "package.unknown_container"


# ------------------------------------------------------------------ folders


def test_folder_copy_keeps_names_and_hashes(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    nfd = unicodedata.normalize("NFD", "Tờ trình.docx")
    (src / nfd).write_bytes(b"docx")
    (src / "sub" / "a b%.txt").write_bytes(b"text")
    (src / "empty").mkdir()
    tree = copy_tree(src, tmp_path / "q" / "content", LIMITS)
    assert [f.name.raw for f in tree.files] == sorted([nfd.encode(), b"sub/a b%.txt"])
    assert all(f.path.is_file() for f in tree.files)
    assert any(f.code == "unpack.empty_directory" for f in tree.findings)
    mode = stat.S_IMODE((tmp_path / "q" / "content" / "sub" / "a b%.txt").stat().st_mode)
    assert mode == 0o640


def test_folder_symlink_escaping_refused(tmp_path: Path, outside: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    (src / "evil").symlink_to(outside)
    with pytest.raises(UnsafePackageError) as exc:
        receive(src, tmp_path / "q", LIMITS)
    assert exc.value.code == "unpack.link_escapes"
    assert_untouched(outside)


def test_folder_fifo_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe")
    with pytest.raises(UnsafePackageError) as exc:
        receive(src, tmp_path / "q", LIMITS)
    assert exc.value.code == "unpack.special_file"


def test_progress_called_per_file(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "p.zip", [(f"d/f{i}.txt", b"x") for i in range(5)])
    seen: list[str] = []
    unpack_archive(archive, tmp_path / "q", LIMITS, progress=seen.append)
    assert len(seen) == 5
