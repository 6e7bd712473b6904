"""Hostile containers at the level that refuses them: :func:`preservation.quarantine.receive`.

Archive bombs (ZIP, TAR, tar.gz; ratio, count, size; declared and lying headers), links, devices
and FIFOs, hostile names, damaged containers, a file that changes while it is received. Each case
also checks that nothing was written outside the quarantine folder, that the archive's quarantine
copy is byte for byte the submission, and that the quarantine holds no link or special file.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import tarfile
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from preservation.errors import KholuuError
from preservation.quarantine import receive
from preservation.safepath import UnpackLimits
from preservation.submission import read_submission
from tests.hostile.builders import (
    MIB,
    UNIX_BLK,
    UNIX_CHR,
    UNIX_FIFO,
    UNIX_LINK,
    UNIX_SOCK,
    Raw,
    cp1258,
    deflated,
    member,
    plain_zip,
    raw_zip,
    tar,
    tar_gz_bomb,
    zero_deflate,
    zip_bomb,
    zip_bytes,
)
from tests.hostile.corpus import Case, Outcome

SMALL = UnpackLimits(
    max_files=40,
    max_total_bytes=16 * MIB,
    max_file_bytes=8 * MIB,
    max_ratio=50.0,
    ratio_floor_bytes=1 * MIB,
    max_depth=16,
    max_path_bytes=512,
)
NO_RATIO = replace(SMALL, max_ratio=1e12)
TINY = replace(NO_RATIO, max_total_bytes=10_000, max_file_bytes=6_000)

Build = Callable[[Path], Path]
CASES: list[Case] = []
LIMITS: dict[str, UnpackLimits] = {}
DETAIL: dict[str, str] = {}  # case id -> the bomb limit named in the error's params


def case(
    id: str,
    kind: str,
    build: Build,
    code: str = "",
    outcome: Outcome = Outcome.REFUSED,
    *,
    limits: UnpackLimits = SMALL,
    detail: str = "",
) -> None:
    CASES.append(Case(id, kind, build, code, outcome))
    LIMITS[id] = limits
    if detail:
        DETAIL[id] = detail


def zraw(*members: Raw) -> Build:
    return lambda d: raw_zip(d / "sip.zip", list(members))


def ztext(*names: bytes) -> Build:
    return zraw(*(deflated(n, b"noi dung " + n) for n in names))


def tmembers(*members: tuple[tarfile.TarInfo, bytes | None], mode: str = "w") -> Build:
    suffix = ".tar.gz" if mode == "w:gz" else ".tar"
    return lambda d: tar(d / f"sip{suffix}", list(members), mode)


def tnames(*names: bytes) -> Build:
    return tmembers(*(member(n, data=b"noi dung") for n in names))


def folder(make: Callable[[Path], None]) -> Build:
    def build(d: Path) -> Path:
        root = d / "sip"
        root.mkdir(parents=True)
        make(root)
        return root

    return build


# --------------------------------------------------------------------------------- archive bombs

BOMB = "archive bomb"
case(
    "zip-ratio-declared",
    f"{BOMB}: ZIP",
    lambda d: zip_bomb(d / "b.zip", 4),
    "unpack.bomb",
    detail="max_ratio",
)
# A header that understates the size: zipfile stops the member at its declared size, so the
# lie yields no extra byte and the CRC check refuses the member.
case(
    "zip-ratio-lying-header",
    f"{BOMB}: ZIP",
    lambda d: zip_bomb(d / "b.zip", 4, declared=1000),
    "unpack.corrupt_archive",
)
case(
    "zip-total-declared",
    f"{BOMB}: ZIP",
    lambda d: zip_bomb(d / "b.zip", 20),
    "unpack.bomb",
    limits=NO_RATIO,
    detail="max_total_bytes",
)
case(
    "zip-file-size-lying-header",
    f"{BOMB}: ZIP",
    lambda d: zip_bomb(d / "b.zip", 9, declared=10),
    "unpack.corrupt_archive",
    limits=NO_RATIO,
)
case(
    "zip-total-lying-headers",
    f"{BOMB}: ZIP",
    zraw(*(Raw(f"part-{i}.bin".encode(), zero_deflate(6), 10) for i in range(3))),
    "unpack.corrupt_archive",
    limits=NO_RATIO,
)
case(
    "zip-file-size-declared",
    f"{BOMB}: ZIP",
    lambda d: zip_bomb(d / "b.zip", 9),
    "unpack.bomb",
    limits=NO_RATIO,
    detail="max_file_bytes",
)
case(
    "zip-count",
    f"{BOMB}: ZIP",
    lambda d: plain_zip(d / "b.zip", {f"f{i:03}.txt": b"" for i in range(41)}),
    "unpack.bomb",
    detail="max_files",
)
case(
    "zip-count-of-folders",
    f"{BOMB}: ZIP",
    lambda d: plain_zip(d / "b.zip", {f"d{i:03}/": b"" for i in range(41)}),
    "unpack.bomb",
    detail="max_files",
)
case(
    "zip-ratio-default-limits",
    f"{BOMB}: ZIP",
    lambda d: zip_bomb(d / "b.zip", 80),
    "unpack.bomb",
    limits=UnpackLimits(),
    detail="max_ratio",
)
case(
    "zip-overlapping-members",
    f"{BOMB}: ZIP",
    lambda d: _overlapping_zip(d / "b.zip"),
    "unpack.bomb",
    detail="max_ratio",
)
case(
    "zip-nested-zip-bomb-kept-closed",
    f"{BOMB}: nested",
    lambda d: plain_zip(d / "b.zip", {"inner.zip": zip_bomb(d / "inner.zip", 64).read_bytes()}),
    "",
    Outcome.ACCEPTED,
)
case(
    "zip-nested-10-deep",
    f"{BOMB}: nested",
    lambda d: plain_zip(d / "b.zip", {"l1.zip": _nested(10)}),
    "",
    Outcome.ACCEPTED,
)
case(
    "zip-nested-inner-count",
    f"{BOMB}: nested",
    lambda d: plain_zip(d / "b.zip", {"inner.zip": zip_bytes({f"{i}": b"" for i in range(500)})}),
    "",
    Outcome.ACCEPTED,
)
case("tgz-ratio", f"{BOMB}: TAR", lambda d: tar_gz_bomb(d / "b.tar.gz", 4), "unpack.bomb", detail="max_ratio")
case(
    "tgz-file-size-declared",
    f"{BOMB}: TAR",
    lambda d: tar_gz_bomb(d / "b.tar.gz", 9),
    "unpack.bomb",
    limits=NO_RATIO,
    detail="max_file_bytes",
)
case(
    "tar-count",
    f"{BOMB}: TAR",
    tmembers(*(member(f"f{i:03}.txt") for i in range(41))),
    "unpack.bomb",
    detail="max_files",
)
case(
    "tar-total",
    f"{BOMB}: TAR",
    tmembers(*(member(f"f{i}.bin", data=b"x" * 4000) for i in range(3))),
    "unpack.bomb",
    limits=TINY,
    detail="max_total_bytes",
)
case(
    "tar-count-gz",
    f"{BOMB}: TAR",
    tmembers(*(member(f"f{i:03}.txt") for i in range(41)), mode="w:gz"),
    "unpack.bomb",
    detail="max_files",
)
case(
    "folder-count",
    f"{BOMB}: folder",
    folder(lambda r: _many(r, 41)),
    "unpack.bomb",
    detail="max_files",
)
case(
    "folder-file-size",
    f"{BOMB}: folder",
    folder(lambda r: _many(r, 1, b"x" * 7000)),
    "unpack.bomb",
    limits=TINY,
    detail="max_file_bytes",
)


def _many(root: Path, count: int, data: bytes = b"") -> None:
    for i in range(count):
        (root / f"f{i:03}.txt").write_bytes(data)


def _nested(levels: int) -> bytes:
    data = b"noi dung"
    for i in range(levels):
        data = zip_bytes({f"l{levels - i}.zip" if i else "a.txt": data})
    return data


def _overlapping_zip(path: Path) -> Path:
    """David Fifield's "better zip bomb": several central-directory entries share one local file."""
    body = zero_deflate(2)
    raw_zip(path, [Raw(b"a.bin", body, 2 * MIB)])
    data = bytearray(path.read_bytes())
    cd_at = data.index(b"PK\x01\x02")
    eocd_at = data.index(b"PK\x05\x06")
    entry = bytes(data[cd_at:eocd_at])
    entries = [entry] + [entry.replace(b"a.bin", f"{c}.bin".encode()) for c in "bcdefgh"]
    cd = b"".join(entries)
    eocd = bytearray(data[eocd_at:])
    eocd[8:10] = eocd[10:12] = len(entries).to_bytes(2, "little")
    eocd[12:16] = len(cd).to_bytes(4, "little")
    path.write_bytes(bytes(data[:cd_at]) + cd + bytes(eocd))
    return path


