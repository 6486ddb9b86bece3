"""The dashboards' sections as rows, once: the pages draw their charts and tables from these
and the CSV and XLSX downloads write them, so a download always says what the page says.

Every dashboard (the programme's, a trust's or a cluster lead's part of it, a school's) has
the same sections; a school's also lists its candidates. The rows are read from one
``dashboards.Dashboard``, built for the person's scope and filters, so a download shows no
more than its page: the names in the action lists included.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from lms.insight.dashboards import CandidateRow, Dashboard
from lms.insight.figures import COMPARISON_COLUMNS, sorted_groups
from lms.insight.scopes import BEHIND_PERCENT, DEADLINE_SOON, DUE_SOON_DAYS, Filters, Scope
from lms.organisations.models import School
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.spreadsheets import XLSX_TYPE, csv_chunks, write_xlsx
from lms.tutoring.figures import SPLITS, Coverage, Period, this_term, tutoring_figures

#: Each section's key (in its download's address) and title.
SECTIONS = {
    "pipeline": "Pipeline by stage",
    "comparison": "Comparison",
    "pass-rates": "Pass rates",
    "progress": "Progress in training",
    "actions": "Action lists",
    "register": "Register and safeguarding",
    "candidates": "Nominees and tutors",
    "tutoring": "Tutoring delivery",
}
#: Sections every dashboard has; a school's has ``candidates`` too.
COMMON_SECTIONS = ("pipeline", "comparison", "pass-rates", "progress", "actions", "register",
                   "tutoring")
FORMATS = ("csv", "xlsx")


def share(part: int, whole: int) -> float:
    """``part`` as a percentage of ``whole``, to one decimal place (0 of nothing)."""
    return round(100 * part / whole, 1) if whole else 0.0


def figure_text(value: object) -> str:
    """A figure as the pages and downloads both write it: 12, 16.7, 50 (not 50.0), or
    nothing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")
    return str(value)


def as_of(board: Dashboard) -> datetime:
    """When the figures were worked out, in UK time."""
    from lms.platform.clock import LONDON

    return (board.built_at or clock.now()).astimezone(LONDON)


# --- the charts' rows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One row of a chart: what is counted, how many, and their share of the whole."""

    key: str
    label: str
    count: int
    percent: float
    #: What the label means, where it needs saying.
    detail: str = ""


def pipeline_bars(board: Dashboard) -> list[Bar]:
    return [Bar(s.stage.value, s.stage.label, s.count, s.percent)
            for s in board.pipeline.stages]


PROGRESS_BANDS = [
    ("at_risk", "At risk",
     f"deadline within {DEADLINE_SOON.days} days, less than {BEHIND_PERCENT}% done"),
    ("behind", "Behind", "less of the course done than of their time used"),
    ("on_track", "On track", "as much of the course done as of their time used, or more"),
]


def progress_bars(board: Dashboard) -> list[Bar]:
    progress = board.progress
    return [Bar(key, label, getattr(progress, key),
                share(getattr(progress, key), progress.total), detail)
            for key, label, detail in PROGRESS_BANDS]


@dataclass(frozen=True)
class Measure:
    label: str
    value: int | float | None
    #: Whether the value is a percentage.
    percent: bool = False


def register_measures(board: Dashboard) -> list[Measure]:
    """The register as it stands: entries by status, then checks and training due."""
    register = board.register
    return [
        *(Measure(label, count) for label, count in register.by_status),
        Measure("Listed (not removed)", register.listed),
        Measure("Approved (% of those listed)", register.approved_percent, percent=True),
        Measure("DBS checks overdue", register.dbs_overdue),
        Measure(f"DBS checks due within {DUE_SOON_DAYS} days", register.dbs_due_soon),
        Measure("Safeguarding training overdue", register.training_overdue),
        Measure(f"Safeguarding training due within {DUE_SOON_DAYS} days",
                register.training_due_soon),
    ]


