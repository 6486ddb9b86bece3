"""Reads: a tutor's observations over time with the change between them, and the figures
other domains use (the library's recommendations, the training impact report).

``latest_scores`` and ``mean_score_by_tutor`` are each one statement whatever the number of
tutors: a tutor's latest observation is picked by a window over their observations (latest
``observed_on``, then latest recorded)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from lms.observations.models import Observation, ObservationScore
from lms.observations.rubric import Criterion, rubric_for
from lms.platform.extensions import db

#: Above this many tutors, the figures are read for everyone and filtered here: one
#: statement either way, and no database's limit on bound parameters is reached.
_MAX_BOUND_IDS = 5_000


def _latest(tutor_ids: set[int] | None) -> Select:
    """Each tutor's latest observation: ``(observation id, tutor id, mean score)``."""
    ranked = select(
        Observation.id.label("observation_id"), Observation.tutor_id.label("tutor_id"),
        Observation.mean_score.label("mean_score"),
        func.row_number().over(partition_by=Observation.tutor_id,
                               order_by=(Observation.observed_on.desc(),
                                         Observation.id.desc())).label("rank"))
    if tutor_ids is not None and len(tutor_ids) <= _MAX_BOUND_IDS:
        ranked = ranked.where(Observation.tutor_id.in_(sorted(tutor_ids)))
    ranked = ranked.subquery()
    return select(ranked.c.observation_id, ranked.c.tutor_id, ranked.c.mean_score
                  ).where(ranked.c.rank == 1)


def latest_scores(tutor_ids: set[int]) -> dict[int, dict[str, float]]:
    """Per tutor with an observation, per criterion key, the score of their most recent
    observation (a float, so a mean over several observations could stand in later)."""
    if not tutor_ids:
        return {}
    latest = _latest(set(tutor_ids)).subquery()
    rows = db.session.execute(
        select(latest.c.tutor_id, ObservationScore.criterion, ObservationScore.score)
        .join(ObservationScore, ObservationScore.observation_id == latest.c.observation_id))
    found: dict[int, dict[str, float]] = {}
    for tutor_id, criterion, score in rows:
        if tutor_id in tutor_ids:
            found.setdefault(tutor_id, {})[criterion] = float(score)
    return found


def mean_score_by_tutor(tutor_ids: set[int] | None = None) -> dict[int, float]:
    """Per tutor with an observation, the mean (1-4) of their latest observation's scores;
    every observed tutor when ``tutor_ids`` is None."""
    if tutor_ids is not None and not tutor_ids:
        return {}
    rows = db.session.execute(_latest(set(tutor_ids) if tutor_ids is not None else None))
    return {tutor_id: float(mean) for _, tutor_id, mean in rows
            if tutor_ids is None or tutor_id in tutor_ids}


# --- a tutor's observations over time -----------------------------------------------------


def observations_of(tutor_id: int, *, trust_id: int | None = None,
                    school_ids: Iterable[int] | None = None) -> list[Observation]:
    """The tutor's observations, oldest first (within a trust, or some schools, if given)."""
    query = (select(Observation).where(Observation.tutor_id == tutor_id)
             .options(selectinload(Observation.scores), selectinload(Observation.group),
                      selectinload(Observation.observer), selectinload(Observation.school))
             .order_by(Observation.observed_on, Observation.id))
    if trust_id is not None:
        query = query.where(Observation.trust_id == trust_id)
    if school_ids is not None:
        query = query.where(Observation.school_id.in_(list(school_ids)))
    return list(db.session.scalars(query))


def group_observations(group_id: int) -> list[Observation]:
    return list(db.session.scalars(
        select(Observation).where(Observation.group_id == group_id)
        .options(selectinload(Observation.scores), selectinload(Observation.tutor),
                 selectinload(Observation.observer))
        .order_by(Observation.observed_on.desc(), Observation.id.desc())))


def previous_of(observation: Observation) -> Observation | None:
    """The tutor's observation before this one in the same trust."""
    return db.session.scalar(
        select(Observation).where(
            Observation.tutor_id == observation.tutor_id,
            Observation.trust_id == observation.trust_id,
            (Observation.observed_on < observation.observed_on)
            | ((Observation.observed_on == observation.observed_on)
               & (Observation.id < observation.id)))
        .options(selectinload(Observation.scores))
        .order_by(Observation.observed_on.desc(), Observation.id.desc()).limit(1))


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    score: int
    note: str
    #: The change since the tutor's previous observation (None: no previous score).
    change: int | None

    @property
    def descriptor(self) -> str:
        return self.criterion.descriptor(self.score)


@dataclass(frozen=True)
class ObservationResult:
    observation: Observation
    criteria: list[CriterionResult]
    previous: Observation | None

    @property
    def mean(self) -> float:
        return self.observation.mean_score

    @property
    def change(self) -> float | None:
        if self.previous is None:
            return None
        return round(self.observation.mean_score - self.previous.mean_score, 2)


def result(observation: Observation, previous: Observation | None) -> ObservationResult:
    """The observation criterion by criterion, each with its change since ``previous``."""
    rubric = rubric_for(observation.rubric_version)
    before = {s.criterion: s.score for s in previous.scores} if previous else {}
    rows = []
    for criterion in rubric.criteria:
        score = observation.score_for(criterion.key)
        if score is None:
            continue
        rows.append(CriterionResult(
            criterion, score.score, score.note,
            score.score - before[criterion.key] if criterion.key in before else None))
    return ObservationResult(observation, rows, previous)


def over_time(observations: list[Observation]) -> list[ObservationResult]:
    """Each observation (given oldest first) with its change since the one before it in the
    same trust."""
    results, previous = [], {}
    for observation in observations:
        results.append(result(observation, previous.get(observation.trust_id)))
        previous[observation.trust_id] = observation
    return results
