"""the job queue: queued and dead jobs, attempts, live progress; procrastinate's tables on PostgreSQL

Revision ID: 0013_queue
Revises: 0012_public_search
Create Date: 2026-12-07

- ``job``: statuses ``queued`` (waiting for a worker) and ``dead`` (failed on every attempt the
  queue allows: the dead letter); ``attempt`` (1, 2, ...; None outside the queue), ``retry_of``
  (a later attempt's first attempt, whose id the submitter holds) and ``progress`` (what the
  running step is doing, for any process to show).
- On PostgreSQL only: procrastinate's schema (``migrations/sql/procrastinate-3.10.0.sql``, the
  file procrastinate 3.10.0 ships as ``procrastinate/sql/schema.sql``, kept here so this migration
  never changes when the package is upgraded; a later procrastinate's own migration files become
  later revisions). Its objects are all named ``procrastinate_*`` and unqualified, so they are made
  in the catalog's schema (the first of the connection's ``search_path``) beside our tables. SQLite
  catalogs run jobs in-process and have no queue tables (workflows/jobs/queue.py).

Chained after ``0012_public_search``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

revision: str = '0013_queue'
down_revision: str | None = '0012_public_search'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ('running', 'completed', 'failed', 'refused', 'interrupted')
NEW = ('queued', 'running', 'completed', 'failed', 'refused', 'interrupted', 'dead')
PROCRASTINATE_SQL = Path(__file__).resolve().parents[1] / 'sql' / 'procrastinate-3.10.0.sql'
PROCRASTINATE_TABLES = ('procrastinate_events', 'procrastinate_periodic_defers', 'procrastinate_jobs',
                        'procrastinate_workers')
PROCRASTINATE_TYPES = ('procrastinate_job_to_defer_v1', 'procrastinate_job_event_type',
                       'procrastinate_job_status')


def _status(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name='jobstatus', native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retry_of', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('progress', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_job_retry_of'), ['retry_of'], unique=False)
        batch_op.alter_column('status', existing_type=_status(OLD), type_=_status(NEW),
                              existing_nullable=False)
    if op.get_context().dialect.name == 'postgresql':
        _execute(PROCRASTINATE_SQL.read_text(encoding='utf-8'))


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        functions = (
            "DO $$ DECLARE f record; BEGIN FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname LIKE 'procrastinate\\_%' "
            "AND n.nspname = current_schema() LOOP EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE'; "
            "END LOOP; END $$;"
        )
        _execute(
            ''.join(f'DROP TABLE IF EXISTS {t} CASCADE;\n' for t in PROCRASTINATE_TABLES)
            + functions
            + ''.join(f'\nDROP TYPE IF EXISTS {t} CASCADE;' for t in PROCRASTINATE_TYPES)
        )
    op.execute("UPDATE job SET status = 'failed' WHERE status IN ('queued', 'dead')")
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_status(NEW), type_=_status(OLD),
                              existing_nullable=False)
        batch_op.drop_index(batch_op.f('ix_job_retry_of'))
        batch_op.drop_column('progress')
        batch_op.drop_column('retry_of')
        batch_op.drop_column('attempt')


def _execute(sql: str) -> None:
    """Run a whole SQL script as it is: through the driver without parameters online (its ``%``
    signs are RAISE placeholders, not bind parameters), written out as it is offline."""
    if context.is_offline_mode():
        op.execute(sql)
        return
    op.get_bind().connection.driver_connection.execute(sql)  # type: ignore[union-attr]
