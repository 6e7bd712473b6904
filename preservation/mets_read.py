"""Read back the METS documents of a package we wrote (``preservation.mets`` writes them).

The audit compares the CHECKSUM every METS declares with the catalog, and the catalog rebuild
takes the OBJID, LABEL and creation time from the package METS; both used to walk the XML
themselves. This is the one typed reader: :func:`read_mets` returns the header and every ``file``
and ``mdRef`` reference with its target already resolved inside the package (or None when the
reference points outside it, which is itself a finding). The parser never resolves entities,
loads DTDs or reaches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO
from urllib.parse import unquote_to_bytes

from lxml import etree

from preservation import xsd
from preservation.errors import PreservationError
from preservation.mets import METS_NS, XLINK_NS
from preservation.names import resolve_relative

__all__ = ["MetsDocument", "MetsHeader", "MetsReadError", "MetsReference", "read_mets"]

_CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"


class MetsReadError(PreservationError):
    """A METS file is not one we can read back: not XML, or not a METS document with an OBJID."""

    code = "mets.invalid"

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}", path=where, params={"problem": problem})
        self.problem = problem


@dataclass(frozen=True)
class MetsHeader:
    """The root element and ``metsHdr`` of a METS document.

    Attributes:
        created: ``metsHdr/@CREATEDATE`` when present and time-zone aware, else None.
        package_type: ``csip:OAISPACKAGETYPE`` of the header (``AIP``, ``SIP``) or ``""``.
    """

    objid: str
    label: str
    type: str
    profile: str
    created: datetime | None
    package_type: str


@dataclass(frozen=True)
class MetsReference:
    """One ``file`` or ``mdRef`` element.

    Attributes:
        kind: ``file`` or ``mdRef``.
        href: the ``xlink:href`` as written (percent-encoded, relative to the METS document).
        target: the package path it resolves to, or None when it leaves the package.
        checksum: lower-case hex, ``""`` when absent.
        checksum_type: as written, upper-cased (``SHA-256``).
    """

    kind: str
    id: str
    href: str
    target: str | None
    checksum: str
    checksum_type: str
    size: int | None
    mdtype: str
    other_mdtype: str


@dataclass(frozen=True)
class MetsDocument:
    where: str
    header: MetsHeader
    references: tuple[MetsReference, ...]

    def mdrefs(self, other_mdtype: str) -> list[MetsReference]:
        """The ``mdRef``s with ``MDTYPE="OTHER"`` and this ``OTHERMDTYPE``."""
        return [r for r in self.references if r.kind == "mdRef" and r.other_mdtype == other_mdtype]


def read_mets(source: bytes | BinaryIO, where: str) -> MetsDocument:
    """Parse one METS document. ``where`` is its path inside the package: references are resolved
    relative to its folder, and errors name it.

    Raises:
        MetsReadError: not well-formed XML, or not a METS document with an OBJID.
    """
    try:
        if isinstance(source, bytes):
            root = etree.fromstring(source, xsd.parser())
        else:
            root = etree.parse(source, xsd.parser()).getroot()
    except etree.XMLSyntaxError as exc:
        raise MetsReadError(where, f"not well-formed XML: {exc}") from None
    objid = root.get("OBJID")
    if root.tag != f"{{{METS_NS}}}mets" or not objid:
        raise MetsReadError(where, "not a METS document with an OBJID")
    header = root.find(f"{{{METS_NS}}}metsHdr")
    created: datetime | None = None
    package_type = ""
    if header is not None:
        package_type = header.get(f"{{{_CSIP_NS}}}OAISPACKAGETYPE", "")
        try:
            created = datetime.fromisoformat(header.get("CREATEDATE", ""))
        except ValueError:
            created = None
    base = tuple(p.encode("utf-8") for p in where.split("/")[:-1] if p)
    refs = tuple(_reference(el, base) for el in root.iter(f"{{{METS_NS}}}file", f"{{{METS_NS}}}mdRef"))
    return MetsDocument(
        where=where,
        header=MetsHeader(
            objid=objid,
            label=root.get("LABEL", ""),
            type=root.get("TYPE", ""),
            profile=root.get("PROFILE", ""),
            created=created if created is not None and created.tzinfo is not None else None,
            package_type=package_type,
        ),
        references=refs,
    )


def _reference(el: etree._Element, base: tuple[bytes, ...]) -> MetsReference:
    href = el.get(f"{{{XLINK_NS}}}href")
    if href is None:
        loc = el.find(f"{{{METS_NS}}}FLocat")
        href = loc.get(f"{{{XLINK_NS}}}href") if loc is not None else None
    target = None
    if href:
        parts = resolve_relative(base, unquote_to_bytes(href.removeprefix("file:")))
        if parts is not None:
            target = b"/".join(parts).decode("utf-8", "surrogateescape")
    size = el.get("SIZE")
    kind = "mdRef" if el.tag == f"{{{METS_NS}}}mdRef" else "file"
    return MetsReference(
        kind=kind,
        id=el.get("ID", ""),
        href=href or "",
        target=target,
        checksum=(el.get("CHECKSUM") or "").lower(),
        checksum_type=(el.get("CHECKSUMTYPE") or "").upper(),
        size=int(size) if size and size.isdigit() else None,
        mdtype=el.get("MDTYPE", ""),
        other_mdtype=el.get("OTHERMDTYPE", ""),
    )
