"""Forms of the core. Validation of domain rules lives in services; forms check shape."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
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
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from lms.models import Pathway, Phase, Role, TutoringPhase

PHASE_CHOICES = [("", "Choose a phase")] + [(p.value, p.label) for p in Phase]


class DomainErrorsMixin:
    def add_domain_error(self, error) -> None:
        """Show a service's ``DomainError`` on its field, or above the form."""
        field = getattr(self, error.field, None) if error.field else None
        if field is not None:
            field.errors = [*field.errors, error.message]
        else:
            self.form_errors.append(error.message)


class Form(DomainErrorsMixin, FlaskForm):
    pass


class SignInForm(Form):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])


class SecondFactorForm(Form):
    """A code from the authenticator app; a recovery code is accepted in the same box."""

    code = StringField(
        "Code from your authenticator app",
        description="The 6 digits the app shows now for Tutor Endorsement Platform.",
        validators=[DataRequired("Enter the code"), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                   "spellcheck": "false", "autocapitalize": "none", "class": "width-16"},
    )


class RecoveryCodeForm(SecondFactorForm):
    code = StringField(
        "Recovery code",
        description="One of the ten codes you saved when you set up two-factor sign-in, for "
                    "example abcd-efgh-jk. Each works once.",
        validators=[DataRequired("Enter a recovery code"), Length(max=40)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none",
                   "class": "width-16"},
    )


class CurrentCodeForm(SecondFactorForm):
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[DataRequired("Enter a code from your authenticator app"), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false",
                   "autocapitalize": "none", "class": "width-16"},
    )


class RecoveryCodesSavedForm(Form):
    saved = BooleanField("I have saved these recovery codes somewhere safe",
                         validators=[DataRequired("Confirm that you have saved the recovery "
                                                  "codes")])


class ForgotPasswordForm(Form):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address")])


class SetPasswordForm(Form):
    password = PasswordField(
        "New password",
        description="At least 12 characters. A few unrelated words make a strong password.",
        validators=[DataRequired("Enter a new password")],
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[DataRequired("Enter the new password again"),
                    EqualTo("password", "The two passwords do not match")],
    )


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password")]
    )


class TrustForm(Form):
    name = StringField("Trust name", validators=[DataRequired("Enter the trust name"),
                                                 Length(max=200)])


class ClusterForm(Form):
    name = StringField("Cluster name", validators=[DataRequired("Enter the cluster name"),
                                                   Length(max=200)])


class SchoolForm(Form):
    urn = StringField("URN", description="The 6-digit Unique Reference Number",
                      validators=[DataRequired("Enter the URN")])
    name = StringField("School name", validators=[DataRequired("Enter the school name")])
    phase = SelectField("Phase", choices=PHASE_CHOICES,
                        validators=[DataRequired("Choose the school's phase")])
    local_authority = StringField("Local authority",
                                  validators=[DataRequired("Enter the local authority")])
    postcode = StringField("Postcode", validators=[DataRequired("Enter the postcode")])
    cluster_id = SelectField("Cluster", choices=[], validators=[Optional()])


class MoveSchoolForm(Form):
    trust_id = SelectField("Trust", choices=[], validators=[DataRequired("Choose a trust")])
    cluster_id = SelectField("Cluster", choices=[], validators=[Optional()])
    reason = TextAreaField("Reason", validators=[DataRequired("Say why the school is moving"),
                                                 Length(max=1000)])


STAFF_ROLE_CHOICES = [
    (Role.SCHOOL_LEADER.value, Role.SCHOOL_LEADER.label),
    (Role.CENTRAL_TEAM.value, Role.CENTRAL_TEAM.label),
    (Role.CLUSTER_LEAD.value, Role.CLUSTER_LEAD.label),
    (Role.TRUSTEE.value, Role.TRUSTEE.label),
]


class InviteStaffForm(Form):
    name = StringField("Full name", validators=[DataRequired("Enter their full name"),
                                                Length(max=200)])
    email = EmailField("Email address", validators=[DataRequired("Enter their email address")])
    role = SelectField("Role", choices=STAFF_ROLE_CHOICES,
                       validators=[DataRequired("Choose a role")])
    school_id = SelectField("School (for a school leader)", choices=[], validators=[Optional()])
    cluster_id = SelectField("Cluster (for a cluster lead)", choices=[], validators=[Optional()])


class ReasonForm(Form):
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)])


def not_before(last, first) -> None:
    """The end of a range of days may not come before its start (either may be left out)."""
    if last.data and first.data and last.data < first.data:
        raise ValidationError(f"{last.label.text} must be the same as or after "
                              f"{first.label.text.lower()}")


class DayField(DateField):
    """A date typed or picked as YYYY-MM-DD; left blank it is empty (for ``Optional`` or
    ``DataRequired`` to judge), mistyped it says what to fix."""

    def process_formdata(self, valuelist):
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata([v.strip() for v in valuelist])
        except ValueError as error:
            raise ValueError(f"{self.label.text} must be a real date, for example "
                             "2025-03-27") from error
        if self.data is not None and not 2000 <= self.data.year <= 2999:
            self.data = None
            raise ValueError(f"{self.label.text} must be a date in the years 2000 to 2999")


