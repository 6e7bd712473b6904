"""Rebuilding the catalog from a storage root alone, on both catalog backends.

The three samples are ingested for real, the catalog is snapshotted, and a brand-new empty
catalog (another SQLite file, or another PostgreSQL schema) is rebuilt from the OCFL storage root
only. Everything the package records must come back equal; what it records at a lower precision,
or not at all, is asserted separately, field by field, below.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from preservation.characteristics import Characterization, Validity
from preservation.errors import PreservationError
from preservation.events import Agent, AgentType, Event, EventType, Outcome
from preservation.formats import FormatIdentification, FormatMatch
from preservation.premis import (
    PremisDocument,
    PremisFile,
    PremisIntellectualEntity,
    PremisRepresentation,
    premis_document,
)
from preservation.premis_read import PremisReadError, identification_basis, read_premis
from repository.catalog.db import make_engine, session_factory
from repository.catalog.models import Aip, AipStatus, JobStatus
from repository.catalog.models import Event as EventRow
from repository.settings import CatalogSettings, Settings, StorageLocation, StorageSettings, load_settings
from repository.storage.locations import open_locations
from repository.storage.ocfl_inventory import json_bytes, sidecar_bytes
from tests.conftest import SAMPLES, HeadSchema, another_database, cli_env, run_cli
from tests.data_folder import DataFolders, data_folders
from tests.workflows.conftest import Ingest
from tests.workflows.test_ingest import assert_ocfl_valid, storage_root, with_second_location
from workflows.custody.rebuild import RebuildOutcome, rebuild_catalog
from workflows.custody.replication import sync_pending
from workflows.custody.verify import verify_aip
from workflows.ingest.pipeline import ingest

SAMPLE_NAMES = ("sip-folder-quyet-dinh", "sip-bag-cong-van", "sip-zip-bao-cao.zip")
Catalog = tuple[Settings, sessionmaker[Session]]


# ---------------------------------------------------------------------------------- fixtures


@contextmanager
def _fresh(settings: Settings, database_url: str, tmp_path: Path, head: HeadSchema) -> Iterator[Catalog]:
    """The same data folder and storage, with a brand-new empty catalog (at the head schema)."""
    with another_database(database_url, tmp_path) as url:
        engine = make_engine(url)
        head.install(engine)
        yield dataclasses.replace(settings, catalog=CatalogSettings(url=url)), session_factory(engine)
        engine.dispose()


@pytest.fixture
def fresh(ready: Catalog, database_url: str, tmp_path: Path, head_schema: HeadSchema) -> Iterator[Catalog]:
    with _fresh(ready[0], database_url, tmp_path, head_schema) as catalog:
        yield catalog


@pytest.fixture(scope="session")
def ingested_samples(
    tmp_path_factory: pytest.TempPathFactory, head_schema: HeadSchema
) -> Iterator[DataFolders[list[str]]]:
    """The three samples ingested once per session and backend (ids sorted)."""

    def build(home: Path, database_url: str) -> list[str]:
        settings = _settings(home, database_url)
        engine = make_engine(database_url)
        try:
            head_schema.install(engine)
            open_locations(settings, initialize=True)
            results = [ingest(settings, session_factory(engine), SAMPLES / name) for name in SAMPLE_NAMES]
        finally:
            engine.dispose()
        assert all(r.status is JobStatus.COMPLETED and r.aip_id for r in results), [r.error for r in results]
        return sorted(str(r.aip_id) for r in results)

    yield from data_folders(tmp_path_factory, head_schema, "rebuild-samples", build)


@dataclass(frozen=True)
class Samples:
    """This test's own copy of the ingested samples (``ready``), and an empty catalog beside it."""

    ids: list[str]
    ready: Catalog
    fresh: Catalog


@pytest.fixture
def samples(
    ingested_samples: DataFolders[list[str]], database_url: str, tmp_path: Path, head_schema: HeadSchema
) -> Iterator[Samples]:
    copy = ingested_samples.copy(database_url, tmp_path / "home")
    settings = _settings(copy.home, database_url)
    engine = make_engine(database_url)
    with _fresh(settings, database_url, tmp_path, head_schema) as fresh:
        yield Samples(copy.value, (settings, session_factory(engine)), fresh)
    engine.dispose()


