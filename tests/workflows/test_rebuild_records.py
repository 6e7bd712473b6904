"""Issue 11 item 1: a catalog lost and rebuilt from storage alone gets the archive's records back.

A home with TT 05 AIPs (one under a transfer, accepted), a phông, an agency, a transfer plan, a
declared total, a restriction (lifted), a second restriction, and a declassification (giải mật,
mode 02 → 01) loses its catalog; ``rebuild_catalog`` on an empty catalog must give back every row
of every records table exactly as it was. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.tt05.model import doc_code
from preservation.tt05.tables import Tables, load_tables
from repository.catalog.db import make_engine, session_factory, upgrade
from repository.catalog.journal import JOURNAL_PREFIX, attach_journal, replay_journal, tables
from repository.catalog.models import JobStatus
from repository.catalog.records import Dossier
from repository.catalog.records_access import change_access, lift_restriction, restrict
from repository.catalog.records_import import add_agency, add_fonds, set_declared_total
from repository.catalog.records_store import find_dossier
from repository.settings import Settings, load_settings
from repository.storage.locations import Location, open_locations
from tests import s3 as s3test
from tests.conftest import HeadSchema, another_database, write_home_config
from tests.data_folder import DataFolders, data_folders
from tests.tt05 import DATA, FILE_CODE, ORGAN_ID, build_sample_sip, dossier_records, write_sip
from tests.workflows.test_ingest import storage_root
from tests.workflows.test_rebuild import _fresh
from tests.workflows.test_s3_locations import bucket  # noqa: F401  (the fixture)
from workflows.custody.rebuild import rebuild_catalog
from workflows.ingest.pipeline import IngestOptions, ingest
from workflows.records import transfer_plans as tp
from workflows.records import transfers as tr

Catalog = tuple[Settings, sessionmaker[Session]]
SECOND_CODE = f"{ORGAN_ID}.2024.02.XD"


@pytest.fixture(scope="module")
def tt05_tables() -> Tables:
    return load_tables()


@pytest.fixture
def journaled(ready: Catalog) -> Catalog:
    """The home's sessions as the command line makes them: every records change is journaled."""
    settings, sessions = ready
    return settings, attach_journal(sessions, settings)


@pytest.fixture(scope="session")
def records_home(
    tmp_path_factory: pytest.TempPathFactory, head_schema: HeadSchema
) -> Iterator[DataFolders[str]]:
    """A data folder holding everything the archive decides about records (:func:`_home_with_records`,
    every change journaled), built once per session and backend; returns the transfer's id."""

    def build(home: Path, database_url: str) -> str:
        settings = load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})
        engine = make_engine(database_url)
        try:
            head_schema.install(engine)
            open_locations(settings, initialize=True)
            sessions = attach_journal(session_factory(engine), settings)
            return _home_with_records(settings, sessions, home.parent, load_tables())
        finally:
            engine.dispose()

    yield from data_folders(tmp_path_factory, head_schema, "records-home", build)


@dataclass(frozen=True)
class WithRecords:
    """This test's copy of that data folder (``journaled``), and a lost catalog beside it (``lost``)."""

    journaled: Catalog
    lost: Catalog


@pytest.fixture
def with_records(
    records_home: DataFolders[str], database_url: str, tmp_path: Path, head_schema: HeadSchema
) -> Iterator[WithRecords]:
    copy = records_home.copy(database_url, tmp_path / "home")
    settings = load_settings(copy.home, environ={}, overrides={"catalog": {"url": database_url}})
    engine = make_engine(database_url)
    with _fresh(settings, database_url, tmp_path, head_schema) as (new_settings, new_sessions):
        journaled = (settings, attach_journal(session_factory(engine), settings))
        yield WithRecords(journaled, (new_settings, attach_journal(new_sessions, new_settings)))
    engine.dispose()


