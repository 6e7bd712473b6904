"""Legacy binary office formats: the structure a light parser can vouch for.

- Word, Excel and PowerPoint 97–2003 are OLE2 compound files: olefile reads the sector tables
  and every stream to its end (a truncated file or a broken FAT chain fails), and the main stream
  must start as its format says: a Word FIB (``wIdent`` 0xA5EC/0xA5DC), an Excel BOF record, a
  PowerPoint record header. Encryption is detected and reported "could not check".
- RTF (RTF 1.9.1 spec): ``{\\rtf`` header and balanced groups to the end, with ``\\binN`` data
  skipped.
- Lotus 1-2-3 (WKS/WK1/WK3): the record chain from BOF to EOF, each record inside the file.
- WordPerfect: the 16-byte prefix (``\\xffWPC``, a document-area pointer inside the file).
- Access (Jet/ACE): the header signature and whole pages.

The last three check only the framing: they can show damage but cannot vouch for the content
(``OfficeFormat.parser_checks_content`` is False), so LibreOffice loads WordPerfect and Lotus
files, and an Access database is "not checked" (LibreOffice cannot open one: measured with 7.x).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import olefile

from preservation.characterize.office_formats import Family
from preservation.findings import Finding, Severity

CHUNK = 1024 * 1024
_OLE_STREAMS = {
    Family.OLE_WORD: (("WordDocument",),),
    Family.OLE_EXCEL: (("Workbook",), ("Book",)),
    Family.OLE_POWERPOINT: (("PowerPoint Document",), ("PP40",)),
}


@dataclass
class BinaryReport:
    findings: list[Finding] = field(default_factory=list)
    encrypted: bool = False

    def error(self, code: str, where: str, message: str) -> None:
        self.findings.append(Finding(code, Severity.ERROR, where, message))


def check_binary(path: Path, family: Family) -> BinaryReport:
    report = BinaryReport()
    checker = {
        Family.OLE_WORD: _ole,
        Family.OLE_EXCEL: _ole,
        Family.OLE_POWERPOINT: _ole,
        Family.RTF: _rtf,
        Family.LOTUS: _lotus,
        Family.WORDPERFECT: _wordperfect,
        Family.ACCESS: _access,
    }[family]
    checker(path, family, report)
    return report


def _ole(path: Path, family: Family, report: BinaryReport) -> None:
    where = path.name
    if not olefile.isOleFile(str(path)):
        report.error("office.ole_damaged", where, "not an OLE2 compound file")
        return
    try:
        with olefile.OleFileIO(str(path)) as ole:
            if ole.exists("EncryptionInfo"):
                report.encrypted = True
                return
            stream = next((s for s in _OLE_STREAMS[family] if ole.exists("/".join(s))), None)
            if stream is None:
                wanted = " or ".join("/".join(s) for s in _OLE_STREAMS[family])
                report.error("office.part_missing", where, f"the {wanted} stream is missing")
                return
            with ole.openstream(list(stream)) as fh:
                head = fh.read(64)
            _stream_start(stream[0], head, report, where)
            for entry in ole.listdir(streams=True, storages=False):  # every sector chain read
                read = 0
                with ole.openstream(entry) as fh:
                    while chunk := fh.read(CHUNK):
                        read += len(chunk)
                if read < ole.get_size(entry):  # olefile hands out a short stream on a cut file
                    name = "/".join(part.lstrip("\x01\x05") for part in entry)
                    report.error(
                        "office.ole_damaged",
                        where,
                        f"the {name} stream is cut short ({read} of {ole.get_size(entry)} bytes)",
                    )
                    return
    except (OSError, ValueError, struct.error, IndexError, TypeError) as exc:
        report.error(
            "office.ole_damaged", where, f"the OLE2 structure is damaged: {exc}".replace(str(path), where)
        )


def _stream_start(stream: str, head: bytes, report: BinaryReport, where: str) -> None:
    """MS-DOC 2.5.1 (FIB: wIdent 0xA5EC, Word 6/95 0xA5DC; fEncrypted bit 0x0100), MS-XLS 2.4.21
    (BOF 0x0809, FILEPASS 0x002F next), MS-PPT 2.3.1 (a record header: version nibble 0xF or 0)."""
    if len(head) < 12:
        report.error("office.part_damaged", where, f"the {stream} stream is too short")
        return
    if stream == "WordDocument":
        ident, flags = struct.unpack_from("<H", head, 0)[0], struct.unpack_from("<H", head, 10)[0]
        if ident not in (0xA5EC, 0xA5DC):
            report.error(
                "office.part_damaged",
                where,
                f"the WordDocument stream does not start with a FIB ({ident:#06x})",
            )
        elif flags & 0x0100:
            report.encrypted = True
    elif stream in ("Workbook", "Book"):
        record = struct.unpack_from("<H", head, 0)[0]
        if record not in (0x0809, 0x0409, 0x0209, 0x0009):
            report.error(
                "office.part_damaged", where, f"the {stream} stream does not start with a BOF record"
            )
        length = struct.unpack_from("<H", head, 2)[0]
        if len(head) >= 4 + length + 2 and struct.unpack_from("<H", head, 4 + length)[0] == 0x002F:
            report.encrypted = True
    elif stream == "PowerPoint Document" and struct.unpack_from("<H", head, 2)[0] != 0x03E8:
        report.error(
            "office.part_damaged",
            where,
            "the PowerPoint Document stream does not start with a document record",
        )


def _rtf(path: Path, family: Family, report: BinaryReport) -> None:
    where = path.name
    depth = 0
    closed_at_zero = False
    skip = 0
    with path.open("rb") as fh:
        first = fh.read(5)
        if first != b"{\\rtf":
            report.error("office.rtf_damaged", where, "the file does not start with {\\rtf")
            return
        depth = 1
        tail = b""
        while chunk := fh.read(CHUNK):
            data = tail + chunk
            i = 0
            while i < len(data):
                if skip:
                    step = min(skip, len(data) - i)
                    skip -= step
                    i += step
                    continue
                c = data[i]
                if c == 0x5C:  # backslash: an escaped brace or backslash, or a control word
                    if i + 1 >= len(data):
                        break
                    if data[i + 1 : i + 4] == b"bin" and i + 4 < len(data):
                        j = i + 4
                        while j < len(data) and data[j : j + 1].isdigit():
                            j += 1
                        if j == len(data):
                            break
                        skip = int(data[i + 4 : j] or b"0")
                        i = j + (1 if data[j : j + 1] == b" " else 0)
                        continue
                    i += 2
                    continue
                if c == 0x7B:
                    depth += 1
                elif c == 0x7D:
                    depth -= 1
                    if depth < 0:
                        report.error("office.rtf_damaged", where, "a group is closed that was never opened")
                        return
                    closed_at_zero = depth == 0
                elif depth == 0 and c not in b" \r\n\t\x00":
                    closed_at_zero = False
                i += 1
            tail = data[i:]
    if depth != 0 or not closed_at_zero:
        report.error("office.rtf_damaged", where, f"the document ends inside {max(depth, 1)} open group(s)")


_LOTUS_VERSIONS = {0x0404, 0x0405, 0x0406, 0x1000, 0x1002, 0x1003, 0x1005}


def _lotus(path: Path, family: Family, report: BinaryReport) -> None:
    """Lotus 1-2-3 file format: records of (opcode, length) little-endian, BOF first, EOF (1) last."""
    where = path.name
    data = path.read_bytes()
    if len(data) < 6 or struct.unpack_from("<HH", data, 0)[0] != 0:
        report.error("office.lotus_damaged", where, "the file does not start with a BOF record")
        return
    if struct.unpack_from("<H", data, 4)[0] not in _LOTUS_VERSIONS:
        report.error("office.lotus_damaged", where, "the BOF record names no Lotus 1-2-3 version")
        return
    i = 0
    while i + 4 <= len(data):
        opcode, length = struct.unpack_from("<HH", data, i)
        if i + 4 + length > len(data):
            report.error("office.lotus_damaged", where, f"a record at byte {i} runs past the end of the file")
            return
        i += 4 + length
        if opcode == 0x0001:
            return
    report.error("office.lotus_damaged", where, "the file ends without an EOF record")


def _wordperfect(path: Path, family: Family, report: BinaryReport) -> None:
    """WordPerfect 5.x/6.x prefix: ``\\xffWPC``, a document-area pointer, product and file type."""
    where = path.name
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(16)
    if len(head) < 16 or head[:4] != b"\xffWPC":
        report.error(
            "office.wordperfect_damaged", where, "the file does not start with the WordPerfect prefix"
        )
        return
    pointer = struct.unpack_from("<I", head, 4)[0]
    if not 16 <= pointer <= size:
        report.error(
            "office.wordperfect_damaged",
            where,
            f"the document area pointer ({pointer}) lies outside the file",
        )


_JET = (b"Standard Jet DB\x00", b"Standard ACE DB\x00")


def _access(path: Path, family: Family, report: BinaryReport) -> None:
    """Jet 3 pages are 2048 bytes, Jet 4 and ACE 4096; the header page names the engine."""
    where = path.name
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(0x15)
    if len(head) < 0x15 or head[4:20] not in _JET:
        report.error("office.access_damaged", where, "the file does not start with a Jet/ACE database header")
        return
    page = 2048 if head[0x14] == 0 else 4096
    if size < 2 * page or size % page:
        report.error(
            "office.access_damaged", where, f"{size} bytes is not a whole number of {page}-byte pages"
        )
