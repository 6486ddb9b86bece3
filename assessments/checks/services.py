"""Formative checks: a module's short check, any number of tries, feedback at once."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from assessments.bank.blueprints import BLUEPRINTS
from assessments.bank.models import ItemVersion, correct_indexes
from assessments.bank.papers import new_seed
from assessments.bank.services import current_bank, is_correct, option_positions
from assessments.checks.models import FormativeResult
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.programme.models import Enrolment

if TYPE_CHECKING:
    pass

FORMATIVE_PASS = 0.75


# --- formative checks ---------------------------------------------------------------------


def start_check(enrolment: Enrolment, topic: str) -> FormativeResult:
    """Draw a module check: up to the blueprint's number of formative items, options shuffled."""
    blueprint = BLUEPRINTS[enrolment.pathway]
    snapshot = current_bank()
    pool = sorted(snapshot.bank.live(enrolment.pathway.value, topic, "formative"),
                  key=lambda i: i.key)
    if not pool:
        raise DomainError("This module has no check.")
    rng = random.Random(new_seed())
    chosen = rng.sample(pool, min(len(pool), max(3, blueprint.formative_items)))
    items = []
    for spec in chosen:
        order = list(range(len(spec.options)))
        rng.shuffle(order)
        items.append({"item_version_id": snapshot.ids[spec.key], "option_order": order})
    check = FormativeResult(enrolment_id=enrolment.id, topic=topic, items=items,
                            total=len(items))
    db.session.add(check)
    db.session.flush()
    return check


@dataclass(frozen=True)
class ItemFeedback:
    item: ItemVersion
    option_order: list[int]
    selected: list[int]
    correct: bool

    @property
    def explanations(self) -> list[str]:
        """Why each chosen option is right or wrong, and why the key is right."""
        shown = {self.option_order[p] for p in self.selected}
        notes = [self.item.options[i]["feedback"] for i in sorted(shown)]
        for i in sorted(correct_indexes(self.item.options) - shown):
            notes.append(self.item.options[i]["feedback"])
        return notes


def submit_check(check: FormativeResult, answers: dict[int, list[int]]) -> list[ItemFeedback]:
    """Grade a module check at once, with feedback per item; answers map index → positions."""
    if check.submitted_at is not None:
        raise DomainError("This check has already been marked. Start a new try.")
    feedback = []
    for index, entry in enumerate(check.items):
        item = db.session.get(ItemVersion, entry["item_version_id"])
        selected = option_positions(answers.get(index, []), len(item.options))
        feedback.append(ItemFeedback(item, entry["option_order"], selected,
                                     is_correct(item.options, entry["option_order"],
                                                selected)))
    check.correct = sum(f.correct for f in feedback)
    check.passed = check.correct >= FORMATIVE_PASS * check.total
    check.submitted_at = clock.now()
    return feedback


def check_topics(pathway: str) -> set[str]:
    """Topics whose module ends with a check for this pathway (live formative items loaded)."""
    return {item.topic for item in current_bank().bank.items
            if item.use == "formative" and item.status == "live" and pathway in item.pathways}


def checks_passed(enrolment: Enrolment) -> set[str]:
    return set(db.session.scalars(select(FormativeResult.topic).where(
        FormativeResult.enrolment_id == enrolment.id, FormativeResult.passed.is_(True))))

