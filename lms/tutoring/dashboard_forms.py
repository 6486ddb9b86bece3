"""The tutoring dashboards' period (a term, or dates of one's own) and the impact review's
decision."""

from __future__ import annotations

from datetime import date, timedelta

from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.platform.errors import DomainError
from lms.platform.forms import DayField, Form, OfferedChoiceField
from lms.tutoring.figures import Period, check_period, term_of, this_term
from lms.tutoring.models import ReviewDecision

CUSTOM = "custom"
MAX_REASON = 2000


def term_key(day: date) -> str:
    """A term's name in addresses and forms, e.g. ``2025-autumn``."""
    name, start, _ = term_of(day)
    return f"{start.year}-{name.lower()}"


def term_from_key(key: str) -> tuple[date, date] | None:
    """The first and last day of the term ``key`` names, or ``None``."""
    year, _, name = (key or "").partition("-")
    starts = {"autumn": 9, "spring": 1, "summer": 4}
    if not (year.isdigit() and len(year) == 4 and name in starts):
        return None
    _, start, end = term_of(date(int(year), starts[name], 1))
    return start, end


def recent_terms(today: date, count: int = 6) -> list[tuple[str, str]]:
    """``(key, label)`` of this term and the ``count - 1`` before it, newest first."""
    found, day = [], today
    for _ in range(count):
        name, start, _ = term_of(day)
        found.append((term_key(day), f"{name} term {start.year}"))
        day = start - timedelta(days=1)
    return found


class PeriodForm(Form):
    """A GET form, so a period has its own address: a recent term (this one so far when
    nothing is chosen), or a start and end date of one's own."""

    class Meta:
        csrf = False

    term = OfferedChoiceField("Term", message="Choose a term from the list, or your own dates",
                              choices=[])
    start = DayField("Start date", description="For example 2025-09-01",
                     validators=[Optional()])
    end = DayField("End date", description="For example 2025-12-31", validators=[Optional()])

    def __init__(self, formdata, today: date):
        super().__init__(formdata)
        self.today = today
        self.term.choices = [*recent_terms(today), (CUSTOM, "My own dates (below)")]
        self.period: Period | None = None

    def validate(self, extra_validators=None) -> bool:
        """Every problem at once: a mistyped date, a missing one, dates out of order."""
        valid = super().validate(extra_validators)
        own = self.term.data == CUSTOM or bool(self.start.raw_data and "".join(
            self.start.raw_data).strip()) or bool(self.end.raw_data and "".join(
                self.end.raw_data).strip())
        if not own:
            if not valid:
                return False
            if self.term.data:
                start, end = term_from_key(self.term.data)
                self.period = Period(start, min(end, self.today))
                if start > self.today:
                    self.term.errors.append("That term has not started yet")
                    return False
            else:
                self.period = this_term(self.today)
            return True
        for name, label in (("start", "start"), ("end", "end")):
            field = getattr(self, name)
            if field.data is None and not field.errors:
                field.errors.append(f"Enter the {label} date, or choose a term")
        if not valid or self.start.errors or self.end.errors:
            return False
        try:
            self.period = check_period(self.start.data, self.end.data)
        except DomainError as error:
            self.add_domain_error(error)
            return False
        return True

    def kept(self) -> dict[str, str]:
        """The period's arguments, for links that keep it."""
        if self.period is None:
            return {}
        if self.term.data and self.term.data != CUSTOM and not self.start.data:
            return {"term": self.term.data}
        if self.start.data:
            return {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}
        return {}


class ImpactDecisionForm(Form):
    """The central team's decision on one programme for the term under review."""

    programme_key = HiddenField(validators=[DataRequired("Choose the programme")])
    decision = RadioField("Decision", choices=[(d.value, d.label) for d in ReviewDecision],
                          validators=[DataRequired("Choose continue, change, stop or expand")])
    reason = TextAreaField("Reason", description="What the figures show and why you decided "
                           "this. Trustees read it in the board report.",
                           validators=[DataRequired("Give the reason for the decision"),
                                       Length(max=MAX_REASON, message="Keep the reason to "
                                              f"{MAX_REASON:,} characters")])
