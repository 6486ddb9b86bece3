"""Candidates who know nothing but use cues score near chance on papers drawn by the real
blueprints from the shipped bank (the benchmark runs 1,000 papers; this runs 300)."""

from __future__ import annotations

import pytest

from assessments.bank.items import Bank, ItemSpec, OptionSpec, read_bank
from bench.testwise import MAX_EXCESS_POINTS, MAX_PASS_RATE, headline, simulate

pytestmark = pytest.mark.once


@pytest.fixture(scope="module")
def outcomes():
    return simulate(read_bank(), papers=300)


@pytest.mark.parametrize("strategy", ["longest", "shortest", "stem", "unstem", "middle",
                                      "absolutes"])
def test_a_test_wise_strategy_scores_near_guessing_and_passes_almost_never(outcomes, strategy):
    guessing = {o.pathway: o.mean_score for o in outcomes if o.strategy == "guess"}
    for o in (o for o in outcomes if o.strategy == strategy):
        assert 100 * (o.mean_score - guessing[o.pathway]) <= MAX_EXCESS_POINTS, o
        assert o.pass_rate <= MAX_PASS_RATE, o


def test_the_simulation_catches_a_bank_whose_keys_are_the_longest(outcomes):
    bank = read_bank()
    longest_key = Bank([ItemSpec(**{**i.__dict__, "options": tuple(
        OptionSpec(o.text + (" and explain why to the pupil" if o.correct else ""), o.correct,
                   o.feedback) for o in i.options)}) for i in bank.items])
    lines = headline(simulate(longest_key, papers=50))
    rate = next(line for line in lines if line.startswith("bench: testwise_longest_pass_rate"))
    assert float(rate.split("= ")[1].split()[0]) > 0.5
