"""The tutor's assessment pages: one question per page, saved as they go, and never a key."""

import re

import pytest
from sqlalchemy import select

from assessments.attempts.models import Attempt
from credentials.endorsements.models import Endorsement
from lms.platform.roles import Role
from tests.assessments.test_assessments import _finish_course, _right, loaded  # noqa: F401
from tests.factories import make_member


@pytest.fixture
def tutor(db_session, loaded, sign_in):  # noqa: F811
    from tests.factories import make_enrolment

    enrolment = make_enrolment()
    enrolment.user.password_hash = make_member(Role.SCHOOL_LEADER).password_hash
    _finish_course(db_session, enrolment)
    return enrolment, sign_in(enrolment.user)


def _no_keys(body: str, items) -> None:
    assert not re.search(r"correct[\"']?\s*[:=]", body, re.IGNORECASE)
    for item in items:
        for option in item.options:
            assert option["feedback"] not in body


def test_a_tutor_takes_the_assessment_page_by_page_without_seeing_a_key(db_session, tutor):
    enrolment, client = tutor
    page = client.get(f"/learn/{enrolment.id}/assessment").get_data(as_text=True)
    assert "Start the assessment" in page
    response = client.post(f"/learn/{enrolment.id}/assessment/start")
    assert response.status_code == 302
    attempt = db_session.scalars(select(Attempt)).one()
    items = [row.item for row in attempt.items]
    for row in attempt.items:
        url = f"/learn/{enrolment.id}/attempts/{attempt.id}/q/{row.position}"
        body = client.get(url).get_data(as_text=True)
        _no_keys(body, items)
        assert re.search(r'name="answer"', body)
        client.post(url, data={"answer": [str(p) for p in _right(row.item, row.option_order)],
                               "go": "next"})
    review = client.get(f"/learn/{enrolment.id}/attempts/{attempt.id}/review")
    _no_keys(review.get_data(as_text=True), items)
    assert "answered 30 of 30" in review.get_data(as_text=True)
    client.post(f"/learn/{enrolment.id}/attempts/{attempt.id}/review")
    again = client.post(f"/learn/{enrolment.id}/attempts/{attempt.id}/review")
    assert again.status_code == 302
    result = client.get(f"/learn/{enrolment.id}/attempts/{attempt.id}/result")
    assert "You passed" in result.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Attempt, attempt.id).correct == 30
    # The pass was endorsed once the submit committed (in the background, here in-process).
    endorsement = db_session.scalars(select(Endorsement)).one()
    assert endorsement.enrolment_id == enrolment.id
    assert "your endorsement has been issued" in result.get_data(as_text=True)


def test_an_answer_survives_a_reload_and_a_second_device(db_session, tutor, app):
    enrolment, client = tutor
    client.post(f"/learn/{enrolment.id}/assessment/start")
    attempt = db_session.scalars(select(Attempt)).one()
    url = f"/learn/{enrolment.id}/attempts/{attempt.id}/q/0"
    client.post(url, data={"answer": ["2"], "go": "next"})
    other_device = app.test_client()
    other_device.post("/sign-in", data={"email": enrolment.user.email,
                                        "password": "correct horse battery staple"})
    body = other_device.get(url).get_data(as_text=True)
    assert re.search(r'value="2" checked', body)


def test_another_tutor_cannot_open_an_attempt(db_session, tutor, app):
    enrolment, client = tutor
    client.post(f"/learn/{enrolment.id}/assessment/start")
    attempt = db_session.scalars(select(Attempt)).one()
    leader = make_member(Role.SCHOOL_LEADER, school=enrolment.school)
    db_session.commit()
    other = app.test_client()
    other.post("/sign-in", data={"email": leader.email, "password": "correct horse battery staple"})
    assert other.get(f"/learn/{enrolment.id}/attempts/{attempt.id}/q/0").status_code == 403


def test_the_central_team_grants_an_adjustment_with_a_reason(db_session, loaded, sign_in):  # noqa: F811
    from assessments.attempts.models import Adjustment
    from tests.factories import make_enrolment

    enrolment = make_enrolment()
    central = make_member(Role.CENTRAL_TEAM, trust=enrolment.school.trust)
    db_session.commit()
    client = sign_in(central)
    url = f"/enrolments/{enrolment.id}/adjustments"
    client.post(url, data={"adjust-kind": "extra_time", "adjust-value": "25",
                           "adjust-reason": ""})
    assert db_session.scalars(select(Adjustment)).all() == []
    client.post(url, data={"adjust-kind": "extra_time", "adjust-value": "25",
                           "adjust-reason": "Access arrangement for dyslexia"})
    page = client.get(f"/enrolments/{enrolment.id}").get_data(as_text=True)
    assert "Extra time: 25%" in page and "Access arrangement for dyslexia" in page