def _settings(home: Path, database_url: str) -> Settings:
    return load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})


# ---------------------------------------------------------------------------------- snapshot


def _ms(moment: datetime) -> datetime:
    """PREMIS and METS write times with milliseconds (preservation.premis.iso)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def snapshot(sessions: sessionmaker[Session]) -> dict[str, dict[str, Any]]:
    """Every recoverable fact of every AIP, comparable with ``==``."""
    out: dict[str, dict[str, Any]] = {}
    with sessions() as s:
        aips = s.scalars(
            select(Aip).options(selectinload(Aip.files), selectinload(Aip.versions), selectinload(Aip.copies))
        )
        for aip in aips:
            events = s.scalars(select(EventRow).where(EventRow.aip_id == aip.id, EventRow.in_package)).all()
            out[aip.id] = {
                "aip": {
                    "objid": aip.objid,
                    "label": aip.label,
                    "status": aip.status,
                    "package_kind": aip.package_kind,
                    "container": aip.container,
                    "source_name": aip.source_name,
                    "payload_digest": aip.payload_digest,
                    "file_count": aip.file_count,
                    "payload_bytes": aip.payload_bytes,
                    "created_at": _ms(aip.created_at),
                    "current_version": aip.current_version,
                    "job_id": aip.job_id,
                    "versions": [v.number for v in aip.versions],
                },
                "files": {
                    (f.version, f.aip_path): {
                        "role": f.role,
                        "size": f.size,
                        "sha256": f.sha256,
                        "sha512": f.sha512,
                        "puid": f.puid,
                        "format_name": f.format_name,
                        "format_version": f.format_version,
                        "identification_basis": f.identification_basis,
                        "identification_warning": f.identification_warning,
                        "validity": f.validity,
                        "characteristics": _characteristics(f.characteristics),
                        "path": f.path,
                        "path_raw": f.path_raw,
                        "path_nfc": f.path_nfc,
                        "uuid": f.uuid,
                        "representation": f.representation,
                    }
                    for f in aip.files
                },
                "copies": {(c.location, c.version, c.status) for c in aip.copies},
                "events": {
                    e.identifier: (
                        e.type,
                        e.outcome,
                        _ms(e.datetime),
                        e.detail,
                        e.detail_code,  # the language-neutral detail survives a rebuild (issue 11 item 16)
                        e.detail_params,
                        e.outcome_detail,
                        sorted(o.identifier for o in e.objects),
                        sorted(a.agent.fingerprint for a in e.agents),
                    )
                    for e in events
                },
            }
    return out


def _characteristics(value: list[Any] | None) -> list[Any] | None:
    """A finding's ``where`` and ``params`` are not written into PREMIS; everything else is."""
    if value is None:
        return None
    return [
        {**c, "findings": [{k: f[k] for k in ("code", "severity", "message")} for f in c["findings"]]}
        for c in value
    ]


# ---------------------------------------------------------------------------------- rebuild


