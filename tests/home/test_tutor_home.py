"""The tutor's home page: the next step, the days left and the progress, in every case."""

from __future__ import annotations

import functools
import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from assessments.attempts.services import readiness, save_answer, start_attempt, submit_attempt
from assessments.bank.models import ItemVersion
from courses.services import course_progress
from credentials.endorsements.models import Endorsement
from lms.accounts.security import hash_password
from lms.home.tutor import StepKind, next_step
from lms.platform import clock
from lms.platform.roles import Role
from lms.programme.models import EnrolmentStatus
from lms.programme.window import lapse_overdue_enrolments, withdraw_enrolment
from tests.assessments.test_assessments import _answer, _finish_course, loaded  # noqa: F401
from tests.conftest import TEST_PASSWORD
from tests.factories import (
    make_endorsement,
    make_enrolment,
    make_member,
    make_school,
    read_lesson,
    revisit_lesson,
)


@functools.cache
def _password_hash() -> str:
    return hash_password(TEST_PASSWORD)


def _tutor(db_session, **overrides):
    """An enrolled tutor who can sign in with the test password."""
    enrolment = make_enrolment(**overrides)
    enrolment.user.password_hash = _password_hash()
    db_session.commit()
    return enrolment


def _home(sign_in, user) -> str:
    """The home page as ``user`` sees it; it never carries an answer key."""
    response = sign_in(user).get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert not re.search(r"correct[\"']?\s*[:=]", page, re.IGNORECASE)
    return page


def _no_option_feedback(db_session, page: str) -> None:
    """No option's feedback (which says why it is right or wrong) is on the page."""
    for item in db_session.scalars(select(ItemVersion)):
        for option in item.options:
            assert option["feedback"] not in page


def _fail_first_attempt(db_session, enrolment):
    attempt = start_attempt(enrolment)
    _answer(attempt, right=10)
    submit_attempt(attempt)
    db_session.commit()
    assert not attempt.passed and enrolment.is_active
    return attempt


def _revisit_every_lesson(enrolment) -> None:
    for module in course_progress(enrolment).modules:
        for lesson in module.module.lessons:
            revisit_lesson(enrolment, lesson)


@pytest.fixture
def ready(db_session, loaded):  # noqa: F811
    """A tutor who has finished every lesson and module check."""
    enrolment = _tutor(db_session)
    _finish_course(db_session, enrolment)
    return enrolment


# --- in training ------------------------------------------------------------------------


def test_a_tutor_with_an_attempt_in_progress_is_sent_back_to_finish_it(db_session, ready,
                                                                        sign_in):
    attempt = start_attempt(ready)
    for row in attempt.items[:3]:
        save_answer(attempt, row.position, [0])
    db_session.commit()

    step = next_step(ready.user)
    assert step.kind == StepKind.FINISH_ATTEMPT and step.title == "Finish your assessment"
    assert step.action.endpoint == "assessments.question"
    assert dict(step.action.values)["position"] == 3
    texts = [line.text for line in step.lines]
    assert "You have answered 3 of 30 questions." in texts
    assert any("45 minutes left" in text for text in texts)
    assert step.percent == 100 and step.days_left == 28

    page = _home(sign_in, ready.user)
    assert "Finish your assessment" in page and "45 minutes left" in page
    assert f'href="/learn/{ready.id}/attempts/{attempt.id}/q/3"' in page
    assert "Go to question 4" in page
    _no_option_feedback(db_session, page)

    clock.travel(timedelta(minutes=46))
    late = next_step(ready.user)
    assert late.kind == StepKind.FINISH_ATTEMPT and late.title == "Your assessment time is up"
    page = _home(sign_in, ready.user)
    assert f'href="/learn/{ready.id}/attempts/{attempt.id}/review"' in page


def test_a_tutor_who_has_opened_nothing_is_asked_to_start_the_course(db_session, loaded,  # noqa: F811
                                                                     sign_in):
    enrolment = _tutor(db_session)
    first = course_progress(enrolment).version.lessons[0]

    step = next_step(enrolment.user)
    assert step.kind == StepKind.START_COURSE and step.title == "Start your course"
    assert dict(step.action.values) == {"enrolment_id": enrolment.id, "lesson_id": first.id}
    assert step.percent == 0 and step.days_left == 28

    page = _home(sign_in, enrolment.user)
    assert "Start your course" in page and escape(f"First lesson: {first.title}.") in page
    assert f'href="/learn/{enrolment.id}/lessons/{first.id}"' in page
    assert "28 days left" in page
    assert "0% of the course done" in page
    assert re.search(r'<progress class="progress" max="100" value="0"', page)


