"""Hostile containers made at run time for the issue 11 tests (nothing hostile is stored)."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

from tests.preservation.test_virus import eicar

_MASK = 0xFFFFFFFF


def _crc_byte(crc: int, byte: int) -> int:
    """One step of the raw CRC-32 update the PKWARE cipher uses (zlib's pre/post inversion undone)."""
    return zlib.crc32(bytes([byte]), crc ^ _MASK) ^ _MASK


def zipcrypto(name: str, data: bytes, password: bytes) -> bytes:
    """A ZIP with one stored member encrypted with the traditional PKWARE cipher (``zip -P``);
    Python's zipfile reads but cannot write these."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(c: int) -> None:
        keys[0] = _crc_byte(keys[0], c)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & _MASK
        keys[2] = _crc_byte(keys[2], keys[1] >> 24)

    def encrypt(plain: bytes) -> bytes:
        out = bytearray()
        for c in plain:
            temp = (keys[2] | 2) & 0xFFFF
            out.append(c ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            update(c)
        return bytes(out)

    for c in password:
        update(c)
    crc = zlib.crc32(data)
    body = encrypt(os.urandom(11) + bytes([crc >> 24])) + encrypt(data)
    raw = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 1, 0, 0, 0, crc, len(body), len(data), len(raw), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        1,
        0,
        0,
        0,
        crc,
        len(body),
        len(data),
        len(raw),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    cd_offset = len(local) + len(raw) + len(body)
    cd = central + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(cd), cd_offset, 0)
    return local + raw + body + cd + end


def nested_zip(levels: int, payload: bytes | None = None) -> bytes:
    """EICAR (by default) inside ``levels`` deflated zips, one in another."""
    data, name = (payload if payload is not None else eicar()), "eicar.com"
    for i in range(levels):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(name, data)
        data, name = buf.getvalue(), f"level-{levels - i}.zip"
    return data


def eicar_in_passworded_inner_zip() -> bytes:
    """An ordinary zip holding a password-protected zip holding EICAR."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("phu-luc/mat-khau.zip", zipcrypto("eicar.com", eicar(), b"secret"))
        zf.writestr("phu-luc/doc.txt", "Tài liệu")
    return buf.getvalue()
