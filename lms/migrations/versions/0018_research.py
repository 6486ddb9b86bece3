"""research: pilots with comparison groups, schools' research consent, research exports

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


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table('research_pilots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trust_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('programme_key', sa.String(length=32), nullable=False),
    sa.Column('school_ids', sa.JSON(), nullable=False),
    sa.Column('comparison_kind', _enum('pilot_comparison_kind', 'programme', 'schools'), nullable=False),
    sa.Column('comparison_programme_key', sa.String(length=32), nullable=True),
    sa.Column('comparison_school_ids', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('outcome', _enum('pilot_outcome', 'attendance_percent', 'hours_per_pupil', 'progress', 'at_target_percent'), nullable=False),
    sa.Column('random_allocation', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', lms.platform.types.UTCDateTime(), nullable=True),
    sa.CheckConstraint('ends_on > starts_on', name=op.f('ck_research_pilots_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_research_pilots_created_by_id_users')),
    sa.ForeignKeyConstraint(['trust_id'], ['trusts.id'], name=op.f('fk_research_pilots_trust_id_trusts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_pilots'))
    )
    op.create_index(op.f('ix_research_pilots_trust_id'), 'research_pilots', ['trust_id'], unique=False)
    op.create_table('research_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', lms.platform.types.UTCDateTime(), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_research_consents_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_research_consents_school_id_schools')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_research_consents_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_consents'))
    )
    op.create_index(op.f('ix_research_consents_school_id'), 'research_consents', ['school_id'], unique=False)
    op.create_index('uq_research_consents_school_open', 'research_consents', ['school_id'], unique=True,
                    postgresql_where=sa.text('withdrawn_at IS NULL'), sqlite_where=sa.text('withdrawn_at IS NULL'))
    op.create_table('research_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trust_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_research_exports_requested_by_id_users')),
    sa.ForeignKeyConstraint(['trust_id'], ['trusts.id'], name=op.f('fk_research_exports_trust_id_trusts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_exports'))
    )
    op.create_index(op.f('ix_research_exports_trust_id'), 'research_exports', ['trust_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_research_exports_trust_id'), table_name='research_exports')
    op.drop_table('research_exports')
    op.drop_index('uq_research_consents_school_open', table_name='research_consents')
    op.drop_index(op.f('ix_research_consents_school_id'), table_name='research_consents')
    op.drop_table('research_consents')
    op.drop_index(op.f('ix_research_pilots_trust_id'), table_name='research_pilots')
    op.drop_table('research_pilots')
