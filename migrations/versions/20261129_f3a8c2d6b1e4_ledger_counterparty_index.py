"""ledger entries by counterparty

Shipments a registered enterprise received are found by its credit code on the
senders' 附表7 lines (the regulator's enterprise page, its lifecycle). Without
an index that is a scan of the year's shipments city-wide: about 200 ms on a
million entries, against about 2 ms with it.

Revision ID: f3a8c2d6b1e4
Revises: e5b1c8a4f2d7
Create Date: 2026-11-29 09:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f3a8c2d6b1e4'
down_revision = 'e5b1c8a4f2d7'
branch_labels = None
depends_on = None


# Plain CREATE INDEX, not a batch: on SQLite a batch may rebuild the table, and ledger_entry's
# append-only triggers must stay.
def upgrade():
    op.create_index('ix_ledger_entry_counterparty_period', 'ledger_entry', ['counterparty_credit_code', 'period_date'],
                    unique=False)


def downgrade():
    op.drop_index('ix_ledger_entry_counterparty_period', table_name='ledger_entry')
