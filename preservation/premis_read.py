"""Reading back the PREMIS 3 documents :mod:`preservation.premis` writes.

The catalog can be rebuilt from storage alone because every AIP carries its own PREMIS: file
objects (PREMIS 3 Data Dictionary §1: identifiers, fixity, size, format, original name, the
representation a file is included in), events (§2) and agents (§3). This module turns such a
document back into frozen records. It does not trust what it reads: the document must be
well-formed, valid against the PREMIS 3 schema, and carry every element our writer puts in
(identifiers, both digests, a size, an aware ``eventDateTime``); anything else is a
:class:`PremisReadError` naming the file and the problem.

What the writer joins into one string cannot always be split again: ``formatNote`` is
``identified by <agent>; <basis>; <warning>`` and a basis often contains ``"; "`` itself.
:func:`identification_basis` recovers basis and warning only when the file's format
identification event says the same thing the note does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from preservation import xsd
from preservation.characteristics import PropertyValue
from preservation.events import EventType
from preservation.formats import UNIDENTIFIED
from preservation.premis import EXT_NS, KL_NS, PREMIS_NS, XSI_NS
from preservation.premis_records import (
    AgentRecord,
    CharacterizationRecord,
    EntityRecord,
    EventRecord,
    FileRecord,
    FindingRecord,
    PremisReadError,
    PremisRecords,
    RepresentationRecord,
)

__all__ = [
    "AgentRecord",
    "CharacterizationRecord",
    "EntityRecord",
    "EventRecord",
    "FileRecord",
    "FindingRecord",
    "PremisReadError",
    "PremisRecords",
    "RepresentationRecord",
    "identification_basis",
    "read_premis",
]

_NS = {"premis": PREMIS_NS, "kl": KL_NS, "kholuu": EXT_NS}
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGEST_LENGTHS = {"SHA-256": 64, "SHA-512": 128}
_IDENTIFIED_BY = "identified by "
_IDENTIFICATION_DETAIL = re.compile(
    r"(?P<head>.*?)(?:; basis: (?P<basis>.*?))?(?:; warning: (?P<warning>.*?))?(?:; cross-check .*)?",
    re.DOTALL,
)


def read_premis(data: bytes, where: str, *, validate: bool = True) -> PremisRecords:
    """Parse a PREMIS 3 document written by :func:`preservation.premis.premis_document`.

    Args:
        data: the document's bytes (PREMIS files are metadata: read whole).
        where: the file's name for errors, e.g. ``metadata/preservation/PREMIS.xml``.
        validate: check it against the PREMIS 3 schema first (offline, :mod:`preservation.xsd`).

    Raises:
        PremisReadError: ``xml.not_well_formed`` when it is not XML; ``premis.invalid`` when it is
            not PREMIS 3, breaks the schema, or lacks an element our writer always writes.
    """
    try:
        root = etree.fromstring(data, xsd.parser())
    except etree.XMLSyntaxError as exc:
        raise PremisReadError(where, f"not well-formed XML: {exc}", code="xml.not_well_formed") from None
    if root.tag != f"{{{PREMIS_NS}}}premis" or not str(root.get("version", "")).startswith("3."):
        raise PremisReadError(
            where, f"root element {root.tag} version {root.get('version')!r} is not PREMIS 3"
        )
    if validate:
        problems = xsd.validate(etree.ElementTree(root), "premis")
        if problems:
            raise PremisReadError(
                where,
                "not valid against the PREMIS 3 schema: "
                + "; ".join(f"{p.where}: {p.message}" for p in problems[:3]),
            )
    reader = _Reader(where)
    entity: EntityRecord | None = None
    representations: list[RepresentationRecord] = []
    files: list[FileRecord] = []
    for obj in root.iterfind("premis:object", _NS):
        kind = reader.object_type(obj)
        if kind == "file":
            files.append(reader.file(obj))
        elif kind == "representation":
            representations.append(reader.representation(obj))
        elif kind == "intellectualEntity":
            if entity is not None:
                raise PremisReadError(where, "more than one intellectual entity")
            entity = reader.entity(obj)
    events = tuple(reader.event(ev) for ev in root.iterfind("premis:event", _NS))
    agents = tuple(reader.agent(ag) for ag in root.iterfind("premis:agent", _NS))
    return PremisRecords(where, entity, tuple(representations), tuple(files), events, agents)


def identification_basis(file: FileRecord, events: Sequence[EventRecord]) -> tuple[str, str] | None:
    """The chosen match's (basis, warning), or None when they cannot be told apart reliably.

    ``formatNote`` joins agent, basis and warning with ``"; "``, which a basis may contain too.
    The file's latest ``format identification`` event labels them (``; basis: …; warning: …``);
    the split is accepted only if joining it again gives exactly the note.
    """
    if not file.format_note:
        return ("", "")
    candidates = [
        e for e in events if e.type == EventType.FORMAT_IDENTIFICATION.value and e.objects == (file.uuid,)
    ]
    if not candidates:
        return None
    detail = max(candidates, key=lambda e: e.datetime).outcome_detail
    match = _IDENTIFICATION_DETAIL.fullmatch(detail)
    if match is None or not match["head"].startswith(file.puid or UNIDENTIFIED):
        return None
    basis, warning = match["basis"] or "", match["warning"] or ""
    if file.puid == UNIDENTIFIED:
        parts = [basis, warning]
    elif file.identified_by is not None:
        parts = [f"{_IDENTIFIED_BY}{file.identified_by}", basis, warning]
    else:
        return None
    return (basis, warning) if "; ".join(filter(None, parts)) == file.format_note else None


class _Reader:
    """Element readers sharing the file name that errors carry."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, problem: str) -> PremisReadError:
        return PremisReadError(self.where, problem)

    def text(self, el: etree._Element, path: str, *, required: bool = True) -> str:
        found = el.find(path, _NS)
        if found is None:
            if required:
                raise self.fail(f"{_describe(el)} has no {path}")
            return ""
        return found.text or ""

    def identifiers(self, el: etree._Element, tag: str) -> list[tuple[str, str]]:
        return [
            (self.text(i, f"premis:{tag}Type"), self.text(i, f"premis:{tag}Value"))
            for i in el.iterfind(f"premis:{tag}", _NS)
        ]

    def identifier(self, el: etree._Element, tag: str, kind: str) -> str:
        values = [v for k, v in self.identifiers(el, tag) if k == kind]
        if len(values) != 1 or not values[0]:
            raise self.fail(f"{_describe(el)} has {len(values)} {kind} {tag}s, expected one")
        return values[0]

    def object_type(self, obj: etree._Element) -> str:
        value = obj.get(f"{{{XSI_NS}}}type", "")
        prefix, _, local = value.rpartition(":")
        if obj.nsmap.get(prefix or None) != PREMIS_NS:
            raise self.fail(f"object with xsi:type {value!r} outside the PREMIS namespace")
        return local

    def entity(self, obj: etree._Element) -> EntityRecord:
        return EntityRecord(
            identifier=self.identifier(obj, "objectIdentifier", "local"),
            label=self.text(obj, "premis:originalName", required=False),
        )

    def representation(self, obj: etree._Element) -> RepresentationRecord:
        included = self.related(obj, "is included in")
        return RepresentationRecord(
            uuid=self.identifier(obj, "objectIdentifier", "UUID"),
            name=self.text(obj, "premis:originalName"),
            entity=included[0] if included else None,
        )

    def related(self, obj: etree._Element, subtype: str) -> list[str]:
        out: list[str] = []
        for rel in obj.iterfind("premis:relationship", _NS):
            if self.text(rel, "premis:relationshipSubType") == subtype:
                out.extend(v for _, v in self.identifiers(rel, "relatedObjectIdentifier"))
        return out

    def file(self, obj: etree._Element) -> FileRecord:
        uuid = self.identifier(obj, "objectIdentifier", "UUID")
        chars = obj.find("premis:objectCharacteristics", _NS)
        if chars is None:
            raise self.fail(f"file {uuid} has no objectCharacteristics")
        digests = self.fixity(chars, uuid)
        size_text = self.text(chars, "premis:size")
        if not size_text.isdigit():
            raise self.fail(f"file {uuid} has size {size_text!r}")
        puid, name, version, note = self.format(chars)
        included = self.related(obj, "is included in")
        sources = self.related(obj, "has source")
        identified_by = None
        if note.startswith(_IDENTIFIED_BY):
            identified_by = note[len(_IDENTIFIED_BY) :].split("; ", 1)[0]
        return FileRecord(
            uuid=uuid,
            aip_path=self.identifier(obj, "objectIdentifier", "local"),
            size=int(size_text),
            sha256=digests["SHA-256"],
            sha512=digests["SHA-512"],
            puid=puid,
            format_name=name,
            format_version=version,
            format_note=note,
            identified_by=identified_by,
            original_name=self.text(obj, "premis:originalName"),
            representation_uuid=included[0] if included else None,
            derived_from=sources[0] if sources else "",
            characterizations=tuple(
                self.characterization(c)
                for c in chars.iterfind("premis:objectCharacteristicsExtension/kl:characterization", _NS)
            ),
        )

    def fixity(self, chars: etree._Element, uuid: str) -> dict[str, str]:
        digests: dict[str, str] = {}
        for fixity in chars.iterfind("premis:fixity", _NS):
            algorithm = self.text(fixity, "premis:messageDigestAlgorithm")
            value = self.text(fixity, "premis:messageDigest").strip().lower()
            if algorithm in _DIGEST_LENGTHS:
                if len(value) != _DIGEST_LENGTHS[algorithm] or not _HEX.fullmatch(value):
                    raise self.fail(f"file {uuid} has a malformed {algorithm} digest {value!r}")
                digests[algorithm] = value
        missing = sorted(set(_DIGEST_LENGTHS) - set(digests))
        if missing:
            raise self.fail(f"file {uuid} has no {' or '.join(missing)} fixity")
        return digests

    def format(self, chars: etree._Element) -> tuple[str | None, str | None, str | None, str]:
        fmt = chars.find("premis:format", _NS)
        if fmt is None:
            return None, None, None, ""
        name = self.text(fmt, "premis:formatDesignation/premis:formatName", required=False) or None
        version = self.text(fmt, "premis:formatDesignation/premis:formatVersion", required=False) or None
        puid: str | None = None
        for registry in fmt.iterfind("premis:formatRegistry", _NS):
            if self.text(registry, "premis:formatRegistryName") == "PRONOM":
                puid = self.text(registry, "premis:formatRegistryKey") or None
        note = "; ".join(n.text or "" for n in fmt.iterfind("premis:formatNote", _NS))
        if puid is None and name == UNIDENTIFIED:
            puid, name = UNIDENTIFIED, None
        return puid, name, version, note

    def characterization(self, el: etree._Element) -> CharacterizationRecord:
        properties: dict[str, PropertyValue] = {}
        for prop in el.iterfind("kl:property", _NS):
            properties[prop.get("name", "")] = self.property(prop)
        findings = tuple(
            FindingRecord(code=f.get("code", ""), severity=f.get("severity", ""), message=f.text or "")
            for f in el.iterfind("kl:finding", _NS)
        )
        return CharacterizationRecord(
            validator=el.get("validator", ""),
            validity=el.get("validity", ""),
            agent=el.get("agent", ""),
            properties=properties,
            findings=findings,
        )

    def property(self, prop: etree._Element) -> PropertyValue:
        kind, text = prop.get("type", "str"), prop.text or ""
        try:
            if kind == "bool" and text in ("true", "false"):
                return text == "true"
            if kind == "int":
                return int(text)
            if kind == "float":
                return float(text)
        except ValueError:
            pass
        if kind == "str":
            return text
        raise self.fail(
            f"characterization property {prop.get('name')!r} has type {kind!r} and value {text!r}"
        )

    def event(self, ev: etree._Element) -> EventRecord:
        identifier = self.identifier(ev, "eventIdentifier", "UUID")
        stamp = self.text(ev, "premis:eventDateTime")
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            raise self.fail(f"event {identifier} has eventDateTime {stamp!r}") from None
        if moment.tzinfo is None:
            raise self.fail(f"event {identifier} has eventDateTime {stamp!r} without a time zone")
        notes = ev.iterfind(
            "premis:eventOutcomeInformation/premis:eventOutcomeDetail/premis:eventOutcomeDetailNote", _NS
        )
        code, params = self.detail_extension(ev, identifier)
        return EventRecord(
            identifier=identifier,
            type=self.text(ev, "premis:eventType"),
            datetime=moment,
            outcome=self.text(ev, "premis:eventOutcomeInformation/premis:eventOutcome"),
            detail=self.text(ev, "premis:eventDetailInformation/premis:eventDetail", required=False),
            outcome_detail="\n".join(n.text or "" for n in notes),
            agents=tuple(v for _, v in self.identifiers(ev, "linkingAgentIdentifier")),
            objects=tuple(v for _, v in self.identifiers(ev, "linkingObjectIdentifier")),
            detail_code=code,
            detail_params=params,
        )

    def detail_extension(self, ev: etree._Element, identifier: str) -> tuple[str, dict[str, str]]:
        """The event's ``kholuu:detail`` (code and params), or ``("", {})`` when it has none."""
        found = ev.find("premis:eventDetailInformation/premis:eventDetailExtension/kholuu:detail", _NS)
        if found is None:
            return "", {}
        code = found.get("code", "")
        if not code:
            raise self.fail(f"event {identifier} has a kholuu:detail without a code")
        params: dict[str, str] = {}
        for param in found.iterfind("kholuu:param", _NS):
            name = param.get("name")
            if not name:
                raise self.fail(f"event {identifier} has a kholuu:param without a name")
            params[name] = param.text or ""
        return code, params

    def agent(self, ag: etree._Element) -> AgentRecord:
        return AgentRecord(
            identifier=self.identifier(ag, "agentIdentifier", "local"),
            name=self.text(ag, "premis:agentName"),
            type=self.text(ag, "premis:agentType"),
            version=self.text(ag, "premis:agentVersion", required=False),
            note=self.text(ag, "premis:agentNote", required=False),
        )


def _describe(el: etree._Element) -> str:
    return f"{etree.QName(el).localname} (line {el.sourceline})"
