"""The next AIP version after a migration: a new representation, then a copy replaced in it; the
current version's folder is never touched and every result passes the schemas and CSIP."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from preservation.aip import BuiltAip, build_aip
from preservation.aip_migrate import Derivative, migrate_representations
from preservation.csip import validate_package
from preservation.errors import ChecksumMismatchError
from preservation.events import Agent, Event, EventType, Outcome
from preservation.findings import errors
from preservation.fixity import digest_file
from preservation.formats import FormatIdentification, FormatMatch
from preservation.names import FileName
from preservation.package import PayloadFile
from preservation.premis import PREMIS_NS
from tests.preservation.test_aip import AIP_ID, NFD, SOFTWARE, make_input, make_submission

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WHEN = datetime(2026, 5, 2, 10, 0, 0, tzinfo=ZONE)
NS = {"mets": "http://www.loc.gov/METS/", "premis": PREMIS_NS}
HREF = "{http://www.w3.org/1999/xlink}href"
GS = Agent("Ghostscript", "10.0")
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


@pytest.fixture
def aip(tmp_path: Path) -> BuiltAip:
    return build_aip(make_input(make_submission(tmp_path)), tmp_path / "v1")


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): digest_file(p).sha256 for p in folder.rglob("*") if p.is_file()}


def derivative(tmp_path: Path, aip: BuiltAip, data: bytes, rep: str, ext: str) -> Derivative:
    source = next(u for u, rel in aip.payload_paths.items() if rel.endswith(NFD))
    out = tmp_path / "made" / f"{rep}.{ext}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    name = FileName(NFD.encode() + b"." + ext.encode())
    ident = FormatIdentification(
        GS, FormatMatch("fmt/477", "PDF/A-2b", "2b", "application/pdf", "byte match")
    )
    return Derivative(PayloadFile(name, out, digest_file(out), rep, derived_from=source), ident)


def migration_event(d: Derivative, *extra: str) -> Event:
    return Event(
        EventType.MIGRATION,
        Outcome.SUCCESS,
        "preservation copy",
        (GS, SOFTWARE),
        (d.file.derived_from, d.file.uuid, *extra),
    )


def test_a_new_representation_then_a_replaced_copy(aip: BuiltAip, tmp_path: Path) -> None:
    before = snapshot(aip.folder)
    first = derivative(tmp_path, aip, b"%PDF-1.7 PDF/A one", "rep1-preservation", "pdf")
    v2 = migrate_representations(
        aip.folder,
        tmp_path / "v2" / aip.folder.name,
        add=[first],
        events=[migration_event(first)],
        creator=SOFTWARE,
        zone=ZONE,
        now=WHEN,
    )
    assert snapshot(aip.folder) == before  # the current version is only read
    rel = f"representations/rep1-preservation/data/{NFD}.pdf"
    assert v2.created == ("rep1-preservation",) and v2.removed == ()
    assert set(v2.changed) == {
        rel,
        "representations/rep1-preservation/METS.xml",
        "representations/rep1-preservation/metadata/preservation/PREMIS_rep1-preservation.xml",
        "METS.xml",
        "metadata/preservation/PREMIS.xml",
    }
    assert snapshot(v2.folder) == {**before, **{p: d.sha256 for p, d in v2.changed.items()}}
    assert errors(validate_package(v2.folder, expected_type="AIP")) == []
    root = etree.parse(str(v2.folder / "METS.xml")).getroot()
    div = root.find("mets:structMap/mets:div/mets:div[@LABEL='Representations/rep1-preservation']", NS)
    assert div is not None and div.find("mets:mptr", NS).get(HREF) == quote(  # type: ignore[union-attr]
        "representations/rep1-preservation/METS.xml"
    )
    rep_premis = etree.parse(str(v2.folder / next(p for p in v2.changed if "PREMIS_rep1" in p)))
    derivation = rep_premis.find(".//premis:relationship[premis:relationshipType='derivation']", NS)
    assert derivation is not None
    assert (
        derivation.findtext(".//premis:relatedObjectIdentifierValue", namespaces=NS)
        == first.file.derived_from
    )
    package = etree.parse(str(v2.folder / "metadata/preservation/PREMIS.xml"))
    assert [e.text for e in package.iterfind(".//premis:eventType", NS)][-1] == "migration"
    (entity,) = [
        o for o in package.iterfind("premis:object", NS) if o.get(XSI_TYPE) == "premis:intellectualEntity"
    ]
    assert (
        len(entity.findall("premis:relationship/premis:relatedObjectIdentifier", NS)) == 2
    )  # rep1 and the new

    # the copy replaced by one made with another action: same path, the old file object gone
    second = derivative(tmp_path, aip, b"%PDF-1.7 PDF/A two", "rep1-preservation", "pdf")
    v3 = migrate_representations(
        v2.folder,
        tmp_path / "v3" / aip.folder.name,
        add=[second],
        remove=[rel],
        events=[migration_event(second, first.file.uuid)],
        creator=SOFTWARE,
        zone=ZONE,
        now=WHEN,
    )
    assert v3.removed == (rel,) and v3.created == ()
    assert (v3.folder / rel).read_bytes() == b"%PDF-1.7 PDF/A two"
    assert (v2.folder / rel).read_bytes() == b"%PDF-1.7 PDF/A one"  # hard links never written through
    assert errors(validate_package(v3.folder, expected_type="AIP")) == []
    text = (v3.folder / next(p for p in v3.changed if "PREMIS_rep1" in p)).read_text(encoding="utf-8")
    assert second.file.uuid in text and first.file.uuid not in text
    rep_mets = etree.parse(str(v3.folder / "representations/rep1-preservation/METS.xml"))
    assert [f.get("ID") for f in rep_mets.iterfind(".//mets:file", NS)] == [f"ID-{second.file.uuid}"]


def test_bytes_that_changed_since_verification_are_refused(aip: BuiltAip, tmp_path: Path) -> None:
    d = derivative(tmp_path, aip, b"%PDF-1.7 verified", "rep1-access", "pdf")
    d.file.path.write_bytes(b"%PDF-1.7 tampered")
    target = tmp_path / "v2" / aip.folder.name
    with pytest.raises(ChecksumMismatchError):
        migrate_representations(aip.folder, target, add=[d], creator=SOFTWARE, zone=ZONE)
    assert not target.exists()


def test_only_payload_files_can_be_dropped(aip: BuiltAip, tmp_path: Path) -> None:
    d = derivative(tmp_path, aip, b"%PDF", "rep1-access", "pdf")
    with pytest.raises(ValueError, match="not a payload file"):
        migrate_representations(
            aip.folder, tmp_path / "v2" / "x", add=[d], remove=["METS.xml"], creator=SOFTWARE, zone=ZONE
        )
    assert AIP_ID
