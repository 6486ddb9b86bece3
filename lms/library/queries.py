"""Reads of the library: the current units, a tutor's progress, their CPD minutes, and
completions per tutor (for the tutor's record and the research figures)."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.library.models import LibraryUnit, UnitProgress
from lms.platform.extensions import db


def current_units() -> list[LibraryUnit]:
    return list(db.session.scalars(select(LibraryUnit).where(LibraryUnit.is_current.is_(True))
                                   .order_by(LibraryUnit.title)))


def progress_by_unit(user_id: int) -> dict[str, UnitProgress]:
    return {p.unit_slug: p for p in db.session.scalars(
        select(UnitProgress).where(UnitProgress.user_id == user_id))}


def cpd_minutes(user_id: int) -> int:
    """The CPD minutes a tutor's completed units have recorded."""
    return int(db.session.scalar(select(func.coalesce(func.sum(UnitProgress.minutes_credited), 0))
                                 .where(UnitProgress.user_id == user_id,
                                        UnitProgress.completed_at.is_not(None))) or 0)


def completed_units_by_tutor(tutor_ids: set[int] | None = None) -> dict[int, int]:
    """Per tutor, how many units they have completed (tutors with none are left out)."""
    query = (select(UnitProgress.user_id, func.count())
             .where(UnitProgress.completed_at.is_not(None)).group_by(UnitProgress.user_id))
    if tutor_ids is not None:
        if not tutor_ids:
            return {}
        query = query.where(UnitProgress.user_id.in_(tutor_ids))
    return {user_id: int(count) for user_id, count in db.session.execute(query)}


def cpd_summary(user_id: int) -> dict:
    """What the tutor's record and endorsement page show: minutes, and the units done."""
    rows = db.session.execute(
        select(UnitProgress.completed_at, UnitProgress.minutes_credited, LibraryUnit.title)
        .join(LibraryUnit, (LibraryUnit.slug == UnitProgress.unit_slug)
              & (LibraryUnit.version == UnitProgress.unit_version))
        .where(UnitProgress.user_id == user_id, UnitProgress.completed_at.is_not(None))
        .order_by(UnitProgress.completed_at.desc())).all()
    return {"minutes": sum(r.minutes_credited for r in rows),
            "units": [{"title": r.title, "completed_at": r.completed_at,
                       "minutes": r.minutes_credited} for r in rows]}
