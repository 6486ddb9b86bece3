"""Groups: only a tutor the register approves for the school, at most the programme's
pupils, one group per programme per pupil."""

from datetime import time

import pytest
from sqlalchemy import select

from credentials.endorsements import services as endorsements
from credentials.endorsements.models import Endorsement
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.tutoring import groups
from lms.tutoring.clearance import clearance
from tests.factories import make_endorsement, make_school
from tests.tutoring_factory import (
    log_delivered,
    make_cleared_tutor,
    make_group,
    make_programme,
    make_pupil,
)


def _group(school, programme, tutor, pupils=()):
    return groups.create_group(school, programme=programme, tutor=tutor, name="G", weekday=1,
                               starts_at=time(10), starts_on=clock.today(), pupils=pupils)


def test_a_tutor_the_register_does_not_approve_cannot_be_given_pupils(db_session):
    school = make_school()
    endorsed_only = make_endorsement(school).user  # no DBS check or training yet
    with pytest.raises(DomainError, match="register status for this school is pending"):
        _group(school, make_programme(school.trust), endorsed_only)


def test_a_tutor_approved_for_another_school_cannot_tutor_at_this_one(db_session):
    school = make_school()
    sibling = make_school(school.trust)
    tutor = make_cleared_tutor(sibling)
    with pytest.raises(DomainError, match="not listed for this school"):
        _group(school, make_programme(school.trust), tutor)


def test_a_group_holds_at_most_the_programmes_maximum(db_session):
    school = make_school()
    programme = make_programme(school.trust, max_group_size=2)
    with pytest.raises(DomainError, match="at most 2 pupils; this group would have 3"):
        _group(school, programme, make_cleared_tutor(school),
               [make_pupil(school) for _ in range(3)])


def test_no_programme_allows_more_than_six_or_one_to_one_more_than_one(db_session):
    school = make_school()
    with pytest.raises(DomainError, match="from 1 to 6"):
        make_programme(school.trust, max_group_size=7)
    with pytest.raises(DomainError, match="one-to-one programme has a maximum group size of 1"):
        make_programme(school.trust, delivery_model="one_to_one", max_group_size=3)


def test_a_pupil_is_in_one_group_of_a_programme_at_a_time(db_session):
    school = make_school()
    programme = make_programme(school.trust)
    first = make_group(school, programme=programme, pupil_count=1)
    pupil = first.places[0].pupil
    second = make_group(school, programme=programme, pupil_count=0)
    with pytest.raises(DomainError, match="already in Maths group, another"):
        groups.add_pupils(second, [pupil])
    other = make_group(school, pupil_count=0)  # another programme: allowed
    assert groups.add_pupils(other, [pupil])


def test_a_suspended_endorsement_pauses_the_tutors_groups_at_once(db_session):
    school = make_school()
    group = make_group(school)
    endorsement = db_session.scalars(select(Endorsement).where(
        Endorsement.user_id == group.tutor_id)).one()
    endorsements.suspend_endorsement(endorsement, reason="Allegation under review", actor=None)
    assert not clearance(group.trust_id, group.school_id, group.tutor_id).approved
    with pytest.raises(DomainError, match="paused until the register approves them again"):
        log_delivered(group)


def test_a_programme_change_is_a_new_version_and_running_groups_keep_theirs(db_session):
    from lms.tutoring.programmes import ProgrammeTerms, change_programme

    school = make_school()
    group = make_group(school)
    old = group.programme
    terms = ProgrammeTerms.of(old)
    terms.rate_pence = 4500
    new = change_programme(old, terms)
    assert (new.version, new.key, new.rate_pence) == (2, old.key, 4500)
    assert group.programme.rate_pence == 3000 and not old.is_current
    with pytest.raises(DomainError, match="choose its current version"):
        _group(school, old, make_cleared_tutor(school))
