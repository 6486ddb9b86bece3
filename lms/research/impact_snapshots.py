"""The training impact report, kept for a short while.

Worked out afresh, the programme-wide report reads every endorsed tutor's figures (tens of
thousands); its figures may be up to ``DASHBOARD_MAX_AGE_SECONDS`` old, as the trusts'
dashboards are (``lms.tutoring.snapshots``). A page view reads the report as last worked out
for the same trust (or the programme), grouping and scale when it is recent enough, and works
it out again (and keeps it) when not. The page says when its figures were worked out. With a
maximum age of 0 (the tests) every view works them out.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.platform import bulk, clock
from lms.platform.extensions import db
from lms.platform.types import UTCDateTime
from lms.research.impact import GROUPINGS, ImpactReport, ReportRow, impact_report
from lms.research.intervals import Estimate
from lms.tutoring.models import MeasureScale


class ImpactSnapshot(db.Model):
    """An impact report's figures as last worked out, for at most
    ``DASHBOARD_MAX_AGE_SECONDS``."""

    __tablename__ = "research_impact_snapshots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: None: the programme-wide report.
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    body: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class KeptReport:
    report: ImpactReport
    computed_at: datetime
    #: Whether it was kept just now (the caller commits).
    written: bool = False


def max_age() -> timedelta:
    return timedelta(seconds=current_app.config["DASHBOARD_MAX_AGE_SECONDS"])


def _key(trust_id: int | None, grouping: str, scale: str | None) -> str:
    about = f"impact|{'all' if trust_id is None else trust_id}|{grouping}|{scale or ''}"
    return hashlib.sha256(about.encode()).hexdigest()


def _dump_row(row: ReportRow) -> dict:
    return {"key": row.key, "label": row.label, "tutors": row.tutors,
            "cells": {key: asdict(cell) for key, cell in row.cells.items()}}


def _load_row(data: dict) -> ReportRow:
    return ReportRow(data["key"], data["label"], data["tutors"],
                     {key: Estimate(**cell) for key, cell in data["cells"].items()})


def _dump(report: ImpactReport) -> dict:
    return {"grouping": report.grouping.key,
            "scale": report.scale.value if report.scale else None,
            "scales": [s.value for s in report.scales],
            "rows": [_dump_row(row) for row in report.rows],
            "overall": _dump_row(report.overall)}


def _load(title: str, data: dict) -> ImpactReport:
    return ImpactReport(title, GROUPINGS[data["grouping"]],
                        MeasureScale(data["scale"]) if data["scale"] else None,
                        [MeasureScale(s) for s in data["scales"]],
                        [_load_row(row) for row in data["rows"]], _load_row(data["overall"]))


def kept_report(title: str, trust_id: int | None, grouping: str,
                scale: str | None = None) -> KeptReport:
    """The report as kept, if worked out within the maximum age, or worked out now and kept.
    Both take the same few statements whatever the data's size. The caller commits
    when ``written``."""
    now = clock.now()
    if max_age() <= timedelta(0):
        return KeptReport(impact_report(title, trust_id, grouping, scale), now)
    key = _key(trust_id, grouping, scale)
    kept = db.session.get(ImpactSnapshot, key)
    if kept is not None and now - kept.computed_at <= max_age():
        return KeptReport(_load(title, kept.body), kept.computed_at)
    report = impact_report(title, trust_id, grouping, scale)
    bulk.upsert(ImpactSnapshot, [{"key": key, "trust_id": trust_id, "body": _dump(report),
                                  "computed_at": now}],
                lambda offered: {"body": offered.body, "computed_at": offered.computed_at})
    return KeptReport(report, now, written=True)
