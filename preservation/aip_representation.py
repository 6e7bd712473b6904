"""One representation of an AIP written anew, or edited, for a later version of the AIP.

Used by :mod:`preservation.aip_migrate`. A new representation gets its PREMIS and METS as
:mod:`preservation.aip` writes them at ingest; an existing one keeps its documents, edited: file
objects out and in (with the representation's ``has part``, PREMIS 3 §1.13), ``file`` entries out
and in (CSIP67-79), its PREMIS mdRef's SIZE and CHECKSUM, LASTMODDATE and RECORDSTATUS="REVISED".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from lxml import etree

from preservation.aip_edit import (
    NS,
    XSI_TYPE,
    add_events,
    href_path,
    invalid,
    mark_revised,
    parse,
    set_ref_digests,
)
from preservation.aip_layout import XML_MIME, payload_mime
from preservation.characteristics import Characterization
from preservation.events import Agent, Event
from preservation.fixity import Digests, digest_file
from preservation.formats import FormatIdentification
from preservation.mets import Header, IdSource, Ref, add_file, representation_mets, write
from preservation.package import PayloadFile
from preservation.premis import PremisDocument, PremisFile, PremisRepresentation, premis_document

__all__ = ["Derivative", "RepresentationChange", "edit_representation", "new_representation"]


@dataclass(frozen=True)
class Derivative:
    """A file to add: where its bytes are now (``file.path``, digests checked on the way in), the
    representation and name it gets, its source; and what identification and validation said."""

    file: PayloadFile
    format: FormatIdentification | None = None
    characterizations: tuple[Characterization, ...] = ()

    @property
    def rel(self) -> str:
        return f"representations/{self.file.representation}/data/{self.file.name.text}"


@dataclass
class RepresentationChange:
    """One representation a new version changes: its new files, the paths it drops, and the
    events about one of its new files alone (they go into its own PREMIS)."""

    name: str
    add: list[Derivative] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"representations/{self.name}/"

    @property
    def premis_rel(self) -> str:
        return f"{self.base}metadata/preservation/PREMIS_{self.name}.xml"

    @property
    def mets_rel(self) -> str:
        return f"{self.base}METS.xml"


def _premis_file(d: Derivative, rep_uuid: str) -> PremisFile:
    f = d.file
    return PremisFile(
        uuid=f.uuid,
        original_name=f.name.text,
        aip_path=d.rel,
        size=f.size,
        sha256=f.digests.sha256,
        sha512=f.digests.sha512,
        representation=f.representation,
        format=d.format,
        characterizations=d.characterizations,
        representation_uuid=rep_uuid,
        derived_from=f.derived_from,
    )


def _data_ref(d: Derivative, base: str, digests: Digests, when: datetime) -> Ref:
    return Ref(
        id=f"ID-{d.file.uuid}",
        href=d.rel[len(base) :],
        size=digests.size,
        sha256=digests.sha256,
        mimetype=payload_mime(d.format),
        created=when,
    )


def new_representation(
    target: Path,
    rep: RepresentationChange,
    premis_rep: PremisRepresentation,
    mets: etree._ElementTree,
    creator: Agent,
    when: datetime,
    zone: tzinfo,
) -> dict[str, Digests]:
    """A representation the AIP did not have: its PREMIS and its METS, as :mod:`preservation.aip`
    writes them at ingest."""
    doc = premis_document(
        PremisDocument(
            entity=None,
            representations=[premis_rep],
            files=[_premis_file(d, premis_rep.uuid) for d in rep.add],
            events=rep.events,
            agents=[a for e in rep.events for a in e.agents],
            timezone=zone,
        )
    )
    (target / rep.premis_rel).parent.mkdir(parents=True, exist_ok=True)
    write(doc, str(target / rep.premis_rel))
    premis_digests = digest_file(target / rep.premis_rel)
    premis_ref = Ref(
        id=IdSource().new(),
        href=rep.premis_rel[len(rep.base) :],
        size=premis_digests.size,
        sha256=premis_digests.sha256,
        mimetype=XML_MIME,
        created=when,
        mdtype="PREMIS",
    )
    tree = representation_mets(
        _header(mets, rep.name, creator, when, zone),
        ids=IdSource(),
        digiprov=[premis_ref],
        other_metadata=[],
        data=[_data_ref(d, rep.base, d.file.digests, when) for d in rep.add],
    )
    write(tree, str(target / rep.mets_rel))
    return {rep.premis_rel: premis_digests, rep.mets_rel: digest_file(target / rep.mets_rel)}


def _header(mets: etree._ElementTree, name: str, creator: Agent, when: datetime, zone: tzinfo) -> Header:
    """A new representation's METS header: the package's profile, type and content information
    type, the archive as its preservation agent, ``creator`` as its creating software."""
    root = mets.getroot()
    csip = "{https://DILCIS.eu/XML/METS/CSIPExtensionMETS}"
    organization = root.findtext("mets:metsHdr/mets:agent[@ROLE='PRESERVATION']/mets:name", namespaces=NS)
    return Header(
        objid=name,
        label="",
        profile=root.get("PROFILE", ""),
        content_category=root.get("TYPE", ""),
        created=when,
        software=creator.name,
        software_version=creator.version,
        organization=organization or "",
        zone=zone,
        content_information_type=root.get(f"{csip}CONTENTINFORMATIONTYPE"),
        other_content_information_type=root.get(f"{csip}OTHERCONTENTINFORMATIONTYPE", ""),
    )


def edit_representation(
    current: Path,
    target: Path,
    rep: RepresentationChange,
    changed: dict[str, Digests],
    when: datetime,
    zone: tzinfo,
) -> dict[str, Digests]:
    """A representation the AIP has: its PREMIS and METS edited for the new and dropped files."""
    premis = parse(current / rep.premis_rel)
    root = premis.getroot()
    rep_object = next(
        (o for o in root.iterfind("premis:object", NS) if o.get(XSI_TYPE, "").endswith("representation")),
        None,
    )
    if rep_object is None:
        raise invalid(f"{rep.premis_rel} has no representation object")
    rep_uuid = _identifier(rep_object, "UUID")
    dropped = _drop_files(root, rep.remove)
    fresh = premis_document(
        PremisDocument(
            entity=None,
            representations=[PremisRepresentation(rep_uuid, rep.name)],
            files=[_premis_file(d, rep_uuid) for d in rep.add],
            events=[],
            agents=[],
            timezone=zone,
        )
    ).getroot()
    _update_has_part(rep_object, dropped, [d.file.uuid for d in rep.add], fresh)
    anchor = root.findall("premis:object", NS)[-1]
    for element in fresh.findall("premis:object", NS)[1:]:  # the file objects
        anchor.addnext(element)
        anchor = element
    add_events(premis, rep.events, zone)
    write(premis, str(target / rep.premis_rel))
    premis_digests = digest_file(target / rep.premis_rel)
    mets = parse(current / rep.mets_rel)
    _edit_representation_mets(mets, rep, changed, premis_digests, when, zone)
    write(mets, str(target / rep.mets_rel))
    return {rep.premis_rel: premis_digests, rep.mets_rel: digest_file(target / rep.mets_rel)}


def _identifier(obj: etree._Element, kind: str) -> str:
    for ident in obj.iterfind("premis:objectIdentifier", NS):
        if ident.findtext("premis:objectIdentifierType", namespaces=NS) == kind:
            return ident.findtext("premis:objectIdentifierValue", default="", namespaces=NS)
    raise invalid(f"a PREMIS object has no {kind} identifier")


def _drop_files(root: etree._Element, paths: Sequence[str]) -> set[str]:
    """Remove the file objects of ``paths`` (their ``local`` identifier); their UUIDs."""
    dropped: set[str] = set()
    for obj in root.findall("premis:object", NS):
        if obj.get(XSI_TYPE, "").endswith(":file") and _local_path(obj) in paths:
            dropped.add(_identifier(obj, "UUID"))
            root.remove(obj)
    return dropped


def _local_path(obj: etree._Element) -> str:
    try:
        return _identifier(obj, "local")
    except Exception:
        return ""


def _update_has_part(
    rep_object: etree._Element, dropped: set[str], added: list[str], fresh: etree._Element
) -> None:
    """The representation's ``has part``: dropped files out, new ones in (PREMIS 3 §1.13)."""
    has_part = [
        r
        for r in rep_object.iterfind("premis:relationship", NS)
        if r.findtext("premis:relationshipSubType", namespaces=NS) == "has part"
    ]
    template = next(
        r
        for r in fresh.find("premis:object", NS).iterfind("premis:relationship", NS)  # type: ignore[union-attr]
        if r.findtext("premis:relationshipSubType", namespaces=NS) == "has part"
    )
    if not has_part:
        anchor = rep_object.findall("premis:relationship", NS) or rep_object.findall(
            "premis:originalName", NS
        )
        anchor[-1].addnext(template)
        return
    relationship = has_part[0]
    for related in relationship.findall("premis:relatedObjectIdentifier", NS):
        if related.findtext("premis:relatedObjectIdentifierValue", namespaces=NS) in dropped:
            relationship.remove(related)
    for related in template.findall("premis:relatedObjectIdentifier", NS):
        if related.findtext("premis:relatedObjectIdentifierValue", namespaces=NS) in added:
            relationship.append(related)
    if relationship.find("premis:relatedObjectIdentifier", NS) is None:
        rep_object.remove(relationship)


def _edit_representation_mets(
    mets: etree._ElementTree,
    rep: RepresentationChange,
    changed: dict[str, Digests],
    premis: Digests,
    when: datetime,
    zone: tzinfo,
) -> None:
    root = mets.getroot()
    group = root.find("mets:fileSec/mets:fileGrp[@USE='Data']", NS)
    if group is None:
        raise invalid(f"{rep.mets_rel} has no Data file group")
    gone = {rel[len(rep.base) :] for rel in rep.remove}
    for entry in group.findall("mets:file", NS):
        locat = entry.find("mets:FLocat", NS)
        if locat is not None and href_path(locat) in gone:
            group.remove(entry)
    for d in rep.add:
        add_file(group, _data_ref(d, rep.base, changed[d.rel], when), zone)
    premis_rel = rep.premis_rel[len(rep.base) :]
    if not set_ref_digests(mets, "mets:amdSec/mets:digiprovMD/mets:mdRef", premis_rel, premis):
        raise invalid(f"{rep.mets_rel} lacks its PREMIS mdRef")
    mark_revised(mets, when, zone)
