"""language-neutral PREMIS event details (issue 11 item 16)

Revision ID: 0005_event_detail_code
Revises: 0004_ops
Create Date: 2026-12-07

- ``event.detail_code`` and ``event.detail_params``: what an event did as a message code and its
  values, so that it is shown in the reader's language; the English ``detail`` stays. Existing rows
  keep NULL and show their English detail.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_event_detail_code'
down_revision: str | None = '0004_ops'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail_code', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('detail_params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('detail_params')
        batch_op.drop_column('detail_code')
