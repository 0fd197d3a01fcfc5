"""planner, anomalies and 以渣定产

Declared utilisation capacities (business data), planning scenarios and
their runs, the anomaly worklist with its history, and the 以渣定产 sector
keywords (loaded here: data, kept by regulators) and thresholds.

Revision ID: 99b9cf8f834f
Revises: d9e3a7c51b20
Create Date: 2026-11-29 05:21:14.300472

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '99b9cf8f834f'
down_revision = 'd9e3a7c51b20'
branch_labels = None
depends_on = None

# 以渣定产 pilot sectors by industry keyword (the longest keyword found in Enterprise.industry wins).
SECTOR_KEYWORDS = (
    ("煤炭开采", "coal"), ("洗选", "coal"), ("煤矿", "coal"),
    ("焦化", "coking"), ("炼焦", "coking"), ("焦炭", "coking"),
    ("铁合金", "metallurgy"), ("硅铁", "metallurgy"), ("锰硅", "metallurgy"), ("钢铁", "metallurgy"),
    ("炼铁", "metallurgy"), ("炼钢", "metallurgy"), ("金属冶炼", "metallurgy"),
)


def upgrade():
    keywords = op.create_table('quota_sector_keyword',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('keyword', sa.String(length=40), nullable=False),
    sa.Column('sector', sa.Enum('coal', 'coking', 'metallurgy', name='pilotsector', native_enum=False, length=24), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_sector_keyword')),
    sa.UniqueConstraint('keyword', name=op.f('uq_quota_sector_keyword_keyword'))
    )
    op.bulk_insert(keywords, [{"keyword": keyword, "sector": sector} for keyword, sector in SECTOR_KEYWORDS])
    op.create_table('planning_scenario',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('utilisers', sa.JSON(), nullable=False),
    sa.Column('removed_enterprise_ids', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_planning_scenario_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_scenario'))
    )
    op.create_table('quota_threshold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sector', sa.Enum('coal', 'coking', 'metallurgy', name='pilotsector', native_enum=False, length=24), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('floor_factor', sa.Numeric(precision=5, scale=4), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('floor_factor >= 0 AND floor_factor <= 1', name=op.f('ck_quota_threshold_floor_fraction')),
    sa.CheckConstraint('threshold > 0 AND threshold <= 1', name=op.f('ck_quota_threshold_threshold_fraction')),
    sa.ForeignKeyConstraint(['set_by_id'], ['user.id'], name=op.f('fk_quota_threshold_set_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_threshold'))
    )
    with op.batch_alter_table('quota_threshold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quota_threshold_sector'), ['sector'], unique=False)

    op.create_table('planning_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='runstatus', native_enum=False, length=24), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('baseline_rate', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('attainable_rate', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('seconds', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_planning_run_progress_percent')),
    sa.ForeignKeyConstraint(['scenario_id'], ['planning_scenario.id'], name=op.f('fk_planning_run_scenario_id_planning_scenario'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_planning_run_started_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_run'))
    )
    with op.batch_alter_table('planning_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planning_run_scenario_id'), ['scenario_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_planning_run_status'), ['status'], unique=False)

    op.create_table('utilisation_capacity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('route_id', sa.Integer(), nullable=False),
    sa.Column('sw_codes', sa.JSON(), nullable=False),
    sa.Column('kg_per_year', sa.BigInteger(), nullable=False),
    sa.Column('max_km', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('kg_per_year > 0', name=op.f('ck_utilisation_capacity_kg_positive')),
    sa.CheckConstraint('max_km > 0 AND max_km <= 1000', name=op.f('ck_utilisation_capacity_max_km_range')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_utilisation_capacity_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['route_id'], ['route.id'], name=op.f('fk_utilisation_capacity_route_id_route')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_utilisation_capacity_site_id_site'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_utilisation_capacity_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_utilisation_capacity'))
    )
    with op.batch_alter_table('utilisation_capacity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_utilisation_capacity_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_utilisation_capacity_site_id'), ['site_id'], unique=False)

    op.create_table('anomaly',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('balance', 'chain', 'missing_generation', 'storage_rising', 'over_capacity', 'unverified_trading', 'slip', name='anomalykind', native_enum=False, length=24), nullable=False),
    sa.Column('subject_key', sa.String(length=120), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('stream_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('open', 'under_review', 'closed', name='anomalystatus', native_enum=False, length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_anomaly_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user.id'], name=op.f('fk_anomaly_handled_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stream_id'], ['waste_stream.id'], name=op.f('fk_anomaly_stream_id_waste_stream'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_anomaly')),
    sa.UniqueConstraint('kind', 'subject_key', name=op.f('uq_anomaly_kind_subject_key'))
    )
    with op.batch_alter_table('anomaly', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_anomaly_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_anomaly_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_anomaly_status'), ['status'], unique=False)

    op.create_table('anomaly_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('anomaly_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('open', 'under_review', 'closed', name='anomalystatus', native_enum=False, length=24), nullable=True),
    sa.Column('to_status', sa.Enum('open', 'under_review', 'closed', name='anomalystatus', native_enum=False, length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_anomaly_event_actor_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['anomaly_id'], ['anomaly.id'], name=op.f('fk_anomaly_event_anomaly_id_anomaly'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_anomaly_event'))
    )
    with op.batch_alter_table('anomaly_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_anomaly_event_anomaly_id'), ['anomaly_id'], unique=False)



def downgrade():
    with op.batch_alter_table('anomaly_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anomaly_event_anomaly_id'))

    op.drop_table('anomaly_event')
    with op.batch_alter_table('anomaly', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anomaly_status'))
        batch_op.drop_index(batch_op.f('ix_anomaly_kind'))
        batch_op.drop_index(batch_op.f('ix_anomaly_enterprise_id'))

    op.drop_table('anomaly')
    with op.batch_alter_table('utilisation_capacity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_utilisation_capacity_site_id'))
        batch_op.drop_index(batch_op.f('ix_utilisation_capacity_enterprise_id'))

    op.drop_table('utilisation_capacity')
    with op.batch_alter_table('planning_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planning_run_status'))
        batch_op.drop_index(batch_op.f('ix_planning_run_scenario_id'))

    op.drop_table('planning_run')
    with op.batch_alter_table('quota_threshold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quota_threshold_sector'))

    op.drop_table('quota_threshold')
    op.drop_table('planning_scenario')
    op.drop_table('quota_sector_keyword')
