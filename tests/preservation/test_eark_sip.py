"""E-ARK SIPs: a hand-written CSIP 2.0.4 SIP is read, its checksums verified; damage is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from preservation.errors import InvalidPackageError, UnsafePackageError
from preservation.package import MetadataRole, PackageKind
from preservation.quarantine import receive
from preservation.safepath import UnpackLimits
from preservation.submission import read_submission
from preservation.supplied import raise_on_mismatch, verify_supplied
from tests.conftest import ROOT

MINIMAL = ROOT / "tests" / "data" / "eark-sip" / "minimal"


def read(path: Path, tmp: Path):  # type: ignore[no-untyped-def]
    return read_submission(receive(path, tmp / "q", UnpackLimits()))


@pytest.fixture
def sip(tmp_path: Path) -> Path:
    dest = tmp_path / "sip"
    shutil.copytree(MINIMAL, dest)
    return dest


def test_minimal_sip_is_read(sip: Path, tmp_path: Path) -> None:
    s = read(sip, tmp_path)
    assert s.kind is PackageKind.EARK_SIP
    assert [(p.representation, p.name.text) for p in s.payload] == [
        ("rep1", "Công văn số 45.txt"),
        ("rep1", "phu-luc/danh-sach.txt"),
    ]
    roles = {m.name.text: (m.role, m.representation) for m in s.metadata}
    assert roles["METS.xml"] == (MetadataRole.SUBMISSION, None)
    assert roles["representations/rep1/METS.xml"] == (MetadataRole.SUBMISSION, "rep1")
    assert roles["metadata/descriptive/dc.xml"] == (MetadataRole.DESCRIPTIVE, None)
    assert roles["metadata/preservation/premis.xml"] == (MetadataRole.PRESERVATION, None)
    assert roles["representations/rep1/metadata/preservation/premis.xml"] == (
        MetadataRole.PRESERVATION,
        "rep1",
    )
    assert roles["schemas/dc.xsd"] == (MetadataRole.SCHEMA, None)
    assert roles["documentation/README.txt"] == (MetadataRole.DOCUMENTATION, None)
    assert s.label == "Công văn số 45/UBND-VP"
    assert ("OAISPACKAGETYPE", "SIP") in s.info
    assert not s.findings
    checks = verify_supplied(s)
    # 2 data files, the rep PREMIS, dc.xml, PREMIS.xml, README, dc.xsd and the rep METS
    assert len(checks) == 8
    assert all(c.ok for c in checks)
    payload_checks = [c for c in checks if c.checksum.file_uuid]
    assert {c.checksum.file_uuid for c in payload_checks} == {p.uuid for p in s.payload}


def test_edited_data_file_is_named(sip: Path, tmp_path: Path) -> None:
    victim = sip / "representations" / "rep1" / "data" / "phu-luc" / "danh-sach.txt"
    victim.write_text("sửa sau khi đóng gói\n", encoding="utf-8")
    s = read(sip, tmp_path)
    checks = verify_supplied(s)
    bad = [c for c in checks if not c.ok]
    assert [c.checksum.path for c in bad] == ["representations/rep1/data/phu-luc/danh-sach.txt"]
    with pytest.raises(InvalidPackageError) as exc:
        raise_on_mismatch(checks)
    assert exc.value.code == "fixity.supplied_mismatch"
    assert exc.value.path == "representations/rep1/data/phu-luc/danh-sach.txt"
    assert exc.value.params["mismatches"][0]["source"] == "representations/rep1/METS.xml"


def test_missing_referenced_file(sip: Path, tmp_path: Path) -> None:
    (sip / "metadata" / "descriptive" / "dc.xml").unlink()
    with pytest.raises(InvalidPackageError) as exc:
        read(sip, tmp_path)
    assert exc.value.code == "eark.missing_file"
    assert exc.value.path == "./metadata/descriptive/dc.xml"
    assert exc.value.params["mets"] == "METS.xml"


def test_href_leaving_the_package(sip: Path, tmp_path: Path) -> None:
    mets = sip / "METS.xml"
    mets.write_text(
        mets.read_text(encoding="utf-8").replace("./documentation/README.txt", "../../etc/passwd"),
        encoding="utf-8",
    )
    with pytest.raises(UnsafePackageError) as exc:
        read(sip, tmp_path)
    assert exc.value.code == "eark.href_escapes"


def test_mets_not_well_formed(sip: Path, tmp_path: Path) -> None:
    (sip / "METS.xml").write_text(
        "<mets:mets xmlns:mets='http://www.loc.gov/METS/'><unclosed>", encoding="utf-8"
    )
    (sip / "representations" / "rep1" / "METS.xml").unlink()
    with pytest.raises(InvalidPackageError) as exc:
        read(sip, tmp_path)
    assert exc.value.code == "eark.mets_not_well_formed"
    assert exc.value.path == "METS.xml"


def test_unreferenced_file_is_a_warning(sip: Path, tmp_path: Path) -> None:
    (sip / "representations" / "rep1" / "data" / "extra.txt").write_text("not in METS")
    s = read(sip, tmp_path)
    assert [f.code for f in s.findings] == ["eark.unreferenced_file"]
    assert s.findings[0].where == "representations/rep1/data/extra.txt"


def test_external_entity_is_not_expanded(sip: Path, tmp_path: Path) -> None:
    mets = sip / "METS.xml"
    text = mets.read_text(encoding="utf-8")
    text = text.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ).replace("hand-written test fixture</mets:name>", "&xxe;</mets:name>", 1)
    mets.write_text(text, encoding="utf-8")
    s = read(sip, tmp_path)
    assert all("root:" not in v for _k, v in s.info)
