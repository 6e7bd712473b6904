"""``kholuu backup --out DIR`` and ``kholuu restore DIR``: the catalog and the configuration.

A backup folder holds an online copy of the catalog (:mod:`repository.catalog.dump`), the settings
file ``kholuu.toml`` and the web session key (mode 0600 kept), and ``manifest.json``: the SHA-256
and size of every file, the catalog's schema revision, the time, the Kho Lưu version, and where
the parts that are *not* in it live. The AIPs are not in it: the storage locations are the copies
(each configured location holds every AIP, with the catalog journal under ``catalog-journal/``
and the audit-log anchors under ``audit-log-anchors/`` beside the OCFL root). S3 credentials
are not in it either (they live outside the data folder: a profile, a credentials file, the
environment) and are backed up with the machine's other secrets (docs/operations.md).

A backup is written into a temporary folder beside ``DIR``, every file is read back and compared
with the manifest, and only then is the folder renamed to ``DIR``: a ``DIR`` that exists is whole.

A restore verifies the manifest first (a missing or changed file refuses the whole backup, naming
the file: ``backup.damaged``), refuses a catalog that holds tables unless ``force``, puts the
catalog back, brings an older schema to this program's revision (Alembic), and then runs
``kholuu check --consistency`` (:mod:`workflows.custody.consistency`) and returns its report: AIPs
stored after the backup show as unregistered objects (``kholuu rebuild-catalog`` registers them).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from preservation.errors import ErrorKind
from preservation.fixity import digest_file
from repository import __version__
from repository.catalog.db import current_revision, make_engine, session_factory, upgrade
from repository.catalog.dump import BackupError, CatalogDump, catalog_is_empty, dump_catalog, empty_catalog
from repository.catalog.dump import restore_catalog as put_back
from repository.catalog.models import Aip
from repository.settings import HOME_CONFIG_NAME, Settings, load_settings
from workflows.custody.consistency import ConsistencyReport, check_consistency

__all__ = ["BackupReport", "RestoreReport", "backup", "restore", "verify_backup"]

FORMAT = "kholuu-backup/1"
MANIFEST = "manifest.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    manifest: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder), "manifest": self.manifest}


@dataclass
class RestoreReport:
    folder: Path
    manifest: dict[str, Any]
    schema_from: str
    schema_to: str
    restored: list[str] = field(default_factory=list)  # files written into the data folder
    kept: list[str] = field(default_factory=list)  # files the data folder had, left as they were
    consistency: ConsistencyReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "created_at": self.manifest.get("created_at"),
            "schema_from": self.schema_from,
            "schema_to": self.schema_to,
            "restored": list(self.restored),
            "kept": list(self.kept),
            "consistency": self.consistency.as_dict() if self.consistency else None,
        }


def backup(settings: Settings, out: Path, *, secret_name: str) -> BackupReport:
    """Write a verified backup of the catalog and configuration to ``out`` (which must not exist).

    Args:
        secret_name: the web session key's file name in the data folder (the web layer owns it).
    """
    out = out.resolve()
    if out.exists():
        raise BackupError(f"{out} exists: give a new folder", code="backup.out_exists", kind=ErrorKind.USAGE,
                          params={"path": str(out)})  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    temp.mkdir(mode=0o700)
    try:
        engine = make_engine(settings.database_url)
        try:
            revision = current_revision(engine)
            dump = dump_catalog(engine, temp)
            with session_factory(engine)() as session:
                aips = session.scalar(select(func.count()).select_from(Aip))
        finally:
            engine.dispose()
        files = [dump.file]
        for name in (HOME_CONFIG_NAME, secret_name):
            source = settings.home / name
            if source.is_file():
                shutil.copy2(source, temp / name)  # copy2 keeps the key's mode 0600
                files.append(name)
        manifest = _manifest(settings, dump, revision, files, temp, aips or 0)
        _write_json(temp / MANIFEST, manifest)
        verify_backup(temp)
        os.rename(temp, out)
        _fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return BackupReport(out, manifest)


def _manifest(
    settings: Settings, dump: CatalogDump, revision: str | None, files: list[str], folder: Path, aips: int
) -> dict[str, Any]:
    entries = {}
    for name in files:
        path = folder / name
        entries[name] = {"sha256": _sha256(path), "size": path.stat().st_size,
                         "mode": f"{stat.S_IMODE(path.stat().st_mode):04o}"}  # fmt: skip
    locations = [
        {
            "name": loc.name,
            "backend": loc.backend,
            "role": loc.role,
            "where": loc.path or f"{loc.bucket}/{loc.prefix}".rstrip("/"),
        }
        for loc in settings.storage.locations
    ]
    return {
        "format": FORMAT,
        "kholuu_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "schema_revision": revision,
        "catalog": {"backend": dump.backend, "file": dump.file, "schema": dump.schema, "aips": aips},
        "files": entries,
        "not_in_backup": {
            "storage_locations": locations,
            "catalog_journal": "catalog-journal/ beside the OCFL root of every storage location",
            "audit_log_anchors": "audit-log-anchors/ beside the OCFL root of every storage location",
            "credentials": "S3 credentials: the profile, credentials file or environment of each s3 location",
        },
    }


def verify_backup(folder: Path) -> dict[str, Any]:
    """The manifest of a backup folder whose every file has its recorded size and SHA-256.

    Raises:
        BackupError: ``backup.manifest_missing`` (not a backup, or its manifest unreadable);
            ``backup.damaged`` naming the first missing or changed file.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = dict(manifest["files"])
        catalog = dict(manifest["catalog"])
        if manifest.get("format") != FORMAT or catalog["file"] not in files:
            raise ValueError(f"format {manifest.get('format')!r}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(
            f"{folder} is not a Kho Lưu backup: {MANIFEST} is missing or unreadable ({exc})",
            code="backup.manifest_missing",
            kind=ErrorKind.USAGE,
            params={"path": str(folder)},
        ) from None
    for name, entry in sorted(files.items()):
        path = folder / name
        if "/" in name or not path.is_file():
            problem = "missing"
        elif path.stat().st_size != entry.get("size") or _sha256(path) != entry.get("sha256"):
            problem = "changed"
        else:
            continue
        raise BackupError(
            f"the backup in {folder} is damaged: {name} is {problem}",
            code="backup.damaged",
            params={"file": name, "problem": problem, "path": str(folder)},
        )
    return dict(manifest)