# ------------------------------------------------------------------------------------------ links

LINKS = "links"


def zlink(name: str, target: str) -> Raw:
    return deflated(name.encode(), target.encode(), mode=UNIX_LINK)


case(
    "zip-symlink-inside",
    f"{LINKS}: ZIP",
    zraw(deflated(b"a.txt", b"A"), zlink("b.txt", "a.txt")),
    "unpack.link_materialised",
    Outcome.WARNED,
)
case("zip-symlink-absolute", f"{LINKS}: ZIP", zraw(zlink("passwd", "/etc/passwd")), "unpack.link_escapes")
case("zip-symlink-climbs", f"{LINKS}: ZIP", zraw(zlink("d/x", "../../../etc/passwd")), "unpack.link_escapes")
case("zip-symlink-drive", f"{LINKS}: ZIP", zraw(zlink("x", "C:/Windows/win.ini")), "unpack.link_escapes")
case(
    "zip-symlink-to-folder",
    f"{LINKS}: ZIP",
    zraw(deflated(b"d/a.txt", b"A"), zlink("loop", "d")),
    "unpack.link_to_directory",
)
case(
    "zip-symlink-to-root",
    f"{LINKS}: ZIP",
    zraw(deflated(b"a.txt", b"A"), zlink("root", ".")),
    "unpack.link_to_directory",
)
case(
    "zip-symlink-dangling",
    f"{LINKS}: ZIP",
    zraw(deflated(b"a.txt", b"A"), zlink("b", "missing.txt")),
    "unpack.link_dangling",
    Outcome.WARNED,
)
case(
    "zip-symlink-loop",
    f"{LINKS}: ZIP",
    zraw(deflated(b"a.txt", b"A"), zlink("x", "y"), zlink("y", "x")),
    "unpack.link_dangling",
    Outcome.WARNED,
)
case(
    "zip-symlink-then-write-through",
    f"{LINKS}: ZIP",
    zraw(zlink("d", "/tmp"), deflated(b"d/evil.txt", b"E")),
    "unpack.link_escapes",
)
case(
    "tar-symlink-inside",
    f"{LINKS}: TAR",
    tmembers(member("a.txt", data=b"A"), member("b.txt", tarfile.SYMTYPE, linkname="a.txt")),
    "unpack.link_materialised",
    Outcome.WARNED,
)
case(
    "tar-symlink-absolute",
    f"{LINKS}: TAR",
    tmembers(member("p", tarfile.SYMTYPE, linkname="/etc/passwd")),
    "unpack.link_escapes",
)
case(
    "tar-symlink-climbs",
    f"{LINKS}: TAR",
    tmembers(member("d/p", tarfile.SYMTYPE, linkname="../../p")),
    "unpack.link_escapes",
)
case(
    "tar-symlink-then-write-through",
    f"{LINKS}: TAR",
    tmembers(member("d", tarfile.SYMTYPE, linkname="/tmp"), member("d/evil.txt", data=b"E")),
    "unpack.link_escapes",
)
case(
    "tar-symlink-inside-then-write-through",
    f"{LINKS}: TAR",
    tmembers(
        member("real/a.txt", data=b"A"),
        member("d", tarfile.SYMTYPE, linkname="real"),
        member("d/b.txt", data=b"B"),
    ),
    "unpack.duplicate_entry",
)
case(
    "tar-symlink-to-folder",
    f"{LINKS}: TAR",
    tmembers(member("d/a.txt", data=b"A"), member("l", tarfile.SYMTYPE, linkname="d")),
    "unpack.link_to_directory",
)
case(
    "tar-hardlink-inside",
    f"{LINKS}: TAR",
    tmembers(member("a.txt", data=b"A"), member("b.txt", tarfile.LNKTYPE, linkname="a.txt")),
    "unpack.link_materialised",
    Outcome.WARNED,
)
case(
    "tar-hardlink-absolute",
    f"{LINKS}: TAR",
    tmembers(member("h", tarfile.LNKTYPE, linkname="/etc/shadow")),
    "unpack.link_escapes",
)
case(
    "tar-hardlink-climbs",
    f"{LINKS}: TAR",
    tmembers(member("h", tarfile.LNKTYPE, linkname="../outside.txt")),
    "unpack.link_escapes",
)
case(
    "tar-hardlink-before-target",
    f"{LINKS}: TAR",
    tmembers(member("b.txt", tarfile.LNKTYPE, linkname="a.txt"), member("a.txt", data=b"A")),
    "unpack.link_materialised",
    Outcome.WARNED,
)
case(
    "tar-hardlink-dangling",
    f"{LINKS}: TAR",
    tmembers(member("a.txt", data=b"A"), member("h", tarfile.LNKTYPE, linkname="nope")),
    "unpack.link_dangling",
    Outcome.WARNED,
)


