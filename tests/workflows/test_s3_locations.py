"""Ingest into two independent locations, a local disk and the real S3 server (Thông tư
05/2025/TT-BNV Điều 27: at least two backup sets on independent media): both copies written and
verified, both storage roots valid for ocfl-py, the S3 server stopped during an ingest leaves the
AIP degraded and nothing lost, and the queued copy lands once the server is back."""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ocfl
import pytest
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog import queries
from repository.catalog.db import make_engine, session_factory, upgrade
from repository.settings import Settings, load_settings
from repository.storage.backend import digest_key
from repository.storage.locations import open_locations
from tests import s3 as s3test
from tests.conftest import SAMPLES, CliRun, cli_env, run_cli, write_home_config
from workflows.ingest.pipeline import ingest


@pytest.fixture
def bucket() -> Iterator[str]:
    client = s3test.client()
    name = f"t-{os.urandom(8).hex()}"  # created by the location itself (create_bucket = true)
    yield name
    s3test.empty_and_delete(client, name)


@pytest.fixture
def two_homes(home: Path, bucket: str, database_url: str) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    write_home_config(
        home,
        '[[storage.locations]]\nname = "primary"\nrole = "primary"\nbackend = "local"\n'
        'path = "storage/primary"\n\n' + s3test.location_toml("s3", bucket),
    )
    settings = load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})
    engine = make_engine(database_url)
    upgrade(engine)
    open_locations(settings, initialize=True)
    yield settings, session_factory(engine)
    engine.dispose()


def ocfl_valid_on_s3(bucket: str) -> bool:
    """ocfl-py reads the S3 storage root itself (through s3fs), not a local copy of it."""
    url = f"s3://{bucket}/kholuu/ocfl-root?endpoint_url={s3test.require_s3()}"
    root = ocfl.StorageRoot(root=url)
    valid = bool(root.validate(validate_objects=True, check_digests=True))
    return valid and root.good_objects == root.num_objects and root.num_objects > 0


def ocfl_valid_local(settings: Settings) -> bool:
    root = ocfl.StorageRoot(root=str(settings.path("storage/primary") / "ocfl-root"))
    return bool(root.validate(validate_objects=True, check_digests=True))


def kholuu(settings: Settings, database_url: str, *args: str) -> CliRun:
    return run_cli(*args, env=cli_env(settings.home, database_url))


def test_ingest_writes_both_copies_and_both_roots_validate(
    two_homes: tuple[Settings, sessionmaker[Session]], bucket: str, tmp_path: Path, database_url: str
) -> None:
    settings, sessions = two_homes
    result = ingest(settings, sessions, SAMPLES / "sip-zip-bao-cao.zip")
    assert result.status.value == "completed", result.error
    assert result.aip_id is not None and set(result.locations) == {"primary", "s3"} and not result.pending
    with sessions() as s:
        detail = queries.aip_detail(s, result.aip_id)
    assert detail["status"] == "stored"
    assert {(c["location"], c["status"]) for c in detail["copies"]} == {
        ("primary", "stored"),
        ("s3", "stored"),
    }
    assert ocfl_valid_local(settings)
    assert ocfl_valid_on_s3(bucket)
    local, s3 = open_locations(settings)
    assert s3.store.inventory(result.aip_id) == local.store.inventory(result.aip_id)

    out = tmp_path / "from-s3"
    fetched = kholuu(
        settings, database_url, "aip", "fetch", result.aip_id, "--location", "s3", "--out", str(out), "--json"
    )
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    info = json.loads(fetched.stdout)
    assert info["location"] == "s3" and info["files"] == len([f for f in detail["files"]])
    verify = kholuu(settings, database_url, "aip", "verify", result.aip_id, "--json")
    assert verify.returncode == 0, verify.stdout
    assert [loc["outcome"] for loc in json.loads(verify.stdout)["locations"]] == ["passed", "passed"]

    listed = json.loads(kholuu(settings, database_url, "storage", "list", "--json").stdout)
    assert [(loc["name"], loc["backend"], loc["copies"]) for loc in listed["locations"]] == [
        ("primary", "local", {"stored": 1}),
        ("s3", "s3", {"stored": 1}),
    ]
    checked = kholuu(settings, database_url, "storage", "check", "--json")
    assert checked.returncode == 0, checked.stdout
    report = json.loads(checked.stdout)
    assert [(loc["name"], loc["ok"], loc["objects"], loc["debris"]) for loc in report["locations"]] == [
        ("primary", True, 1, {}),
        ("s3", True, 1, {}),
    ]


