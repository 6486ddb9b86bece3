"""Tutoring dashboards, the termly impact review and the funder return.

A school's dashboard is for its tutoring staff (who see pupils' names) and whoever sees the
school (its trust, its cluster: pseudonyms). A trust's is for its central team and trustees,
and for a cluster lead limited to their cluster's schools; trust views never name a pupil.
Anyone else gets 404, as for a trust or school that does not exist. Every figure comes from
``lms.tutoring.figures`` and every list from ``action_list``; a trust's, kept for a minute or
two (``snapshots``), say when they were worked out.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from lms.organisations.models import Cluster, School, Trust
from lms.organisations.policies import cluster_ids_for
from lms.platform import clock
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.clock import LONDON
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import fail
from lms.tutoring import bp, charts, funder_return, impact, snapshots
from lms.tutoring.action_list import action_lists
from lms.tutoring.charts import Point
from lms.tutoring.dashboard_forms import ImpactDecisionForm, PeriodForm
from lms.tutoring.figures import (
    GROUP_SPLITS,
    PROGRAMME_SCHOOL,
    SPLITS,
    Coverage,
    Row,
    TutoringFigures,
    tutoring_figures,
)
from lms.tutoring.policies import sees_pupil_names, sees_school_tutoring

#: Items of each action list on the page.
ITEMS_SHOWN = 10
NO_FIGURE = "–"


def show(value: object, unit: str = "") -> str:
    """A figure as the pages print it: 1,234 · 62.5% · £12.50 · 3.5 · or a dash."""
    if value is None:
        return NO_FIGURE
    if unit == "pounds":
        return f"£{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
    else:
        text = f"{value:,.1f}".removesuffix(".0")
    return text + ("%" if unit == "percent" else f" {unit}" if unit else "")


#: The split tables' columns: heading, reader, unit.
COLUMNS = [
    ("Sessions planned", lambda r: r.planned, ""),
    ("Delivered", lambda r: r.delivered, ""),
    ("Cancelled", lambda r: r.cancelled, ""),
    ("Pupils tutored", lambda r: r.pupils, ""),
    ("Hours per pupil", lambda r: r.hours_per_pupil, ""),
    ("Planned hours per pupil", lambda r: r.planned_hours_per_pupil, ""),
    ("Hours (to the half hour per pupil)", lambda r: r.rounded_hours, ""),
    ("Attendance", lambda r: r.attendance_percent, "percent"),
    ("Engagement (1–5)", lambda r: r.engagement, ""),
    ("Progress (mean change)", lambda r: r.mean_progress,
     lambda r: r.scale.unit if r.scale else ""),
    ("At or above target", lambda r: r.at_target_percent, "percent"),
    ("Cost per pupil", lambda r: r.cost_per_pupil, "pounds"),
    ("Cost per attended hour", lambda r: r.cost_per_attended_hour, "pounds"),
]


def cells(row: Row) -> list[str]:
    return [show(read(row), unit(row) if callable(unit) else unit)
            for _, read, unit in COLUMNS]


# --- who sees what -------------------------------------------------------------------------


def _trust_coverage(trust_id: int) -> tuple[Trust, Coverage]:
    """The whole trust for those who see it; a cluster lead's schools of it; else 404."""
    trust = db.session.get(Trust, trust_id)
    if trust is None:
        abort(404)
    if can(current_user, Action.VIEW, trust):
        return trust, Coverage(trust.name, trust.id)
    clusters = cluster_ids_for(current_user)
    schools = frozenset(db.session.scalars(select(School.id).where(
        School.trust_id == trust.id, School.cluster_id.in_(clusters)))) if clusters else None
    if not schools:
        abort(404)
    names = db.session.scalars(select(Cluster.name).where(
        Cluster.id.in_(clusters), Cluster.trust_id == trust.id).order_by(Cluster.name)).all()
    return trust, Coverage(f"{', '.join(names)} ({trust.name})", trust.id, schools)


def _school_coverage(school_id: int) -> tuple[School, Coverage]:
    school = db.session.get(School, school_id)
    if school is None or not (sees_school_tutoring(current_user, school)
                              or current_user.is_programme_admin):
        abort(404)
    return school, Coverage(school.name, school.trust_id, frozenset({school.id}))


def _period_form() -> PeriodForm:
    form = PeriodForm(request.args, clock.today())
    form.validate()
    return form


# --- charts --------------------------------------------------------------------------------


def _charts(figures: TutoringFigures, by_school: bool) -> list[charts.Chart]:
    weeks = figures.weeks
    found = [
        charts.columns(
            "attendance-weeks", "Attendance by week",
            "The share of pupils' marks that were present or late, each week of the period.",
            [Point(f"{w.starts_on:%-d %b}", w.attendance_percent,
                   show(w.attendance_percent, "percent")) for w in weeks],
            what="Week beginning", measure="Attendance", top=100, unit="%"),
        charts.columns(
            "hours-weeks", "Hours attended by week",
            "The hours pupils attended (present or late), each week of the period.",
            [Point(f"{w.starts_on:%-d %b}", w.hours, show(w.hours)) for w in weeks],
            what="Week beginning", measure="Hours attended"),
        charts.bars(
            "progress-programmes", "Pupils at or above target, by programme",
            "Of the pupils with a baseline, a current status and a target, the share at or "
            "above their target, for each programme.",
            [Point(r.label, r.at_target_percent, show(r.at_target_percent, "percent"))
             for r in figures.rows("programme")],
            what="Programme", measure="At or above target", top=100),
    ]
    if by_school:
        found.append(charts.bars(
            "cost-schools", "Cost per attended hour, by school",
            "What tutoring cost for each hour pupils attended, at each school.",
            [Point(r.label, r.cost_per_attended_hour, show(r.cost_per_attended_hour,
                                                            "pounds"))
             for r in figures.rows("school")],
            what="School", measure="Cost per attended hour"))
    return found