def _outside_link(r: Path) -> None:
    (r / "a.txt").write_bytes(b"A")
    os.symlink("/etc/passwd", r / "passwd")


def _climbing_link(r: Path) -> None:
    (r / "d").mkdir()
    os.symlink("../../outside.txt", r / "d" / "x")


def _inside_link(r: Path) -> None:
    (r / "a.txt").write_bytes(b"A")
    os.symlink("a.txt", r / "b.txt")


def _dir_link(r: Path) -> None:
    (r / "d").mkdir()
    (r / "d" / "a.txt").write_bytes(b"A")
    os.symlink("d", r / "l")


def _dangling_link(r: Path) -> None:
    (r / "a.txt").write_bytes(b"A")
    os.symlink("gone.txt", r / "l")


def _self_link(r: Path) -> None:
    (r / "a.txt").write_bytes(b"A")
    os.symlink("l", r / "l")


def _hard_link(r: Path) -> None:
    (r / "a.txt").write_bytes(b"A")
    os.link(r / "a.txt", r / "b.txt")


def _submission_is_link(d: Path) -> Path:
    real = d / "real"
    real.mkdir(parents=True)
    (real / "a.txt").write_bytes(b"A")
    os.symlink(real, d / "sip")
    return d / "sip"


case("folder-symlink-absolute", f"{LINKS}: folder", folder(_outside_link), "unpack.link_escapes")
case("folder-symlink-climbs", f"{LINKS}: folder", folder(_climbing_link), "unpack.link_escapes")
case(
    "folder-symlink-inside",
    f"{LINKS}: folder",
    folder(_inside_link),
    "unpack.link_materialised",
    Outcome.WARNED,
)
case("folder-symlink-to-folder", f"{LINKS}: folder", folder(_dir_link), "unpack.link_to_directory")
case(
    "folder-symlink-dangling",
    f"{LINKS}: folder",
    folder(_dangling_link),
    "unpack.link_dangling",
    Outcome.WARNED,
)
case(
    "folder-symlink-to-itself", f"{LINKS}: folder", folder(_self_link), "unpack.link_dangling", Outcome.WARNED
)
case("folder-hardlink", f"{LINKS}: folder", folder(_hard_link), "", Outcome.ACCEPTED)
case("folder-submission-is-a-link", f"{LINKS}: folder", _submission_is_link, "unpack.link_escapes")