def test_rebuild_reproduces_the_catalog(samples: Samples) -> None:
    settings, sessions = samples.ready
    new_settings, new_sessions = samples.fresh
    ids = samples.ids
    before = snapshot(sessions)
    assert sorted(before) == ids and all(a["events"] for a in before.values())

    report = rebuild_catalog(new_settings, new_sessions, "primary")

    assert report.totals == {"added": 3, "replaced": 0, "skipped": 0, "failed": 0}, report.as_dict()
    assert [o.object_id for o in report.objects] == ids
    assert all(o.notes == () and o.copies == {"primary": "stored"} for o in report.objects)
    after = snapshot(new_sessions)
    for aip_id in ids:
        for part in ("aip", "files", "copies", "events"):
            assert after[aip_id][part] == before[aip_id][part], (aip_id, part)
    assert {a["aip"]["package_kind"] for a in after.values()} == {"folder", "bagit"}
    assert {a["aip"]["container"] for a in after.values()} == {"directory", "zip"}

    # What the package does not hold, or holds at a lower precision:
    # * Aip.created_at: PREMIS keeps milliseconds (compared truncated in the snapshot);
    # * Aip.stored_at and AipVersion.created_at/message: the OCFL version block (whole seconds,
    #   written just before the catalog registration), not the registration time and text;
    # * Copy.written_at: the version's OCFL time; Copy.verified_at: None (nothing was re-hashed);
    # * File.mime: not in PREMIS (METS keeps only the first MIME type);
    # * events recorded after the package was written (AIP validation, replication, accession,
    #   ingestion end) and the job rows: only the old catalog had them.
    with sessions() as old, new_sessions() as new:
        for aip_id in ids:
            was, now = old.get(Aip, aip_id), new.get(Aip, aip_id)
            assert was is not None and now is not None
            inventory = open_locations(settings)[0].store.inventory(aip_id)
            ocfl_created = datetime.fromisoformat(inventory["versions"]["v1"]["created"])
            assert now.stored_at == ocfl_created <= was.stored_at < ocfl_created + timedelta(minutes=1)
            (version,) = now.versions
            assert (version.created_at, version.message) == (
                ocfl_created,
                inventory["versions"]["v1"]["message"],
            )
            assert was.job_id in version.message
            (copy,) = now.copies
            assert (copy.written_at, copy.verified_at) == (ocfl_created, None)
            assert all(f.mime is None for f in now.files)
            rebuilt = new.scalars(
                select(EventRow).where(EventRow.aip_id == aip_id, ~EventRow.in_package)
            ).all()
            assert [(e.type, e.outcome, e.job_id) for e in rebuilt] == [("accession", "success", None)]
            assert rebuilt[0].agents[0].agent.note == "rebuild workflow"
            assert new.scalars(select(EventRow).where(EventRow.job_id.is_not(None))).all() == []

    assert_ocfl_valid(settings)  # the rebuild only reads storage
    again = rebuild_catalog(new_settings, new_sessions, "primary")
    assert again.totals == {"added": 0, "replaced": 0, "skipped": 3, "failed": 0}
    assert snapshot(new_sessions) == after
    assert all(verify_aip(new_settings, new_sessions, aip_id).ok for aip_id in ids)  # usable as is


def test_damaged_objects_are_reported_and_the_others_added(samples: Samples) -> None:
    settings, _ = samples.ready
    new_settings, new_sessions = samples.fresh
    store = open_locations(settings)[0].store
    premis_damaged, sidecar_damaged, healthy = samples.ids
    premis = (
        storage_root(settings)
        / store.object_path(premis_damaged)
        / "v1/content/metadata/preservation/PREMIS.xml"
    )
    premis.write_bytes(premis.read_bytes().replace(b"ingestion start", b"ingestion_start", 1))
    sidecar = storage_root(settings) / store.object_path(sidecar_damaged) / "inventory.json.sha512"
    sidecar.write_text("0" * 128 + " inventory.json\n")

    report = rebuild_catalog(new_settings, new_sessions, "primary")

    outcomes = {o.object_id: (o.outcome, o.code) for o in report.objects}
    assert outcomes == {
        premis_damaged: (RebuildOutcome.FAILED, "ocfl.digest_mismatch"),
        sidecar_damaged: (RebuildOutcome.FAILED, "ocfl.inventory_sidecar"),
        healthy: (RebuildOutcome.ADDED, ""),
    }
    failed = next(o for o in report.objects if o.object_id == premis_damaged)
    assert "metadata/preservation/PREMIS.xml" in failed.message
    assert report.as_dict()["totals"]["failed"] == 2
    with new_sessions() as s:  # nothing half-inserted
        assert s.scalars(select(Aip.id)).all() == [healthy]
        assert {e.aip_id for e in s.scalars(select(EventRow))} == {healthy}


