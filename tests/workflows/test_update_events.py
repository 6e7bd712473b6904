"""Issue 11 item 2: events recorded after a version was written go into the AIP's next version.

docs/aip.md promises that replication, accession, ingestion end and later events, which live in
the catalog while the package cannot hold them, are written into the next version's PREMIS. A v2
made by ``kholuu aip add-metadata`` used to hold none of them. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.premis_read import read_premis
from repository.catalog.models import Event as EventRow
from repository.catalog.models import JobStatus
from repository.settings import Settings
from repository.storage.locations import open_locations
from tests.conftest import SAMPLES
from tests.workflows.conftest import Ingest
from workflows.update import add_metadata

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