def test_s3_down_during_ingest_degrades_then_the_copy_lands(
    two_homes: tuple[Settings, sessionmaker[Session]], bucket: str, database_url: str
) -> None:
    settings, sessions = two_homes
    s3test.stop_gateway()
    try:
        result = ingest(settings, sessions, SAMPLES / "sip-folder-quyet-dinh")
        assert result.status.value == "completed", result.error
        assert result.aip_id is not None
        assert set(result.locations) == {"primary"} and set(result.pending) == {"s3"}
        with sessions() as s:
            assert queries.aip_detail(s, result.aip_id)["status"] == "degraded"
        down = kholuu(settings, database_url, "storage", "sync", "--json")
        assert down.returncode == 1
        assert [c["outcome"] for c in json.loads(down.stdout)["copies"]] == ["still pending"]
        checked = json.loads(kholuu(settings, database_url, "storage", "check", "s3", "--json").stdout)
        assert checked["locations"][0]["reachable"] is False
    finally:
        s3test.start_gateway()
    synced = kholuu(settings, database_url, "storage", "sync", "--json")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert [(c["location"], c["outcome"], c["source"]) for c in json.loads(synced.stdout)["copies"]] == [
        ("s3", "stored", "primary")
    ]
    with sessions() as s:
        detail = queries.aip_detail(s, result.aip_id)
    assert detail["status"] == "stored"
    assert {(c["location"], c["status"]) for c in detail["copies"]} == {
        ("primary", "stored"),
        ("s3", "stored"),
    }
    assert ocfl_valid_on_s3(bucket)
    verify = kholuu(settings, database_url, "aip", "verify", result.aip_id, "--json")
    assert verify.returncode == 0, verify.stdout


