"""initial catalog: jobs, AIPs, files, copies, PREMIS events and agents

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Schema only: reference data lives in config/ (style guide item 5).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('version', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_agent_fingerprint'))
    )
    op.create_table('aip',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('objid', sa.Text(), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('storing', 'stored', 'degraded', 'failed', name='aipstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('package_kind', sa.String(length=20), nullable=False),
    sa.Column('container', sa.String(length=20), nullable=False),
    sa.Column('source_name', sa.Text(), nullable=False),
    sa.Column('payload_digest', sa.String(length=64), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=False),
    sa.Column('payload_bytes', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aip'))
    )
    op.create_index(op.f('ix_aip_job_id'), 'aip', ['job_id'], unique=False)
    op.create_index(op.f('ix_aip_payload_digest'), 'aip', ['payload_digest'], unique=False)
    op.create_index(op.f('ix_aip_status'), 'aip', ['status'], unique=False)

    op.create_table('job',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.Enum('running', 'completed', 'failed', 'refused', 'interrupted', name='jobstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('source_name', sa.Text(), nullable=False),
    sa.Column('aip_id', sa.String(length=64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('hostname', sa.String(length=255), nullable=True),
    sa.Column('quarantine_path', sa.Text(), nullable=True),
    sa.Column('error_code', sa.String(length=100), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('error_params', sa.JSON(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=True),
    sa.Column('total_bytes', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    op.create_index(op.f('ix_job_aip_id'), 'job', ['aip_id'], unique=False)
    op.create_index(op.f('ix_job_status'), 'job', ['status'], unique=False)

    op.create_table('aip_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['aip_id'], ['aip.id'], name=op.f('fk_aip_version_aip_id_aip'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aip_version')),
    sa.UniqueConstraint('aip_id', 'number', name=op.f('uq_aip_version_aip_id_number'))
    )
    op.create_table('copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('stored', 'pending', 'failed', name='copystatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('object_path', sa.Text(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['aip_id'], ['aip.id'], name=op.f('fk_copy_aip_id_aip'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_copy')),
    sa.UniqueConstraint('aip_id', 'version', 'location', name=op.f('uq_copy_aip_id_version_location'))
    )
    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('datetime', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('outcome_detail', sa.Text(), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('aip_id', sa.String(length=64), nullable=True),
    sa.Column('in_package', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['aip_id'], ['aip.id'], name=op.f('fk_event_aip_id_aip'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_event_job_id_job'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event')),
    sa.UniqueConstraint('identifier', name=op.f('uq_event_identifier'))
    )
    op.create_index(op.f('ix_event_aip_id'), 'event', ['aip_id'], unique=False)
    op.create_index(op.f('ix_event_job_id'), 'event', ['job_id'], unique=False)
    op.create_index(op.f('ix_event_type'), 'event', ['type'], unique=False)

    op.create_table('file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=True),
    sa.Column('role', sa.Enum('original', 'metadata', 'package', name='filerole', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('representation', sa.String(length=200), nullable=True),
    sa.Column('aip_path', sa.Text(), nullable=False),
    sa.Column('path_raw', sa.LargeBinary(), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('path_nfc', sa.Text(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('sha512', sa.String(length=128), nullable=False),
    sa.Column('puid', sa.String(length=40), nullable=True),
    sa.Column('format_name', sa.Text(), nullable=True),
    sa.Column('format_version', sa.String(length=100), nullable=True),
    sa.Column('mime', sa.String(length=200), nullable=True),
    sa.Column('identification_basis', sa.Text(), nullable=True),
    sa.Column('identification_warning', sa.Text(), nullable=True),
    sa.Column('validity', sa.String(length=20), nullable=True),
    sa.Column('characteristics', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['aip_id'], ['aip.id'], name=op.f('fk_file_aip_id_aip'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file')),
    sa.UniqueConstraint('aip_id', 'version', 'aip_path', name=op.f('uq_file_aip_id_version_aip_path'))
    )
    op.create_index('ix_file_aip_id_version', 'file', ['aip_id', 'version'], unique=False)
    op.create_index(op.f('ix_file_puid'), 'file', ['puid'], unique=False)
    op.create_index(op.f('ix_file_sha256'), 'file', ['sha256'], unique=False)
    op.create_index(op.f('ix_file_uuid'), 'file', ['uuid'], unique=False)

    op.create_table('job_error',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('step', sa.String(length=60), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('tool', sa.String(length=200), nullable=True),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('stderr', sa.Text(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_job_error_job_id_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_error'))
    )
    op.create_index(op.f('ix_job_error_job_id'), 'job_error', ['job_id'], unique=False)

    op.create_table('job_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('running', 'done', 'failed', name='stepstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_job_step_job_id_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_step')),
    sa.UniqueConstraint('job_id', 'name', name=op.f('uq_job_step_job_id_name'))
    )
    op.create_table('event_agent',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_event_agent_agent_id_agent')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_agent_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'agent_id', name=op.f('pk_event_agent'))
    )
    op.create_table('event_object',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_object_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'identifier', name=op.f('pk_event_object'))
    )
    op.create_index(op.f('ix_event_object_identifier'), 'event_object', ['identifier'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_event_object_identifier'), table_name='event_object')

    op.drop_table('event_object')
    op.drop_table('event_agent')
    op.drop_table('job_step')
    op.drop_index(op.f('ix_job_error_job_id'), table_name='job_error')

    op.drop_table('job_error')
    op.drop_index(op.f('ix_file_uuid'), table_name='file')
    op.drop_index(op.f('ix_file_sha256'), table_name='file')
    op.drop_index(op.f('ix_file_puid'), table_name='file')
    op.drop_index('ix_file_aip_id_version', table_name='file')

    op.drop_table('file')
    op.drop_index(op.f('ix_event_type'), table_name='event')
    op.drop_index(op.f('ix_event_job_id'), table_name='event')
    op.drop_index(op.f('ix_event_aip_id'), table_name='event')

    op.drop_table('event')
    op.drop_table('copy')
    op.drop_table('aip_version')
    op.drop_index(op.f('ix_job_status'), table_name='job')
    op.drop_index(op.f('ix_job_aip_id'), table_name='job')

    op.drop_table('job')
    op.drop_index(op.f('ix_aip_status'), table_name='aip')
    op.drop_index(op.f('ix_aip_payload_digest'), table_name='aip')
    op.drop_index(op.f('ix_aip_job_id'), table_name='aip')

    op.drop_table('aip')
    op.drop_table('agent')
