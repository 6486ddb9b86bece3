"""Units recommended from the evidence, each saying why: the weakest topics of the passing
assessment, the latest observation's scores, and the tutor's pupils' attendance, progress and
needs."""

from datetime import timedelta

from lms.library import queries
from lms.library.recommendations import recommend
from lms.platform import clock
from lms.platform.extensions import db
from lms.tutoring.progress import ProgressRecord, record_progress
from tests.factories import make_school
from tests.library_factory import (
    TUTOR_PASSWORD,
    complete,
    load_test_units,
    make_endorsed_tutor,
    record_passing_attempt,
)
from tests.tutoring_factory import log_delivered, make_cleared_tutor, make_group


def _why(tutor) -> dict[str, list[str]]:
    return {r.unit.slug: r.reasons for r in recommend(tutor, queries.current_units())}


def test_nothing_is_recommended_without_evidence(db_session):
    load_test_units()
    assert _why(make_endorsed_tutor()) == {}


def test_topics_under_70_percent_recommend_their_follow_on_units_with_the_score(db_session):
    load_test_units()
    tutor = make_endorsed_tutor()
    record_passing_attempt(tutor, {"planning-sessions": (2, 5),
                                   "assessment-for-learning": (4, 5),
                                   "supporting-pupils-with-send": (3, 5)})
    why = _why(tutor)
    assert why["first-session"] == [
        "You scored 2 of 5 on Planning sessions in your assessment"]
    assert why["pupils-with-send"] == [
        "You scored 3 of 5 on Supporting pupils with send in your assessment"]
    assert "checking-understanding" not in why  # 80%: secure


def test_the_topic_reads_with_the_course_modules_title(db_session):
    from courses.models import CourseModule, CourseVersion
    from lms.programme.models import Pathway

    load_test_units()
    version = CourseVersion(pathway=Pathway.PRIMARY, version="v1", title="Course",
                            intro_html="", target_minutes=600, total_minutes=600,
                            is_current=True)
    db.session.add(version)
    db.session.add(CourseModule(course_version=version, slug="planning-sessions",
                                title="Planning sessions that build", position=1))
    tutor = make_endorsed_tutor()
    record_passing_attempt(tutor, {"planning-sessions": (1, 4)})
    assert _why(tutor)["first-session"] == [
        "You scored 1 of 4 on Planning sessions that build in your assessment"]


def test_low_observation_scores_recommend_units_for_those_practices(db_session, monkeypatch):
    load_test_units()
    tutor = make_endorsed_tutor()
    asked = []

    def latest_scores(ids):
        asked.append(ids)
        return {tutor.id: {"checks_understanding": 2.0, "manages_time": 3.5}}

    monkeypatch.setattr("lms.library.recommendations.observation_scores", latest_scores)
    why = _why(tutor)
    assert asked == [{tutor.id}]
    assert why == {"checking-understanding": [
        "Your last observation scored 'Checks understanding' 2 of 4"]}


def _group(tutor, school, **kwargs):
    return make_group(school, tutor=tutor, **kwargs)


def test_pupils_missing_three_sessions_in_a_row_recommend_attendance_units(db_session):
    load_test_units()
    school = make_school()
    tutor = make_cleared_tutor(school)
    group = _group(tutor, school, pupil_count=3)
    missing = tuple(p.pupil_id for p in group.places[:2])
    for weeks in (3, 2, 1):
        log_delivered(group, clock.today() - timedelta(weeks=weeks), absent=missing)
    reasons = _why(tutor)["first-session"]
    assert "Two of your pupils missed 3 sessions in a row" in reasons
    assert "Your pupils attended 33% of their places over your groups' last sessions" in reasons


def test_attendance_at_80_percent_or_more_recommends_nothing(db_session):
    load_test_units()
    school = make_school()
    tutor = make_cleared_tutor(school)
    group = _group(tutor, school, pupil_count=3)
    log_delivered(group, clock.today() - timedelta(weeks=2))
    log_delivered(group, clock.today() - timedelta(weeks=1), absent=(group.places[0].pupil_id,))
    assert _why(tutor) == {}


def test_pupils_below_expected_progress_recommend_progress_units(db_session):
    load_test_units()
    school = make_school()
    tutor = make_cleared_tutor(school)
    group = _group(tutor, school, pupil_count=2, starts_on=clock.today() - timedelta(weeks=8))
    behind, on_track = group.places
    record_progress(behind, ProgressRecord(40, 60, 42, clock.today(), None))
    record_progress(on_track, ProgressRecord(40, 60, 55, clock.today(), None))
    assert _why(tutor)["pupils-with-send"] == [
        "One of your pupils is below the progress expected towards their target"]


def test_progress_is_not_judged_in_a_pupils_first_six_weeks(db_session):
    load_test_units()
    school = make_school()
    tutor = make_cleared_tutor(school)
    group = _group(tutor, school, pupil_count=1, starts_on=clock.today() - timedelta(weeks=3))
    record_progress(group.places[0], ProgressRecord(40, 60, 40, clock.today(), None))
    assert _why(tutor) == {}


def test_pupils_with_send_recommend_send_units(db_session):
    load_test_units()
    school = make_school()
    tutor = make_cleared_tutor(school)
    group = _group(tutor, school, pupil_count=3)
    for place in group.places[:2]:
        place.pupil.send = True
    db.session.flush()
    assert _why(tutor)["pupils-with-send"] == [
        "Two of your pupils have special educational needs (SEND)"]


def test_pupils_who_left_the_group_do_not_count(db_session):
    load_test_units()
    school = make_school()
    tutor = make_cleared_tutor(school)
    group = _group(tutor, school, pupil_count=1)
    group.places[0].pupil.send = True
    group.places[0].left_on = clock.today()
    db.session.flush()
    assert _why(tutor) == {}


def test_a_done_unit_is_not_recommended_again(db_session):
    load_test_units()
    tutor = make_endorsed_tutor()
    record_passing_attempt(tutor, {"planning-sessions": (1, 5)})
    complete(tutor, "first-session")
    assert _why(tutor) == {}


def test_more_reasons_rank_first(db_session, monkeypatch):
    load_test_units()
    tutor = make_endorsed_tutor()
    record_passing_attempt(tutor, {"planning-sessions": (1, 5),
                                   "assessment-for-learning": (1, 5)})
    monkeypatch.setattr("lms.library.recommendations.observation_scores",
                        lambda ids: {tutor.id: {"checks_understanding": 1.5}})
    order = [r.unit.slug for r in recommend(tutor, queries.current_units())]
    assert order == ["checking-understanding", "first-session"]


def test_the_library_lists_recommended_units_first_with_why(db_session, sign_in):
    load_test_units()
    tutor = make_endorsed_tutor()
    record_passing_attempt(tutor, {"assessment-for-learning": (2, 5)})
    db.session.commit()
    page = sign_in(tutor, TUTOR_PASSWORD).get("/library").get_data(as_text=True)
    recommended, others = page.split("Other units", 1)
    assert "Recommended for you" in recommended and "Checking understanding" in recommended
    assert "You scored 2 of 5 on Assessment for learning in your assessment" in recommended
    assert "Running your first session" in others
