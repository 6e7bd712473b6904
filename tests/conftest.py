"""Shared fixtures: settings → database (SQLite | PostgreSQL) → sessions.

Every catalog test runs on both backends. PostgreSQL is the production database: each test gets
its own schema in the ``test`` database (created and dropped around the test), so tests never see
each other's rows. Where no PostgreSQL server answers, that leg is skipped with the reason printed
(``-ra`` shows it in the summary).
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic_command
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.cli import main as cli
from repository.catalog.db import alembic_config, make_engine, session_factory, upgrade
from repository.settings import Settings, load_settings
from tests import s3 as s3test

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


def uses_s3(item: pytest.Node) -> bool:
    """Whether a test talks to the S3 test server (its module or its parameters say so)."""
    return (
        "s3" in item.nodeid.split("::")[0].rsplit("/", 1)[-1]
        or "s3" in item.name.split("[")[0].split("_")
        or "s3" in getattr(getattr(item, "callspec", None), "params", {}).values()
    )


@pytest.fixture(autouse=True)
def s3_gateway_in_use(request: pytest.FixtureRequest) -> Iterator[None]:
    """An S3 test holds the gateway shared for its whole run; a test that stops the gateway holds
    it alone while it is down (``tests/s3.py``). Under pytest-xdist the other worker's S3 test
    therefore waits instead of failing; without workers this costs nothing."""
    if not uses_s3(request.node):
        yield
        return
    with s3test.gateway_shared():
        yield


@contextmanager
def module_catalog(request: pytest.FixtureRequest, root: Path) -> Iterator[str]:
    """The catalog URL for a module-scoped fixture parametrized ``["sqlite", "postgresql"]``: a
    SQLite file under ``root``, or a PostgreSQL schema of its own (skipped, saying why, when the
    server cannot be used)."""
    if request.param == "postgresql":
        problem = postgres_problem()
        if problem:
            pytest.skip(reason=f"PostgreSQL leg skipped: {problem}")
        with postgres_schema() as url:
            yield url
        return
    yield f"sqlite:///{root / 'catalog.sqlite3'}"


@contextmanager
def another_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same backend as ``database_url`` (as tests/conftest.py makes one)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'rebuilt.sqlite3'}"
        return
    with postgres_schema("kholuu_r") as url:
        yield url


def write_home_config(
    home: Path,
    extra: str = "",
    *,
    ocr: bool = False,
    normalize: bool = False,
    planning: str = "",
    jobs: str = 'dispatch = "inline"',
) -> None:
    """A data folder's kholuu.toml for tests: EICAR-only virus signatures, and OCR and normalization
    off unless a test asks for them (OCRmyPDF takes seconds a page, LibreOffice, Ghostscript and
    FFmpeg seconds a file; only the tests of preservation planning pay for them). ``planning``:
    more ``[planning]`` keys. ``jobs``: the ``[jobs]`` keys; by default jobs run in the asking
    process on PostgreSQL too (no worker runs in a test unless it starts one: tests/jobs/)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "kholuu.toml").write_text(
        f'[virus_check]\ndatabase = "{TEST_SIGNATURES}"\n[jobs]\n{jobs}\n'
        f"[planning]\nocr = {str(ocr).lower()}\nnormalize = {str(normalize).lower()}\n{planning}" + extra,
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


class HeadSchema:
    """The catalog schema at head, made by Alembic once per session (per worker) and laid into each
    test's empty database: a copy of the migrated SQLite file, or on PostgreSQL the migrations'
    own SQL (Alembic's offline mode) run in the test's schema. Running the migrations for every
    test cost 0.07 s on SQLite and 0.17 s on PostgreSQL; the copy costs about 1 ms and the SQL
    0.1 s. The migrations themselves are still run by ``kholuu init`` in every CLI test and checked
    against the models by ``tests/catalog/test_catalog.py``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._postgres: str | None = None

    def sqlite_file(self) -> Path:
        if self._sqlite is None:
            path = self.folder / "head.sqlite3"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            engine.dispose()
            self._sqlite = path
        return self._sqlite

    def postgres_sql(self) -> str:
        if self._postgres is None:
            buffer = io.StringIO()
            config = alembic_config(POSTGRES_URL)
            config.output_buffer = buffer
            alembic_command.upgrade(config, "head", sql=True)
            skip = {"BEGIN;", "COMMIT;"}  # run inside the caller's transaction
            self._postgres = "\n".join(x for x in buffer.getvalue().splitlines() if x.strip() not in skip)
        return self._postgres

    def install(self, engine: Engine) -> None:
        """Bring the empty catalog of ``engine`` to head."""
        if engine.dialect.name == "sqlite":
            target = Path(str(engine.url.database))
            assert not target.exists(), f"{target} is not an empty catalog"
            shutil.copyfile(self.sqlite_file(), target)
            return
        with engine.begin() as conn:
            conn.exec_driver_sql(self.postgres_sql())


@pytest.fixture(scope="session")
def head_schema(tmp_path_factory: pytest.TempPathFactory) -> HeadSchema:
    return HeadSchema(tmp_path_factory.mktemp("catalog-head"))


@pytest.fixture
def engine(settings: Settings, head_schema: HeadSchema) -> Iterator[Engine]:
    eng = make_engine(settings.database_url)
    head_schema.install(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def cli_env(home: Path, database_url: str, **extra: Any) -> dict[str, str]:
    """Environment for running ``kholuu`` against this test's home and database (in-process with
    :func:`run_cli`, or in a subprocess)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KHOLUU_") or k == "KHOLUU_STRICT_MESSAGES"
    }
    env.update({"KHOLUU_HOME": str(home), "KHOLUU_DATABASE_URL": database_url, "KHOLUU_LANG": "en"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


KHOLUU = str(Path(sys.executable).parent / "kholuu")


@dataclass(frozen=True)
class CliRun:
    """What an operator sees of one ``kholuu`` run: the shape of ``subprocess.CompletedProcess``,
    so a test reads the same whether the command ran in-process or in a real process."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: Mapping[str, str], input: str | None = None) -> CliRun:
    """Run ``kholuu ARGS`` in this process (click's ``CliRunner``) with exactly the environment
    ``env``, as ``subprocess.run([KHOLUU, *args], env=env)`` would, about 50 times faster.

    The ``KHOLUU_*`` variables of the test process that ``env`` does not name are unset for the run
    (a subprocess would not see them either), and the environment is restored afterwards. An
    exception the command does not handle ends the run with exit code 1 and its traceback on
    stderr, as the interpreter does. Use a real process (:data:`KHOLUU`) only where the test must
    see one: a kill, a signal, a terminal, ``serve``, or two commands running at once. ``input``
    is what the command reads on standard input (a password typed at a prompt)."""
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("KHOLUU_")}
    overrides.update(env)
    result = CliRunner().invoke(cli.main, list(args), env=overrides, catch_exceptions=True, input=input)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return CliRun(tuple(args), result.exit_code, result.stdout, stderr)
