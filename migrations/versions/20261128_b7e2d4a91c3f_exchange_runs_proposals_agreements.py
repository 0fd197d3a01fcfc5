"""exchange runs proposals agreements

Matcher runs with their input snapshot and totals; proposals (from a run or
direct) with each side's decision; agreements holding the reserved
kilograms. Offers and demands get ``changed_at`` for market caches.

Revision ID: b7e2d4a91c3f
Revises: 832491190bb4
Create Date: 2026-11-28 17:50:30.677076

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2d4a91c3f'
down_revision = '832491190bb4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('match_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='runstatus', native_enum=False, length=24), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('yuan_per_tkm', sa.Numeric(precision=8, scale=3), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('offers', sa.Integer(), nullable=False),
    sa.Column('demands', sa.Integer(), nullable=False),
    sa.Column('matched_kg', sa.BigInteger(), nullable=False),
    sa.Column('cost_kg_m', sa.BigInteger(), nullable=False),
    sa.Column('unmatched_offer_kg', sa.BigInteger(), nullable=False),
    sa.Column('unmet_demand_kg', sa.BigInteger(), nullable=False),
    sa.Column('optimal', sa.Boolean(), nullable=True),
    sa.Column('seconds', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_match_run_progress_percent')),
    sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_match_run_started_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_run'))
    )
    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_run_status'), ['status'], unique=False)

    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('offer_enterprise_id', sa.Integer(), nullable=False),
    sa.Column('demand_enterprise_id', sa.Integer(), nullable=False),
    sa.Column('kg', sa.BigInteger(), nullable=False),
    sa.Column('metres', sa.Integer(), nullable=False),
    sa.Column('price_per_t', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'agreed', 'declined', 'withdrawn', name='proposalstatus', native_enum=False, length=24), nullable=False),
    sa.Column('offer_decision', sa.Enum('pending', 'accepted', 'declined', name='decision', native_enum=False, length=24), nullable=False),
    sa.Column('offer_decided_by_id', sa.Integer(), nullable=True),
    sa.Column('offer_decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offer_reason', sa.Text(), nullable=False),
    sa.Column('demand_decision', sa.Enum('pending', 'accepted', 'declined', name='decision', native_enum=False, length=24), nullable=False),
    sa.Column('demand_decided_by_id', sa.Integer(), nullable=True),
    sa.Column('demand_decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('demand_reason', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('kg > 0', name=op.f('ck_proposal_kg_positive')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_proposal_period_ordered')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_proposal_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['demand_decided_by_id'], ['user.id'], name=op.f('fk_proposal_demand_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['demand_enterprise_id'], ['enterprise.id'], name=op.f('fk_proposal_demand_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['demand_id'], ['demand.id'], name=op.f('fk_proposal_demand_id_demand')),
    sa.ForeignKeyConstraint(['offer_decided_by_id'], ['user.id'], name=op.f('fk_proposal_offer_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offer_enterprise_id'], ['enterprise.id'], name=op.f('fk_proposal_offer_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_proposal_offer_id_offer')),
    sa.ForeignKeyConstraint(['run_id'], ['match_run.id'], name=op.f('fk_proposal_run_id_match_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal')),
    sa.UniqueConstraint('run_id', 'offer_id', 'demand_id', name=op.f('uq_proposal_run_id_offer_id_demand_id'))
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_demand_enterprise_id'), ['demand_enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_offer_enterprise_id'), ['offer_enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_status'), ['status'], unique=False)

    op.create_table('agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_no', sa.String(length=32), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('producer_id', sa.Integer(), nullable=False),
    sa.Column('utiliser_id', sa.Integer(), nullable=False),
    sa.Column('sw_code', sa.String(length=4), nullable=False),
    sa.Column('kg', sa.BigInteger(), nullable=False),
    sa.Column('remaining_kg', sa.BigInteger(), nullable=False),
    sa.Column('price_per_t', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('active', 'completed', 'cancelled', name='agreementstatus', native_enum=False, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('kg > 0', name=op.f('ck_agreement_kg_positive')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_agreement_period_ordered')),
    sa.CheckConstraint('remaining_kg >= 0 AND remaining_kg <= kg', name=op.f('ck_agreement_remaining_within_kg')),
    sa.ForeignKeyConstraint(['demand_id'], ['demand.id'], name=op.f('fk_agreement_demand_id_demand')),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_agreement_offer_id_offer')),
    sa.ForeignKeyConstraint(['producer_id'], ['enterprise.id'], name=op.f('fk_agreement_producer_id_enterprise')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_agreement_proposal_id_proposal')),
    sa.ForeignKeyConstraint(['utiliser_id'], ['enterprise.id'], name=op.f('fk_agreement_utiliser_id_enterprise')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement')),
    sa.UniqueConstraint('contract_no', name=op.f('uq_agreement_contract_no')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_agreement_proposal_id'))
    )
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_producer_id'), ['producer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_utiliser_id'), ['utiliser_id'], unique=False)

    with op.batch_alter_table('demand', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False))
        batch_op.create_index(batch_op.f('ix_demand_changed_at'), ['changed_at'], unique=False)

    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False))
        batch_op.create_index(batch_op.f('ix_offer_changed_at'), ['changed_at'], unique=False)



def downgrade():
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_changed_at'))
        batch_op.drop_column('changed_at')

    with op.batch_alter_table('demand', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_demand_changed_at'))
        batch_op.drop_column('changed_at')

    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_utiliser_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_status'))
        batch_op.drop_index(batch_op.f('ix_agreement_producer_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_offer_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_demand_id'))

    op.drop_table('agreement')
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_status'))
        batch_op.drop_index(batch_op.f('ix_proposal_run_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_offer_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_offer_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_demand_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_demand_enterprise_id'))

    op.drop_table('proposal')
    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_run_status'))

    op.drop_table('match_run')
