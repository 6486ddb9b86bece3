"""Drawing a paper from the bank: which items, in which order, with which option order.

Everything comes from one stored seed, so the same seed and the same bank rebuild the same paper
exactly; the paper records item versions, so later edits to the bank never change it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from assessments.bank.blueprints import Blueprint
from assessments.bank.items import Bank, ItemSpec
from lms.platform.errors import DomainError


@dataclass(frozen=True)
class PaperItem:
    key: str
    version: str
    topic: str
    #: ``option_order[i]`` is the index, in the item file, of the option shown in position i.
    option_order: tuple[int, ...]


def draw_paper(bank: Bank, blueprint: Blueprint, seed: int) -> list[PaperItem]:
    rng = random.Random(seed)
    chosen: list[ItemSpec] = []
    for topic in sorted(blueprint.items_per_topic):
        wanted = blueprint.items_per_topic[topic]
        candidates = sorted(bank.live(blueprint.pathway.value, topic, "summative"),
                            key=lambda item: item.key)
        if len(candidates) < wanted:
            raise DomainError(f"The bank has too few live items for {topic}")
        chosen.extend(rng.sample(candidates, wanted))
    rng.shuffle(chosen)
    paper = []
    for item in chosen:
        order = list(range(len(item.options)))
        rng.shuffle(order)
        paper.append(PaperItem(item.key, item.content_hash, item.topic, tuple(order)))
    return paper


def new_seed() -> int:
    return random.SystemRandom().randrange(2**62)
