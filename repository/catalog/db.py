"""Engines, sessions and schema migrations of the catalog.

The schema is owned by Alembic (``migrations/``): ``kholuu init`` upgrades to head, and every
command refuses to run on a catalog that is not at head, naming the revision it found, because
running new code on an old schema fails in ways that are hard to explain to an operator.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from preservation.errors import ErrorKind, KholuuError
from preservation.shipped import shipped_dir

MIGRATIONS_DIR = shipped_dir("migrations")


class CatalogError(KholuuError):
    """The catalog cannot be used: not initialised, at a different schema revision, not a database
    (a configuration problem), or locked by another process (``kind`` unavailable)."""

    code = "catalog.error"
    kind = ErrorKind.USAGE


def catalog_problem(exc: SQLAlchemyError, *, where: str) -> CatalogError:
    """What a database error says about the catalog, as a coded error a user can act on.

    The CLI calls this for any SQLAlchemy error that reaches a command, so a catalog
    that is locked by another process, is not a database, cannot be opened or cannot be reached
    is a sentence and an exit code (issue 11 item 9), never a traceback. (The web app answers
    every catalog error with its "catalog unavailable" page.)

    Args:
        exc: the error SQLAlchemy raised.
        where: the catalog as the user knows it (a file, or a URL without its password).
    """
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    problem = text.splitlines()[0] if text else type(exc).__name__
    lowered = problem.lower()
    params = {"where": where, "problem": problem}
    if "database is locked" in lowered or "lock" in type(orig).__name__.lower() or "lock timeout" in lowered:
        code, kind = "catalog.locked", ErrorKind.UNAVAILABLE
    elif "not a database" in lowered or "malformed" in lowered or "file is encrypted" in lowered:
        code, kind = "catalog.not_a_database", ErrorKind.USAGE
    elif "unable to open database file" in lowered or "readonly database" in lowered:
        code, kind = "catalog.cannot_open", ErrorKind.USAGE
    elif isinstance(exc, OperationalError | InterfaceError):
        code, kind = "catalog.unavailable", ErrorKind.UNAVAILABLE  # a server down, a network cut
    else:
        code, kind = "catalog.failed", ErrorKind.FAILED
    error = CatalogError(f"catalog {where}: {problem}", code=code, kind=kind, params=params)
    error.__cause__ = exc
    return error


def catalog_where(url: str) -> str:
    """The catalog as the user knows it: its file, or its URL without the password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "—"
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database
    return parsed.render_as_string(hide_password=True)


EXACT_FUNCTION = "kholuu_exact"


def exact_text(text: str | None) -> str | None:
    """NFC, case-folded, white space collapsed: the form a quoted search phrase is compared in
    (SQLite function ``kholuu_exact``; PostgreSQL uses ``lower`` and ``regexp_replace``)."""
    if text is None:
        return None
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return " ".join(folded.split())


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout (several processes may
    read while an ingest writes)."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()
            # SQLite's lower() knows ASCII only: quoted search phrases compare in this form instead
            dbapi_conn.create_function(EXACT_FUNCTION, 1, exact_text, deterministic=True)

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> str:
    """Bring the schema to head; returns the head revision."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return head_revision()


@cache
def head_revision() -> str:
    """The newest migration's revision. The migrations are files shipped with this code, so it is
    read once per process (reading them runs every migration module: 15 ms for every command)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_current(engine: Engine, *, where: Path | str) -> None:
    """Raise :class:`CatalogError` unless the catalog exists and is at head."""
    current = current_revision(engine)
    if current is None:
        raise CatalogError(
            f"the catalog at {where} is not initialised: run `kholuu init`",
            code="catalog.not_initialised",
            params={"where": str(where)},
        )
    head = head_revision()
    if current != head:
        raise CatalogError(
            f"the catalog at {where} is at schema revision {current}, this program needs {head}: "
            "run `kholuu init` to upgrade",
            code="catalog.wrong_revision",
            params={"where": str(where), "current": current, "head": head},
        )
