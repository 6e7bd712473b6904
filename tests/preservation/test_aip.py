"""The AIP we write: E-ARK CSIP structure, valid METS and PREMIS, every checksum right, names kept."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree

from preservation import xsd
from preservation.aip import AipInput, AipProfile, BuiltAip, build_aip
from preservation.characteristics import Characterization, Validity
from preservation.csip import validate_package
from preservation.errors import ChecksumMismatchError
from preservation.events import Agent, Event, EventType, Outcome
from preservation.findings import Finding, Severity
from preservation.fixity import digest_file
from preservation.formats import UNIDENTIFIED, FormatIdentification, FormatMatch
from preservation.names import FileName
from preservation.package import (
    Container,
    MetadataFile,
    MetadataRole,
    PackageKind,
    PayloadFile,
    ReceivedFile,
    ReceivedTree,
    Submission,
)
from preservation.premis import KL_NS, PREMIS_NS

METS_NS = "http://www.loc.gov/METS/"
XLINK = "{http://www.w3.org/1999/xlink}href"
AIP_ID = "uuid-6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e"
NFD = unicodedata.normalize("NFD", "Quyết định số 12.pdf")
SIEGFRIED = Agent("Siegfried", "1.11.9", note="default.sig")
SOFTWARE = Agent("Kho Lưu", "0.1.0")


def make_submission(tmp_path: Path) -> Submission:
    root = tmp_path / "q"
    files = {
        NFD.encode(): b"%PDF-1.4 quyet dinh",
        b"phu luc/bang 100%.txt": "bảng".encode(),
        "Báo cáo.txt".encode("cp1258"): b"legacy name",
    }
    payload = []
    for raw, content in files.items():
        name = FileName(raw)
        path = root / name.text
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        payload.append(PayloadFile(name=name, path=path, digests=digest_file(path)))
    info = root / "bag-info.txt"
    info.write_text("Source-Organization: UBND tỉnh An Giang\n", encoding="utf-8")
    meta = MetadataFile(FileName(b"bag-info.txt"), info, digest_file(info), MetadataRole.SUBMISSION)
    tree = ReceivedTree(
        root=root,
        container=Container.DIRECTORY,
        files=tuple(ReceivedFile(p.name, p.path, p.digests) for p in payload),
        source_name="sip",
    )
    return Submission(PackageKind.FOLDER, tree, tuple(payload), (meta,), (), label="Hồ sơ số 12")


def make_input(sub: Submission, **profile: object) -> AipInput:
    pdf = next(p for p in sub.payload if p.name.text == NFD)
    formats = {
        p.uuid: FormatIdentification(
            SIEGFRIED,
            FormatMatch("fmt/18", "Acrobat PDF 1.4", "1.4", "application/pdf", "byte match")
            if p is pdf
            else FormatMatch(UNIDENTIFIED, warning="no match"),
        )
        for p in sub.payload
    }
    chars = {
        pdf.uuid: (
            Characterization(
                "pdf",
                Agent("pikepdf", "10.18.0"),
                Validity.INVALID,
                (Finding("pdf.syntax", Severity.ERROR, NFD, "xref not found"),),
                {"pages": 1, "pdfa_claim": "2B", "encrypted": False},
            ),
        )
    }
    events = [Event(EventType.INGESTION_START, Outcome.SUCCESS, "start", (SOFTWARE,), (AIP_ID,))]
    events += [
        Event(
            EventType.FORMAT_IDENTIFICATION,
            Outcome.SUCCESS,
            "id",
            (SIEGFRIED,),
            (p.uuid,),
            formats[p.uuid].puid,
        )
        for p in sub.payload
    ]
    return AipInput(AIP_ID, sub, formats, chars, events, [SOFTWARE], AipProfile(**profile), sub.label)  # type: ignore[arg-type]


@pytest.fixture
def built(tmp_path: Path) -> tuple[Submission, BuiltAip]:
    sub = make_submission(tmp_path)
    return sub, build_aip(make_input(sub, organization="TTLT tỉnh An Giang"), tmp_path / "staging")


def test_structure(built: tuple[Submission, BuiltAip]) -> None:
    _, aip = built
    assert aip.folder.name == AIP_ID
    names = set(aip.manifest)
    assert {
        "METS.xml",
        "metadata/preservation/PREMIS.xml",
        "metadata/other/submission/bag-info.txt",
        "representations/rep1/METS.xml",
        "representations/rep1/metadata/preservation/PREMIS_rep1.xml",
        f"representations/rep1/data/{NFD}",
        "representations/rep1/data/phu luc/bang 100%.txt",
        "representations/rep1/data/B%E1o c%E1o.txt",
        "schemas/mets.xsd",
        "schemas/premis.xsd",
    } <= names
    on_disk = {p.relative_to(aip.folder).as_posix() for p in aip.folder.rglob("*") if p.is_file()}
    assert on_disk == names
    for rel, d in aip.manifest.items():
        assert digest_file(aip.folder / rel) == d


def test_valid_against_xsds_and_csip(built: tuple[Submission, BuiltAip]) -> None:
    _, aip = built
    for rel in ("METS.xml", "representations/rep1/METS.xml"):
        assert xsd.validate(aip.folder / rel, "mets") == []
    for rel in (
        "metadata/preservation/PREMIS.xml",
        "representations/rep1/metadata/preservation/PREMIS_rep1.xml",
    ):
        assert xsd.validate(aip.folder / rel, "premis") == []
    assert validate_package(aip.folder) == []


def test_every_mets_checksum_and_size(built: tuple[Submission, BuiltAip]) -> None:
    _, aip = built
    for rel in ("METS.xml", "representations/rep1/METS.xml"):
        base = (aip.folder / rel).parent
        doc = etree.parse(str(aip.folder / rel))
        holders = doc.findall(f".//{{{METS_NS}}}file") + doc.findall(f".//{{{METS_NS}}}mdRef")
        assert holders
        for h in holders:
            link = h if h.tag.endswith("mdRef") else h.find(f"{{{METS_NS}}}FLocat")
            assert link is not None
            target = base / unquote(link.get(XLINK, ""))
            assert target.is_file(), target
            assert h.get("CHECKSUMTYPE") == "SHA-256"
            assert h.get("CHECKSUM", "").lower() == hashlib.sha256(target.read_bytes()).hexdigest()
            assert int(h.get("SIZE", "-1")) == target.stat().st_size


def test_names_and_bytes_kept(built: tuple[Submission, BuiltAip]) -> None:
    sub, aip = built
    data = aip.folder / "representations" / "rep1" / "data"
    assert NFD.encode() in os.listdir(os.fsencode(data))  # NFD stays NFD
    for p in sub.payload:
        assert (aip.folder / aip.payload_paths[p.uuid]).read_bytes() == p.path.read_bytes()
    premis = etree.parse(str(aip.folder / "representations/rep1/metadata/preservation/PREMIS_rep1.xml"))
    names = [e.text for e in premis.iter(f"{{{PREMIS_NS}}}originalName")]
    assert NFD in names and "B%E1o c%E1o.txt" in names


def test_premis_carries_formats_characterization_and_events(built: tuple[Submission, BuiltAip]) -> None:
    _, aip = built
    rep = etree.parse(str(aip.folder / "representations/rep1/metadata/preservation/PREMIS_rep1.xml"))
    keys = [e.text for e in rep.iter(f"{{{PREMIS_NS}}}formatRegistryKey")]
    assert keys == ["fmt/18"]
    assert [e.text for e in rep.iter(f"{{{PREMIS_NS}}}formatName")].count(UNIDENTIFIED) == 2
    props = {e.get("name"): e.text for e in rep.iter(f"{{{KL_NS}}}property")}
    assert props == {"encrypted": "false", "pages": "1", "pdfa_claim": "2B"}
    assert [e.get("code") for e in rep.iter(f"{{{KL_NS}}}finding")] == ["pdf.syntax"]
    assert len(list(rep.iter(f"{{{PREMIS_NS}}}event"))) == 3  # one identification event per file
    package = etree.parse(str(aip.folder / "metadata/preservation/PREMIS.xml"))
    types = [e.text for e in package.iter(f"{{{PREMIS_NS}}}eventType")]
    assert types == ["ingestion start", "information package creation"]
    ids = [e.text for e in package.iter(f"{{{PREMIS_NS}}}eventIdentifierValue")]
    assert aip.creation_event.identifier in ids
    agents = {e.text for e in package.iter(f"{{{PREMIS_NS}}}agentName")}
    assert {"Kho Lưu"} <= agents


def test_dates_in_vietnam_time(built: tuple[Submission, BuiltAip]) -> None:
    _, aip = built
    hdr = etree.parse(str(aip.folder / "METS.xml")).find(f"{{{METS_NS}}}metsHdr")
    assert hdr is not None and hdr.get("CREATEDATE", "").endswith("+07:00")


def test_objid_template_and_folder_name(tmp_path: Path) -> None:
    sub = make_submission(tmp_path)
    aip = build_aip(make_input(sub, objid_template="urn:uuid:{uuid}"), tmp_path / "staging")
    assert aip.objid == "urn:uuid:" + AIP_ID.removeprefix("uuid-")
    assert aip.folder.name == aip.objid.replace(":", "_")  # TT 05: ':' becomes '_' in the folder name
    assert validate_package(aip.folder) == []


def test_changed_quarantine_file_is_refused(tmp_path: Path) -> None:
    sub = make_submission(tmp_path)
    victim = sub.payload[0]
    victim.path.write_bytes(b"changed after the digest was recorded")
    with pytest.raises(ChecksumMismatchError) as exc:
        build_aip(make_input(sub), tmp_path / "staging")
    assert exc.value.path == victim.name.text


def test_schema_validation_is_real(built: tuple[Submission, BuiltAip]) -> None:
    _, aip = built
    doc = etree.parse(str(aip.folder / "metadata/preservation/PREMIS.xml"))
    obj = doc.find(f"{{{PREMIS_NS}}}object")
    assert obj is not None
    ident = obj.find(f"{{{PREMIS_NS}}}objectIdentifier")
    assert ident is not None
    obj.remove(ident)
    findings = xsd.validate(doc, "premis")
    assert findings and findings[0].code == "xsd.premis"


def test_parsing_never_expands_entities(tmp_path: Path) -> None:
    doc = tmp_path / "x.xml"
    doc.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        '<mets xmlns="http://www.loc.gov/METS/">&e;</mets>\n',
        encoding="utf-8",
    )
    tree = etree.parse(str(doc), xsd.parser())
    assert "root:" not in etree.tostring(tree).decode()
