"""The shipped course content: three pathways of the right length, every lesson with
outcomes and a reflection or worked example, all of it loadable."""

import pytest

from courses.content import CONTENT_ROOT, read_pathways
from lms.programme.models import Pathway

TARGETS = {Pathway.QTS_REFRESHER: 120, Pathway.PRIMARY: 660, Pathway.SECONDARY: 660}


@pytest.fixture(scope="module")
def pathways():
    return {spec.pathway: spec for spec in read_pathways(CONTENT_ROOT)}


def test_all_three_pathways_ship(pathways):
    assert set(pathways) == set(TARGETS)


@pytest.mark.parametrize("pathway", list(TARGETS))
def test_estimated_minutes_are_within_20_percent_of_the_target(pathways, pathway):
    spec = pathways[pathway]
    assert spec.target_minutes == TARGETS[pathway]
    assert abs(spec.total_minutes - spec.target_minutes) <= 0.2 * spec.target_minutes


@pytest.mark.parametrize("pathway", list(TARGETS))
def test_every_lesson_has_outcomes_and_a_reflection_or_worked_example(pathways, pathway):
    for module in pathways[pathway].modules:
        for lesson in module.lessons:
            assert lesson.outcomes, lesson.source
            assert "## Reflection" in lesson.body or "## Worked example" in lesson.body


REQUIRED_TOPICS = {
    Pathway.PRIMARY: ["effective-tutoring", "relationships-and-motivation", "planning-sessions",
                      "assessment-for-learning", "feedback", "metacognition",
                      "small-group-tutoring", "supporting-pupils-with-send",
                      "safeguarding-and-conduct", "working-with-the-class-teacher",
                      "early-reading", "early-maths"],
    Pathway.SECONDARY: ["gcse-subject-tutoring", "exam-technique", "safeguarding-and-conduct"],
}


@pytest.mark.parametrize("pathway", list(REQUIRED_TOPICS))
def test_pathways_cover_the_required_topics(pathways, pathway):
    slugs = {m.slug for m in pathways[pathway].modules}
    assert set(REQUIRED_TOPICS[pathway]) <= slugs


def test_the_content_has_no_raw_html(pathways):
    for spec in pathways.values():
        for module in spec.modules:
            for lesson in module.lessons:
                assert "<script" not in lesson.body.lower(), lesson.source
