"""The shapes of the provider pages' forms: the period, the scorecard weights, a review's
scores. The rules (weights add up to 100, scores 1 to 5) are ``scorecards``'."""

from __future__ import annotations

from wtforms import RadioField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from lms.platform.forms import DateGiven, DayField, Form, WholeNumberField, not_before
from lms.tutoring.scorecards import CRITERIA, HIGHEST, LOWEST, MAX_COMMENT, total_message

SCORE_LABELS = {1: "1 Poor", 2: "2 Weak", 3: "3 Adequate", 4: "4 Good", 5: "5 Excellent"}


class PeriodForm(Form):
    """The period the figures cover: a GET form, so a period has its own address. Left out,
    it is the current term so far; the rules are ``service_levels.check_period``."""

    class Meta:
        csrf = False

    start = DayField("Start date", description="For example 2025-09-01",
                     validators=[DateGiven("Enter the start date")])
    end = DayField("End date", description="For example 2025-12-31",
                   validators=[DateGiven("Enter the end date")])

    def validate_end(self, field) -> None:
        not_before(field, self.start)


class Percent:
    """A whole percentage, if given, from 0 to 100."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data is not None and not 0 <= field.data <= 100:
            raise ValidationError(self.message)


class WeightsForm(Form):
    """One whole percentage per criterion (fields named by the criterion's key). When every
    weight is a number, their total is checked here too, so every problem shows at once."""

    def weights(self) -> dict[str, int | None]:
        return {c.key: self[c.key].data for c in CRITERIA}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        values = self.weights()
        if all(isinstance(v, int) for v in values.values()) and sum(values.values()) != 100:
            self.form_errors.append(total_message(sum(values.values())))
            valid = False
        return valid


class ScoresForm(Form):
    """A score from 1 to 5 per criterion (fields named by the criterion's key), and a
    comment."""

    comment = TextAreaField("Comment (optional)",
                            description="What the scores rest on: evidence seen, references, "
                                        "the provider's answers.",
                            validators=[Optional(), Length(max=MAX_COMMENT)])

    def scores(self) -> dict[str, int]:
        return {c.key: int(self[c.key].data) for c in CRITERIA}


_score_values = [str(n) for n in range(LOWEST, HIGHEST + 1)]

for _criterion in CRITERIA:
    _message = f"Score {_criterion.label.lower()} from {LOWEST} to {HIGHEST}"
    setattr(ScoresForm, _criterion.key, RadioField(
        _criterion.label, description=_criterion.hint, validate_choice=False,
        choices=[(v, SCORE_LABELS[int(v)]) for v in _score_values],
        validators=[InputRequired(_message), AnyOf(_score_values, message=_message)]))
    _wrong = f"The weight for {_criterion.label.lower()} must be a whole number from 0 to 100"
    setattr(WeightsForm, _criterion.key, WholeNumberField(
        f"{_criterion.label} (%)", validators=[
            InputRequired(f"Enter the weight for {_criterion.label.lower()}"),
            Percent(_wrong)]))

del _criterion, _message, _wrong
