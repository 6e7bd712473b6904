"""XML: well-formedness always; schema validity where the document declares a schema we can
reach offline.

The parser never touches the network and never expands entities (an XML file is untrusted input,
and "billion laughs" or XXE must not turn ingest into an attack). A declared schema is looked up in
the catalog (namespace → local XSD) or, for a relative ``schemaLocation``, inside the submission;
a schema that is only online is reported as "could not check", not as valid.
"""

from __future__ import annotations

import stat
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
SHIPPED_SCHEMAS = (Path(__file__).resolve().parents[1] / "schemas").resolve()


class _OfflineResolver(etree.Resolver):
    """Refuse every URL that is not a local file: imports of remote schemas fail instead of
    reaching out (these machines are offline, and an archive must not depend on a web server)."""

    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> object:  # type: ignore[override]
        if system_url and urlparse(system_url).scheme in {"http", "https", "ftp"}:
            raise OSError(f"schema {system_url} is not available offline")
        return None


class SchemaOutsideError(OSError):
    """A schema (or one it includes or imports) lies outside the folders we may read from."""


class _ConfinedResolver(etree.Resolver):
    """Load schema documents only from the allowed folders, and only regular files there.

    A payload XSD is submitted data: its ``xs:include``/``xs:import`` may name ``/etc/passwd``, a
    server's own schema, ``/dev/stdin`` or a FIFO (which blocks a reader forever). Every load of
    the schema and of what it pulls in passes through here (lxml asks the resolver before libxml2
    opens anything), so nothing outside the package and the shipped schemas is read, and nothing
    that is not a regular file is opened. Each refusal is kept in ``refused`` for the finding.
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        super().__init__()
        self.roots = tuple(r.resolve() for r in roots)
        self.refused: list[tuple[str, str]] = []

    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> object:  # type: ignore[override]
        url = system_url or ""
        parsed = urlparse(url)
        if parsed.scheme in {"http", "https", "ftp"}:
            raise OSError(f"schema {url} is not available offline")
        if parsed.scheme not in ("", "file") or not parsed.path:
            return self._refuse(url, "outside the package")
        candidate = Path(unquote(parsed.path))
        if not candidate.is_absolute():  # libxml2 hands us URLs already resolved against their base
            return self._refuse(url, "outside the package")
        candidate = candidate.resolve()
        if not any(candidate.is_relative_to(r) for r in self.roots):
            return self._refuse(url, "outside the package")
        try:
            regular = stat.S_ISREG(candidate.stat().st_mode)
        except OSError:
            regular = False
        if not regular:
            return self._refuse(url, "not a regular file")
        return self.resolve_filename(str(candidate), context)  # type: ignore[attr-defined]

    def _refuse(self, url: str, reason: str) -> object:
        self.refused.append((url, reason))
        raise SchemaOutsideError(f"schema {url!r} is {reason}: not read")


def hardened_parser() -> etree.XMLParser:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    parser.resolvers.add(_OfflineResolver())
    return parser


def _confined_parser(resolver: _ConfinedResolver) -> etree.XMLParser:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    parser.resolvers.add(resolver)
    return parser


_PARSER_LIMITS = (
    ("amplification", "xml.entity_bomb"),
    ("entity reference loop", "xml.entity_bomb"),
    ("excessive depth", "xml.too_deep"),
    ("huge", "xml.too_large"),
)
"""libxml2's protective limits, told apart from real syntax errors (issue 11 item 10): a document
refused because it expands entities explosively, nests deeper than 256 levels or has a huge text
node is not "not well-formed", and the archive must say why it did not check it."""


def _limit_code(message: str) -> str | None:
    lowered = message.lower()
    return next((code for hint, code in _PARSER_LIMITS if hint in lowered), None)


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
            return self._not_parsed(path, exc)
        except (FileNotFoundError, PermissionError):
            raise
        except OSError as exc:  # lxml: bytes not in the declared encoding (found by the fuzz run)
            message = str(exc).replace(str(path), path.name)
            finding = Finding("xml.not_well_formed", Severity.ERROR, path.name, message)
            return self._result(Validity.INVALID, [finding], {})
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
        resolved = self._resolve(locations, path)
        if isinstance(resolved, Finding):
            return self._result(Validity.COULD_NOT_CHECK, [resolved], props)
        resolver = _ConfinedResolver(self._roots(path))
        try:
            schema = _compile(resolved, resolver)
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
            return self._result(Validity.COULD_NOT_CHECK, [_schema_unusable(path, exc, resolver)], props)
        if schema.validate(doc):
            props["schema_validated"] = True
            return self._result(Validity.VALID, [], props)
        findings = [
            Finding("xml.schema_invalid", Severity.ERROR, f"{path.name}:{e.line}", e.message)
            for e in list(cast(Iterable[etree._LogEntry], schema.error_log))[:MAX_FINDINGS]
        ]
        return self._result(Validity.INVALID, findings, props)

    def _not_parsed(self, path: Path, exc: etree.XMLSyntaxError) -> Characterization:
        """Not well-formed is invalid; refused by one of libxml2's protective limits is not checked."""
        line, col = exc.position if exc.position else (exc.lineno or 0, 0)
        limit = _limit_code(str(exc))
        if limit is not None:
            return self._result(
                Validity.COULD_NOT_CHECK,
                [Finding(limit, Severity.WARNING, f"{path.name}:{line}:{col}", str(exc))],
                {},
            )
        return self._result(
            Validity.INVALID,
            [Finding("xml.not_well_formed", Severity.ERROR, f"{path.name}:{line}:{col}", str(exc))],
            {},
        )

    def _resolve(self, locations: list[tuple[str, str]], path: Path) -> list[tuple[str, Path]] | Finding:
        """The local file of every declared schema, or the finding for the first that is only online."""
        resolved: list[tuple[str, Path]] = []
        for ns, loc in locations:
            local = self._locate(ns, loc, path)
            if local is None:
                return Finding(
                    "xml.schema_unavailable",
                    Severity.WARNING,
                    path.name,
                    f"schema {loc!r} for namespace {ns or '(none)'} is not available offline",
                )
            resolved.append((ns, local))
        return resolved

    def _roots(self, document: Path) -> list[Path]:
        """Where schemas may be read from: the package (or, with no package, the document's own
        folder), the folders of the catalog's schemas and the schemas shipped with us."""
        roots = [self.search_root or document.parent.resolve(), SHIPPED_SCHEMAS]
        roots.extend(p.parent for p in self.catalog.values())
        return roots

    def _locate(self, namespace: str, location: str, document: Path) -> Path | None:
        if namespace in self.catalog:
            return self.catalog[namespace]
        parsed = urlparse(location)
        if parsed.scheme not in ("", "file") or not location:
            return None
        candidate = (document.parent / unquote(parsed.path)).resolve()
        root = self.search_root or document.parent.resolve()
        if not candidate.is_relative_to(root):
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


