"""The shapes of the pilot, consent and export forms. The rules are the services'."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.platform.forms import DayField, Form
from lms.research.models import ComparisonKind, OutcomeMeasure


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):  # the service says which choices are allowed
        pass


class PilotForm(Form):
    name = StringField("Pilot name", validators=[Optional(), Length(max=120)])
    programme_key = SelectField("Programme being piloted", validate_choice=False)
    school_ids = Checkboxes("Pilot schools", coerce=int,
                            description="Leave all unticked to pilot at every school running "
                                        "the programme.")
    comparison_kind = RadioField("Compare with", validate_choice=False, choices=[
        (k.value, k.label) for k in ComparisonKind])
    comparison_programme_key = SelectField("Comparison programme", validate_choice=False,
                                           description="For a comparison with another "
                                                       "programme or delivery model.")
    comparison_school_ids = Checkboxes(
        "Comparison schools", coerce=int,
        description="For a comparison with schools: schools that have not started the "
                    "pilot's programme. For a programme comparison, leave unticked for every "
                    "school running it.")
    starts_on = DayField("Start date", validators=[Optional()])
    ends_on = DayField("End date", validators=[Optional()])
    outcome = RadioField("Outcome measure", validate_choice=False, choices=[
        (m.value, m.label) for m in OutcomeMeasure])
    random_allocation = BooleanField("Schools or pupils were allocated to pilot and "
                                     "comparison at random")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class ConsentForm(Form):
    confirm = BooleanField("I confirm the school agrees to its pupils' pseudonymised tutoring "
                           "records being used for research")


class WithdrawForm(Form):
    pass


class ExportForm(Form):
    kind = RadioField("What to download", default="rows", validate_choice=False, choices=[
        ("rows", "One row per tutor, pupil and programme"),
        ("aggregates", "Aggregates (counts under 10 shown as <10)")])
    fmt = RadioField("Format", default="csv", validate_choice=False, choices=[
        ("csv", "CSV"), ("xlsx", "Excel (XLSX)")])
