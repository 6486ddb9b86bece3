"""Tutors rate each module once it is done, and the course at the end: 1 to 5 on two scales,
an optional short comment, once each, skippable, and never in the way of the course."""

import re

import pytest
from sqlalchemy import func, select

from courses.services import course_progress
from lms.feedback import services
from lms.feedback.models import COURSE, ModuleRating, SkippedRating
from lms.platform.errors import DomainError
from tests.factories import make_enrolment, read_lesson
from tests.feedback_factory import (
    TUTOR_PASSWORD,
    finish_course,
    finish_module,
    lessons_of,
    load_course,
    rate,
)


@pytest.fixture
def course(db_session, tmp_path):
    return load_course(tmp_path / "content")


@pytest.fixture
def enrolment(course):
    return make_enrolment()


def _ratings(db_session) -> int:
    return db_session.scalar(select(func.count(ModuleRating.id)))


def test_a_module_can_be_rated_only_once_its_lessons_are_done(db_session, enrolment):
    with pytest.raises(DomainError, match="once you have finished"):
        services.rate(enrolment, "module-1", clear=4, useful=5)
    read_lesson(enrolment, lessons_of(enrolment, 0)[0])
    with pytest.raises(DomainError, match="once you have finished"):
        services.rate(enrolment, "module-1", clear=4, useful=5)
    finish_module(enrolment, 0)
    rating = rate(enrolment, "module-1", clear=4, useful=5, comment="  Clear examples.  ")
    assert (rating.clear, rating.useful, rating.comment) == (4, 5, "Clear examples.")
    assert rating.user_id == enrolment.user_id and rating.pathway == enrolment.pathway


def test_the_rating_records_the_content_version_the_tutor_studied(db_session, enrolment):
    finish_module(enrolment, 0)
    assert rate(enrolment).course_version == enrolment.course_version


@pytest.mark.parametrize("clear, useful", [(0, 3), (6, 3), (3, None), ("", 3), ("four", 3),
                                           (3, 2.5)])
def test_scores_are_whole_numbers_from_1_to_5(db_session, enrolment, clear, useful):
    finish_module(enrolment, 0)
    with pytest.raises(DomainError, match="from 1 to 5"):
        services.rate(enrolment, "module-1", clear=clear, useful=useful)
    assert _ratings(db_session) == 0


def test_a_comment_is_at_most_500_characters(db_session, enrolment):
    finish_module(enrolment, 0)
    with pytest.raises(DomainError, match="500 characters") as refused:
        services.rate(enrolment, "module-1", clear=3, useful=3, comment="x" * 501)
    assert refused.value.field == "comment"
    assert rate(enrolment, comment="x" * 500).comment == "x" * 500


def test_each_module_is_rated_once(db_session, enrolment):
    finish_module(enrolment, 0)
    rate(enrolment)
    with pytest.raises(DomainError, match="already rated"):
        services.rate(enrolment, "module-1", clear=1, useful=1)
    assert _ratings(db_session) == 1


def test_the_course_is_rated_at_the_end_under_its_own_key(db_session, enrolment):
    finish_module(enrolment, 0)
    with pytest.raises(DomainError, match="every module"):
        services.rate(enrolment, COURSE, clear=5, useful=5)
    finish_module(enrolment, 1)
    assert rate(enrolment, COURSE, clear=5, useful=4).module == COURSE


def test_a_module_outside_the_course_cannot_be_rated(db_session, enrolment):
    with pytest.raises(DomainError, match="not part of your course"):
        services.rate(enrolment, "no-such-module", clear=3, useful=3)


def test_the_prompt_shows_for_the_module_just_finished_until_rated_or_skipped(
        db_session, enrolment):
    progress = course_progress(enrolment)
    assert services.prompt_for(progress, progress.modules[0], set()) is None
    finish_module(enrolment, 0)
    progress = course_progress(enrolment)
    prompt = services.prompt_for(progress, progress.modules[0], set())
    assert prompt.module == "module-1" and prompt.title == "Title of module-1"
    assert services.prompt_for(progress, progress.modules[0], {"module-1"}) is None
    # On the next module's first lesson, the same prompt.
    first = progress.modules[1].module.lessons[0]
    assert services.prompt_before(progress, first.id, set()).module == "module-1"
    assert services.prompt_before(progress, progress.modules[0].module.lessons[0].id,
                                  set()) is None


def test_at_the_end_only_the_course_prompt_shows(db_session, enrolment):
    finish_course(enrolment)
    progress = course_progress(enrolment)
    assert all(services.prompt_for(progress, m, set()) is None for m in progress.modules)
    assert services.prompt_for(progress, None, set()).is_course


