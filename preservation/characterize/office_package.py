"""ZIP-packaged documents: OOXML (ECMA-376 Part 2, OPC), ODF (OASIS ODF 1.2 Part 3) and EPUB (OCF).

Each entry is read to its end, so zipfile checks its CRC-32 (a truncated or altered document
fails here); every XML part is parsed with lxml, streaming, without entities, DTDs or network;
and the parts each package format requires are looked for: ``[Content_Types].xml``, the
relationships and the main document part for OOXML; ``mimetype``, ``META-INF/manifest.xml`` and
``content.xml`` for ODF; ``mimetype``, ``META-INF/container.xml``, the OPF package document and
every manifest item for EPUB. Reading stops, "could not check", when the entries, or the bytes
declared or actually decompressed, pass the limits: a count, a size, or a ratio to the package's
own size (a ZIP bomb).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import unquote

from lxml import etree

from preservation.characterize.office_formats import Family
from preservation.findings import Finding, Severity

MAX_ENTRIES = 20_000
MAX_UNCOMPRESSED_BYTES = 4 * 1024**3
MAX_RATIO = 150.0
"""Uncompressed bytes / package bytes past which a package is a ZIP bomb, not a document: a 5 MB
DOCX whose one part inflates to 4 GiB was read to the byte limit (seconds of CPU per file)."""
RATIO_FLOOR_BYTES = 32 * 1024**2
"""Below this many uncompressed bytes the ratio is not enforced: XML compresses very well."""
MAX_FINDINGS = 50
CHUNK = 1024 * 1024
_XML_SUFFIXES = (".xml", ".rels", ".opf", ".ncx", ".xhtml", ".rdf", ".svg")
OPC_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
OPF_NS = "http://www.idpf.org/2007/opf"


class TooLarge(Exception):
    """The package passes the entry or size limits: not read further."""


@dataclass
class PackageReport:
    findings: list[Finding] = field(default_factory=list)
    too_large: str = ""
    entries: int = 0

    def error(self, code: str, where: str, message: str, **params: object) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(Finding(code, Severity.ERROR, where, message, dict(params)))

    def warning(self, code: str, where: str, message: str, **params: object) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(Finding(code, Severity.WARNING, where, message, dict(params)))


def check_package(path: Path, family: Family) -> PackageReport:
    """Check one ZIP package of ``family`` (OOXML, ODF or EPUB)."""
    report = PackageReport()
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            report.entries = len(infos)
            if len(infos) > MAX_ENTRIES:
                raise TooLarge(f"{len(infos)} entries (limit {MAX_ENTRIES})")
            size = max(path.stat().st_size, 1)
            _check_size(sum(i.file_size for i in infos), size, "declared ")
            parsed = _read_entries(archive, infos, report, name, size)
            {Family.OOXML: _ooxml, Family.ODF: _odf, Family.EPUB: _epub}[family](
                archive, parsed, report, name
            )
    except TooLarge as exc:
        report.too_large = str(exc)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        report.error(
            "office.zip_damaged", name, f"not a readable ZIP package: {exc}".replace(str(path), name)
        )
    return report


def _check_size(total: int, size: int, what: str = "") -> None:
    """Stop reading a package past the byte limit, or inflating more than ``MAX_RATIO`` times its size."""
    if total > MAX_UNCOMPRESSED_BYTES:
        raise TooLarge(f"more than {MAX_UNCOMPRESSED_BYTES} bytes {what}uncompressed")
    if total > RATIO_FLOOR_BYTES and total / size > MAX_RATIO:
        raise TooLarge(
            f"{what}uncompressed size over {MAX_RATIO:.0f} times the package's {size} bytes (a ZIP bomb)"
        )


def _read_entries(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], report: PackageReport, where: str, size: int
) -> dict[str, bool | None]:
    """Read every entry to its end (CRC check) and parse the XML ones; returns name → read and
    parsed (True), damaged (False) or empty (None: harmless in an optional part, OpenOffice.org
    wrote empty accelerator settings; :func:`_require` reports an empty required part)."""
    total = 0
    parsed: dict[str, bool | None] = {}
    for info in infos:
        if info.is_dir():
            continue
        if info.file_size == 0:
            parsed[info.filename] = None
            continue
        # an empty optional part is harmless (OpenOffice.org wrote empty accelerator settings);
        # an empty required part is reported by _require
        is_xml = info.filename.lower().endswith(_XML_SUFFIXES)
        try:
            with archive.open(info) as stream:
                if is_xml:
                    counter = _Counting(stream, total, size)
                    ok = _parse_xml(counter, report, where, info.filename)
                    total = counter.total
                    parsed[info.filename] = ok
                else:
                    while chunk := stream.read(CHUNK):
                        total += len(chunk)
                        _check_size(total, size)
                    parsed[info.filename] = True
        except TooLarge:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            report.error("office.part_damaged", where, f"{info.filename}: {exc}", part=info.filename)
            parsed[info.filename] = False
    return parsed


class _Counting:
    """A file-like reader that counts what it hands out and stops at the size limit."""

    def __init__(self, stream: IO[bytes], total: int, package_bytes: int) -> None:
        self.stream = stream
        self.total = total
        self.package_bytes = package_bytes

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(CHUNK if size < 0 else min(size, CHUNK))
        self.total += len(data)
        _check_size(self.total, self.package_bytes)
        return data


def _parse_xml(stream: _Counting, report: PackageReport, where: str, part: str) -> bool:
    try:
        for _, element in etree.iterparse(
            stream, events=("end",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        ):
            element.clear(keep_tail=False)
        return True
    except etree.XMLSyntaxError as exc:
        report.error("office.xml_damaged", where, f"{part} is not well-formed XML: {exc}", part=part)
        return False


def _xml(archive: zipfile.ZipFile, name: str) -> etree._Element | None:
    """A small required part (content types, relationships, manifest, container, OPF) as a tree.
    Called only for parts already read whole and well-formed."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    with archive.open(name) as stream:
        return etree.parse(stream, parser).getroot()


