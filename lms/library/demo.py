"""The library in the demo trust: the units loaded, and the trust's endorsed tutors part of
the way through them (started three weeks ago, some completed over the weeks since), so the
library, the CPD on their records and the research figures show something real."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from credentials.endorsements.models import Endorsement
from lms.accounts.models import User
from lms.library import services
from lms.library.content import CONTENT_ROOT
from lms.library.policies import OPEN_TO
from lms.library.queries import current_units
from lms.organisations.models import Trust
from lms.platform import clock
from lms.platform.extensions import db


@contextmanager
def _days_ago(days: int) -> Iterator[None]:
    shift = timedelta(days=days)
    clock.travel(-shift)
    try:
        yield
    finally:
        clock.travel(shift)


def load_demo(trust: Trust, root: Path = CONTENT_ROOT) -> int:
    """Load the units and record the demo tutors' progress; return the units completed."""
    services.load_units(root)
    units = sorted(current_units(), key=lambda u: u.slug)
    if not units:
        return 0
    tutors = db.session.scalars(
        select(Endorsement.user_id).where(Endorsement.trust_id == trust.id,
                                          Endorsement.status.in_(OPEN_TO))
        .distinct().order_by(Endorsement.user_id)).all()
    completed = 0
    for index, user_id in enumerate(tutors):
        tutor = db.session.get(User, user_id)
        # Every other tutor has completed two units and started a third; the rest have only
        # started one, so the library shows each state.
        first = units[index % len(units)]
        with _days_ago(21):
            services.start_unit(tutor, first)
        if index % 2:
            continue
        with _days_ago(14):
            services.complete_unit(tutor, first)
        second = units[(index + 1) % len(units)]
        with _days_ago(7):
            services.complete_unit(tutor, second)
        completed += 2 if second.slug != first.slug else 1
        if len(units) > 2:
            with _days_ago(2):
                services.start_unit(tutor, units[(index + 2) % len(units)])
    db.session.flush()
    return completed
