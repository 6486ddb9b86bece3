""""""

from __future__ import annotations

from lms.platform.errors import DomainError
from lms.platform.extensions import db


def _fail(form, error: DomainError) -> None:
    db.session.rollback()
    form.add_domain_error(error)

