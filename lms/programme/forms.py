"""Forms for nominations and the training window."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
)

from lms.platform.forms import Form

# --- nominations --------------------------------------------------------------------------

ROLE_IN_SCHOOL_CHOICES = [
    ("", "Choose a role"),
    ("teacher", "Teacher"),
    ("teaching_assistant", "Teaching assistant"),
    ("support_staff", "Support staff"),
    ("other", "Other"),
]


class NominationForm(Form):
    name = StringField("Full name", validators=[Length(max=200)])
    email = EmailField("Email address", description="The invitation is sent here.",
                       validators=[Length(max=254)])
    role_in_school = SelectField("Role in school", choices=ROLE_IN_SCHOOL_CHOICES)
    holds_qts = RadioField("Do they hold qualified teacher status (QTS)?",
                           choices=[("yes", "Yes"), ("no", "No")], validate_choice=False)
    trn = StringField("Teacher reference number (TRN)",
                      description="7 digits. Only needed if they hold QTS.",
                      validators=[Length(max=20)])
    tutoring_phase = RadioField("Which pupils will they tutor?",
                                choices=[("primary", "Primary"), ("secondary", "Secondary")],
                                validate_choice=False)
    subject_focus = StringField("Subject focus", description="For example reading, maths, "
                                "GCSE English.", validators=[Length(max=200)])
    confirmed = HiddenField()


class NominationImportForm(Form):
    file = FileField("CSV file", description="Up to 5,000 rows. Use the template's columns.")
    good_rows_only = BooleanField(
        "If some rows are wrong, import the correct rows and leave the others out"
    )


class DecisionForm(Form):
    nomination_ids = SelectMultipleField("Nominations", coerce=int, choices=[],
                                         validate_choice=False)
    reason = TextAreaField("Reason (needed to reject)", validators=[Length(max=1000)])
    decision = HiddenField()


class AcceptNominationForm(Form):
    password = PasswordField(
        "Choose a password",
        description="At least 12 characters. A few unrelated words make a strong password.",
    )
    confirm = PasswordField("Confirm password",
                            validators=[EqualTo("password", "The two passwords do not match")])
    privacy_consent = BooleanField("I have read the privacy notice and agree to my training "
                                   "and assessment records being kept as it describes")


class ExtendDeadlineForm(Form):
    days = IntegerField("Extend by (days)", validators=[
        DataRequired("Enter the number of days"),
        NumberRange(1, 28, "Extend by between 1 and 28 days")])
    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason for the extension"),
                                                 Length(max=1000)])

