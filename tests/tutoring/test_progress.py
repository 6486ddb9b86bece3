"""Progress: the five measures, on the programme's scale."""

from datetime import timedelta

import pytest

from lms.platform import clock
from lms.platform.errors import DomainError
from lms.tutoring.progress import ProgressRecord, record_progress
from tests.factories import make_school
from tests.tutoring_factory import make_group, make_programme


def _place(scale="score"):
    school = make_school()
    programme = make_programme(school.trust, measure_scale=scale)
    return make_group(school, programme=programme, pupil_count=1).places[0]


def test_values_must_lie_on_the_programmes_scale(db_session):
    place = _place("gcse_grade")
    with pytest.raises(DomainError, match="from 1 to 9"):
        record_progress(place, ProgressRecord(10, None, None, None, None))
    with pytest.raises(DomainError, match="whole number"):
        record_progress(place, ProgressRecord(4.5, None, None, None, None))


def test_the_five_measures_are_recorded_and_the_next_action_stays_out_of_the_log(db_session):
    place = _place()
    record_progress(place, ProgressRecord(40, 60, None, None, None, "Fractions next"))
    record_progress(place, ProgressRecord(None, None, 52, clock.today(), "standardised_test"))
    assert (place.baseline, place.target, place.current, place.current_on,
            place.evidence_source.value, place.next_action) == (
        40, 60, 52, clock.today(), "standardised_test", "Fractions next")


def test_a_current_status_needs_a_baseline_and_a_date_not_in_the_future(db_session):
    place = _place()
    with pytest.raises(DomainError, match="baseline before"):
        record_progress(place, ProgressRecord(None, None, 50, clock.today(), None))
    with pytest.raises(DomainError, match="Give the date"):
        record_progress(place, ProgressRecord(40, None, 50, None, None))
    with pytest.raises(DomainError, match="future"):
        record_progress(place, ProgressRecord(40, None, 50, clock.today() + timedelta(days=1),
                                              None))
    with pytest.raises(DomainError, match="at or above the baseline"):
        record_progress(place, ProgressRecord(40, 30, None, None, None))
