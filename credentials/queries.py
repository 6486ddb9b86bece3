"""Reading endorsements for pages that belong to other packages."""

from __future__ import annotations

from sqlalchemy import select

from credentials.models import Endorsement
from lms.extensions import db


def endorsement_for(enrolment_id: int) -> Endorsement | None:
    return db.session.scalar(select(Endorsement).where(Endorsement.enrolment_id == enrolment_id))
