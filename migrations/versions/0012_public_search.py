"""the public records, kept by the database: what the public catalog searches (issue 13, issue 14)

Revision ID: 0012_public_search
Revises: 0011_requests
Create Date: 2026-12-08

- ``public_record``: one row per public hồ sơ (``kind`` 0) and per public tài liệu (``kind`` 1),
  with the facet keys the public search counts (type, phông, source agency, year) and, on
  PostgreSQL, ``record_fts_vector``: the record's own full-text vector (0010_catalog) plus one
  lexeme per facet value (``@tdoc``, ``@f12``, ``@a7``, ``@y1990``; the folded words of text and
  queries are letters and digits only, so they never collide), with one GIN index (one per kind
  let the planner AND it with a scan of the whole primary key for ``kind = 1``: 180 ms at a
  million rows). A search is then one index lookup on one table, narrowed by facets inside the
  index, instead of
  the public rule evaluated per row with four joins (bench/bench_public_search.py).
- On PostgreSQL a tài liệu's vector also holds the words of the texts of the files carrying it
  (``file_text_fts_vector``, folded as the descriptions are; several files merged by
  ``public_record_rule_merge`` without shifting positions), so a word found only in OCR or
  extracted text is the same one lookup; triggers on ``file_text`` and ``document_file`` re-copy
  the tài liệu a file carries. A closed tài liệu is no row, so neither are its files' words.
- ``public_record_rule``: a view, the public rule in SQL (``workflows/access/public.py``
  ``PublicRules`` states the same rule for the other public surfaces; a test compares them): a
  hồ sơ of mức độ tiếp cận 01, not superseded, with no unlifted restriction and its AIP stored or
  degraded; a tài liệu of mode 01 (or empty) without unlifted restriction, in such a hồ sơ.
- Triggers on ``dossier``, ``document``, ``access_restriction`` and ``aip`` delete and re-insert
  the affected rows from the view **in the statement that changed them**, so a restriction, a
  change of mức độ tiếp cận or an AIP leaving the holdings takes effect in the same transaction,
  whoever writes (ORM, bulk SQL, a catalog rebuild). The data fill at the end of the upgrade, and
  ``repository.catalog.public_records.refresh_public_records``, copy the whole view.
- Objects other than the table are named ``public_record_rule*`` (view, functions, triggers) or
  ``record_fts*`` (the vector column and its indexes), so schema comparisons skip them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_public_search'
down_revision: str | None = '0011_requests'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HELD = "('stored', 'degraded')"
_PUBLIC_DOSSIER = (
    "d.mode = '01' AND d.superseded_by_id IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM access_restriction r WHERE r.dossier_id = d.id AND r.lifted_on IS NULL) "
    f"AND EXISTS (SELECT 1 FROM aip a WHERE a.id = d.aip_id AND a.status IN {_HELD})"
)
_PUBLIC_DOCUMENT = (
    "(t.mode = '01' OR t.mode = '') "
    "AND NOT EXISTS (SELECT 1 FROM access_restriction r WHERE r.document_id = t.id AND r.lifted_on IS NULL) "
    f"AND {_PUBLIC_DOSSIER}"
)
_COLUMNS = "kind, record_id, dossier_id, type, fonds_id, agency_id, year"


def _facets(kind: str) -> str:
    """The facet lexemes of a row (PostgreSQL): ``kind`` is the SQL of its type."""
    return (
        f"array_to_tsvector(array_remove(ARRAY['@t' || {kind}, '@f' || d.fonds_id::text, "
        "'@a' || d.agency_id::text, '@y' || d.year::text], NULL))"
    )


#: PostgreSQL: the words of the texts of the files carrying tài liệu ``t`` (their own vectors,
#: file_text_fts_vector), merged by :data:`_MERGE`
_FILE_WORDS = (
    "(SELECT public_record_rule_merge(array_agg(ft.file_text_fts_vector)) FROM document_file df "
    "JOIN file_text ft ON ft.file_uuid = df.file_uuid WHERE df.document_id = t.id)"
)
#: PostgreSQL: one vector of several files' vectors, each lexeme at its positions in each file
#: (``||`` would shift each next file past the last position of the one before, up to the cap of
#: 16 383, and a phrase in a second long file would no longer be found in word order); a phrase
#: across two files is a candidate the check as written then drops. None, one: as they are. Past
#: 900 000 bytes (a tsvector holds at most 1 MB; many long files) the lexemes without positions:
#: a phrase of them is then a candidate whatever the order, checked as written all the same.
_MERGE = (
    "CREATE FUNCTION public_record_rule_merge(vectors tsvector[]) RETURNS tsvector "
    "LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ DECLARE merged tsvector; BEGIN "
    "IF vectors IS NULL THEN RETURN ''::tsvector; END IF; "
    "IF cardinality(vectors) = 1 THEN RETURN vectors[1]; END IF; "
    "BEGIN "
    "SELECT coalesce(string_agg(format('%L:%s', w.lexeme, w.at), ' '), '')::tsvector INTO merged FROM ("
    "SELECT u.lexeme, string_agg(DISTINCT p::text, ',') AS at FROM unnest(vectors) AS v(vector), "
    "unnest(v.vector) AS u, unnest(u.positions) AS p GROUP BY u.lexeme) AS w; "
    "IF pg_column_size(merged) <= 900000 THEN RETURN merged; END IF; "
    "EXCEPTION WHEN program_limit_exceeded THEN NULL; END; "
    "RETURN array_to_tsvector(ARRAY(SELECT DISTINCT u.lexeme FROM unnest(vectors) AS v(vector), "
    "unnest(v.vector) AS u)); END $$"
)


def _view(postgres: bool) -> str:
    dossier_vector = f", d.record_fts_vector || {_facets(repr('dossier'))}" if postgres else ""
    document_vector = f", t.record_fts_vector || {_FILE_WORDS} || {_facets('t.kind')}" if postgres else ""
    return (
        f"CREATE VIEW public_record_rule AS "
        f"SELECT 0 AS kind, d.id AS record_id, d.id AS dossier_id, 'dossier' AS type, d.fonds_id, d.agency_id, "
        f"d.year{dossier_vector} FROM dossier d WHERE {_PUBLIC_DOSSIER} "
        f"UNION ALL "
        f"SELECT 1, t.id, d.id, t.kind, d.fonds_id, d.agency_id, d.year{document_vector} "
        f"FROM document t JOIN dossier d ON d.id = t.dossier_id WHERE {_PUBLIC_DOCUMENT}"
    )


def _sync(dossier: str | None = None, document: str | None = None) -> list[str]:
    """Statements that re-copy the rows of hồ sơ ``dossier`` (with its tài liệu) and of tài liệu
    ``document`` from the rule (SQL expressions; a NULL value matches nothing)."""
    statements = []
    if dossier is not None:
        statements += [
            f"DELETE FROM public_record WHERE dossier_id = {dossier}",
            f"INSERT INTO public_record SELECT * FROM public_record_rule WHERE dossier_id = {dossier}",
        ]
    if document is not None:
        statements += [
            f"DELETE FROM public_record WHERE kind = 1 AND record_id = {document}",
            f"INSERT INTO public_record SELECT * FROM public_record_rule WHERE kind = 1 AND record_id = {document}",
        ]
    return statements


#: trigger suffix → (table, event, statements); ``{row}`` is NEW or OLD
_TRIGGERS: dict[str, tuple[str, str, list[str]]] = {
    'dossier_ai': ('dossier', 'INSERT', _sync(dossier='NEW.id')),
    'dossier_au': (
        'dossier',
        'UPDATE OF id, aip_id, mode, superseded_by_id, fonds_id, agency_id, year, title_search, code',
        _sync(dossier='OLD.id')[:1] + _sync(dossier='NEW.id'),
    ),
    'dossier_ad': ('dossier', 'DELETE', _sync(dossier='OLD.id')[:1]),
    'document_ai': ('document', 'INSERT', _sync(document='NEW.id')),
    'document_au': (
        'document',
        'UPDATE OF id, dossier_id, kind, mode, title_search, number_search, doc_code',
        _sync(document='OLD.id')[:1] + _sync(document='NEW.id'),
    ),
    'document_ad': ('document', 'DELETE', _sync(document='OLD.id')[:1]),
    'restriction_ai': ('access_restriction', 'INSERT', _sync('NEW.dossier_id', 'NEW.document_id')),
    'restriction_au': (
        'access_restriction',
        'UPDATE',
        _sync('OLD.dossier_id', 'OLD.document_id') + _sync('NEW.dossier_id', 'NEW.document_id'),
    ),
    'restriction_ad': ('access_restriction', 'DELETE', _sync('OLD.dossier_id', 'OLD.document_id')),
    'aip_au': (
        'aip',
        'UPDATE OF status',
        [
            "DELETE FROM public_record WHERE dossier_id IN (SELECT id FROM dossier WHERE aip_id = NEW.id)",
            "INSERT INTO public_record SELECT * FROM public_record_rule "
            "WHERE dossier_id IN (SELECT id FROM dossier WHERE aip_id = NEW.id)",
        ],
    ),
}


_CARRIED = "SELECT document_id FROM document_file WHERE file_uuid = {row}.file_uuid"


def _sync_carried(row: str) -> list[str]:
    """Statements that re-copy the tài liệu carried by the file of text row ``row`` (NEW, OLD)."""
    carried = _CARRIED.format(row=row)
    return [
        f"DELETE FROM public_record WHERE kind = 1 AND record_id IN ({carried})",
        f"INSERT INTO public_record SELECT * FROM public_record_rule WHERE kind = 1 AND record_id IN ({carried})",
    ]


#: PostgreSQL only: the vector of a tài liệu holds the words of its files' texts (SQLite searches
#: them in their own FTS5 index)
_FILE_TRIGGERS: dict[str, tuple[str, str, list[str]]] = {
    'file_text_ai': ('file_text', 'INSERT', _sync_carried('NEW')),
    'file_text_au': (
        'file_text',
        'UPDATE OF file_uuid, text_folded',
        _sync_carried('OLD')[:1] + _sync_carried('NEW'),
    ),
    'file_text_ad': ('file_text', 'DELETE', _sync_carried('OLD')),
    'document_file_ai': ('document_file', 'INSERT', _sync(document='NEW.document_id')),
    'document_file_au': (
        'document_file',
        'UPDATE OF document_id, file_uuid',
        _sync(document='OLD.document_id') + _sync(document='NEW.document_id'),
    ),
    'document_file_ad': ('document_file', 'DELETE', _sync(document='OLD.document_id')),
}


def _postgres() -> list[str]:
    statements = [
        "ALTER TABLE public_record ADD COLUMN record_fts_vector tsvector NOT NULL",
        _MERGE,
        _view(postgres=True),
        "CREATE INDEX record_fts_public_gin ON public_record USING gin (record_fts_vector)",
    ]
    for name, (table, event, body) in {**_TRIGGERS, **_FILE_TRIGGERS}.items():
        function = f'public_record_rule_{name}'
        returned = 'OLD' if event == 'DELETE' else 'NEW'
        code = ' '.join(f'{s};' for s in body)
        statements += [
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {code} RETURN {returned}; END $$",
            f"CREATE TRIGGER {function} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
        ]
    return statements


def _sqlite() -> list[str]:
    statements = [_view(postgres=False)]
    for name, (table, event, body) in _TRIGGERS.items():
        code = ' '.join(f'{s};' for s in body)
        statements.append(f"CREATE TRIGGER public_record_rule_{name} AFTER {event} ON {table} BEGIN {code} END")
    return statements


def upgrade() -> None:
    op.create_table('public_record',
    sa.Column('kind', sa.SmallInteger(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('fonds_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('kind', 'record_id', name=op.f('pk_public_record'))
    )
    with op.batch_alter_table('public_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_record_dossier_id'), ['dossier_id'], unique=False)
    dialect = op.get_context().dialect.name
    for statement in _postgres() if dialect == 'postgresql' else _sqlite():
        op.execute(statement)
    op.execute("INSERT INTO public_record SELECT * FROM public_record_rule")


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    triggers = {**_TRIGGERS, **_FILE_TRIGGERS} if dialect == 'postgresql' else _TRIGGERS
    for name, (table, _, _) in triggers.items():
        op.execute(f'DROP TRIGGER IF EXISTS public_record_rule_{name} ON {table}' if dialect == 'postgresql'
                   else f'DROP TRIGGER IF EXISTS public_record_rule_{name}')
        if dialect == 'postgresql':
            op.execute(f'DROP FUNCTION IF EXISTS public_record_rule_{name}()')
    op.execute('DROP VIEW IF EXISTS public_record_rule')
    if dialect == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS public_record_rule_merge(tsvector[])')
    with op.batch_alter_table('public_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_public_record_dossier_id'))
    op.drop_table('public_record')
