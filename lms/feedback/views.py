"""Feedback pages: the tutor's rating prompt and its form, the school leader's survey, the
trust's survey delay, and the programme admins' content report."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from courses.services import CourseProgress, ModuleProgress
from lms.feedback import bp, report, services, surveys
from lms.feedback.forms import RatingForm, SettingsForm, SurveyForm
from lms.feedback.models import COURSE, LeaderSurvey
from lms.feedback.policies import manages_feedback_settings
from lms.organisations.models import Trust
from lms.platform.authz import Access, Action, access, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import fail
from lms.platform.roles import Role
from lms.platform.spreadsheets import csv_chunks
from lms.programme.models import Enrolment, Pathway


@bp.app_template_global("feedback_prompt")
def feedback_prompt(progress: CourseProgress, module: ModuleProgress | None = None, *,
                    lesson_id: int | None = None) -> services.Prompt | None:
    """``feedback_prompt(progress, m)``: the rating prompt for a finished module (the course,
    without ``m``; the module before, on a module's first lesson with ``lesson_id=``), or None
    when it is not finished, already rated or skipped, or the reader is not its tutor."""
    enrolment = progress.enrolment
    if not current_user.is_authenticated or enrolment.user_id != current_user.id:
        return None
    cache = g.setdefault("feedback_answered", {})
    if enrolment.id not in cache:
        cache[enrolment.id] = services.answered(enrolment.id)
    if lesson_id is not None:
        return services.prompt_before(progress, lesson_id, cache[enrolment.id])
    return services.prompt_for(progress, module, cache[enrolment.id])


def _safe_next(value: str | None, enrolment: Enrolment) -> str:
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return url_for("courses.course", enrolment_id=enrolment.id)


def _studying(enrolment_id: int) -> Enrolment:
    enrolment = require(Action.VIEW, db.session.get(Enrolment, enrolment_id))
    return require(Action.STUDY, enrolment)


def _module_title(enrolment: Enrolment, module: str) -> str:
    from courses.services import course_progress

    progress = course_progress(enrolment)
    if module == COURSE:
        return progress.version.title
    found = next((m for m in progress.modules if m.module.slug == module), None)
    if found is None:
        abort(404)
    return found.module.title


@bp.route("/learn/<int:enrolment_id>/feedback/<module>", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def rate(enrolment_id: int, module: str):
    """The rating form on a page of its own: where the prompt's form lands when something
    needs correcting, and for anyone who follows a link to it."""
    enrolment = _studying(enrolment_id)
    title = _module_title(enrolment, module)
    form = RatingForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    elif form.validate_on_submit():
        try:
            services.rate(enrolment, module, clear=form.clear.data, useful=form.useful.data,
                          comment=form.comment.data or "")
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("Thank you: your rating goes to the people who write the course.", "success")
            return redirect(_safe_next(form.next.data, enrolment))
    return render_template("feedback/rate.html", enrolment=enrolment, module=module,
                           title=title, form=form), 400 if form.errors else 200


@bp.post("/learn/<int:enrolment_id>/feedback/<module>/skip")
@access(Access.SIGNED_IN)
def skip(enrolment_id: int, module: str):
    enrolment = _studying(enrolment_id)
    form = RatingForm()
    if not form.validate_on_submit():
        abort(400)
    _module_title(enrolment, module)
    services.skip(enrolment, module)
    db.session.commit()
    return redirect(_safe_next(form.next.data, enrolment))


# --- the school leader's survey ------------------------------------------------------------


@bp.route("/feedback/surveys/<int:survey_id>", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def survey(survey_id: int):
    """Only the leader it was sent to may open it (anyone else is told it does not exist)."""
    item = db.session.get(LeaderSurvey, survey_id)
    if item is None or item.leader_id != current_user.id:
        abort(404)
    form = SurveyForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            surveys.answer(item, current_user, practice_changed=form.practice_changed.data,
                           missing=form.missing.data or "",
                           would_nominate=form.would_nominate.data)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("Thank you: your answers go to the people who write the course.", "success")
            return redirect(url_for("feedback.survey", survey_id=item.id))
    return render_template("feedback/survey.html", survey=item, form=form), \
        400 if form.errors else 200


@bp.route("/trusts/<int:trust_id>/feedback/settings", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def settings(trust_id: int):
    trust = db.session.get(Trust, trust_id)
    if trust is None or not manages_feedback_settings(current_user, trust_id):
        abort(404)
    form = SettingsForm()
    if request.method == "GET":
        form.survey_weeks.data = services.survey_weeks(trust.id)
    elif form.validate_on_submit():
        try:
            services.set_survey_weeks(trust.id, form.survey_weeks.data, actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("Survey timing saved.", "success")
            return redirect(url_for("feedback.settings", trust_id=trust.id))
    return render_template("feedback/settings.html", trust=trust, form=form), \
        400 if form.errors else 200


# --- the content report --------------------------------------------------------------------


def _report_args() -> tuple[str, bool]:
    how = request.args.get("sort", "rating")
    return (how if how in report.SORTS else "rating"), request.args.get("by") == "version"


@bp.get("/programme/content-report")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def content_report():
    how, split = _report_args()
    reports = report.by_version() if split else report.overall()
    return render_template("feedback/content_report.html", reports=reports, how=how,
                           split=split, sorts=report.SORTS, sort_rows=report.sort_rows,
                           shown=report.COMMENTS_SHOWN, inactive_days=report.INACTIVE_DAYS)


@bp.get("/programme/content-report.csv")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def content_report_csv():
    how, split = _report_args()
    reports = report.by_version() if split else report.overall()
    name = "content-report-by-version.csv" if split else "content-report.csv"
    return Response(csv_chunks(report.CSV_HEADINGS, report.csv_rows(reports, how)),
                    mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/programme/content-report/<pathway>/<module>/comments")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def comments(pathway: str, module: str):
    try:
        chosen = Pathway(pathway)
    except ValueError:
        abort(404)
    return render_template("feedback/comments.html", pathway=chosen, module=module,
                           is_course=module == COURSE,
                           comments=report.comments(chosen, module))
