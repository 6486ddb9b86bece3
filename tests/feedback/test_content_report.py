"""The content report, on a small world whose every figure can be counted by hand.

Course: module-1 and module-2, two lessons each. Four tutors on the first version:
- A finishes the course (time needed + 0 s on module-1 lesson 1), rates module-1 2/3 and
  says "Too long", scores 4/5 on module-1's check;
- B reads module-1 lesson 1 (+60 s) and is withdrawn: stopped at lesson 1;
- C reads both module-1 lessons (+120 s) then opens nothing for 15 days: stopped at lesson 2;
  scores 3/5 on module-1's check;
- D reads module-1 lesson 1 (+180 s) a day ago: still studying, not a drop-off.
Then lesson 1 of module-1 is revised; E, on the new version, finishes module-1 and rates it
5/5.
"""

import csv
import io
from datetime import timedelta

import pytest

from courses.services import load_content, seconds_needed
from lms.feedback import report
from lms.platform import clock
from lms.platform.roles import Role
from lms.programme.models import EnrolmentStatus, Pathway
from tests.content_factory import edit_lesson
from tests.factories import make_enrolment, make_member, read_lesson
from tests.feedback_factory import (
    answer_check,
    finish_course,
    finish_module,
    lessons_of,
    load_course,
    rate,
)


@pytest.fixture
def world(db_session, tmp_path):
    root = load_course(tmp_path / "content")
    a, b, c, d = (make_enrolment() for _ in range(4))
    first, second = lessons_of(a, 0)
    needed = seconds_needed(first)
    read_lesson(b, first, seconds=needed + 60)
    b.move_to(EnrolmentStatus.WITHDRAWN, "Left the school.")
    read_lesson(c, first, seconds=needed + 120)
    read_lesson(c, second, seconds=seconds_needed(second))
    answer_check(c, "module-1", correct=3)
    db_session.commit()
    clock.travel(timedelta(days=15))
    finish_course(a)
    rate(a, "module-1", clear=2, useful=3, comment="Too long")
    answer_check(a, "module-1", correct=4)
    read_lesson(d, first, seconds=needed + 180)
    db_session.commit()
    clock.travel(timedelta(days=1))
    old_version = a.course_version
    edit_lesson(root, "module-1", 1, "Body of", "Shorter body of")
    load_content(root)
    db_session.commit()
    e = make_enrolment()
    finish_module(e, 0)
    rate(e, "module-1", clear=5, useful=5, comment="Much better")
    return {"needed": needed, "old": old_version, "new": e.course_version,
            "enrolments": (a, b, c, d, e)}


def _row(rows, module, lesson, version=None):
    return next(r for r in rows if r.module == module and r.lesson == lesson
                and r.course_version == version)


def _primary(reports):
    return next(r for r in reports if r.pathway == Pathway.PRIMARY)


def test_completion_counts_those_who_completed_of_those_who_started_the_module(world):
    rows = _primary(report.overall()).lessons
    first, second = _row(rows, "module-1", "lesson-1"), _row(rows, "module-1", "lesson-2")
    assert (first.completed, first.started_module, first.completion) == (5, 5, 100)
    assert (second.completed, second.started_module, second.completion) == (3, 5, 60)
    later = _row(rows, "module-2", "lesson-1")
    assert (later.completed, later.started_module, later.completion) == (1, 1, 100)


def test_the_median_time_is_set_against_the_lessons_minutes(world):
    first = _row(_primary(report.by_version()).lessons, "module-1", "lesson-1", world["old"])
    # A +0, B +60, C +120, D +180 seconds over what the lesson needs: median +90.
    assert first.median_minutes == round((world["needed"] + 90) / 60, 1)
    assert first.estimated_minutes > 0


def test_drop_offs_are_counted_at_the_last_lesson_open(world):
    rows = _primary(report.overall()).lessons
    first, second = _row(rows, "module-1", "lesson-1"), _row(rows, "module-1", "lesson-2")
    assert (first.stopped, first.reached, first.dropoff) == (1, 5, 20)  # B, withdrawn
    assert (second.stopped, second.reached, second.dropoff) == (1, 3, 33)  # C, inactive
    assert _row(rows, "module-2", "lesson-2").stopped == 0  # A finished: not a drop-off


def test_check_facility_is_the_share_of_answers_correct_for_the_lessons_module(world):
    rows = _primary(report.overall()).lessons
    assert _row(rows, "module-1", "lesson-2").facility.percent == 70  # 7 of 10
    assert _row(rows, "module-1", "lesson-2").facility.total == 10
    assert _row(rows, "module-2", "lesson-1").facility.percent is None