def test_replace_recreates_rows_and_keeps_catalog_only_events(samples: Samples) -> None:
    settings, sessions = samples.ready
    before = snapshot(sessions)
    with sessions() as s:
        catalog_only = {
            (e.identifier, e.aip_id) for e in s.scalars(select(EventRow).where(~EventRow.in_package))
        }
    assert {t for t in catalog_only if t[1] is None} == set()

    report = rebuild_catalog(settings, sessions, "primary", replace=True)

    assert report.totals == {"added": 0, "replaced": 3, "skipped": 0, "failed": 0}
    after = snapshot(sessions)
    for aip_id in samples.ids:
        for part in ("aip", "files", "copies", "events"):
            assert after[aip_id][part] == before[aip_id][part], (aip_id, part)
    with sessions() as s:
        kept = {(e.identifier, e.aip_id) for e in s.scalars(select(EventRow).where(~EventRow.in_package))}
        in_package = s.scalars(
            select(EventRow).where(EventRow.in_package, EventRow.job_id.is_not(None))
        ).all()
    assert catalog_only < kept and len(kept - catalog_only) == 3  # one rebuild event per AIP
    assert len(in_package) == sum(len(a["events"]) for a in before.values())  # relinked, job kept


def _rewrite_version_time(object_dir: Path, created: str) -> None:
    """As if v1 had been written to this location at another second (root and head inventory)."""
    inventory = json.loads((object_dir / "inventory.json").read_bytes())
    inventory["versions"]["v1"]["created"] = created
    raw = json_bytes(inventory)
    for folder in (object_dir, object_dir / "v1"):
        (folder / "inventory.json").write_bytes(raw)
        (folder / "inventory.json.sha512").write_bytes(sidecar_bytes(hashlib.sha512(raw).hexdigest()))


def test_copies_in_other_locations(
    ready: Catalog, fresh: Catalog, run_ingest: Ingest, tmp_path: Path
) -> None:
    """Rebuilt from the replica: the primary holds the same versions (written a little earlier), an
    initialised empty location gets a queued copy that sync lands, an unmounted one is skipped."""
    settings, _ = ready
    two = with_second_location(settings, tmp_path / "second")
    open_locations(two, initialize=True)
    result = run_ingest(SAMPLES / "sip-folder-quyet-dinh", settings_=two)
    assert result.status is JobStatus.COMPLETED and result.aip_id is not None, result.error
    primary = open_locations(settings)[0].store
    _rewrite_version_time(storage_root(settings) / primary.object_path(result.aip_id), "2000-01-01T00:00:00Z")
    assert_ocfl_valid(settings)
    down = StorageLocation(name="down", backend="local", path=str(tmp_path / "unmounted"), role="offline")
    empty = StorageLocation(name="empty", backend="local", path=str(tmp_path / "empty"), role="replica")
    (tmp_path / "empty").mkdir()
    new_settings, new_sessions = fresh
    four = dataclasses.replace(
        new_settings, storage=StorageSettings(locations=(*two.storage.locations, down, empty))
    )
    next(loc for loc in open_locations(four) if loc.name == "empty").store.initialize()

    report = rebuild_catalog(four, new_sessions, "second")

    (outcome,) = report.objects
    assert outcome.outcome is RebuildOutcome.ADDED
    assert outcome.copies == {"second": "stored", "primary": "stored", "empty": "pending"}
    assert outcome.notes == (
        "copies: primary holds the same versions, written at other times",
        "copies: empty does not hold the object; copy queued",
    )
    assert set(report.unreachable) == {"down"}
    with new_sessions() as s:
        aip = s.get(Aip, result.aip_id, options=[selectinload(Aip.copies)])
        assert aip is not None and aip.status is AipStatus.DEGRADED
        written = {c.location: c.written_at for c in aip.copies}
    assert written["primary"] == datetime(2000, 1, 1, tzinfo=UTC) and written["empty"] is None
    (landed,) = sync_pending(four, new_sessions)
    assert (landed.outcome, landed.location) == ("stored", "empty")

    again = rebuild_catalog(four, new_sessions, "second", replace=True)

    assert again.objects[0].outcome is RebuildOutcome.REPLACED
    assert again.objects[0].copies == {"second": "stored", "primary": "stored", "empty": "stored"}
    with new_sessions() as s:
        aip = s.get(Aip, result.aip_id)
        assert aip is not None and aip.status is AipStatus.STORED