def records_tables(sessions: sessionmaker[Session]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every journaled table, by primary key, every column."""
    out: dict[str, list[dict[str, Any]]] = {}
    with sessions() as s:
        for table in tables():
            rows = s.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [dict(row._mapping) for row in rows]
    return out


def _home_with_records(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path, t05: Tables
) -> str:
    """Everything the archive decides about records, made the way the commands make it."""
    with sessions.begin() as s:
        add_fonds(s, "P01", "Phông Ủy ban nhân dân tỉnh An Giang", history="Thành lập năm 1976")
        add_agency(s, ORGAN_ID, "Văn phòng Ủy ban nhân dân tỉnh An Giang", fonds_code="P01")
        tp.register_plan(s, settings, ORGAN_ID, "KH-01/2025", date(2025, 9, 1), date(2025, 10, 1), 1)
        set_declared_total(
            s, organ_id=ORGAN_ID, year=2024, metric="records_created", value=120, source="entered by test"
        )
        transfer = tr.receive(
            s,
            settings,
            organ_id=ORGAN_ID,
            package_name="SIP_hoso_2024.zip",
            received_at=datetime(2025, 10, 1, 3, tzinfo=UTC),
            by="Nguyễn Văn Nhận",
            plan_reference="KH-01/2025",
        )
        transfer_id = transfer.id
    first = build_sample_sip(tmp_path / "a", t05, package={"mode": "02"})
    result = ingest(
        settings, sessions, first, options=IngestOptions(organ_id=ORGAN_ID, transfer_id=transfer_id)
    )
    assert result.status is JobStatus.COMPLETED, result.error
    data = {name: content + b"\n(ban thu hai)\n" for name, content in DATA.items()}
    documents = {
        i: {"docId": f"{SECOND_CODE}.{i + 1}", "docCode": doc_code(SECOND_CODE, i + 1)} for i in range(3)
    }
    records = dossier_records(t05, list(data), documents=documents)
    package = dataclasses.replace(records.package, values={**records.package.values, "fileCode": SECOND_CODE})
    second = write_sip(tmp_path / "b", t05, dataclasses.replace(records, package=package), data)
    other = ingest(settings, sessions, second, options=IngestOptions(organ_id=ORGAN_ID))
    assert other.status is JobStatus.COMPLETED, other.error
    with sessions.begin() as s:
        tr.confirm_receipt(s, transfer_id, at=datetime(2025, 10, 2, 3, tzinfo=UTC))
        tr.decide(s, settings, transfer_id, accept=True, by="Trưởng phòng Thu thập")
    with sessions.begin() as s:
        a = find_dossier(s, FILE_CODE)
        b = find_dossier(s, SECOND_CODE)
        at = datetime(2025, 11, 3, 2, tzinfo=UTC)
        lifted = restrict(
            s, dossier_id=b.id, decision_number="QĐ 7/QĐ-LTLS", decision_date=date(2025, 11, 3),
            reason="Thông tin cá nhân", by="Lê Thị Lan", at=at,
        )  # fmt: skip
        restrict(
            s, document_id=b.documents[0].id, decision_number="QĐ 8/QĐ-LTLS", decision_date=date(2025, 11, 3),
            reason="Bí mật kinh doanh", review_date=date(2030, 1, 1), by="Lê Thị Lan", at=at,
        )  # fmt: skip
        s.flush()
        lift_restriction(
            s, lifted.id, decision_number="QĐ 9/QĐ-LTLS", decision_date=date(2025, 11, 20),
            by="Lê Thị Lan", at=datetime(2025, 11, 20, 2, tzinfo=UTC),
        )  # fmt: skip
        change_access(
            s, dossier_id=a.id, to_mode="01", decision_number="QĐ 10/QĐ-LTLS",
            decision_date=date(2025, 12, 1), reason="Giải mật theo Luật Lưu trữ 2024", by="Giám đốc",
            at=datetime(2025, 12, 1, 2, tzinfo=UTC),
        )  # fmt: skip
    return transfer_id


def test_rebuild_restores_every_records_table(with_records: WithRecords) -> None:
    _, sessions = with_records.journaled
    before = records_tables(sessions)
    for name in ("fonds", "source_agency", "transfer_plan", "transfer", "dossier", "document"):
        assert before[name], name
    for name in ("document_file", "access_restriction", "access_change", "declared_total"):
        assert before[name], name

    new_settings, new_sessions = with_records.lost
    report = rebuild_catalog(new_settings, new_sessions, "primary")

    assert report.totals["added"] == 2 and report.totals["failed"] == 0, report.as_dict()
    assert report.records.failed == {} and report.records.entries > 0
    after = records_tables(new_sessions)
    for name in before:
        assert after[name] == before[name], name
    with new_sessions() as s:  # the declassification and the accepted transfer are what was decided
        dossier = s.scalars(select(Dossier).where(Dossier.code.endswith(FILE_CODE))).one()
        assert (dossier.mode, dossier.elements["mode"]) == ("01", "01")
        assert dossier.accepted_at is not None
    with new_sessions.begin() as s:  # new rows after the rebuild do not collide with restored ids
        add_agency(s, "H49.64.34", "Sở Nội vụ tỉnh An Giang")

    again = rebuild_catalog(new_settings, new_sessions, "primary")  # idempotent
    assert again.records.failed == {}
    assert records_tables(new_sessions)["dossier"] == after["dossier"]


def _entry(location: Location, key: str) -> list[dict[str, Any]]:
    with location.backend.open_read(key) as fh:
        return [json.loads(line) for line in fh]


def test_the_journal_is_in_every_location_and_holds_the_declassification(with_records: WithRecords) -> None:
    """Issue 11 item 2: a declassification is not only in the catalog: storage holds it."""
    settings, _ = with_records.journaled
    (location,) = open_locations(settings)
    keys = list(location.backend.iter_keys(JOURNAL_PREFIX))
    assert keys == sorted(keys) and len(keys) >= 5
    last = _entry(location, keys[-1])
    assert last[0]["format"] == "kholuu-catalog-journal/1" and last[0]["kind"] == "changes"
    changes = [line for line in last[1:] if line["table"] == "access_change"]
    assert [(c["row"]["from_mode"], c["row"]["to_mode"]) for c in changes] == [("02", "01")]
    dossier = next(line["row"] for line in last[1:] if line["table"] == "dossier")
    assert dossier["mode"] == "01"
    first = _entry(location, keys[0])
    assert first[0]["kind"] == "snapshot"  # a location's journal starts with every row


def test_a_change_no_location_takes_is_not_committed(journaled: Catalog, tmp_path: Path) -> None:
    """A decision storage does not hold is not made: the transaction is refused and rolled back."""
    settings, sessions = journaled
    blocker = storage_root(settings).parent / JOURNAL_PREFIX
    blocker.write_bytes(b"not a folder")  # the journal folder cannot be created
    from repository.catalog.journal import JournalError
    from repository.catalog.records import SourceAgency

    with pytest.raises(JournalError) as info, sessions.begin() as s:
        add_agency(s, ORGAN_ID, "Văn phòng Ủy ban nhân dân tỉnh An Giang")
    assert info.value.code == "journal.not_written"
    with sessions() as s:
        assert s.scalars(select(SourceAgency)).all() == []


def test_a_damaged_aip_loses_only_its_own_records(with_records: WithRecords) -> None:
    """An AIP that cannot be rebuilt takes only its own records with it (skipped and counted); a
    journal entry that cannot be read is reported; everything else comes back."""
    settings, sessions = with_records.journaled
    lost = with_records.lost
    before = records_tables(sessions)
    with sessions() as s:
        damaged = find_dossier(s, SECOND_CODE).aip_id
    (location,) = open_locations(settings)
    premis = (
        storage_root(settings)
        / location.store.object_path(damaged)
        / "v1/content/metadata/preservation/PREMIS.xml"
    )
    premis.write_bytes(premis.read_bytes() + b"<!-- -->")
    bad = f"{JOURNAL_PREFIX}/99990101T000000.000000Z-bad.jsonl"
    header = {
        "format": "kholuu-catalog-journal/1",
        "kind": "changes",
        "written_at": "9999-01-01T00:00:00+00:00",
    }
    line = {"table": "aip", "op": "delete", "key": {"id": "uuid-x"}}  # not a records table
    location.backend.write_atomic(bad, BytesIO(f"{json.dumps(header)}\n{json.dumps(line)}\n".encode()))

    report = rebuild_catalog(*lost, "primary")

    assert {o.object_id: o.outcome.value for o in report.objects}[damaged] == "failed"
    assert list(report.records.failed) == [bad] and "not journaled" in report.records.failed[bad]
    assert report.records.skipped["dossier"] >= 1 and report.records.skipped["document"] >= 3
    after = records_tables(lost[1])
    kept = [r for r in before["dossier"] if r["aip_id"] != damaged]
    ids = {r["id"] for r in kept}
    documents = [r for r in before["document"] if r["dossier_id"] in ids]
    assert (after["dossier"], after["document"]) == (kept, documents)
    assert after["document_file"] == [
        r for r in before["document_file"] if r["document_id"] in {d["id"] for d in documents}
    ]
    assert after["access_restriction"] == []  # both were about the damaged AIP's hồ sơ
    assert after["access_change"] == before["access_change"]  # the giải mật was about the other one
    for name in ("fonds", "source_agency", "transfer_plan", "transfer", "declared_total"):
        assert after[name] == before[name], name


def test_the_journal_on_s3_alone_restores_the_records(
    home: Path,
    database_url: str,
    tmp_path: Path,
    bucket: str,  # noqa: F811  (the imported fixture)
) -> None:
    """The journal goes through the storage backend interface: a real S3 location holds it, and
    when the local disk's journal is gone, the S3 one alone brings the records back."""
    write_home_config(
        home,
        '[[storage.locations]]\nname = "primary"\nrole = "primary"\nbackend = "local"\n'
        'path = "storage/primary"\n\n' + s3test.location_toml("s3", bucket),
    )
    settings = load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})
    engine = make_engine(database_url)
    upgrade(engine)
    open_locations(settings, initialize=True)
    sessions = attach_journal(session_factory(engine), settings)
    with sessions.begin() as s:
        add_fonds(s, "P01", "Phông Ủy ban nhân dân tỉnh An Giang")
    with sessions.begin() as s:
        add_agency(s, ORGAN_ID, "Văn phòng Ủy ban nhân dân tỉnh An Giang", fonds_code="P01")
    before = records_tables(sessions)
    engine.dispose()
    local, remote = open_locations(settings)
    assert len(list(remote.backend.iter_keys(JOURNAL_PREFIX))) == 2
    assert local.backend.delete_prefix(JOURNAL_PREFIX) == 2

    with another_database(database_url, tmp_path) as url:
        other = make_engine(url)
        upgrade(other)
        report = replay_journal(settings, session_factory(other))
        assert (report.entries, report.failed) == (2, {})
        assert records_tables(session_factory(other)) == before
        other.dispose()


def test_the_command_line_journals_and_rebuild_catalog_restores(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    """``kholuu`` sessions journal every records change; ``kholuu rebuild-catalog`` on an empty
    catalog brings the rows back and says how many in its JSON."""
    from tests.cli.test_cli_records import Kholuu

    kholuu = Kholuu(home, database_url)
    assert kholuu("init", "--json").exit_code == 0
    kholuu.json("records", "fonds", "add", "AG01", "Phông UBND tỉnh An Giang")
    kholuu.json("records", "agency", "add", "000.00.00.H01", "Văn phòng UBND tỉnh", "--fonds", "AG01")
    engine = make_engine(database_url)
    before = records_tables(session_factory(engine))
    engine.dispose()
    assert [r["organ_id"] for r in before["source_agency"]] == ["000.00.00.H01"]

    with another_database(database_url, tmp_path) as url:
        data = Kholuu(home, url).json("rebuild-catalog", "--location", "primary")
        assert data["records"]["failed"] == {} and data["records"]["entries"] == 2
        engine = make_engine(url)
        assert records_tables(session_factory(engine)) == before
        engine.dispose()