# ------------------------------------------------------------------------------ devices and FIFOs

DEV = "devices and FIFOs"
for _mode, _label in (
    (UNIX_FIFO, "fifo"),
    (UNIX_CHR, "char-device"),
    (UNIX_BLK, "block-device"),
    (UNIX_SOCK, "socket"),
):
    case(
        f"zip-{_label}",
        DEV,
        zraw(deflated(b"a.txt", b"A"), Raw(b"dev", b"", 0, method=0, mode=_mode)),
        "unpack.special_file",
    )
for _kind, _label in (
    (tarfile.FIFOTYPE, "fifo"),
    (tarfile.CHRTYPE, "char-device"),
    (tarfile.BLKTYPE, "block-device"),
):
    case(
        f"tar-{_label}",
        DEV,
        tmembers(member("a.txt", data=b"A"), member("dev/x", _kind)),
        "unpack.special_file",
    )


def _fifo(r: Path) -> None:
    (r / "a.txt").write_bytes(b"A")
    os.mkfifo(r / "pipe")


def _socket(r: Path) -> None:
    (r / "a.txt").write_bytes(b"A")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(r / "sock"))


case("folder-fifo", DEV, folder(_fifo), "unpack.special_file")
case("folder-socket", DEV, folder(_socket), "unpack.special_file")

