"""The shipped course content: three pathways whose computed time meets their targets, every
lesson with outcomes, practice, references and plain English, diagrams with text alternatives,
all of it loadable."""

import re

import pytest

from courses import lesson_parts
from courses.content import CONTENT_ROOT, read_pathways
from lms.platform.readability import flesch_reading_ease
from lms.programme.models import Pathway

pytestmark = pytest.mark.once

TARGETS = {Pathway.QTS_REFRESHER: 120, Pathway.PRIMARY: 660, Pathway.SECONDARY: 660}


@pytest.fixture(scope="module")
def pathways():
    return {spec.pathway: spec for spec in read_pathways(CONTENT_ROOT)}


def test_all_three_pathways_ship(pathways):
    assert set(pathways) == set(TARGETS)


@pytest.mark.parametrize("pathway", list(TARGETS))
def test_computed_minutes_are_within_15_percent_of_the_target(pathways, pathway):
    spec = pathways[pathway]
    assert spec.target_minutes == TARGETS[pathway]
    assert spec.within_target
    assert abs(spec.total_minutes - spec.target_minutes) <= 0.15 * spec.target_minutes


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


def _lessons(pathways):
    seen = {}
    for spec in pathways.values():
        for module in spec.modules:
            for lesson in module.lessons:
                seen[lesson.source] = (module, lesson)
    return list(seen.values())


MIN_READING_EASE = 50


def test_every_lesson_is_plain_english(pathways):
    hard = {str(lesson.source.name): flesch_reading_ease(lesson.body)
            for _, lesson in _lessons(pathways)
            if flesch_reading_ease(lesson.body) < MIN_READING_EASE}
    assert hard == {}


def test_every_lesson_cites_its_sources_and_practises_what_it_teaches(pathways):
    for _, lesson in _lessons(pathways):
        headings = [s.heading for s in lesson_parts.sections(lesson.body)]
        assert "References" in headings, lesson.source
        practice = lesson_parts.activities(lesson.body) or any(
            (h or "").startswith(("Worked case", "Worked example")) for h in headings)
        assert practice, lesson.source


SAFEGUARDING = {"safeguarding-and-conduct", "qts-safeguarding-and-partnership"}


def test_every_practice_module_adapts_for_send_and_eal(pathways):
    modules = {m.slug: m for spec in pathways.values() for m in spec.modules}
    missing = [slug for slug, module in modules.items() if slug not in SAFEGUARDING
               and not any("## Adapting for SEND and EAL" in lesson.body
                           for lesson in module.lessons)]
    assert missing == []


def test_every_diagram_has_a_text_alternative_and_is_shipped(pathways):
    for module, lesson in _lessons(pathways):
        for image in lesson_parts.images(lesson.body):
            assert len(image.alt) >= 20, (lesson.source, image.file)
            assert image.file in {r.filename for r in module.resources}


@pytest.mark.parametrize("pattern", [
    r"peer[- ]on[- ]peer",
    r"\bDSL\b[^.]{0,80}\b(same day|end of the (day|session))\b",
    r"\b(same day|end of the (day|session))\b[^.]{0,80}\bDSL\b",
    r"\bPhase [2-6]\b",
])
def test_the_course_never_says_what_the_guidance_has_replaced(pathways, pattern):
    found = [str(lesson.source.name) for _, lesson in _lessons(pathways)
             if re.search(pattern, lesson.body, re.IGNORECASE)]
    assert found == []
