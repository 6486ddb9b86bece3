"""Feedback forms: shape only (the rules are in the services, so a bad score is answered with
the services' message on the form)."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import Optional

from lms.feedback.models import MAX_COMMENT
from lms.feedback.surveys import PRACTICE_QUESTION
from lms.platform.forms import Form, WholeNumberField

SCORES = [(str(n), str(n)) for n in range(1, 6)]


class RatingForm(Form):
    clear = RadioField("How clear was it?", choices=SCORES, validators=[Optional()],
                       validate_choice=False, description="1 is not clear, 5 is very clear")
    useful = RadioField("How useful is it for your tutoring?", choices=SCORES,
                        validators=[Optional()], validate_choice=False,
                        description="1 is not useful, 5 is very useful")
    comment = TextAreaField(f"Anything to tell the course writers? (optional, up to "
                            f"{MAX_COMMENT} characters)", validators=[Optional()])
    #: Where the tutor was: they go back there, rated or not.
    next = HiddenField()


class SurveyForm(Form):
    practice_changed = RadioField(PRACTICE_QUESTION, choices=SCORES, validators=[Optional()],
                                  validate_choice=False,
                                  description="1 is not at all, 5 is a great deal")
    missing = TextAreaField("What is missing from the training?", validators=[Optional()],
                            description="What you wish they had learned, or had more of")
    would_nominate = RadioField("Would you nominate others for this training?",
                                choices=[("yes", "Yes"), ("no", "No")],
                                validators=[Optional()], validate_choice=False)


class SettingsForm(Form):
    survey_weeks = WholeNumberField(
        "Weeks after an endorsement to ask school leaders about the training",
        description="Between 2 and 26 weeks; 6 unless you choose otherwise",
        validators=[Optional()])
