"""The next AIP version after a metadata change: one file added, METS/PREMIS edited, all else kept."""

from __future__ import annotations

import hashlib
import os
import shutil
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from preservation import xsd
from preservation.aip import BuiltAip, build_aip
from preservation.aip_update import add_descriptive_metadata
from preservation.csip import validate_package
from preservation.errors import PreservationError, SchemaValidationError, UnsafePackageError
from preservation.events import Agent, AgentType
from preservation.fixity import Digests, digest_file
from preservation.premis import PREMIS_NS, agent_key
from tests.preservation.test_aip import AIP_ID, SOFTWARE, make_input, make_submission

METS = "http://www.loc.gov/METS/"
HREF = "{http://www.w3.org/1999/xlink}href"
NS = {"mets": METS, "premis": PREMIS_NS}
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WHEN = datetime(2026, 3, 14, 9, 26, 53, 589000, tzinfo=ZONE)
EAD_NAME = unicodedata.normalize("NFD", "Mục lục hồ sơ.xml")
EAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ead xmlns="urn:isbn:1-931666-22-9"><eadheader>'
    "<eadid>VN-AG-12</eadid><filedesc><titlestmt><titleproper>Mục lục hồ sơ số 12</titleproper>"
    "</titlestmt></filedesc></eadheader><archdesc level='fonds'/></ead>\n"
).encode()
ARCHIVIST = Agent("Nguyễn Thị Lan", "", AgentType.PERSON)
PREMIS_REL = "metadata/preservation/PREMIS.xml"


@pytest.fixture
def aip(tmp_path: Path) -> BuiltAip:
    return build_aip(
        make_input(make_submission(tmp_path), organization="TTLT tỉnh An Giang"), tmp_path / "v1"
    )


@pytest.fixture
def work(aip: BuiltAip, tmp_path: Path) -> Path:
    """The writable copy of the current version that the next version is made in."""
    return Path(shutil.copytree(aip.folder, tmp_path / "v2" / aip.folder.name))


