"""Research pages: the training impact report, pilots and the research export."""

import lms.research.export_views  # noqa: F401
import lms.research.impact_views  # noqa: F401
from lms.research import bp  # noqa: F401