def test_a_tutor_part_way_through_is_taken_to_the_next_lesson(db_session, loaded, sign_in):  # noqa: F811
    enrolment = _tutor(db_session)
    lessons = course_progress(enrolment).modules[0].module.lessons
    for lesson in lessons[:2]:
        read_lesson(enrolment, lesson)
    db_session.commit()
    progress = course_progress(enrolment)
    following = progress.next_lesson
    assert following.id == lessons[2].id

    step = next_step(enrolment.user)
    assert step.kind == StepKind.CONTINUE_LESSON
    assert step.title == f"Continue: {following.title}"
    assert dict(step.action.values)["lesson_id"] == following.id
    assert 0 < step.percent == progress.percent

    page = _home(sign_in, enrolment.user)
    assert escape(f"Continue: {following.title}") in page
    assert f'href="/learn/{enrolment.id}/lessons/{following.id}"' in page
    assert f"{progress.percent}% of the course done" in page
    assert f'value="{progress.percent}"' in page


def test_a_tutor_who_finished_a_modules_lessons_is_asked_to_take_its_check(db_session,
                                                                           loaded, sign_in):  # noqa: F811
    enrolment = _tutor(db_session)
    module = course_progress(enrolment).modules[0].module
    for lesson in module.lessons:
        read_lesson(enrolment, lesson)
    db_session.commit()

    step = next_step(enrolment.user)
    assert step.kind == StepKind.TAKE_CHECK and step.title == f"Take the check: {module.title}"
    assert step.action.post and step.action.endpoint == "assessments.start_check"

    client = sign_in(enrolment.user)
    page = _home(sign_in, enrolment.user)
    action = f"/learn/{enrolment.id}/checks/{module.slug}"
    assert f'<form method="post" action="{action}">' in page
    assert 'name="csrf_token"' in page
    response = client.post(action)
    assert response.status_code == 302 and "/checks/try/" in response.location


def test_a_tutor_who_finished_the_course_is_told_to_take_the_assessment(db_session, ready,
                                                                        sign_in):
    step = next_step(ready.user)
    assert step.kind == StepKind.TAKE_ASSESSMENT and step.title == "Take the assessment"
    assert step.action.endpoint == "assessments.assessment"
    assert step.percent == 100

    page = _home(sign_in, ready.user)
    assert "Take the assessment" in page
    assert "30 questions; you have 45 minutes once you start and need 80% to pass." in page
    assert f'href="/learn/{ready.id}/assessment"' in page
    assert "100% of the course done" in page


def test_a_tutor_who_failed_the_first_attempt_is_told_what_is_needed_before_the_second(
        db_session, ready, sign_in):
    attempt = _fail_first_attempt(db_session, ready)
    needs = readiness(ready).needs
    assert any("Wait until" in need for need in needs)
    assert any("Revisit the lesson" in need for need in needs)

    step = next_step(ready.user)
    assert step.kind == StepKind.BEFORE_NEXT_ATTEMPT
    assert step.title == "Before your second attempt"
    assert [line.text for line in step.lines] == needs
    revisit = [line for line in step.lines if line.text.startswith("Revisit the lesson")]
    assert revisit and all(line.link.endpoint == "courses.lesson" for line in revisit)
    assert not any(line.link for line in step.lines if line not in revisit)
    assert step.action == revisit[0].link
    assert [link.endpoint for link in step.links] == ["assessments.result"]

    page = _home(sign_in, ready.user)
    assert "Before your second attempt" in page
    assert escape(next(need for need in needs if need.startswith("Wait until"))) in page
    for line in revisit:
        lesson_id = dict(line.link.values)["lesson_id"]
        assert (f'<li><a href="/learn/{ready.id}/lessons/{lesson_id}">{escape(line.text)}</a>'
                "</li>") in page
    assert f'href="/learn/{ready.id}/attempts/{attempt.id}/result"' in page
    _no_option_feedback(db_session, page)


def test_after_the_cool_off_and_the_flagged_lessons_a_tutor_is_offered_the_second_attempt(
        db_session, ready, sign_in):
    _fail_first_attempt(db_session, ready)
    clock.travel(timedelta(hours=25))
    _revisit_every_lesson(ready)
    db_session.commit()

    step = next_step(ready.user)
    assert step.kind == StepKind.TAKE_ASSESSMENT and step.title == "Take your second attempt"
    assert "You have used 1 of 2 attempts." in [line.text for line in step.lines]

    page = _home(sign_in, ready.user)
    assert "Take your second attempt" in page and "You have used 1 of 2 attempts." in page
    assert f'href="/learn/{ready.id}/assessment"' in page


def test_a_tutor_whose_course_is_not_published_is_told_so_and_still_sees_the_days_left(
        db_session, sign_in):
    enrolment = _tutor(db_session)
    step = next_step(enrolment.user)
    assert step.kind == StepKind.COURSE_UNAVAILABLE and step.days_left == 28

    page = _home(sign_in, enrolment.user)
    assert "Your course is not available yet" in page and "28 days left" in page


def test_a_tutor_past_the_deadline_before_the_nightly_lapse_is_told_the_window_has_closed(
        db_session, loaded, sign_in):  # noqa: F811
    enrolment = _tutor(db_session)
    clock.travel(timedelta(days=28, hours=1))

    step = next_step(enrolment.user)
    assert step.kind == StepKind.WINDOW_CLOSED and step.action is None
    assert step.days_left == 0 and step.percent == 0

    page = _home(sign_in, enrolment.user)
    assert "Your training window has closed" in page and "0 days left" in page
    assert escape(f"Talk to your school leader at {enrolment.school.name}.") in page