def overall_label(scope: Scope) -> str:
    """The comparison table's row of everything in scope."""
    if scope.is_programme:
        return "All trusts (programme-wide figure)"
    if scope.school is not None:
        return f"{scope.title} (whole school)"
    if scope.school_ids is None:
        return f"{scope.title} (trust-wide figure)"
    return f"All your schools: {scope.title}"


# --- the downloads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    section: str
    headings: list[str]
    rows: list[list[object]]


def _pipeline(board: Dashboard) -> Sheet:
    total = board.pipeline.total
    return Sheet("pipeline", ["Stage", "Candidates", "Share (%)"], [
        *([bar.label, bar.count, bar.percent] for bar in pipeline_bars(board)),
        ["Total nominated", total, share(total, total)]])


def _comparison(board: Dashboard, sort: str, descending: bool) -> Sheet:
    readers = [read for _, _, read in COMPARISON_COLUMNS]
    overall = [overall_label(board.scope), *(read(board.pipeline.overall)
                                             for read in readers[1:])]
    return Sheet("comparison", [heading for _, heading, _ in COMPARISON_COLUMNS], [
        overall, *([read(group) for read in readers]
                   for group in sorted_groups(board.pipeline.groups, sort, descending))])


def _pass_rates(board: Dashboard) -> Sheet:
    return Sheet("pass-rates", [
        "Pathway", "First attempts", "Passed first time", "First-attempt pass rate (%)",
        "Second attempts", "Passed second time", "Second-attempt pass rate (%)"], [
        [r.label, r.first_taken, r.first_passed, r.first_rate, r.second_taken,
         r.second_passed, r.second_rate] for r in board.pass_rates])


def _progress(board: Dashboard) -> Sheet:
    total = board.progress.total
    return Sheet("progress", ["Measure", "Value", "Share of tutors in training (%)"], [
        *([f"{bar.label} ({bar.detail})", bar.count, bar.percent]
          for bar in progress_bars(board)),
        ["Tutors in training", total, share(total, total)],
        ["Median days from nomination to endorsement", board.median_days, None]])


def _actions(board: Dashboard) -> Sheet:
    rows: list[list[object]] = []
    for action_list in board.actions:
        for item in action_list.items:
            rows.append([action_list.title, action_list.count, item.name, item.school,
                         item.detail])
        hidden = action_list.count - len(action_list.items)
        if not action_list.items or hidden > 0:
            rows.append([action_list.title, action_list.count, "", "",
                         f"{hidden} more not listed here" if action_list.items else ""])
    return Sheet("actions", ["List", "In the list", "Name", "School", "Detail"], rows)


def _register(board: Dashboard) -> Sheet:
    return Sheet("register", ["Measure", "Entries"],
                 [[m.label, m.value] for m in register_measures(board)])


def _candidates(candidates: Sequence[CandidateRow]) -> Sheet:
    return Sheet("candidates", ["Name", "School", "Stage", "Course done (%)", "Days left",
                                "Next action"], [
        [c.name, c.school, c.stage.label, c.percent_done, c.days_left, c.next_action]
        for c in candidates])


# --- tutoring, from lms.tutoring.figures -------------------------------------------------------

#: The tutoring sheet's columns: heading, ``figures.Row`` attribute, whether in pounds.
TUTORING_COLUMNS = [
    ("Sessions planned", "planned", False), ("Sessions delivered", "delivered", False),
    ("Sessions cancelled", "cancelled", False), ("Pupils tutored", "pupils", False),
    ("Hours attended", "hours", False),
    ("Hours (each pupil's to the nearest half hour)", "rounded_hours", False),
    ("Hours per pupil", "hours_per_pupil", False),
    ("Planned hours per pupil", "planned_hours_per_pupil", False),
    ("Attendance (%)", "attendance_percent", False), ("Engagement (1-5)", "engagement", False),
    ("Progress (mean change on the programme's scale)", "mean_progress", False),
    ("At or above target (%)", "at_target_percent", False),
    ("Disadvantaged (% of pupils tutored)", "disadvantaged_percent", False),
    ("Cost (£)", "cost", True), ("Cost per pupil (£)", "cost_per_pupil", True),
    ("Cost per attended hour (£)", "cost_per_attended_hour", True),
]