# --- the dashboards ------------------------------------------------------------------------


def _dashboard(kind: str, coverage: Coverage, *, names: bool, trust: Trust,
               school: School | None = None):
    form = _period_form()
    args = {"school_id": school.id} if school else {"trust_id": trust.id}
    context = {"kind": kind, "coverage": coverage, "form": form, "trust": trust,
               "school": school, "show": show, "cells": cells, "columns": COLUMNS,
               "page_url": url_for(f"tutoring.{kind}_dashboard", **args)}
    if form.period is None:
        return render_template("tutoring/dashboard.html", figures=None, **context), 400
    if kind == "trust":
        snapshot = snapshots.dashboard(coverage, form.period)
        db.session.commit()
        figures, lists = snapshot.figures, snapshot.lists
        as_of = snapshot.computed_at.astimezone(LONDON)
    else:
        figures, lists, as_of = tutoring_figures(coverage, form.period), \
            action_lists(coverage), None
    splits = [(key, SPLITS[key], figures.rows(key), key in GROUP_SPLITS) for key in SPLITS
              if not (kind == "school" and key == "school")]
    return render_template(
        "tutoring/dashboard.html", figures=figures, splits=splits,
        charts=_charts(figures, kind == "trust"), lists=lists, as_of=as_of,
        max_age_minutes=max(1, round(snapshots.max_age().total_seconds() / 60)),
        shown=ITEMS_SHOWN, names=names, me=current_user.id,
        funder_links={fmt: url_for(f"tutoring.{kind}_funder_return", fmt=fmt, **args,
                                   **form.kept()) for fmt in funder_return.FORMATS},
        impact_url=url_for("tutoring.impact_review", trust_id=trust.id, **form.kept())
        if kind == "trust" and can(current_user, Action.VIEW, trust) else None,
        **context)


@bp.get("/schools/<int:school_id>/tutoring/dashboard")
@access(Access.SIGNED_IN)
def school_dashboard(school_id: int):
    school, coverage = _school_coverage(school_id)
    return _dashboard("school", coverage, names=sees_pupil_names(current_user, school.id),
                      trust=school.trust, school=school)


@bp.get("/trusts/<int:trust_id>/tutoring/dashboard")
@access(Access.SIGNED_IN)
def trust_dashboard(trust_id: int):
    trust, coverage = _trust_coverage(trust_id)
    return _dashboard("trust", coverage, names=False, trust=trust)


# --- the funder return ---------------------------------------------------------------------


def _funder_file(coverage: Coverage, fmt: str):
    form = _period_form()
    if form.period is None:
        problems = [e for f in form for e in f.errors] + list(form.form_errors)
        return Response("The period is not right: " + " ".join(problems) + "\n", status=400,
                        mimetype="text/plain")
    data = funder_return.funder_return(coverage, form.period)
    body, mimetype = funder_return.write(data, fmt)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{funder_return.filename(data, fmt)}"'})


@bp.get("/schools/<int:school_id>/tutoring/funder-return.<any(csv, xlsx):fmt>")
@access(Access.SIGNED_IN)
def school_funder_return(school_id: int, fmt: str):
    _school, coverage = _school_coverage(school_id)
    return _funder_file(coverage, fmt)


@bp.get("/trusts/<int:trust_id>/tutoring/funder-return.<any(csv, xlsx):fmt>")
@access(Access.SIGNED_IN)
def trust_funder_return(trust_id: int, fmt: str):
    _trust, coverage = _trust_coverage(trust_id)
    return _funder_file(coverage, fmt)


# --- the impact review ---------------------------------------------------------------------


@bp.route("/trusts/<int:trust_id>/tutoring/impact-review", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def impact_review(trust_id: int):
    """The central team's termly review; trustees read it but do not decide."""
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    period_form = _period_form()
    decide = can(current_user, Action.DECIDE, trust)
    form = ImpactDecisionForm()
    status = 200
    if request.method == "POST":
        require(Action.DECIDE, trust)
        if period_form.period is None:
            abort(400)
        if form.validate_on_submit():
            try:
                review = impact.record_decision(
                    trust, programme_key=form.programme_key.data, decision=form.decision.data,
                    reason=form.reason.data, period=period_form.period, actor=current_user)
            except DomainError as error:
                fail(form, error)
            else:
                db.session.commit()
                flash(f"Your decision on {review.programme_name} ({review.decision.label.lower()}) "
                      "has been recorded. It will appear in the board report.", "success")
                return redirect(url_for("tutoring.impact_review", trust_id=trust.id,
                                        **period_form.kept()))
        status = 400
    page = impact.impact_review(trust, period_form.period) if period_form.period else None
    return render_template(
        "tutoring/impact_review.html", trust=trust, form=form, period_form=period_form,
        page=page, decide=decide, show=show, cells=cells, columns=COLUMNS,
        model_rows=page.figures.rows("delivery_model") if page else [],
        programme_school=PROGRAMME_SCHOOL,
        action=url_for("tutoring.impact_review", trust_id=trust.id, **period_form.kept()),
        page_url=url_for("tutoring.impact_review", trust_id=trust.id),
        dashboard_url=url_for("tutoring.trust_dashboard", trust_id=trust.id,
                              **period_form.kept())), status if page else 400
