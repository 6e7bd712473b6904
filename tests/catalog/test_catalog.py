"""The catalog on both backends: migrations, time zones, enums, byte-exact names, events."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from preservation.events import Agent, Event, EventType, Outcome
from repository.catalog import queries, store
from repository.catalog.base import Base
from repository.catalog.db import CatalogError, check_current, current_revision, head_revision, make_engine
from repository.catalog.file_text import include_in_comparison
from repository.catalog.models import Aip, AipStatus, AipVersion, File, FileRole, Job, JobStatus


def test_migration_matches_models(engine: Engine) -> None:
    """Alembic head and the ORM models describe the same schema (no forgotten migration)."""
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_in_comparison})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_uninitialised_catalog_is_named(database_url: str) -> None:
    eng = make_engine(database_url)
    with pytest.raises(CatalogError) as exc:
        check_current(eng, where="/srv/kholuu")
    assert exc.value.code == "catalog.not_initialised"
    eng.dispose()


def _aip(aip_id: str = "uuid-00000000-0000-4000-8000-000000000001", **kw: object) -> Aip:
    now = datetime.now(UTC)
    values: dict[str, object] = dict(
        id=aip_id,
        objid=aip_id,
        label="Hồ sơ",
        status=AipStatus.STORED,
        package_kind="folder",
        container="directory",
        source_name="sip",
        payload_digest="0" * 64,
        file_count=1,
        payload_bytes=10,
        created_at=now,
        stored_at=now,
        current_version=1,
        job_id="job",
    )
    values.update(kw)
    return Aip(**values)


def test_timestamps_come_back_aware_utc(sessions: sessionmaker[Session]) -> None:
    hanoi = timezone(timedelta(hours=7))
    created = datetime(2025, 7, 1, 8, 30, tzinfo=hanoi)
    with sessions.begin() as s:
        s.add(_aip(created_at=created))
    with sessions() as s:
        row = s.scalars(select(Aip)).one()
        assert row.created_at == created
        assert row.created_at.tzinfo is not None
        assert row.created_at.utcoffset() == timedelta(0)
        assert row.created_at.hour == 1


def test_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(StatementError, match="naive datetime"), sessions.begin() as s:
        s.add(_aip(created_at=datetime(2025, 1, 1)))


def test_enum_values_are_checked(sessions: sessionmaker[Session], engine: Engine) -> None:
    with pytest.raises((IntegrityError, StatementError)), engine.begin() as conn:
        conn.execute(
            text(
                "insert into job (id, kind, status, source, source_name, started_at, options) "
                "values ('j1', 'ingest', 'bogus', '/x', 'x', CURRENT_TIMESTAMP, '{}')"
            )
        )


def test_file_names_byte_exact_and_nfc(sessions: sessionmaker[Session]) -> None:
    nfd = unicodedata.normalize("NFD", "Quyết định số 12.pdf")
    cp1258 = "Báo cáo.txt".encode("cp1258")
    with sessions.begin() as s:
        aip = _aip()
        aip.versions.append(AipVersion(number=1, created_at=datetime.now(UTC), message="ingest"))
        for raw, shown in ((nfd.encode(), nfd), (cp1258, "B%E1o c%E1o.txt")):
            aip.files.append(
                File(
                    version=1,
                    role=FileRole.ORIGINAL,
                    aip_path=f"representations/rep1/data/{shown}",
                    path_raw=raw,
                    path=shown,
                    path_nfc=unicodedata.normalize("NFC", shown),
                    size=1,
                    sha256="a" * 64,
                    sha512="b" * 128,
                )
            )
        s.add(aip)
    with sessions() as s:
        rows = {f.path_raw: f for f in s.scalars(select(File))}
        assert set(rows) == {nfd.encode(), cp1258}
        assert rows[nfd.encode()].path == nfd  # NFD kept
        found = queries.find_files(s, "Quyết định")  # typed NFC finds the NFD name
        assert [f.path_raw for f in found] == [nfd.encode()]


def test_duplicate_file_path_in_one_version_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError), sessions.begin() as s:
        aip = _aip()
        for _ in range(2):
            aip.files.append(
                File(
                    version=1,
                    role=FileRole.PACKAGE,
                    aip_path="METS.xml",
                    size=1,
                    sha256="a" * 64,
                    sha512="b" * 128,
                )
            )
        s.add(aip)


def test_events_agents_dedup_and_read_back(sessions: sessionmaker[Session]) -> None:
    sf = Agent("Siegfried", "1.11.9", note="default.sig 2026-09-27")
    newer = Agent("Siegfried", "1.11.9", note="default.sig 2027-01-01")
    events = [
        Event(EventType.FORMAT_IDENTIFICATION, Outcome.SUCCESS, "id", (sf,), ("file-1",), "fmt/18"),
        Event(EventType.FORMAT_IDENTIFICATION, Outcome.SUCCESS, "id", (sf,), ("file-2",), "fmt/19"),
        Event(EventType.FORMAT_IDENTIFICATION, Outcome.WARNING, "id", (newer,), ("file-3",), "unidentified"),
    ]
    with sessions.begin() as s:
        s.add(_aip())
        s.add(
            Job(
                id="job",
                kind="ingest",
                status=JobStatus.COMPLETED,
                source="/x",
                source_name="x",
                started_at=datetime.now(UTC),
                options={},
            )
        )
        store.add_events(s, events, job_id="job", aip_id="uuid-00000000-0000-4000-8000-000000000001")
    with sessions() as s:
        rows = store.events_for_aip(s, "uuid-00000000-0000-4000-8000-000000000001")
        assert [store.to_record(r) for r in rows] == events
        from repository.catalog.models import Agent as AgentRow

        assert len(s.scalars(select(AgentRow)).all()) == 2  # same tool, two signature files: two agents


def test_resolve_aip_id_forms(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        s.add(_aip("uuid-3fa85f64-5717-4562-b3fc-2c963f66afa6"))
    with sessions() as s:
        for given in (
            "uuid-3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "3FA85F64-5717-4562-B3FC-2C963F66AFA6",
            "uuid-3fa85f64",
        ):
            assert queries.resolve_aip_id(s, given) == "uuid-3fa85f64-5717-4562-b3fc-2c963f66afa6"
        with pytest.raises(queries.NotFoundError):
            queries.resolve_aip_id(s, "uuid-ffffffff")
