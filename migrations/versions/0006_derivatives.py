"""derivatives: preservation and access copies made by preservation planning (issue 12)

Revision ID: 0006_derivatives
Revises: 0005_event_detail_code
Create Date: 2026-12-07

- ``file.role`` gains ``derivative`` (a file made by a policy action, not submitted).
- ``file.derived_from``: the uuid of the file a derivative was made from (PREMIS derivation).
- ``file.action``: the fingerprint of the policy action that made it, so ``kholuu migrate`` can
  tell which derivatives a policy change makes stale.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_derivatives'
down_revision: str | None = '0005_event_detail_code'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "role IN ('original', 'metadata', 'package')"
_NEW = "role IN ('original', 'metadata', 'package', 'derivative')"


def upgrade() -> None:
    with op.batch_alter_table('file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('derived_from', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('action', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_file_derived_from', ['derived_from'], unique=False)
        batch_op.drop_constraint('filerole', type_='check')
        batch_op.create_check_constraint('filerole', sa.text(_NEW))


def downgrade() -> None:
    with op.batch_alter_table('file', schema=None) as batch_op:
        batch_op.drop_constraint('filerole', type_='check')
        batch_op.create_check_constraint('filerole', sa.text(_OLD))
        batch_op.drop_index('ix_file_derived_from')
        batch_op.drop_column('action')
        batch_op.drop_column('derived_from')
