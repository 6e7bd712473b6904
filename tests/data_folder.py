"""An ingested data folder built once per test session (per catalog backend) and copied for each test.

An ingest takes seconds; a test module whose every test starts from the same stored AIPs used to
ingest them again for each test. :class:`DataFolders` builds the data folder (home, storage roots
and catalog) the first time a test asks for it on a backend, and gives every test a copy of its
own, so that a test that damages storage or rewrites the catalog changes nothing another test sees:

* the home folder (storage, journal, work folders) is copied with :func:`shutil.copytree`;
* the catalog: on SQLite the database file is copied; on PostgreSQL the test's own empty schema
  (made by the ``database_url`` fixture) gets the head schema (:class:`tests.conftest.HeadSchema`),
  then every row of the session's template schema (``INSERT … SELECT``, parents before children),
  then each serial sequence is moved past the copied ids.

Under pytest-xdist each worker builds its own (a session fixture is per worker); the PostgreSQL
template schema is named per session and dropped at its end.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import pytest
from sqlalchemy import text

import repository.catalog.journal
import repository.catalog.models
import repository.catalog.records  # noqa: F401  (every table is in the metadata)
from repository.catalog.base import Base
from repository.catalog.db import make_engine
from tests.conftest import HeadSchema, postgres_schema, write_home_config

T = TypeVar("T")

Build = Callable[[Path, str], T]
"""Fills an initialised-nothing data folder: (home, catalog URL) -> what the tests need to know."""


@dataclass(frozen=True)
class Copied(Generic[T]):
    """A test's own copy: its home folder, its catalog URL, and what the build returned."""

    home: Path
    database_url: str
    value: T


@dataclass(frozen=True)
class _Template(Generic[T]):
    home: Path
    database_url: str
    value: T


class DataFolders(Generic[T]):
    """One built data folder per catalog backend, copied on demand (see the module docstring)."""

    def __init__(self, folder: Path, head: HeadSchema, build: Build[T]) -> None:
        self.folder = folder
        self.head = head
        self.build = build
        self._built: dict[str, _Template[T]] = {}
        self._schemas = ExitStack()

    def copy(self, database_url: str, home: Path) -> Copied[T]:
        """A copy of the built data folder at ``home``, its catalog in ``database_url`` (empty)."""
        backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        template = self._built.get(backend) or self._build(backend)
        shutil.copytree(template.home, home, symlinks=True)
        if backend == "sqlite":
            target = Path(database_url.removeprefix("sqlite:///"))
            assert not target.exists(), f"{target} is not an empty catalog"
            shutil.copyfile(Path(template.database_url.removeprefix("sqlite:///")), target)
        else:
            _copy_schema(template.database_url, database_url, self.head)
        return Copied(home, database_url, template.value)

    def close(self) -> None:
        self._schemas.close()  # the PostgreSQL template schema is dropped

    def _build(self, backend: str) -> _Template[T]:
        home = self.folder / backend / "home"
        write_home_config(home)
        if backend == "sqlite":
            url = f"sqlite:///{self.folder / backend / 'catalog.sqlite3'}"
        else:
            url = self._schemas.enter_context(postgres_schema("kholuu_tpl"))
        self._built[backend] = _Template(home, url, self.build(home, url))
        return self._built[backend]


def _copy_schema(source_url: str, target_url: str, head: HeadSchema) -> None:
    engine = make_engine(target_url)
    try:
        head.install(engine)
        with engine.begin() as conn:
            source, target = _schema(source_url), _schema(target_url)
            found = conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = :s "
                    "AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version' "
                    "AND table_name NOT LIKE 'procrastinate%'"  # the job queue's: nothing queued in a copy
                ),
                {"s": source},
            ).scalars()
            ordered = [t.name for t in Base.metadata.sorted_tables]  # parents first: FKs hold per row
            tables = sorted(found, key=lambda t: (ordered.index(t) if t in ordered else len(ordered), t))
            for table in tables:
                # a generated column (the search vector of file_text) is computed, never inserted
                columns = ", ".join(
                    f'"{c}"'
                    for c in conn.execute(
                        text(
                            "SELECT column_name FROM information_schema.columns WHERE table_schema = :s "
                            "AND table_name = :t AND is_generated = 'NEVER' ORDER BY ordinal_position"
                        ),
                        {"s": source, "t": table},
                    ).scalars()
                )
                conn.exec_driver_sql(
                    f'INSERT INTO "{target}"."{table}" ({columns}) SELECT {columns} FROM "{source}"."{table}"'
                )
            serials = conn.execute(
                text(
                    "SELECT table_name, column_name, pg_get_serial_sequence("
                    "quote_ident(table_schema) || '.' || quote_ident(table_name), column_name) "
                    "FROM information_schema.columns WHERE table_schema = :s"
                ),
                {"s": target},
            ).all()
            for table, column, sequence in serials:
                if sequence is not None:
                    conn.exec_driver_sql(
                        f"SELECT setval('{sequence}', "
                        f'COALESCE((SELECT max("{column}") FROM "{target}"."{table}"), 0) + 1, false)'
                    )
    finally:
        engine.dispose()


def _schema(url: str) -> str:
    return url.rsplit("search_path%3D", 1)[1]


def data_folders(
    tmp_path_factory: pytest.TempPathFactory, head: HeadSchema, name: str, build: Build[T]
) -> Iterator[DataFolders[T]]:
    """The body of a session fixture: ``yield from data_folders(...)``."""
    folders = DataFolders(tmp_path_factory.mktemp(name), head, build)
    try:
        yield folders
    finally:
        folders.close()
