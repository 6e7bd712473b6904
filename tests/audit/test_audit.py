"""Fixity audits on real storage: one flipped byte, one deleted file and one stray file are found,
exactly those, on a local disk and on the real S3 server; the first two are repaired from the
other location, the stray is moved aside, everything is recorded, and the next audit is clean.
With no good copy left, an incident stays open until a person acknowledges it."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ocfl
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from preservation.premis_fixity import FileFixity, iter_file_fixity
from preservation.premis_read import read_premis
from repository.actor import Actor, Channel, Role
from repository.catalog.auditlog import read_entries, record_action
from repository.catalog.auditlog_anchor import read_anchors, verify_log
from repository.catalog.db import make_engine, session_factory, upgrade
from repository.catalog.models import AuditFinding, AuditLogEntry, AuditRun, Copy, Event, Incident
from repository.settings import Settings, StorageLocation, StorageSettings, load_settings
from repository.storage.backend import join_key
from repository.storage.locations import Location, open_locations
from repository.storage.ocfl import ROOT_PREFIX
from tests import s3 as s3test
from tests.conftest import SAMPLES, write_home_config
from workflows.custody.audit import AuditOptions, acknowledge_incident, run_audit
from workflows.custody.audit_report import CopyResult
from workflows.ingest.pipeline import ingest

PAYLOAD = "representations/rep1/data/"


@pytest.fixture(params=["local", "s3"])
def setup(
    request: pytest.FixtureRequest, home: Path, database_url: str
) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    """Two locations: 'primary' (local) and 'second' (local or the real S3 server)."""
    bucket = None
    second = (
        '[[storage.locations]]\nname = "second"\nrole = "replica"\nbackend = "local"\n'
        'path = "storage/second"\n'
    )
    if request.param == "s3":
        bucket = f"t-{os.urandom(8).hex()}"
        second = s3test.location_toml("second", bucket)
    write_home_config(
        home,
        '[[storage.locations]]\nname = "primary"\nrole = "primary"\nbackend = "local"\n'
        'path = "storage/primary"\n\n' + second,
    )
    settings = load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})
    engine = make_engine(database_url)
    upgrade(engine)
    open_locations(settings, initialize=True)
    yield settings, session_factory(engine)
    engine.dispose()
    if bucket:
        s3test.empty_and_delete(s3test.client(), bucket)


def content_key(location: Location, aip_id: str, aip_path: str) -> str:
    relative = location.store.version_state(aip_id, 1)[aip_path]
    return join_key(ROOT_PREFIX, location.store.object_path(aip_id), relative)


def flip_byte(location: Location, key: str) -> None:
    """Damage behind our back: rewrite the key with one bit flipped (as bit rot would)."""
    with location.backend.open_read(key) as fh:
        data = bytearray(fh.read())
    data[len(data) // 2] ^= 0x01
    location.backend.write_atomic(key, io.BytesIO(bytes(data)))


def payload_paths(location: Location, aip_id: str) -> list[str]:
    return sorted(p for p in location.store.version_state(aip_id, 1) if p.startswith(PAYLOAD))


def audit(settings: Settings, sessions: sessionmaker[Session], **kw: Any) -> Any:
    return run_audit(settings, sessions, AuditOptions(**{"mode": "all", **kw}))


def problems(copy: CopyResult) -> list[dict[str, Any]]:
    """A checked copy's problems as the report's JSON gives them."""
    return list(copy.as_dict()["problems"])


def test_damage_is_found_exactly_and_repaired_from_the_other_copy(
    setup: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, sessions = setup
    result = ingest(settings, sessions, SAMPLES / "sip-folder-quyet-dinh")
    assert result.aip_id is not None and not result.pending
    aip_id = result.aip_id
    primary, second = open_locations(settings)
    clean = audit(settings, sessions)
    assert clean.ok and [c.outcome for c in clean.copies] == ["passed", "passed"]

    damaged = second  # the S3 copy when the test runs on S3
    flipped, deleted = payload_paths(damaged, aip_id)[:2]
    flip_byte(damaged, content_key(damaged, aip_id, flipped))
    damaged.backend.delete(content_key(damaged, aip_id, deleted))
    stray = join_key(ROOT_PREFIX, damaged.store.object_path(aip_id), "v1/content/stray.txt")
    damaged.backend.write_atomic(stray, io.BytesIO(b"not part of the AIP"))

    report = audit(settings, sessions)
    by_location = {c.location: c for c in report.copies}
    assert by_location["primary"].outcome == "passed"
    found = by_location["second"]
    assert found.outcome == "repaired"
    flipped_rel = primary.store.version_state(aip_id, 1)[flipped]
    deleted_rel = primary.store.version_state(aip_id, 1)[deleted]
    assert sorted((p["kind"], p["path"], p["repair"]) for p in problems(found)) == sorted(
        [
            ("corrupt", flipped_rel, "repaired"),
            ("missing", deleted_rel, "repaired"),
            ("unexpected", "v1/content/stray.txt", "moved aside"),
        ]
    )
    assert all(p["repaired_from"] == "primary" for p in problems(found) if p["repair"] == "repaired")
    with (
        damaged.backend.open_read(content_key(damaged, aip_id, flipped)) as a,
        primary.backend.open_read(content_key(primary, aip_id, flipped)) as b,
    ):
        assert a.read() == b.read()
    aside = [k for k in damaged.backend.iter_keys("lost-and-found")]
    assert len(aside) == 1 and aside[0].endswith("v1/content/stray.txt")

    with sessions() as s:
        events = list(s.scalars(select(Event).where(Event.aip_id == aip_id)))
        recovery = [e for e in events if e.type == "recovery"]
        checks = [e for e in events if e.type == "fixity check"]
        assert len(recovery) == 3 and all(e.outcome == "success" for e in recovery)
        assert len(checks) == 4  # two copies, two audits
        assert any(e.outcome == "success" and e.outcome_detail.startswith("repaired") for e in checks)
        rows = list(s.scalars(select(AuditFinding).where(AuditFinding.run_id == report.run_id)))
        assert len(rows) == 3 and all(r.event_id for r in rows)
        copy = s.scalars(select(Copy).where(Copy.aip_id == aip_id, Copy.location == "second")).one()
        assert copy.check_outcome == "repaired" and copy.last_checked_at is not None
        run = s.get(AuditRun, report.run_id)
        assert run is not None and (run.failures, run.repaired, run.status) == (3, 3, "completed")

    again = audit(settings, sessions)
    assert again.ok and [c.outcome for c in again.copies] == ["passed", "passed"]
    if damaged.config.backend == "local":
        root = settings.path("storage/second") / "ocfl-root"
        assert ocfl.StorageRoot(root=str(root)).validate(validate_objects=True, check_digests=True)


def test_no_good_copy_opens_an_incident_until_acknowledged(
    setup: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, sessions = setup
    result = ingest(settings, sessions, SAMPLES / "sip-bag-cong-van")
    assert result.aip_id is not None
    aip_id = result.aip_id
    locations = open_locations(settings)
    target = payload_paths(locations[0], aip_id)[0]
    for loc in locations:
        flip_byte(loc, content_key(loc, aip_id, target))

    report = audit(settings, sessions)
    assert [c.outcome for c in report.copies] == ["failed", "failed"]
    assert all(p["repair"] == "no good copy" for c in report.copies for p in problems(c))
    assert report.incidents == 2
    with sessions() as s:
        incidents = list(s.scalars(select(Incident).where(Incident.status == "open")))
        assert sorted(i.location for i in incidents) == ["primary", "second"]
        first = incidents[0].id
    again = audit(settings, sessions)
    assert [c.outcome for c in again.copies] == ["failed", "failed"]
    with sessions() as s:
        assert len(list(s.scalars(select(Incident).where(Incident.status == "open")))) == 4
        from repository.catalog.models import Aip

        aip = s.get(Aip, aip_id)
        assert aip is not None and aip.status.value == "degraded"
    actor = Actor(name="van.a", role=Role.PRESERVATION_OFFICER, channel=Channel.WEB, address="10.0.0.9")
    closed = acknowledge_incident(sessions, first, actor=actor, note="bản giấy còn, số hóa lại")
    assert closed["status"] == "acknowledged" and closed["acknowledged_by"] == "van.a"
    with sessions() as s:
        (logged,) = read_entries(s, action="incident.acknowledge")
    assert (logged.actor, logged.address, logged.target) == ("van.a", "10.0.0.9", str(first))
    assert logged.params["note"] == "bản giấy còn, số hóa lại"


def test_due_picks_the_oldest_checks_first_and_respects_the_cycle(
    setup: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, sessions = setup
    ids = []
    for sample in ("sip-folder-quyet-dinh", "sip-bag-cong-van", "sip-zip-bao-cao.zip"):
        r = ingest(settings, sessions, SAMPLES / sample)
        assert r.aip_id is not None
        ids.append(r.aip_id)
    now = datetime.now(UTC)
    with sessions.begin() as s:  # checked 10, 200 and 100 days ago on primary; second never
        for aip_id, days in zip(ids, (10, 200, 100), strict=True):
            copy = s.scalars(select(Copy).where(Copy.aip_id == aip_id, Copy.location == "primary")).one()
            copy.last_checked_at = now - timedelta(days=days)
    report = run_audit(settings, sessions, AuditOptions(mode="due", location="primary", limit=5, now=now))
    assert [c.aip_id for c in report.copies] == [ids[1], ids[2]]  # 200 then 100 days; 10 is within the cycle
    one = run_audit(settings, sessions, AuditOptions(mode="due", location="second", limit=1, now=now))
    assert len(one.copies) == 1
    budget = run_audit(
        settings, sessions, AuditOptions(mode="all", location="second", budget_bytes=1, now=now)
    )
    assert len(budget.copies) == 1  # the first copy always runs; the budget stops the next


def test_a_location_that_is_down_is_could_not_check_never_damage(
    setup: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    settings, sessions = setup
    result = ingest(settings, sessions, SAMPLES / "sip-zip-bao-cao.zip")
    assert result.aip_id is not None
    gone = StorageLocation(name="second", backend="local", path=str(tmp_path / "unmounted"))
    down = replace(settings, storage=StorageSettings(locations=(settings.storage.locations[0], gone)))
    report = audit(down, sessions)
    outcomes = {c.location: c.outcome for c in report.copies}
    assert outcomes == {"primary": "passed", "second": "could not check"}
    with sessions() as s:
        assert list(s.scalars(select(Incident))) == []
        assert list(s.scalars(select(AuditFinding))) == []


def test_repair_can_be_switched_off_per_location(setup: tuple[Settings, sessionmaker[Session]]) -> None:
    settings, sessions = setup
    result = ingest(settings, sessions, SAMPLES / "sip-zip-bao-cao.zip")
    assert result.aip_id is not None
    first, second = settings.storage.locations
    no_repair = replace(settings, storage=StorageSettings(locations=(first, replace(second, repair=False))))
    damaged = open_locations(no_repair)[1]
    target = payload_paths(damaged, result.aip_id)[0]
    flip_byte(damaged, content_key(damaged, result.aip_id, target))
    report = audit(no_repair, sessions)
    outcome = {c.location: c for c in report.copies}
    assert outcome["primary"].outcome == "passed"
    assert outcome["second"].outcome == "failed"
    assert [p["repair"] for p in problems(outcome["second"])] == ["repair off"]
    assert report.incidents == 1  # left damaged on purpose: a person must decide


def test_the_package_manifests_are_checked_against_the_catalog(
    setup: tuple[Settings, sessionmaker[Session]],
) -> None:
    """A catalog that disagrees with the stored METS/PREMIS (here: the catalog is the one that
    changed) is a manifest finding that nobody 'repairs' by overwriting storage. The first audit
    found them in agreement and remembered it (issue 14: not parsed again while nothing changes);
    that memory must not hide a catalog changed since."""
    settings, sessions = setup
    result = ingest(settings, sessions, SAMPLES / "sip-folder-quyet-dinh")
    assert result.aip_id is not None
    from repository.catalog.models import File

    primary = open_locations(settings)[0]
    streamed: list[FileFixity] = []
    for premis in (p for p in primary.store.version_state(result.aip_id) if "/PREMIS" in p):
        with primary.store.open_file(result.aip_id, premis) as fh:
            data = fh.read()
        read = list(iter_file_fixity(io.BytesIO(data), premis))  # what the audit reads
        assert read == [
            FileFixity(f.aip_path, f.size, f.sha256, f.sha512) for f in read_premis(data, premis).files
        ]
        streamed += read
    assert any(f.aip_path.startswith(PAYLOAD) for f in streamed)
    assert audit(settings, sessions, location="primary").ok
    assert list((settings.home / "cache" / "manifest-verdicts").rglob("*"))  # agreements kept
    with sessions.begin() as s:
        row = s.scalars(
            select(File).where(File.aip_id == result.aip_id, File.aip_path.startswith(PAYLOAD))
        ).first()
        assert row is not None
        path = row.aip_path
        row.sha256 = "0" * 64
    report = audit(settings, sessions, location="primary")
    (copy,) = report.copies
    assert copy.outcome == "failed"
    kinds = {(p["kind"], p["code"], p["path"]) for p in problems(copy)}
    assert ("manifest", "mets.checksum_differs", path) in kinds
    assert ("manifest", "premis.fixity_differs", path) in kinds
    assert all(p["repair"] == "none" for p in problems(copy))
    again = {
        (p["code"], p["path"]) for p in problems(audit(settings, sessions, location="primary").copies[0])
    }
    assert ("premis.fixity_differs", path) in again  # a disagreement is never remembered


def test_a_damaged_mets_is_found_and_repaired_without_breaking_the_run(
    setup: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, sessions = setup
    result = ingest(settings, sessions, SAMPLES / "sip-bag-cong-van")
    assert result.aip_id is not None
    damaged = open_locations(settings)[1]
    flip_byte(damaged, content_key(damaged, result.aip_id, "METS.xml"))
    report = audit(settings, sessions)
    outcome = {c.location: c for c in report.copies}
    assert outcome["second"].outcome == "repaired"
    assert [(p["kind"], p["repair"]) for p in problems(outcome["second"])] == [("corrupt", "repaired")]
    assert audit(settings, sessions).ok


def test_an_unreadable_location_stays_due(
    setup: tuple[Settings, sessionmaker[Session]], tmp_path: Path
) -> None:
    """'Could not check' does not count as checked: the copy is picked again on the next run."""
    settings, sessions = setup
    result = ingest(settings, sessions, SAMPLES / "sip-zip-bao-cao.zip")
    assert result.aip_id is not None
    gone = StorageLocation(name="second", backend="local", path=str(tmp_path / "unmounted"))
    down = replace(settings, storage=StorageSettings(locations=(settings.storage.locations[0], gone)))
    first = run_audit(down, sessions, AuditOptions(mode="due", location="second"))
    assert [c.outcome for c in first.copies] == ["could not check"]
    again = run_audit(settings, sessions, AuditOptions(mode="due", location="second"))
    assert [c.outcome for c in again.copies] == ["passed"]


@pytest.mark.parametrize("setup", ["s3"], indirect=True)
def test_a_missing_bucket_is_could_not_check_not_every_object_missing(
    setup: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings, sessions = setup
    result = ingest(settings, sessions, SAMPLES / "sip-zip-bao-cao.zip")
    assert result.aip_id is not None
    first, second = settings.storage.locations
    gone = replace(second, bucket=f"t-gone-{os.urandom(4).hex()}", create_bucket=False)
    report = audit(replace(settings, storage=StorageSettings(locations=(first, gone))), sessions)
    outcome = {c.location: c for c in report.copies}
    assert outcome["second"].outcome == "could not check"
    assert problems(outcome["second"])[0]["code"] == "storage.no_bucket"
    with sessions() as s:
        assert list(s.scalars(select(Incident))) == []


def test_every_audit_run_anchors_the_audit_log_head_in_each_location(
    setup: tuple[Settings, sessionmaker[Session]],
) -> None:
    """The staff audit log's head goes to every location with each run (local disk and S3), and a
    tail deleted from the catalog afterwards is caught by it (issue 13)."""
    settings, sessions = setup
    actor = Actor(name="lan", role=Role.ADMINISTRATOR, channel=Channel.CLI)
    for n in range(3):
        with sessions.begin() as s:
            record_action(s, actor, "restriction.add", f"HS-{n}")
    report = audit(settings, sessions)
    anchored = report.as_dict()["audit_log_anchor"]
    assert (anchored["seq"], anchored["written"], anchored["failed"]) == (3, ["primary", "second"], {})
    anchors, unreachable, _ = read_anchors(settings)
    assert {(a.location, a.seq, a.run_id) for a in anchors} == {
        ("primary", 3, report.run_id),
        ("second", 3, report.run_id),
    }
    assert not unreachable
    with sessions.begin() as s:
        s.execute(delete(AuditLogEntry).where(AuditLogEntry.seq == 3))
    with sessions() as s:
        verified = verify_log(settings, s)
    assert verified.chain.ok and not verified.ok
    assert verified.first is not None and verified.first.code == "auditlog.anchor_beyond_head"
