"""Course content: loading, versioning, pinning, progress, unlocking and safe rendering."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from courses.content import ContentError, read_pathways, render_markdown
from courses.models import CourseVersion, Lesson, LessonProgress
from courses.queries import progress_summaries
from courses.services import (
    LessonNotFinished,
    complete_lesson,
    course_progress,
    load_content,
    pin_course_version,
    view_lesson,
)
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from lms.programme.models import EnrolmentStatus, Pathway
from tests.content_factory import edit_lesson, write_content
from tests.factories import make_enrolment, make_member, make_school, read_lesson


@pytest.fixture
def content(tmp_path):
    return write_content(tmp_path / "content")


@pytest.fixture
def loaded(db_session, content):
    load_content(content)
    db_session.commit()
    return content


def _versions(db_session):
    return db_session.scalars(select(CourseVersion).order_by(CourseVersion.id)).all()


def test_loading_twice_changes_nothing(db_session, content):
    first = load_content(content)
    db_session.commit()
    second = load_content(content)
    db_session.commit()
    assert first[0].created and not second[0].created
    assert first[0].version == second[0].version
    assert len(_versions(db_session)) == 1
    assert db_session.scalar(select(func.count(Lesson.id))) == 4


def test_an_edit_makes_a_new_current_version_and_keeps_the_old(db_session, loaded):
    edit_lesson(loaded, "module-1", 1, "Body of", "Corrected body of")
    load_content(loaded)
    db_session.commit()
    old, new = _versions(db_session)
    assert old.version != new.version
    assert new.is_current and not old.is_current


def test_an_enrolment_stays_on_the_version_it_started_with(db_session, loaded):
    enrolment = make_enrolment()
    started_on = enrolment.course_version
    assert started_on == _versions(db_session)[0].version
    edit_lesson(loaded, "module-1", 1, "Body of", "Typo fixed in")
    load_content(loaded)
    db_session.commit()
    assert pin_course_version(enrolment).version == started_on
    first = course_progress(enrolment).version.modules[0].lessons[0]
    assert "Typo fixed" not in db_session.get(Lesson, first.id).body_html
    newcomer = make_enrolment()
    assert newcomer.course_version != started_on


def test_completion_is_saved_at_once_with_time_spent_across_devices(db_session, loaded):
    enrolment = make_enrolment()
    lesson = course_progress(enrolment).next_lesson
    view_lesson(enrolment, lesson)  # on a phone
    db_session.commit()
    clock.travel(timedelta(minutes=12))
    complete_lesson(enrolment, lesson)  # on a laptop: the server remembered the start
    db_session.commit()
    row = db_session.scalars(select(LessonProgress)).one()
    assert row.completed_at is not None
    assert row.seconds_spent == 12 * 60
    assert course_progress(enrolment).next_lesson.id != lesson.id


def test_time_for_one_sitting_is_capped(db_session, loaded):
    enrolment = make_enrolment()
    lesson = course_progress(enrolment).next_lesson
    view_lesson(enrolment, lesson)
    clock.travel(timedelta(hours=5))
    progress = complete_lesson(enrolment, lesson)
    assert progress.seconds_spent == 45 * 60


def test_a_module_opens_only_when_the_one_before_is_finished(db_session, loaded):
    enrolment = make_enrolment()
    progress = course_progress(enrolment)
    first, second = progress.modules
    assert first.unlocked and not second.unlocked
    with pytest.raises(DomainError, match="Finish"):
        view_lesson(enrolment, second.module.lessons[0])
    for lesson in first.module.lessons:
        read_lesson(enrolment, lesson)
    progress = course_progress(enrolment)
    assert progress.modules[0].complete and progress.modules[1].unlocked
    assert progress.percent == 50


def test_course_is_complete_when_every_lesson_is(db_session, loaded):
    enrolment = make_enrolment()
    for lesson in course_progress(enrolment).version.lessons:
        read_lesson(enrolment, lesson)
    progress = course_progress(enrolment)
    assert progress.complete and progress.percent == 100 and progress.next_lesson is None


def test_a_closed_window_freezes_progress(db_session, loaded):
    enrolment = make_enrolment()
    lesson = course_progress(enrolment).next_lesson
    enrolment.move_to(EnrolmentStatus.LAPSED, "deadline")
    with pytest.raises(DomainError, match="closed"):
        complete_lesson(enrolment, lesson)


def test_leaders_see_progress_percent_and_last_activity(db_session, loaded, sign_in):
    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    enrolment = make_enrolment(school)
    lesson = course_progress(enrolment).next_lesson
    read_lesson(enrolment, lesson)
    db_session.commit()
    summary = progress_summaries([enrolment.id])[enrolment.id]
    assert summary.percent == 25 and summary.last_activity is not None
    page = sign_in(leader).get(f"/schools/{school.id}/nominations").get_data(as_text=True)
    assert "25%" in page


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="https://x.example" onclick="steal()">x</a>',
        "<iframe src='https://x.example'></iframe>",
        '<p style="position:fixed">x</p>',
    ],
)
def test_raw_html_in_content_is_removed(hostile):
    html = render_markdown(f"Hello\n\n{hostile}\n")
    for bad in ("<script", "onerror", "javascript:", "onclick", "<iframe", "style="):
        assert bad not in html


def test_a_lesson_without_outcomes_or_reflection_is_refused(tmp_path):
    root = write_content(tmp_path / "c")
    edit_lesson(root, "module-1", 1, "outcomes:\n  - Explain module-1 lesson 1\n", "")
    with pytest.raises(ContentError, match="outcomes"):
        read_pathways(root)
    root = write_content(tmp_path / "d")
    edit_lesson(root, "module-2", 2, "## Reflection", "## Something else")
    with pytest.raises(ContentError, match="Reflection"):
        read_pathways(root)


def test_a_video_needs_a_transcript(tmp_path):
    root = write_content(tmp_path / "c")
    edit_lesson(root, "module-1", 1, "---\n## What",
                "video:\n  url: https://v.example/1\n---\n## What")
    with pytest.raises(ContentError, match="transcript"):
        read_pathways(root)


def test_tutor_reads_and_completes_a_lesson_without_javascript(db_session, loaded, sign_in):
    enrolment = make_enrolment()
    enrolment.user.password_hash = make_member(Role.SCHOOL_LEADER).password_hash
    db_session.commit()
    client = sign_in(enrolment.user)
    course = client.get(f"/learn/{enrolment.id}").get_data(as_text=True)
    assert "Start the course" in course and "0% done" in course
    lesson = course_progress(enrolment).next_lesson
    page = client.get(f"/learn/{enrolment.id}/lessons/{lesson.id}")
    assert page.status_code == 200 and "<script" not in page.get_data(as_text=True)
    clock.travel(timedelta(minutes=5))  # a 10-minute lesson needs 4
    done = client.post(f"/learn/{enrolment.id}/lessons/{lesson.id}/complete")
    assert done.status_code == 302
    assert "Continue where you left off" in client.get(f"/learn/{enrolment.id}").get_data(
        as_text=True)


def test_a_lesson_marked_complete_too_soon_says_kindly_how_long_is_left(db_session, loaded,
                                                                        sign_in):
    enrolment = make_enrolment()
    enrolment.user.password_hash = make_member(Role.SCHOOL_LEADER).password_hash
    db_session.commit()
    client = sign_in(enrolment.user)
    lesson = course_progress(enrolment).next_lesson
    client.get(f"/learn/{enrolment.id}/lessons/{lesson.id}")
    clock.travel(timedelta(minutes=1))
    refused = client.post(f"/learn/{enrolment.id}/lessons/{lesson.id}/complete")
    assert refused.headers["Location"].endswith(f"/learn/{enrolment.id}/lessons/{lesson.id}")
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "not marked complete yet" in page and "about 3 more minutes" in page
    assert course_progress(enrolment).next_lesson.id == lesson.id
    clock.travel(timedelta(minutes=3))  # the minute already spent was kept
    client.post(f"/learn/{enrolment.id}/lessons/{lesson.id}/complete")
    assert course_progress(enrolment).next_lesson.id != lesson.id


@pytest.mark.parametrize("percent, minutes, done", [(40, 3, False), (40, 4, True),
                                                    (100, 9, False), (100, 10, True)])
def test_a_lesson_counts_as_done_after_the_set_share_of_its_minutes(
        app, db_session, loaded, monkeypatch, percent, minutes, done):
    monkeypatch.setitem(app.config, "LESSON_TIME_PERCENT", percent)
    enrolment = make_enrolment()
    lesson = course_progress(enrolment).next_lesson
    view_lesson(enrolment, lesson)
    clock.travel(timedelta(minutes=minutes))
    if done:
        assert complete_lesson(enrolment, lesson).completed_at is not None
    else:
        with pytest.raises(LessonNotFinished):
            complete_lesson(enrolment, lesson)
        assert db_session.scalars(select(LessonProgress)).one().seconds_spent == minutes * 60


def test_time_spent_across_visits_adds_up_to_completion(db_session, loaded):
    enrolment = make_enrolment()
    lesson = course_progress(enrolment).next_lesson
    for _ in range(2):
        view_lesson(enrolment, lesson)
        clock.travel(timedelta(minutes=2))
        view_lesson(enrolment, lesson)  # left, and came back later on another device
        clock.travel(timedelta(hours=3))
    view_lesson(enrolment, lesson)
    assert complete_lesson(enrolment, lesson).seconds_spent == 4 * 60 + 45 * 60 * 2


def test_only_the_tutor_studies_their_course(db_session, loaded, sign_in):
    school = make_school()
    enrolment = make_enrolment(school)
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    db_session.commit()
    client = sign_in(leader)
    assert client.get(f"/learn/{enrolment.id}").status_code == 403
    other = make_enrolment()
    db_session.commit()
    assert client.get(f"/learn/{other.id}").status_code == 404


def test_admins_see_versions_and_lessons(db_session, loaded, sign_in):
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    client = sign_in(admin)
    page = client.get("/admin/courses").get_data(as_text=True)
    version = _versions(db_session)[0]
    assert version.version in page
    lesson = version.lessons[0]
    assert lesson.title in client.get(f"/admin/courses/{version.id}").get_data(as_text=True)
    assert client.get(f"/admin/courses/lessons/{lesson.id}").status_code == 200


def test_pathway_enum_matches_content_names():
    assert {p.value for p in Pathway} == {"qts_refresher", "primary", "secondary"}
