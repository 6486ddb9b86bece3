"""The shipped item bank: well-formed, tied to real lessons, and big enough for the blueprints."""

from collections import Counter

import pytest

from assessments.bank.blueprints import BANK_FACTOR, BLUEPRINTS
from assessments.bank.items import BankError, read_bank
from courses.content import read_pathways
from lms.programme.models import Pathway


@pytest.fixture(scope="module")
def bank():
    return read_bank()


@pytest.fixture(scope="module")
def lessons_by_topic():
    topics: dict[str, set[str]] = {}
    for spec in read_pathways():
        for module in spec.modules:
            topics.setdefault(module.slug, set()).update(lesson.slug for lesson in module.lessons)
    return topics


def test_blueprint_defaults_match_the_programme():
    assert BLUEPRINTS[Pathway.QTS_REFRESHER].total_items == 20
    assert BLUEPRINTS[Pathway.PRIMARY].total_items == 30
    assert BLUEPRINTS[Pathway.SECONDARY].total_items == 30
    for blueprint in BLUEPRINTS.values():
        assert blueprint.pass_mark == 0.8 and blueprint.attempts == 2
        assert blueprint.cool_off.total_seconds() == 24 * 3600
    assert BLUEPRINTS[Pathway.QTS_REFRESHER].time_limit.total_seconds() == 30 * 60
    assert BLUEPRINTS[Pathway.PRIMARY].time_limit.total_seconds() == 45 * 60


@pytest.mark.parametrize("pathway", list(Pathway))
def test_each_topic_holds_three_times_its_draw_of_live_items(bank, pathway):
    for topic, draw in BLUEPRINTS[pathway].items_per_topic.items():
        live = bank.live(pathway.value, topic, "summative")
        assert len(live) >= BANK_FACTOR * draw, (pathway, topic, len(live), draw)


@pytest.mark.parametrize("pathway", list(Pathway))
def test_every_module_has_a_formative_check_of_three_to_six_items(bank, pathway):
    for topic in BLUEPRINTS[pathway].items_per_topic:
        assert 3 <= len(bank.live(pathway.value, topic, "formative")) <= 6, topic


def test_every_item_tests_a_lesson_of_its_topic(bank, lessons_by_topic):
    for item in bank.items:
        assert item.topic in lessons_by_topic, item.key
        assert item.lesson in lessons_by_topic[item.topic], item.key


def test_correct_answers_are_spread_over_option_positions_in_the_files(bank):
    """The stored order puts the key first for writers' convenience; papers shuffle it."""
    positions = Counter(i for item in bank.items for i, o in enumerate(item.options) if o.correct)
    assert positions[0] > 0


def test_a_broken_item_is_refused_with_its_key(tmp_path):
    (tmp_path / "feedback.yml").write_text(
        "topic: feedback\nitems:\n  - key: x-1\n    type: single\n    use: summative\n"
        "    pathways: [primary]\n    lesson: l\n    difficulty: 2\n    status: live\n"
        "    stem: Which?\n    options:\n      - {text: a, correct: true, feedback: f}\n"
        "      - {text: b, correct: true, feedback: f}\n      - {text: c, feedback: f}\n")
    with pytest.raises(BankError, match="x-1.*exactly one correct"):
        read_bank(tmp_path)


def test_the_load_command_is_idempotent(app, db_session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["assessments", "load"])
    count = len(read_bank().items)
    assert first.exit_code == 0
    assert f"{count} items current, {count} new versions" in first.output
    second = runner.invoke(args=["assessments", "load"])
    assert "0 new versions" in second.output
