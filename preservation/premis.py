"""PREMIS 3 documents: objects (intellectual entity, representations, files), events, agents.

Written with lxml in the element order of the PREMIS 3.0 schema and validated against it before
use. Files carry SHA-256 and SHA-512 fixity, size, PRONOM format (``formatRegistry``), the original
name exactly as submitted (``originalName``), their characterization (in
``objectCharacteristicsExtension``, in our own small namespace, so nothing is lost that a
validator told us), and an ``is included in`` relationship to their representation (PREMIS 3 Data
Dictionary §1.13).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from lxml import etree

from preservation.characteristics import Characterization
from preservation.events import Agent, Event
from preservation.formats import UNIDENTIFIED, FormatIdentification

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XLINK_NS = "http://www.w3.org/1999/xlink"
KL_NS = "https://kholuu.vn/ns/characterization/v1"
EXT_NS = "https://kholuu.vn/ns/premis-ext/1"
"""Our ``eventDetailExtension``: ``<kholuu:detail code="…"><kholuu:param name="…">…</kholuu:param>``,
the event's language-neutral detail (a message code and its values), so that the AIP alone lets
a reader see the event in Vietnamese after the catalog is lost."""
SCHEMA_LOCATION = f"{PREMIS_NS} http://www.loc.gov/standards/premis/v3/premis.xsd"
NSMAP = {"premis": PREMIS_NS, "xsi": XSI_NS, "xlink": XLINK_NS}

UUID_TYPE = "UUID"
LOCAL_TYPE = "local"
HASH_VOCABULARY = "http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions"
AGENT_ROLE_URI = "http://id.loc.gov/vocabulary/preservation/eventRelatedAgentRole/exe"


@dataclass(frozen=True)
class PremisFile:
    """One file object.

    Attributes:
        original_name: the submitted name as text (``FileName.text``: NFD stays NFD; non-UTF-8
            bytes percent-escaped).
        aip_path: the path inside the AIP, relative to the AIP root.
    """

    uuid: str
    original_name: str
    aip_path: str
    size: int
    sha256: str
    sha512: str
    representation: str
    format: FormatIdentification | None = None
    characterizations: tuple[Characterization, ...] = ()
    representation_uuid: str = ""
    derived_from: str = ""  # uuid of the source file of a derivative (relationship "derivation")


@dataclass(frozen=True)
class PremisRepresentation:
    uuid: str
    name: str
    entity: str = ""  # the intellectual entity (AIP id) it belongs to


@dataclass(frozen=True)
class PremisIntellectualEntity:
    identifier: str
    label: str = ""


@dataclass(frozen=True)
class PremisDocument:
    entity: PremisIntellectualEntity | None
    representations: Sequence[PremisRepresentation]
    files: Sequence[PremisFile]
    events: Sequence[Event]
    agents: Sequence[Agent]
    timezone: tzinfo | None = field(default=None)


def _e(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{PREMIS_NS}}}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        el.text = text
    return el


def _identifier(parent: etree._Element, tag: str, kind: str, value: str) -> None:
    el = _e(parent, tag)
    _e(el, f"{tag}Type", kind)
    _e(el, f"{tag}Value", value)


def iso(dt: datetime, zone: tzinfo | None) -> str:
    """ISO 8601 with seconds (and fraction) and the offset, e.g. ``2025-07-01T08:30:00.123+07:00``."""
    local = dt.astimezone(zone) if zone is not None else dt
    return local.isoformat(timespec="milliseconds")


def premis_document(doc: PremisDocument) -> etree._ElementTree:
    """Build the PREMIS 3 document (not yet validated: see :func:`preservation.xsd.validate`)."""
    root = etree.Element(f"{{{PREMIS_NS}}}premis", nsmap=NSMAP, version="3.0")
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    if doc.entity is not None:
        _entity(root, doc.entity, [r for r in doc.representations])
    for rep in doc.representations:
        _representation(root, rep, doc.files)
    for f in doc.files:
        _file(root, f)
    for event in doc.events:
        _event(root, event, doc.timezone)
    for agent in _unique_agents(doc.agents, doc.events):
        _agent(root, agent)
    return etree.ElementTree(root)


def _object(root: etree._Element, xsi_type: str) -> etree._Element:
    obj = _e(root, "object")
    obj.set(f"{{{XSI_NS}}}type", f"premis:{xsi_type}")
    return obj


_RELATIONSHIP_TYPES = {
    "structural": "http://id.loc.gov/vocabulary/preservation/relationshipType/str",
    "derivation": "http://id.loc.gov/vocabulary/preservation/relationshipType/der",
}


def _relationship(
    obj: etree._Element, subtype: str, related: Iterable[tuple[str, str]], kind: str = "structural"
) -> None:
    items = list(related)
    if not items:
        return
    rel = _e(obj, "relationship")
    _e(rel, "relationshipType", kind, authority="relationshipType", valueURI=_RELATIONSHIP_TYPES[kind])
    _e(rel, "relationshipSubType", subtype)
    for kind, value in items:
        ident = _e(rel, "relatedObjectIdentifier")
        _e(ident, "relatedObjectIdentifierType", kind)
        _e(ident, "relatedObjectIdentifierValue", value)


def _entity(root: etree._Element, entity: PremisIntellectualEntity, reps: list[PremisRepresentation]) -> None:
    obj = _object(root, "intellectualEntity")
    _identifier(obj, "objectIdentifier", LOCAL_TYPE, entity.identifier)
    if entity.label:
        _e(obj, "originalName", entity.label)
    _relationship(obj, "has part", [(UUID_TYPE, r.uuid) for r in reps])


def _representation(root: etree._Element, rep: PremisRepresentation, files: Sequence[PremisFile]) -> None:
    obj = _object(root, "representation")
    _identifier(obj, "objectIdentifier", UUID_TYPE, rep.uuid)
    _identifier(obj, "objectIdentifier", LOCAL_TYPE, f"representations/{rep.name}")
    _e(obj, "originalName", rep.name)
    if rep.entity:
        _relationship(obj, "is included in", [(LOCAL_TYPE, rep.entity)])
    _relationship(obj, "has part", [(UUID_TYPE, f.uuid) for f in files if f.representation == rep.name])


def _file(root: etree._Element, f: PremisFile) -> None:
    obj = _object(root, "file")
    _identifier(obj, "objectIdentifier", UUID_TYPE, f.uuid)
    _identifier(obj, "objectIdentifier", LOCAL_TYPE, f.aip_path)
    chars = _e(obj, "objectCharacteristics")
    _e(chars, "compositionLevel", "0")
    for algorithm, value in (("SHA-256", f.sha256), ("SHA-512", f.sha512)):
        fixity = _e(chars, "fixity")
        _e(
            fixity,
            "messageDigestAlgorithm",
            algorithm,
            authority="cryptographicHashFunctions",
            valueURI=f"{HASH_VOCABULARY}/{algorithm.lower().replace('-', '')}",
        )
        _e(fixity, "messageDigest", value)
    _e(chars, "size", str(f.size))
    _format(chars, f.format)
    if f.characterizations:
        ext = _e(chars, "objectCharacteristicsExtension")
        for c in f.characterizations:
            _characterization(ext, c)
    _e(obj, "originalName", f.original_name)
    if f.representation_uuid:
        _relationship(obj, "is included in", [(UUID_TYPE, f.representation_uuid)])
    if f.derived_from:
        # PREMIS 3 relationshipType "derivation", subtype "has source": the file it was made from.
        _relationship(obj, "has source", [(UUID_TYPE, f.derived_from)], kind="derivation")


def _format(parent: etree._Element, ident: FormatIdentification | None) -> None:
    fmt = _e(parent, "format")
    match = ident.chosen if ident is not None else None
    if match is None or match.puid == UNIDENTIFIED:
        designation = _e(fmt, "formatDesignation")
        _e(designation, "formatName", UNIDENTIFIED)
        if match is not None and (match.warning or match.basis):
            _e(fmt, "formatNote", "; ".join(filter(None, [match.basis, match.warning])))
        return
    if match.name:
        designation = _e(fmt, "formatDesignation")
        _e(designation, "formatName", match.name)
        if match.version:
            _e(designation, "formatVersion", match.version)
    registry = _e(fmt, "formatRegistry")
    _e(registry, "formatRegistryName", "PRONOM")
    _e(registry, "formatRegistryKey", match.puid)
    _e(registry, "formatRegistryRole", "specification", authority="formatRegistryRole")
    note = "; ".join(
        filter(None, [f"identified by {ident.agent.identifier}" if ident else "", match.basis, match.warning])
    )
    if note:
        _e(fmt, "formatNote", note)


def _characterization(parent: etree._Element, c: Characterization) -> None:
    el = etree.SubElement(
        parent,
        f"{{{KL_NS}}}characterization",
        {"validator": c.validator, "validity": c.validity.value, "agent": c.agent.identifier},
        nsmap={"kl": KL_NS},
    )
    for name, value in sorted(c.properties.items()):
        kind = "bool" if isinstance(value, bool) else type(value).__name__
        prop = etree.SubElement(el, f"{{{KL_NS}}}property", {"name": name, "type": kind})
        prop.text = str(value).lower() if isinstance(value, bool) else str(value)
    for finding in c.findings:
        f = etree.SubElement(
            el, f"{{{KL_NS}}}finding", {"code": finding.code, "severity": finding.severity.value}
        )
        f.text = _xml_safe(finding.message)


def _event(root: etree._Element, event: Event, zone: tzinfo | None) -> None:
    ev = _e(root, "event")
    _identifier(ev, "eventIdentifier", UUID_TYPE, event.identifier)
    _e(ev, "eventType", event.type.value, authority="eventType", valueURI=event.type.uri)
    _e(ev, "eventDateTime", iso(event.datetime, zone))
    detail = _e(ev, "eventDetailInformation")
    _e(detail, "eventDetail", _xml_safe(event.detail))
    if event.detail_code:
        _detail_extension(detail, event)
    outcome = _e(ev, "eventOutcomeInformation")
    _e(outcome, "eventOutcome", event.outcome.value, authority="eventOutcome")
    if event.outcome_detail:
        od = _e(outcome, "eventOutcomeDetail")
        _e(od, "eventOutcomeDetailNote", _xml_safe(event.outcome_detail))
    for agent in event.agents:
        link = _e(ev, "linkingAgentIdentifier")
        _e(link, "linkingAgentIdentifierType", LOCAL_TYPE)
        _e(link, "linkingAgentIdentifierValue", agent_key(agent))
        _e(
            link,
            "linkingAgentRole",
            "executing program" if agent.type.value == "software" else "implementer",
            authority="eventRelatedAgentRole",
        )
    for obj in event.objects:
        link = _e(ev, "linkingObjectIdentifier")
        _e(link, "linkingObjectIdentifierType", LOCAL_TYPE if obj.startswith("uuid-") else UUID_TYPE)
        _e(link, "linkingObjectIdentifierValue", obj)


def _detail_extension(parent: etree._Element, event: Event) -> None:
    ext = _e(parent, "eventDetailExtension")
    el = etree.SubElement(ext, f"{{{EXT_NS}}}detail", {"code": event.detail_code}, nsmap={"kholuu": EXT_NS})
    for name, value in sorted(event.detail_params.items()):
        param = etree.SubElement(el, f"{{{EXT_NS}}}param", {"name": _xml_safe(name)})
        param.text = _xml_safe(str(value))


def agent_key(agent: Agent) -> str:
    """The agent's identifier in a document: ``name/version``, plus the note's digest when two agents
    differ only by their note (same Siegfried, different signature file)."""
    import hashlib

    base = agent.identifier
    if not agent.note:
        return base
    return f"{base}#{hashlib.sha256(agent.note.encode('utf-8')).hexdigest()[:12]}"


def _unique_agents(agents: Sequence[Agent], events: Sequence[Event]) -> list[Agent]:
    seen: dict[str, Agent] = {}
    for agent in [*agents, *(a for e in events for a in e.agents)]:
        seen.setdefault(agent_key(agent), agent)
    return list(seen.values())


def _agent(root: etree._Element, agent: Agent) -> None:
    ag = _e(root, "agent")
    _identifier(ag, "agentIdentifier", LOCAL_TYPE, agent_key(agent))
    _e(ag, "agentName", agent.name)
    _e(ag, "agentType", agent.type.value, authority="agentType")
    if agent.version:
        _e(ag, "agentVersion", agent.version)
    if agent.note:
        _e(ag, "agentNote", _xml_safe(agent.note))


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot carry most control characters; a tool's stderr sometimes does."""
    return "".join(ch if ch in "\t\n\r" or ord(ch) >= 0x20 else f"\\x{ord(ch):02x}" for ch in text)
