"""Forms for trusts, schools and staff."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
)

from lms.organisations.models import Phase
from lms.platform.forms import Form
from lms.platform.roles import Role

PHASE_CHOICES = [("", "Choose a phase")] + [(p.value, p.label) for p in Phase]


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
    (Role.TUTORING_LEAD.value, Role.TUTORING_LEAD.label),
    (Role.CENTRAL_TEAM.value, Role.CENTRAL_TEAM.label),
    (Role.CLUSTER_LEAD.value, Role.CLUSTER_LEAD.label),
    (Role.TRUSTEE.value, Role.TRUSTEE.label),
    (Role.DSL.value, Role.DSL.label),
    (Role.DEPUTY_DSL.value, Role.DEPUTY_DSL.label),
    (Role.TRUST_SAFEGUARDING_LEAD.value, Role.TRUST_SAFEGUARDING_LEAD.label),
]


class InviteStaffForm(Form):
    name = StringField("Full name", validators=[DataRequired("Enter their full name"),
                                                Length(max=200)])
    email = EmailField("Email address", validators=[DataRequired("Enter their email address")])
    role = SelectField("Role", choices=STAFF_ROLE_CHOICES,
                       validators=[DataRequired("Choose a role")])
    school_id = SelectField("School (for a school leader, tutoring lead, DSL or deputy)",
                            choices=[], validators=[Optional()])
    cluster_id = SelectField("Cluster (for a cluster lead)", choices=[], validators=[Optional()])


class TrustSettingsForm(Form):
    requires_nomination_approval = BooleanField(
        "Nominations need the central team's approval before the invitation goes out"
    )

