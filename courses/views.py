"""Tutors' course pages (phone first, no JavaScript needed) and the admins' content browser."""

from __future__ import annotations

import re

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from courses import bp, services
from courses.content import SCENARIO_MARK_PATTERN
from courses.models import CourseVersion, Lesson, Resource
from lms.platform.authz import Access, Action, access, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import Form
from lms.platform.roles import Role
from lms.programme import queries as lms_queries
from lms.programme.models import Enrolment


def _studying(enrolment_id: int) -> Enrolment:
    enrolment = require(Action.VIEW, db.session.get(Enrolment, enrolment_id))
    return require(Action.STUDY, enrolment)


@bp.get("/learn")
@access(Access.SIGNED_IN)
def my_course():
    enrolment = lms_queries.active_enrolment(current_user)
    if enrolment is None:
        flash("You have no training in progress.", "info")
        return redirect(url_for("lms.home"))
    return redirect(url_for("courses.course", enrolment_id=enrolment.id))


@bp.get("/learn/<int:enrolment_id>")
@access(Access.SIGNED_IN)
def course(enrolment_id: int):
    enrolment = _studying(enrolment_id)
    try:
        progress = services.course_progress(enrolment)
    except DomainError as error:
        db.session.rollback()
        return render_template("errors/error.html", code=503, title="Course not available",
                               hint=error.message), 503
    db.session.commit()
    return render_template("courses/course.html", enrolment=enrolment, progress=progress)


@bp.get("/learn/<int:enrolment_id>/lessons/<int:lesson_id>")
@access(Access.SIGNED_IN)
def lesson(enrolment_id: int, lesson_id: int):
    enrolment = _studying(enrolment_id)
    lesson = db.session.get(Lesson, lesson_id) or abort(404)
    try:
        if enrolment.is_active:
            services.view_lesson(enrolment, lesson)
        progress = services.course_progress(enrolment)
        if not progress.includes(lesson):
            abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("courses.course", enrolment_id=enrolment.id))
    db.session.commit()
    return _lesson_page(enrolment, lesson, progress)


def _lesson_page(enrolment: Enrolment, lesson: Lesson, progress, *, answer_error=None,
                 status: int = 200):
    lessons = progress.version.lessons
    index = [item.id for item in lessons].index(lesson.id)
    module = progress.module_of(lesson)
    files = {r.filename: url_for("courses.resource", enrolment_id=enrolment.id, resource_id=r.id)
             for r in module.module.resources}
    return render_template(
        "courses/lesson.html",
        enrolment=enrolment,
        lesson=lesson,
        parts=lesson_parts(lesson, files, services.scenario_answers(enrolment, lesson)),
        answer_error=answer_error,
        module=module,
        progress=progress,
        previous=lessons[index - 1] if index > 0 else None,
        following=lessons[index + 1] if index + 1 < len(lessons) else None,
        form=Form(),
    ), status


_IMAGE_SOURCE = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')


def lesson_parts(lesson: Lesson, files: dict[str, str], answers: dict[int, str] | None
                 ) -> list[dict]:
    """The lesson's HTML cut at its scenarios: each scenario with the tutor's answer, if they
    have written one (``answers=None`` reveals every model answer: the admins' preview).
    Diagrams point at the module's files."""
    html = _IMAGE_SOURCE.sub(lambda m: m.group(1) + files.get(m.group(2), m.group(2))
                             + m.group(3), lesson.body_html)
    scenarios = {s["number"]: s for s in lesson.scenarios or []}
    parts, start = [], 0
    for mark in SCENARIO_MARK_PATTERN.finditer(html):
        number = int(mark.group(1))
        parts.append({"html": Markup(html[start:mark.start()]),
                      "scenario": scenarios.get(number),
                      "answer": None if answers is None else answers.get(number),
                      "reveal": answers is None or number in answers})
        start = mark.end()
    parts.append({"html": Markup(html[start:]), "scenario": None})
    return parts


def _posted_to_lesson(enrolment_id: int, lesson_id: int) -> tuple[Enrolment, Lesson]:
    """The tutor's enrolment and the lesson a form on its page was sent from (CSRF checked)."""
    enrolment = _studying(enrolment_id)
    lesson = db.session.get(Lesson, lesson_id) or abort(404)
    if not Form().validate_on_submit():
        abort(400)
    return enrolment, lesson