class DateGiven:
    """``DataRequired`` for a ``DayField``, except that a mistyped date keeps its own message
    (rather than "enter a date")."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data is None and not field.process_errors:
            raise StopValidation(self.message)


class PageField(IntegerField):
    """An entry id a paging link carries (never typed): a whole number or nothing."""

    def process_formdata(self, valuelist):
        if valuelist and not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(PAGE_LINK_MESSAGE) from error

    def pre_validate(self, form):
        if self.data is not None and self.data < 1:
            raise ValidationError(PAGE_LINK_MESSAGE)


PAGE_LINK_MESSAGE = "Use the newer and older links to move between pages"


class AuditSearchForm(Form):
    """The audit log's search: a plain GET form, so a search has its own address. ``before``
    and ``after`` are the paging links' entry ids, not typed by anyone."""

    class Meta:
        csrf = False

    action = StringField("Action contains", validators=[Optional(), Length(max=64)])
    object_type = StringField("Object type", validators=[Optional(), Length(max=64)])
    object_id = StringField("Object id", validators=[Optional(), Length(max=64)])
    actor = EmailField("Done by (email address)", validators=[
        Optional(), Length(max=254),
        Email("Enter the email address of the person who made the change, like "
              "name@example.org")])
    reason = StringField("Reason contains", validators=[Optional(), Length(max=200)])
    date_from = DayField("Date from", description="For example 2025-09-01",
                         validators=[Optional()])
    date_to = DayField("Date to", description="For example 2025-12-31",
                       validators=[Optional()])
    before = PageField()
    after = PageField()

    def validate_date_to(self, field) -> None:
        not_before(field, self.date_from)


class BoardReportForm(Form):
    """The board report's period: a GET form, so a report has its own address. Left out, the
    dates are the current term so far; the rules of a period are ``reports.check_period``."""

    class Meta:
        csrf = False

    start = DayField("Start date", description="For example 2025-09-01",
                     validators=[DateGiven("Enter the start date")])
    end = DayField("End date", description="For example 2025-12-31",
                   validators=[DateGiven("Enter the end date")])


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


class RequiredReasonForm(Form):
    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason"),
                                                 Length(max=1000)])


class TrustSettingsForm(Form):
    requires_nomination_approval = BooleanField(
        "Nominations need the central team's approval before the invitation goes out"
    )


class AdjustmentForm(Form):
    kind = SelectField("Adjustment", choices=[("extra_time", "Extra time (% of the time limit)"),
                                              ("extra_attempt", "Extra attempt(s)")])
    value = IntegerField("How much",
                         description="Extra time: 5 to 100 (%). Extra attempts: 1 or 2.",
                         validators=[DataRequired("Enter how much")])
    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason for the adjustment"),
                                                 Length(max=1000)])


class ApiKeyForm(Form):
    name = StringField("Name for the new key",
                       description="So you can tell your keys apart, e.g. the system that "
                                   "will use it.",
                       validators=[DataRequired("Name the key"), Length(max=100)])


# --- dashboards ---------------------------------------------------------------------------


class OfferedChoiceField(SelectField):
    """A select whose value, if any, must be one of those offered (a school in the person's
    scope, a known pathway), with a message saying what to choose."""

    def __init__(self, label: str, *, message: str, **kwargs):
        super().__init__(label, **kwargs)
        self.message = message

    def pre_validate(self, form):
        if self.data in (None, ""):
            return  # nothing chosen: all of them
        if str(self.data) not in {str(value) for value, _ in self.choices or []}:
            raise ValidationError(self.message)


class DashboardFilterForm(Form):
    """The dashboards' filters: a GET form, so a filtered dashboard has its own address. The
    views fill in the trusts, schools and clusters the person may choose from, and drop the
    fields a dashboard does not offer."""

    class Meta:
        csrf = False

    trust = OfferedChoiceField("Trust", message="Choose a trust from the list", choices=[])
    school = OfferedChoiceField("School", message="Choose a school from the list", choices=[])
    cluster = OfferedChoiceField("Cluster", message="Choose a cluster from the list",
                                 choices=[])
    pathway = OfferedChoiceField(
        "Pathway", message="Choose a pathway from the list",
        choices=[("", "All pathways"), *((p.value, p.short_label) for p in Pathway)])
    phase = OfferedChoiceField(
        "Phase they tutor", message="Choose primary or secondary",
        choices=[("", "All phases"), *((p.value, p.label) for p in TutoringPhase)])
    nominated_from = DayField("Nominated from", description="For example 2025-09-01",
                              validators=[Optional()])
    nominated_to = DayField("Nominated to", description="For example 2025-12-31",
                            validators=[Optional()])

    def validate_nominated_to(self, field) -> None:
        not_before(field, self.nominated_from)
