"""Our own E-ARK CSIP 2.0.4 validator: the requirements that apply to an AIP, one check per id.

eark-validator cannot be the judge here (it downloads vocabularies at start-up and fails offline,
and rejected every valid package of the E-ARK corpus when we tried it), so we check the CSIP METS
profile's requirements ourselves. Each finding's code is the requirement id (``CSIP71``,
``CSIPSTR4``); MUST → error, SHOULD → warning, MAY → info (reported only when something present is
malformed). Beyond presence we check what makes a package trustworthy: every CHECKSUM and SIZE
against the bytes, every reference resolving inside the package, IDs unique across the package.

The requirement table (ids, levels, texts, XPaths, vocabularies) is data:
``preservation/schemas/csip/requirements.json``.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from preservation.csip_mets import MetsChecker
from preservation.csip_requirements import REQUIREMENTS_FILE, Report, Requirement, requirements, vocabulary
from preservation.findings import Finding

__all__ = [
    "REQUIREMENTS_FILE",
    "Report",
    "Requirement",
    "parser",
    "requirements",
    "validate_package",
    "vocabulary",
]


def parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def validate_package(
    root: Path, *, expected_type: str | None = "AIP", verify_checksums: bool = True
) -> list[Finding]:
    """Check an unpacked package folder against CSIP 2.0.4.

    Args:
        root: the package root folder.
        expected_type: the ``csip:OAISPACKAGETYPE`` it must declare (``None``: any from the vocabulary).
        verify_checksums: also compare every CHECKSUM with the file's bytes (streamed).
    """
    report = Report()
    mets_path = root / "METS.xml"
    if not mets_path.is_file():
        report.add("CSIPSTR4", "METS.xml", "the package root has no METS.xml")
        _structure(root, None, report)
        return report.findings
    try:
        doc = etree.parse(str(mets_path), parser())
    except etree.XMLSyntaxError as exc:
        report.add("CSIPSTR4", "METS.xml", f"METS.xml is not well-formed XML: {exc}")
        return report.findings
    ids: dict[str, str] = {}
    checker = MetsChecker(report, root, ids, expected_type=expected_type, verify_checksums=verify_checksums)
    checker.check(doc, "METS.xml", is_root=True)
    for rep_mets in sorted((root / "representations").glob("*/METS.xml")):
        rel = rep_mets.relative_to(root).as_posix()
        try:
            rep_doc = etree.parse(str(rep_mets), parser())
        except etree.XMLSyntaxError as exc:
            report.add("CSIPSTR12", rel, f"not well-formed XML: {exc}")
            continue
        checker.check(rep_doc, rel, is_root=False)
    _structure(root, doc, report)
    return report.findings


def _structure(root: Path, doc: etree._ElementTree | None, report: Report) -> None:
    """CSIPSTR2, 5-7, 9-13, 15: the folder layout."""
    if doc is not None:
        objid = doc.getroot().get("OBJID", "")
        if objid and root.name not in {objid, objid.replace(":", "_"), objid.replace(":", "+")}:
            report.add("CSIPSTR2", root.name, f"folder name {root.name!r} is not the OBJID {objid!r}")
    if not (root / "metadata").is_dir():
        report.add("CSIPSTR5", "metadata/", "no metadata folder")
    elif not (root / "metadata" / "preservation").is_dir():
        report.add("CSIPSTR6", "metadata/preservation/", "no preservation metadata folder")
    if doc is not None:
        ns = {"mets": "http://www.loc.gov/METS/", "xlink": "http://www.w3.org/1999/xlink"}
        for ref in doc.iterfind("mets:dmdSec/mets:mdRef", ns):
            href = ref.get("{http://www.w3.org/1999/xlink}href", "")
            if href and not href.removeprefix("./").startswith("metadata/descriptive/"):
                report.add(
                    "CSIPSTR7", f"METS.xml: {href}", "descriptive metadata outside metadata/descriptive/"
                )
    reps = root / "representations"
    if not reps.is_dir():
        report.add("CSIPSTR9", "representations/", "no representations folder")
    else:
        for entry in sorted(reps.iterdir()):
            if not entry.is_dir():
                report.add(
                    "CSIPSTR10",
                    f"representations/{entry.name}",
                    "a file where a representation folder belongs",
                )
                continue
            rel = f"representations/{entry.name}/"
            if not (entry / "data").is_dir():
                report.add("CSIPSTR11", rel + "data/", "representation without a data folder")
            if not (entry / "METS.xml").is_file():
                report.add("CSIPSTR12", rel + "METS.xml", "representation without its METS.xml")
            if not (entry / "metadata").is_dir():
                report.add("CSIPSTR13", rel + "metadata/", "representation without a metadata folder")
    schemas_used = any(
        p.suffix == ".xsd" for p in root.rglob("*.xsd") if "schemas" not in p.relative_to(root).parts
    )
    if schemas_used or (doc is not None and not (root / "schemas").is_dir()):
        report.add("CSIPSTR15", "schemas/", "XML schemas are not in a schemas folder")
