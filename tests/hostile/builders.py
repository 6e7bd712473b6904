"""Generators of hostile containers: raw ZIP records (any name bytes, any declared size, any mode),
cheap deflate bombs, tar members of every type. Nothing here is stored as a blob."""

from __future__ import annotations

import io
import stat
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MIB = 1 << 20


@cache
def _zero_block() -> tuple[bytes, bytes]:
    """Deflate of one MiB of zeros after a full flush, and the stream's end. After a full flush the
    compressor has no history, so each further MiB compresses to the same bytes: a bomb of any size
    is made by repetition without ever producing its output."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp.compress(b"\0" * MIB)
    comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(b"\0" * MIB) + comp.flush(zlib.Z_FULL_FLUSH)
    return block, comp.flush(zlib.Z_FINISH)


def zero_deflate(mib: int) -> bytes:
    """A raw deflate stream that inflates to ``mib`` MiB of zeros (about 1 KB per MiB)."""
    block, end = _zero_block()
    return block * mib + end


def pattern_deflate(head: bytes, unit: bytes, mib: int, tail: bytes = b"") -> tuple[bytes, int, int]:
    """A raw deflate stream of ``head``, ``mib`` MiB of ``unit`` repeated, then ``tail``; returns
    (stream, uncompressed size, CRC-32). The middle is one compressed MiB repeated (see
    :func:`_zero_block`), so a 100 MiB XML part costs about 1 ms to make."""
    assert MIB % len(unit) == 0, "the unit must tile a MiB exactly"
    block = unit * (MIB // len(unit))
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = comp.compress(head) + comp.flush(zlib.Z_FULL_FLUSH)
    packed = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    out += packed * mib + comp.compress(tail) + comp.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return out, len(head) + mib * MIB + len(tail), zlib.crc32(tail, crc)


@dataclass(frozen=True)
class Raw:
    """One ZIP member written by hand: the name as bytes, the sizes as declared."""

    name: bytes
    data: bytes  # as stored (already compressed when method is 8)
    usize: int  # declared uncompressed size
    crc: int = 0
    method: int = 8
    flags: int = 0
    mode: int = 0  # unix st_mode; 0: no unix attributes


def deflated(name: bytes, plain: bytes, *, flags: int = 0, mode: int = 0) -> Raw:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Raw(
        name, comp.compress(plain) + comp.flush(), len(plain), zlib.crc32(plain), flags=flags, mode=mode
    )


def raw_zip(path: Path, members: list[Raw]) -> Path:
    """A ZIP with exactly these records (sizes and names unchecked: that is the point)."""
    out = io.BytesIO()
    central = []
    for m in members:
        offset = out.tell()
        local = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            m.flags,
            m.method,
            0,
            0x21,
            m.crc,
            len(m.data),
            m.usize,
            len(m.name),
            0,
        )
        out.write(local + m.name + m.data)
        system = 3 if m.mode else 0
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (system << 8) | 20,
                20,
                m.flags,
                m.method,
                0,
                0x21,
                m.crc,
                len(m.data),
                m.usize,
                len(m.name),
                0,
                0,
                0,
                0,
                m.mode << 16,
                offset,
            )
            + m.name
        )
    cd_offset = out.tell()
    cd = b"".join(central)
    out.write(cd)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd), cd_offset, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path


def zip_bomb(path: Path, mib: int, *, declared: int | None = None, name: bytes = b"bom.txt") -> Path:
    """One member inflating to ``mib`` MiB of zeros; ``declared`` lies about that size."""
    data = zero_deflate(mib)
    return raw_zip(path, [Raw(name, data, declared if declared is not None else mib * MIB)])


def plain_zip(path: Path, entries: dict[str, bytes] | list[tuple[str, bytes]]) -> Path:
    items = entries.items() if isinstance(entries, dict) else entries
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return path


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def member(
    name: str | bytes, kind: bytes = tarfile.REGTYPE, *, linkname: str = "", data: bytes = b""
) -> tuple[tarfile.TarInfo, bytes | None]:
    text = name if isinstance(name, str) else name.decode("utf-8", "surrogateescape")
    info = tarfile.TarInfo(text)
    info.type = kind
    info.linkname = linkname
    info.mtime = 1_700_000_000
    info.mode = 0o644
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        return info, data
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info, None


def tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w") -> Path:
    """A tar (GNU format, so that names are written as raw bytes) with these members."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(
        path, mode, format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as tf:  # type: ignore[call-overload]
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def tar_gz_bomb(path: Path, mib: int) -> Path:
    """A tar.gz holding one file of ``mib`` MiB of zeros. The tar header is deflated and flushed,
    then the zero blocks follow (the tar's end-of-archive blocks are zeros too); the gzip trailer
    is not right, which nothing reaches before the bomb guard."""
    header = tarfile.TarInfo("bom.bin")
    header.size = mib * MIB
    header.mtime = 1_700_000_000
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(header.tobuf(tarfile.GNU_FORMAT)) + comp.flush(zlib.Z_FULL_FLUSH)
    body += zero_deflate(mib + 1)
    gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + body + struct.pack("<II", 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gz)
    return path


def cp1258(text: str) -> bytes:
    """``text`` in Windows-1258, which has precomposed vowels (â, ơ) but writes the tone marks as
    combining characters, as old Vietnamese Windows systems saved names and files."""
    import unicodedata

    out = b""
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            head = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in "\u0302\u0306\u031b"))
            tones = "".join(m for m in marks if m not in "\u0302\u0306\u031b")
            out += head.encode("cp1258") + tones.encode("cp1258")
    return out


UNIX_LINK = stat.S_IFLNK | 0o777
UNIX_FIFO = stat.S_IFIFO | 0o644
UNIX_CHR = stat.S_IFCHR | 0o644
UNIX_BLK = stat.S_IFBLK | 0o644
UNIX_SOCK = stat.S_IFSOCK | 0o644
