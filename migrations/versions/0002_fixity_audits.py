"""fixity audits: last check per copy, audit runs and findings, incidents, leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

A fixity audit picks the copies whose last check is oldest (index on location, last_checked_at),
so the cost of choosing grows with what is due, not with the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_lease',
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=300), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('location', name=op.f('pk_audit_lease'))
    )
    op.create_table('audit_run',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=True),
    sa.Column('holder', sa.String(length=300), nullable=False),
    sa.Column('copies_checked', sa.Integer(), nullable=False),
    sa.Column('files_checked', sa.Integer(), nullable=False),
    sa.Column('bytes_checked', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('repaired', sa.Integer(), nullable=False),
    sa.Column('incidents', sa.Integer(), nullable=False),
    sa.Column('could_not_check', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_run'))
    )
    with op.batch_alter_table('audit_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_run_started_at'), ['started_at'], unique=False)

    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_aip_id'), ['aip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_status'), ['status'], unique=False)

    op.create_table('audit_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('aip_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('repair', sa.String(length=30), nullable=False),
    sa.Column('repaired_from', sa.String(length=100), nullable=True),
    sa.Column('event_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['audit_run.id'], name=op.f('fk_audit_finding_run_id_audit_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_finding'))
    )
    with op.batch_alter_table('audit_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_finding_aip_id'), ['aip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_finding_run_id'), ['run_id'], unique=False)

    with op.batch_alter_table('copy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('check_outcome', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_copy_location_last_checked_at', ['location', 'last_checked_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('copy', schema=None) as batch_op:
        batch_op.drop_index('ix_copy_location_last_checked_at')
        batch_op.drop_column('check_outcome')
        batch_op.drop_column('last_checked_at')

    with op.batch_alter_table('audit_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_finding_run_id'))
        batch_op.drop_index(batch_op.f('ix_audit_finding_aip_id'))

    op.drop_table('audit_finding')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_status'))
        batch_op.drop_index(batch_op.f('ix_incident_aip_id'))

    op.drop_table('incident')
    with op.batch_alter_table('audit_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_run_started_at'))

    op.drop_table('audit_run')
    op.drop_table('audit_lease')