def tutoring_period(filters: Filters):
    """The tutoring figures' period: the dashboard's dates when both are given, else the
    current term so far."""
    if filters.nominated_from and filters.nominated_to:
        return Period(filters.nominated_from, filters.nominated_to)
    return this_term()


def tutoring_coverage(scope: Scope, filters: Filters):
    """The tutoring a dashboard's scope and filters cover (every trust's for the
    programme's)."""
    trust_id = filters.trust_id if filters.trust_id is not None else (
        next(iter(scope.trust_ids)) if scope.trust_ids else None)
    schools = set(scope.school_ids) if scope.school_ids is not None else None
    for narrowed in ([filters.school_id] if filters.school_id is not None else None,
                     db.session.scalars(select(School.id).where(
                         School.cluster_id == filters.cluster_id)).all()
                     if filters.cluster_id is not None else None):
        if narrowed is not None:
            schools = set(narrowed) if schools is None else schools & set(narrowed)
    return Coverage(scope.title, trust_id, frozenset(schools) if schools is not None else None)


def _tutoring(board: Dashboard) -> Sheet:
    found = tutoring_figures(tutoring_coverage(board.scope, board.filters),
                             tutoring_period(board.filters), weeks=False)

    def line(split: str, row) -> list[object]:
        values = [getattr(row, name) for _, name, _ in TUTORING_COLUMNS]
        return [split, row.label, *(f"{v:.2f}" if pounds and v is not None else v
                                    for v, (_, _, pounds) in zip(values, TUTORING_COLUMNS,
                                                                 strict=True))]

    return Sheet("tutoring", ["Split", "Name", *(h for h, _, _ in TUTORING_COLUMNS)], [
        line(f"All ({found.period.label})", found.overall),
        *(line(heading, row) for key, heading in SPLITS.items() for row in found.rows(key))])


def sheet(board: Dashboard, section: str, *, sort: str = "name", descending: bool = False,
          candidates: Sequence[CandidateRow] = ()) -> Sheet:
    """One section of a dashboard as a heading row and rows of figures."""
    if section == "comparison":
        return _comparison(board, sort, descending)
    if section == "candidates":
        return _candidates(candidates)
    return {"pipeline": _pipeline, "pass-rates": _pass_rates, "progress": _progress,
            "actions": _actions, "register": _register, "tutoring": _tutoring}[section](board)


def _cells(rows: list[list[object]]) -> Iterator[list[str]]:
    for row in rows:
        yield [figure_text(value) if isinstance(value, int | float) else value
               for value in row]


def filename(board: Dashboard, section: str, fmt: str) -> str:
    """Says whose figures, which section and as of when, e.g.
    ``dashboard-oak-primary-pipeline-2026-03-02-0915.csv``."""
    slug = re.sub(r"[^a-z0-9]+", "-", board.scope.title.lower()).strip("-")[:60] or "all"
    return f"dashboard-{slug}-{section}-{as_of(board):%Y-%m-%d-%H%M}.{fmt}"


def title(board: Dashboard, section: str) -> str:
    moment = as_of(board)
    return (f"{SECTIONS[section]}: {board.scope.title}, figures as of "
            f"{moment:%H:%M} on {moment:%-d %B %Y}")


def write(board: Dashboard, data: Sheet, fmt: str) -> tuple[bytes, str]:
    """The file's bytes and its media type."""
    if fmt == "csv":
        return "".join(csv_chunks(data.headings, _cells(data.rows))).encode(), "text/csv"
    out = io.BytesIO()
    write_xlsx(out, sheet=SECTIONS[data.section], headings=data.headings,
               rows=_cells(data.rows), title=title(board, data.section))
    return out.getvalue(), XLSX_TYPE


__all__ = ["SECTIONS", "COMMON_SECTIONS", "FORMATS", "sheet", "write", "filename",
           "pipeline_bars", "progress_bars", "register_measures", "overall_label", "share",
           "figure_text", "as_of", "tutoring_coverage", "tutoring_period", "TUTORING_COLUMNS"]
