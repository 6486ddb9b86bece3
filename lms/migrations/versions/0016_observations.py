"""observations: (to be written)

Revision ID: 0016_observations
Revises: 0015_feedback
Create Date: 2026-12-07 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.platform.types


# revision identifiers, used by Alembic.
revision = '0016_observations'
down_revision = '0015_feedback'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