# --------------------------------------------------------------------------------- hostile names

NAMES = "hostile names"
NFC_NAME = "Quyết định.txt"
NFD_NAME = unicodedata.normalize("NFD", NFC_NAME)
_name_cases: list[tuple[str, str, list[bytes], str]] = [
    ("control-soh", "control characters", [b"a\x01b.txt"], "unpack.control_character"),
    ("control-newline", "control characters", [b"dong\nmoi.txt"], "unpack.control_character"),
    ("control-del", "control characters", [b"xoa\x7f.txt"], "unpack.control_character"),
    ("control-escape-sequence", "control characters", [b"\x1b[31mdo.txt"], "unpack.control_character"),
    ("control-tab", "control characters", [b"a\tb.txt"], "unpack.control_character"),
    ("control-carriage-return", "control characters", [b"a\rb.txt"], "unpack.control_character"),
    ("component-256-bytes", "length", [b"a" * 256], "unpack.component_too_long"),
    ("component-vietnamese-86-chars", "length", ["ế".encode() * 86], "unpack.component_too_long"),
    ("path-too-deep", "length", [b"/".join([b"d"] * 17) + b"/f.txt"], "unpack.too_deep"),
    ("path-too-long", "length", [b"/".join([b"x" * 200] * 3) + b"/f"], "unpack.name_too_long"),
    ("case-twins", "case and NFC twins", [b"Bao-cao.txt", b"BAO-CAO.txt"], "unpack.case_collision"),
    ("case-twins-folders", "case and NFC twins", [b"Ho-so/a.txt", b"HO-SO/b.txt"], "unpack.case_collision"),
    (
        "vietnamese-case-twins",
        "case and NFC twins",
        ["Điều 1.txt".encode(), "điều 1.txt".encode()],
        "unpack.case_collision",
    ),
    (
        "nfc-nfd-twins",
        "case and NFC twins",
        [NFC_NAME.encode(), NFD_NAME.encode()],
        "unpack.normalization_collision",
    ),
    ("percent-escape-twins", "case and NFC twins", [b"caf\xe9.txt", b"caf%E9.txt"], "unpack.name_collision"),
    ("duplicate-entry", "case and NFC twins", [b"a.txt", b"a.txt"], "unpack.duplicate_entry"),
    ("file-and-folder", "case and NFC twins", [b"a", b"a/b.txt"], "unpack.duplicate_entry"),
    ("windows-con", "Windows-reserved", [b"CON"], "unpack.windows_name"),
    ("windows-nul-ext", "Windows-reserved", [b"nul.txt"], "unpack.windows_name"),
    ("windows-com1", "Windows-reserved", [b"d/COM1.pdf"], "unpack.windows_name"),
    ("windows-lpt9", "Windows-reserved", [b"LPT9"], "unpack.windows_name"),
    ("windows-aux-folder", "Windows-reserved", [b"aux/a.txt"], "unpack.windows_name"),
    ("windows-trailing-dot", "Windows-reserved", [b"bao-cao."], "unpack.windows_name"),
    ("windows-trailing-space", "Windows-reserved", [b"bao-cao.txt "], "unpack.windows_name"),
    ("windows-colon-stream", "Windows-reserved", [b"a.txt:Zone.Identifier"], "unpack.windows_name"),
    ("windows-star", "Windows-reserved", [b"a*.txt"], "unpack.windows_name"),
    ("windows-question", "Windows-reserved", [b"a?.txt"], "unpack.windows_name"),
    ("windows-quote-angle-pipe", "Windows-reserved", [b'a"<>|.txt'], "unpack.windows_name"),
    ("backslash-in-name", "backslashes and ..", [b"thu-muc\\tep.txt"], "unpack.windows_name"),
    ("backslash-traversal", "backslashes and ..", [b"..\\..\\evil.bat"], "unpack.path_traversal"),
    ("dotdot-traversal", "backslashes and ..", [b"../evil.txt"], "unpack.path_traversal"),
    ("dotdot-inside-path", "backslashes and ..", [b"a/../../evil.txt"], "unpack.path_traversal"),
    ("absolute-path", "backslashes and ..", [b"/etc/cron.d/evil"], "unpack.absolute_path"),
    ("drive-letter", "backslashes and ..", [b"C:evil.txt"], "unpack.absolute_path"),
    ("unc-path", "backslashes and ..", [b"\\\\server\\share\\evil.txt"], "unpack.absolute_path"),
]
for _i, (_id, _sub, _names, _code) in enumerate(_name_cases):
    # alternate the container so that both readers see every family of names
    if _i % 2 == 0:
        case(f"zip-{_id}", f"{NAMES}: {_sub}", ztext(*_names), _code)
    else:
        case(f"tar-{_id}", f"{NAMES}: {_sub}", tnames(*_names), _code)


