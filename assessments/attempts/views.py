"""Module checks and the summative assessment, one question per page: no JavaScript needed,
every page answers from the server, and no page ever carries a key."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from assessments import bp
from assessments.attempts import services
from assessments.attempts.models import Attempt, AttemptItem
from assessments.bank.blueprints import BLUEPRINTS
from assessments.bank.models import ItemVersion
from assessments.checks import services as checks
from assessments.checks.models import FormativeResult
from courses.services import CourseProgress, course_progress
from lms.platform import clock
from lms.platform.authz import Access, Action, access, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import Form
from lms.platform.roles import Role
from lms.platform.web import commit_or_flash
from lms.programme.models import Enrolment


def _studying(enrolment_id: int) -> Enrolment:
    enrolment = require(Action.VIEW, db.session.get(Enrolment, enrolment_id))
    return require(Action.STUDY, enrolment)


def _shown(item: ItemVersion, order: list[int]) -> list[tuple[int, str]]:
    """Options as the tutor sees them: (position, text); nothing else leaves the server."""
    return [(position, item.options[index]["text"]) for position, index in enumerate(order)]


def _chosen(name: str) -> list[str]:
    return request.form.getlist(name)


# --- module checks ------------------------------------------------------------------------


@bp.post("/learn/<int:enrolment_id>/checks/<topic>")
@access(Access.SIGNED_IN)
def start_check(enrolment_id: int, topic: str):
    enrolment = _studying(enrolment_id)
    if not Form().validate_on_submit():
        abort(400)
    module = next((m for m in course_progress(enrolment).modules if m.module.slug == topic), None)
    if module is None or not module.unlocked or not module.lessons_complete:
        flash("Finish the module's lessons before its check.", "error")
        return redirect(url_for("courses.course", enrolment_id=enrolment.id))
    try:
        check = checks.start_check(enrolment, topic)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("courses.course", enrolment_id=enrolment.id))
    db.session.commit()
    return redirect(url_for("assessments.check", enrolment_id=enrolment.id, check_id=check.id))


@bp.route("/learn/<int:enrolment_id>/checks/try/<int:check_id>", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def check(enrolment_id: int, check_id: int):
    enrolment = _studying(enrolment_id)
    attempt = db.session.get(FormativeResult, check_id)
    if attempt is None or attempt.enrolment_id != enrolment.id:
        abort(404)
    items = [(db.session.get(ItemVersion, e["item_version_id"]), e["option_order"])
             for e in attempt.items]
    form = Form()
    if request.method == "POST" and form.validate_on_submit():
        try:
            feedback = checks.submit_check(
                attempt, {i: _chosen(f"q{i}") for i in range(len(items))})
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            return render_template("assessments/check_result.html", enrolment=enrolment,
                                   attempt=attempt, feedback=feedback, form=Form(),
                                   shown=[_shown(f.item, f.option_order) for f in feedback])
    return render_template("assessments/check.html", enrolment=enrolment, attempt=attempt,
                           questions=[(item, _shown(item, order)) for item, order in items],
                           form=form)


# --- the summative assessment -------------------------------------------------------------


@bp.get("/learn/<int:enrolment_id>/assessment")
@access(Access.SIGNED_IN)
def assessment(enrolment_id: int):
    enrolment = _studying(enrolment_id)
    progress = course_progress(enrolment)
    state = services.readiness(enrolment, progress=progress)
    return render_template(
        "assessments/assessment.html", enrolment=enrolment,
        attempts=state.attempts if state.allowance else services.attempts_of(enrolment),
        state=state, blueprint=BLUEPRINTS[enrolment.pathway],
        time_allowed=(state.allowance or services.allowance(enrolment)).time_limit,
        lessons=_lesson_links(progress), form=Form(),
    )


def _lesson_links(progress: CourseProgress) -> dict[tuple[str, str], tuple[int, str]]:
    return {(m.module.slug, lesson.slug): (lesson.id, lesson.title)
            for m in progress.modules for lesson in m.module.lessons}


@bp.post("/learn/<int:enrolment_id>/assessment/start")
@access(Access.SIGNED_IN)
def start_attempt(enrolment_id: int):
    enrolment = _studying(enrolment_id)
    if not Form().validate_on_submit():
        abort(400)
    try:
        attempt = services.start_attempt(enrolment)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("assessments.assessment", enrolment_id=enrolment.id))
    attempt_id = attempt.id
    db.session.commit()
    return redirect(url_for("assessments.question", enrolment_id=enrolment_id,
                            attempt_id=attempt_id, position=0))


def _attempt(enrolment_id: int, attempt_id: int) -> tuple[Enrolment, Attempt]:
    """The tutor's own attempt with its enrolment, in one query (every autosave asks)."""
    found = db.session.execute(
        select(Enrolment, Attempt).join(Attempt, Attempt.enrolment_id == Enrolment.id)
        .where(Enrolment.id == enrolment_id, Attempt.id == attempt_id)).first()
    if found is None:
        _studying(enrolment_id)
        abort(404)
    return require(Action.STUDY, found.Enrolment), found.Attempt


def _close_if_timed_out(attempt: Attempt) -> bool:
    if attempt.is_open and clock.now() >= attempt.deadline_at:
        services.submit_attempt(attempt, auto=True)
        db.session.commit()
        flash("Time is up. Your saved answers have been submitted.", "info")
        return True
    return False