def test_command_line(ready: Catalog, fresh: Catalog, run_ingest: Ingest) -> None:
    """``kholuu rebuild-catalog`` as an operator runs it: JSON out, exit 1 when an object failed."""
    settings, _ = ready
    assert run_ingest(SAMPLES / "sip-folder-quyet-dinh").status is JobStatus.COMPLETED
    env = cli_env(settings.home, fresh[0].catalog.url)
    command = ["rebuild-catalog", "--location", "primary", "--json"]

    first = run_cli(*command, env=env)
    second = run_cli(*command, env=env)

    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["totals"]["added"] == 1
    assert json.loads(first.stdout)["records"]["failed"] == {}  # the catalog journal was replayed
    assert (second.returncode, json.loads(second.stdout)["totals"]["skipped"]) == (0, 1)
    (premis,) = storage_root(settings).glob("*/*/*/*/v1/content/metadata/preservation/PREMIS.xml")
    premis.write_bytes(premis.read_bytes() + b"<!-- -->")
    damaged = run_cli(*command, "--replace", env=env)
    assert damaged.returncode == 1
    (failed,) = json.loads(damaged.stdout)["objects"]
    assert (failed["outcome"], failed["code"]) == ("failed", "ocfl.digest_mismatch")


def test_unknown_location_is_refused(fresh: Catalog) -> None:
    from repository.storage.errors import NotFound

    with pytest.raises(NotFound) as info:
        rebuild_catalog(*fresh, "nowhere")
    assert info.value.code == "rebuild.location_unknown"


# ---------------------------------------------------------------------------------- PREMIS reading

SIEGFRIED = Agent("Siegfried", "1.11.9", note="DROID_SignatureFile_V120.xml")
VALIDATOR = Agent("pikepdf", "10.18.0 (qpdf 12.4.2)")
ZONE = timezone(timedelta(hours=7))


def _document() -> tuple[bytes, dict[str, Any]]:
    rep = PremisRepresentation(str(uuid.uuid4()), "rep1", "uuid-aip")
    pdf = FormatMatch(
        "fmt/18", "Acrobat PDF 1.4", "1.4", "application/pdf", "extension match pdf; byte match at 0, 8", ""
    )
    odd = FormatMatch("unidentified", warning="no match; extension mismatch")
    chars = Characterization(
        "pdf",
        VALIDATOR,
        Validity.VALID,
        properties={"pages": 3, "pdf_version": "1.4", "encrypted": False, "dpi": 0.5},
    )
    files = [
        PremisFile(
            uuid=str(uuid.uuid4()),
            original_name="Quyết định.pdf",
            aip_path="representations/rep1/data/Quyết định.pdf",
            size=10,
            sha256="a" * 64,
            sha512="b" * 128,
            representation="rep1",
            format=FormatIdentification(SIEGFRIED, pdf),
            characterizations=(chars,),
            representation_uuid=rep.uuid,
        ),
        PremisFile(
            uuid=str(uuid.uuid4()),
            original_name="x.bin",
            aip_path="representations/rep1/data/x.bin",
            size=0,
            sha256="c" * 64,
            sha512="d" * 128,
            representation="rep1",
            format=FormatIdentification(SIEGFRIED, odd),
            representation_uuid=rep.uuid,
        ),
    ]
    moment = datetime(2025, 7, 1, 8, 30, 0, 123000, tzinfo=UTC)
    identified = "fmt/18 Acrobat PDF 1.4 1.4; basis: extension match pdf; byte match at 0, 8"
    unidentified = "unidentified; warning: no match; extension mismatch"
    events = [
        Event(
            type=EventType.FORMAT_IDENTIFICATION,
            outcome=outcome,
            detail="Format identification against PRONOM",
            agents=(SIEGFRIED,),
            objects=(f.uuid,),
            outcome_detail=detail,
            datetime=moment,
        )
        for f, outcome, detail in zip(
            files, (Outcome.SUCCESS, Outcome.WARNING), (identified, unidentified), strict=True
        )
    ]
    tree = premis_document(
        PremisDocument(PremisIntellectualEntity("uuid-aip", "Hồ sơ"), [rep], files, events, [SIEGFRIED], ZONE)
    )
    from lxml import etree

    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8"), {
        "rep": rep,
        "files": files,
        "events": events,
    }


