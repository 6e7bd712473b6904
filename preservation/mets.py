"""METS 1.12 documents in the E-ARK CSIP 2.0.4 shape, as Thông tư 05/2025/TT-BNV uses them.

Two kinds: the package (root) METS and one METS per representation (the CSIP "divided" structure,
E-ARK AIP §AIP3). Every ``file`` and ``mdRef`` carries ID, MIMETYPE, SIZE, CREATED, CHECKSUM and
CHECKSUMTYPE SHA-256 (CSIP26-30, CSIP40-44, CSIP68-72; TT 05 wants SHA-256 on every file); every
locator is ``LOCTYPE="URL" xlink:type="simple"`` with a relative, percent-encoded ``xlink:href``
(CSIP22-24, CSIP76-79). Requirement ids in comments refer to the CSIP METS profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from urllib.parse import quote

from lxml import etree

from preservation.premis import iso

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"mets": METS_NS, "xlink": XLINK_NS, "csip": CSIP_NS, "xsi": XSI_NS}


@dataclass(frozen=True)
class Ref:
    """A file a METS document points to, with what CSIP wants to know about it.

    Attributes:
        href: path relative to the METS document (text, ``/``), percent-encoded when written.
        mdtype: for metadata references, the METS MDTYPE (``PREMIS``, ``DC``, ``EAD``, ``OTHER``).
        other_mdtype: ``OTHERMDTYPE`` when ``mdtype`` is ``OTHER``.
    """

    id: str
    href: str
    size: int
    sha256: str
    mimetype: str
    created: datetime
    mdtype: str = "OTHER"
    other_mdtype: str = ""


@dataclass(frozen=True)
class Header:
    objid: str
    label: str
    profile: str
    content_category: str
    created: datetime
    software: str
    software_version: str
    organization: str
    zone: tzinfo | None
    content_information_type: str | None = None
    other_content_information_type: str = ""
    package_type: str = (
        "AIP"  # csip:OAISPACKAGETYPE: AIP for what we store, SIP for packages we build for transfer
    )


def _m(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{METS_NS}}}{tag}", {k: v for k, v in attrs.items() if v != ""})


def _href(path: str) -> str:
    return quote(path.encode("utf-8"), safe="/")


def _root(h: Header) -> etree._Element:
    root = etree.Element(f"{{{METS_NS}}}mets", nsmap=NSMAP)
    root.set("OBJID", h.objid)  # CSIP1
    if h.label:
        root.set("LABEL", h.label)
    root.set("TYPE", h.content_category)  # CSIP2
    _content_type(root, h)  # CSIP4-5
    root.set("PROFILE", h.profile)  # CSIP6
    root.set(
        f"{{{XSI_NS}}}schemaLocation",
        f"{METS_NS} schemas/mets.xsd {XLINK_NS} schemas/xlink.xsd {CSIP_NS} schemas/DILCISExtensionMETS.xsd",
    )
    hdr = _m(root, "metsHdr", CREATEDATE=iso(h.created, h.zone), RECORDSTATUS="NEW")  # CSIP117, CSIP7
    hdr.set(f"{{{CSIP_NS}}}OAISPACKAGETYPE", h.package_type)  # CSIP9
    agent = _m(hdr, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")  # CSIP10-13
    _m(agent, "name").text = h.software  # CSIP14
    note = _m(agent, "note")  # CSIP15-16
    note.text = h.software_version
    note.set(f"{{{CSIP_NS}}}NOTETYPE", "SOFTWARE VERSION")
    if h.organization:
        org = _m(hdr, "agent", ROLE="PRESERVATION", TYPE="ORGANIZATION")
        _m(org, "name").text = h.organization
    return root


def _content_type(el: etree._Element, h: Header) -> None:
    if h.content_information_type:
        el.set(f"{{{CSIP_NS}}}CONTENTINFORMATIONTYPE", h.content_information_type)
        if h.content_information_type == "OTHER" and h.other_content_information_type:
            el.set(f"{{{CSIP_NS}}}OTHERCONTENTINFORMATIONTYPE", h.other_content_information_type)


def _md_ref(parent: etree._Element, ref: Ref, zone: tzinfo | None) -> None:
    md = _m(
        parent,
        "mdRef",
        LOCTYPE="URL",  # CSIP22/36
        MDTYPE=ref.mdtype,  # CSIP25/39
        OTHERMDTYPE=ref.other_mdtype if ref.mdtype == "OTHER" else "",
        MIMETYPE=ref.mimetype,  # CSIP26/40
        SIZE=str(ref.size),  # CSIP27/41
        CREATED=iso(ref.created, zone),  # CSIP28/42
        CHECKSUM=ref.sha256.upper(),  # CSIP29/43
        CHECKSUMTYPE="SHA-256",  # CSIP30/44
    )
    md.set(f"{{{XLINK_NS}}}type", "simple")  # CSIP23/37
    md.set(f"{{{XLINK_NS}}}href", _href(ref.href))  # CSIP24/38


def md_section(parent: etree._Element, tag: str, ref: Ref, created: datetime, zone: tzinfo | None) -> None:
    sec = _m(parent, tag, ID=ref.id, CREATED=iso(created, zone), STATUS="CURRENT")  # CSIP18-20, CSIP33-34
    _md_ref(sec, ref, zone)


def _file(group: etree._Element, ref: Ref, zone: tzinfo | None) -> None:
    f = _m(
        group,
        "file",
        ID=ref.id,  # CSIP67
        MIMETYPE=ref.mimetype,  # CSIP68
        SIZE=str(ref.size),  # CSIP69
        CREATED=iso(ref.created, zone),  # CSIP70
        CHECKSUM=ref.sha256.upper(),  # CSIP71
        CHECKSUMTYPE="SHA-256",  # CSIP72
    )
    loc = _m(f, "FLocat", LOCTYPE="URL")  # CSIP76-77
    loc.set(f"{{{XLINK_NS}}}type", "simple")  # CSIP78
    loc.set(f"{{{XLINK_NS}}}href", _href(ref.href))  # CSIP79


def root_mets(
    h: Header,
    *,
    ids: IdSource,
    descriptive: Sequence[Ref],
    digiprov: Sequence[Ref],
    source: Sequence[Ref],
    documentation: Sequence[Ref],
    schemas: Sequence[Ref],
    representations: Sequence[tuple[str, Ref]],
) -> etree._ElementTree:
    """The package METS. ``representations`` pairs each representation name with its METS file."""
    root = _root(h)
    for ref in descriptive:
        md_section(root, "dmdSec", ref, h.created, h.zone)  # CSIP17
    amd_ids: list[str] = []
    if digiprov or source:
        amd = _m(root, "amdSec")  # CSIP31; METS order: techMD, rightsMD, sourceMD, digiprovMD
        for ref in source:
            md_section(amd, "sourceMD", ref, h.created, h.zone)
            amd_ids.append(ref.id)
        for ref in digiprov:
            md_section(amd, "digiprovMD", ref, h.created, h.zone)  # CSIP32
            amd_ids.append(ref.id)
    file_sec = _m(root, "fileSec", ID=ids.new())  # CSIP58-59
    groups: list[tuple[str, str]] = []  # (structMap label, fileGrp id)
    for use, refs in (("Documentation", documentation), ("Schemas", schemas)):
        if refs:
            gid = ids.new()
            group = _m(file_sec, "fileGrp", ID=gid, USE=use)  # CSIP60, CSIP113, CSIP64-65
            for ref in refs:
                _file(group, ref, h.zone)
            groups.append((use, gid))
    rep_groups: list[tuple[str, str, Ref]] = []
    for name, ref in representations:
        gid = ids.new()
        _representation_group(file_sec, name, ref, gid, root, h.zone)
        rep_groups.append((name, gid, ref))
    struct = _m(root, "structMap", ID=ids.new(), TYPE="PHYSICAL", LABEL="CSIP")  # CSIP80-83
    top = _m(struct, "div", ID=ids.new(), LABEL=h.objid)  # CSIP84-86
    meta = _m(top, "div", ID=ids.new(), LABEL="Metadata")  # CSIP88-90
    if amd_ids:
        meta.set("ADMID", " ".join(amd_ids))  # CSIP91
    if descriptive:
        meta.set("DMDID", " ".join(r.id for r in descriptive))  # CSIP92
    for label, gid in groups:
        div = _m(top, "div", ID=ids.new(), LABEL=label)  # CSIP93-100
        _m(div, "fptr", FILEID=gid)  # CSIP116, CSIP118
    for name, gid, ref in rep_groups:
        _representation_div(top, name, ref, gid, ids.new())
    return etree.ElementTree(root)


def _representation_group(
    file_sec: etree._Element, name: str, ref: Ref, gid: str, root: etree._Element, zone: tzinfo | None
) -> None:
    group = _m(file_sec, "fileGrp", ID=gid, USE=f"Representations/{name}")  # CSIP114
    for attr in ("CONTENTINFORMATIONTYPE", "OTHERCONTENTINFORMATIONTYPE"):  # CSIP62-63, as the package
        value = root.get(f"{{{CSIP_NS}}}{attr}")
        if value:
            group.set(f"{{{CSIP_NS}}}{attr}", value)
    _file(group, ref, zone)


def _representation_div(top: etree._Element, name: str, ref: Ref, gid: str, div_id: str) -> None:
    div = _m(top, "div", ID=div_id, LABEL=f"Representations/{name}")  # CSIP105-107
    mptr = _m(div, "mptr", LOCTYPE="URL")  # CSIP109, CSIP112
    mptr.set(f"{{{XLINK_NS}}}type", "simple")  # CSIP111
    mptr.set(f"{{{XLINK_NS}}}href", _href(ref.href))  # CSIP110
    mptr.set(f"{{{XLINK_NS}}}title", gid)  # CSIP108: the file group's ID
    _m(div, "fptr", FILEID=gid)  # CSIP108


def add_representation(
    root: etree._Element, name: str, ref: Ref, *, group_id: str, div_id: str, zone: tzinfo | None
) -> None:
    """Add a representation to an existing package METS (a later AIP version): its file group
    after the last one (CSIP114) and its division, with the ``mptr`` to its METS, after the last
    division of the CSIP structural map (CSIP105-112).

    Raises:
        ValueError: the document has no fileSec or no CSIP structural map.
    """
    file_sec = root.find(f"{{{METS_NS}}}fileSec")
    top = root.find(f"{{{METS_NS}}}structMap[@LABEL='CSIP']/{{{METS_NS}}}div")
    if file_sec is None or top is None:
        raise ValueError("the package METS has no fileSec or no CSIP structMap")
    _representation_group(file_sec, name, ref, group_id, root, zone)
    _representation_div(top, name, ref, group_id, div_id)


def add_file(group: etree._Element, ref: Ref, zone: tzinfo | None) -> None:
    """One ``file`` with its ``FLocat`` appended to a file group (CSIP67-79)."""
    _file(group, ref, zone)


def representation_mets(
    h: Header,
    *,
    ids: IdSource,
    digiprov: Sequence[Ref],
    other_metadata: Sequence[Ref],
    data: Sequence[Ref],
    descriptive: Sequence[Ref] = (),
) -> etree._ElementTree:
    """The METS of one representation: its descriptive metadata (TT 05 ``EAD_doc_*`` files), its
    PREMIS, any other submitted metadata, and its data files."""
    root = _root(h)
    for ref in descriptive:
        md_section(root, "dmdSec", ref, h.created, h.zone)
    amd_ids: list[str] = []
    if digiprov or other_metadata:
        amd = _m(root, "amdSec")
        for ref in other_metadata:
            md_section(amd, "sourceMD", ref, h.created, h.zone)
            amd_ids.append(ref.id)
        for ref in digiprov:
            md_section(amd, "digiprovMD", ref, h.created, h.zone)
            amd_ids.append(ref.id)
    file_sec = _m(root, "fileSec", ID=ids.new())
    gid = ids.new()
    group = _m(file_sec, "fileGrp", ID=gid, USE="Data")
    for ref in data:
        _file(group, ref, h.zone)
    struct = _m(root, "structMap", ID=ids.new(), TYPE="PHYSICAL", LABEL="CSIP")
    top = _m(struct, "div", ID=ids.new(), LABEL=h.objid)
    meta = _m(top, "div", ID=ids.new(), LABEL="Metadata")
    if amd_ids:
        meta.set("ADMID", " ".join(amd_ids))
    if descriptive:
        meta.set("DMDID", " ".join(r.id for r in descriptive))
    div = _m(top, "div", ID=ids.new(), LABEL="Data")
    _m(div, "fptr", FILEID=gid)
    return etree.ElementTree(root)


class IdSource:
    """XML IDs for METS sections: ``uuid-<uuid4>`` (TT 05 / CSIP style; xs:ID cannot start with a digit)."""

    def new(self) -> str:
        import uuid

        return f"uuid-{uuid.uuid4()}"


def write(tree: etree._ElementTree, path: str) -> None:
    tree.write(path, xml_declaration=True, encoding="UTF-8", pretty_print=True)
