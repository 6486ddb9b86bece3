"""The impact report's choices: one grouping, and the programme scale progress is read on."""

from __future__ import annotations

from lms.platform.forms import Form, OfferedChoiceField
from lms.research.impact import DEFAULT_GROUPING, GROUPINGS
from lms.tutoring.models import MeasureScale


class ImpactReportForm(Form):
    """A GET form, so each grouping has its own address."""

    class Meta:
        csrf = False

    grouping = OfferedChoiceField(
        "Group tutors by", message="Choose a grouping from the list: "
        + ", ".join(g.label.lower() for g in GROUPINGS.values()),
        choices=[(g.key, g.label) for g in GROUPINGS.values()], default=DEFAULT_GROUPING)
    scale = OfferedChoiceField(
        "Progress measured on", message="Choose a programme scale from the list",
        choices=[("", "The scale most pupils are measured on")]
        + [(s.value, s.label) for s in MeasureScale])
