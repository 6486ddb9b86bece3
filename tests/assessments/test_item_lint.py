"""The item linter: each rule catches the fault it names, and the shipped bank passes them all."""

from __future__ import annotations

import pytest

from assessments.bank.items import Bank, ItemSpec, OptionSpec, read_bank
from assessments.bank.lint import lint_bank, lint_item

pytestmark = pytest.mark.once

FEEDBACK = "Explains why, in a whole sentence."


def item(stem="Which response helps the pupil most?", options=None, *, key=0, use="summative",
         scenario=None, name="t-s01", topic="feedback", pathways=("primary",)) -> ItemSpec:
    texts = options or ["Ask the pupil to explain step two",
                        "Give the pupil the next answer now",
                        "Tell the pupil to try much harder",
                        "Move on to the next topic quickly"]
    return ItemSpec(key=name, topic=topic, type="single", use=use, pathways=tuple(pathways),
                    lesson="a-lesson", difficulty=2, status="live", stem=stem,
                    options=tuple(OptionSpec(t, i == key, FEEDBACK) for i, t in enumerate(texts)),
                    scenario=scenario)


def rules(spec: ItemSpec) -> set[str]:
    return {finding.rule for finding in lint_item(spec)}


def test_a_well_written_item_passes():
    assert rules(item()) == set()


@pytest.mark.parametrize("options, rule", [
    (["Ask the pupil to explain step two", "All of the above", "Give the answer now",
      "Tell the pupil to try much harder"], "above"),
    (["Ask", "Give the pupil the next answer straight away", "Tell the pupil to try harder",
      "Move on to the next topic"], "lengths"),
    (["Ask the pupil to explain step two, then model the step with a simpler number",
      "Give the pupil the answer", "Tell them to try harder", "Move on to the next topic"],
     "key-length"),
])
def test_options_that_give_the_key_away_are_caught(options, rule):
    assert rule in rules(item(options=options))


def test_a_negative_question_must_shout():
    assert "negative" in rules(item(stem="Which of these should the tutor not do?"))
    assert "negative" not in rules(item(stem="Which of these should the tutor NOT do?"))
    narrative = ("Maya does not want to read aloud today and pushes the book away. "
                 "What should the tutor do first?")
    assert "negative" not in rules(item(stem=narrative))


def test_a_key_that_echoes_the_stem_alone_is_caught():
    stem = "Ellie keeps reversing her digits when writing numbers. What should the tutor do?"
    options = ["Practise writing digits with Ellie using a model", "Ask the class teacher",
               "Give her a harder worksheet", "Let her carry on without comment"]
    assert "stem-cue" in rules(item(stem=stem, options=options))


def test_an_article_that_fits_only_the_key_is_caught():
    stem = "The first thing to agree with the class teacher is an"
    options = ["outline of the pupil's next topics", "timetable for every session",
               "list of the pupil's friends", "plan for the holidays"]
    assert "grammar" in rules(item(stem=stem, options=options))


def test_formative_feedback_must_explain():
    spec = item(use="formative")
    short = ItemSpec(**{**spec.__dict__, "options": tuple(
        OptionSpec(o.text, o.correct, "Wrong.") for o in spec.options)})
    assert "feedback" in {f.rule for f in lint_item(short) if f.error}


def test_hard_reading_is_a_warning():
    stem = ("Notwithstanding institutional considerations, which multidimensional "
            "safeguarding responsibilities necessitate comprehensive documentation?")
    found = [f for f in lint_item(item(stem=stem)) if f.rule == "readability"]
    assert found and not found[0].error


def test_near_duplicate_stems_are_caught():
    bank = Bank([item(name="a-s01"),
                 item(name="a-s02", stem="Which response helps the pupil the most?")])
    assert "duplicate" in {f.rule for f in lint_bank(bank).findings}


def _bank_of(n: int, **kwargs) -> Bank:
    return Bank([item(name=f"t-s{i:02d}", stem=f"Case {i}: which response helps pupil {i}?",
                      **kwargs) for i in range(n)])


def test_a_bank_whose_keys_are_the_longest_options_fails():
    long_key = ["Ask the pupil to explain the second step", "Give the answer now",
                "Tell them to try harder", "Move on quickly"]
    report = lint_bank(_bank_of(10, options=long_key))
    assert report.figures["key_longest_share"] == 1.0
    assert "key-longest" in {f.rule for f in report.errors}


def test_absolute_words_that_mark_the_wrong_answers_fail_the_bank():
    options = ["Ask the pupil to explain step two", "Always give the pupil the answer",
               "Never let the pupil guess at all", "Only move on when told to"]
    assert "absolutes" in {f.rule for f in lint_bank(_bank_of(10, options=options)).errors}


def test_a_bank_of_recall_items_fails_the_scenario_share():
    report = lint_bank(_bank_of(10))
    assert report.figures["scenario_share"] == 0
    assert "scenarios" in {f.rule for f in report.errors}


def test_a_topic_too_small_for_its_blueprint_fails():
    report = lint_bank(_bank_of(3))
    sizes = [f for f in report.errors if f.rule == "bank-size"]
    assert any("feedback" in f.message and "primary" in f.message for f in sizes)


def test_the_shipped_bank_passes_every_rule():
    report = lint_bank(read_bank())
    assert [f"{f.key} [{f.rule}] {f.message}" for f in report.errors] == []
