"""The shapes of the tutoring forms. The rules (sizes, clearance, scales) are the services'."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    FileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError

from lms.platform.forms import DateGiven, DayField, Form, WholeNumberField
from lms.tutoring.models import (
    AbsenceReason,
    CancelReason,
    CostModel,
    DeliveryModel,
    EvidenceSource,
    MeasureScale,
    Subject,
)
from lms.tutoring.sessions import MAX_NOTE

WEEKDAYS = [(str(i), d) for i, d in enumerate(
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])]


def _choices(kind) -> list[tuple[str, str]]:
    return [(m.value, m.label) for m in kind]


class Amount(StringField):
    """Money typed as pounds (12, 12.50, £12.50): held as whole pence."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().replace("£", "").replace(",", "")
        if not text:
            self.data = None
            return
        try:
            pounds = float(text)
        except ValueError as error:
            self.data = None
            raise ValueError(f"{self.label.text} must be an amount in pounds, for example "
                             "32.50") from error
        if pounds < 0 or pounds > 100_000 or round(pounds * 100) != round(pounds * 100, 6):
            self.data = None
            raise ValueError(f"{self.label.text} must be an amount from £0 to £100,000, to "
                             "the penny")
        self.data = round(pounds * 100)

    def _value(self):
        return "" if self.data is None else f"{self.data / 100:.2f}"