def _schema_unusable(path: Path, exc: Exception, resolver: _ConfinedResolver) -> Finding:
    """Why a declared schema could not be compiled: a read the confined resolver refused, or the
    schema itself."""
    if resolver.refused:
        url, reason = resolver.refused[0]
        return Finding(
            "xml.schema_outside_package",
            Severity.WARNING,
            path.name,
            f"the declared schema reads {url!r}, {reason}: not read, so the file is not schema-validated",
            {"location": url, "reason": reason},
        )
    return Finding(
        "xml.schema_unavailable",
        Severity.WARNING,
        path.name,
        f"the declared schema cannot be used: {exc}",
    )


def _compile(schemas: list[tuple[str, Path]], resolver: _ConfinedResolver) -> etree.XMLSchema:
    parser = _confined_parser(resolver)
    if len(schemas) == 1:
        return etree.XMLSchema(etree.parse(str(schemas[0][1]), parser))
    xs = "http://www.w3.org/2001/XMLSchema"
    wrapper = etree.Element(f"{{{xs}}}schema", nsmap={"xs": xs})
    for ns, path in schemas:
        attrs = {"schemaLocation": path.as_uri()}
        if ns:
            attrs["namespace"] = ns
        etree.SubElement(wrapper, f"{{{xs}}}import", attrs)
    return etree.XMLSchema(etree.fromstring(etree.tostring(wrapper), parser))
