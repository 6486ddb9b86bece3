"""feedback: tutors' ratings of modules and the course, skipped rating prompts, trusts' survey delay, school leaders' surveys after endorsement

Revision ID: 0015_feedback
Revises: 0014_safeguarding
Create Date: 2026-12-07 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.platform.types


# revision identifiers, used by Alembic.
revision = '0015_feedback'
down_revision = '0014_safeguarding'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_settings',
    sa.Column('trust_id', sa.Integer(), nullable=False),
    sa.Column('survey_weeks', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('survey_weeks BETWEEN 2 AND 26', name=op.f('ck_feedback_settings_weeks_in_range')),
    sa.ForeignKeyConstraint(['trust_id'], ['trusts.id'], name=op.f('fk_feedback_settings_trust_id_trusts')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_feedback_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('trust_id', name=op.f('pk_feedback_settings'))
    )
    op.create_table('module_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('pathway', sa.Enum('qts_refresher', 'primary', 'secondary', name='pathway', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('module', sa.String(length=100), nullable=False),
    sa.Column('course_version', sa.String(length=64), nullable=False),
    sa.Column('clear', sa.Integer(), nullable=False),
    sa.Column('useful', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('clear BETWEEN 1 AND 5', name=op.f('ck_module_ratings_clear_in_range')),
    sa.CheckConstraint('useful BETWEEN 1 AND 5', name=op.f('ck_module_ratings_useful_in_range')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_module_ratings_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_module_ratings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_ratings')),
    sa.UniqueConstraint('enrolment_id', 'module', name=op.f('uq_module_ratings_enrolment_id'))
    )
    with op.batch_alter_table('module_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_module_ratings_pathway_module', ['pathway', 'module'], unique=False)
        batch_op.create_index(batch_op.f('ix_module_ratings_user_id'), ['user_id'], unique=False)

    op.create_table('skipped_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=100), nullable=False),
    sa.Column('skipped_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_skipped_ratings_enrolment_id_enrolments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skipped_ratings')),
    sa.UniqueConstraint('enrolment_id', 'module', name=op.f('uq_skipped_ratings_enrolment_id'))
    )
    op.create_table('leader_surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('endorsement_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('trust_id', sa.Integer(), nullable=False),
    sa.Column('tutor_id', sa.Integer(), nullable=False),
    sa.Column('pathway', sa.Enum('qts_refresher', 'primary', 'secondary', name='pathway', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('course_version', sa.String(length=64), nullable=False),
    sa.Column('sent_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.Column('answered_at', lms.platform.types.UTCDateTime(), nullable=True),
    sa.Column('practice_changed', sa.Integer(), nullable=True),
    sa.Column('missing', sa.Text(), nullable=True),
    sa.Column('would_nominate', sa.Boolean(), nullable=True),
    sa.CheckConstraint('practice_changed IS NULL OR practice_changed BETWEEN 1 AND 5', name=op.f('ck_leader_surveys_practice_in_range')),
    sa.ForeignKeyConstraint(['endorsement_id'], ['endorsements.id'], name=op.f('fk_leader_surveys_endorsement_id_endorsements')),
    sa.ForeignKeyConstraint(['leader_id'], ['users.id'], name=op.f('fk_leader_surveys_leader_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_leader_surveys_school_id_schools')),
    sa.ForeignKeyConstraint(['trust_id'], ['trusts.id'], name=op.f('fk_leader_surveys_trust_id_trusts')),
    sa.ForeignKeyConstraint(['tutor_id'], ['users.id'], name=op.f('fk_leader_surveys_tutor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leader_surveys')),
    sa.UniqueConstraint('endorsement_id', 'leader_id', name=op.f('uq_leader_surveys_endorsement_id'))
    )
    with op.batch_alter_table('leader_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leader_surveys_endorsement_id'), ['endorsement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leader_surveys_leader_id'), ['leader_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leader_surveys_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leader_surveys_trust_id'), ['trust_id'], unique=False)


def downgrade():
    op.drop_table('leader_surveys')
    op.drop_table('skipped_ratings')
    with op.batch_alter_table('module_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_module_ratings_user_id'))
        batch_op.drop_index('ix_module_ratings_pathway_module')

    op.drop_table('module_ratings')
    op.drop_table('feedback_settings')
