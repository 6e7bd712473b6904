"""Outages in the middle of a write: the S3 server stopped mid-upload, the catalog's PostgreSQL
connection dropped mid-transaction, a full disk in staging and in the data folder, a storage
location turned read-only, the clock jumping back.

Each must end in a coded error (never a traceback), with nothing half-visible right after it
(``kholuu check --consistency`` finds at most what a failed job leaves, each with its repair),
and a retry path: once the outage is over, the repair the check names and the same command again
store everything, and the check is clean.

The process is held at a named point (``KHOLUU_STOP_AT``: it stops itself with SIGSTOP) while the
server goes away, so the outage falls exactly where it is meant to. Full and read-only disks are
small tmpfs mounts (these tests run as root; where mounting is not permitted they skip and say
why). The clock jumps back in-process with ``time-machine`` (every ``datetime.now`` and
``time.time`` of the command moves): the code has no clock seam of its own outside the job
runner's :class:`~workflows.jobs.runner.StepContext`. In CI it runs on SQLite; ``make soak`` adds
PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from repository.catalog.db import make_engine
from tests import s3 as s3test
from tests.conftest import POSTGRES_URL, cli_env, run_cli, write_home_config
from tests.faults.harness import (
    Held,
    cli_json,
    consistency,
    nothing_lost,
    settled,
    soak,
    stored_aips,
    tiny_sip,
)


def failure(stdout: str) -> dict[str, Any]:
    """The coded error of a ``--json`` run that failed: ``{"code", "message", ...}``."""
    payload: dict[str, Any] = json.loads(stdout)
    error = payload.get("error")
    if isinstance(error, dict):
        return error
    return {"code": payload.get("error_code"), "message": payload.get("error"), **payload}


def repair_all(env: Mapping[str, str]) -> list[str]:
    """Run the repair command of every finding of the consistency check; returns them."""
    repairs = sorted({f["repair"] for f in consistency(env)["findings"]})
    for repair in repairs:
        done = run_cli(*repair.split()[1:], env=env)
        assert done.returncode == 0, (repair, done.stdout, done.stderr)
    return repairs


def big_sip(root: Path, size: int) -> Path:
    """The tiny SIP and one incompressible file of ``size`` bytes."""
    sip = tiny_sip(root)
    (sip / "ban-quet.bin").write_bytes(os.urandom(size))
    return sip


@contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (created), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(reason=f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True, capture_output=True)


# ----------------------------------------------------------------------------------- S3


def test_s3_stopped_mid_upload_then_restarted(home: Path, tmp_path: Path) -> None:
    """S3 is the only location: the gateway stops after the first files of the AIP went up; the
    ingest fails ``storage.no_location``, nothing is registered; once S3
    is back the failed job's deposit is cleaned and the same ingest stores the AIP."""
    bucket = f"t-{uuid.uuid4().hex[:16]}"
    write_home_config(home, s3test.location_toml("primary", bucket, role="primary"))
    env = cli_env(home, f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    try:
        assert run_cli("init", env=env).returncode == 0
        sip = tiny_sip(tmp_path)
        held = Held(env, "in storage@2", "ingest", str(sip), "--json")  # two files uploaded
        s3test.stop_gateway()
        try:
            done = held.finish()
            assert done.returncode in (1, 5), done.stdout + done.stderr
            assert failure(done.stdout)["code"] == "storage.no_location", done.stdout
            assert "Traceback" not in done.stderr
            assert stored_aips(env["KHOLUU_DATABASE_URL"]) == {}
            down = consistency(env)
            assert [f["code"] for f in down["findings"]] == ["consistency.location_unreachable"], down
        finally:
            s3test.start_gateway()
        settled(env)
        repair_all(env)  # the failed job's deposit, left in S3 while it was down
        retried = cli_json(env, "ingest", str(sip))
        assert retried["status"] == "stored", retried
        nothing_lost(env, env["KHOLUU_DATABASE_URL"], {})
    finally:
        s3test.empty_and_delete(s3test.client(), bucket)


# ---------------------------------------------------------------------------- PostgreSQL


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_connection_dropped_mid_transaction(home: Path, database_url: str, tmp_path: Path) -> None:
    """The ingest's registration transaction has sent its rows when its server process is
    terminated from a second session: the ingest fails ``catalog.unavailable``, the object it
    stored is withdrawn, and the same ingest again stores the AIP."""
    name = f"kholuu-fault-{uuid.uuid4().hex[:8]}"
    url = f"{database_url}&application_name={name}"
    env = cli_env(home, url)
    assert run_cli("init", env=env).returncode == 0
    sip = tiny_sip(tmp_path)
    held = Held(env, "registration: in transaction", "ingest", str(sip), "--json")
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            ended = conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": name},
            ).scalars()
            assert any(ended)
    finally:
        admin.dispose()
    done = held.finish()
    assert done.returncode in (1, 5), done.stdout + done.stderr
    assert failure(done.stdout)["code"] == "catalog.unavailable", done.stdout
    assert "Traceback" not in done.stderr
    assert stored_aips(url) == {}
    settled(env)
    retried = cli_json(env, "ingest", str(sip))
    assert retried["status"] == "stored", retried
    nothing_lost(env, url, {})


