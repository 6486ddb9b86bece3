"""Pupils: the least data, CSV all or nothing, export, erasure that keeps the totals, and
the retention sweep."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.audit.models import AuditEntry
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.tutoring import groups, pupils
from lms.tutoring.models import Pupil, SessionAttendance
from tests.factories import make_school
from tests.tutoring_factory import log_delivered, make_group, make_pupil


def test_a_pupil_record_refuses_a_unique_pupil_number(db_session):
    with pytest.raises(DomainError, match="never holds UPNs"):
        pupils.details_from(display_name="AB", reference="A123456789012", year_group="5")


@pytest.mark.parametrize("written, year", [("R", 0), ("Reception", 0), ("5", 5), ("Y5", 5),
                                           ("Year 11", 11)])
def test_year_groups_are_read_as_schools_write_them(written, year):
    assert pupils.year_from(written) == year


def test_the_pupil_record_has_no_field_for_birth_dates_addresses_or_free_text():
    columns = set(Pupil.__table__.columns.keys())
    assert columns == {"id", "school_id", "display_name", "reference", "pseudonym",
                       "year_group", "disadvantaged", "send", "eal", "created_by_id",
                       "created_at", "erased_at"}


def test_a_csv_with_any_bad_row_adds_nobody_and_lists_every_problem(db_session):
    school = make_school()
    make_pupil(school, reference="ADM1")
    raw = (b"display_name,reference,year_group,disadvantaged,send,eal\n"
           b"A.B.,ADM1,5,yes,no,no\n"      # taken
           b"C.D.,ADM2,14,no,no,no\n"      # no Year 14
           b"E.F.,ADM3,R,maybe,no,no\n"    # not yes or no
           b"G.H.,ADM4,3,no,no,no\n"
           b"I.J.,ADM4,3,no,no,no\n")  # duplicate in file
    result = pupils.import_pupils(school, raw)
    assert [e["line"] for e in result.errors] == [2, 3, 4, 6]
    assert db_session.scalar(select(func.count(Pupil.id))) == 1
    good = pupils.import_pupils(school, b"display_name,reference,year_group\nK,ADM9,2\n")
    assert not good.errors and good.added[0].year_group == 2


def test_erasing_a_schools_pupils_clears_names_and_keeps_the_totals(db_session):
    school = make_school()
    group = make_group(school, pupil_count=2)
    log_delivered(group, minutes=60)
    minutes = db_session.scalar(select(func.sum(SessionAttendance.minutes)))
    export = pupils.export_school_pupils(school)
    assert group.places[0].pupil.display_name in export and "attendance" in export
    assert pupils.erase_school_pupils(school, reason="Subject access request") == 2
    names = set(db_session.scalars(select(Pupil.display_name)))
    assert names == {"Erased pupil"}
    assert db_session.scalar(select(func.sum(SessionAttendance.minutes))) == minutes == 120
    assert db_session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "tutoring.pupil_erased")) == 2
    assert pupils.school_pupils(school) == []


def test_the_sweep_erases_pupils_two_years_after_their_last_group_ended(db_session):
    school = make_school()
    group = make_group(school, pupil_count=1)
    still_placed = make_group(school, pupil_count=1)
    groups.end_group(group)
    clock.travel(timedelta(days=2 * 365 - 5))
    assert pupils.sweep_expired_pupils() == 0
    clock.travel(timedelta(days=10))
    assert pupils.sweep_expired_pupils() == 1
    assert group.places[0].pupil.erased_at is not None
    assert still_placed.places[0].pupil.erased_at is None


def test_a_trust_sets_its_own_retention_period(db_session):
    school = make_school()
    with pytest.raises(DomainError, match="from 1 to 25"):
        pupils.set_retention_years(school.trust, 0)
    pupils.set_retention_years(school.trust, 5)
    assert pupils.retention_years(school.trust_id) == 5
