"""Offline XML Schema validation against the schemas vendored in ``preservation/schemas``.

Our own METS and PREMIS must pass the official XSDs before an AIP may be stored; a failure is our
bug, reported as such. Parsing never reaches the network and never expands entities.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from lxml import etree

from preservation.findings import Finding, Severity

SCHEMA_DIR = Path(__file__).parent / "schemas"
SchemaName = Literal["mets", "premis", "oai", "oai_dc", "tt05_ead"]
_ENTRY = {
    "mets": "kholuu-mets-csip.xsd",
    "premis": "premis.xsd",
    "oai": "oai/OAI-PMH.xsd",
    "oai_dc": "oai/oai_dc.xsd",
    "tt05_ead": "oai/tt05_ead.xsd",
}
_PACKAGE_SCHEMAS = (
    "mets.xsd",
    "xlink.xsd",
    "xml.xsd",
    "DILCISExtensionMETS.xsd",
    "DILCISExtensionSIPMETS.xsd",
    "premis.xsd",
)


def parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


@cache
def schema(name: SchemaName) -> etree.XMLSchema:
    """The compiled schema (compiled once per process; pure data, safe to share)."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / _ENTRY[name]), parser()))


def validate(doc: Path | etree._ElementTree | etree._Element, name: SchemaName) -> list[Finding]:
    """Every schema violation as a finding (code ``xsd.<name>``, where = ``line N``); an element
    is validated as the root of its subtree."""
    tree = etree.parse(str(doc), parser()) if isinstance(doc, Path) else doc
    compiled = schema(name)
    if compiled.validate(tree):
        return []
    return [
        Finding(code=f"xsd.{name}", severity=Severity.ERROR, where=f"line {e.line}", message=e.message)
        for e in compiled.error_log  # type: ignore[attr-defined]
    ]


def schema_files() -> list[Path]:
    """The XSDs an AIP carries in its ``schemas/`` folder (CSIP113: schemas used are included)."""
    return [SCHEMA_DIR / n for n in _PACKAGE_SCHEMAS]