# ---------------------------------------------------------------------------- full disks


def full_then_room(env: Mapping[str, str], sip: Path, disk: Path) -> None:
    """Ingest ``sip`` onto the full ``disk``: ``system.no_space`` (exit 1, no traceback), nothing
    stored or half-visible; then the disk grows and the same ingest stores the AIP."""
    done = run_cli("ingest", str(sip), "--json", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert failure(done.stdout)["code"] == "system.no_space", done.stdout
    assert "Traceback" not in done.stderr
    assert stored_aips(env["KHOLUU_DATABASE_URL"]) == {}
    settled(env)
    remount(disk, "size=64m")
    retried = cli_json(env, "ingest", str(sip))
    assert retried["status"] == "stored", retried
    nothing_lost(env, env["KHOLUU_DATABASE_URL"], {})


def test_disk_full_in_staging(home: Path, tmp_path: Path) -> None:
    """``work/`` (staging: the AIP is built there) on a 512 KiB tmpfs, a 1 MiB file to ingest."""
    env = cli_env(home, f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    assert run_cli("init", env=env).returncode == 0
    with small_disk(home / "work", "512k") as work:
        full_then_room(env, big_sip(tmp_path, 1 << 20), work)


def test_disk_full_in_the_home(tmp_path: Path) -> None:
    """The whole data folder (quarantine, staging, storage) on a 1 MiB tmpfs, a 1 MiB file."""
    with small_disk(tmp_path / "disk", "1m") as disk:
        home = disk / "home"
        write_home_config(home)
        env = cli_env(home, f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
        assert run_cli("init", env=env).returncode == 0
        full_then_room(env, big_sip(tmp_path, 1 << 20), disk)


# ---------------------------------------------------------------------------- read-only location


def test_location_turned_read_only(home: Path, tmp_path: Path) -> None:
    """The replica's file system is remounted read-only: the ingest fails ``storage.read_only``
    naming the location (a refusal to write is no outage to queue a copy for), and withdraws what
    it wrote to the primary; once the replica is writable again, the same ingest stores the AIP
    in both."""
    with small_disk(tmp_path / "replica", "16m") as replica:
        write_home_config(
            home,
            '[[storage.locations]]\nname = "primary"\nrole = "primary"\nbackend = "local"\n'
            'path = "storage/primary"\n\n'
            '[[storage.locations]]\nname = "second"\nrole = "replica"\nbackend = "local"\n'
            f'path = "{replica}"\n',
        )
        env = cli_env(home, f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
        assert run_cli("init", env=env).returncode == 0
        sip = tiny_sip(tmp_path)
        remount(replica, "ro")
        done = run_cli("ingest", str(sip), "--json", env=env)
        assert done.returncode == 1, done.stdout + done.stderr
        error = failure(done.stdout)
        assert (error["code"], error["params"]["location"]) == ("storage.read_only", "second"), done.stdout
        assert "Traceback" not in done.stderr
        assert stored_aips(env["KHOLUU_DATABASE_URL"]) == {}
        settled(env)
        remount(replica, "rw")
        retried = cli_json(env, "ingest", str(sip))
        assert retried["status"] == "stored" and set(retried["locations"]) == {"primary", "second"}, retried
        nothing_lost(env, env["KHOLUU_DATABASE_URL"], {})


# ---------------------------------------------------------------------------- clock


@pytest.mark.parametrize("database_url", ["sqlite", *(["postgresql"] if soak() else [])], indirect=True)
def test_clock_jumping_back(home: Path, database_url: str, tmp_path: Path) -> None:
    """A day after the first ingest the clock is set back a day (an NTP correction, a wrong
    battery clock): an ingest, a metadata update and an audit under the old time all work, and
    once the clock is right again the audit log chain and the consistency check are clean."""
    time_machine = pytest.importorskip("time_machine", reason="time-machine (test extra) is not installed")
    env = cli_env(home, database_url)
    assert run_cli("init", env=env).returncode == 0
    first = cli_json(env, "ingest", str(tiny_sip(tmp_path, "-1")))["aip_id"]
    extra = tmp_path / "ghi-chu.xml"
    extra.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<ghi-chu>Bổ sung</ghi-chu>\n', encoding="utf-8")
    with time_machine.travel(datetime.now(UTC) - timedelta(days=1), tick=True):
        second = cli_json(env, "ingest", str(tiny_sip(tmp_path, "-2")))["aip_id"]
        updated = cli_json(env, "aip", "add-metadata", first, str(extra))
        assert updated["version"] == 2
        cli_json(env, "audit", "--all")
    cli_json(env, "audit", "--all")
    log = run_cli("auditlog", "verify", "--json", env=env)
    assert log.returncode == 0, log.stdout
    nothing_lost(env, database_url, {first: 2, second: 1})
