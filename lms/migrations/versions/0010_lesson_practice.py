"""lesson practice: scenarios on lessons, tutors' scenario answers, time spent revisiting

Revision ID: 0010_lesson_practice
Revises: 0009_two_factor
Create Date: 2026-12-07 02:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.platform.types


# revision identifiers, used by Alembic.
revision = '0010_lesson_practice'
down_revision = '0009_two_factor'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scenario_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_at', lms.platform.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_scenario_answers_enrolment_id_enrolments')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_scenario_answers_lesson_id_lessons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_answers')),
    sa.UniqueConstraint('enrolment_id', 'lesson_id', 'number', name=op.f('uq_scenario_answers_enrolment_id'))
    )
    with op.batch_alter_table('scenario_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_answers_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scenario_answers_lesson_id'), ['lesson_id'], unique=False)

    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scenarios', sa.JSON(), nullable=False, server_default='[]'))

    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revisit_since', lms.platform.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revisit_seconds', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.drop_column('revisit_seconds')
        batch_op.drop_column('revisit_since')

    with op.batch_alter_table('lessons', schema=None) as batch_op:
        batch_op.drop_column('scenarios')

    with op.batch_alter_table('scenario_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_answers_lesson_id'))
        batch_op.drop_index(batch_op.f('ix_scenario_answers_enrolment_id'))

    op.drop_table('scenario_answers')