def test_an_answer_autosaves_as_json_and_is_refused_once_time_is_up(db_session, tutor):
    from datetime import timedelta

    from lms.platform import clock

    enrolment, client = tutor
    client.post(f"/learn/{enrolment.id}/assessment/start")
    attempt = db_session.scalars(select(Attempt)).one()
    page = client.get(f"/learn/{enrolment.id}/attempts/{attempt.id}/q/0").get_data(as_text=True)
    assert 'src="/static/autosave.js"' in page and "data-autosave" in page
    url = f"/learn/{enrolment.id}/attempts/{attempt.id}/answers/0"
    saved = client.post(url, data={"answer": ["1"]})
    assert saved.status_code == 200 and saved.json["selected"] == [1]
    assert "correct" not in saved.get_data(as_text=True)
    bad = client.post(url, data={"answer": ["9"]})
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    clock.travel(timedelta(minutes=46))
    late = client.post(url, data={"answer": ["2"]})
    assert late.status_code == 409 and "Time is up" in late.json["detail"]
    db_session.expire_all()
    assert db_session.get(Attempt, attempt.id).items[0].selected == [1]


def _sit_and_fail(db_session, enrolment, client):
    from tests.assessments.test_assessments import _wrong

    client.post(f"/learn/{enrolment.id}/assessment/start")
    attempt = db_session.scalars(select(Attempt)).one()
    for row in attempt.items:
        client.post(f"/learn/{enrolment.id}/attempts/{attempt.id}/q/{row.position}",
                    data={"answer": [str(p) for p in _wrong(row.item, row.option_order)],
                          "go": "next"})
    client.post(f"/learn/{enrolment.id}/attempts/{attempt.id}/review")
    db_session.expire_all()
    return db_session.get(Attempt, attempt.id)


def test_the_review_page_shows_each_stem_and_the_chosen_answer_and_no_key(db_session, tutor):
    enrolment, client = tutor
    client.post(f"/learn/{enrolment.id}/assessment/start")
    attempt = db_session.scalars(select(Attempt)).one()
    first = attempt.items[0]
    chosen = first.option_order.index(0)
    client.post(f"/learn/{enrolment.id}/attempts/{attempt.id}/q/0",
                data={"answer": [str(chosen)], "go": "next"})
    page = client.get(f"/learn/{enrolment.id}/attempts/{attempt.id}/review").get_data(
        as_text=True)
    from markupsafe import escape

    for row in attempt.items:
        assert str(escape(row.item.stem)) in page
    assert f"Your answer: <strong>{escape(first.item.options[0]['text'])}</strong>" in page
    assert page.count("No answer yet.") == attempt.total - 1
    _no_keys(page, [row.item for row in attempt.items])


def test_a_failed_result_names_topics_for_people_and_lists_each_lesson_once(db_session, tutor):
    from courses.services import course_progress

    enrolment, client = tutor
    attempt = _sit_and_fail(db_session, enrolment, client)
    page = client.get(f"/learn/{enrolment.id}/attempts/{attempt.id}/result").get_data(
        as_text=True)
    titles = {m.module.slug: m.module.title for m in course_progress(enrolment).modules}
    revisit = page.split("What to revisit", 1)[1].split("Your next attempt", 1)[0]
    for topic in attempt.topic_results:
        assert f"<td>{titles[topic]}</td>".replace("'", "&#39;") in page
    links = re.findall(r'href="(/learn/\d+/lessons/\d+)"', revisit)
    assert links and len(links) == len(set(links))
    panel = page.split("Your next attempt", 1)[1]
    assert "Revisit the lessons marked" in panel and "Revisit the lesson “" not in page


def test_the_second_attempt_waits_until_flagged_lessons_were_stayed_with(db_session, tutor):
    from datetime import timedelta

    from lms.platform import clock

    enrolment, client = tutor
    attempt = _sit_and_fail(db_session, enrolment, client)
    clock.travel(timedelta(hours=25))  # the cool-off is over
    result = f"/learn/{enrolment.id}/attempts/{attempt.id}/result"
    page = client.get(result).get_data(as_text=True)
    links = re.findall(r'href="(/learn/\d+/lessons/\d+)"',
                       page.split("What to revisit", 1)[1].split("Your next attempt", 1)[0])
    for link in links:  # opened, and left at once
        client.get(link)
        client.get(f"/learn/{enrolment.id}")
    page = client.get(result).get_data(as_text=True)
    assert "To revisit" in page and "Go to the assessment" not in page
    assert client.post(f"/learn/{enrolment.id}/assessment/start").status_code == 302
    assert db_session.scalar(select(Attempt).where(Attempt.number == 2)) is None
    for link in links:  # stayed with each, as long as a first reading needs
        client.get(link)
        clock.travel(timedelta(minutes=45))
        client.get(link)
    page = client.get(result).get_data(as_text=True)
    assert "To revisit" not in page and "Go to the assessment" in page
    client.post(f"/learn/{enrolment.id}/assessment/start")
    assert db_session.scalar(select(Attempt).where(Attempt.number == 2)) is not None