def _files(*names: bytes) -> Build:
    def make(r: Path) -> None:
        for n in names:
            path = os.path.join(os.fsencode(r), n)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(b"noi dung")

    return folder(make)


case(
    "folder-control-newline",
    f"{NAMES}: control characters",
    _files(b"dong\nmoi.txt"),
    "unpack.control_character",
)
case(
    "folder-nfc-nfd-twins",
    f"{NAMES}: case and NFC twins",
    _files(NFC_NAME.encode(), NFD_NAME.encode()),
    "unpack.normalization_collision",
)
case("folder-case-twins", f"{NAMES}: case and NFC twins", _files(b"a.TXT", b"a.txt"), "unpack.case_collision")
case("folder-windows-reserved", f"{NAMES}: Windows-reserved", _files(b"PRN.doc"), "unpack.windows_name")
case("folder-backslash", f"{NAMES}: backslashes and ..", _files(b"..\\x.bat"), "unpack.path_traversal")
case("zip-nul-in-name", f"{NAMES}: control characters", ztext(b"an.txt\x00.exe"), "unpack.control_character")

# --------------------------------------------------------------------------------- name encodings

ENC = "wrong encodings: names"
case("zip-windows-1258-name", ENC, ztext(cp1258("Quyết định.txt")), "", Outcome.ACCEPTED)
case("tar-windows-1258-name", ENC, tnames(cp1258("Công văn.txt")), "", Outcome.ACCEPTED)
case("zip-tcvn3-name", ENC, ztext(b"Quy\xd5t \xae\xfbnh.txt"), "", Outcome.ACCEPTED)
case("zip-utf8-without-flag", ENC, ztext("Tờ trình.txt".encode()), "", Outcome.ACCEPTED)

# ----------------------------------------------------------------------------- damaged containers

DAMAGED = "damaged containers"


