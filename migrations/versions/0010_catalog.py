"""full-text index over the descriptions of hồ sơ and tài liệu, for the public catalog (issue 13)

Revision ID: 0010_catalog
Revises: 0009_auditlog
Create Date: 2026-12-08

- What is indexed: the folded title (``title_search``, already without diacritics, đ → d,
  case-folded), the code as received (lower case) and, for a tài liệu, its số/ký hiệu
  (``number_search``), with every run of characters that are not letters or digits made one space,
  as :func:`preservation.planning.text.search_form` does for file text, so that "H49.64.33.2001"
  is the words ``h49 64 33 2001`` in the index and in a query alike.
- PostgreSQL: a stored generated ``tsvector`` column ``record_fts_vector`` on ``dossier`` and on
  ``document`` (``to_tsvector('simple', …)``) with a GIN index each; no data fill is needed, a
  generated column is computed for the rows already there.
- SQLite: contentless FTS5 tables ``record_fts_dossier`` and ``record_fts_document`` (rowid = the
  record's id) kept in step by triggers, filled from the rows already there.
- Every object is named ``record_fts*``, so schema comparisons with the models skip them
  (``repository.catalog.file_text.is_index_object``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_catalog'
down_revision: str | None = '0009_auditlog'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: table → the SQL expression of its indexed text (``{row}`` is the row alias in a trigger)
_TEXT = {
    'dossier': "{row}title_search || ' ' || lower({row}code)",
    'document': "{row}title_search || ' ' || {row}number_search || ' ' || lower({row}doc_code)",
}


def _postgres() -> list[str]:
    statements = []
    for table, text in _TEXT.items():
        expression = text.format(row='')
        statements += [
            f"ALTER TABLE {table} ADD COLUMN record_fts_vector tsvector GENERATED ALWAYS AS "
            f"(to_tsvector('simple'::regconfig, regexp_replace({expression}, '[^[:alnum:]]+', ' ', 'g'))) STORED",
            f"CREATE INDEX record_fts_{table}_gin ON {table} USING gin (record_fts_vector)",
        ]
    return statements


def _sqlite() -> list[str]:
    statements = []
    for table, text in _TEXT.items():
        fts = f'record_fts_{table}'
        new, old = text.format(row='new.'), text.format(row='old.')
        delete = f"INSERT INTO {fts}({fts}, rowid, body) VALUES ('delete', old.id, {old});"
        insert = f"INSERT INTO {fts}(rowid, body) VALUES (new.id, {new});"
        statements += [
            f"CREATE VIRTUAL TABLE {fts} USING fts5(body, content='', "
            "tokenize='unicode61 remove_diacritics 0')",
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
            f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {table} BEGIN {delete} {insert} END",
            f"INSERT INTO {fts}(rowid, body) SELECT id, {text.format(row='')} FROM {table}",
        ]
    return statements


def _sqlite_has_fts5() -> bool:
    if op.get_context().as_sql:
        return True
    bind = op.get_bind()
    return bool(bind.execute(sa.text("SELECT sqlite_compileoption_used('ENABLE_FTS5')")).scalar())


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == 'postgresql':
        for statement in _postgres():
            op.execute(statement)
    elif dialect == 'sqlite' and _sqlite_has_fts5():
        for statement in _sqlite():
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    for table in _TEXT:
        if dialect == 'postgresql':
            op.execute(f'DROP INDEX IF EXISTS record_fts_{table}_gin')
            op.execute(f'ALTER TABLE {table} DROP COLUMN IF EXISTS record_fts_vector')
        elif dialect == 'sqlite':
            for suffix in ('ai', 'ad', 'au'):
                op.execute(f'DROP TRIGGER IF EXISTS record_fts_{table}_{suffix}')
            op.execute(f'DROP TABLE IF EXISTS record_fts_{table}')
