"""library: follow-on units (versioned by content hash) and tutors' progress and CPD minutes

Revision ID: 0017_library
Revises: 0016_observations
Create Date: 2026-12-07 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.platform.types


# revision identifiers, used by Alembic.
revision = '0017_library'
down_revision = '0016_observations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('library_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('version', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('phases', sa.JSON(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('practices', sa.JSON(), nullable=False),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('words', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('resource_title', sa.String(length=200), nullable=False),
    sa.Column('resource_filename', sa.String(length=120), nullable=False),
    sa.Column('resource_mimetype', sa.String(length=80), nullable=False),
    sa.Column('resource_content', sa.LargeBinary(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('loaded_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_units')),
    sa.UniqueConstraint('slug', 'version', name=op.f('uq_library_units_slug'))
    )
    with op.batch_alter_table('library_units', schema=None) as batch_op:
        batch_op.create_index('ix_library_units_current', ['is_current', 'slug'], unique=False)

    op.create_table('library_unit_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_slug', sa.String(length=80), nullable=False),
    sa.Column('unit_version', sa.String(length=16), nullable=False),
    sa.Column('started_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.Column('completed_at', lms.platform.types.UTCDateTime(), nullable=True),
    sa.Column('minutes_credited', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_library_unit_progress_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_unit_progress')),
    sa.UniqueConstraint('user_id', 'unit_slug', name=op.f('uq_library_unit_progress_user_id'))
    )
    with op.batch_alter_table('library_unit_progress', schema=None) as batch_op:
        batch_op.create_index('ix_library_unit_progress_completed', ['user_id', 'completed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('library_unit_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_library_unit_progress_completed')
    op.drop_table('library_unit_progress')
    with op.batch_alter_table('library_units', schema=None) as batch_op:
        batch_op.drop_index('ix_library_units_current')
    op.drop_table('library_units')
