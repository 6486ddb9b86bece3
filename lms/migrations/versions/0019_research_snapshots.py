"""research: the training impact report's figures, kept for a short while

Revision ID: 0019_research_snapshots
Revises: 0018_research
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.platform.types


# revision identifiers, used by Alembic.
revision = '0019_research_snapshots'
down_revision = '0018_research'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('research_impact_snapshots',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('trust_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('computed_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['trust_id'], ['trusts.id'], name=op.f('fk_research_impact_snapshots_trust_id_trusts')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_research_impact_snapshots'))
    )
    with op.batch_alter_table('research_impact_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_research_impact_snapshots_trust_id'), ['trust_id'], unique=False)


def downgrade():
    with op.batch_alter_table('research_impact_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_research_impact_snapshots_trust_id'))
    op.drop_table('research_impact_snapshots')
