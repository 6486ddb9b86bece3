"""Forms of the core. Validation of domain rules lives in services; forms check shape."""

from __future__ import annotations

from flask_wtf import FlaskForm
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
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from lms.models import Phase, Role

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


class AuditSearchForm(Form):
    class Meta:
        csrf = False

    action = StringField("Action contains", validators=[Optional(), Length(max=64)])
    object_type = StringField("Object type", validators=[Optional(), Length(max=64)])
    object_id = StringField("Object id", validators=[Optional(), Length(max=64)])


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