# --- after the window -------------------------------------------------------------------


def test_a_tutor_who_passed_is_offered_their_endorsement_to_download(db_session, ready,
                                                                     sign_in):
    attempt = start_attempt(ready)
    _answer(attempt, right=30)
    submit_attempt(attempt)
    db_session.commit()  # the endorsement is issued once the pass has committed
    endorsement = db_session.scalars(select(Endorsement)).one()

    step = next_step(ready.user)
    assert step.kind == StepKind.ENDORSED and step.title == "Download your endorsement"
    assert step.endorsement.id == endorsement.id and step.endorsement_status.valid
    assert step.percent is None and step.days_left is None

    page = _home(sign_in, ready.user)
    assert "Download your endorsement" in page
    assert 'href="/my/endorsements"' in page
    assert f'href="/credentials/{endorsement.public_id}.json?download=1"' in page
    assert f'href="/credentials/{endorsement.public_id}/certificate.pdf?download=1"' in page
    assert "<progress" not in page and "days left" not in page
    _no_option_feedback(db_session, page)


def test_a_tutor_whose_endorsement_is_not_issued_yet_is_told_it_is_being_prepared(
        db_session, sign_in):
    enrolment = _tutor(db_session)
    enrolment.move_to(EnrolmentStatus.PASSED, "Passed the assessment.")
    db_session.commit()

    step = next_step(enrolment.user)
    assert step.kind == StepKind.ENDORSEMENT_PENDING and step.endorsement is None
    assert step.title == "Your endorsement is being prepared"

    page = _home(sign_in, enrolment.user)
    assert "Your endorsement is being prepared" in page and 'href="/my/endorsements"' in page


def test_a_tutor_who_failed_both_attempts_is_told_to_talk_to_their_school_leader(
        db_session, ready, sign_in):
    _fail_first_attempt(db_session, ready)
    clock.travel(timedelta(hours=25))
    _revisit_every_lesson(ready)
    second = start_attempt(ready)
    _answer(second, right=10)
    submit_attempt(second)
    db_session.commit()
    assert ready.status == EnrolmentStatus.FAILED

    step = next_step(ready.user)
    assert step.kind == StepKind.TRAINING_ENDED and step.title == "Your training has ended"
    assert step.action is None and step.endorsement is None
    assert step.lines[0].text == "You did not pass the assessment within the attempts allowed."

    page = _home(sign_in, ready.user)
    assert "Your training has ended" in page
    assert escape(f"Talk to your school leader at {ready.school.name}") in page
    assert "days left" not in page and "<progress" not in page
    assert f'href="/enrolments/{ready.id}"' in page
    _no_option_feedback(db_session, page)


def test_a_tutor_whose_window_lapsed_is_told_their_training_has_ended(db_session, loaded,  # noqa: F811
                                                                      sign_in):
    enrolment = _tutor(db_session)
    clock.travel(timedelta(days=29))
    assert lapse_overdue_enrolments() == 1
    db_session.commit()

    step = next_step(enrolment.user)
    assert step.kind == StepKind.TRAINING_ENDED
    assert step.lines[0].text.startswith("Your training window closed on")

    page = _home(sign_in, enrolment.user)
    assert "Your training has ended" in page and "Your training window closed on" in page
    assert escape(f"Talk to your school leader at {enrolment.school.name}") in page


def test_a_withdrawn_tutor_who_holds_an_older_endorsement_keeps_the_link_to_it(db_session,
                                                                              sign_in):
    school = make_school()
    earlier = make_endorsement(school)
    tutor = earlier.user
    db_session.commit()
    clock.travel(timedelta(days=1))
    again = _tutor(db_session, school=school, email=tutor.email, name=tutor.name)
    withdraw_enrolment(again, reason="Left the school", actor=None)
    db_session.commit()

    step = next_step(tutor)
    assert step.enrolment.id == again.id and step.kind == StepKind.TRAINING_ENDED
    assert step.endorsement.id == earlier.id
    assert step.action.endpoint == "credentials.my_endorsements"
    assert step.lines[0].text.startswith("You were withdrawn from training on")

    page = _home(sign_in, tutor)
    assert "Your training has ended" in page
    assert escape(f"Talk to your school leader at {school.name}") in page
    assert "Your earlier endorsement is still yours." in page
    assert f'href="/credentials/{earlier.public_id}.json?download=1"' in page


def test_a_tutor_never_enrolled_and_staff_see_the_home_page_as_before(db_session, sign_in):
    school = make_school(name="Aldbrook Primary")
    tutor = make_member(Role.TUTOR, school=school)
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    db_session.commit()
    assert next_step(tutor) is None and next_step(leader) is None

    page = _home(sign_in, tutor)
    assert "You have no training in progress at Aldbrook Primary." in page
    assert 'href="/my/endorsements"' in page and "next-step" not in page