@bp.route("/learn/<int:enrolment_id>/attempts/<int:attempt_id>/q/<int:position>",
          methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def question(enrolment_id: int, attempt_id: int, position: int):
    enrolment, attempt = _attempt(enrolment_id, attempt_id)
    if _close_if_timed_out(attempt) or not attempt.is_open:
        return redirect(url_for("assessments.result", enrolment_id=enrolment_id,
                                attempt_id=attempt_id))
    row = next((r for r in attempt.items if r.position == position), None)
    if row is None:
        abort(404)
    form = Form()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.save_answer(attempt, position, _chosen("answer"))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            go = request.form.get("go", "next")
            if go == "review" or (go == "next" and position + 1 >= attempt.total):
                return redirect(url_for("assessments.review", enrolment_id=enrolment_id,
                                        attempt_id=attempt_id))
            target = max(0, position - 1) if go == "previous" else position + 1
            return redirect(url_for("assessments.question", enrolment_id=enrolment_id,
                                    attempt_id=attempt_id, position=target))
    return render_template("assessments/question.html", enrolment=enrolment, attempt=attempt,
                           row=row, options=_shown(row.item, row.option_order), form=form,
                           seconds_left=int((attempt.deadline_at - clock.now()).total_seconds()))


@bp.post("/learn/<int:enrolment_id>/attempts/<int:attempt_id>/answers/<int:position>")
@access(Access.SIGNED_IN)
def autosave(enrolment_id: int, attempt_id: int, position: int):
    """Save one answer as soon as it is chosen (the page's script calls this; without
    JavaScript, the Save buttons do the same). Answers JSON, never the key."""
    enrolment, attempt = _attempt(enrolment_id, attempt_id)
    try:
        row = services.save_answer(attempt, position, _chosen("answer"))
    except DomainError as error:
        db.session.rollback()
        status = 409 if not attempt.is_open or clock.now() >= attempt.deadline_at else 400
        return {"type": "about:blank", "title": "Answer not saved", "status": status,
                "detail": error.message}, status, {"Content-Type": "application/problem+json"}
    db.session.commit()
    return {"position": row.position, "selected": row.selected,
            "saved_at": row.saved_at.isoformat()}


@bp.route("/learn/<int:enrolment_id>/attempts/<int:attempt_id>/review",
          methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def review(enrolment_id: int, attempt_id: int):
    enrolment, attempt = _attempt(enrolment_id, attempt_id)
    if _close_if_timed_out(attempt) or not attempt.is_open:
        return redirect(url_for("assessments.result", enrolment_id=enrolment_id,
                                attempt_id=attempt_id))
    form = Form()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.submit_attempt(attempt)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
        return redirect(url_for("assessments.result", enrolment_id=enrolment_id,
                                attempt_id=attempt_id))
    answered = sum(1 for row in attempt.items if row.selected)
    # One query for the paper's items: each row's ``item`` is then found in the session.
    db.session.scalars(select(ItemVersion).where(
        ItemVersion.id.in_([row.item_version_id for row in attempt.items]))).all()
    chosen = {row.position: [row.item.options[row.option_order[p]]["text"]
                             for p in row.selected or [] if p < len(row.option_order)]
              for row in attempt.items}
    return render_template("assessments/review.html", enrolment=enrolment, attempt=attempt,
                           answered=answered, chosen=chosen, form=form)


@bp.get("/learn/<int:enrolment_id>/attempts/<int:attempt_id>/result")
@access(Access.SIGNED_IN)
def result(enrolment_id: int, attempt_id: int):
    enrolment, attempt = _attempt(enrolment_id, attempt_id)
    if attempt.is_open:
        return redirect(url_for("assessments.review", enrolment_id=enrolment_id,
                                attempt_id=attempt_id))
    progress = course_progress(enrolment)
    state = services.readiness(enrolment, progress=progress)
    links = _lesson_links(progress)
    still_to_revisit = set(services.lessons_to_revisit(progress, attempt))
    revisit = []  # each flagged lesson once, in course order, as a link
    for topic, slug in sorted(services.flagged_lessons(attempt),
                              key=lambda key: list(links).index(key) if key in links else 0):
        if (topic, slug) in links:
            lesson_id, title = links[(topic, slug)]
            revisit.append({"id": lesson_id, "title": title, "done": title not in still_to_revisit})
    return render_template("assessments/result.html", enrolment=enrolment, attempt=attempt,
                           state=state, revisit=revisit,
                           other_needs=state.other_needs,
                           topics={m.module.slug: m.module.title for m in progress.modules},
                           pass_mark=BLUEPRINTS[enrolment.pathway].pass_mark)


@bp.post("/enrolments/<int:enrolment_id>/adjustments")
@access(Access.SIGNED_IN)
def grant_adjustment(enrolment_id: int):
    from assessments.attempts.forms import AdjustmentForm

    enrolment = require(Action.DECIDE, db.session.get(Enrolment, enrolment_id))
    form = AdjustmentForm(prefix="adjust")
    if form.validate_on_submit():
        commit_or_flash(lambda: services.grant_adjustment(
            enrolment, form.kind.data, form.value.data, reason=form.reason.data,
            actor=current_user), "The adjustment has been recorded.")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("lms.enrolment", enrolment_id=enrolment.id))


@bp.get("/admin/item-analysis")
@access(Access.SIGNED_IN, roles=(Role.PROGRAMME_ADMIN,))
def item_analysis():
    from assessments.attempts import analysis

    responses, items, pathways = analysis.responses()
    stats = analysis.item_statistics(responses, {i: len(v.options) for i, v in items.items()})
    rows = sorted(stats.values(), key=lambda s: (not s.flags, items[s.item_id].key))
    return render_template("assessments/item_analysis.html", rows=rows, items=items,
                           papers=analysis.paper_difficulty(responses, stats, pathways),
                           minimum=analysis.MIN_RESPONSES)


__all__ = ["bp", "AttemptItem"]
