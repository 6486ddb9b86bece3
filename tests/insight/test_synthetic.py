"""The synthetic dataset behind the scale benchmarks: every stage present, and facts that agree
with each other as the services would leave them."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from credentials.endorsements import status
from credentials.endorsements.models import Endorsement, EndorsementStatus, StatusList
from credentials.register import derivation
from credentials.register.models import RegisterEntry
from lms.insight.synthetic import STAGE_WEIGHTS, Scale, generate
from lms.organisations import services
from lms.organisations.models import Membership, School, Trust
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.programme.models import Enrolment, EnrolmentStatus, Nomination


@pytest.fixture
def dataset(db_session):
    made = generate(Scale(trusts=3, schools=24, tutors=600), seed=7)
    db_session.commit()
    return made


def test_every_stage_is_represented_and_every_candidate_counted_once(dataset, db_session):
    stages = {k.removeprefix("stage:"): v for k, v in dataset.items() if k.startswith("stage:")}
    assert set(stages) == set(STAGE_WEIGHTS)
    assert sum(stages.values()) == 600 == db_session.scalar(select(func.count(Nomination.id)))
    assert db_session.scalar(select(func.count(Trust.id))) == 3
    assert db_session.scalar(select(func.count(School.id))) == 24


def test_enrolments_follow_their_nominations_and_passes_their_endorsements(dataset, db_session):
    enrolments = db_session.scalars(select(Enrolment)).all()
    assert all(e.nomination.status.value == "accepted" for e in enrolments)
    assert all(e.deadline_at >= e.opened_at for e in enrolments)
    by_status = Counter(e.status for e in enrolments)
    assert by_status[EnrolmentStatus.PASSED] == dataset["stage:endorsed"]
    endorsed = {e.enrolment_id for e in db_session.scalars(select(Endorsement))}
    assert endorsed == {e.id for e in enrolments if e.status == EnrolmentStatus.PASSED}


def test_register_statuses_are_the_real_derivation(dataset, db_session):
    statuses = Counter(db_session.scalars(select(RegisterEntry.status)))
    assert len(statuses) == 4  # approved, pending, suspended and removed all occur
    assert derivation.refresh_register(notify=False) == []


def test_suspended_and_revoked_endorsements_are_set_in_the_status_list(dataset, db_session):
    lists = {s.id: s for s in db_session.scalars(select(StatusList))}
    for endorsement in db_session.scalars(select(Endorsement)):
        withheld = endorsement.status in (EndorsementStatus.SUSPENDED, EndorsementStatus.REVOKED)
        bits = lists[endorsement.status_list_id].bits
        assert status.is_set(bits, endorsement.status_index) == withheld


def test_real_records_can_be_added_afterwards(dataset, db_session):
    trust = services.create_trust("A real trust", actor=None)
    db_session.commit()
    assert trust.id > max(db_session.scalars(select(Trust.id).where(Trust.id != trust.id)))


def test_it_refuses_to_run_twice(dataset, db_session):
    with pytest.raises(DomainError, match="already here"):
        generate(Scale(trusts=1, schools=1, tutors=1))


def test_the_command_reports_what_it_made(app, db_session):
    result = app.test_cli_runner().invoke(args=["data", "generate", "--trusts", "2",
                                                "--schools", "4", "--tutors", "50"])
    assert result.exit_code == 0, result.output
    assert "Made 2 trusts, 4 schools" in result.output
    db.session.remove()
    assert db_session.scalar(select(func.count(Nomination.id))) == 50
    leaders = db_session.scalar(select(func.count(Membership.id)).where(
        Membership.role == Role.SCHOOL_LEADER))
    assert leaders == 4