def test_premis_round_trip() -> None:
    data, written = _document()
    doc = read_premis(data, "PREMIS_rep1.xml")
    assert doc.entity is not None and (doc.entity.identifier, doc.entity.label) == ("uuid-aip", "Hồ sơ")
    (rep,) = doc.representations
    assert (rep.uuid, rep.name, rep.entity) == (written["rep"].uuid, "rep1", "uuid-aip")
    pdf, odd = doc.files
    assert (pdf.uuid, pdf.aip_path, pdf.original_name, pdf.size) == (
        written["files"][0].uuid,
        "representations/rep1/data/Quyết định.pdf",
        "Quyết định.pdf",
        10,
    )
    assert (pdf.sha256, pdf.sha512, pdf.representation_uuid) == ("a" * 64, "b" * 128, rep.uuid)
    assert (pdf.puid, pdf.format_name, pdf.format_version, pdf.identified_by) == (
        "fmt/18",
        "Acrobat PDF 1.4",
        "1.4",
        "Siegfried/1.11.9",
    )
    (char,) = pdf.characterizations
    assert char.properties == {"pages": 3, "pdf_version": "1.4", "encrypted": False, "dpi": 0.5}
    assert (char.validator, char.validity, char.agent) == ("pdf", "valid", VALIDATOR.identifier)
    assert (odd.puid, odd.format_name, odd.format_version) == ("unidentified", None, None)
    # the note joins basis and warning with "; ", which the basis contains: the event tells them apart
    assert identification_basis(pdf, doc.events) == ("extension match pdf; byte match at 0, 8", "")
    assert identification_basis(odd, doc.events) == ("", "no match; extension mismatch")
    assert identification_basis(pdf, ()) is None
    events = doc.to_events()
    assert [(e.identifier, e.type, e.outcome, e.objects) for e in events] == [
        (e.identifier, e.type, e.outcome, e.objects) for e in written["events"]
    ]
    assert events[0].datetime == written["events"][0].datetime and events[
        0
    ].datetime.utcoffset() == timedelta(hours=7)
    assert events[0].agents == (SIEGFRIED,)
    assert {(a.name, a.type, a.version, a.note) for a in doc.agents} == {
        ("Siegfried", AgentType.SOFTWARE.value, "1.11.9", SIEGFRIED.note)
    }


NOT_PREMIS = b'<?xml version="1.0"?><mets xmlns="http://www.loc.gov/METS/"/>'
STAMP = b"2025-07-01T15:30:00.123+07:00"


