"""The training impact report's pages: a trust's (its central team and trustees, and
programme admins) and the whole programme's (programme admins). The report names no tutor and
no pupil: counts, means and intervals only. A trust the person may not see is 404, as one
that does not exist. The figures may be kept for a short while (``impact_snapshots``); the
page says when they were worked out."""

from __future__ import annotations

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user

from lms.organisations.models import Trust
from lms.platform.authz import Access, Action, access, can
from lms.platform.clock import LONDON
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.platform.spreadsheets import csv_chunks
from lms.research import bp
from lms.research.impact import DEFAULT_GROUPING, MEASURES, csv_rows
from lms.research.impact_forms import ImpactReportForm
from lms.research.impact_snapshots import kept_report, max_age
from lms.research.intervals import MIN_TUTORS


def figure(value: float | None, unit: str) -> str:
    """A mean or an interval end as the page prints it: 62.5% · 3.1 · 1.2 points · a dash."""
    if value is None:
        return "–"
    text = f"{value:,.2f}" if unit == "" else f"{value:,.1f}"
    return text + ("%" if unit == "%" else f" {unit}" if unit else "")


def _trust(trust_id: int) -> Trust:
    trust = db.session.get(Trust, trust_id)
    if trust is None or not (can(current_user, Action.VIEW, trust)
                             or current_user.is_programme_admin):
        abort(404)
    return trust


def _form() -> ImpactReportForm:
    form = ImpactReportForm(request.args)
    form.validate()
    return form


def _page(title: str, scope: int | None, page_url: str, csv_endpoint: str, **args):
    form = _form()
    if form.errors:
        return render_template("research/impact_report.html", title=title, form=form,
                               report=None, page_url=page_url), 400
    kept = kept_report(title, scope, form.grouping.data or DEFAULT_GROUPING,
                       form.scale.data or None)
    if kept.written:
        db.session.commit()
    report = kept.report
    csv_url = url_for(csv_endpoint, grouping=report.grouping.key,
                      scale=form.scale.data or None, **args)
    return render_template("research/impact_report.html", title=title, form=form,
                           report=report, measures=MEASURES, min_tutors=MIN_TUTORS,
                           page_url=page_url, csv_url=csv_url, figure=figure,
                           trust_scope=scope is not None,
                           as_of=kept.computed_at.astimezone(LONDON),
                           max_age_minutes=max(1, round(max_age().total_seconds() / 60))
                           if max_age().total_seconds() > 0 else 0,
                           unit_of=lambda m: report.scale.unit if m.unit == "scale"
                           and report.scale else ("" if m.unit == "scale" else m.unit))


def _csv(title: str, trust_id: int | None, name: str):
    form = _form()
    if form.errors:
        problems = [e for errors in form.errors.values() for e in errors]
        return Response(" ".join(problems) + "\n", status=400, mimetype="text/plain")
    kept = kept_report(title, trust_id, form.grouping.data or DEFAULT_GROUPING,
                       form.scale.data or None)
    if kept.written:
        db.session.commit()
    report = kept.report
    headings, rows = csv_rows(report)
    return Response(csv_chunks(headings, rows), mimetype="text/csv", headers={
        "Content-Disposition":
            f'attachment; filename="impact-report-{name}-{report.grouping.key}.csv"'})


@bp.get("/trusts/<int:trust_id>/impact-report")
@access(Access.SIGNED_IN)
def trust_impact_report(trust_id: int):
    trust = _trust(trust_id)
    return _page(f"Training impact at {trust.name}", trust.id,
                 url_for("research.trust_impact_report", trust_id=trust.id),
                 "research.trust_impact_report_csv", trust_id=trust.id)


@bp.get("/trusts/<int:trust_id>/impact-report.csv")
@access(Access.SIGNED_IN)
def trust_impact_report_csv(trust_id: int):
    trust = _trust(trust_id)
    return _csv(trust.name, trust.id, f"trust-{trust.id}")


@bp.get("/programme/impact-report")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def programme_impact_report():
    return _page("Training impact across the programme", None,
                 url_for("research.programme_impact_report"),
                 "research.programme_impact_report_csv")


@bp.get("/programme/impact-report.csv")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def programme_impact_report_csv():
    return _csv("Programme", None, "programme")
