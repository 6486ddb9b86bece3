"""Item analysis: how each item performs across submitted attempts, so weak items can be fixed.

Facility is the share of responses that were right. Discrimination is the point-biserial
correlation between getting the item right and the rest of the paper's score (the item itself
left out, so it does not correlate with itself). Distractor rates show how often each option was
chosen. Items outside sensible bounds are flagged once they have enough responses.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from assessments.attempts.models import Attempt, AttemptItem, AttemptStatus
from assessments.bank.models import ItemVersion
from lms.platform.extensions import db
from lms.programme.models import Enrolment

MIN_RESPONSES = 30
FACILITY_LOW, FACILITY_HIGH = 0.3, 0.95
DISCRIMINATION_LOW = 0.2


@dataclass(frozen=True)
class Response:
    attempt_id: int
    item_id: int
    correct: bool
    #: Option indexes (as in the item file) the tutor chose.
    chosen: tuple[int, ...]
    #: The attempt's total number right, this item included.
    attempt_score: int


@dataclass
class ItemStats:
    item_id: int
    responses: int
    facility: float
    discrimination: float | None
    option_rates: list[float]
    flags: list[str] = field(default_factory=list)


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 2:
        return None
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    syy = sum((y - mean_y) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


def item_statistics(responses: list[Response], option_counts: dict[int, int],
                    min_responses: int = MIN_RESPONSES) -> dict[int, ItemStats]:
    by_item: dict[int, list[Response]] = defaultdict(list)
    for response in responses:
        by_item[response.item_id].append(response)
    result = {}
    for item_id, rows in by_item.items():
        scores = [1.0 if r.correct else 0.0 for r in rows]
        rest = [r.attempt_score - s for r, s in zip(rows, scores, strict=True)]
        facility = statistics.fmean(scores)
        discrimination = _pearson(scores, rest)
        counts = [0] * option_counts.get(item_id, 0)
        for r in rows:
            for index in r.chosen:
                if 0 <= index < len(counts):
                    counts[index] += 1
        stats = ItemStats(item_id, len(rows), facility, discrimination,
                          [c / len(rows) for c in counts])
        if len(rows) >= min_responses:
            if facility < FACILITY_LOW:
                stats.flags.append("very hard")
            if facility > FACILITY_HIGH:
                stats.flags.append("very easy")
            if discrimination is None or discrimination < DISCRIMINATION_LOW:
                stats.flags.append("weak discrimination")
        result[item_id] = stats
    return result


def responses() -> tuple[list[Response], dict[int, ItemVersion], dict[int, str]]:
    """Every graded response, with the items and each attempt's pathway."""
    rows = db.session.execute(
        select(AttemptItem, Attempt.correct, Attempt.id, Enrolment.pathway)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(Enrolment, Enrolment.id == Attempt.enrolment_id)
        .where(Attempt.status == AttemptStatus.SUBMITTED)
    ).all()
    items = {i.id: i for i in db.session.scalars(select(ItemVersion).where(
        ItemVersion.id.in_({row.AttemptItem.item_version_id for row in rows})))}
    result = []
    pathways = {}
    for row, score, attempt_id, pathway in rows:
        chosen = tuple(sorted(row.option_order[p] for p in (row.selected or [])
                              if 0 <= p < len(row.option_order)))
        result.append(Response(attempt_id, row.item_version_id, bool(row.is_correct), chosen,
                               score or 0))
        pathways[attempt_id] = pathway.value
    return result, items, pathways


@dataclass(frozen=True)
class PaperDifficulty:
    pathway: str
    papers: int
    mean_facility: float
    spread: float


def paper_difficulty(all_responses: list[Response], stats: dict[int, ItemStats],
                     pathways: dict[int, str]) -> list[PaperDifficulty]:
    """How hard each pathway's papers are, by the facility of the items drawn, so parallel forms
    can be compared: mean and standard deviation of each paper's mean facility."""
    per_paper: dict[int, list[float]] = defaultdict(list)
    for response in all_responses:
        per_paper[response.attempt_id].append(stats[response.item_id].facility)
    by_pathway: dict[str, list[float]] = defaultdict(list)
    for attempt_id, facilities in per_paper.items():
        by_pathway[pathways[attempt_id]].append(statistics.fmean(facilities))
    return [PaperDifficulty(p, len(v), statistics.fmean(v),
                            statistics.pstdev(v) if len(v) > 1 else 0.0)
            for p, v in sorted(by_pathway.items())]