@pytest.mark.parametrize(
    ("damage", "code", "problem"),
    [
        (lambda d: d[: len(d) // 2], "xml.not_well_formed", "not well-formed"),
        (lambda d: NOT_PREMIS, "premis.invalid", "not PREMIS 3"),
        (lambda d: d.replace(b"size>10<", b"size>ten<"), "premis.invalid", "schema"),
        (lambda d: d.replace(STAMP, STAMP[:-6]), "premis.invalid", "time zone"),
    ],
    ids=["truncated", "mets", "bad-size", "naive-time"],
)
def test_premis_that_is_not_ours_is_refused(damage: Any, code: str, problem: str) -> None:
    data, _ = _document()
    with pytest.raises(PremisReadError) as info:
        read_premis(damage(data), "metadata/preservation/PREMIS.xml")
    assert isinstance(info.value, PreservationError)
    assert (info.value.code, info.value.path) == (code, "metadata/preservation/PREMIS.xml")
    assert problem in str(info.value)


def test_premis_without_a_digest_is_refused_even_unvalidated() -> None:
    data, _ = _document()
    sha512 = b"<premis:messageDigest>" + b"b" * 128 + b"</premis:messageDigest>"
    with pytest.raises(PremisReadError, match="malformed SHA-512"):
        read_premis(data.replace(sha512, sha512.replace(b"b" * 128, b"b" * 12)), "P.xml", validate=False)


def test_facts_come_from_the_package_not_from_event_wording(
    run_ingest: Ingest, fresh: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10: the package kind used to be read back by matching the English detail of the
    validation event; worded otherwise (translated, say), it was lost. The facts file keeps it."""
    from preservation.package import PackageKind
    from workflows.ingest import steps as ingest_steps

    for kind in PackageKind:
        monkeypatch.setitem(ingest_steps.PACKAGE_VALIDATION_DETAIL, kind, f"Đã đọc gói ({kind.value})")
    result = run_ingest(SAMPLES / "sip-bag-cong-van")
    assert result.status is JobStatus.COMPLETED and result.aip_id is not None, result.error
    monkeypatch.undo()

    report = rebuild_catalog(*fresh, "primary")

    (outcome,) = report.objects
    assert outcome.outcome is RebuildOutcome.ADDED and outcome.notes == (), outcome
    with fresh[1]() as s:
        aip = s.get_one(Aip, result.aip_id)
        assert (aip.package_kind, aip.container, aip.source_name) == (
            "bagit",
            "directory",
            "sip-bag-cong-van",
        )
        assert aip.job_id == result.job_id


def test_a_package_without_facts_says_what_is_unknown(
    run_ingest: Ingest, fresh: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An AIP written before packages carried a facts file: the facts are not guessed from prose."""
    from preservation.aip import _Builder

    monkeypatch.setattr(_Builder, "_write_facts", lambda *_: None)
    result = run_ingest(SAMPLES / "sip-folder-quyet-dinh")
    assert result.status is JobStatus.COMPLETED and result.aip_id is not None, result.error
    monkeypatch.undo()

    (outcome,) = rebuild_catalog(*fresh, "primary").objects

    assert outcome.outcome is RebuildOutcome.ADDED
    assert (
        outcome.notes[0]
        == "metadata/preservation/kholuu-facts.json: not in the package (written before it carried one)"
    )
    assert {n.split(":")[0] for n in outcome.notes[1:]} == {
        "source_name",
        "job_id",
        "package_kind",
        "container",
    }
    with fresh[1]() as s:
        aip = s.get_one(Aip, result.aip_id)
        assert (aip.package_kind, aip.container, aip.source_name, aip.job_id) == ("unknown",) * 4


def test_the_next_version_of_a_package_without_facts_adds_them(
    run_ingest: Ingest, ready: Catalog, fresh: Catalog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An AIP from before the facts file gains it, from the catalog, with its next version."""
    from preservation.aip import _Builder
    from preservation.facts import FACTS_PATH, read_facts
    from repository.storage.errors import NotFound
    from workflows.custody.update import add_metadata

    settings, sessions = ready
    monkeypatch.setattr(_Builder, "_write_facts", lambda *_: None)
    result = run_ingest(SAMPLES / "sip-bag-cong-van")
    assert result.status is JobStatus.COMPLETED and result.aip_id is not None, result.error
    monkeypatch.undo()
    meta = tmp_path / "muc-luc.txt"
    meta.write_text("mục lục", encoding="utf-8")

    add_metadata(settings, sessions, result.aip_id, meta)

    store = open_locations(settings)[0].store
    with pytest.raises(NotFound):
        store.open_file(result.aip_id, FACTS_PATH, 1)
    with store.open_file(result.aip_id, FACTS_PATH, 2) as fh:
        facts = read_facts(fh.read())
    assert (facts.package_kind, facts.source_name, facts.job_id) == (
        "bagit",
        "sip-bag-cong-van",
        result.job_id,
    )
    (outcome,) = rebuild_catalog(*fresh, "primary").objects
    assert outcome.outcome is RebuildOutcome.ADDED and outcome.notes == (), outcome
    with sessions() as old, fresh[1]() as new:
        was, now = old.get_one(Aip, result.aip_id), new.get_one(Aip, result.aip_id)
        assert (now.package_kind, now.container, now.source_name, now.job_id) == (
            was.package_kind,
            was.container,
            was.source_name,
            was.job_id,
        )
