"""The termly board report, as a page and as a PDF.

For those who see a whole trust (its trustees and central team, and programme admins): a
cluster lead's part of a trust is not what a board reports on, so anyone else gets 404.
"""

from __future__ import annotations

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user

from lms.insight import reports, scopes
from lms.insight.forms import BoardReportForm
from lms.organisations.models import Trust
from lms.platform.authz import Access, access
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.web import bp


def _scope(trust_id: int) -> scopes.Scope:
    trust = db.session.get(Trust, trust_id)
    scope = scopes.trust_scope(current_user, trust) if trust is not None else None
    if scope is None or scope.school_ids is not None:
        abort(404)
    return scope


def _report(scope: scopes.Scope) -> tuple[BoardReportForm, reports.BoardReport | None]:
    """The period from the address (the current term so far when left out) and its report,
    or the form with what to fix."""
    from lms.platform.clock import today

    start, end = reports.term_so_far(today())
    form = BoardReportForm(request.args, data={"start": start, "end": end})
    if not form.validate():
        return form, None
    try:
        report = reports.board_report(scope, form.start.data, form.end.data)
    except DomainError as error:
        db.session.rollback()
        form.add_domain_error(error)
        return form, None
    db.session.commit()  # keep the pipeline records the report brought up to date
    return form, report


def _period_links(trust_id: int, report: reports.BoardReport | None) -> dict[str, str]:
    from lms.platform.clock import today

    shown = report.period.start if report is not None else today()
    start, end = reports.previous_term(shown)
    return {
        "previous_term": url_for("lms.board_report", trust_id=trust_id, start=start.isoformat(),
                                 end=end.isoformat()),
        "this_term": url_for("lms.board_report", trust_id=trust_id),
    }


def _page(scope: scopes.Scope, form: BoardReportForm,
          report: reports.BoardReport | None):
    pdf_url = url_for("lms.board_report_pdf", trust_id=scope.trust.id,
                      start=report.period.start.isoformat(),
                      end=report.period.end.isoformat()) if report is not None else None
    return render_template(
        "lms/board_report.html", trust=scope.trust, form=form, report=report,
        headings=reports.HEADINGS, explanation=reports.EXPLANATION, fmt=reports.format_value,
        day=reports.day_label, exception_day=reports.exception_day,
        due_soon_days=scopes.DUE_SOON_DAYS,
        tutoring_figures=reports.tutoring_figures if report is not None else None,
        tutoring_programmes=reports.tutoring_programme_rows, tutoring_note=reports.TUTORING_NOTE,
        safeguarding_note=reports.SAFEGUARDING_NOTE,
        impact_url=url_for("tutoring.impact_review", trust_id=scope.trust.id),
        pdf_url=pdf_url,
        links=_period_links(scope.trust.id, report)), 200 if report is not None else 400


@bp.get("/trusts/<int:trust_id>/board-report")
@access(Access.SIGNED_IN)
def board_report(trust_id: int):
    scope = _scope(trust_id)
    form, report = _report(scope)
    return _page(scope, form, report)


@bp.get("/trusts/<int:trust_id>/board-report.pdf")
@access(Access.SIGNED_IN)
def board_report_pdf(trust_id: int):
    scope = _scope(trust_id)
    form, report = _report(scope)
    if report is None:
        return _page(scope, form, report)
    period = report.period
    filename = (f"board-report-trust-{scope.trust.id}-{period.start:%Y-%m-%d}-to-"
                f"{period.end:%Y-%m-%d}.pdf")
    return Response(reports.board_report_pdf(report), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
