"""An online copy of the catalog database, and putting one back: the database half of a backup.

SQLite: the ``sqlite3`` online backup API (a consistent copy while other processes read and
write; the same API writes it back, page by page, into the configured catalog file). PostgreSQL:
``pg_dump --format=custom`` of the catalog's schema (the ``search_path`` of the catalog URL, so a
catalog living in a schema of its own, as the tests' do, is dumped alone), and ``pg_restore`` of
that archive into the same-named schema of the configured database. The tools are found on
``PATH``; a missing tool, or a ``pg_dump`` older than the server, is a coded error
(``backup.tool_missing``, ``backup.tool_version``), never a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL

from preservation.errors import ErrorKind, KholuuError

__all__ = [
    "BackupError",
    "CatalogDump",
    "catalog_is_empty",
    "dump_catalog",
    "empty_catalog",
    "restore_catalog",
]

TOOL_TIMEOUT = 6 * 3600  # seconds: a large catalog takes long, a hung tool must still end


class BackupError(KholuuError):
    """A backup could not be written, or a backup cannot be restored (damaged, wrong target)."""

    code = "backup.failed"
    kind = ErrorKind.FAILED


@dataclass(frozen=True)
class CatalogDump:
    """What :func:`dump_catalog` wrote: the file (relative to the backup folder) and its backend."""

    backend: str  # sqlite | postgresql
    file: str
    schema: str | None = None  # PostgreSQL: the schema dumped


def dump_catalog(engine: Engine, folder: Path) -> CatalogDump:
    """Write an online copy of the catalog of ``engine`` into ``folder``."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        target = folder / "catalog.sqlite3"
        with closing(_sqlite(url)) as source, closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
        target.chmod(0o600)  # the catalog holds the accounts' password hashes
        return CatalogDump("sqlite", target.name)
    schema = _schema(engine)
    target = folder / "catalog.pgdump"
    _run(
        "pg_dump",
        ["--format=custom", f"--schema={schema}", "--no-owner", "--no-privileges", f"--file={target}"],
        url,
    )
    target.chmod(0o600)
    return CatalogDump("postgresql", target.name, schema)


def restore_catalog(engine: Engine, folder: Path, dump: CatalogDump) -> None:
    """Put the dump back into the (empty, or emptied by the caller) catalog of ``engine``.

    Raises:
        BackupError: ``backup.backend_differs`` (a SQLite backup into PostgreSQL or the reverse),
            ``backup.schema_differs`` (a PostgreSQL dump of another schema), or a tool's failure.
    """
    url = engine.url
    backend = url.get_backend_name()
    if backend != dump.backend:
        raise _differs("backend", dump.backend, backend)
    if backend == "sqlite":
        engine.dispose()
        with closing(sqlite3.connect(folder / dump.file)) as source, closing(_sqlite(url)) as target:
            source.backup(target)
        return
    schema = _schema(engine)
    if schema != dump.schema:
        raise _differs("schema", str(dump.schema), schema)
    archive = folder / dump.file
    listing = _run("pg_restore", ["--list", str(archive)], url, connect=False)
    wanted = [line for line in listing.splitlines() if not _SCHEMA_ENTRY.search(line)]
    entries = folder.parent / f".{folder.name}.restore-list"
    entries.write_text("\n".join(wanted) + "\n", encoding="utf-8")
    try:
        _run(
            "pg_restore",
            ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
             f"--use-list={entries}", str(archive)],
            url,
        )  # fmt: skip
    finally:
        entries.unlink(missing_ok=True)


def _differs(what: str, backup: str, catalog: str) -> BackupError:
    """A backup of another kind of catalog (``backend``) or of another PostgreSQL ``schema``."""
    return BackupError(
        f"the backup's catalog {what} is {backup}, the configured catalog's is {catalog}",
        code=f"backup.{what}_differs",
        kind=ErrorKind.USAGE,
        params={"backup": backup, "catalog": catalog},
    )


_SCHEMA_ENTRY = re.compile(r"^\d+; \d+ \d+ (SCHEMA|COMMENT) - (SCHEMA )?\S+ ")
"""The archive's own CREATE SCHEMA (and its comment): the schema exists already, it is the target."""


def catalog_is_empty(engine: Engine) -> bool:
    """No table at all in the catalog (its schema on PostgreSQL)."""
    with engine.connect() as conn:
        return not inspect(conn).get_table_names()


def empty_catalog(engine: Engine) -> None:
    """Drop every table of the catalog (``kholuu restore --force``): the restore writes them anew."""
    if engine.url.get_backend_name() == "sqlite":
        engine.dispose()
        path = Path(str(engine.url.database))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    schema = _schema(engine)
    with engine.begin() as conn:
        conn.execute(text(f'drop schema "{schema}" cascade'))
        conn.execute(text(f'create schema "{schema}"'))


def _sqlite(url: URL) -> sqlite3.Connection:
    path = url.database
    if not path:
        raise BackupError("an in-memory catalog cannot be backed up", code="backup.failed",
                          params={"problem": "in-memory SQLite catalog"})  # fmt: skip
    return sqlite3.connect(path, timeout=30)


def _schema(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("select current_schema()")).scalar_one())


def _run(tool: str, args: list[str], url: URL, *, connect: bool = True) -> str:
    """Run a PostgreSQL client tool against ``url`` (password through the environment, never on
    the command line); its standard output."""
    program = shutil.which(tool)
    if program is None:
        raise BackupError(
            f"{tool} is not on PATH: install the PostgreSQL client tools of the server's version",
            code="backup.tool_missing",
            kind=ErrorKind.USAGE,
            params={"tool": tool},
        )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    command = [program, *args, *([f"--dbname={_conninfo(url)}"] if connect else [])]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        problem = f"timeout after {TOOL_TIMEOUT} s"
        raise BackupError(
            f"{tool} did not finish", code="backup.tool_failed", params={"tool": tool, "problem": problem}
        ) from None
    if done.returncode != 0:
        problem = done.stderr.strip()[-2000:]
        code = "backup.tool_version" if "version mismatch" in problem else "backup.tool_failed"
        raise BackupError(f"{tool} failed: {problem}", code=code, params={"tool": tool, "problem": problem})
    return done.stdout


def _conninfo(url: URL) -> str:
    """A libpq connection string of a SQLAlchemy URL (its ``options``, e.g. the search path, kept)."""
    parts = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "dbname": url.database,
        "options": url.query.get("options"),
        "sslmode": url.query.get("sslmode"),
    }
    return " ".join(f"{k}='{_quote(v)}'" for k, v in parts.items() if v)


def _quote(value: object) -> str:
    text_value = value if isinstance(value, str) else str(value[0] if isinstance(value, tuple) else value)
    return text_value.replace("\\", "\\\\").replace("'", "\\'")