class Measure(StringField):
    """A value on a programme's progress scale, typed as a number (or left blank)."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = float(text)
        except ValueError as error:
            self.data = None
            raise ValueError(f"{self.label.text} must be a number") from error

    def _value(self):
        return "" if self.data is None else f"{self.data:g}"


def _radio(label: str, kind, message: str, **kwargs) -> RadioField:
    return RadioField(label, choices=_choices(kind), validate_choice=False,
                      validators=[InputRequired(message),
                                  AnyOf([m.value for m in kind], message=message)], **kwargs)


class ProgrammeForm(Form):
    name = StringField("Programme name", validators=[DataRequired("Enter the programme name"),
                                                     Length(max=120)])
    subject = _radio("Subject", Subject, "Choose a subject")
    delivery_model = _radio("Delivery model", DeliveryModel, "Choose a delivery model")
    max_group_size = WholeNumberField(
        "Maximum group size", default=3,
        description="3 is the ratio recommended for school-led tutoring; 6 at most; 1 for "
                    "one-to-one.", validators=[InputRequired("Enter the maximum group size")])
    planned_sessions = WholeNumberField("Planned sessions", default=15,
                                   validators=[InputRequired("Enter the planned sessions")])
    session_minutes = WholeNumberField("Minutes per session", default=60,
                                  validators=[InputRequired("Enter the minutes per session")])
    cost_model = _radio("Cost model", CostModel, "Choose a cost model")
    rate = Amount("Rate (£)", description="Per tutor hour, per pupil, or per group per term, "
                                          "as the cost model says. For a provider: their rate.",
                  validators=[InputRequired("Enter the rate in pounds")])
    school_contribution_percent = WholeNumberField(
        "School's own contribution (%)", default=0,
        description="The share of the cost each school pays itself.",
        validators=[InputRequired("Enter the school's contribution, 0 if none")])
    provider_id = SelectField("Provider (for provider-delivered programmes)", choices=[],
                              validators=[Optional()])
    measure_scale = _radio("Progress is measured as", MeasureScale,
                           "Choose the scale progress is measured on")
    evidence_source = _radio("Evidence of progress comes from", EvidenceSource,
                             "Choose where the evidence of progress comes from")
    sla_notice_hours = WholeNumberField("Cancellation notice the provider gives (hours)",
                                        default=24, validators=[Optional()])
    sla_report_hours = WholeNumberField("Session report within (hours)", default=48,
                                   validators=[Optional()])
    sla_late_minutes = WholeNumberField("A session starting more than this late is late (minutes)",
                                   default=5, validators=[Optional()])
    sla_cover_required = BooleanField("The provider supplies a cover tutor when theirs is absent",
                                      default=True)

    def validate_provider_id(self, field):
        if field.data and field.data not in {v for v, _ in field.choices}:
            raise ValidationError("Choose a provider from the list")


class RetentionForm(Form):
    pupil_retention_years = WholeNumberField(
        "Keep pupil records for (years after their last group ends)", default=2,
        validators=[InputRequired("Enter a number of years")])


class PupilForm(Form):
    display_name = StringField(
        "Name shown", description="Initials are fine. Shown only to your school's staff and "
                                  "the pupil's tutors.",
        validators=[DataRequired("Enter the name the school uses for the pupil"),
                    Length(max=60)])
    reference = StringField(
        "School's pupil reference", description="Your own reference, such as the admission "
                                                "number. Never the unique pupil number (UPN).",
        validators=[DataRequired("Enter the school's pupil reference"), Length(max=40)])
    year_group = SelectField("Year group", choices=[("", "Choose")] + [
        ("R" if y == 0 else str(y), "Reception" if y == 0 else f"Year {y}") for y in range(14)],
        validators=[DataRequired("Choose the year group")])
    disadvantaged = BooleanField("Disadvantaged (pupil premium)")
    send = BooleanField("Special educational needs or disabilities (SEND)")
    eal = BooleanField("English as an additional language (EAL)")


class PupilImportForm(Form):
    file = FileField("CSV file", description="Up to 2,000 pupils. Use the template's columns.")


class EraseForm(Form):
    reason = TextAreaField("Reason", description="For example: subject access request, or the "
                                                 "pupil has left the school.",
                           validators=[DataRequired("Say why the records are being erased"),
                                       Length(max=1000)])
    confirm = BooleanField("I understand names and references are deleted and cannot be "
                           "brought back", validators=[DataRequired(
                               "Confirm that the records should be erased")])


class GroupForm(Form):
    name = StringField("Group name", description="For example: Year 5 maths, Tuesday.",
                       validators=[DataRequired("Enter a name for the group"), Length(max=120)])
    programme_id = SelectField("Programme", choices=[],
                               validators=[DataRequired("Choose a programme")])
    tutor_id = SelectField("Tutor", choices=[], description="Only tutors the approved-tutor "
                                                          "register clears for your school.",
                           validators=[DataRequired("Choose a tutor")])
    weekday = SelectField("Day", choices=WEEKDAYS, validators=[DataRequired("Choose the day")])
    starts_at = TimeField("Time", validators=[InputRequired("Enter the time, for example "
                                                            "09:15")])
    starts_on = DayField("First session", validators=[DateGiven("Enter the first session's "
                                                                "date")])
    pupil_ids = SelectMultipleField("Pupils", choices=[], coerce=int, validate_choice=False)

    def validate_programme_id(self, field):
        if field.data and field.data not in {v for v, _ in field.choices}:
            raise ValidationError("Choose one of the trust's programmes")

    def validate_tutor_id(self, field):
        if field.data and field.data not in {v for v, _ in field.choices}:
            raise ValidationError("Choose a tutor from the list")


class AddPupilsForm(Form):
    pupil_ids = SelectMultipleField("Pupils to add", choices=[], coerce=int,
                                    validate_choice=False,
                                    validators=[DataRequired("Choose at least one pupil")])


class ProgressForm(Form):
    baseline = Measure("Baseline")
    target = Measure("Target")
    current = Measure("Current status")
    current_on = DayField("Date of the current status", validators=[Optional()])
    evidence_source = SelectField("Evidence source", choices=_choices(EvidenceSource),
                                  validators=[Optional()])
    next_action = StringField("Next action", description="What happens next in tutoring. A "
                                                         "worry about the pupil goes to the "
                                                         "safeguarding lead, not here.",
                              validators=[Optional(), Length(max=200)])


class SessionForm(Form):
    """The session log's fixed fields; each pupil's marks are read by name
    (``pupil-<id>-status``, ``-reason``, ``-engagement``)."""

    status = RadioField("Did the session happen?", choices=[
        ("delivered", "Delivered"), ("cancelled", "Cancelled")], validate_choice=False,
        validators=[InputRequired("Say whether the session was delivered or cancelled"),
                    AnyOf(["delivered", "cancelled"],
                          message="Say whether the session was delivered or cancelled")])
    minutes_delivered = WholeNumberField("Minutes delivered", validators=[Optional()])
    cancel_reason = RadioField("If cancelled, why?", choices=_choices(CancelReason),
                               validate_choice=False, validators=[Optional()])
    note = TextAreaField("Note about the session (optional)",
                         description="About the session only. A worry about a pupil goes to "
                                     "the safeguarding lead, not here.",
                         validators=[Optional(), Length(max=MAX_NOTE)])
    reason = TextAreaField("Why is this being changed?", validators=[Optional(),
                                                                      Length(max=1000)])


ABSENCE_CHOICES = _choices(AbsenceReason)