def _truncated(build: Build, name: str) -> Build:
    def make(d: Path) -> Path:
        src = build(d / "whole")
        out = d / name
        out.write_bytes(src.read_bytes()[: src.stat().st_size * 2 // 3])
        return out

    return make


def _bad_crc(d: Path) -> Path:
    path = plain_zip(d / "sip.zip", {"a.txt": b"Tai lieu " * 100})
    data = bytearray(path.read_bytes())
    at = data.index(b"a.txt") + 5 + 10  # inside the deflated data of the first member
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _tar_bad_middle_header(d: Path) -> Path:
    path = tar(
        d / "sip.tar", [member("a.txt", data=b"A"), member("b.txt", data=b"B"), member("c.txt", data=b"C")]
    )
    data = bytearray(path.read_bytes())
    data[1024 + 148 : 1024 + 156] = b"0000000\0"  # the second header's checksum
    path.write_bytes(bytes(data))
    return path


def _tar_garbage_after_end(d: Path) -> Path:
    path = tar(d / "sip.tar", [member("a.txt", data=b"A")])
    path.write_bytes(path.read_bytes() + b"hidden after the end of the archive" * 20)
    return path


case(
    "zip-truncated",
    DAMAGED,
    _truncated(lambda d: plain_zip(d / "s.zip", {"a.txt": os.urandom(4000)}), "sip.zip"),
    "unpack.corrupt_archive",
)
case("zip-bad-crc", DAMAGED, _bad_crc, "unpack.corrupt_archive")
case("zip-encrypted", DAMAGED, zraw(deflated(b"secret.txt", b"S", flags=1)), "unpack.encrypted")
case("zip-deflate64", DAMAGED, zraw(Raw(b"a.txt", b"xxxx", 4, method=9)), "unpack.unsupported_compression")
case(
    "zip-aes-method-99", DAMAGED, zraw(Raw(b"a.txt", b"xxxx", 4, method=99)), "unpack.unsupported_compression"
)
case("zip-ppmd", DAMAGED, zraw(Raw(b"a.txt", b"xxxx", 4, method=98)), "unpack.unsupported_compression")
case("zip-empty-archive", DAMAGED, zraw(), "package.empty")
case(
    "tar-truncated-in-data",
    DAMAGED,
    lambda d: _cut(tar(d / "s.tar", [member("a.txt", data=os.urandom(3000))]), 2000),
    "unpack.corrupt_archive",
)
case(
    "tar-truncated-in-header",
    DAMAGED,
    lambda d: _cut(tar(d / "s.tar", [member("a.txt", data=b"A"), member("b.txt", data=b"B")]), 1024 + 300),
    "unpack.data_after_end",
)
case(
    "tgz-truncated",
    DAMAGED,
    _truncated(lambda d: tar(d / "s.tar.gz", [member("a.txt", data=os.urandom(3000))], "w:gz"), "sip.tar.gz"),
    "unpack.corrupt_archive",
)
case("tar-bad-header-in-the-middle", DAMAGED, _tar_bad_middle_header, "unpack.data_after_end")
case("tar-data-after-the-end", DAMAGED, _tar_garbage_after_end, "unpack.data_after_end")
case(
    "tgz-bad-header-in-the-middle",
    DAMAGED,
    lambda d: _gzip(_tar_bad_middle_header(d)),
    "unpack.data_after_end",
)
case(
    "gzip-not-tar",
    DAMAGED,
    lambda d: _write(d / "sip.gz", __import__("gzip").compress(b"not a tar" * 100)),
    "package.unknown_container",
)
case("random-bytes", DAMAGED, lambda d: _write(d / "sip.zip", os.urandom(2000)), "package.unknown_container")
case("empty-file", DAMAGED, lambda d: _write(d / "sip.zip", b""), "package.unknown_container")
case("zip-empty-name", DAMAGED, zraw(deflated(b"", b"A")), "unpack.bad_component")  # found by the fuzz run
case("zip-name-starting-with-nul", DAMAGED, zraw(deflated(b"\x00evil.exe", b"A")), "unpack.bad_component")
case(
    "zip-name-flagged-utf8-but-not",  # found by the fuzz run: zipfile raised UnicodeDecodeError
    DAMAGED,
    zraw(deflated(b"\xb4\xe1.txt", b"A", flags=0x800)),
    "unpack.corrupt_archive",
)
case(
    "zip-magic-only",
    DAMAGED,
    lambda d: _write(d / "sip.zip", b"PK\x03\x04" + b"\0" * 30),
    "unpack.corrupt_archive",
)


def _cut(path: Path, size: int) -> Path:
    out = path.with_name("sip.tar")
    out.write_bytes(path.read_bytes()[:size])
    return out


def _gzip(path: Path) -> Path:
    import gzip

    out = path.with_name("sip.tar.gz")
    out.write_bytes(gzip.compress(path.read_bytes()))
    return out


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------- a file that changes

CHANGING = "a file that changes while it is received"
CHANGE_AFTER: dict[str, Callable[[Path, str], None]] = {}


def _changing(id: str, change: Callable[[Path, str], None]) -> None:
    def make(r: Path) -> None:
        for name in ("a.txt", "b.txt", "c.txt"):
            (r / name).write_bytes(name.encode() * 1000)

    case(id, CHANGING, folder(make), "", Outcome.ACCEPTED)
    CHANGE_AFTER[id] = change


def _grow(root: Path, done: str) -> None:
    if done == "a.txt":
        with (root / "b.txt").open("ab") as fh:
            fh.write(b"appended while the package was being received")


def _rewrite_done(root: Path, done: str) -> None:
    if done == "b.txt":
        (root / "a.txt").write_bytes(b"changed after it was copied")


def _truncate_next(root: Path, done: str) -> None:
    if done == "a.txt":
        (root / "c.txt").write_bytes(b"")


_changing("folder-file-grows-while-received", _grow)
_changing("folder-file-rewritten-after-copy", _rewrite_done)
_changing("folder-file-truncated-while-received", _truncate_next)


# ------------------------------------------------------------------------------------------ tests


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_hostile_container(hostile: Case, tmp_path: Path) -> None:
    made = tmp_path / "in"
    made.mkdir()
    source = hostile.build(made)
    (tmp_path / "outside.txt").write_bytes(b"sentinel")
    before = _snapshot(tmp_path / "in") if not source.is_symlink() else {}
    quarantine = tmp_path / "quarantine" / "job"
    change = CHANGE_AFTER.get(hostile.id)
    progress = (lambda name: change(source, name)) if change else None
    limits = LIMITS[hostile.id]
    try:
        tree = receive(source, quarantine, limits, progress=progress)
        read_submission(tree)  # what ingest does next: an empty or payload-less package is refused
    except KholuuError as exc:
        assert hostile.outcome is Outcome.REFUSED, f"refused with {exc.code}: {exc}"
        assert exc.code == hostile.code, str(exc)
        if hostile.id in DETAIL:
            assert exc.params["limit"] == DETAIL[hostile.id], exc.params
    else:
        assert hostile.outcome is not Outcome.REFUSED, f"accepted; expected {hostile.code}"
        codes = {f.code for f in tree.findings}
        if hostile.outcome is Outcome.WARNED:
            assert hostile.code in codes, codes
        for f in tree.files:  # the digests recorded are those of the bytes kept in quarantine
            assert hashlib.sha256(f.path.read_bytes()).hexdigest() == f.digests["sha256"]
            assert f.path.resolve().is_relative_to(quarantine.resolve())
    # nothing written beside the quarantine, the submission untouched (unless the case changes it)
    assert (tmp_path / "outside.txt").read_bytes() == b"sentinel"
    assert {p.name for p in tmp_path.iterdir()} <= {"in", "outside.txt", "quarantine"}
    if change is None and before:
        assert _snapshot(tmp_path / "in") == before
    for path in quarantine.rglob("*") if quarantine.exists() else ():
        mode = path.lstat().st_mode
        assert stat.S_ISREG(mode) or stat.S_ISDIR(mode), f"{path} is a link or special file"
    archive_copy = quarantine / "archive" / source.name
    if source.is_file() and quarantine.exists():
        assert archive_copy.read_bytes() == source.read_bytes()
