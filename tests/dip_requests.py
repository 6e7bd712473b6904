"""Holdings for the dissemination-request tests: a data folder with two AIPs, built by the command
line once per session and catalog backend, copied for each test (``tests/data_folder.py``). A test
module takes the fixtures with ``request_folders, stored = dip_requests.request_folders,
dip_requests.stored`` (an assignment, so that the fixture parameters do not shadow an import).

* ``described``: the four-document TT 05 hồ sơ of the export tests (document 1 Công khai, 2 Sử
  dụng có điều kiện, 3 Mật, 4 Công khai but on the list of tài liệu tiếp cận có điều kiện);
* ``undescribed``: the plain BagIt sample (no TT 05 descriptions: released whole, only under a
  decision).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from preservation.tt05.tables import load_tables
from repository.catalog.db import make_engine, session_factory
from repository.settings import Settings, load_settings
from tests.accounts import FAST_ARGON2
from tests.cli.test_cli_export import restrict_the_dossier
from tests.conftest import SAMPLES, HeadSchema, cli_env, run_cli
from tests.data_folder import DataFolders, data_folders
from tests.tt05 import FILE_CODE
from tests.workflows.test_export import DOCUMENTS, OPEN_PDF, documents_sip

__all__ = ["DOCUMENTS", "FILE_CODE", "OPEN_PDF", "Holdings", "Stored", "request_folders", "stored"]


@dataclass(frozen=True)
class Holdings:
    described: str
    undescribed: str


@dataclass(frozen=True)
class Stored:
    """A test's own data folder: its settings, catalog and the two AIPs."""

    home: Path
    database_url: str
    settings: Settings
    sessions: sessionmaker[Session]
    aips: Holdings

    def env(self, **extra: str) -> dict[str, str]:
        return cli_env(self.home, self.database_url, **extra)


def _ingest(env: dict[str, str], path: Path) -> str:
    done = run_cli("ingest", str(path), "--json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return str(json.loads(done.stdout)["aip_id"])


def _build(home: Path, database_url: str) -> Holdings:
    env = cli_env(home, database_url)
    assert run_cli("init", env=env).returncode == 0
    described = _ingest(env, documents_sip(home.parent, load_tables()))
    undescribed = _ingest(env, SAMPLES / "sip-bag-cong-van")
    restrict_the_dossier(database_url, ordinal=4)  # the one hồ sơ: the undescribed AIP has none
    return Holdings(described, undescribed)


@pytest.fixture(scope="session")
def request_folders(
    tmp_path_factory: pytest.TempPathFactory, head_schema: HeadSchema
) -> Iterator[DataFolders[Holdings]]:
    """The holdings, built once per session and catalog backend."""
    yield from data_folders(tmp_path_factory, head_schema, "dip-requests", _build)


@pytest.fixture
def stored(request_folders: DataFolders[Holdings], database_url: str, tmp_path: Path) -> Iterator[Stored]:
    """This test's copy (cheap password hashing for web logins)."""
    copy = request_folders.copy(database_url, tmp_path / "home")
    with (copy.home / "kholuu.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n" + FAST_ARGON2)
    settings = load_settings(copy.home, environ={}, overrides={"catalog": {"url": database_url}})
    engine = make_engine(database_url)
    try:
        yield Stored(copy.home, database_url, settings, session_factory(engine), copy.value)
    finally:
        engine.dispose()
