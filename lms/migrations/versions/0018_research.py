"""research: (to be written)

Revision ID: 0018_research
Revises: 0017_library
Create Date: 2026-12-07 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.platform.types


# revision identifiers, used by Alembic.
revision = '0018_research'
down_revision = '0017_library'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
