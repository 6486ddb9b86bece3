"""The library's one form: marking a unit done (a button, its CSRF token)."""

from lms.platform.forms import Form


class MarkDoneForm(Form):
    pass
