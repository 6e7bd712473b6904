"""XML: well-formedness always; schema validity where the document declares a schema we can
reach offline.

The parser never touches the network and never expands entities (an XML file is untrusted input,
and "billion laughs" or XXE must not turn ingest into an attack). A declared schema is looked up in
the catalog (namespace → local XSD) or, for a relative ``schemaLocation``, inside the submission;
a schema that is only online is reported as "could not check", not as valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import cast
from urllib.parse import unquote, urlparse

from lxml import etree

from preservation.characteristics import Characterization, PropertyValue, Validity
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_PUIDS = frozenset({"fmt/101", "x-fmt/280", "fmt/1474", "fmt/1475", "fmt/1476", "fmt/1477"})
XML_MIMES = frozenset({"application/xml", "text/xml"})
MAX_FINDINGS = 50


class _OfflineResolver(etree.Resolver):
    """Refuse every URL that is not a local file: imports of remote schemas fail instead of
    reaching out (these machines are offline, and an archive must not depend on a web server)."""

    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> object:  # type: ignore[override]
        if system_url and urlparse(system_url).scheme in {"http", "https", "ftp"}:
            raise OSError(f"schema {system_url} is not available offline")
        return None


def hardened_parser() -> etree.XMLParser:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    parser.resolvers.add(_OfflineResolver())
    return parser


class XmlCharacterizer:
    name = "xml"

    def __init__(self, *, catalog: Mapping[str, Path] | None = None, search_root: Path | None = None) -> None:
        self.catalog = dict(catalog or {})
        self.search_root = search_root.resolve() if search_root else None
        self.agent = Agent(
            name="lxml", version=f"{etree.__version__} (libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))})"
        )

    def applies(self, fmt: FormatMatch) -> bool:
        return fmt.puid in XML_PUIDS or fmt.mime in XML_MIMES or fmt.mime.endswith("+xml")

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization:
        try:
            doc = etree.parse(str(path), hardened_parser())
        except etree.XMLSyntaxError as exc:
            line, col = exc.position if exc.position else (exc.lineno or 0, 0)
            return self._result(
                Validity.INVALID,
                [Finding("xml.not_well_formed", Severity.ERROR, f"{path.name}:{line}:{col}", str(exc))],
                {},
            )
        root = doc.getroot()
        qname = etree.QName(root)
        props: dict[str, PropertyValue] = {
            "root_element": qname.localname,
            "namespace": qname.namespace or "",
            "encoding": doc.docinfo.encoding or "",
            "xml_version": doc.docinfo.xml_version or "",
            "schema_validated": False,
        }
        locations = _declared_schemas(root)
        if not locations:
            return self._result(Validity.VALID, [], props)
        props["schema_location"] = " ".join(f"{ns} {loc}".strip() for ns, loc in locations)
        resolved: list[tuple[str, Path]] = []
        for ns, loc in locations:
            local = self._locate(ns, loc, path)
            if local is None:
                return self._result(
                    Validity.COULD_NOT_CHECK,
                    [
                        Finding(
                            "xml.schema_unavailable",
                            Severity.WARNING,
                            path.name,
                            f"schema {loc!r} for namespace {ns or '(none)'} is not available offline",
                        )
                    ],
                    props,
                )
            resolved.append((ns, local))
        try:
            schema = _compile(resolved)
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
            return self._result(
                Validity.COULD_NOT_CHECK,
                [
                    Finding(
                        "xml.schema_unavailable",
                        Severity.WARNING,
                        path.name,
                        f"the declared schema cannot be used: {exc}",
                    )
                ],
                props,
            )
        if schema.validate(doc):
            props["schema_validated"] = True
            return self._result(Validity.VALID, [], props)
        findings = [
            Finding("xml.schema_invalid", Severity.ERROR, f"{path.name}:{e.line}", e.message)
            for e in list(cast(Iterable[etree._LogEntry], schema.error_log))[:MAX_FINDINGS]
        ]
        return self._result(Validity.INVALID, findings, props)

    def _locate(self, namespace: str, location: str, document: Path) -> Path | None:
        if namespace in self.catalog:
            return self.catalog[namespace]
        parsed = urlparse(location)
        if parsed.scheme not in ("", "file") or not location:
            return None
        candidate = (document.parent / unquote(parsed.path)).resolve()
        if self.search_root is not None and not candidate.is_relative_to(self.search_root):
            return None
        return candidate if candidate.is_file() else None

    def _result(
        self, validity: Validity, findings: list[Finding], props: dict[str, PropertyValue]
    ) -> Characterization:
        return Characterization("xml", self.agent, validity, tuple(findings), props)


def _declared_schemas(root: etree._Element) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pairs = (root.get(f"{{{XSI}}}schemaLocation") or "").split()
    out.extend((pairs[i], pairs[i + 1]) for i in range(0, len(pairs) - 1, 2))
    nons = root.get(f"{{{XSI}}}noNamespaceSchemaLocation")
    if nons:
        out.append(("", nons.strip()))
    return out


def _compile(schemas: list[tuple[str, Path]]) -> etree.XMLSchema:
    if len(schemas) == 1:
        return etree.XMLSchema(etree.parse(str(schemas[0][1]), hardened_parser()))
    xs = "http://www.w3.org/2001/XMLSchema"
    wrapper = etree.Element(f"{{{xs}}}schema", nsmap={"xs": xs})
    for ns, path in schemas:
        attrs = {"schemaLocation": path.as_uri()}
        if ns:
            attrs["namespace"] = ns
        etree.SubElement(wrapper, f"{{{xs}}}import", attrs)
    return etree.XMLSchema(etree.ElementTree(wrapper))