def source(tmp_path: Path, name: str, data: bytes) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def snapshot(folder: Path) -> dict[str, Digests]:
    return {
        p.relative_to(folder).as_posix(): digest_file(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def dmd_ref(folder: Path, rel: str) -> etree._Element:
    doc = etree.parse(str(folder / "METS.xml"))
    refs = [r for r in doc.iterfind("mets:dmdSec/mets:mdRef", NS) if r.get(HREF) == quote(rel.encode())]
    assert len(refs) == 1
    return refs[0]


def test_ead_file_added_as_next_version(aip: BuiltAip, work: Path, tmp_path: Path) -> None:
    before = snapshot(work)
    src = source(tmp_path, EAD_NAME, EAD)
    update = add_descriptive_metadata(
        work, src, agent=ARCHIVIST, zone=ZONE, now=WHEN, reason="bổ sung mục lục hồ sơ"
    )
    rel = f"metadata/descriptive/{EAD_NAME}"

    # the file, byte for byte, under its NFD name; the source untouched
    assert EAD_NAME.encode() in os.listdir(os.fsencode(work / "metadata" / "descriptive"))
    assert (work / rel).read_bytes() == EAD == src.read_bytes()

    # METS, PREMIS and the package are valid
    assert xsd.validate(work / "METS.xml", "mets") == []
    assert xsd.validate(work / PREMIS_REL, "premis") == []
    assert validate_package(work, expected_type="AIP") == []

    # the new dmdSec and its mdRef
    ref = dmd_ref(work, rel)
    assert ref.get("CHECKSUM") == hashlib.sha256(EAD).hexdigest().upper()
    assert ref.get("CHECKSUMTYPE") == "SHA-256"
    assert ref.get("SIZE") == str(len(EAD))
    assert (ref.get("MDTYPE"), ref.get("MIMETYPE"), ref.get("LOCTYPE")) == ("EAD", "application/xml", "URL")
    section = ref.getparent()
    assert section is not None and section.get("STATUS") == "CURRENT"
    assert section.get("CREATED") == "2026-03-14T09:26:53.589+07:00"
    mets = etree.parse(str(work / "METS.xml"))
    meta = mets.find("mets:structMap[@LABEL='CSIP']/mets:div/mets:div[@LABEL='Metadata']", NS)
    assert meta is not None and meta.get("DMDID", "").split() == [section.get("ID")]

    # header marked revised, PREMIS mdRef follows the new PREMIS.xml
    hdr = mets.find("mets:metsHdr", NS)
    assert hdr is not None and hdr.get("RECORDSTATUS") == "REVISED"
    assert hdr.get("LASTMODDATE") == "2026-03-14T09:26:53.589+07:00"
    (premis_ref,) = [
        r for r in mets.iterfind("mets:amdSec/mets:digiprovMD/mets:mdRef", NS) if r.get(HREF) == PREMIS_REL
    ]
    premis_bytes = (work / PREMIS_REL).read_bytes()
    assert premis_ref.get("CHECKSUM") == hashlib.sha256(premis_bytes).hexdigest().upper()
    assert premis_ref.get("SIZE") == str(len(premis_bytes))

    # the event, linked to its agent and to the AIP, and the agent described once
    premis = etree.parse(str(work / PREMIS_REL))
    (event,) = [
        e
        for e in premis.iterfind("premis:event", NS)
        if e.findtext("premis:eventIdentifier/premis:eventIdentifierValue", namespaces=NS)
        == update.event.identifier
    ]
    assert EAD_NAME in event.findtext("premis:eventDetailInformation/premis:eventDetail", "", NS)
    assert "bổ sung mục lục hồ sơ" in event.findtext(
        "premis:eventDetailInformation/premis:eventDetail", "", NS
    )
    assert event.findtext("premis:eventOutcomeInformation/premis:eventOutcome", namespaces=NS) == "success"
    assert event.findtext(
        "premis:linkingAgentIdentifier/premis:linkingAgentIdentifierValue", namespaces=NS
    ) == (agent_key(ARCHIVIST))
    assert event.findtext(
        "premis:linkingObjectIdentifier/premis:linkingObjectIdentifierValue", namespaces=NS
    ) == (AIP_ID)
    agent_ids = [
        e.text for e in premis.iterfind("premis:agent/premis:agentIdentifier/premis:agentIdentifierValue", NS)
    ]
    assert agent_ids.count(agent_key(ARCHIVIST)) == 1

    # what changed is exactly what the caller is told; everything else keeps its bytes
    after = snapshot(work)
    assert update.folder == work
    assert update.changed == {k: after[k] for k in ("METS.xml", PREMIS_REL, rel)}
    assert set(after) == set(before) | {rel}
    assert {k: d for k, d in after.items() if k not in update.changed} == {
        k: d for k, d in before.items() if k not in update.changed
    }
    assert snapshot(aip.folder) == aip.manifest  # the previous version is untouched
    assert sorted(p.name for p in work.parent.iterdir()) == [work.name]  # no staging left behind


def test_everything_else_in_mets_and_premis_is_kept(aip: BuiltAip, work: Path, tmp_path: Path) -> None:
    update = add_descriptive_metadata(
        work, source(tmp_path, EAD_NAME, EAD), agent=SOFTWARE, zone=ZONE, now=WHEN
    )
    old, new = (etree.parse(str(f / "METS.xml")).getroot() for f in (aip.folder, work))
    new_dmd = new.find("mets:dmdSec", NS)
    assert new_dmd is not None
    new.remove(new_dmd)
    old_hdr, new_hdr = old.find("mets:metsHdr", NS), new.find("mets:metsHdr", NS)
    assert old_hdr is not None and new_hdr is not None
    new_hdr.attrib.pop("LASTMODDATE")
    new_hdr.set("RECORDSTATUS", old_hdr.get("RECORDSTATUS", ""))
    meta = new.find("mets:structMap/mets:div/mets:div[@LABEL='Metadata']", NS)
    assert meta is not None
    meta.attrib.pop("DMDID")
    for o, n in zip(old.iterfind(".//mets:mdRef", NS), new.iterfind(".//mets:mdRef", NS), strict=True):
        if n.get(HREF) == PREMIS_REL:
            n.set("SIZE", o.get("SIZE", ""))
            n.set("CHECKSUM", o.get("CHECKSUM", ""))
    assert etree.tostring(new, method="c14n") == etree.tostring(old, method="c14n")

    old_premis, new_premis = (etree.parse(str(f / PREMIS_REL)).getroot() for f in (aip.folder, work))
    # SOFTWARE is already an agent of the document: only the event is new
    assert len(new_premis.findall("premis:agent", NS)) == len(old_premis.findall("premis:agent", NS))
    (event,) = [
        e
        for e in new_premis.iterfind("premis:event", NS)
        if e.findtext(".//premis:eventIdentifierValue", namespaces=NS) == update.event.identifier
    ]
    new_premis.remove(event)
    assert etree.tostring(new_premis, method="c14n") == etree.tostring(old_premis, method="c14n")


def test_text_file_is_other_metadata_and_a_second_update_stacks(work: Path, tmp_path: Path) -> None:
    first = add_descriptive_metadata(work, source(tmp_path, EAD_NAME, EAD), agent=ARCHIVIST, zone=ZONE)
    name = "ghi chú của lưu trữ viên.txt"
    second = add_descriptive_metadata(
        work, source(tmp_path, name, "Hồ sơ đã rà soát.\n".encode()), agent=ARCHIVIST, zone=ZONE
    )
    rel = f"metadata/descriptive/{name}"
    ref = dmd_ref(work, rel)
    assert (ref.get("MDTYPE"), ref.get("OTHERMDTYPE"), ref.get("MIMETYPE")) == (
        "OTHER",
        "SUBMITTED",
        "text/plain",
    )
    assert second.changed[rel] == digest_file(work / rel)
    mets = etree.parse(str(work / "METS.xml"))
    dmd_ids = [d.get("ID") for d in mets.iterfind("mets:dmdSec", NS)]
    meta = mets.find("mets:structMap/mets:div/mets:div[@LABEL='Metadata']", NS)
    assert meta is not None and len(dmd_ids) == 2 and meta.get("DMDID", "").split() == dmd_ids
    premis = etree.parse(str(work / PREMIS_REL))
    assert {first.event.identifier, second.event.identifier} <= {
        e.text for e in premis.iterfind("premis:event/premis:eventIdentifier/premis:eventIdentifierValue", NS)
    }
    agent_ids = [
        e.text for e in premis.iterfind("premis:agent/premis:agentIdentifier/premis:agentIdentifierValue", NS)
    ]
    assert agent_ids.count(agent_key(ARCHIVIST)) == 1
    assert validate_package(work, expected_type="AIP") == []


def test_xml_that_is_not_ead_is_other(work: Path, tmp_path: Path) -> None:
    data = b'<?xml version="1.0"?>\n<record xmlns="http://purl.org/dc/elements/1.1/"/>\n'
    add_descriptive_metadata(work, source(tmp_path, "ead-lookalike.xml", data), agent=ARCHIVIST, zone=ZONE)
    ref = dmd_ref(work, "metadata/descriptive/ead-lookalike.xml")
    assert (ref.get("MDTYPE"), ref.get("OTHERMDTYPE")) == ("OTHER", "SUBMITTED")


@pytest.mark.parametrize("variant", ["NFD", "NFC"])
def test_same_name_twice_is_refused_and_changes_nothing(
    work: Path, tmp_path: Path, variant: Literal["NFD", "NFC"]
) -> None:
    add_descriptive_metadata(work, source(tmp_path, EAD_NAME, EAD), agent=ARCHIVIST, zone=ZONE)
    before = snapshot(work)
    again = source(tmp_path / variant, unicodedata.normalize(variant, "Mục lục hồ sơ.xml"), b"<ead/>")
    with pytest.raises(PreservationError) as exc:
        add_descriptive_metadata(work, again, agent=ARCHIVIST, zone=ZONE)
    assert exc.value.code == "aip.metadata_exists"
    assert snapshot(work) == before


def test_name_that_climbs_is_refused(work: Path, tmp_path: Path) -> None:
    before = snapshot(work)
    with pytest.raises(UnsafePackageError) as exc:
        add_descriptive_metadata(work, tmp_path / "incoming" / "..", agent=ARCHIVIST, zone=ZONE)
    assert exc.value.code == "unpack.bad_component"
    assert snapshot(work) == before


def test_invalid_result_is_refused_and_changes_nothing(work: Path, tmp_path: Path) -> None:
    """A damaged payload file makes the new version non-conformant (CSIP71): nothing is written."""
    victim = next((work / "representations" / "rep1" / "data").glob("*.pdf"))
    victim.write_bytes(victim.read_bytes() + b"\x00")
    before = snapshot(work)
    with pytest.raises(SchemaValidationError) as exc:
        add_descriptive_metadata(work, source(tmp_path, EAD_NAME, EAD), agent=ARCHIVIST, zone=ZONE)
    assert exc.value.code == "aip.update_invalid"
    assert "CSIP71" in {p["code"] for p in exc.value.params["problems"]}
    assert snapshot(work) == before
    assert sorted(p.name for p in work.parent.iterdir()) == [work.name]
