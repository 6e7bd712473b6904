"""E-ARK SIPs (CSIP 2.0.4 / E-ARK SIP 2.0.4) as submissions.

Read with lxml (metsrw only understands Archivematica-style METS). The root ``METS.xml`` and every
``representations/<rep>/METS.xml`` are parsed without network access or entity expansion; every
``xlink:href`` must resolve to a file inside the package, and every ``CHECKSUM`` becomes a supplied
checksum that ingest verifies against the bytes it received.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

from lxml import etree

from preservation.errors import InvalidPackageError, UnsafePackageError
from preservation.findings import Finding, Severity
from preservation.names import FileName, nfc, readable, resolve_relative
from preservation.package import (
    MetadataFile,
    MetadataRole,
    PackageKind,
    PayloadFile,
    ReceivedFile,
    ReceivedTree,
    Submission,
    SuppliedChecksum,
)

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
NS = {"mets": METS_NS, "xlink": XLINK_NS, "csip": CSIP_NS}

CHECKSUM_TYPES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512"}


def safe_parser() -> etree.XMLParser:
    """No DTDs, no entities, no network: METS from outside is untrusted input."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_mets(path: Path, where: str) -> etree._ElementTree:
    try:
        return etree.parse(str(path), safe_parser())
    except (etree.XMLSyntaxError, OSError) as exc:
        # OSError: lxml's answer to bytes that are not in the declared encoding (found by the fuzz run)
        problem = str(exc).replace(str(path), where)  # no quarantine path in what users read
        raise InvalidPackageError(
            f"{where} is not well-formed XML: {problem}", code="eark.mets_not_well_formed", path=where
        ) from exc


def is_csip_mets(path: Path) -> bool:
    """A METS document that declares a CSIP package type (or at least uses the CSIP namespace)."""
    try:
        for _event, element in etree.iterparse(
            str(path), events=("start",), resolve_entities=False, no_network=True
        ):
            if element.tag == f"{{{METS_NS}}}metsHdr":
                return element.get(f"{{{CSIP_NS}}}OAISPACKAGETYPE") is not None
            if element.tag == f"{{{METS_NS}}}mets" and element.get(f"{{{CSIP_NS}}}CONTENTINFORMATIONTYPE"):
                return True
    except (etree.XMLSyntaxError, OSError):
        return True  # it tries to be METS: let the reader report it as not well-formed
    return False


@dataclass(frozen=True)
class _Reference:
    mets: str  # the METS file (relative to the package root) that holds the reference
    target: bytes  # resolved raw path relative to the package root
    checksum: str | None
    checksum_type: str | None


def read_eark_sip(tree: ReceivedTree) -> Submission:
    """Split an E-ARK SIP into payload, metadata and supplied checksums.

    Raises:
        InvalidPackageError: ``eark.mets_not_well_formed``, ``eark.not_csip``, ``eark.missing_file``.
        UnsafePackageError: ``eark.href_escapes`` for a reference leaving the package.
    """
    root_doc = parse_mets(tree.root / "METS.xml", "METS.xml")
    hdr = root_doc.find("mets:metsHdr", NS)
    package_type = hdr.get(f"{{{CSIP_NS}}}OAISPACKAGETYPE") if hdr is not None else None
    if package_type is None:
        raise InvalidPackageError(
            "METS.xml has no metsHdr/@csip:OAISPACKAGETYPE: not an E-ARK CSIP package",
            code="eark.not_csip",
            path="METS.xml",
        )
    refs, mets_files = _all_references(tree, root_doc)
    payload, metadata, uuid_of = _split_files(tree, mets_files)
    supplied, findings = _supplied_checksums(refs, uuid_of)
    findings += _unreferenced(tree, refs, mets_files)
    mets = root_doc.getroot()
    return Submission(
        kind=PackageKind.EARK_SIP,
        tree=tree,
        payload=tuple(sorted(payload, key=lambda p: (p.representation, p.name.raw))),
        metadata=tuple(metadata),
        supplied=tuple(supplied),
        label=mets.get("LABEL") or mets.get("OBJID") or tree.source_name,
        info=_header_info(mets, hdr, package_type),
        findings=tuple(findings),
    )


def _all_references(tree: ReceivedTree, root_doc: etree._ElementTree) -> tuple[list[_Reference], set[bytes]]:
    """The references of the root METS and of every ``representations/<rep>/METS.xml``, and the
    raw names of those METS files (they are the SIP's packaging, not content)."""
    files = {f.name.raw: f for f in tree.files}
    by_nfc = {f.name.normalized: f for f in tree.files}
    refs = _references(root_doc, "METS.xml", files, by_nfc)
    mets_files = {b"METS.xml"}
    for f in tree.files:
        parts = f.name.raw.split(b"/")
        if len(parts) == 3 and parts[0] == b"representations" and parts[2] == b"METS.xml":
            where = f.name.text
            mets_files.add(f.name.raw)
            refs.extend(_references(parse_mets(f.path, where), where, files, by_nfc))
    return refs, mets_files


def _split_files(
    tree: ReceivedTree, mets_files: set[bytes]
) -> tuple[list[PayloadFile], list[MetadataFile], dict[bytes, str]]:
    """``representations/<rep>/data/…`` is payload; everything else is metadata of a role read
    from its folder, the METS files being submission metadata. The third value maps a payload
    file's raw path in the package to its uuid."""
    payload: list[PayloadFile] = []
    metadata: list[MetadataFile] = []
    uuid_of: dict[bytes, str] = {}
    for f in tree.files:
        parts = f.name.raw.split(b"/")
        if len(parts) >= 4 and parts[0] == b"representations" and parts[2] == b"data":
            p = PayloadFile(
                name=FileName(b"/".join(parts[3:])),
                path=f.path,
                digests=f.digests,
                representation=readable(parts[1]),
            )
            payload.append(p)
            uuid_of[f.name.raw] = p.uuid
        elif f.name.raw in mets_files:
            rep = readable(parts[1]) if len(parts) == 3 else None
            metadata.append(_meta(f, MetadataRole.SUBMISSION, rep))
        elif parts[0] == b"representations" and len(parts) >= 3:
            metadata.append(_meta(f, _role(parts[2:]), readable(parts[1])))
        else:
            metadata.append(_meta(f, _role(parts), None))
    return payload, metadata, uuid_of


