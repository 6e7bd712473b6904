"""Issue 11 item 2: events recorded after a version was written go into the AIP's next version.

docs/aip.md promises that replication, accession, ingestion end and later events, which live in
the catalog while the package cannot hold them, are written into the next version's PREMIS. A v2
made by ``kholuu aip add-metadata`` used to hold none of them. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.facts import FACTS_PATH, PackageFacts, read_facts
from preservation.premis_read import read_premis
from preservation.tt05.model import doc_code
from preservation.tt05.tables import Tables
from repository.catalog.models import Event as EventRow
from repository.catalog.models import JobStatus
from repository.settings import Settings
from repository.storage.locations import open_locations
from tests.conftest import SAMPLES
from tests.tt05 import DATA, ORGAN_ID, dossier_records, write_sip
from tests.workflows.conftest import Ingest
from workflows.custody.update import add_metadata

PACKAGE_PREMIS = "metadata/preservation/PREMIS.xml"


def _outside(sessions: sessionmaker[Session], aip_id: str) -> dict[str, str]:
    with sessions() as s:
        rows = s.scalars(select(EventRow).where(EventRow.aip_id == aip_id, ~EventRow.in_package))
        return {e.identifier: e.type for e in rows}


def _in_version(settings: Settings, aip_id: str, version: int) -> set[str]:
    (location,) = open_locations(settings)
    with location.store.open_file(aip_id, PACKAGE_PREMIS, version) as fh:
        return {e.identifier for e in read_premis(fh.read(), PACKAGE_PREMIS).to_events()}


def test_the_next_version_carries_the_events_since_the_last(
    run_ingest: Ingest, ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = ready
    result = run_ingest(SAMPLES / "sip-folder-quyet-dinh")
    assert result.status is JobStatus.COMPLETED and result.aip_id is not None, result.error
    aip_id = result.aip_id
    after_ingest = _outside(sessions, aip_id)
    assert {"accession", "ingestion end"} <= set(after_ingest.values())
    assert not set(after_ingest) & _in_version(settings, aip_id, 1)
    meta = tmp_path / "muc-luc.txt"
    meta.write_text("mục lục hồ sơ", encoding="utf-8")

    v2 = add_metadata(settings, sessions, aip_id, meta, reason="bổ sung mục lục")

    in_v2 = _in_version(settings, aip_id, 2)
    assert set(after_ingest) <= in_v2  # the catalog-only events are now in the package
    assert _in_version(settings, aip_id, 1) < in_v2  # and v1 is untouched
    after_v2 = _outside(sessions, aip_id)
    assert not set(after_ingest) & set(after_v2)  # the catalog says so (aip show: in_package)
    assert set(after_v2.values()) == {"replication"}  # v2's own copies: for the next version
    assert {e.identifier for e in v2.events[1:]} == set(after_v2)

    meta3 = tmp_path / "bo-sung.txt"
    meta3.write_text("bổ sung", encoding="utf-8")
    add_metadata(settings, sessions, aip_id, meta3)

    assert set(after_v2) <= _in_version(settings, aip_id, 3)


def test_an_old_tt05_package_gets_the_facts_a_new_ingest_writes(
    ready: tuple[Settings, sessionmaker[Session]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The facts the catalog gives an AIP from before the facts file are the ones ingest writes."""
    from preservation.aip import _Builder
    from preservation.tt05.tables import load_tables
    from repository.catalog.records_import import add_agency
    from tests.tt05 import build_sample_sip
    from workflows.ingest.pipeline import IngestOptions, ingest

    settings, sessions = ready
    with sessions.begin() as s:
        add_agency(s, ORGAN_ID, "Văn phòng Ủy ban nhân dân tỉnh An Giang")
    tables = load_tables()
    options = IngestOptions(organ_id=ORGAN_ID)
    new = ingest(settings, sessions, build_sample_sip(tmp_path / "a", tables), options=options)
    assert new.status is JobStatus.COMPLETED and new.aip_id is not None, new.error
    monkeypatch.setattr(_Builder, "_write_facts", lambda *_: None)
    old = ingest(settings, sessions, _another_dossier(tmp_path / "b", tables), options=options)
    assert old.status is JobStatus.COMPLETED and old.aip_id is not None, old.error
    monkeypatch.undo()
    meta = tmp_path / "muc-luc.txt"
    meta.write_text("mục lục", encoding="utf-8")

    add_metadata(settings, sessions, old.aip_id, meta)

    written, given = _facts(settings, new.aip_id, 1), _facts(settings, old.aip_id, 2)
    assert given.records is not None and given.records.package_type == "AIP_hoso"
    assert given.organ_id == ORGAN_ID and given.package_kind == "eark-sip"
    same = (  # not the source name: another package
        "records",
        "organ_id",
        "transfer_id",
        "package_kind",
        "container",
        "metadata_names",
    )
    assert {k: getattr(given, k) for k in same} == {k: getattr(written, k) for k in same}


def _another_dossier(parent: Path, tables: Tables) -> Path:
    """A second TT 05 hồ sơ (its own code and bytes), as if ingested before the facts file."""
    code = f"{ORGAN_ID}.2024.02.XD"
    data = {name: content + b"\n(ban thu hai)\n" for name, content in DATA.items()}
    documents = {i: {"docId": f"{code}.{i + 1}", "docCode": doc_code(code, i + 1)} for i in range(len(data))}
    records = dossier_records(tables, list(data), documents=documents)
    package = dataclasses.replace(records.package, values={**records.package.values, "fileCode": code})
    return write_sip(parent, tables, dataclasses.replace(records, package=package), data)


def _facts(settings: Settings, aip_id: str, version: int) -> PackageFacts:
    (location,) = open_locations(settings)
    with location.store.open_file(aip_id, FACTS_PATH, version) as fh:
        return read_facts(fh.read())
