"""The observation form: a radio group (1-4, with each level's descriptor) and a note for every
criterion of the rubric, in the rubric's order. Forms check shape; the rules (every score
given, 1 to 4, the date, lengths) are the service's, so all of them are reported at once."""

from __future__ import annotations

from wtforms import RadioField, SelectField, TextAreaField

from lms.observations.rubric import (
    COMMENT_MAX,
    LEVELS,
    NEXT_STEP_MAX,
    NOTE_MAX,
    RUBRIC,
    Criterion,
)
from lms.observations.services import note_field, score_field
from lms.platform.forms import DayField, Form


def score_choices(criterion: Criterion) -> list[tuple[str, str]]:
    return [(str(score), f"{score} {level}: {criterion.descriptor(score)}")
            for score, level in LEVELS.items()]


def _fields() -> dict:
    fields = {
        "session_id": SelectField("Session observed", choices=[], validate_choice=False,
                                  description="Choose the session if it has been logged."),
        "observed_on": DayField("Date of the session",
                                description="For example, 2026-03-27. Not in the future."),
    }
    for criterion in RUBRIC.criteria:
        fields[score_field(criterion.key)] = RadioField(
            criterion.label, choices=score_choices(criterion), validate_choice=False,
            description=criterion.looks_for)
        fields[note_field(criterion.key)] = TextAreaField(
            f"Note on “{criterion.label}” (optional)",
            description=f"What you saw. Up to {NOTE_MAX} characters.")
    fields["comment"] = TextAreaField(
        "General comment (optional)", description=f"Up to {COMMENT_MAX} characters.")
    fields["next_step"] = TextAreaField(
        "One next step for the tutor",
        description=f"The one thing to work on before the next observation. Up to "
                    f"{NEXT_STEP_MAX} characters.")
    return fields


#: Built from the rubric, so its fields come in the rubric's order (and the error summary's).
ObservationForm = type("ObservationForm", (Form,), _fields())


def posted_score(value: str | None) -> int | None:
    """A score as posted: empty is None, anything but a whole number is 0 (out of range)."""
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if value.isdigit() and len(value) == 1 else 0