@bp.post("/learn/<int:enrolment_id>/lessons/<int:lesson_id>/scenarios/<int:number>")
@access(Access.SIGNED_IN)
def answer_scenario(enrolment_id: int, lesson_id: int, number: int):
    """Save the tutor's answer to a scenario; the lesson page then shows the model answer."""
    enrolment, lesson = _posted_to_lesson(enrolment_id, lesson_id)
    try:
        services.answer_scenario(enrolment, lesson, number, request.form.get("answer", ""))
    except DomainError as error:
        db.session.rollback()
        progress = services.course_progress(enrolment)
        if not progress.includes(lesson):
            abort(404)
        if error.field != "answer":
            flash(error.message, "error")
            return redirect(url_for("courses.course", enrolment_id=enrolment.id))
        kept = request.form.get("answer", "")[:services.MAX_SCENARIO_ANSWER]
        return _lesson_page(enrolment, lesson, progress, status=400, answer_error={
            "number": number, "message": error.message, "text": kept})
    db.session.commit()
    return redirect(url_for("courses.lesson", enrolment_id=enrolment.id, lesson_id=lesson.id,
                            _anchor=f"scenario-{number}"))


@bp.post("/learn/<int:enrolment_id>/lessons/<int:lesson_id>/complete")
@access(Access.SIGNED_IN)
def complete_lesson(enrolment_id: int, lesson_id: int):
    enrolment, lesson = _posted_to_lesson(enrolment_id, lesson_id)
    try:
        services.complete_lesson(enrolment, lesson)
    except services.LessonNotFinished as not_yet:
        db.session.commit()  # the time spent so far counts
        flash(not_yet.message, "info")
        return redirect(url_for("courses.lesson", enrolment_id=enrolment.id,
                                lesson_id=lesson.id))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("courses.course", enrolment_id=enrolment.id))
    db.session.commit()
    progress = services.course_progress(enrolment)
    following = progress.next_lesson
    flash(f"“{lesson.title}” is complete.", "success")
    if following is not None:
        return redirect(url_for("courses.lesson", enrolment_id=enrolment.id,
                                lesson_id=following.id))
    return redirect(url_for("courses.course", enrolment_id=enrolment.id))


@bp.get("/learn/<int:enrolment_id>/resources/<int:resource_id>")
@access(Access.SIGNED_IN)
def resource(enrolment_id: int, resource_id: int):
    enrolment = _studying(enrolment_id)
    item = db.session.get(Resource, resource_id) or abort(404)
    version = services.pin_course_version(enrolment)
    if item.module.course_version_id != version.id:
        abort(404)
    return _download(item)


def _download(item: Resource) -> Response:
    disposition = "inline" if item.mimetype in ("text/vtt", "image/svg+xml") else "attachment"
    return Response(item.content, mimetype=item.mimetype, headers={
        "Content-Disposition": f'{disposition}; filename="{item.filename}"'})


# --- programme admins ---------------------------------------------------------------------


@bp.get("/admin/courses")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def versions():
    rows = db.session.query(CourseVersion).order_by(CourseVersion.pathway,
                                                    CourseVersion.loaded_at.desc()).all()
    return render_template("courses/admin_versions.html", versions=rows)


@bp.get("/admin/courses/<int:version_id>")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def version(version_id: int):
    item = require(Action.VIEW, db.session.get(CourseVersion, version_id))
    return render_template("courses/admin_version.html", version=item)


@bp.get("/admin/courses/lessons/<int:lesson_id>")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def preview_lesson(lesson_id: int):
    item = require(Action.VIEW, db.session.get(Lesson, lesson_id))
    files = {r.filename: url_for("courses.admin_resource", resource_id=r.id)
             for r in item.module.resources}
    return render_template("courses/admin_lesson.html", lesson=item,
                           parts=lesson_parts(item, files, None))


@bp.get("/admin/courses/resources/<int:resource_id>")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def admin_resource(resource_id: int):
    return _download(require(Action.VIEW, db.session.get(Resource, resource_id)))
