"""transfer slips

Transfer slips (转移联单) with their carrier legs, signatures (unique per
section: one of two concurrent signers wins), revision requests and the
enterprises' own ERP references.

Revision ID: d9e3a7c51b20
Revises: c4a9e1f27b60
Create Date: 2026-11-29 05:13:32.740319

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9e3a7c51b20'
down_revision = 'c4a9e1f27b60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('transfer_slip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('contract_no', sa.String(length=32), nullable=False),
    sa.Column('producer_id', sa.Integer(), nullable=False),
    sa.Column('receiver_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=False),
    sa.Column('sw_code', sa.String(length=4), nullable=False),
    sa.Column('origin_site_id', sa.Integer(), nullable=False),
    sa.Column('destination_site_id', sa.Integer(), nullable=False),
    sa.Column('route_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'emitted', 'transported', 'received', 'closed', 'refused', 'cancelled', name='slipstatus', native_enum=False, length=24), nullable=False),
    sa.Column('planned_kg', sa.BigInteger(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('itinerary', sa.Text(), nullable=False),
    sa.Column('dispatched_kg', sa.BigInteger(), nullable=True),
    sa.Column('dispatched_on', sa.Date(), nullable=True),
    sa.Column('emission_handler', sa.String(length=120), nullable=True),
    sa.Column('emitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_kg', sa.BigInteger(), nullable=True),
    sa.Column('refused_kg', sa.BigInteger(), nullable=True),
    sa.Column('acceptance', sa.Enum('accepted', 'partial', 'refused', name='acceptance', native_enum=False, length=24), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('reception_handler', sa.String(length=120), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('discrepancy_kg', sa.BigInteger(), nullable=True),
    sa.Column('legs_unsigned', sa.Integer(), nullable=False),
    sa.Column('announced_flags', sa.JSON(), nullable=False),
    sa.Column('operation_route_id', sa.Integer(), nullable=True),
    sa.Column('operated_on', sa.Date(), nullable=True),
    sa.Column('product', sa.String(length=255), nullable=True),
    sa.Column('operation_handler', sa.String(length=120), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('dispatched_kg IS NULL OR dispatched_kg > 0', name=op.f('ck_transfer_slip_dispatched_positive')),
    sa.CheckConstraint('planned_kg > 0', name=op.f('ck_transfer_slip_planned_positive')),
    sa.CheckConstraint('received_kg IS NULL OR received_kg >= 0', name=op.f('ck_transfer_slip_received_not_negative')),
    sa.CheckConstraint('refused_kg IS NULL OR (refused_kg >= 0 AND refused_kg <= received_kg)', name=op.f('ck_transfer_slip_refused_within_received')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_transfer_slip_agreement_id_agreement')),
    sa.ForeignKeyConstraint(['author_id'], ['enterprise.id'], name=op.f('fk_transfer_slip_author_id_enterprise')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_transfer_slip_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['destination_site_id'], ['site.id'], name=op.f('fk_transfer_slip_destination_site_id_site')),
    sa.ForeignKeyConstraint(['operation_route_id'], ['route.id'], name=op.f('fk_transfer_slip_operation_route_id_route')),
    sa.ForeignKeyConstraint(['origin_site_id'], ['site.id'], name=op.f('fk_transfer_slip_origin_site_id_site')),
    sa.ForeignKeyConstraint(['producer_id'], ['enterprise.id'], name=op.f('fk_transfer_slip_producer_id_enterprise')),
    sa.ForeignKeyConstraint(['receiver_id'], ['enterprise.id'], name=op.f('fk_transfer_slip_receiver_id_enterprise')),
    sa.ForeignKeyConstraint(['route_id'], ['route.id'], name=op.f('fk_transfer_slip_route_id_route')),
    sa.ForeignKeyConstraint(['stream_id'], ['waste_stream.id'], name=op.f('fk_transfer_slip_stream_id_waste_stream')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_slip')),
    sa.UniqueConstraint('number', name=op.f('uq_transfer_slip_number'))
    )
    with op.batch_alter_table('transfer_slip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_slip_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_slip_emitted_at'), ['emitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_slip_producer_id'), ['producer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_slip_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_slip_receiver_id'), ['receiver_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_slip_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_slip_stream_id'), ['stream_id'], unique=False)

    op.create_table('slip_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slip_id', sa.Integer(), nullable=False),
    sa.Column('cancel', sa.Boolean(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_enterprise_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('approver_enterprise_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='revisionstatus', native_enum=False, length=24), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('ledger_entry_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['approver_enterprise_id'], ['enterprise.id'], name=op.f('fk_slip_revision_approver_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_slip_revision_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by_enterprise_id'], ['enterprise.id'], name=op.f('fk_slip_revision_requested_by_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_slip_revision_requested_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['slip_id'], ['transfer_slip.id'], name=op.f('fk_slip_revision_slip_id_transfer_slip'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slip_revision'))
    )
    with op.batch_alter_table('slip_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slip_revision_approver_enterprise_id'), ['approver_enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_slip_revision_slip_id'), ['slip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_slip_revision_status'), ['status'], unique=False)

    op.create_table('slip_tag',
    sa.Column('slip_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_slip_tag_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['slip_id'], ['transfer_slip.id'], name=op.f('fk_slip_tag_slip_id_transfer_slip'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('slip_id', 'enterprise_id', name=op.f('pk_slip_tag')),
    sa.UniqueConstraint('enterprise_id', 'reference', name=op.f('uq_slip_tag_enterprise_id_reference'))
    )
    op.create_table('transfer_leg',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slip_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('carrier_id', sa.Integer(), nullable=False),
    sa.Column('plates', sa.JSON(), nullable=False),
    sa.Column('driver', sa.String(length=120), nullable=False),
    sa.Column('taken_over_on', sa.Date(), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['carrier_id'], ['enterprise.id'], name=op.f('fk_transfer_leg_carrier_id_enterprise')),
    sa.ForeignKeyConstraint(['slip_id'], ['transfer_slip.id'], name=op.f('fk_transfer_leg_slip_id_transfer_slip'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_leg')),
    sa.UniqueConstraint('slip_id', 'position', name=op.f('uq_transfer_leg_slip_id_position'))
    )
    with op.batch_alter_table('transfer_leg', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_leg_carrier_id'), ['carrier_id'], unique=False)

    op.create_table('transfer_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slip_id', sa.Integer(), nullable=False),
    sa.Column('act', sa.Enum('publish', 'emission', 'transport', 'reception', 'operation', 'cancel', name='act', native_enum=False, length=24), nullable=False),
    sa.Column('leg_position', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('signer_name', sa.String(length=120), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('section', sa.JSON(), nullable=False),
    sa.Column('ledger_entry_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_transfer_signature_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['slip_id'], ['transfer_slip.id'], name=op.f('fk_transfer_signature_slip_id_transfer_slip'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_transfer_signature_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_signature')),
    sa.UniqueConstraint('slip_id', 'act', 'leg_position', name=op.f('uq_transfer_signature_slip_id_act_leg_position'))
    )
    with op.batch_alter_table('transfer_signature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_signature_slip_id'), ['slip_id'], unique=False)



def downgrade():
    with op.batch_alter_table('transfer_signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_signature_slip_id'))

    op.drop_table('transfer_signature')
    with op.batch_alter_table('transfer_leg', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_leg_carrier_id'))

    op.drop_table('transfer_leg')
    op.drop_table('slip_tag')
    with op.batch_alter_table('slip_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slip_revision_status'))
        batch_op.drop_index(batch_op.f('ix_slip_revision_slip_id'))
        batch_op.drop_index(batch_op.f('ix_slip_revision_approver_enterprise_id'))

    op.drop_table('slip_revision')
    with op.batch_alter_table('transfer_slip', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_slip_stream_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_slip_status'))
        batch_op.drop_index(batch_op.f('ix_transfer_slip_receiver_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_slip_received_at'))
        batch_op.drop_index(batch_op.f('ix_transfer_slip_producer_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_slip_emitted_at'))
        batch_op.drop_index(batch_op.f('ix_transfer_slip_agreement_id'))

    op.drop_table('transfer_slip')
