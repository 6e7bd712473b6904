"""The ingest orchestration the command line and the web app share: a legacy export ingested hồ sơ by
hồ sơ with the caller told as it goes, the request checked against the export before any ingest,
the ids of one ingest checked against the catalog before anything is read, and the records an AIP
carries. Run on SQLite only: the catalog work is the ingest's and the transfers', tested on both
backends where they live; here a second backend would double two full ingests for nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.models import Job, JobStatus
from repository.catalog.queries import NotFoundError
from repository.catalog.records_core import RecordNotFoundError
from repository.catalog.records_store import add_agency
from repository.settings import Settings
from tests.conftest import SAMPLES
from tests.workflows.test_transfers import at, make_aip
from workflows.ingest.errors import IngestRequestError
from workflows.ingest.legacy_ingest import ConvertedExport, DossierIngest, ingest_legacy
from workflows.ingest.pipeline import IngestOptions
from workflows.ingest.preflight import checked_options, open_transfer
from workflows.records import transfers as tr
from workflows.records.aip_records import records_of

ND30 = SAMPLES / "legacy-nd30-so-noi-vu"
CODES = ("000.00.27.H02.2023.12.TCCB", "000.00.27.H02.2023.15.VT")
AGENCY = "000.00.27.H02"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'catalog.sqlite3'}"


class Told:
    """A :class:`workflows.ingest.legacy_ingest.LegacyObserver` that writes down what it is told."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def converted(self, export: ConvertedExport) -> None:
        self.said.append(f"converted {export.kind} {len(export.dossier_codes)}")

    def ingested(self, dossier: DossierIngest) -> None:
        self.said.append(f"{dossier.dossier} {'stored' if dossier.stored else dossier.result.status.value}")


def jobs(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count(Job.id))) or 0


def test_legacy_export_ingested_dossier_by_dossier(
    ready: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, sessions = ready
    told = Told()
    done = ingest_legacy(settings, sessions, ND30, IngestOptions(), observer=told)
    assert told.said == ["converted nd30 2", f"{CODES[0]} stored", f"{CODES[1]} stored"]
    assert [d.dossier for d in done.dossiers] == list(CODES) and done.failed == ()
    assert done.export.metadata_file == "ho-so-nd30.xml"
    assert {u.field for u in done.export.unmapped} >= {"SignerInfo", "Priority", "DueDate"}
    assert list(settings.conversion_dir.iterdir()) == []  # the SIPs are removed once ingested

    # the same export again: each hồ sơ refused as a duplicate, the others still tried, no raise
    again = Told()
    twice = ingest_legacy(settings, sessions, ND30, IngestOptions(), observer=again)
    assert again.said == ["converted nd30 2", f"{CODES[0]} refused", f"{CODES[1]} refused"]
    assert [d.result.status for d in twice.failed] == [JobStatus.REFUSED] * 2

    aip_id = done.dossiers[0].result.aip_id
    assert aip_id is not None
    with sessions() as s:
        (dossier,) = records_of(s, aip_id, language="vi")
        (english,) = records_of(s, aip_id, language="en")
        assert records_of(s, "uuid-not-an-aip", language="vi") == []
    assert (dossier.code, dossier.source, dossier.maintenance_label) == (CODES[0], "nd30-xml", "Vĩnh viễn")
    assert english.maintenance_label == "Permanent"
    assert (dossier.superseded_by, dossier.supersedes) == (None, ())
    assert [d.ordinal for d in dossier.documents] == [1, 2] and all(d.files for d in dossier.documents)
    shown = dossier.as_dict()
    assert list(shown)[-3:] == ["superseded_by", "supersedes", "documents"]
    assert shown["documents"][0]["files"] == list(dossier.documents[0].files)


def test_one_transfer_or_one_superseded_aip_for_an_export_of_several(
    ready: tuple[Settings, sessionmaker[Session]],
) -> None:
    """Refused after the conversion and before any ingest: nothing stored, no job, no SIP left."""
    settings, sessions = ready
    for options, code in (
        (IngestOptions(transfer_id="t-1"), "conversion.transfer_many"),
        (IngestOptions(supersedes="uuid-1"), "conversion.supersedes_many"),
    ):
        told = Told()
        with pytest.raises(IngestRequestError) as refused:
            ingest_legacy(settings, sessions, ND30, options, observer=told)
        assert (refused.value.code, refused.value.params["count"]) == (code, 2)
        assert told.said == []
    assert jobs(sessions) == 0 and list(settings.conversion_dir.iterdir()) == []


def test_the_ids_of_an_ingest_are_checked_before_it_starts(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as s:
        add_agency(s, AGENCY, "Sở Nội vụ tỉnh An Giang")
        make_aip(s, "uuid-5e1f0000-0000-4000-8000-000000000001")
        open_one = tr.receive(
            s, settings, organ_id=AGENCY, package_name="a.zip", received_at=at(2025, 3, 3), by="Thu"
        )
        closed = tr.receive(
            s, settings, organ_id=AGENCY, package_name="b.zip", received_at=at(2025, 3, 3), by="Thu"
        )
        tr.decide(s, settings, closed.id, accept=False, by="Quyết", reason="thiếu hồ sơ", at=at(2025, 3, 4))
    with sessions() as s:
        assert open_transfer(s, open_one.id[:8]).transfer_id == open_one.id
        options = checked_options(s, transfer_id=open_one.id[:8], supersedes="uuid-5e1f0000")
        assert (options.transfer_id, options.organ_id) == (open_one.id, AGENCY)  # the transfer's agency
        assert options.supersedes == "uuid-5e1f0000-0000-4000-8000-000000000001"
        with pytest.raises(tr.TransferError) as decided:
            checked_options(s, transfer_id=closed.id)
        assert decided.value.code == "transfer.already_decided"
        assert decided.value.params["status"] == "rejected"
        with pytest.raises(RecordNotFoundError):
            checked_options(s, organ_id="000.00.99.H99")
        with pytest.raises(NotFoundError):
            checked_options(s, supersedes="uuid-00000000")
