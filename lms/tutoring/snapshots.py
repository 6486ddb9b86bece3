"""Tutoring dashboards' figures, kept for a short while.

A trust's dashboard adds up tens of thousands of places each time; its figures may be up to
``DASHBOARD_MAX_AGE_SECONDS`` old (as the trust's other dashboards are), so a page view reads
them as last worked out when they are recent enough, and works them out again (and keeps
them) when not. The beat works out again, every minute, those viewed in the last hour before
they are due, so someone opening a dashboard seldom waits for it. Each page says when its
figures were worked out. With a maximum age of 0 (the tests) every view works them out.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from lms.platform import bulk, clock
from lms.platform.extensions import db
from lms.tutoring.action_list import ActionItem, ActionList, action_lists
from lms.tutoring.figures import Coverage, Period, Row, TutoringFigures, Week, tutoring_figures
from lms.tutoring.models import DashboardSnapshot, MeasureScale

#: Snapshots viewed this recently are worked out again by the beat before they are due.
KEEP_WARM = timedelta(hours=1)


@dataclass(frozen=True)
class Snapshot:
    figures: TutoringFigures
    lists: list[ActionList]
    computed_at: datetime


def max_age() -> timedelta:
    return timedelta(seconds=current_app.config["DASHBOARD_MAX_AGE_SECONDS"])


def _key(coverage: Coverage, period: Period) -> str:
    schools = "all" if coverage.school_ids is None else ",".join(
        map(str, sorted(coverage.school_ids)))
    about = f"{coverage.trust_id}|{schools}|{period.start}|{period.end}|{coverage.title}"
    return hashlib.sha256(about.encode()).hexdigest()


def _row(data: dict) -> Row:
    return Row(**{**data, "scale": MeasureScale(data["scale"]) if data["scale"] else None})


def _dump(snapshot: Snapshot) -> dict:
    figures = snapshot.figures

    def row(found: Row) -> dict:
        return {**asdict(found), "scale": found.scale.value if found.scale else None}

    return {
        "coverage": {"title": figures.coverage.title, "trust_id": figures.coverage.trust_id,
                     "school_ids": None if figures.coverage.school_ids is None
                     else sorted(figures.coverage.school_ids)},
        "period": [figures.period.start.isoformat(), figures.period.end.isoformat()],
        "overall": row(figures.overall),
        "splits": {name: [row(r) for r in rows] for name, rows in figures.splits.items()},
        "weeks": [[w.starts_on.isoformat(), w.sessions, w.marks, w.attended, w.minutes]
                  for w in figures.weeks],
        "lists": [{"key": found.key, "count": found.count,
                   "items": [asdict(item) for item in found.items]}
                  for found in snapshot.lists],
    }


def _coverage(data: dict) -> Coverage:
    schools = data["coverage"]["school_ids"]
    return Coverage(data["coverage"]["title"], data["coverage"]["trust_id"],
                    None if schools is None else frozenset(schools))


def _period(data: dict) -> Period:
    return Period(*(date.fromisoformat(day) for day in data["period"]))


def _load(data: dict, computed_at: datetime) -> Snapshot:
    figures = TutoringFigures(
        _coverage(data), _period(data), _row(data["overall"]),
        {name: [_row(r) for r in rows] for name, rows in data["splits"].items()},
        [Week(date.fromisoformat(day), *numbers) for day, *numbers in data["weeks"]])
    lists = [ActionList(found["key"], found["count"],
                        [ActionItem(**item) for item in found["items"]])
             for found in data["lists"]]
    return Snapshot(figures, lists, computed_at)


def _work_out(coverage: Coverage, period: Period) -> Snapshot:
    return Snapshot(tutoring_figures(coverage, period), action_lists(coverage), clock.now())


def _keep(key: str, coverage: Coverage, snapshot: Snapshot, viewed_at: datetime) -> None:
    bulk.upsert(DashboardSnapshot, [{"key": key, "trust_id": coverage.trust_id,
                                     "body": _dump(snapshot), "computed_at": snapshot.computed_at,
                                     "viewed_at": viewed_at}],
                lambda offered: {name: offered[name] for name in ("body", "computed_at",
                                                                  "viewed_at")})


def dashboard(coverage: Coverage, period: Period) -> Snapshot:
    """A dashboard's figures and action lists: those kept, if recent enough, or worked out
    now and kept. The caller commits."""
    if coverage.trust_id is None or max_age() <= timedelta(0):
        return _work_out(coverage, period)
    key = _key(coverage, period)
    now = clock.now()
    kept = db.session.get(DashboardSnapshot, key)
    if kept is not None and now - kept.computed_at <= max_age():
        if now - kept.viewed_at > timedelta(minutes=1):
            kept.viewed_at = now
        return _load(kept.body, kept.computed_at)
    snapshot = _work_out(coverage, period)
    _keep(key, coverage, snapshot, now)
    return snapshot


def refresh_viewed(*, now: datetime | None = None) -> int:
    """Work out again the snapshots viewed in the last hour that are past half their
    maximum age; drop those nobody viewed for a day. Returns how many were worked out."""
    now = now or clock.now()
    if max_age() <= timedelta(0):
        return 0
    db.session.execute(DashboardSnapshot.__table__.delete().where(
        DashboardSnapshot.viewed_at < now - timedelta(days=1)))
    due = db.session.execute(
        select(DashboardSnapshot.key, DashboardSnapshot.body, DashboardSnapshot.viewed_at)
        .where(DashboardSnapshot.viewed_at >= now - KEEP_WARM,
               DashboardSnapshot.computed_at < now - max_age() / 2)).all()
    for key, body, viewed_at in due:
        coverage = _coverage(body)
        _keep(key, coverage, _work_out(coverage, _period(body)), viewed_at)
        db.session.commit()
    return len(due)


__all__ = ["Snapshot", "dashboard", "refresh_viewed", "max_age"]
