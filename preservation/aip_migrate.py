"""The next version of an AIP after a migration: files added to (or replaced in) representations.

A migration (docs/planning.md "Migration") makes new preservation or access copies of files an AIP
already holds. They go to their own representations (``rep1-preservation``, ``rep1-access``), as
at ingest, and the AIP gets a new version (OCFL 1.1 §3.3: the earlier versions stay byte-identical
in storage, so a replaced copy is still there in the version that had it). What changes, per
E-ARK CSIP 2.0.4 and PREMIS 3:

    representations/<rep>/data/<name>     the new files, byte for byte as the caller verified them;
                                          a file this version no longer holds is left out
    representations/<rep>/metadata/preservation/PREMIS_<rep>.xml
                                          a file object per new file (fixity, size, PRONOM format,
                                          characterization, ``is included in`` its representation,
                                          ``derivation``/``has source`` its source), the files' own
                                          events; a replaced file's object and its ``has part`` go
    representations/<rep>/METS.xml        a ``file`` per new file in the Data group (CSIP67-79), the
                                          replaced ones removed, the PREMIS mdRef's SIZE/CHECKSUM,
                                          LASTMODDATE and RECORDSTATUS="REVISED" (CSIP8)
    METS.xml                              for a new representation a file group
                                          ``Representations/<rep>`` and a structMap division with
                                          its ``mptr`` (CSIP105-114); for a changed one the new
                                          SIZE/CHECKSUM of its METS; the PREMIS mdRef; REVISED
    metadata/preservation/PREMIS.xml      a representation object for a new representation, in the
                                          entity's ``has part``; the events (the migration events,
                                          and those the caller carries over) and their agents

The current version in ``current`` is only read. The next one is assembled in ``target`` (hard
links for the unchanged files), every METS and PREMIS document written is checked against its
schema and the package against the CSIP validator, and only a valid result is returned; on any
failure ``target`` is removed.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from lxml import etree

from preservation import xsd
from preservation.aip_edit import (
    METS_REL,
    NS,
    PREMIS_REL,
    XSI_TYPE,
    add_events,
    aip_object_id,
    invalid,
    mark_revised,
    mirror,
    new_id,
    parse,
    set_ref_digests,
    validate,
)
from preservation.aip_layout import XML_MIME
from preservation.aip_representation import (
    Derivative,
    RepresentationChange,
    edit_representation,
    new_representation,
)
from preservation.errors import ChecksumMismatchError
from preservation.events import Agent, Event
from preservation.fixity import Digests, copy_and_digest, digest_file
from preservation.mets import Ref, add_representation, write
from preservation.premis import PremisDocument, PremisRepresentation, premis_document

__all__ = ["Derivative", "Migrated", "migrate_representations"]


@dataclass(frozen=True)
class Migrated:
    """Attributes:
    folder: the next version (``target``).
    changed: AIP-relative path → digests of every file added or rewritten.
    removed: the paths of the current version the next one does not hold.
    created: representations the next version adds.
    """

    folder: Path
    changed: dict[str, Digests]
    removed: tuple[str, ...]
    created: tuple[str, ...] = ()


def migrate_representations(
    current: Path,
    target: Path,
    *,
    add: Sequence[Derivative],
    remove: Sequence[str] = (),
    events: Sequence[Event] = (),
    creator: Agent,
    zone: tzinfo,
    now: datetime | None = None,
) -> Migrated:
    """Assemble in ``target`` the next version of the AIP in ``current`` (see the module docstring).

    Args:
        current: the AIP root of the current version (read only).
        target: where the next version is assembled; must not exist. Its name should be the
            package folder name (the OBJID, CSIPSTR2).
        add: the new files; a path may be one ``remove`` names (the file is replaced).
        remove: payload paths (``representations/<rep>/data/...``) the next version drops.
        events: an event about one new file alone goes into its representation's PREMIS; every
            other event into the package PREMIS (one already there is not written twice).
        creator: the software named as CREATOR of a new representation's METS.
        zone: time zone of the dates written into METS and PREMIS.
        now: when the change happens (timezone-aware); default the current time.

    Raises:
        ChecksumMismatchError: a new file no longer has the digests it was verified with.
        SchemaValidationError: ``aip.update_invalid`` when a document cannot be read or edited,
            or the result breaks the METS or PREMIS schema or a CSIP MUST.
        ValueError: ``target`` exists, a path to remove is not a payload file of the current
            version, or two new files would share a path.
    """
    when = now if now is not None else datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("now must carry a time zone")
    if target.exists():
        raise ValueError(f"{target} exists")
    reps = _touched(current, add, remove, events)
    mets, premis = parse(current / METS_REL), parse(current / PREMIS_REL)
    rewritten = {METS_REL, PREMIS_REL} | {p for r in reps.values() for p in (r.mets_rel, r.premis_rel)}
    try:
        mirror(current, target, skip=rewritten | set(remove))
        changed: dict[str, Digests] = {}
        created: dict[str, PremisRepresentation] = {}
        aip_id = aip_object_id(mets)
        for rep in reps.values():
            for d in rep.add:
                changed[d.rel] = _copy_in(d, target / d.rel)
            if (current / rep.mets_rel).is_file():
                changed |= edit_representation(current, target, rep, changed, when, zone)
            else:
                created[rep.name] = PremisRepresentation(str(uuid.uuid4()), rep.name, aip_id)
                changed |= new_representation(target, rep, created[rep.name], mets, creator, when, zone)
        package_events = [e for e in events if not _file_event(e, add)]
        _edit_package_premis(premis, list(created.values()), package_events, zone)
        write(premis, str(target / PREMIS_REL))
        changed[PREMIS_REL] = digest_file(target / PREMIS_REL)
        _edit_root_mets(mets, reps, created, changed, when, zone)
        write(mets, str(target / METS_REL))
        changed[METS_REL] = digest_file(target / METS_REL)
        extra: list[tuple[str, xsd.SchemaName]] = []
        for r in reps.values():
            extra += [(r.mets_rel, "mets"), (r.premis_rel, "premis")]
        validate(target, extra)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return Migrated(target, dict(sorted(changed.items())), tuple(sorted(remove)), tuple(sorted(created)))


def _touched(
    current: Path, add: Sequence[Derivative], remove: Sequence[str], events: Sequence[Event]
) -> dict[str, RepresentationChange]:
    """The representations the change touches, with their new and dropped files and the events
    about one of their new files alone."""
    reps: dict[str, RepresentationChange] = {}
    seen: set[str] = set()
    for d in add:
        if d.rel in seen:
            raise ValueError(f"two new files would both be stored as {d.rel!r}")
        seen.add(d.rel)
        reps.setdefault(d.file.representation, RepresentationChange(d.file.representation)).add.append(d)
    for rel in remove:
        parts = rel.split("/")
        if (
            len(parts) < 4
            or parts[0] != "representations"
            or parts[2] != "data"
            or not (current / rel).is_file()
        ):
            raise ValueError(f"{rel!r} is not a payload file of the current version")
        reps.setdefault(parts[1], RepresentationChange(parts[1])).remove.append(rel)
    by_uuid = {d.file.uuid: d.file.representation for d in add}
    for event in events:
        if _file_event(event, add):
            reps[by_uuid[event.objects[0]]].events.append(event)
    return reps


def _file_event(event: Event, add: Sequence[Derivative]) -> bool:
    return len(event.objects) == 1 and any(event.objects[0] == d.file.uuid for d in add)


def _copy_in(d: Derivative, target: Path) -> Digests:
    """Byte for byte, digested on the way; the bytes must be the ones the caller verified."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()  # a hard link of the current version's file: never written through
    with d.file.path.open("rb") as src, target.open("xb") as dst:
        got = copy_and_digest(src, dst)
    if got.sha256 != d.file.digests.sha256 or got.size != d.file.digests.size:
        raise ChecksumMismatchError(d.rel, "sha256", d.file.digests.sha256, got.sha256, source="conversion")
    return got