def test_a_new_location_is_filled_by_sync(home: Path, bucket: str, database_url: str, tmp_path: Path) -> None:
    """`storage add` tests the location, writes it to kholuu.toml and queues every AIP for it."""
    env = cli_env(home, database_url)

    def run(*args: str) -> CliRun:
        return run_cli(*args, env=env)

    assert run("init").returncode == 0
    first = json.loads(run("ingest", str(SAMPLES / "sip-bag-cong-van"), "--json").stdout)
    added = run(
        "storage", "add", "offsite", "--backend", "s3", "--endpoint", s3test.require_s3(),
        "--bucket", bucket, "--prefix", "kholuu", "--create-bucket", "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    assert json.loads(added.stdout)["queued"] == 1
    show: dict[str, Any] = json.loads(run("aip", "show", first["aip_id"], "--json").stdout)
    assert show["status"] == "degraded"
    assert run("storage", "sync").returncode == 0
    show = json.loads(run("aip", "show", first["aip_id"], "--json").stdout)
    assert show["status"] == "stored"
    assert {c["location"] for c in show["copies"] if c["status"] == "stored"} == {"primary", "offsite"}
    assert ocfl_valid_on_s3(bucket)
    second = json.loads(run("ingest", str(SAMPLES / "sip-zip-bao-cao.zip"), "--json").stdout)
    assert set(second["locations"]) == {"primary", "offsite"}  # the config now names both
    again = run("storage", "add", "offsite", "--backend", "local", "--path", str(tmp_path / "x"))
    assert again.returncode == 2 and "offsite" in again.stderr


def test_a_metadata_change_is_a_new_version_and_v1_stays_byte_identical(
    two_homes: tuple[Settings, sessionmaker[Session]], bucket: str, tmp_path: Path, database_url: str
) -> None:
    settings, sessions = two_homes
    result = ingest(settings, sessions, SAMPLES / "sip-bag-cong-van")
    assert result.aip_id is not None
    aip_id = result.aip_id
    locations = open_locations(settings)

    def v1_digests() -> dict[str, dict[str, str]]:
        """Every key of version 1 in every location, streamed and hashed (sha512), plus v1's block."""
        out: dict[str, dict[str, str]] = {}
        for loc in locations:
            prefix = f"ocfl-root/{loc.store.object_path(aip_id)}/v1"
            keys = list(loc.backend.iter_keys(prefix))
            assert keys
            out[loc.name] = {k: digest_key(loc.backend, k).sha512 for k in keys}
            out[loc.name]["block"] = json.dumps(loc.store.inventory(aip_id)["versions"]["v1"], sort_keys=True)
        return out

    before = v1_digests()
    ead = tmp_path / unicodedata.normalize("NFD", "Mục lục hồ sơ.xml")
    ead.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<ead><eadheader/></ead>\n', encoding="utf-8")
    r = kholuu(
        settings,
        database_url,
        "aip",
        "add-metadata",
        aip_id,
        str(ead),
        "--reason",
        "bổ sung mục lục",
        "--json",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    update = json.loads(r.stdout)
    assert (update["version"], update["status"]) == (2, "stored")
    assert set(update["locations"]) == {"primary", "s3"}

    assert v1_digests() == before  # nothing of version 1 was rewritten, in either location
    for loc in locations:
        versions = loc.store.versions(aip_id)
        assert [v.number for v in versions] == [1, 2]
        state2 = loc.store.version_state(aip_id, 2)
        assert f"metadata/descriptive/{ead.name}" in state2
        assert all(
            path.startswith("v1/")
            for p, path in state2.items()
            if "descriptive" not in p and "METS" not in p and "PREMIS.xml" not in p
        )
    assert ocfl_valid_local(settings) and ocfl_valid_on_s3(bucket)

    v1 = tmp_path / "v1"
    fetched = kholuu(
        settings,
        database_url,
        "aip",
        "fetch",
        aip_id,
        "--version",
        "1",
        "--location",
        "s3",
        "--out",
        str(v1),
        "--json",
    )
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    (folder1,) = list(v1.iterdir())
    assert not (folder1 / "metadata" / "descriptive" / ead.name).exists()
    latest = tmp_path / "latest"
    fetched = kholuu(settings, database_url, "aip", "fetch", aip_id, "--out", str(latest), "--json")
    assert fetched.returncode == 0
    (folder2,) = list(latest.iterdir())
    assert (folder2 / "metadata" / "descriptive" / ead.name).read_bytes() == ead.read_bytes()
    assert b'RECORDSTATUS="REVISED"' in (folder2 / "METS.xml").read_bytes()
    assert b"metadata modification" in (folder2 / "metadata" / "preservation" / "PREMIS.xml").read_bytes()

    verify = kholuu(settings, database_url, "aip", "verify", aip_id, "--json")
    assert verify.returncode == 0, verify.stdout
    assert json.loads(verify.stdout)["version"] == 2
    show = json.loads(kholuu(settings, database_url, "aip", "show", aip_id, "--json").stdout)
    assert [v["number"] for v in show["versions"]] == [1, 2]
    assert any(f["aip_path"] == f"metadata/descriptive/{ead.name}" for f in show["files"])
    assert "metadata modification" in [e["type"] for e in show["events"]]


def test_s3_going_down_in_the_middle_of_writing_the_aip(
    two_homes: tuple[Settings, sessionmaker[Session]], bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway stops after a few objects of the AIP are up: the half-written staging on S3 is
    invisible (no object in the OCFL root), the AIP is degraded, and after the server returns the
    sync writes the copy and removes the staging debris."""
    from repository.storage.s3 import S3Backend

    settings, sessions = two_homes
    real = S3Backend.write_atomic
    calls = {"n": 0}

    def flaky(self: S3Backend, key: str, source: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4 and key.startswith("deposit/"):
            s3test.stop_gateway()
        return real(self, key, source, **kwargs)

    monkeypatch.setattr(S3Backend, "write_atomic", flaky)
    try:
        result = ingest(settings, sessions, SAMPLES / "sip-bag-cong-van")
    finally:
        s3test.start_gateway()
    monkeypatch.setattr(S3Backend, "write_atomic", real)
    assert result.status.value == "completed", result.error
    assert result.aip_id is not None and set(result.pending) == {"s3"}
    s3 = open_locations(settings)[1]
    assert list(s3.store.list_objects()) == [] and s3.store.incomplete_objects() == []
    assert list(s3.backend.iter_keys("deposit")) != []  # the cut-off staging is still there
    from workflows.custody.replication import sync_pending

    assert [o.outcome for o in sync_pending(settings, sessions)] == ["stored"]
    assert list(s3.backend.iter_keys("deposit")) == []
    assert list(s3.store.list_objects()) == [result.aip_id]
    with sessions() as s:
        assert queries.aip_detail(s, result.aip_id)["status"] == "stored"
    assert ocfl_valid_on_s3(bucket)
