"""Randomised papers: reproducible from their seed, and fair over many draws."""

from collections import Counter

import pytest

from assessments.bank.blueprints import BLUEPRINTS
from assessments.bank.items import read_bank
from assessments.bank.papers import draw_paper, new_seed
from lms.programme.models import Pathway

pytestmark = pytest.mark.once


@pytest.fixture(scope="module")
def bank():
    return read_bank()


@pytest.mark.parametrize("pathway", list(Pathway))
def test_the_same_seed_rebuilds_the_same_paper_exactly(bank, pathway):
    seed = new_seed()
    blueprint = BLUEPRINTS[pathway]
    assert draw_paper(bank, blueprint, seed) == draw_paper(bank, blueprint, seed)
    assert draw_paper(bank, blueprint, seed) != draw_paper(bank, blueprint, seed + 1)


@pytest.mark.parametrize("pathway", list(Pathway))
def test_a_paper_follows_its_blueprint(bank, pathway):
    blueprint = BLUEPRINTS[pathway]
    paper = draw_paper(bank, blueprint, 12345)
    assert len(paper) == blueprint.total_items == len({item.key for item in paper})
    assert Counter(item.topic for item in paper) == Counter(blueprint.items_per_topic)


def test_over_10000_papers_items_and_key_positions_are_drawn_uniformly(bank):
    blueprint = BLUEPRINTS[Pathway.PRIMARY]
    papers = 10_000
    drawn: Counter[str] = Counter()
    key_position: Counter[int] = Counter()
    options = {item.key: item.options for item in bank.items if item.type == "single"}
    for seed in range(papers):
        for item in draw_paper(bank, blueprint, seed):
            drawn[item.key] += 1
            if item.key not in options:
                continue
            shown = [options[item.key][i] for i in item.option_order]
            key_position[next(i for i, o in enumerate(shown) if o.correct)] += 1
    for topic, wanted in blueprint.items_per_topic.items():
        live = bank.live("primary", topic, "summative")
        share = wanted / len(live)
        expected = papers * share
        # Each item's count is binomial: within 4.5 standard deviations, whatever the bank's size.
        spread = 4.5 * (papers * share * (1 - share)) ** 0.5
        for item in live:
            assert abs(drawn[item.key] - expected) < spread, (item.key, drawn[item.key])
    total = sum(key_position.values())
    for position in range(4):
        assert abs(key_position[position] / total - 0.25) < 0.01, key_position
