"""Provider API keys."""

from __future__ import annotations

from wtforms import (
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Length,
)

from lms.platform.forms import Form


class ApiKeyForm(Form):
    name = StringField("Name for the new key",
                       description="So you can tell your keys apart, e.g. the system that "
                                   "will use it.",
                       validators=[DataRequired("Name the key"), Length(max=100)])

