"""records: fonds, source agencies, dossiers, documents, retention schedules, access restrictions,
transfers and agency-declared totals

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

The archival description of TT 05/2025 (repository/catalog/records.py). Schema only: retention
schedules are data (config/retention/*.toml, loaded by `kholuu records retention load`), never rows
seeded here (style guide item 5). Codes (mã hồ sơ, mã tài liệu) are indexed, not keys: the same
code may arrive twice and the sources disagree on separators (vn-standards.md §1.1).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('fonds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=13), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='fondsstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('history', sa.Text(), nullable=False),
    sa.Column('date_range', sa.String(length=100), nullable=False),
    sa.Column('total_documents', sa.Integer(), nullable=True),
    sa.Column('classification', sa.Text(), nullable=False),
    sa.Column('languages', sa.String(length=100), nullable=False),
    sa.Column('backup_regime', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fonds')),
    sa.UniqueConstraint('code', name=op.f('uq_fonds_code'))
    )
    op.create_table('retention_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_schedule')),
    sa.UniqueConstraint('code', name=op.f('uq_retention_schedule_code'))
    )
    op.create_table('retention_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=50), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('maintenance', sa.String(length=2), nullable=False),
    sa.Column('years', sa.Integer(), nullable=True),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['retention_schedule.id'], name=op.f('fk_retention_item_schedule_id_retention_schedule'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_item')),
    sa.UniqueConstraint('schedule_id', 'item_code', name=op.f('uq_retention_item_schedule_id_item_code'))
    )
    op.create_table('source_agency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organ_id', sa.String(length=13), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('name_search', sa.Text(), nullable=False),
    sa.Column('fonds_id', sa.Integer(), nullable=True),
    sa.Column('active_from', sa.Date(), nullable=True),
    sa.Column('active_to', sa.Date(), nullable=True),
    sa.Column('in_scope', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['fonds_id'], ['fonds.id'], name=op.f('fk_source_agency_fonds_id_fonds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_agency')),
    sa.UniqueConstraint('organ_id', name=op.f('uq_source_agency_organ_id'))
    )
    op.create_table('declared_total',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['source_agency.id'], name=op.f('fk_declared_total_agency_id_source_agency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declared_total')),
    sa.UniqueConstraint('agency_id', 'year', 'metric', name=op.f('uq_declared_total_agency_id_year_metric'))
    )
    with op.batch_alter_table('declared_total', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declared_total_agency_id'), ['agency_id'], unique=False)

    op.create_table('dossier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('package_type', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('organ_id', sa.String(length=13), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('notation', sa.String(length=100), nullable=False),
    sa.Column('archive_id', sa.String(length=13), nullable=False),
    sa.Column('catalog_no', sa.String(length=20), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('fonds_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('title_search', sa.Text(), nullable=False),
    sa.Column('maintenance', sa.String(length=2), nullable=False),
    sa.Column('mode', sa.String(length=2), nullable=False),
    sa.Column('languages', sa.String(length=100), nullable=False),
    sa.Column('start_date', sa.String(length=10), nullable=False),
    sa.Column('end_date', sa.String(length=10), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=True),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.Column('total_doc', sa.Integer(), nullable=True),
    sa.Column('number_of_page', sa.Integer(), nullable=True),
    sa.Column('confidence_level', sa.String(length=2), nullable=False),
    sa.Column('description_path', sa.Text(), nullable=False),
    sa.Column('elements', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('metadata_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digitized', sa.Boolean(), nullable=False),
    sa.Column('high_use', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['source_agency.id'], name=op.f('fk_dossier_agency_id_source_agency')),
    sa.ForeignKeyConstraint(['aip_id'], ['aip.id'], name=op.f('fk_dossier_aip_id_aip'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fonds_id'], ['fonds.id'], name=op.f('fk_dossier_fonds_id_fonds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier'))
    )
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.create_index('ix_dossier_agency_id_end_on', ['agency_id', 'end_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_aip_id'), ['aip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_end_on'), ['end_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_mode'), ['mode'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_received_at'), ['received_at'], unique=False)

    op.create_table('transfer_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('expected_dossiers', sa.Integer(), nullable=True),
    sa.Column('reply_due_on', sa.Date(), nullable=False),
    sa.Column('replied_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['source_agency.id'], name=op.f('fk_transfer_plan_agency_id_source_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_plan')),
    sa.UniqueConstraint('agency_id', 'reference', name=op.f('uq_transfer_plan_agency_id_reference'))
    )
    with op.batch_alter_table('transfer_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_plan_agency_id'), ['agency_id'], unique=False)

    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('doc_id', sa.String(length=25), nullable=False),
    sa.Column('doc_code', sa.String(length=100), nullable=False),
    sa.Column('type_name', sa.String(length=2), nullable=False),
    sa.Column('code_number', sa.String(length=11), nullable=False),
    sa.Column('code_notation', sa.String(length=30), nullable=False),
    sa.Column('issued_date', sa.String(length=10), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('organ_name', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('title_search', sa.Text(), nullable=False),
    sa.Column('maintenance', sa.String(length=2), nullable=False),
    sa.Column('mode', sa.String(length=2), nullable=False),
    sa.Column('languages', sa.String(length=100), nullable=False),
    sa.Column('number_of_page', sa.Integer(), nullable=True),
    sa.Column('confidence_level', sa.String(length=2), nullable=False),
    sa.Column('description_path', sa.Text(), nullable=False),
    sa.Column('elements', sa.JSON(), nullable=False),
    sa.Column('metadata_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_document_dossier_id_dossier'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
    sa.UniqueConstraint('dossier_id', 'ordinal', name=op.f('uq_document_dossier_id_ordinal'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_doc_code'), ['doc_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_mode'), ['mode'], unique=False)

    op.create_table('transfer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('package_name', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.String(length=200), nullable=False),
    sa.Column('confirm_due_on', sa.Date(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_due_on', sa.Date(), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('aip_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum('received', 'processing', 'accepted', 'rejected', name='transferstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('handover_digest', sa.String(length=64), nullable=False),
    sa.Column('handover_prints', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['source_agency.id'], name=op.f('fk_transfer_agency_id_source_agency')),
    sa.ForeignKeyConstraint(['aip_id'], ['aip.id'], name=op.f('fk_transfer_aip_id_aip')),
    sa.ForeignKeyConstraint(['plan_id'], ['transfer_plan.id'], name=op.f('fk_transfer_plan_id_transfer_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer'))
    )
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_aip_id'), ['aip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_status'), ['status'], unique=False)

    op.create_table('access_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('from_mode', sa.String(length=2), nullable=False),
    sa.Column('to_mode', sa.String(length=2), nullable=False),
    sa.Column('decision_number', sa.String(length=100), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint('(dossier_id IS NULL) <> (document_id IS NULL)', name=op.f('ck_access_change_one_target')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_access_change_document_id_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_access_change_dossier_id_dossier'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_change'))
    )
    with op.batch_alter_table('access_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_change_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_change_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('access_restriction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('decision_number', sa.String(length=100), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('review_date', sa.Date(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('lifted_on', sa.Date(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_decision', sa.String(length=100), nullable=False),
    sa.Column('lifted_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint('(dossier_id IS NULL) <> (document_id IS NULL)', name=op.f('ck_access_restriction_one_target')),
    sa.CheckConstraint('(lifted_on IS NULL) = (lifted_at IS NULL)', name=op.f('ck_access_restriction_lift_dated')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_access_restriction_document_id_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], name=op.f('fk_access_restriction_dossier_id_dossier'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_restriction'))
    )
    with op.batch_alter_table('access_restriction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_restriction_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_restriction_dossier_id'), ['dossier_id'], unique=False)

    op.create_table('document_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('file_uuid', sa.String(length=36), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_file_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_file')),
    sa.UniqueConstraint('document_id', 'file_uuid', name=op.f('uq_document_file_document_id_file_uuid'))
    )
    with op.batch_alter_table('document_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_file_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_file_file_uuid'), ['file_uuid'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('document_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_file_file_uuid'))
        batch_op.drop_index(batch_op.f('ix_document_file_document_id'))

    op.drop_table('document_file')
    with op.batch_alter_table('access_restriction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_restriction_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_access_restriction_document_id'))

    op.drop_table('access_restriction')
    with op.batch_alter_table('access_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_change_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_access_change_document_id'))

    op.drop_table('access_change')
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_status'))
        batch_op.drop_index(batch_op.f('ix_transfer_plan_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_aip_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_agency_id'))

    op.drop_table('transfer')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_mode'))
        batch_op.drop_index(batch_op.f('ix_document_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_document_doc_code'))

    op.drop_table('document')
    with op.batch_alter_table('transfer_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_plan_agency_id'))

    op.drop_table('transfer_plan')
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_received_at'))
        batch_op.drop_index(batch_op.f('ix_dossier_mode'))
        batch_op.drop_index(batch_op.f('ix_dossier_end_on'))
        batch_op.drop_index(batch_op.f('ix_dossier_code'))
        batch_op.drop_index(batch_op.f('ix_dossier_aip_id'))
        batch_op.drop_index('ix_dossier_agency_id_end_on')

    op.drop_table('dossier')
    with op.batch_alter_table('declared_total', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declared_total_agency_id'))

    op.drop_table('declared_total')
    op.drop_table('source_agency')
    op.drop_table('retention_item')
    op.drop_table('retention_schedule')
    op.drop_table('fonds')
