"""Filters for the dashboards, the board report and the audit log."""

from __future__ import annotations

from wtforms import (
    EmailField,
    StringField,
)
from wtforms.validators import (
    Email,
    Length,
    Optional,
)

from lms.platform.forms import DateGiven, DayField, Form, OfferedChoiceField, PageField, not_before
from lms.programme.models import Pathway, TutoringPhase


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

