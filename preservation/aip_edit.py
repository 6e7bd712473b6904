"""Editing a stored AIP for its next version: what a metadata update and a migration share.

A new version of an AIP is assembled from a writable copy of the current one (OCFL 1.1 §3.3: the
earlier versions stay byte-identical in storage). Both kinds of change
(:mod:`preservation.aip_update`, :mod:`preservation.aip_migrate`) read the package METS and PREMIS
the same way, insert PREMIS events and agents the same way (PREMIS 3 orders object+, event*,
agent*), mark the METS header revised (CSIP8), mirror the unchanged files into a staging folder by
hard links, and refuse a result that breaks the METS or PREMIS schema or a CSIP MUST.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from preservation import xsd
from preservation.csip import validate_package
from preservation.errors import SchemaValidationError
from preservation.events import Event
from preservation.findings import Finding, errors
from preservation.fixity import Digests
from preservation.mets import METS_NS, XLINK_NS, IdSource
from preservation.premis import PREMIS_NS, PremisDocument, iso, premis_document

METS_REL = "METS.xml"
PREMIS_REL = "metadata/preservation/PREMIS.xml"
NS = {"mets": METS_NS, "premis": PREMIS_NS}
HREF = f"{{{XLINK_NS}}}href"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)

__all__ = [
    "HREF",
    "METS_REL",
    "NS",
    "PREMIS_REL",
    "XSI_TYPE",
    "add_events",
    "aip_object_id",
    "href_path",
    "invalid",
    "mark_revised",
    "mirror",
    "new_id",
    "parse",
    "set_ref_digests",
    "validate",
]


def invalid(message: str, problems: list[dict[str, object]] | None = None) -> SchemaValidationError:
    """``aip.update_invalid``: the next version could not be made valid (nothing was changed)."""
    return SchemaValidationError(message, code="aip.update_invalid", params={"problems": problems or []})


def parse(path: Path) -> etree._ElementTree:
    """Parsed without blank text, so that pretty printing indents what we insert like the rest."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_blank_text=True
    )
    try:
        return etree.parse(str(path), parser)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise invalid(f"cannot read {path.name} of the AIP: {exc}") from exc


def href_path(element: etree._Element) -> str:
    """The relative path an ``mdRef``/``FLocat``/``mptr`` points at, percent-decoding undone."""
    return unquote(element.get(HREF, "")).removeprefix("./")


def aip_object_id(mets: etree._ElementTree) -> str:
    """The AIP id in the ``uuid-<uuid>`` form package-level PREMIS events link to (aip.py)."""
    objid = mets.getroot().get("OBJID", "")
    match = _UUID.search(objid)
    if match is None:
        raise invalid(f"METS OBJID {objid!r} holds no UUID to link the event to")
    return f"uuid-{match.group(0)}"


def new_id(mets: etree._ElementTree) -> str:
    """An XML ID no element of the document uses yet."""
    used = {el.get("ID") for el in mets.getroot().iter() if isinstance(el.tag, str)}
    ids = IdSource()
    while (candidate := ids.new()) in used:
        pass
    return candidate


def mark_revised(mets: etree._ElementTree, when: datetime, zone: tzinfo) -> None:
    """metsHdr LASTMODDATE (CSIP8) and RECORDSTATUS="REVISED"."""
    header = mets.getroot().find("mets:metsHdr", NS)
    if header is None:
        raise invalid("a METS document lacks its metsHdr")
    header.set("LASTMODDATE", iso(when, zone))
    header.set("RECORDSTATUS", "REVISED")


def set_ref_digests(mets: etree._ElementTree, xpath: str, rel: str, digests: Digests) -> int:
    """SIZE and CHECKSUM of every element at ``xpath`` (``mdRef`` or ``file``) that points at
    ``rel`` (an ``mdRef`` directly, a ``file`` through its ``FLocat``); how many there were."""
    count = 0
    for element in mets.getroot().iterfind(xpath, NS):
        target = element if element.get(HREF) is not None else element.find("mets:FLocat", NS)
        if target is None or href_path(target) != rel:
            continue
        element.set("SIZE", str(digests.size))
        element.set("CHECKSUM", digests.sha256.upper())
        count += 1
    return count


def add_events(premis: etree._ElementTree, events: Sequence[Event], zone: tzinfo) -> None:
    """Insert the events after the last event (or object), and their agents after the last agent
    when the document does not know them: PREMIS 3 orders object+, event*, agent*, rights*. An
    event whose identifier the document already holds is not written twice."""
    root = premis.getroot()
    held = {
        v.text for v in root.iterfind("premis:event/premis:eventIdentifier/premis:eventIdentifierValue", NS)
    }
    events = [e for e in events if e.identifier not in held]
    known = {
        v.text for v in root.iterfind("premis:agent/premis:agentIdentifier/premis:agentIdentifierValue", NS)
    }
    fresh = premis_document(
        PremisDocument(
            entity=None, representations=[], files=[], events=list(events), agents=[], timezone=zone
        )
    ).getroot()
    new_events = fresh.findall("premis:event", NS)
    new_agents = [
        a
        for a in fresh.findall("premis:agent", NS)
        if a.findtext("premis:agentIdentifier/premis:agentIdentifierValue", namespaces=NS) not in known
    ]
    if len(new_events) != len(events):
        raise invalid("the PREMIS writer did not produce the events asked for")
    anchors = root.findall("premis:event", NS) or root.findall("premis:object", NS)
    if not anchors:
        raise invalid("a PREMIS document of the AIP has no object")
    anchor = anchors[-1]
    for element in new_events:
        anchor.addnext(element)
        anchor = element
    after = root.findall("premis:agent", NS)
    anchor = after[-1] if after else anchor
    for element in new_agents:
        anchor.addnext(element)
        anchor = element


def mirror(folder: Path, stage: Path, *, skip: set[str]) -> None:
    """Hard-link every file except ``skip`` into ``stage`` (copy where links are not possible)."""
    for dirpath, _dirs, files in os.walk(folder):
        here = Path(dirpath)
        into = stage / here.relative_to(folder)
        into.mkdir(parents=True, exist_ok=True)
        for name in files:
            if (here / name).relative_to(folder).as_posix() in skip:
                continue
            try:
                os.link(here / name, into / name)
            except OSError:
                shutil.copy2(here / name, into / name)


def validate(stage: Path, extra: Sequence[tuple[str, xsd.SchemaName]] = ()) -> None:
    """The package METS and PREMIS (and ``extra`` documents) against their schemas, the whole
    package against the CSIP validator; every problem at once.

    Raises:
        SchemaValidationError: ``aip.update_invalid`` naming the problems.
    """
    schemas: tuple[tuple[str, xsd.SchemaName], ...] = ((METS_REL, "mets"), (PREMIS_REL, "premis"), *extra)
    problems: list[tuple[str, Finding]] = [
        (rel, f) for rel, schema in schemas for f in xsd.validate(stage / rel, schema)
    ]
    problems += [("", f) for f in errors(validate_package(stage, expected_type="AIP"))]
    if problems:
        texts = [f"{f.code} {rel}{' ' if rel else ''}{f.where}: {f.message}" for rel, f in problems]
        raise invalid(
            f"the updated AIP would not be valid ({len(texts)} problem(s)): " + "; ".join(texts[:5]),
            [{**f.as_dict(), "file": rel} for rel, f in problems],
        )
