"""The next version of an AIP after a metadata change: a descriptive metadata file is added.

A change to an AIP is a new OCFL version (OCFL 1.1 §3.3: earlier versions stay byte-identical);
the caller hands us a writable copy of the current version and stores what we leave in it as the
next version, using the digests we return. What changes, per E-ARK CSIP 2.0.4 and PREMIS 3:

    metadata/descriptive/<name>        the new file, its name kept byte for byte (CSIPSTR7)
    METS.xml                           a new dmdSec with its mdRef (CSIP17-30), its ID in the Metadata
                                       division's DMDID (CSIP92), metsHdr LASTMODDATE (CSIP8) and
                                       RECORDSTATUS="REVISED", the PREMIS mdRef's SIZE and CHECKSUM
    metadata/preservation/kholuu-facts.json
                                       the package facts file, when the caller hands one over for
                                       a package written before packages carried it: a digiprovMD
                                       with its mdRef, its ID in the Metadata division's ADMID
    metadata/preservation/PREMIS.xml   the events recorded since the last version (replication,
                                       accession, ingestion end, fixity checks: the caller hands
                                       them over), then the modification event, and their agents
                                       when new (PREMIS 3 §2, §3)

Every other file keeps its bytes. Nothing is changed in ``folder`` until the result is known to be
good: the new version is assembled in a sibling staging folder (hard links for the unchanged
files), checked against the METS and PREMIS schemas and the CSIP validator, and only then moved in:
the new file, then PREMIS.xml, then METS.xml last, each by one rename.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from lxml import etree

from preservation.aip_edit import (
    METS_REL,
    NS,
    PREMIS_REL,
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
from preservation.aip_layout import md_type, mime_type
from preservation.errors import ErrorKind, PreservationError
from preservation.events import Agent, Event, EventType, Outcome
from preservation.facts import FACTS_MDTYPE, FACTS_PATH
from preservation.fixity import Digests, copy_and_digest, digest_file, iter_blocks
from preservation.mets import Ref, md_section, write
from preservation.names import check_component, from_text, nfc

DESCRIPTIVE = "metadata/descriptive"

MODIFICATION_EVENT = EventType.METADATA_MODIFICATION

EAD_NAMESPACES = frozenset({"", "urn:isbn:1-931666-22-9", "http://ead3.archivists.org/schema/"})
"""Root namespaces of EAD 2002 (DTD and XSD flavours) and EAD3."""


@dataclass(frozen=True)
class MetadataUpdate:
    """Attributes:
    folder: the AIP folder, already a writable copy of the current version.
    changed: AIP-relative path → digests of every file added or rewritten.
    event: the PREMIS 'metadata modification' event that was recorded.
    """

    folder: Path
    changed: dict[str, Digests]
    event: Event


def add_descriptive_metadata(
    folder: Path,
    source: Path,
    *,
    agent: Agent,
    zone: tzinfo,
    now: datetime | None = None,
    reason: str = "",
    since: Sequence[Event] = (),
    facts: bytes | None = None,
) -> MetadataUpdate:
    """Add ``source`` as ``metadata/descriptive/<source.name>`` to the AIP in ``folder``.

    ``source`` is only read. Its name is kept as it is (NFD stays NFD; a name that is not UTF-8 gets
    the percent-escaped form ingest gives it, :class:`preservation.names.FileName`).

    Args:
        folder: the AIP root (the folder whose name is the OBJID), a writable copy.
        source: the metadata file to add.
        agent: who made the change (a person, or the software acting for one).
        zone: time zone of the dates written into METS and PREMIS.
        now: when the change happens (timezone-aware); default the current time.
        reason: why, for the PREMIS event detail.
        since: events about this AIP recorded after its current version was written (they live
            in the catalog until now); written into PREMIS.xml before the modification event. An
            event whose identifier the PREMIS already holds is not written twice.
        facts: the bytes of a package facts file (``preservation.facts``) to add, for a package
            that has none; ignored when it has one (the facts of a package do not change).

    Returns:
        The digests of the three files that differ from the previous version, and the event.

    Raises:
        UnsafePackageError: the name is empty, ``.``/``..`` or has a ``/`` or control character.
        PreservationError: ``aip.metadata_exists`` when a file of that name (or of its NFC form) is
            already in ``metadata/descriptive/``.
        SchemaValidationError: ``aip.update_invalid`` when the current METS/PREMIS cannot be read
            or edited, or the result breaks the METS or PREMIS schema or a CSIP MUST.
        FileNotFoundError: ``source`` is not a file.
    """
    when = now if now is not None else datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("now must carry a time zone")
    rel = _target(folder, source)
    mets = parse(folder / METS_REL)
    premis = parse(folder / PREMIS_REL)
    stage_parent = Path(tempfile.mkdtemp(prefix=".aip-update-", dir=folder.parent))
    try:
        stage = stage_parent / folder.name  # CSIPSTR2: the folder name is the OBJID
        mirror(folder, stage, skip={METS_REL, PREMIS_REL})
        added, created = _copy_in(source, stage / rel)
        extra = _add_facts(folder, stage, facts)
        dmd_id = new_id(mets)
        event = _modification_event(
            rel,
            added,
            dmd_id,
            facts_added=bool(extra),
            reason=reason,
            agent=agent,
            aip=aip_object_id(mets),
            when=when,
        )
        add_events(premis, [*since, event], zone)
        write(premis, str(stage / PREMIS_REL))
        premis_digests = digest_file(stage / PREMIS_REL)
        ref = _descriptive_ref(dmd_id, rel, stage / rel, added, created)
        _edit_mets(mets, ref, premis_digests, when, zone)
        if FACTS_PATH in extra:
            _add_digiprov(mets, _facts_ref(new_id(mets), extra[FACTS_PATH], when), when, zone)
        write(mets, str(stage / METS_REL))
        validate(stage)
        changed = {METS_REL: digest_file(stage / METS_REL), PREMIS_REL: premis_digests, rel: added, **extra}
        _commit(stage, folder, [rel, *extra], stage_parent / "PREMIS.previous")
    finally:
        shutil.rmtree(stage_parent, ignore_errors=True)
    return MetadataUpdate(folder=folder, changed=dict(sorted(changed.items())), event=event)


def _target(folder: Path, source: Path) -> str:
    """The new file's path in the AIP, after the name and the source are known to be acceptable."""
    name = from_text(source.name).text
    check_component(name.encode("utf-8"), where=source.name)
    rel = f"{DESCRIPTIVE}/{name}"
    _refuse_existing(folder, name, rel)
    if not source.is_file():
        raise FileNotFoundError(f"no such metadata file: {source}")
    return rel


