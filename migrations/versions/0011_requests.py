"""dissemination requests: a reader's request, its decision, its DIP and download link (issue 13)

Revision ID: 0011_requests
Revises: 0010_catalog
Create Date: 2026-12-07

- ``dissemination_request``: requester (name, contact, the account of a logged-in requester),
  the AIP and record codes, the TT 05 Phụ lục V request fields, the status
  (``workflows.access.requests``), who decided, the decision number or the refusal's reason,
  the job that built the DIP, the ZIP's location, size and SHA-256, the SHA-256 of the download
  token and of the reader's follow-up key (never the secrets), the link's expiry, the count of
  complete downloads and the timestamps.

Chained after ``0008_auth`` (it refers to ``user_account``); the lead re-chains at merge.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_requests'
down_revision: str | None = '0010_catalog'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ('submitted', 'approved', 'refused', 'building', 'ready', 'downloaded', 'expired', 'failed')


def upgrade() -> None:
    op.create_table('dissemination_request',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum(*STATUSES, name='requeststatus', native_enum=False, length=20, create_constraint=True), nullable=False),
    sa.Column('requester_name', sa.String(length=200), nullable=False),
    sa.Column('requester_contact', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by', sa.String(length=300), nullable=False),
    sa.Column('aip_id', sa.String(length=64), nullable=False),
    sa.Column('record_codes', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.String(length=2), nullable=False),
    sa.Column('purpose_content', sa.Text(), nullable=False),
    sa.Column('fee_object', sa.String(length=2), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('follow_key_hash', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=300), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_number', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('dip_id', sa.String(length=64), nullable=False),
    sa.Column('dip_path', sa.Text(), nullable=False),
    sa.Column('dip_bytes', sa.BigInteger(), nullable=True),
    sa.Column('dip_sha256', sa.String(length=64), nullable=False),
    sa.Column('failure', sa.Text(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('download_count', sa.Integer(), nullable=False),
    sa.Column('downloaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_dissemination_request_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dissemination_request')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_dissemination_request_token_hash'))
    )
    with op.batch_alter_table('dissemination_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dissemination_request_aip_id'), ['aip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dissemination_request_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_dissemination_request_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dissemination_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dissemination_request_user_id'))
        batch_op.drop_index(batch_op.f('ix_dissemination_request_status'))
        batch_op.drop_index(batch_op.f('ix_dissemination_request_aip_id'))
    op.drop_table('dissemination_request')