def test_skipping_records_no_rating_and_hides_the_prompt(db_session, enrolment):
    finish_module(enrolment, 0)
    services.skip(enrolment, "module-1")
    services.skip(enrolment, "module-1")  # twice: still one
    db_session.commit()
    assert _ratings(db_session) == 0
    assert db_session.scalar(select(func.count(SkippedRating.id))) == 1
    assert services.answered(enrolment.id) == {"module-1"}


def test_skipping_or_not_rating_never_blocks_the_course(db_session, enrolment):
    finish_module(enrolment, 0)  # not rated
    assert course_progress(enrolment).modules[1].unlocked
    finish_module(enrolment, 1)
    assert course_progress(enrolment).complete


# --- the pages ------------------------------------------------------------------------------


def _course_page(client, enrolment) -> str:
    return client.get(f"/learn/{enrolment.id}").get_data(as_text=True)


def test_the_course_page_offers_the_prompt_once_the_module_is_done(db_session, enrolment,
                                                                   sign_in):
    client = sign_in(enrolment.user, TUTOR_PASSWORD)
    assert "How was “Title of module-1”?" not in _course_page(client, enrolment)
    finish_module(enrolment, 0)
    page = _course_page(client, enrolment)
    assert "How was “Title of module-1”?" in page
    assert f'action="/learn/{enrolment.id}/feedback/module-1"' in page


def test_one_form_sends_the_rating_and_returns_to_where_the_tutor_was(db_session, enrolment,
                                                                     sign_in):
    client = sign_in(enrolment.user, TUTOR_PASSWORD)
    finish_module(enrolment, 0)
    response = client.post(f"/learn/{enrolment.id}/feedback/module-1", data={
        "clear": "5", "useful": "3", "comment": "More on pacing, please.",
        "next": f"/learn/{enrolment.id}"})
    assert response.status_code == 302 and response.headers["Location"] == \
        f"/learn/{enrolment.id}"
    rating = db_session.scalars(select(ModuleRating)).one()
    assert (rating.clear, rating.useful, rating.comment) == (5, 3, "More on pacing, please.")
    assert "How was “Title of module-1”?" not in _course_page(client, enrolment)


def test_a_missing_score_is_answered_on_the_form_keeping_the_comment(db_session, enrolment,
                                                                    sign_in):
    client = sign_in(enrolment.user, TUTOR_PASSWORD)
    finish_module(enrolment, 0)
    response = client.post(f"/learn/{enrolment.id}/feedback/module-1", data={
        "clear": "5", "comment": "Kept text", "next": f"/learn/{enrolment.id}"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose a number from 1 to 5 for “How useful is it for your tutoring?”" in page
    assert "Kept text" in page and _ratings(db_session) == 0


def test_skip_hides_the_prompt_and_keeps_the_tutor_where_they_were(db_session, enrolment,
                                                                  sign_in):
    client = sign_in(enrolment.user, TUTOR_PASSWORD)
    finish_module(enrolment, 0)
    lesson = lessons_of(enrolment, 1)[0]
    page = client.get(f"/learn/{enrolment.id}/lessons/{lesson.id}").get_data(as_text=True)
    assert "How was “Title of module-1”?" in page
    here = re.search(r'name="next" value="([^"]+)"', page).group(1)
    response = client.post(f"/learn/{enrolment.id}/feedback/module-1/skip",
                           data={"next": here})
    assert response.status_code == 302 and response.headers["Location"] == here
    assert "How was" not in client.get(here).get_data(as_text=True)
    assert _ratings(db_session) == 0


def test_an_outside_address_to_return_to_is_ignored(db_session, enrolment, sign_in):
    client = sign_in(enrolment.user, TUTOR_PASSWORD)
    finish_module(enrolment, 0)
    response = client.post(f"/learn/{enrolment.id}/feedback/module-1/skip",
                           data={"next": "//evil.example/"})
    assert response.headers["Location"] == f"/learn/{enrolment.id}"


def test_nobody_else_can_rate_a_tutors_module(db_session, enrolment, sign_in):
    other = make_enrolment()
    finish_module(enrolment, 0)
    client = sign_in(other.user, TUTOR_PASSWORD)
    assert client.post(f"/learn/{enrolment.id}/feedback/module-1",
                       data={"clear": "1", "useful": "1"}).status_code == 404
    assert client.post(f"/learn/{enrolment.id}/feedback/module-1/skip").status_code == 404
    assert _ratings(db_session) == 0
