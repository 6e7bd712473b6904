"""OAI-PMH 2.0 responses checked offline, as a harvester's validator would.

A harvester such as the national archival database rejects a response that its schema refuses, and
the protocol's schema skips the records' metadata (``processContents="skip"``), so each record is
checked a second time against the schema of its own format. The schemas are vendored
(``schemas/oai``, ``schemas/README.md``): the publishers' files import each other from the web.
"""

from __future__ import annotations

from lxml import etree

from preservation.findings import Finding, Severity
from preservation.tt05.xsdgen import OAI_NAMESPACE
from preservation.xsd import SchemaName, parser, validate

__all__ = ["DC", "OAI", "OAI_DC", "validate_response"]

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
#: The schema of each metadata format we disseminate, by its namespace.
_FORMAT_SCHEMAS: dict[str, SchemaName] = {OAI_DC: "oai_dc", OAI_NAMESPACE: "tt05_ead"}


def validate_response(document: bytes) -> list[Finding]:
    """What is wrong with an OAI-PMH response; empty when it is valid.

    The envelope is checked against ``OAI-PMH.xsd``; then every ``metadata`` element's child
    against the schema of its namespace. A format we do not know is reported, not skipped.
    """
    tree = etree.fromstring(document, parser())
    problems = validate(etree.ElementTree(tree), "oai")
    for metadata in tree.iter(f"{{{OAI}}}metadata"):
        for record in metadata:
            namespace = etree.QName(record).namespace or ""
            name = _FORMAT_SCHEMAS.get(namespace)
            if name is None:
                problems.append(
                    Finding(
                        code="xsd.oai_format",
                        severity=Severity.ERROR,
                        where=f"line {record.sourceline}",
                        message=f"no schema for metadata namespace {namespace!r}",
                    )
                )
                continue
            problems += validate(record, name)
    return problems