# ---------------------------------------------------------------------- package documents


def _edit_package_premis(
    premis: etree._ElementTree, created: list[PremisRepresentation], events: Sequence[Event], zone: tzinfo
) -> None:
    """New representation objects after the last object, in the entity's ``has part``; then the
    events and their agents."""
    root = premis.getroot()
    if created:
        entity = next(
            (
                o
                for o in root.iterfind("premis:object", NS)
                if o.get(XSI_TYPE, "").endswith("intellectualEntity")
            ),
            None,
        )
        if entity is None:
            raise invalid(f"{PREMIS_REL} has no intellectual entity")
        fresh = premis_document(
            PremisDocument(
                entity=None, representations=created, files=[], events=[], agents=[], timezone=zone
            )
        ).getroot()
        _add_entity_parts(entity, [r.uuid for r in created])
        anchor = root.findall("premis:object", NS)[-1]
        for element in fresh.findall("premis:object", NS):
            for rel in element.findall("premis:relationship", NS):
                if rel.findtext("premis:relationshipSubType", namespaces=NS) == "has part":
                    element.remove(rel)  # a new representation's files are in its own PREMIS
            anchor.addnext(element)
            anchor = element
    add_events(premis, events, zone)


def _add_entity_parts(entity: etree._Element, uuids: list[str]) -> None:
    relationship = next(
        (
            r
            for r in entity.iterfind("premis:relationship", NS)
            if r.findtext("premis:relationshipSubType", namespaces=NS) == "has part"
        ),
        None,
    )
    if relationship is None:
        raise invalid(f"{PREMIS_REL}: the intellectual entity has no 'has part' relationship")
    model = relationship.find("premis:relatedObjectIdentifier", NS)
    if model is None:
        raise invalid(f"{PREMIS_REL}: the intellectual entity's 'has part' names nothing")
    for value in uuids:
        related = etree.fromstring(etree.tostring(model))
        value_el = related.find("premis:relatedObjectIdentifierValue", NS)
        assert value_el is not None
        value_el.text = value
        relationship.append(related)


def _edit_root_mets(
    mets: etree._ElementTree,
    reps: dict[str, RepresentationChange],
    created: dict[str, PremisRepresentation],
    changed: dict[str, Digests],
    when: datetime,
    zone: tzinfo,
) -> None:
    root = mets.getroot()
    for rep in reps.values():
        digests = changed[rep.mets_rel]
        if rep.name in created:
            ref = Ref(
                id=new_id(mets),
                href=rep.mets_rel,
                size=digests.size,
                sha256=digests.sha256,
                mimetype=XML_MIME,
                created=when,
            )
            add_representation(root, rep.name, ref, group_id=new_id(mets), div_id=new_id(mets), zone=zone)
            continue
        entry = f"mets:fileSec/mets:fileGrp[@USE='Representations/{rep.name}']/mets:file"
        if not set_ref_digests(mets, entry, rep.mets_rel, digests):
            raise invalid(f"the root METS has no entry for {rep.mets_rel}")
    if not set_ref_digests(mets, "mets:amdSec/mets:digiprovMD/mets:mdRef", PREMIS_REL, changed[PREMIS_REL]):
        raise invalid("the root METS lacks its PREMIS mdRef")
    mark_revised(mets, when, zone)
