"""The central team's adjustments to an assessment."""

from __future__ import annotations

from wtforms import (
    IntegerField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
)

from lms.platform.forms import Form


class AdjustmentForm(Form):
    kind = SelectField("Adjustment", choices=[("extra_time", "Extra time (% of the time limit)"),
                                              ("extra_attempt", "Extra attempt(s)")])
    value = IntegerField("How much",
                         description="Extra time: 5 to 100 (%). Extra attempts: 1 or 2.",
                         validators=[DataRequired("Enter how much")])
    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason for the adjustment"),
                                                 Length(max=1000)])

