"""The concern form (one page, phone first, nothing required but the account) and the DSL's
forms. Shape only: the rules are in the services."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.platform.forms import DayField, Form, WholeNumberField
from lms.safeguarding.models import ADDABLE_LABELS, CHILD_CATEGORIES, ConcernKind, ReferralTo
from lms.safeguarding.services import ACCOUNT_LIMIT, DETAILS_LIMIT


class ConcernForm(Form):
    kind = RadioField("Who is the concern about?", choices=[
        (ConcernKind.ABOUT_CHILD.value, "A child"),
        (ConcernKind.ABOUT_ADULT.value, "An adult: a tutor or member of staff")],
        default=ConcernKind.ABOUT_CHILD.value, validators=[Optional()])
    immediate_danger = BooleanField("A child is in immediate danger now")
    danger_seen = HiddenField()
    school_id = SelectField("School", choices=[], validators=[Optional()])
    account = TextAreaField(
        "What did you see or hear?",
        description="In your own words, and the child's exact words if they told you "
                    "something. Do not investigate or ask leading questions.",
        validators=[Optional(), Length(max=ACCOUNT_LIMIT)])
    when = StringField("When did it happen?", description="For example: today, during the "
                       "session, about 3:40pm", validators=[Optional(), Length(max=500)])
    pupil_id = SelectField("Which pupil?", choices=[], validators=[Optional()])
    category = SelectField("What kind of concern is it, if you know?", choices=[
        (c.value, c.label) for c in CHILD_CATEGORIES], validators=[Optional()])
    subject_id = SelectField("Who is it about? (an allegation about an adult)", choices=[],
                             validators=[Optional()])
    subject_name = StringField("Or their name and role, if they are not listed",
                               validators=[Optional(), Length(max=200)])
    group_id = HiddenField()
    day = HiddenField()


class EntryForm(Form):
    kind = SelectField("What are you recording?", choices=ADDABLE_LABELS,
                       validators=[DataRequired("Choose what you are recording")])
    text = TextAreaField("Details", validators=[Optional(), Length(max=DETAILS_LIMIT)],
                         description="For a referral, its reference. For a correction, "
                                     "what was wrong and what is right.")
    on = DayField("Date it happened (for a referral, or parents informed)",
                  validators=[Optional()])
    referral_to = SelectField("Referral to", choices=[("", "Not a referral")] + [
        (r.value, r.label) for r in ReferralTo], validators=[Optional()])
    corrects_id = SelectField("Correcting which entry?", choices=[], validators=[Optional()])


class RecordedElsewhereForm(Form):
    system = StringField("The school's system", description="CPOMS, MyConcern, or another",
                         validators=[DataRequired("Name the school's system"),
                                     Length(max=60)])
    reference = StringField("Its reference there",
                            validators=[DataRequired("Enter the reference"), Length(max=80)])


class CloseForm(Form):
    outcome = TextAreaField("Outcome", validators=[DataRequired("Record the outcome"),
                                                   Length(max=DETAILS_LIMIT)])


class BreakGlassForm(Form):
    reason = TextAreaField(
        "Why must you open this concern?",
        description="Recorded in the concern's chronology and the access log, and sent to "
                    "the trust safeguarding lead now.",
        validators=[DataRequired("Say why you must open this concern"), Length(max=2000)])


class SuspendForm(Form):
    reason = TextAreaField(
        "Reason for the suspension",
        description="Recorded in the audit log. Do not write the allegation here.",
        validators=[DataRequired("Give a reason for the suspension"), Length(max=1000)])


class CloseReviewForm(Form):
    outcome = RadioField("How did the review end?", choices=[
        ("reinstated", "Reinstate the tutor on the register"),
        ("removed", "Remove the tutor from the register")],
        validators=[InputRequired("Choose how the review ended")])
    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason"),
                                                 Length(max=1000)])


class SettingsForm(Form):
    first_escalation_minutes = WholeNumberField(
        "Escalate an unacknowledged concern after (minutes)",
        validators=[InputRequired("Enter the minutes before the first escalation"),
                    NumberRange(5, 1440, "Between 5 minutes and 24 hours (1440)")])
    second_escalation_minutes = WholeNumberField(
        "Escalate it again after (minutes)",
        validators=[InputRequired("Enter the minutes before the second escalation"),
                    NumberRange(6, 2880, "Between 6 minutes and 48 hours (2880)")])
    purge_days = WholeNumberField(
        "Purge an account this many days after it is recorded in the school's system",
        validators=[InputRequired("Enter the days"), NumberRange(1, 365, "Between 1 and 365")])
