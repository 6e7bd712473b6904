"""text of payload files for search, with a full-text index (issue 12, OCR and search)

Revision ID: 0007_file_text
Revises: 0006_derivatives
Create Date: 2026-12-08

- ``file_text``: per payload file, the text extracted or recognized (OCR) and its folded form
  (no diacritics, đ → d, case-folded; ``preservation.planning.text.search_form``), with how it was
  obtained and the OCR confidence.
- Full-text index over ``text_folded``: on PostgreSQL a stored generated column
  ``file_text_fts_vector = to_tsvector('simple', text_folded)`` with a GIN index (the folding is
  done by Kho Lưu, so neither ``unaccent`` nor a language configuration is needed; stored, because
  an expression index left ``ts_rank`` and the planner's seq scans re-parsing every text: 32 s
  against 0.6 ms for 5 000 files in bench/bench_search.py); on SQLite an external-content FTS5 table
  ``file_text_fts`` kept in step by three triggers (on a SQLite built without FTS5 search falls
  back to LIKE over ``text_folded``). Both are named ``file_text_fts*`` so that schema
  comparisons with the models skip them (``repository.catalog.file_text.is_index_object``).
- No data fill: the table starts empty (texts of AIPs stored before this revision are extracted
  again by a later re-index, docs/planning.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_file_text'
down_revision: str | None = '0006_derivatives'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE file_text_fts USING fts5("
    "text_folded, content='file_text', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER file_text_fts_ai AFTER INSERT ON file_text BEGIN "
    "INSERT INTO file_text_fts(rowid, text_folded) VALUES (new.id, new.text_folded); END",
    "CREATE TRIGGER file_text_fts_ad AFTER DELETE ON file_text BEGIN "
    "INSERT INTO file_text_fts(file_text_fts, rowid, text_folded) VALUES ('delete', old.id, old.text_folded); END",
    "CREATE TRIGGER file_text_fts_au AFTER UPDATE ON file_text BEGIN "
    "INSERT INTO file_text_fts(file_text_fts, rowid, text_folded) VALUES ('delete', old.id, old.text_folded); "
    "INSERT INTO file_text_fts(rowid, text_folded) VALUES (new.id, new.text_folded); END",
]
POSTGRES_FTS = [
    "ALTER TABLE file_text ADD COLUMN file_text_fts_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text_folded)) STORED",
    "CREATE INDEX file_text_fts_gin ON file_text USING gin (file_text_fts_vector)",
]


def upgrade() -> None:
    op.create_table('file_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('file_uuid', sa.String(length=36), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('language', sa.String(length=40), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('pages_ocr', sa.Integer(), nullable=False),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_folded', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('extracted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['aip_id'], ['aip.id'], name=op.f('fk_file_text_aip_id_aip'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['file.id'], name=op.f('fk_file_text_file_id_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_text')),
    sa.UniqueConstraint('aip_id', 'file_uuid', name=op.f('uq_file_text_aip_id_file_uuid'))
    )
    with op.batch_alter_table('file_text', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_text_aip_id'), ['aip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_file_text_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_file_text_file_uuid'), ['file_uuid'], unique=False)
    _create_index()


def _create_index() -> None:
    dialect = op.get_context().dialect.name
    if dialect == 'postgresql':
        for statement in POSTGRES_FTS:
            op.execute(statement)
    elif dialect == 'sqlite' and _sqlite_has_fts5():
        for statement in SQLITE_FTS:
            op.execute(statement)


def _sqlite_has_fts5() -> bool:
    if op.get_context().as_sql:
        return True  # offline SQL is written for the SQLite this program runs with
    bind = op.get_bind()
    return bool(bind.execute(sa.text("SELECT sqlite_compileoption_used('ENABLE_FTS5')")).scalar())


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == 'postgresql':
        op.execute('DROP INDEX IF EXISTS file_text_fts_gin')
        op.execute('ALTER TABLE file_text DROP COLUMN IF EXISTS file_text_fts_vector')
    elif dialect == 'sqlite':
        for name in ('file_text_fts_ai', 'file_text_fts_ad', 'file_text_fts_au'):
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
        op.execute('DROP TABLE IF EXISTS file_text_fts')
    with op.batch_alter_table('file_text', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_text_file_uuid'))
        batch_op.drop_index(batch_op.f('ix_file_text_file_id'))
        batch_op.drop_index(batch_op.f('ix_file_text_aip_id'))
    op.drop_table('file_text')