def _supplied_checksums(
    refs: list[_Reference], uuid_of: dict[bytes, str]
) -> tuple[list[SuppliedChecksum], list[Finding]]:
    """Every CHECKSUM a METS states, for ingest to verify; a type we cannot compute is a warning."""
    supplied: list[SuppliedChecksum] = []
    findings: list[Finding] = []
    for ref in refs:
        if not ref.checksum:
            continue
        algorithm = CHECKSUM_TYPES.get((ref.checksum_type or "").upper())
        if algorithm is None:
            findings.append(
                Finding(
                    code="eark.unsupported_checksum_type",
                    severity=Severity.WARNING,
                    where=f"{ref.mets}: {readable(ref.target)}",
                    message=f"CHECKSUMTYPE {ref.checksum_type!r} is not one we can verify",
                )
            )
            continue
        supplied.append(
            SuppliedChecksum(
                file_uuid=uuid_of.get(ref.target, ""),
                path=readable(ref.target),
                algorithm=algorithm,
                value=ref.checksum.strip().lower(),
                source=ref.mets,
            )
        )
    return supplied, findings


def _unreferenced(tree: ReceivedTree, refs: list[_Reference], mets_files: set[bytes]) -> list[Finding]:
    referenced = {ref.target for ref in refs}
    return [
        Finding(
            code="eark.unreferenced_file",
            severity=Severity.WARNING,
            where=f.name.text,
            message="the file is in the package but no METS refers to it",
        )
        for f in tree.files
        if f.name.raw not in referenced and f.name.raw not in mets_files
    ]


def _header_info(
    mets: etree._Element, hdr: etree._Element | None, package_type: str
) -> tuple[tuple[str, str], ...]:
    """What the METS header says about the package, for the submission's info (empty values left out)."""
    info = [
        ("OBJID", mets.get("OBJID", "")),
        ("TYPE", mets.get("TYPE", "")),
        ("PROFILE", mets.get("PROFILE", "")),
        ("OAISPACKAGETYPE", package_type),
    ]
    if hdr is not None:
        info.append(("CREATEDATE", hdr.get("CREATEDATE", "")))
        for agent in hdr.findall("mets:agent", NS):
            name = agent.findtext("mets:name", default="", namespaces=NS)
            note = agent.findtext("mets:note", default="", namespaces=NS)
            info.append((f"agent {agent.get('ROLE', '')}", f"{name} {note}".strip()))
    return tuple((k, v) for k, v in info if v)


def _meta(f: ReceivedFile, role: MetadataRole, representation: str | None) -> MetadataFile:
    return MetadataFile(name=f.name, path=f.path, digests=f.digests, role=role, representation=representation)


def _role(parts: list[bytes]) -> MetadataRole:
    if parts[:3] == [b"metadata", b"other", b"submission"]:
        # An AIP sent by a system of the same kind (TT 05 Điều 17) carries the packaging of its own
        # earlier submission there; it is kept whole under this submission's folder, at its full
        # path, so it can never collide with this package's METS files kept there.
        return MetadataRole.SUBMISSION
    if parts[0] == b"metadata" and len(parts) > 1:
        return {
            b"descriptive": MetadataRole.DESCRIPTIVE,
            b"preservation": MetadataRole.PRESERVATION,
        }.get(parts[1], MetadataRole.OTHER)
    if parts[0] == b"documentation":
        return MetadataRole.DOCUMENTATION
    if parts[0] == b"schemas":
        return MetadataRole.SCHEMA
    return MetadataRole.OTHER


def _references(
    doc: etree._ElementTree, where: str, files: dict[bytes, ReceivedFile], by_nfc: dict[str, ReceivedFile]
) -> list[_Reference]:
    base = posixpath.dirname(where)
    out: list[_Reference] = []
    holders: list[tuple[etree._Element, etree._Element]] = []
    for file_el in doc.iterfind(".//mets:file", NS):
        flocat = file_el.find("mets:FLocat", NS)
        if flocat is not None:
            holders.append((file_el, flocat))
    for md in doc.iterfind(".//mets:mdRef", NS):
        holders.append((md, md))
    for holder, link in holders:
        href = link.get(f"{{{XLINK_NS}}}href")
        if not href:
            continue
        target = _resolve(href, base, where)
        found = files.get(target) or by_nfc.get(nfc(readable(target)))
        if found is None:
            raise InvalidPackageError(
                f"{where} refers to {href!r}, which is not in the package",
                code="eark.missing_file",
                path=href,
                params={"mets": where},
            )
        out.append(_Reference(where, found.name.raw, holder.get("CHECKSUM"), holder.get("CHECKSUMTYPE")))
    return out


def _resolve(href: str, base: str, where: str) -> bytes:
    resolved = (
        None
        if "://" in href
        else resolve_relative(
            tuple(p for p in base.encode("utf-8").split(b"/") if p),
            unquote_to_bytes(href.removeprefix("file:")),
        )
    )
    if resolved is None:
        raise UnsafePackageError(
            f"{where} refers to {href!r}, outside the package",
            code="eark.href_escapes",
            path=href,
            params={"mets": where},
        )
    return b"/".join(resolved)
