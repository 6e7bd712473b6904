"""The package facts file and the METS reader (issue 10, "Facts as data")."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from preservation.aip import build_aip
from preservation.facts import (
    FACTS_MDTYPE,
    FACTS_PATH,
    FactsError,
    PackageFacts,
    RecordsRegistration,
    facts_json,
    read_facts,
)
from preservation.mets_read import MetsReadError, read_mets
from tests.preservation.test_aip import AIP_ID, make_input, make_submission

FACTS = PackageFacts(
    aip_id=AIP_ID,
    job_id="0b8e2f4c-7d1a-4c55-9a0e-3f6f2a1d9b10",
    source_name="Hồ sơ 'xây dựng' (job 1).zip",
    package_kind="bagit",
    container="zip",
    organ_id="H49.64.33",
    transfer_id="6f1c",
    records=RecordsRegistration("tt05", "SIP_hoso", "metadata/descriptive/EAD.xml", 3),
)


def test_facts_round_trip_any_name() -> None:
    """A name that would confuse prose parsing (quotes, "(job ...)") comes back exactly."""
    assert read_facts(facts_json(FACTS)) == FACTS


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\xff", "not UTF-8 JSON"),
        (b"[]", "not a JSON object"),
        (json.dumps({**FACTS.as_dict(), "format": "kholuu-package-facts/9"}).encode(), "format is"),
        (json.dumps({**FACTS.as_dict(), "container": 3}).encode(), "container is not a string"),
        (json.dumps({**FACTS.as_dict(), "metadata_names": {"a": 1}}).encode(), "metadata_names"),
        (json.dumps({**FACTS.as_dict(), "records": {"source": "tt05"}}).encode(), "records has"),
    ],
)
def test_facts_we_did_not_write_are_refused(data: bytes, problem: str) -> None:
    with pytest.raises(FactsError) as info:
        read_facts(data, "x/kholuu-facts.json")
    assert info.value.code == "facts.invalid" and problem in info.value.problem
    assert info.value.path == "x/kholuu-facts.json"


def test_the_aip_carries_its_facts_with_the_submitted_names(tmp_path: Path) -> None:
    sub = make_submission(tmp_path)
    built = build_aip(dataclasses.replace(make_input(sub), facts=FACTS), tmp_path / "staging")

    stored = read_facts((built.folder / FACTS_PATH).read_bytes())
    assert stored.metadata_names == {"metadata/other/submission/bag-info.txt": "bag-info.txt"}
    assert dataclasses.replace(stored, metadata_names={}) == FACTS
    mets = read_mets((built.folder / "METS.xml").read_bytes(), "METS.xml")
    (ref,) = mets.mdrefs(FACTS_MDTYPE)
    assert (ref.target, ref.checksum) == (FACTS_PATH, built.manifest[FACTS_PATH].sha256)


def test_an_aip_without_facts_has_no_facts_file(tmp_path: Path) -> None:
    sub = make_submission(tmp_path)
    built = build_aip(make_input(sub), tmp_path / "staging")
    assert FACTS_PATH not in built.manifest
    assert read_mets((built.folder / "METS.xml").read_bytes(), "METS.xml").mdrefs(FACTS_MDTYPE) == []


def test_mets_reader_header_and_references(tmp_path: Path) -> None:
    sub = make_submission(tmp_path)
    built = build_aip(make_input(sub, organization="TTLT tỉnh An Giang"), tmp_path / "staging")

    with (built.folder / "METS.xml").open("rb") as fh:  # a stream, as the audit reads it
        root = read_mets(fh, "METS.xml")
    rep = read_mets(
        (built.folder / "representations/rep1/METS.xml").read_bytes(), "representations/rep1/METS.xml"
    )

    assert (root.header.objid, root.header.label, root.header.package_type) == (built.objid, sub.label, "AIP")
    assert root.header.created is not None and root.header.created.tzinfo is not None
    targets = {r.target: r for r in (*root.references, *rep.references)}
    for path, digests in built.manifest.items():  # every file is referenced with its SHA-256
        if path != "METS.xml":
            assert targets[path].checksum == digests.sha256 and targets[path].checksum_type == "SHA-256", path
    assert targets["metadata/preservation/PREMIS.xml"].kind == "mdRef"
    assert any(
        r.kind == "file" and r.target and r.target.startswith("representations/rep1/data/")
        for r in rep.references
    )


def test_mets_reader_refuses_and_confines() -> None:
    with pytest.raises(MetsReadError) as info:
        read_mets(b"<mets", "METS.xml")
    assert info.value.code == "mets.invalid" and "not well-formed" in info.value.problem
    with pytest.raises(MetsReadError):
        read_mets(b'<mets xmlns="http://www.loc.gov/METS/"/>', "METS.xml")  # no OBJID
    outside = (
        b'<mets xmlns="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink" OBJID="x">'
        b'<fileSec><fileGrp><file ID="f" CHECKSUM="AB" CHECKSUMTYPE="SHA-256">'
        b'<FLocat xlink:href="../../../etc/passwd"/></file></fileGrp></fileSec></mets>'
    )
    (ref,) = read_mets(outside, "representations/rep1/METS.xml").references
    assert (ref.target, ref.href, ref.checksum) == (None, "../../../etc/passwd", "ab")
