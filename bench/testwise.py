"""Candidates who know nothing but play the cues: do they beat guessing?

Papers are drawn exactly as the assessment draws them (the real blueprints, the live bank, the
option order shuffled per paper). Each strategy answers every item without knowing anything:

- ``guess``: any option, at random (the baseline);
- ``longest``: the longest option;
- ``stem``: the option sharing the most words with the stem;
- ``unstem``: the option sharing the fewest (writers who avoid echoing the stem in the key can
  overcorrect);
- ``shortest``: the shortest option;
- ``middle``: one of the two middle positions as shown;
- ``absolutes``: any option without "always", "never", "only"... (at random among them).

A strategy that only knowledge should beat must stay within 10 percentage points of guessing,
and pass (80%) at most 1% of papers. Run: ``python -m bench.testwise [--papers 1000]
[--items PATH]``; ``tests/assessments/test_testwise.py`` runs it smaller.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assessments.bank.blueprints import BLUEPRINTS
from assessments.bank.items import ITEMS_ROOT, Bank, ItemSpec, read_bank
from assessments.bank.lint import STOPWORDS
from assessments.bank.papers import draw_paper

_ABSOLUTE = re.compile(r"\b(always|never|only|all|every|must|none|nothing|completely)\b",
                       re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z'-]+")
MAX_EXCESS_POINTS = 10
MAX_PASS_RATE = 0.01


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 3 and w not in STOPWORDS}


def _best(scores: list[float], rng: random.Random) -> int:
    top = max(scores)
    return rng.choice([i for i, s in enumerate(scores) if s == top])


Strategy = Callable[[ItemSpec, tuple[int, ...], random.Random], int]


def guess(item: ItemSpec, order: tuple[int, ...], rng: random.Random) -> int:
    return rng.randrange(len(order))


def longest(item: ItemSpec, order: tuple[int, ...], rng: random.Random) -> int:
    return _best([len(item.options[i].text) for i in order], rng)


def stem(item: ItemSpec, order: tuple[int, ...], rng: random.Random) -> int:
    asked = _words((item.scenario or "") + " " + item.stem)
    return _best([len(asked & _words(item.options[i].text)) for i in order], rng)


def unstem(item: ItemSpec, order: tuple[int, ...], rng: random.Random) -> int:
    asked = _words((item.scenario or "") + " " + item.stem)
    return _best([-len(asked & _words(item.options[i].text)) for i in order], rng)


def shortest(item: ItemSpec, order: tuple[int, ...], rng: random.Random) -> int:
    return _best([-len(item.options[i].text) for i in order], rng)


def middle(item: ItemSpec, order: tuple[int, ...], rng: random.Random) -> int:
    n = len(order)
    return rng.choice([(n - 1) // 2, n // 2])


def absolutes(item: ItemSpec, order: tuple[int, ...], rng: random.Random) -> int:
    plain = [p for p, i in enumerate(order) if not _ABSOLUTE.search(item.options[i].text)]
    return rng.choice(plain or list(range(len(order))))


STRATEGIES: dict[str, Strategy] = {"guess": guess, "longest": longest, "shortest": shortest,
                                   "stem": stem, "unstem": unstem, "middle": middle,
                                   "absolutes": absolutes}


@dataclass(frozen=True)
class Outcome:
    pathway: str
    strategy: str
    mean_score: float
    pass_rate: float


def simulate(bank: Bank, papers: int = 1000, seed: int = 2026) -> list[Outcome]:
    """Every strategy on the same ``papers`` papers per pathway. A multiple-answer item counts
    as wrong (the strategies pick one option; such items need every right one)."""
    outcomes = []
    for blueprint in BLUEPRINTS.values():
        by_key = {item.key: item for item in bank.items}
        drawn = [draw_paper(bank, blueprint, seed + n) for n in range(papers)]
        for name, strategy in STRATEGIES.items():
            rng = random.Random(seed)
            scores = []
            for paper in drawn:
                right = 0
                for entry in paper:
                    item = by_key[entry.key]
                    chosen = entry.option_order[strategy(item, entry.option_order, rng)]
                    right += item.type == "single" and item.options[chosen].correct
                scores.append(right / len(paper))
            outcomes.append(Outcome(
                blueprint.pathway.value, name, sum(scores) / len(scores),
                sum(s >= blueprint.pass_mark for s in scores) / len(scores)))
    return outcomes


def headline(outcomes: list[Outcome]) -> list[str]:
    """``bench:`` lines: per strategy, the worst pathway's pass rate and excess over guessing."""
    guessing = {o.pathway: o.mean_score for o in outcomes if o.strategy == "guess"}
    lines = []
    for name in STRATEGIES:
        if name == "guess":
            continue
        mine = [o for o in outcomes if o.strategy == name]
        worst_pass = max(o.pass_rate for o in mine)
        excess = max(100 * (o.mean_score - guessing[o.pathway]) for o in mine)
        lines.append(f"bench: testwise_{name}_pass_rate = {worst_pass:.3f} ratio "
                     f"(target <= {MAX_PASS_RATE})")
        lines.append(f"bench: testwise_{name}_excess = {excess:.1f} points "
                     f"(target <= {MAX_EXCESS_POINTS})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--items", type=Path, default=ITEMS_ROOT)
    args = parser.parse_args()
    outcomes = simulate(read_bank(args.items), args.papers)
    for o in outcomes:
        print(f"{o.pathway:<14} {o.strategy:<10} mean {o.mean_score:6.1%}  "
              f"passes {o.pass_rate:6.1%}")
    for line in headline(outcomes):
        print(line)


if __name__ == "__main__":
    main()
