"""A small, complete, valid E-ARK CSIP 2.0.4 AIP written by hand from the specification.

Independent of Kho Lưu's own METS writer (preservation/mets.py), so that the validator is tested
against the standard and not against ourselves. Checksums and sizes are computed from what is
written. Section IDs are fixed so that tests can aim mutations at them.
"""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

from lxml import etree

METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
CSIP = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
NSMAP = {"mets": METS, "xlink": XLINK, "csip": CSIP}
OBJID = "uuid-9d0c8b1e-4f3a-4c2b-8e1d-6a5b4c3d2e1f"
WHEN = "2025-07-01T08:30:00+07:00"
DATA_NAME = unicodedata.normalize("NFD", "Quyết định số 12.txt")


def _m(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{METS}}}{tag}", attrs)


def _x(el: etree._Element, **attrs: str) -> None:
    for k, v in attrs.items():
        el.set(f"{{{XLINK}}}{k}", v)


def _write(root: Path, rel: str, data: bytes) -> tuple[str, int]:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest().upper(), len(data)


def _hdr(mets: etree._Element) -> None:
    hdr = _m(mets, "metsHdr", CREATEDATE=WHEN, RECORDSTATUS="NEW")
    hdr.set(f"{{{CSIP}}}OAISPACKAGETYPE", "AIP")
    agent = _m(hdr, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    _m(agent, "name").text = "hand-written fixture"
    note = _m(agent, "note")
    note.text = "1.0"
    note.set(f"{{{CSIP}}}NOTETYPE", "SOFTWARE VERSION")


def _mdref(sec: etree._Element, href: str, digest: tuple[str, int], mdtype: str) -> None:
    ref = _m(
        sec,
        "mdRef",
        LOCTYPE="URL",
        MDTYPE=mdtype,
        MIMETYPE="application/xml",
        SIZE=str(digest[1]),
        CREATED=WHEN,
        CHECKSUM=digest[0],
        CHECKSUMTYPE="SHA-256",
    )
    _x(ref, type="simple", href=href)


def _file(grp: etree._Element, ident: str, href: str, digest: tuple[str, int], mime: str) -> None:
    f = _m(
        grp,
        "file",
        ID=ident,
        MIMETYPE=mime,
        SIZE=str(digest[1]),
        CREATED=WHEN,
        CHECKSUM=digest[0],
        CHECKSUMTYPE="SHA-256",
    )
    loc = _m(f, "FLocat", LOCTYPE="URL")
    _x(loc, type="simple", href=href)


def _mets_root(objid: str) -> etree._Element:
    mets = etree.Element(f"{{{METS}}}mets", nsmap=NSMAP)
    mets.set("OBJID", objid)
    mets.set("TYPE", "Mixed")
    mets.set(f"{{{CSIP}}}CONTENTINFORMATIONTYPE", "MIXED")
    mets.set("PROFILE", "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml")
    return mets


def build_valid_aip(parent: Path) -> Path:
    root = parent / OBJID
    premis = b'<?xml version="1.0"?>\n<premis xmlns="http://www.loc.gov/premis/v3" version="3.0"/>\n'
    # representation
    data = _write(root, f"representations/rep1/data/{DATA_NAME}", "Quyết định số 12/QĐ-UBND\n".encode())
    sub = _write(root, "representations/rep1/data/phu-luc/bang.txt", b"phu luc\n")
    rep_premis = _write(root, "representations/rep1/metadata/preservation/PREMIS_rep1.xml", premis)
    rep = _mets_root("rep1")
    _hdr(rep)
    amd = _m(rep, "amdSec")
    dp = _m(amd, "digiprovMD", ID="rep-premis", CREATED=WHEN, STATUS="CURRENT")
    _mdref(dp, "metadata/preservation/PREMIS_rep1.xml", rep_premis, "PREMIS")
    fs = _m(rep, "fileSec", ID="rep-filesec")
    grp = _m(fs, "fileGrp", ID="rep-data", USE="Data")
    _file(grp, "ID-data-1", "data/" + DATA_NAME.replace(" ", "%20"), data, "text/plain")
    _file(grp, "ID-data-2", "data/phu-luc/bang.txt", sub, "text/plain")
    sm = _m(rep, "structMap", ID="rep-structmap", TYPE="PHYSICAL", LABEL="CSIP")
    top = _m(sm, "div", ID="rep-top", LABEL="rep1")
    _m(top, "div", ID="rep-div-metadata", LABEL="Metadata", ADMID="rep-premis")
    d = _m(top, "div", ID="rep-div-data", LABEL="Data")
    _m(d, "fptr", FILEID="rep-data")
    rep_bytes = etree.tostring(rep, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    rep_mets = _write(root, "representations/rep1/METS.xml", rep_bytes)
    # package level files
    dc = _write(
        root,
        "metadata/descriptive/dc.xml",
        '<?xml version="1.0"?>\n<dc xmlns="http://purl.org/dc/elements/1.1/">'
        "<title>Hồ sơ</title></dc>\n".encode(),
    )
    pkg_premis = _write(root, "metadata/preservation/PREMIS.xml", premis)
    rights = _write(root, "metadata/other/rights.xml", b'<?xml version="1.0"?>\n<rights>open</rights>\n')
    xsd = _write(
        root,
        "schemas/dc.xsd",
        b'<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>\n',
    )
    doc = _write(root, "documentation/readme.txt", "Tài liệu hướng dẫn.\n".encode())
    mets = _mets_root(OBJID)
    mets.set("LABEL", "Hồ sơ mẫu")
    _hdr(mets)
    dmd = _m(mets, "dmdSec", ID="dmd-dc", CREATED=WHEN, STATUS="CURRENT")
    _mdref(dmd, "metadata/descriptive/dc.xml", dc, "DC")
    amd = _m(mets, "amdSec")
    rmd = _m(amd, "rightsMD", ID="rights-1", CREATED=WHEN, STATUS="CURRENT")
    _mdref(rmd, "metadata/other/rights.xml", rights, "OTHER")
    rmd.find(f"{{{METS}}}mdRef").set("OTHERMDTYPE", "RIGHTS")  # type: ignore[union-attr]
    dp = _m(amd, "digiprovMD", ID="premis-1", CREATED=WHEN, STATUS="CURRENT")
    _mdref(dp, "metadata/preservation/PREMIS.xml", pkg_premis, "PREMIS")
    fs = _m(mets, "fileSec", ID="filesec")
    g = _m(fs, "fileGrp", ID="grp-doc", USE="Documentation")
    _file(g, "file-doc", "documentation/readme.txt", doc, "text/plain")
    g = _m(fs, "fileGrp", ID="grp-schemas", USE="Schemas")
    _file(g, "file-xsd", "schemas/dc.xsd", xsd, "application/xml")
    g = _m(fs, "fileGrp", ID="grp-rep1", USE="Representations/rep1")
    g.set(f"{{{CSIP}}}CONTENTINFORMATIONTYPE", "MIXED")
    _file(g, "file-rep1-mets", "representations/rep1/METS.xml", rep_mets, "application/xml")
    sm = _m(mets, "structMap", ID="structmap", TYPE="PHYSICAL", LABEL="CSIP")
    top = _m(sm, "div", ID="div-top", LABEL=OBJID)
    _m(top, "div", ID="div-metadata", LABEL="Metadata", ADMID="rights-1 premis-1", DMDID="dmd-dc")
    d = _m(top, "div", ID="div-doc", LABEL="Documentation")
    _m(d, "fptr", FILEID="grp-doc")
    d = _m(top, "div", ID="div-schemas", LABEL="Schemas")
    _m(d, "fptr", FILEID="grp-schemas")
    d = _m(top, "div", ID="div-rep1", LABEL="Representations/rep1")
    mptr = _m(d, "mptr", LOCTYPE="URL")
    _x(mptr, type="simple", href="representations/rep1/METS.xml", title="grp-rep1")
    _m(d, "fptr", FILEID="grp-rep1")
    _write(root, "METS.xml", etree.tostring(mets, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return root