def test_ratings_and_comments_belong_to_the_module_newest_first(world):
    overall = _primary(report.overall())
    row = _row(overall.lessons, "module-1", "lesson-1")
    assert (row.ratings.n, row.ratings.clear, row.ratings.useful) == (2, 3.5, 4.0)
    module = next(m for m in overall.modules if m.module == "module-1")
    assert [text for _at, text in module.ratings.comments] == ["Much better", "Too long"]
    assert [c.comment for c in report.comments(Pathway.PRIMARY, "module-1")] == \
        ["Much better", "Too long"]


def test_before_and_after_a_revision_by_content_version(world):
    rows = _primary(report.by_version()).lessons
    before = _row(rows, "module-1", "lesson-1", world["old"])
    after = _row(rows, "module-1", "lesson-1", world["new"])
    assert (before.ratings.n, before.ratings.clear) == (1, 2.0)
    assert (after.ratings.n, after.ratings.clear) == (1, 5.0)
    assert (before.completed, before.started_module) == (4, 4)
    assert (after.completed, after.started_module) == (1, 1)
    assert before.facility.percent == 70 and after.facility.percent is None
    assert after.changed and not before.changed
    assert before.lesson_version != after.lesson_version
    unchanged = _row(rows, "module-1", "lesson-2", world["new"])
    assert not unchanged.changed
    assert unchanged.lesson_version == _row(rows, "module-1", "lesson-2",
                                            world["old"]).lesson_version


def test_rows_name_the_lessons_source_file(world):
    row = _row(_primary(report.overall()).lessons, "module-1", "lesson-1")
    assert row.source == "courses/content/modules/module-1/01-lesson-1.md"
    assert report.source_path("feedback", "principles-of-effective-feedback", 1) == \
        "courses/content/modules/feedback/01-principles-of-effective-feedback.md"


def test_lowest_rated_then_most_abandoned_first(world):
    rows = _primary(report.overall()).lessons
    ordered = [(r.module, r.lesson) for r in report.sort_rows(rows, "rating")]
    # module-1 is the only rated module; of its lessons, lesson-2 lost a larger share.
    assert ordered[:2] == [("module-1", "lesson-2"), ("module-1", "lesson-1")]
    abandoned = [(r.module, r.lesson) for r in report.sort_rows(rows, "abandoned")]
    assert abandoned[0] == ("module-1", "lesson-2")
    assert [(r.module, r.lesson) for r in report.sort_rows(rows, "course")] == [
        ("module-1", "lesson-1"), ("module-1", "lesson-2"), ("module-2", "lesson-1"),
        ("module-2", "lesson-2")]
    assert report.sort_rows(rows, "nonsense") == report.sort_rows(rows, "rating")


def test_the_course_rating_and_the_leaders_survey_are_summarised(world, db_session):
    a = world["enrolments"][0]
    rate(a, "course", clear=4, useful=2)
    primary = _primary(report.overall())
    assert (primary.course.n, primary.course.clear, primary.course.useful) == (1, 4.0, 2.0)
    assert primary.survey.sent == 0


# --- the pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.TUTOR, Role.CENTRAL_TEAM, Role.SCHOOL_LEADER])
def test_only_programme_admins_see_the_report(db_session, sign_in, role):
    client = sign_in(make_member(role))
    for url in ("/programme/content-report", "/programme/content-report.csv",
                "/programme/content-report/primary/module-1/comments"):
        assert client.get(url).status_code == 403


def test_the_report_page_csv_and_comments_for_an_admin(world, db_session, sign_in):
    client = sign_in(make_member(Role.PROGRAMME_ADMIN))
    page = client.get("/programme/content-report").get_data(as_text=True)
    assert "courses/content/modules/module-1/01-lesson-1.md" in page
    assert "“Too long”" in page and "60%" in page
    split = client.get("/programme/content-report?by=version&sort=abandoned")
    assert world["old"] in split.get_data(as_text=True) and world["new"] in \
        split.get_data(as_text=True)
    assert "revised" in split.get_data(as_text=True)
    response = client.get("/programme/content-report.csv?by=version")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == report.CSV_HEADINGS
    assert len(rows) == 1 + 8  # four lessons, two versions
    comments = client.get("/programme/content-report/primary/module-1/comments")
    assert "Much better" in comments.get_data(as_text=True)
    assert client.get("/programme/content-report/nowhere/module-1/comments").status_code == 404


def test_a_lessons_file_links_to_where_the_content_is_kept_when_that_is_set(
        world, app, db_session, sign_in):
    client = sign_in(make_member(Role.PROGRAMME_ADMIN))
    app.config["CONTENT_SOURCE_URL"] = "https://git.example.org/tutors/blob/main/"
    try:
        page = client.get("/programme/content-report").get_data(as_text=True)
    finally:
        app.config["CONTENT_SOURCE_URL"] = None
    assert ('href="https://git.example.org/tutors/blob/main/'
            'courses/content/modules/module-1/01-lesson-1.md"') in page
