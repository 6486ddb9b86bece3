"""Forms of the core. Validation of domain rules lives in services; forms check shape."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

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
