"""What each pathway's summative assessment draws, and its rules.

A blueprint is data: items per topic (a topic is a course module), pass mark, time limit,
attempts, cool-off, and whether flagged lessons must be revisited before a second attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from lms.programme.models import Pathway


@dataclass(frozen=True)
class Blueprint:
    pathway: Pathway
    items_per_topic: dict[str, int]
    pass_mark: float = 0.8
    time_limit: timedelta = timedelta(minutes=45)
    attempts: int = 2
    cool_off: timedelta = timedelta(hours=24)
    revisit_flagged_lessons: bool = True
    formative_items: int = field(default=4)

    @property
    def total_items(self) -> int:
        return sum(self.items_per_topic.values())


_CORE = {
    "effective-tutoring": 2,
    "relationships-and-motivation": 2,
    "planning-sessions": 3,
    "assessment-for-learning": 3,
    "feedback": 2,
    "metacognition": 3,
    "small-group-tutoring": 2,
    "supporting-pupils-with-send": 2,
    "safeguarding-and-conduct": 3,
    "working-with-the-class-teacher": 2,
}

BLUEPRINTS: dict[Pathway, Blueprint] = {
    Pathway.QTS_REFRESHER: Blueprint(
        Pathway.QTS_REFRESHER,
        {"qts-from-classroom-to-tutoring": 6, "qts-tutoring-practice": 8,
         "qts-safeguarding-and-partnership": 6},
        time_limit=timedelta(minutes=30),
    ),
    Pathway.PRIMARY: Blueprint(
        Pathway.PRIMARY, {**_CORE, "early-reading": 3, "early-maths": 3}
    ),
    Pathway.SECONDARY: Blueprint(
        Pathway.SECONDARY, {**_CORE, "gcse-subject-tutoring": 3, "exam-technique": 3}
    ),
}

#: The live bank must hold at least this many summative items per item drawn, per topic.
BANK_FACTOR = 3
