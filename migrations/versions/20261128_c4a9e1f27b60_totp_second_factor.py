"""totp second factor

TOTP second factor on ``user``: the encrypted base32 secret (set when
enrolment starts), when a first code confirmed it, and the last accepted
time step (a used code cannot be replayed).

Revision ID: c4a9e1f27b60
Revises: b7e2d4a91c3f
Create Date: 2026-11-28 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a9e1f27b60'
down_revision = 'b7e2d4a91c3f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
