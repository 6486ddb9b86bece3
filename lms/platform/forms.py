"""The base form and fields every domain's forms use. Validation of domain rules lives in
services; forms check shape."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from lms.platform.errors import DomainError
from lms.platform.extensions import db


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


class WholeNumberField(IntegerField):
    """A whole number typed in: left blank it is empty (for ``Optional`` or ``InputRequired``
    to judge), mistyped it says the field needs a whole number."""

    def process_formdata(self, valuelist):
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata([v.strip() for v in valuelist])
        except ValueError as error:
            raise ValueError(f"{self.label.text} must be a whole number") from error


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


class RequiredReasonForm(Form):
    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason"),
                                                 Length(max=1000)])


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


def fail(form, error: DomainError) -> None:
    """Undo what the request changed and show the domain's refusal on the form."""
    db.session.rollback()
    form.add_domain_error(error)
