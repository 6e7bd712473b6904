"""Alembic environment: runs on a connection handed in by repository.catalog.db.upgrade, or on
the URL in the config (``alembic -x url=...`` from the command line for developers)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from repository.catalog import (
    accounts,  # noqa: F401  (staff accounts, API tokens, failed logins, 0008)
    file_text,  # noqa: F401  (the text of payload files for search, 0006)
    models,  # noqa: F401  (registers the tables on Base.metadata)
    public_records,  # noqa: F401  (the public records search reads, 0012_public_search)
    records,  # noqa: F401  (the archival description tables, 0003)
    requests,  # noqa: F401  (dissemination requests, 0011_requests)
)
from repository.catalog.base import Base
from repository.catalog.file_text import include_in_comparison

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_in_comparison,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