def _require(parsed: dict[str, bool | None], name: str, report: PackageReport, where: str) -> bool:
    if name not in parsed:
        report.error("office.part_missing", where, f"the required part {name} is missing", part=name)
        return False
    if parsed[name] is None:
        report.error("office.part_missing", where, f"the required part {name} is empty", part=name)
        return False
    return bool(parsed[name])


def _ooxml(
    archive: zipfile.ZipFile, parsed: dict[str, bool | None], report: PackageReport, where: str
) -> None:
    """ECMA-376 Part 2 (OPC) §10.1.2: ``[Content_Types].xml``; §9.3: the package relationships
    ``_rels/.rels`` name the main part (``officeDocument``), which must exist."""
    if archive.NameToInfo.get("EncryptionInfo") is not None:
        report.error("office.encrypted", where, "the package is encrypted")
        return
    _require(parsed, "[Content_Types].xml", report, where)
    if not _require(parsed, "_rels/.rels", report, where):
        return
    rels = _xml(archive, "_rels/.rels")
    targets = [
        r.get("Target", "")
        for r in (rels.iter(f"{{{OPC_NS}}}Relationship") if rels is not None else [])
        if r.get("Type", "").endswith("/officeDocument")
    ]
    if not targets:
        report.error(
            "office.part_missing",
            where,
            "no officeDocument relationship names the main part",
            part="officeDocument",
        )
        return
    _require(parsed, unquote(targets[0]).lstrip("/"), report, where)


_ODF_MIMES = "application/vnd.oasis.opendocument."


def _odf(archive: zipfile.ZipFile, parsed: dict[str, bool | None], report: PackageReport, where: str) -> None:
    """ODF 1.2 Part 3 §3.3: ``mimetype`` first and stored, §3.2: ``META-INF/manifest.xml``;
    Part 1 §2.2.1: ``content.xml`` holds the document."""
    _mimetype(archive, report, where, lambda value: value.startswith(_ODF_MIMES))
    _require(parsed, "META-INF/manifest.xml", report, where)
    _require(parsed, "content.xml", report, where)


def _epub(
    archive: zipfile.ZipFile, parsed: dict[str, bool | None], report: PackageReport, where: str
) -> None:
    """EPUB OCF 3.0 §3.3: ``mimetype`` first, stored, ``application/epub+zip``;
    ``META-INF/container.xml`` names the package document (OPF), whose manifest items exist."""
    _mimetype(archive, report, where, lambda value: value == "application/epub+zip")
    if not _require(parsed, "META-INF/container.xml", report, where):
        return
    container = _xml(archive, "META-INF/container.xml")
    rootfiles = (
        [r.get("full-path", "") for r in container.iter(f"{{{CONTAINER_NS}}}rootfile")]
        if container is not None
        else []
    )
    if not rootfiles or not _require(parsed, rootfiles[0], report, where):
        if not rootfiles:
            report.error(
                "office.part_missing", where, "container.xml names no package document", part="rootfile"
            )
        return
    opf = _xml(archive, rootfiles[0])
    base = posixpath.dirname(rootfiles[0])
    for item in opf.iter(f"{{{OPF_NS}}}item") if opf is not None else []:
        href = item.get("href", "")
        if "://" in href:
            continue  # a remote resource: EPUB 3 allows some
        target = posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))
        if target not in parsed:
            report.error("office.part_missing", where, f"the manifest item {target} is missing", part=target)


def _mimetype(
    archive: zipfile.ZipFile, report: PackageReport, where: str, accept: Callable[[str], bool]
) -> None:
    info = archive.NameToInfo.get("mimetype")
    if info is None:
        report.error("office.part_missing", where, "the mimetype entry is missing", part="mimetype")
        return
    value = archive.read(info)[:200].decode("ascii", "replace").strip()
    if not accept(value):
        report.error("office.mimetype", where, f"the mimetype entry says {value!r}", value=value)
    if archive.infolist()[0].filename != "mimetype" or info.compress_type != zipfile.ZIP_STORED:
        report.warning("office.mimetype_placement", where, "the mimetype entry is not first and uncompressed")
