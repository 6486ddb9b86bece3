"""The rubric: the eight agreed practices, each with a descriptor for every score from 1 to 4,
and the course lessons behind it, which must exist in every pathway's course and open from
the tutor's observation page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from courses.content import read_pathways
from courses.models import CourseVersion
from courses.services import load_content
from lms.observations.lessons import lesson_links
from lms.observations.rubric import (
    CRITERION_KEYS,
    LEVELS,
    RUBRIC,
    RUBRIC_VERSION,
    RUBRICS,
    Criterion,
    Rubric,
    rubric_for,
)
from lms.platform.extensions import db
from lms.programme.models import Enrolment, Pathway
from tests.observations_factory import TUTOR_PASSWORD
from tests.tutoring_factory import make_cleared_tutor

AGREED = ("starts_from_prior_knowledge", "checks_understanding", "keeps_every_pupil_engaged",
          "specific_feedback", "links_to_class_teaching", "manages_time",
          "builds_independence", "warm_purposeful_relationship")


def test_the_rubric_has_the_eight_agreed_criteria_in_order():
    assert CRITERION_KEYS == AGREED
    assert RUBRIC.criterion("manages_time").label == "Manages time and pace"
    assert LEVELS == {1: "Not yet seen", 2: "Developing", 3: "Secure", 4: "Strong"}


def test_every_criterion_has_four_distinct_descriptors_that_fit_a_phone():
    for criterion in RUBRIC.criteria:
        assert len(criterion.descriptors) == 4
        assert len(set(criterion.descriptors)) == 4, criterion.key
        assert all(10 < len(d) <= 140 for d in criterion.descriptors), criterion.key
        assert criterion.looks_for


def test_the_rubric_is_frozen_and_versioned():
    assert RUBRICS[RUBRIC_VERSION] is RUBRIC
    assert rubric_for(RUBRIC_VERSION) is RUBRIC and rubric_for("unknown") is RUBRIC
    with pytest.raises(AttributeError):
        RUBRIC.criteria[0].label = "Changed"  # type: ignore[misc]


def _content_lessons() -> dict[str, set[tuple[str, str]]]:
    """Per pathway, every (module slug, lesson slug) its course holds, from the files."""
    return {spec.pathway: {(module.slug, lesson.slug) for module in spec.modules
                           for lesson in module.lessons} for spec in read_pathways()}


def test_every_lesson_a_criterion_names_exists_in_the_course_content():
    everywhere = set().union(*_content_lessons().values())
    for criterion in RUBRIC.criteria:
        missing = [ref for ref in criterion.lessons if ref not in everywhere]
        assert not missing, f"{criterion.key} names lessons that do not exist: {missing}"


@pytest.mark.parametrize("pathway", [p.value for p in Pathway])
def test_every_criterion_has_a_lesson_in_every_pathways_course(pathway):
    held = _content_lessons()[pathway]
    for criterion in RUBRIC.criteria:
        assert any(ref in held for ref in criterion.lessons), (criterion.key, pathway)


def _tutor_on(pathway: Pathway):
    tutor = make_cleared_tutor()
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == tutor.id))
    version = db.session.scalar(select(CourseVersion).where(
        CourseVersion.pathway == pathway, CourseVersion.is_current.is_(True)))
    enrolment.pathway, enrolment.course_version = pathway, version.version
    db.session.commit()
    return tutor, enrolment


@pytest.mark.parametrize("pathway", list(Pathway))
def test_the_lessons_resolve_to_pages_the_tutor_can_open(app, sign_in, pathway):
    load_content()
    tutor, enrolment = _tutor_on(pathway)
    with app.test_request_context():
        links = lesson_links(tutor.id, linked=True)
    assert set(links) == set(AGREED)
    client = sign_in(tutor, TUTOR_PASSWORD)
    for key, lessons in links.items():
        assert lessons, f"{key} has no lesson in the {pathway.value} course"
        for lesson in lessons:
            assert lesson.url.startswith(f"/learn/{enrolment.id}/lessons/")
            assert client.get(lesson.url).status_code == 200, lesson


def test_a_lesson_missing_from_the_course_is_left_out_not_broken(db_session):
    load_content()
    tutor, _ = _tutor_on(Pathway.PRIMARY)
    broken = Rubric("test", (Criterion("manages_time", "Manages time", "x", ("a", "b", "c", "d"),
                                       (("planning-sessions", "no-such-lesson"),)),))
    assert lesson_links(tutor.id, linked=True, rubric=broken) == {"manages_time": []}


def test_others_see_the_lesson_titles_without_links(db_session):
    load_content()
    tutor, _ = _tutor_on(Pathway.SECONDARY)
    links = lesson_links(tutor.id, linked=False)
    assert all(lesson.url is None and lesson.title for ls in links.values() for lesson in ls)