def _copy_in(source: Path, target: Path) -> tuple[Digests, datetime]:
    """Byte for byte, digested on the way, with the source's modification time (the mdRef CREATED)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("xb") as dst:
        added = copy_and_digest(src, dst)
    mtime = source.stat().st_mtime
    os.utime(target, (mtime, mtime))
    return added, datetime.fromtimestamp(mtime, UTC)


def _add_facts(folder: Path, stage: Path, facts: bytes | None) -> dict[str, Digests]:
    """The facts file, for a package that has none (the facts of a package do not change)."""
    if facts is None or (folder / FACTS_PATH).exists():
        return {}
    (stage / FACTS_PATH).write_bytes(facts)
    return {FACTS_PATH: digest_file(stage / FACTS_PATH)}


def _modification_event(
    rel: str,
    added: Digests,
    dmd_id: str,
    *,
    facts_added: bool,
    reason: str,
    agent: Agent,
    aip: str,
    when: datetime,
) -> Event:
    """PREMIS 3 'metadata modification': the file, its digest and the dmdSec that references it."""
    return Event(
        type=MODIFICATION_EVENT,
        outcome=Outcome.SUCCESS,
        detail=f"Descriptive metadata {rel} added"
        + (f"; package facts file {FACTS_PATH} added from the catalog" if facts_added else "")
        + (f"; reason: {reason}" if reason else ""),
        outcome_detail=f"sha256:{added.sha256}, {added.size} bytes; METS dmdSec {dmd_id}",
        detail_code="update.metadata_added_facts" if facts_added else "update.metadata_added",
        detail_params={"file": rel, "reason": reason or "—"},
        agents=(agent,),
        objects=(aip,),
        datetime=when,
    )


def _descriptive_ref(dmd_id: str, rel: str, target: Path, added: Digests, created: datetime) -> Ref:
    mdtype = _descriptive_mdtype(rel, target)
    return Ref(
        id=dmd_id,
        href=rel,
        size=added.size,
        sha256=added.sha256,
        mimetype=mime_type(rel),
        created=created,
        mdtype=mdtype,
        other_mdtype="SUBMITTED" if mdtype == "OTHER" else "",  # as aip_layout.other_mdtype
    )


# ---------------------------------------------------------------------- checks and reading


def _refuse_existing(folder: Path, name: str, rel: str) -> None:
    descriptive = folder / DESCRIPTIVE
    taken = (folder / rel).exists() or (
        descriptive.is_dir() and any(nfc(entry) == nfc(name) for entry in os.listdir(descriptive))
    )
    if taken:
        raise PreservationError(
            f"the AIP already has descriptive metadata named {name!r}",
            code="aip.metadata_exists",
            kind=ErrorKind.USAGE,
            path=rel,
        )


def _descriptive_mdtype(rel: str, path: Path) -> str:
    """aip.py's name rules, except that an ``.xml`` file is EAD exactly when its root element is."""
    mdtype = md_type(rel)
    if rel.lower().endswith(".xml"):
        if _root_is_ead(path):
            return "EAD"
        if mdtype == "EAD":
            return "OTHER"
    return mdtype