def restore(
    home: Path, folder: Path, *, force: bool = False, environ: dict[str, str] | None = None
) -> RestoreReport:
    """Restore the backup in ``folder`` into the data folder ``home`` (made when missing).

    The settings file and the session key are written when the data folder has none (``force``:
    replaced); the catalog is the one those settings name.

    Raises:
        BackupError: a damaged backup; ``backup.catalog_not_empty`` without ``force``;
            ``backup.schema_newer`` when the backup comes from a newer Kho Lưu.
    """
    folder = folder.resolve()
    manifest = verify_backup(folder)
    home.mkdir(parents=True, exist_ok=True)
    report = RestoreReport(folder, manifest, str(manifest.get("schema_revision")), "")
    catalog = dict(manifest["catalog"])
    for name in manifest["files"]:
        if name == catalog["file"]:
            continue
        target = home / name
        if target.exists() and not force:
            report.kept.append(name)
            continue
        _restore_file(folder / name, target, manifest["files"][name].get("mode", "0600"))
        report.restored.append(name)
    settings = load_settings(home, environ=environ)
    engine = make_engine(settings.database_url)
    try:
        if not catalog_is_empty(engine):
            if not force:
                raise BackupError(
                    "the catalog already holds tables: restore into an empty catalog, or give --force",
                    code="backup.catalog_not_empty",
                    kind=ErrorKind.REFUSED,
                    params={"where": engine.url.render_as_string(hide_password=True)},
                )
            empty_catalog(engine)
        put_back(engine, folder, CatalogDump(catalog["backend"], catalog["file"], catalog.get("schema")))
        report.restored.append(catalog["file"])
        report.schema_to = _upgrade(engine, report.schema_from)
        report.consistency = check_consistency(settings, session_factory(engine))
    finally:
        engine.dispose()
    return report


def _upgrade(engine: Any, revision: str) -> str:
    """Bring a restored catalog to this program's schema; a revision it does not know is newer."""
    from alembic.util import CommandError

    try:
        return upgrade(engine)
    except CommandError as exc:
        raise BackupError(
            f"the backup's catalog is at schema revision {revision}, which this Kho Lưu does not know "
            f"(a newer version made it): {exc}",
            code="backup.schema_newer",
            kind=ErrorKind.USAGE,
            params={"revision": revision, "version": __version__},
        ) from None


def _restore_file(source: Path, target: Path, mode: str) -> None:
    temp = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, int(mode, 8) & 0o777)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, CHUNK)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, target)


def _sha256(path: Path) -> str:
    return str(digest_file(path, ("sha256",)).sha256)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
