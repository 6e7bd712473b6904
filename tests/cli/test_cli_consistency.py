"""``kholuu check --consistency``, ``kholuu backup`` and ``kholuu restore`` on both catalogs.

Two samples are ingested once per backend into a data folder with two local locations; every test
works on its own copy. Each kind of damage is made behind Kho Lưu's back, the check must name it
with its code and repair command, and running that very command must leave the check clean.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from entrypoints.web.secret import SECRET_NAME, load_secret_key
from repository.catalog.db import make_engine
from repository.settings import load_settings
from repository.storage.locations import open_locations
from tests.conftest import SAMPLES, HeadSchema, cli_env, run_cli, write_home_config
from tests.data_folder import DataFolders, data_folders

LOCATIONS = "".join(
    f'[[storage.locations]]\nname = "{name}"\nrole = "{role}"\nbackend = "local"\npath = "storage/{name}"\n'
    for name, role in (("primary", "primary"), ("second", "replica"))
)
SAMPLE_NAMES = ("sip-folder-quyet-dinh", "sip-bag-cong-van")


@pytest.fixture(scope="session")
def ingested(
    tmp_path_factory: pytest.TempPathFactory, head_schema: HeadSchema
) -> Iterator[DataFolders[list[str]]]:
    def build(home: Path, database_url: str) -> list[str]:
        write_home_config(home, LOCATIONS)
        env = cli_env(home, database_url)
        assert run_cli("init", env=env).returncode == 0
        for name in SAMPLE_NAMES:
            done = run_cli("ingest", str(SAMPLES / name), env=env)
            assert done.returncode == 0, done.stderr
        return sorted(a["aip_id"] for a in _json(run_cli("aip", "list", "--json", env=env).stdout)["aips"])

    yield from data_folders(tmp_path_factory, head_schema, "consistency", build)


@dataclass(frozen=True)
class Folder:
    home: Path
    database_url: str
    env: dict[str, str]
    ids: list[str]

    def kholuu(self, *args: str) -> Any:
        return run_cli(*args, env=self.env)

    def check(self, *args: str) -> tuple[int, dict[str, Any]]:
        done = self.kholuu("check", "--consistency", "--json", *args)
        return done.returncode, _json(done.stdout)

    def sql(self, statement: str, **params: Any) -> None:
        engine = make_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(text(statement), params)
        engine.dispose()


@pytest.fixture
def folder(ingested: DataFolders[list[str]], database_url: str, tmp_path: Path) -> Folder:
    copy = ingested.copy(database_url, tmp_path / "home")
    return Folder(copy.home, database_url, cli_env(copy.home, database_url), copy.value)


def _json(stdout: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stdout)
    return data


def _codes(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((f["code"], f["subject"], f["repair"]) for f in report["findings"])


def _repair_and_recheck(folder: Folder, report: dict[str, Any]) -> None:
    """Run every repair command the check named (once each), then the check must be clean."""
    for command in sorted({f["repair"] for f in report["findings"]}):
        done = folder.kholuu(*command.split()[1:])
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    code, after = folder.check()
    assert code == 0 and after["findings"] == [], after


def test_a_clean_data_folder_is_consistent_in_both_languages(folder: Folder) -> None:
    code, report = folder.check()
    assert code == 0, report
    assert report["ok"] and report["locations"] == ["primary", "second"] and report["findings"] == []
    done = run_cli("--lang", "vi", "check", "--consistency", env=folder.env)
    assert done.returncode == 0 and "Danh mục và kho lưu khớp nhau" in done.stdout
    assert folder.kholuu("check").returncode == 2  # which check: say it
    unknown = folder.kholuu("check", "--consistency", "--location", "nowhere", "--json")
    assert unknown.returncode == 4 and _json(unknown.stdout)["error"]["code"] == "storage.location_unknown"


def test_an_object_the_catalog_lost_is_unregistered_and_rebuild_registers_it(folder: Folder) -> None:
    lost = folder.ids[0]
    folder.sql("delete from aip where id = :id", id=lost)
    code, report = folder.check()
    assert code == 1
    assert _codes(report) == [
        ("consistency.unregistered_object", lost, "kholuu rebuild-catalog --location primary"),
        ("consistency.unregistered_object", lost, "kholuu rebuild-catalog --location second"),
    ]
    shown = run_cli("check", "--consistency", env=folder.env)
    assert f"Location 'primary' holds object {lost}, which the catalog does not know" in shown.stdout
    assert "Repair: kholuu rebuild-catalog --location primary" in shown.stdout
    folder.kholuu("rebuild-catalog", "--location", "primary")  # one rebuild registers both copies
    code, after = folder.check()
    assert code == 0, after


def test_a_copy_missing_from_a_location_is_repaired_by_the_audit(folder: Folder) -> None:
    settings = load_settings(folder.home, environ={}, overrides={"catalog": {"url": folder.database_url}})
    second = next(loc for loc in open_locations(settings) if loc.name == "second")
    gone = folder.ids[1]
    shutil.rmtree(folder.home / "storage" / "second" / "ocfl-root" / second.store.object_path(gone))
    code, report = folder.check("--location", "second")
    assert code == 1
    assert _codes(report) == [("consistency.copy_missing", gone, "kholuu audit --all --location second")]
    assert report["findings"][0]["severity"] == "error"
    _repair_and_recheck(folder, report)


def test_a_copy_row_the_catalog_lost_is_recorded_again_by_a_rebuild(folder: Folder) -> None:
    aip = folder.ids[0]
    folder.sql("delete from copy where aip_id = :a and location = 'second'", a=aip)
    code, report = folder.check()
    assert code == 1
    assert _codes(report) == [
        ("consistency.copy_not_recorded", aip, "kholuu rebuild-catalog --location primary --replace")
    ]
    _repair_and_recheck(folder, report)


def test_a_stored_file_that_differs_from_the_catalog_is_a_digest_mismatch(folder: Folder) -> None:
    aip = folder.ids[0]
    folder.sql(
        "update file set sha256 = :d where id = (select min(id) from file where aip_id = :a and version = 1)",
        d="0" * 64,
        a=aip,
    )
    code, report = folder.check()
    assert code == 1
    assert {(f["code"], f["location"]) for f in report["findings"]} == {
        ("consistency.digest_mismatch", "primary"),
        ("consistency.digest_mismatch", "second"),
    }
    assert all(f["params"]["path"] for f in report["findings"])


def test_a_running_job_whose_process_died_is_found_and_cleaned(folder: Folder) -> None:
    job = str(uuid.uuid4())
    folder.sql(
        "insert into job (id, kind, status, source, source_name, started_at, pid, hostname, options) "
        "values (:id, 'audit', 'running', 'x', 'x', :at, 999999, :host, '{}')",
        id=job,
        at=datetime.now(UTC),
        host=socket.gethostname(),
    )
    (folder.home / "work" / job).mkdir(parents=True)
    (folder.home / "work" / job / "partial.bin").write_bytes(b"half")
    code, report = folder.check()
    assert code == 1
    assert _codes(report) == [("consistency.dead_job", job, f"kholuu job clean {job}")]
    _repair_and_recheck(folder, report)
    assert not (folder.home / "work" / job).exists()
    assert _actions(folder)[-1] == ("job.clean", job)
    shown = _json(folder.kholuu("job", "show", job, "--json").stdout)
    assert shown["status"] == "interrupted"


def test_staging_debris_is_found_and_cleaned(folder: Folder) -> None:
    crashed = f"{uuid.uuid4()}"
    deposit = folder.home / "storage" / "primary" / "deposit" / crashed
    deposit.mkdir(parents=True)
    (deposit / "inventory.json").write_text("{}")
    stray = folder.home / "quarantine" / "left-by-a-crash"
    stray.mkdir(parents=True)
    (stray / "file.txt").write_text("x")
    (folder.home / "work" / "old-job").mkdir(parents=True)
    code, report = folder.check()
    assert code == 1
    assert _codes(report) == [
        ("consistency.quarantine_leftover", "left-by-a-crash", "kholuu job clean left-by-a-crash"),
        ("consistency.storage_leftover", crashed, f"kholuu job clean {crashed}"),
        ("consistency.work_leftover", "old-job", "kholuu job clean old-job"),
    ]
    assert {f["severity"] for f in report["findings"]} == {"warning"}
    _repair_and_recheck(folder, report)
    assert not deposit.exists() and not stray.exists()


def test_an_edited_audit_log_row_is_a_finding_of_the_check(folder: Folder) -> None:
    folder.sql("update audit_log set on_behalf = 'Người khác' where seq = 1")
    code, report = folder.check()
    assert code == 1
    assert [(f["code"], f["subject"], f["repair"]) for f in report["findings"]] == [
        ("auditlog.row_edited", "#1", "kholuu auditlog verify")
    ]
    assert report["findings"][0]["text"].startswith("Row 1 of the audit log")
    assert folder.check("--location", "primary")[0] == 0  # one location: the data folder's log is not read


# ------------------------------------------------------------------------------ backup and restore


def _actions(folder: Folder) -> list[tuple[str, str]]:
    entries = _json(folder.kholuu("auditlog", "show", "--json").stdout)["entries"]
    return [(e["action"], e["target"]) for e in entries]


def _empty_the_data_folder(folder: Folder) -> None:
    """Lose everything but the storage locations: the catalog, the settings, the key, the folders."""
    if folder.database_url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(folder.database_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        schema = folder.database_url.rsplit("search_path%3D", 1)[1]
        folder.sql(f'drop schema "{schema}" cascade; create schema "{schema}"')
    for entry in folder.home.iterdir():
        if entry.name != "storage":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def test_backup_then_restore_into_an_empty_data_folder_is_consistent(folder: Folder, tmp_path: Path) -> None:
    load_secret_key(folder.home)  # the web session key, as `kholuu serve` makes it
    key = (folder.home / SECRET_NAME).read_bytes()
    settings_text = (folder.home / "kholuu.toml").read_text()
    before = _json(folder.kholuu("aip", "list", "--json").stdout)
    out = tmp_path / "backup-1"
    done = folder.kholuu("backup", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    manifest = _json((out / "manifest.json").read_text())
    assert manifest["catalog"]["aips"] == 2 and manifest["schema_revision"]
    assert set(manifest["files"]) == {manifest["catalog"]["file"], "kholuu.toml", SECRET_NAME}
    assert stat.S_IMODE((out / SECRET_NAME).stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".backup-1")]  # no temporary left
    assert folder.kholuu("backup", "--out", str(out)).returncode == 2  # never over a backup
    assert _actions(folder)[-1] == ("catalog.backup", str(out))

    _empty_the_data_folder(folder)
    restored = folder.kholuu("restore", str(out), "--json")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    report = _json(restored.stdout)
    assert report["consistency"]["ok"] and report["consistency"]["findings"] == []
    assert (folder.home / SECRET_NAME).read_bytes() == key
    assert stat.S_IMODE((folder.home / SECRET_NAME).stat().st_mode) == 0o600
    assert (folder.home / "kholuu.toml").read_text() == settings_text
    assert _actions(folder)[-1] == ("catalog.restore", str(out))  # signed in the restored catalog
    assert _json(folder.kholuu("aip", "list", "--json").stdout) == before
    assert folder.check()[0] == 0
    again = folder.kholuu("restore", str(out), "--json")  # the catalog is not empty now
    assert again.returncode == 3 and _json(again.stdout)["error"]["code"] == "backup.catalog_not_empty"
    forced = folder.kholuu("restore", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert _json(folder.kholuu("aip", "list", "--json").stdout) == before


def test_a_tampered_backup_is_refused_naming_the_file(folder: Folder, tmp_path: Path) -> None:
    out = tmp_path / "backup"
    assert folder.kholuu("backup", "--out", str(out)).returncode == 0
    with (out / "kholuu.toml").open("a") as fh:
        fh.write("# changed\n")
    _empty_the_data_folder(folder)
    done = folder.kholuu("restore", str(out), "--json")
    assert done.returncode == 1
    error = _json(done.stdout)["error"]
    assert error["code"] == "backup.damaged" and error["params"]["file"] == "kholuu.toml"
    assert not (folder.home / "kholuu.toml").exists()  # nothing restored
    vi = run_cli("--lang", "vi", "restore", str(out), env=folder.env)
    assert "tệp kholuu.toml không khớp manifest.json" in vi.stderr
    os.remove(out / "manifest.json")
    missing = folder.kholuu("restore", str(out), "--json")
    assert _json(missing.stdout)["error"]["code"] == "backup.manifest_missing"


def test_a_postgresql_backup_needs_pg_dump_and_says_so(folder: Folder, tmp_path: Path) -> None:
    """Without the PostgreSQL client tools on PATH a PostgreSQL catalog cannot be backed up (a coded
    error, no backup folder); a SQLite catalog needs no tool."""
    done = run_cli(
        "backup", "--out", str(tmp_path / "b"), "--json", env={**folder.env, "PATH": "/nonexistent"}
    )
    if folder.database_url.startswith("sqlite"):
        assert done.returncode == 0, done.stdout
        assert (tmp_path / "b" / "manifest.json").is_file()
        return
    assert done.returncode == 2, done.stdout
    error = _json(done.stdout)["error"]
    assert error["code"] == "backup.tool_missing" and error["params"]["tool"] == "pg_dump"
    assert not (tmp_path / "b").exists() and list(tmp_path.glob(".b.tmp-*")) == []


def test_a_backup_of_an_older_schema_is_upgraded_when_restored(folder: Folder, tmp_path: Path) -> None:
    """A backup made by an older Kho Lưu (its catalog one migration behind) restores, is brought to
    this program's schema, and checks clean."""
    from alembic import command

    from repository.catalog.db import alembic_config, current_revision, head_revision
    from workflows.custody.backup import backup

    engine = make_engine(folder.database_url)
    cfg = alembic_config(folder.database_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
    older = current_revision(engine)
    engine.dispose()
    assert older is not None and older != head_revision()
    settings = load_settings(folder.home, environ={}, overrides={"catalog": {"url": folder.database_url}})
    out = backup(settings, tmp_path / "older", secret_name=SECRET_NAME).folder
    assert _json((out / "manifest.json").read_text())["schema_revision"] == older

    _empty_the_data_folder(folder)
    restored = folder.kholuu("restore", str(out), "--json")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    report = _json(restored.stdout)
    assert (report["schema_from"], report["schema_to"]) == (older, head_revision())
    listed = _json(folder.kholuu("aip", "list", "--json").stdout)["aips"]
    assert sorted(a["aip_id"] for a in listed) == folder.ids