def _root_is_ead(path: Path) -> bool:
    """Read only as far as the root element (the file may be large)."""
    pull = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
    )
    with path.open("rb") as stream:
        for block in iter_blocks(stream, 64 * 1024):
            try:
                pull.feed(block)
                for _, element in pull.read_events():
                    if not isinstance(element, etree._Element):
                        continue
                    qname = etree.QName(element)
                    return qname.localname == "ead" and (qname.namespace or "") in EAD_NAMESPACES
            except etree.XMLSyntaxError:
                return False
    return False


# ---------------------------------------------------------------------- editing


def _edit_mets(mets: etree._ElementTree, ref: Ref, premis: Digests, when: datetime, zone: tzinfo) -> None:
    root = mets.getroot()
    header = root.find("mets:metsHdr", NS)
    meta = root.find("mets:structMap[@LABEL='CSIP']/mets:div/mets:div[@LABEL='Metadata']", NS)
    if header is None or meta is None:
        raise invalid("the root METS lacks its metsHdr or its Metadata division")
    if not set_ref_digests(mets, "mets:amdSec/mets:digiprovMD/mets:mdRef", PREMIS_REL, premis):
        raise invalid("the root METS lacks its PREMIS mdRef")
    mark_revised(mets, when, zone)  # CSIP8
    md_section(root, "dmdSec", ref, when, zone)  # appended last, moved into place below
    section = root[-1]
    (root.findall("mets:dmdSec", NS)[:-1] or [header])[-1].addnext(section)  # METS: dmdSec after hdr
    meta.set("DMDID", " ".join([*(meta.get("DMDID") or "").split(), ref.id]))  # CSIP92


def _facts_ref(ident: str, digests: Digests, when: datetime) -> Ref:
    return Ref(
        id=ident,
        href=FACTS_PATH,
        size=digests.size,
        sha256=digests.sha256,
        mimetype="application/json",
        created=when,
        mdtype="OTHER",
        other_mdtype=FACTS_MDTYPE,
    )


def _add_digiprov(mets: etree._ElementTree, ref: Ref, when: datetime, zone: tzinfo) -> None:
    """A digiprovMD after the amdSec's last one (METS: sourceMD before digiprovMD), in ADMID."""
    root = mets.getroot()
    amd = root.find("mets:amdSec", NS)
    meta = root.find("mets:structMap[@LABEL='CSIP']/mets:div/mets:div[@LABEL='Metadata']", NS)
    if amd is None or meta is None:
        raise invalid("the root METS lacks its amdSec or its Metadata division")
    md_section(amd, "digiprovMD", ref, when, zone)
    meta.set("ADMID", " ".join([*(meta.get("ADMID") or "").split(), ref.id]))  # CSIP91


# ---------------------------------------------------------------------- staging and commit


def _commit(stage: Path, folder: Path, added: list[str], backup: Path) -> None:
    """Move the new files, PREMIS.xml and, last, METS.xml into ``folder``; undo on failure."""
    placed: list[tuple[Path, bool]] = []
    try:
        for rel in added:
            final = folder / rel
            made_dir = not final.parent.exists()
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(stage / rel, final)  # never overwrites
            except FileExistsError:
                _refuse_existing(folder, final.name, rel)
                raise
            except OSError:  # a file system without hard links: same file system, so a rename
                _refuse_existing(folder, final.name, rel)
                os.replace(stage / rel, final)
            placed.append((final, made_dir))
        shutil.copy2(folder / PREMIS_REL, backup)
        try:
            os.replace(stage / PREMIS_REL, folder / PREMIS_REL)
            os.replace(stage / METS_REL, folder / METS_REL)
        except OSError:
            os.replace(backup, folder / PREMIS_REL)
            raise
    except BaseException:
        for final, made_dir in reversed(placed):
            final.unlink()
            if made_dir:
                final.parent.rmdir()
        raise
