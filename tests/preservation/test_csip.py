"""Our CSIP validator, one test per requirement that applies to an AIP.

Each mutation breaks exactly one requirement of a valid, hand-written package
(tests/preservation/csip_fixture.py); the validator must report that requirement's id with the
requirement's severity. A meta-test makes sure no applicable requirement is left without one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from preservation.csip import requirements, validate_package
from preservation.findings import Severity
from tests.preservation.csip_fixture import CSIP, METS, OBJID, XLINK, build_valid_aip

Mutation = Callable[[Path], None]
NS = {"mets": METS, "xlink": XLINK, "csip": CSIP}


def edit(rel: str, fn: Callable[[etree._Element], None]) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        tree = etree.parse(str(path))
        fn(tree.getroot())
        tree.write(str(path), xml_declaration=True, encoding="UTF-8")

    return apply


def first(el: etree._Element, xpath: str) -> etree._Element:
    found = el.xpath(xpath, namespaces=NS)
    assert isinstance(found, list) and found, xpath
    node = found[0]
    assert isinstance(node, etree._Element)
    return node


def drop(xpath: str, attr: str, rel: str = "METS.xml") -> Mutation:
    def fn(mets: etree._Element) -> None:
        name = attr
        if ":" in attr:
            prefix, local = attr.split(":")
            name = f"{{{NS[prefix]}}}{local}"
        del first(mets, xpath).attrib[name]

    return edit(rel, fn)


def put(xpath: str, attr: str, value: str, rel: str = "METS.xml") -> Mutation:
    def fn(mets: etree._Element) -> None:
        name = attr
        if ":" in attr:
            prefix, local = attr.split(":")
            name = f"{{{NS[prefix]}}}{local}"
        first(mets, xpath).set(name, value)

    return edit(rel, fn)


def remove(xpath: str, rel: str = "METS.xml") -> Mutation:
    def fn(mets: etree._Element) -> None:
        node = first(mets, xpath)
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)

    return edit(rel, fn)


def duplicate(xpath: str, rel: str = "METS.xml", new_id: str | None = None) -> Mutation:
    """Insert a copy of an element right after it (same ID unless new_id is given)."""

    def fn(mets: etree._Element) -> None:
        node = first(mets, xpath)
        copy = etree.fromstring(etree.tostring(node))
        if new_id is not None:
            copy.set("ID", new_id)
        node.addnext(copy)

    return edit(rel, fn)


def both(*mutations: Mutation) -> Mutation:
    def apply(root: Path) -> None:
        for m in mutations:
            m(root)

    return apply


def flip_byte(rel: str) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        data = bytearray(path.read_bytes())
        data[0] ^= 0x01
        path.write_bytes(bytes(data))

    return apply


def write_file(rel: str, data: bytes) -> Mutation:
    def apply(root: Path) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)

    return apply


def rmtree(rel: str) -> Mutation:
    return lambda root: shutil.rmtree(root / rel)


DMD_REF = "mets:dmdSec/mets:mdRef"
DP_REF = "mets:amdSec/mets:digiprovMD/mets:mdRef"
R_REF = "mets:amdSec/mets:rightsMD/mets:mdRef"
FILE = "mets:fileSec/mets:fileGrp[@USE='Documentation']/mets:file"
FLOCAT = f"{FILE}/mets:FLocat"
TOP = "mets:structMap[@LABEL='CSIP']/mets:div"
META_DIV = f"{TOP}/mets:div[@LABEL='Metadata']"
DOC_DIV = f"{TOP}/mets:div[@LABEL='Documentation']"
SCH_DIV = f"{TOP}/mets:div[@LABEL='Schemas']"
REP_DIV = f"{TOP}/mets:div[@LABEL='Representations/rep1']"
MPTR = f"{REP_DIV}/mets:mptr"
REP = "representations/rep1/METS.xml"


def undivided_representations(root: Path) -> None:
    """Add content described without representation METS: a fileGrp USE='Representations'."""

    def fn(mets: etree._Element) -> None:
        sec = first(mets, "mets:fileSec")
        grp = etree.SubElement(sec, f"{{{METS}}}fileGrp", ID="grp-content", USE="Representations")
        grp.set(f"{{{CSIP}}}CONTENTINFORMATIONTYPE", "MIXED")
        src = first(mets, FILE)
        copy = etree.fromstring(etree.tostring(src))
        copy.set("ID", "file-content")
        grp.append(copy)
        top = first(mets, TOP)
        div = etree.SubElement(top, f"{{{METS}}}div", ID="div-content", LABEL="Representations")
        etree.SubElement(div, f"{{{METS}}}fptr", FILEID="grp-content")

    edit("METS.xml", fn)(root)


MUTATIONS: dict[str, Mutation] = {
    # mets root
    "CSIP1": drop(".", "OBJID"),
    "CSIP2": put(".", "TYPE", "Sách vở"),
    "CSIP3": put(".", "TYPE", "OTHER"),
    "CSIP4": drop(".", "csip:CONTENTINFORMATIONTYPE", REP),
    "CSIP5": put(".", "csip:CONTENTINFORMATIONTYPE", "OTHER"),
    "CSIP6": drop(".", "PROFILE"),
    # header
    "CSIP117": remove("mets:metsHdr"),
    "CSIP7": put("mets:metsHdr", "CREATEDATE", "01/07/2025"),
    "CSIP9": put("mets:metsHdr", "csip:OAISPACKAGETYPE", "SIP"),
    "CSIP10": remove("mets:metsHdr/mets:agent"),
    "CSIP11": put("mets:metsHdr/mets:agent", "ROLE", "EDITOR"),
    "CSIP12": put("mets:metsHdr/mets:agent", "TYPE", "INDIVIDUAL"),
    "CSIP13": put("mets:metsHdr/mets:agent", "OTHERTYPE", "HARDWARE"),
    "CSIP14": remove("mets:metsHdr/mets:agent/mets:name"),
    "CSIP15": remove("mets:metsHdr/mets:agent/mets:note"),
    "CSIP16": drop("mets:metsHdr/mets:agent/mets:note", "csip:NOTETYPE"),
    # descriptive metadata
    "CSIP17": remove("mets:dmdSec"),
    "CSIP18": duplicate("mets:dmdSec"),
    "CSIP19": drop("mets:dmdSec", "CREATED"),
    "CSIP20": drop("mets:dmdSec", "STATUS"),
    "CSIP21": remove(DMD_REF),
    "CSIP22": put(DMD_REF, "LOCTYPE", "URN"),
    "CSIP23": put(DMD_REF, "xlink:type", "locator"),
    "CSIP24": put(DMD_REF, "xlink:href", "metadata/descriptive/missing.xml"),
    "CSIP25": drop(DMD_REF, "MDTYPE"),
    "CSIP26": drop(DMD_REF, "MIMETYPE"),
    "CSIP27": put(DMD_REF, "SIZE", "1"),
    "CSIP28": drop(DMD_REF, "CREATED"),
    "CSIP29": flip_byte("metadata/descriptive/dc.xml"),
    "CSIP30": put(DMD_REF, "CHECKSUMTYPE", "SHA-1024"),
    # administrative metadata
    "CSIP31": duplicate("mets:amdSec"),
    "CSIP32": both(remove("mets:amdSec/mets:digiprovMD"), put(META_DIV, "ADMID", "rights-1")),
    "CSIP33": drop("mets:amdSec/mets:digiprovMD", "ID"),
    "CSIP34": put("mets:amdSec/mets:digiprovMD", "STATUS", "OLD"),
    "CSIP35": remove(DP_REF),
    "CSIP36": put(DP_REF, "LOCTYPE", "OTHER"),
    "CSIP37": drop(DP_REF, "xlink:type"),
    "CSIP38": put(DP_REF, "xlink:href", "../outside.xml"),
    "CSIP39": put(DP_REF, "MDTYPE", "PREMIS-XML"),
    "CSIP40": drop(DP_REF, "MIMETYPE"),
    "CSIP41": drop(DP_REF, "SIZE"),
    "CSIP42": put(DP_REF, "CREATED", "yesterday"),
    "CSIP43": drop(DP_REF, "CHECKSUM"),
    "CSIP44": drop(DP_REF, "CHECKSUMTYPE"),
    "CSIP46": drop("mets:amdSec/mets:rightsMD", "ID"),
    "CSIP47": drop("mets:amdSec/mets:rightsMD", "STATUS"),
    "CSIP48": remove(R_REF),
    "CSIP49": put(R_REF, "LOCTYPE", "HANDLE"),
    "CSIP50": put(R_REF, "xlink:type", "extended"),
    "CSIP51": drop(R_REF, "xlink:href"),
    "CSIP52": put(R_REF, "MDTYPE", "RIGHTS"),
    "CSIP53": drop(R_REF, "MIMETYPE"),
    "CSIP54": put(R_REF, "SIZE", "-5"),
    "CSIP55": drop(R_REF, "CREATED"),
    "CSIP56": put(R_REF, "CHECKSUM", "00" * 32),
    "CSIP57": put(R_REF, "CHECKSUMTYPE", "sha256"),
    # files
    "CSIP58": duplicate("mets:fileSec", new_id="filesec-2"),
    "CSIP59": drop("mets:fileSec", "ID"),
    "CSIP60": both(remove("mets:fileSec/mets:fileGrp[@USE='Documentation']"), remove(DOC_DIV)),
    "CSIP113": both(remove("mets:fileSec/mets:fileGrp[@USE='Schemas']"), remove(SCH_DIV)),
    "CSIP114": both(remove("mets:fileSec/mets:fileGrp[@USE='Representations/rep1']"), remove(REP_DIV)),
    "CSIP61": put("mets:fileSec/mets:fileGrp[@USE='Schemas']", "ADMID", "no-such-section"),
    "CSIP62": drop("mets:fileSec/mets:fileGrp[@USE='Representations/rep1']", "csip:CONTENTINFORMATIONTYPE"),
    "CSIP63": put(
        "mets:fileSec/mets:fileGrp[@USE='Representations/rep1']", "csip:CONTENTINFORMATIONTYPE", "OTHER"
    ),
    "CSIP64": drop("mets:fileSec/mets:fileGrp[@USE='Schemas']", "USE"),
    "CSIP65": drop("mets:fileSec/mets:fileGrp[@USE='Schemas']", "ID"),
    "CSIP66": remove("mets:fileSec/mets:fileGrp[@USE='Schemas']/mets:file"),
    "CSIP67": drop(FILE, "ID"),
    "CSIP68": drop(FILE, "MIMETYPE"),
    "CSIP69": put(FILE, "SIZE", "999999"),
    "CSIP70": drop(FILE, "CREATED"),
    "CSIP71": flip_byte("documentation/readme.txt"),
    "CSIP72": drop(FILE, "CHECKSUMTYPE"),
    "CSIP74": put(FILE, "ADMID", "no-such-section"),
    "CSIP75": put(FILE, "DMDID", "no-such-dmd"),
    "CSIP76": duplicate(FLOCAT),
    "CSIP77": put(FLOCAT, "LOCTYPE", "DOI"),
    "CSIP78": drop(FLOCAT, "xlink:type"),
    "CSIP79": put(FLOCAT, "xlink:href", "documentation/khong-co.txt"),
    # structMap
    "CSIP80": remove("mets:structMap"),
    "CSIP81": put("mets:structMap", "TYPE", "LOGICAL"),
    "CSIP82": put("mets:structMap", "LABEL", "Kho Lưu"),
    "CSIP83": drop("mets:structMap", "ID"),
    "CSIP84": duplicate(TOP, new_id="div-top-2"),
    "CSIP85": drop(TOP, "ID"),
    "CSIP86": put(TOP, "LABEL", "something else"),
    "CSIP88": remove(META_DIV),
    "CSIP89": drop(META_DIV, "ID"),
    "CSIP90": put(META_DIV, "LABEL", "Siêu dữ liệu"),
    "CSIP91": put(META_DIV, "ADMID", "premis-1"),
    "CSIP92": drop(META_DIV, "DMDID"),
    "CSIP93": duplicate(DOC_DIV, new_id="div-doc-2"),
    "CSIP94": drop(DOC_DIV, "ID"),
    "CSIP95": put(DOC_DIV, "LABEL", "Docs"),
    "CSIP96": remove(f"{DOC_DIV}/mets:fptr"),
    "CSIP116": put(f"{DOC_DIV}/mets:fptr", "FILEID", "grp-schemas"),
    "CSIP97": duplicate(SCH_DIV, new_id="div-schemas-2"),
    "CSIP98": drop(SCH_DIV, "ID"),
    "CSIP99": put(SCH_DIV, "LABEL", "XSD"),
    "CSIP100": remove(f"{SCH_DIV}/mets:fptr"),
    "CSIP118": put(f"{SCH_DIV}/mets:fptr", "FILEID", "grp-doc"),
    "CSIP101": both(
        undivided_representations, duplicate(f"{TOP}/mets:div[@LABEL='Representations']", new_id="div-c2")
    ),
    "CSIP102": both(undivided_representations, drop(f"{TOP}/mets:div[@LABEL='Representations']", "ID")),
    "CSIP103": both(
        undivided_representations, put(f"{TOP}/mets:div[@LABEL='Representations']", "LABEL", "Content")
    ),
    "CSIP104": both(undivided_representations, remove(f"{TOP}/mets:div[@LABEL='Representations']/mets:fptr")),
    "CSIP119": both(
        undivided_representations,
        put(f"{TOP}/mets:div[@LABEL='Representations']/mets:fptr", "FILEID", "grp-doc"),
    ),
    "CSIP105": remove(REP_DIV),
    "CSIP106": drop(REP_DIV, "ID"),
    "CSIP107": put(REP_DIV, "LABEL", "Representations/rep-other"),
    "CSIP108": put(MPTR, "xlink:title", "file-rep1-mets"),
    "CSIP109": duplicate(MPTR),
    "CSIP110": put(MPTR, "xlink:href", "representations/rep9/METS.xml"),
    "CSIP111": drop(MPTR, "xlink:type"),
    "CSIP112": put(MPTR, "LOCTYPE", "URN"),
    # folder structure
    "CSIPSTR2": lambda root: None,  # the fixture is copied into a folder with another name (see below)
    "CSIPSTR4": lambda root: (root / "METS.xml").unlink(),
    "CSIPSTR5": both(rmtree("metadata"), remove("mets:dmdSec"), remove("mets:amdSec"), remove(META_DIV)),
    "CSIPSTR6": both(
        rmtree("metadata/preservation"),
        remove("mets:amdSec/mets:digiprovMD"),
        put(META_DIV, "ADMID", "rights-1"),
    ),
    "CSIPSTR7": both(
        write_file("metadata/other/dc.xml", b'<?xml version="1.0"?>\n<dc/>\n'),
        put(DMD_REF, "xlink:href", "metadata/other/dc.xml"),
    ),
    "CSIPSTR9": both(
        rmtree("representations"),
        remove("mets:fileSec/mets:fileGrp[@USE='Representations/rep1']"),
        remove(REP_DIV),
    ),
    "CSIPSTR10": write_file("representations/stray.txt", b"not a representation folder\n"),
    "CSIPSTR11": write_file("representations/rep2/METS.xml", b""),
    "CSIPSTR12": write_file("representations/rep3/data/x.txt", b"x"),
    "CSIPSTR13": rmtree("representations/rep1/metadata"),
    "CSIPSTR15": write_file("metadata/descriptive/ead.xsd", b"<schema/>"),
}


def applicable() -> list[str]:
    return sorted((r.id for r in requirements().values() if r.applies_to_aip), key=_order)


def _order(rid: str) -> tuple[int, int]:
    digits = "".join(c for c in rid if c.isdigit())
    return (1 if rid.startswith("CSIPSTR") else 0, int(digits))


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return build_valid_aip(tmp_path)


def test_valid_fixture_has_no_findings(package: Path) -> None:
    assert validate_package(package) == []


def test_every_applicable_requirement_has_a_mutation() -> None:
    reqs = requirements()
    missing = [rid for rid in applicable() if rid not in MUTATIONS]
    assert missing == []
    not_applicable = {r.id: r.why_not for r in reqs.values() if not r.applies_to_aip}
    assert all(not_applicable.values()), "every requirement judged not applicable says why"
    print(
        "\nnot applicable to an AIP:\n" + "\n".join(f"  {k}: {v}" for k, v in sorted(not_applicable.items()))
    )


@pytest.mark.parametrize("rid", applicable())
def test_requirement(rid: str, package: Path, tmp_path: Path) -> None:
    if rid == "CSIPSTR2":
        renamed = tmp_path / "ten-khac"
        package.rename(renamed)
        package = renamed
    MUTATIONS[rid](package)
    findings = validate_package(package)
    codes = {f.code: f for f in findings}
    assert rid in codes, f"{rid} not reported; got {[(f.code, f.message) for f in findings]}"
    assert codes[rid].severity is requirements()[rid].severity
    assert codes[rid].params["level"] == requirements()[rid].level


def test_checksum_mismatch_names_the_file_and_both_values(package: Path) -> None:
    flip_byte("representations/rep1/data/phu-luc/bang.txt")(package)
    (finding,) = [f for f in validate_package(package) if f.code == "CSIP71"]
    assert finding.params["path"] == "representations/rep1/data/phu-luc/bang.txt"
    assert finding.params["expected"] != finding.params["found"]
    assert finding.where.startswith(REP)


def test_checksums_can_be_skipped_for_speed(package: Path) -> None:
    flip_byte("documentation/readme.txt")(package)
    assert [f.code for f in validate_package(package, verify_checksums=False)] == []


def test_ids_must_be_unique_across_the_package(package: Path) -> None:
    put("mets:fileSec", "ID", "filesec", rel=REP)(package)  # the root METS has a fileSec "filesec" too
    assert "CSIP59" in {f.code for f in validate_package(package)}


def test_package_type_may_be_left_open(package: Path) -> None:
    put("mets:metsHdr", "csip:OAISPACKAGETYPE", "SIP")(package)
    put("mets:metsHdr", "csip:OAISPACKAGETYPE", "SIP", rel=REP)(package)
    assert "CSIP9" not in {
        f.code for f in validate_package(package, expected_type=None, verify_checksums=False)
    }


def test_not_well_formed_root_mets(package: Path) -> None:
    (package / "METS.xml").write_text("<mets:mets xmlns:mets='http://www.loc.gov/METS/'>", encoding="utf-8")
    (finding,) = validate_package(package)
    assert finding.code == "CSIPSTR4" and finding.severity is Severity.ERROR


_ = OBJID
