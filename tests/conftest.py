"""Shared fixtures: settings → database (SQLite | PostgreSQL) → sessions.

Every catalog test runs on both backends. PostgreSQL is the production database: each test gets
its own schema in the ``test`` database (created and dropped around the test), so tests never see
each other's rows. Where no PostgreSQL server answers, that leg is skipped with the reason printed
(``-ra`` shows it in the summary).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from repository.catalog.db import make_engine, session_factory, upgrade
from repository.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("KHOLUU_TEST_CORPUS") or ROOT.parent / "shared" / "corpus")
"""The shared corpora; ``KHOLUU_TEST_CORPUS`` overrides for worktrees that are not beside ``shared/``."""
SAMPLES = ROOT / "samples"
TEST_SIGNATURES = ROOT / "config" / "clamav"

POSTGRES_URL = os.environ.get("KHOLUU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

_postgres_problem: str | None = None
_postgres_checked = False


@pytest.fixture(autouse=True, scope="session")
def strict_messages() -> Iterator[None]:
    """Every message rendered in a test (in-process or by a ``kholuu`` the test starts) raises on
    a placeholder with no value (``repository.i18n.STRICT_ENV``; issue 11 item 8), so no test passes
    while a user would read ``{algorithm}``."""
    from repository.i18n import STRICT_ENV

    before = os.environ.get(STRICT_ENV)
    os.environ[STRICT_ENV] = "1"
    yield
    if before is None:
        os.environ.pop(STRICT_ENV, None)
    else:
        os.environ[STRICT_ENV] = before


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    global _postgres_problem, _postgres_checked
    if not _postgres_checked:
        _postgres_checked = True
        try:
            engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
        except Exception as exc:  # any failure to connect is a reason to skip this leg
            _postgres_problem = f"no PostgreSQL server answers at {POSTGRES_URL}: {type(exc).__name__}: {exc}"
    return _postgres_problem


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty catalog database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
        return
    problem = postgres_problem()
    if problem:
        pytest.skip(reason=f"PostgreSQL leg skipped: {problem}")
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema(prefix: str = "kholuu_t") -> Iterator[str]:
    """A URL of a new, empty schema in the PostgreSQL test database, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


def write_home_config(home: Path, extra: str = "") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "kholuu.toml").write_text(
        f'[virus_check]\ndatabase = "{TEST_SIGNATURES}"\n' + extra,
        encoding="utf-8",
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data folder whose virus check uses the EICAR test signatures (no official DB offline)."""
    path = tmp_path / "home"
    write_home_config(path)
    return path


@pytest.fixture
def settings(home: Path, database_url: str) -> Settings:
    return load_settings(home, environ={}, overrides={"catalog": {"url": database_url}})


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def cli_env(home: Path, database_url: str, **extra: Any) -> dict[str, str]:
    """Environment for running ``kholuu`` in a subprocess against this test's home and database."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KHOLUU_") or k == "KHOLUU_STRICT_MESSAGES"
    }
    env.update({"KHOLUU_HOME": str(home), "KHOLUU_DATABASE_URL": database_url, "KHOLUU_LANG": "en"})
    env.update({k: str(v) for k, v in extra.items()})
    return env
