"""Forms of the approved-tutor register and DBS checks. They check shape (a date is a date, a
choice is one of the list); the rules of the domain (12 digits, not in the future, a check
that covers regulated work with children) are the services' and come back as DomainErrors."""

from __future__ import annotations

from wtforms import (
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from credentials.register.models import (
    DbsLevel,
    DbsRenewal,
    DbsWorkforce,
    RegisterStatus,
    RiskDecision,
    StatusCheckResult,
)
from credentials.register.queries import DUE_CHOICES
from lms.platform.forms import Form, WholeNumberField
from lms.programme.models import Pathway, TutoringPhase

YES_NO = [("yes", "Yes"), ("no", "No")]
BARRED_LISTS = [("children", "Children's barred list"), ("adults", "Adults' barred list")]


class DayField(DateField):
    """A date typed or picked as YYYY-MM-DD, with a message that says what to fix."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(f"{self.label.text} must be a real date, for example "
                             "2025-03-27") from error


class ListChoiceField(SelectField):
    """A select whose value must be one offered, with a message naming what to choose."""

    def __init__(self, label: str, *, message: str, **kwargs):
        super().__init__(label, **kwargs)
        self.message = message

    def pre_validate(self, form):
        if self.data in (None, ""):
            return  # nothing chosen: "all", or InputRequired's message where one is needed
        if str(self.data) not in {str(value) for value, _ in self.choices}:
            raise ValidationError(self.message)


def _radio(label: str, choices: list[tuple[str, str]], required: str,
           description: str = "") -> RadioField:
    return RadioField(label, choices=choices, description=description, validate_choice=False,
                      validators=[InputRequired(required),
                                  AnyOf([v for v, _ in choices], message=required)])


def _date(label: str, required: str, description: str = "") -> DayField:
    return DayField(label, description=description, validators=[InputRequired(required)])


# --- the register list ------------------------------------------------------------------------


class RegisterFilterForm(Form):
    """The register's filters: a plain GET form, so a filtered list has its own address."""

    class Meta:
        csrf = False

    school = ListChoiceField("School", choices=[], message="Choose a school from the list")
    cluster = ListChoiceField("Cluster", choices=[], message="Choose a cluster from the list")
    pathway = ListChoiceField("Pathway", choices=[("", "All pathways")] + [
        (p.value, p.short_label) for p in Pathway], message="Choose a pathway from the list")
    phase = ListChoiceField("Phase", choices=[("", "All phases")] + [
        (p.value, p.label) for p in TutoringPhase], message="Choose a phase from the list")
    subject = StringField("Subject contains", validators=[Optional(), Length(max=100)])
    status = ListChoiceField("Status", choices=[("", "All statuses")] + [
        (s.value, s.label) for s in RegisterStatus], message="Choose a status from the list")
    due = ListChoiceField("Next renewal", choices=[("", "Any date")] + list(DUE_CHOICES.items()),
                          message="Choose when the next renewal is due from the list")
    q = StringField("Name or email", validators=[Optional(), Length(max=100)])


# --- one person's records ---------------------------------------------------------------------


class DbsCheckForm(Form):
    certificate_number = StringField(
        "Certificate number",
        description="The 12 digits at the top right of the certificate. Only the last four "
                    "are shown once it is saved.",
        validators=[InputRequired("Enter the 12-digit certificate number")])
    issued_on = _date("Date of issue", "Enter the date the certificate was issued")
    level = _radio("Level of check", [(lv.value, lv.label) for lv in DbsLevel],
                   "Choose the level of the check")
    workforce = _radio("Workforce", [(w.value, w.label) for w in DbsWorkforce],
                       "Choose the workforce the check was for")
    barred_lists = SelectMultipleField("Barred lists checked", choices=BARRED_LISTS,
                                       description="Select all that the certificate shows.")
    original_seen_by = StringField(
        "Who saw the original certificate",
        validators=[InputRequired("Enter the name of the person who saw the original"),
                    Length(max=200)])
    original_seen_on = _date("Date the original was seen", "Enter the date the original was seen")
    update_service = _radio("Does the person subscribe to the DBS Update Service?", YES_NO,
                            "Say whether the person subscribes to the DBS Update Service")
    showed_information = _radio(
        "Did the certificate show any information?", YES_NO,
        "Say whether the certificate showed information",
        description="Do not record what it showed: only that it showed something.")
    risk_decision = RadioField(
        "Risk decision (only if the certificate showed information)",
        choices=[(d.value, d.label) for d in RiskDecision], validate_choice=False,
        validators=[Optional(), AnyOf([d.value for d in RiskDecision],
                                      message="Choose a risk decision from the list")])
    risk_decision_on = DayField("Date of the risk decision", validators=[Optional()])
    risk_decision_by = StringField("Who made the risk decision",
                                   validators=[Optional(), Length(max=200)])


class StatusCheckForm(Form):
    checked_on = _date("Date of the status check", "Enter the date of the status check")
    result = _radio("Result", [(r.value, r.label) for r in StatusCheckResult],
                    "Choose the result of the status check")


class RiskDecisionForm(Form):
    decision = _radio("Decision", [(d.value, d.label) for d in RiskDecision],
                      "Choose the risk decision")
    decided_on = _date("Date of the decision", "Enter the date of the decision")
    decided_by = StringField("Who made the decision",
                             validators=[InputRequired("Enter who made the decision"),
                                         Length(max=200)])


class TrainingForm(Form):
    completed_on = _date("Date completed", "Enter the date the training was completed")
    course = StringField("Course", description="Optional, for example the trust's Level 1 "
                         "safeguarding course.", validators=[Optional(), Length(max=200)])


class RegisterEntryForm(Form):
    school_ids = SelectMultipleField("Schools where the tutor may tutor", coerce=int,
                                     choices=[], validate_choice=False)
    subject = StringField("Subject", description="Optional. Left empty, it is taken from the "
                          "tutor's nomination.", validators=[Optional(), Length(max=200)])


class RemoveEntryForm(Form):
    reason = TextAreaField("Reason for removing the tutor",
                           validators=[InputRequired("Give a reason for removing the tutor"),
                                       Length(max=1000)])


# --- the trust's settings -------------------------------------------------------------------


class RegisterPolicyForm(Form):
    dbs_renewal = _radio(
        "How DBS checks are renewed",
        [(DbsRenewal.CERTIFICATE.value, "A new certificate every few years"),
         (DbsRenewal.UPDATE_SERVICE.value,
          "Update Service status checks for subscribers (others need new certificates)")],
        "Choose how DBS checks are renewed")
    certificate_years = WholeNumberField(
        "Years between certificates", description="From 1 to 5.",
        validators=[InputRequired("Enter the years between certificates")])
    status_check_months = WholeNumberField(
        "Months between Update Service status checks", description="From 1 to 24.",
        validators=[InputRequired("Enter the months between status checks")])
    training_months = WholeNumberField(
        "Months between safeguarding training", description="From 1 to 36.",
        validators=[InputRequired("Enter the months between safeguarding training")])


class ProviderAccessForm(Form):
    provider_id = ListChoiceField("Provider", choices=[],
                                  message="Choose a provider from the list",
                                  validators=[InputRequired("Choose a provider")])


class FindCertificateForm(Form):
    certificate_number = StringField(
        "Certificate number", description="All 12 digits: only an exact match is found.",
        validators=[InputRequired("Enter the 12-digit certificate number")])
