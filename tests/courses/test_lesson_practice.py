"""Lessons whose time is computed from what they hold, scenarios whose model answer waits for
the tutor's own, and diagrams that are accessible SVG."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from courses import lesson_parts
from courses.content import ContentError, read_pathways
from courses.models import Lesson, LessonProgress, ScenarioAnswer
from courses.services import course_progress, load_content
from lms.platform import clock
from lms.platform.roles import Role
from tests.content_factory import write_content
from tests.factories import make_enrolment, make_member

SCENARIO = """
## What would you do? The pupil who will not start (5 minutes)

Jamal (Year 5) sits with his arms folded and says the work is stupid.

### Model answer

Name the feeling, make the first step tiny and start it together.
"""

DIAGRAM = '''<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50" role="img"
 aria-labelledby="t d"><title id="t">A session in three parts</title>
<desc id="d">Review, teach, practise.</desc><rect width="100" height="50" fill="#fff"/></svg>'''


def _words(n: int) -> str:
    return " ".join(["word"] * n)


@pytest.mark.parametrize("body, minutes", [
    (_words(1000), 5),
    (_words(1000) + "\n\n## References\n\n" + _words(4000), 5),
    (_words(200) + "\n\n## Activity: Plan it (12 minutes)\n\n**You produce:** a plan.\n", 13),
    (_words(190) + SCENARIO, 6),
    ("Short.", 1),
])
def test_a_lessons_minutes_are_its_words_at_200_a_minute_plus_its_activities(body, minutes):
    assert lesson_parts.lesson_minutes(body) == minutes


def test_a_video_adds_its_minutes():
    assert lesson_parts.lesson_minutes(_words(400), {"minutes": 7}) == 9


@pytest.mark.parametrize("body, message", [
    ("## Activity: Plan it (12 minutes)\n\nDo it.\n", "You produce"),
    ("## Activity: Plan it\n\n**You produce:** a plan.\n", "how long it takes"),
    ("## What would you do? A pupil cries (5 minutes)\n\nShe cries.\n", "Model answer"),
    ("## What would you do? A pupil cries (5 minutes)\n\n### Model answer\n\nStay.\n",
     "both the scenario and its model answer"),
    ("## Activity: Forever (90 minutes)\n\n**You produce:** a plan.\n", "between 1 and 60"),
])
def test_an_activity_that_breaks_the_rules_is_refused_with_its_reason(body, message):
    with pytest.raises(lesson_parts.LessonTextError, match=message):
        lesson_parts.sections(body)


def test_typed_in_minutes_are_refused(tmp_path):
    root = write_content(tmp_path)
    lesson = root / "modules" / "module-1" / "01-lesson-1.md"
    lesson.write_text(lesson.read_text().replace("order: 1\n", "order: 1\nestimated_minutes: 9\n"))
    with pytest.raises(ContentError, match="computed"):
        read_pathways(root)


def test_a_pathway_counts_a_minute_for_each_item_of_each_module_check(tmp_path):
    spec = read_pathways(write_content(tmp_path, modules=2, lessons=2, minutes=10))[0]
    assert spec.total_minutes == 2 * (2 * 10 + 4)


@pytest.fixture
def practice(tmp_path, db_session):
    root = write_content(tmp_path, body_extra="\n![A session in three parts: review, teach, "
                                              "practise](plan.svg)\n" + SCENARIO)
    for module in ("module-1", "module-2"):
        (root / "modules" / module / "resources" / "plan.svg").write_text(DIAGRAM)
    load_content(root)
    db_session.commit()
    return root


def _tutor(db_session):
    enrolment = make_enrolment()
    enrolment.user.password_hash = make_member(Role.SCHOOL_LEADER).password_hash
    db_session.commit()
    return enrolment


def test_the_model_answer_shows_only_after_the_tutor_has_written_theirs(db_session, practice,
                                                                       sign_in):
    enrolment = _tutor(db_session)
    client = sign_in(enrolment.user)
    lesson = course_progress(enrolment).next_lesson
    url = f"/learn/{enrolment.id}/lessons/{lesson.id}"
    page = client.get(url).get_data(as_text=True)
    assert "arms folded" in page and "Name the feeling" not in page
    assert "Save my answer and show the model answer" in page

    empty = client.post(f"{url}/scenarios/1", data={"answer": "  "})
    assert empty.status_code == 400
    assert "Write what you would do first" in empty.get_data(as_text=True)
    assert db_session.scalar(select(ScenarioAnswer)) is None

    saved = client.post(f"{url}/scenarios/1", data={"answer": "Sit beside him & ask why."})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#scenario-1")
    page = client.get(url).get_data(as_text=True)
    assert "Name the feeling" in page and "Sit beside him &amp; ask why." in page
    assert "Save my answer" not in page

    client.post(f"{url}/scenarios/1", data={"answer": "Something else, after reading it."})
    assert db_session.scalars(select(ScenarioAnswer.answer)).all() == ["Sit beside him & ask why."]
    assert client.post(f"{url}/scenarios/9", data={"answer": "x"}).status_code == 302


def test_another_tutor_cannot_answer_for_them(db_session, practice, sign_in):
    enrolment = _tutor(db_session)
    other = _tutor(db_session)
    lesson = course_progress(enrolment).next_lesson
    response = sign_in(other.user).post(
        f"/learn/{enrolment.id}/lessons/{lesson.id}/scenarios/1", data={"answer": "Mine"})
    assert response.status_code in (403, 404)
    assert db_session.scalar(select(ScenarioAnswer)) is None


def test_a_diagram_is_shown_from_the_module_with_its_text_alternative(db_session, practice,
                                                                      sign_in):
    enrolment = _tutor(db_session)
    client = sign_in(enrolment.user)
    lesson = course_progress(enrolment).next_lesson
    page = client.get(f"/learn/{enrolment.id}/lessons/{lesson.id}").get_data(as_text=True)
    assert 'alt="A session in three parts: review, teach, practise"' in page
    src = page.split('<img alt="A session in three parts', 1)[1].split('src="', 1)[1].split('"')[0]
    assert src.startswith(f"/learn/{enrolment.id}/resources/")
    image = client.get(src)
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert "plan.svg" not in client.get(f"/learn/{enrolment.id}").get_data(as_text=True)


@pytest.mark.parametrize("svg, alt, message", [
    (DIAGRAM, "Too short", "text alternative"),
    (DIAGRAM.replace('role="img"', ""), "A session in three parts: review", "role"),
    (DIAGRAM.replace("<rect", "<script>alert(1)</script><rect"), "A session in three parts",
     "scripts"),
    (DIAGRAM.replace("<rect", '<image href="https://x.example/a.png"/><rect'),
     "A session in three parts", "fetch"),
    (DIAGRAM + "<!--" + "x" * 20_000 + "-->", "A session in three parts", "under 20 KB"),
])
def test_a_diagram_that_is_not_accessible_or_safe_is_refused(tmp_path, svg, alt, message):
    root = write_content(tmp_path, body_extra=f"\n![{alt}](plan.svg)\n")
    for module in ("module-1", "module-2"):
        (root / "modules" / module / "resources" / "plan.svg").write_text(svg)
    with pytest.raises(ContentError, match=message):
        read_pathways(root)


def test_time_spent_answering_a_scenario_counts_towards_the_lesson(db_session, practice):
    from courses.services import answer_scenario, view_lesson

    enrolment = make_enrolment()
    lesson = db_session.get(Lesson, course_progress(enrolment).next_lesson.id)
    view_lesson(enrolment, lesson)
    clock.travel(timedelta(minutes=3))
    answer_scenario(enrolment, lesson, 1, "Start with one question.", at=clock.now())
    assert db_session.scalars(select(LessonProgress.seconds_spent)).one() == 3 * 60
