"""Safeguarding pages: raising a concern (phone first, no script needed), the reporter's
receipt, the concern itself for those it is for, the break-glass opening, and the counts.

Every response here is ``no-store``: a concern must not stay in a shared computer's cache.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.organisations.models import School, Trust
from lms.platform import clock
from lms.platform.authz import Access, access
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import fail
from lms.safeguarding import access as opening
from lms.safeguarding import bp, figures, queries, reviews, services
from lms.safeguarding.forms import (
    BreakGlassForm,
    CloseForm,
    CloseReviewForm,
    ConcernForm,
    EntryForm,
    RecordedElsewhereForm,
    SettingsForm,
    SuspendForm,
)
from lms.safeguarding.models import Concern, ConcernKind, Review
from lms.safeguarding.policies import (
    is_trust_lead,
    manages_settings,
    may_break_glass,
    may_open,
    may_raise,
    may_receive_alerts,
    may_review,
    may_see_receipt,
    sees_school_counts,
    sees_trust_counts,
)
from lms.safeguarding.printout import account_pdf

DRAFT_FIELDS = ("kind", "school_id", "account", "when", "pupil_id", "category", "subject_id",
                "subject_name", "immediate_danger", "group_id", "day")


@bp.app_template_filter("uk_time")
def uk_time(moment) -> str:
    """A moment as it reads in England: "7 December 2026, 16:05"."""
    if moment is None:
        return ""
    return f"{moment.astimezone(clock.LONDON):%-d %B %Y, %H:%M}"


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _status(form) -> int:
    return 400 if form.errors or form.form_errors else 200


def _int(value) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        return None


# --- raising -------------------------------------------------------------------------------


def _concern_choices(form: ConcernForm) -> list[School]:
    schools = services.reporter_schools(current_user)
    form.school_id.choices = [(str(s.id), s.name) for s in schools]
    school_id = _int(form.school_id.data) or (schools[0].id if len(schools) == 1 else None)
    if school_id not in {s.id for s in schools}:
        school_id = schools[0].id if schools else None
    pupils = services.pupils_for(current_user, school_id) if school_id else []
    form.pupil_id.choices = [("", "A pupil I can't name, or not listed")] + [
        (str(i), name) for i, name in pupils]
    adults = services.adults_at(school_id, besides=current_user) if school_id else []
    form.subject_id.choices = [("", "Not listed, or I'd rather describe them")] + [
        (str(i), name) for i, name in adults]
    return schools


@bp.route("/safeguarding/concerns/new", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def raise_concern():
    if not may_raise(current_user) and not services.reporter_schools(current_user):
        abort(403)
    draft, saved_at = services.draft_of(current_user)
    if request.method == "GET":
        initial = dict(draft)
        for key in ("school_id", "group_id", "day"):
            if request.args.get(key):
                initial[key] = request.args[key]
        form = ConcernForm(data={k: v for k, v in initial.items() if k in DRAFT_FIELDS
                                 and k != "immediate_danger"},
                           immediate_danger=initial.get("immediate_danger") == "y")
    else:
        form = ConcernForm()
    schools = _concern_choices(form)
    warn_danger = False
    if request.method == "POST" and form.validate_on_submit():
        fields = {k: (getattr(form, k).data if k != "immediate_danger"
                      else ("y" if form.immediate_danger.data else "")) for k in DRAFT_FIELDS}
        if request.form.get("action") == "draft" or (
                form.immediate_danger.data and form.danger_seen.data != "1"):
            services.save_draft(current_user, fields)
            db.session.commit()
            if request.form.get("action") == "draft":
                flash("Your draft is saved. Only you can see it; nobody has been told yet.",
                      "success")
                return redirect(url_for("safeguarding.raise_concern"))
            warn_danger = True
            form.danger_seen.data = "1"
        else:
            report = services.Report(
                school_id=_int(form.school_id.data), account=form.account.data or "",
                kind=form.kind.data or ConcernKind.ABOUT_CHILD.value,
                when=form.when.data or "", category=form.category.data or "",
                pupil_id=_int(form.pupil_id.data),
                immediate_danger=bool(form.immediate_danger.data),
                subject_id=_int(form.subject_id.data), subject_name=form.subject_name.data or "",
                group_id=_int(form.group_id.data), held_on=_day(form.day.data))
            try:
                concern = services.raise_concern(current_user, report)
            except DomainError as error:
                fail(form, error)
                services.save_draft(current_user, fields)
                db.session.commit()
            else:
                db.session.commit()
                return redirect(url_for("safeguarding.receipt", concern_id=concern.id))
    return render_template("safeguarding/raise.html", form=form, schools=schools,
                           saved_at=saved_at, warn_danger=warn_danger,
                           from_session=bool(form.group_id.data)), _status(form)


@bp.get("/safeguarding/concerns/<int:concern_id>/receipt")
@access(Access.SIGNED_IN)
def receipt(concern_id: int):
    concern = db.session.get(Concern, concern_id)
    if concern is None or not may_see_receipt(current_user, concern):
        abort(404)
    return render_template("safeguarding/receipt.html", concern=concern)


@bp.get("/safeguarding/my-concerns")
@access(Access.SIGNED_IN)
def my_concerns():
    return render_template("safeguarding/my_concerns.html",
                           concerns=queries.receipts(current_user))


# --- for those a concern is for ------------------------------------------------------------


@bp.get("/safeguarding/concerns")
@access(Access.SIGNED_IN)
def inbox():
    if not may_receive_alerts(current_user):
        abort(403)
    return render_template("safeguarding/inbox.html",
                           concerns=queries.for_user(current_user), now=clock.now())


def _concern(concern_id: int) -> Concern:
    concern = db.session.get(Concern, concern_id)
    if concern is None or not (may_open(current_user, concern)
                               or may_break_glass(current_user, concern)):
        abort(404)
    return concern


def _actionable(concern_id: int) -> Concern:
    concern = _concern(concern_id)
    if not may_open(current_user, concern):
        abort(403)
    return concern


def _render_concern(concern: Concern, **forms):
    entry_form = forms.get("entry_form") or EntryForm()
    entry_form.corrects_id.choices = [("", "Not a correction")] + [
        (str(e.id), f"{e.at:%-d %b %H:%M} {e.kind.label}") for e in concern.entries]
    review = reviews.open_review(concern)
    status = 400 if any(f.errors or f.form_errors for f in forms.values()) else 200
    return render_template(
        "safeguarding/concern.html", concern=concern, account=services.account_of(concern),
        details={e.id: services.details_of(e) for e in concern.entries},
        entry_form=entry_form,
        elsewhere_form=forms.get("elsewhere_form") or RecordedElsewhereForm(),
        close_form=forms.get("close_form") or CloseForm(),
        suspend_form=forms.get("suspend_form") or SuspendForm(),
        review=review, review_form=CloseReviewForm(),
        register_entry=reviews.register_entry_of(concern),
        may_review=may_review(current_user, concern)), status


@bp.get("/safeguarding/concerns/<int:concern_id>")
@access(Access.SIGNED_IN)
def concern(concern_id: int):
    concern = _concern(concern_id)
    if not may_open(current_user, concern):
        return render_template("safeguarding/break_glass.html", concern=concern,
                               form=BreakGlassForm())
    opening.record_opening(concern, current_user)
    db.session.commit()
    return _render_concern(concern)


@bp.post("/safeguarding/concerns/<int:concern_id>/break-glass")
@access(Access.SIGNED_IN)
def break_glass(concern_id: int):
    concern = _concern(concern_id)
    if not may_break_glass(current_user, concern):
        return redirect(url_for("safeguarding.concern", concern_id=concern.id))
    form = BreakGlassForm()
    if form.validate_on_submit():
        try:
            opening.break_glass(concern, current_user, reason=form.reason.data)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            page, _ = _render_concern(concern)
            return page, 200
    return render_template("safeguarding/break_glass.html", concern=concern, form=form), 400


@bp.get("/safeguarding/concerns/<int:concern_id>/account.pdf")
@access(Access.SIGNED_IN)
def account_download(concern_id: int):
    concern = _actionable(concern_id)
    if concern.purged_at is not None:
        abort(410)
    opening.record_opening(concern, current_user, what="pdf")
    db.session.commit()
    return Response(account_pdf(concern), mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=concern-{concern.reference}.pdf"})


def _act(concern: Concern, change, success: str, form_name: str | None = None, form=None):
    if form is not None and not form.validate_on_submit():
        return _render_concern(concern, **{form_name: form})
    try:
        change()
    except DomainError as error:
        if form is None:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("safeguarding.concern", concern_id=concern.id))
        fail(form, error)
        return _render_concern(concern, **{form_name: form})
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("safeguarding.concern", concern_id=concern.id))


@bp.post("/safeguarding/concerns/<int:concern_id>/acknowledge")
@access(Access.SIGNED_IN)
def acknowledge(concern_id: int):
    concern = _actionable(concern_id)
    return _act(concern, lambda: services.acknowledge(concern, actor=current_user),
                "Acknowledged. The escalation has stopped and the reporter's receipt says "
                "the DSL has it.")


@bp.post("/safeguarding/concerns/<int:concern_id>/entries")
@access(Access.SIGNED_IN)
def add_entry(concern_id: int):
    concern = _actionable(concern_id)
    form = EntryForm()
    form.corrects_id.choices = [("", "")] + [(str(e.id), "") for e in concern.entries]
    return _act(concern, lambda: services.add_entry(
        concern, actor=current_user, kind=form.kind.data, text=form.text.data or "",
        on=form.on.data, referral_to=form.referral_to.data or None,
        corrects_id=_int(form.corrects_id.data)), "Added to the chronology.", "entry_form",
        form)


@bp.post("/safeguarding/concerns/<int:concern_id>/recorded-elsewhere")
@access(Access.SIGNED_IN)
def recorded_elsewhere(concern_id: int):
    concern = _actionable(concern_id)
    form = RecordedElsewhereForm()
    return _act(concern, lambda: services.record_elsewhere(
        concern, actor=current_user, system=form.system.data, reference=form.reference.data),
        "Marked as recorded in the school's system. The account here will be purged when "
        "the trust's period has passed.", "elsewhere_form", form)


@bp.post("/safeguarding/concerns/<int:concern_id>/close")
@access(Access.SIGNED_IN)
def close(concern_id: int):
    concern = _actionable(concern_id)
    form = CloseForm()
    return _act(concern, lambda: services.close(concern, actor=current_user,
                                                outcome=form.outcome.data),
                "The concern is closed.", "close_form", form)


# --- the register: suspension pending review ------------------------------------------------


def _back(concern: Concern):
    if may_open(current_user, concern):
        return redirect(url_for("safeguarding.concern", concern_id=concern.id))
    return redirect(url_for("safeguarding.trust_safeguarding", trust_id=concern.trust_id))


@bp.post("/safeguarding/concerns/<int:concern_id>/suspend")
@access(Access.SIGNED_IN)
def suspend(concern_id: int):
    concern = db.session.get(Concern, concern_id)
    if concern is None or not may_review(current_user, concern):
        abort(404)
    form = SuspendForm()
    if not form.validate_on_submit():
        flash("Give a reason for the suspension.", "error")
        return _back(concern)
    try:
        reviews.suspend_pending_review(concern, actor=current_user, reason=form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash("The tutor is suspended pending review: their groups are paused and verifiers "
              "see them as not cleared.", "success")
    return _back(concern)


@bp.post("/safeguarding/reviews/<int:review_id>/close")
@access(Access.SIGNED_IN)
def close_review(review_id: int):
    review = db.session.get(Review, review_id)
    if review is None or not may_review(current_user, review.concern):
        abort(404)
    form = CloseReviewForm()
    if not form.validate_on_submit():
        flash("Choose how the review ended and give a reason.", "error")
        return _back(review.concern)
    try:
        reviews.close_review(review, actor=current_user, outcome=form.outcome.data,
                             reason=form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"The review has ended: {reviews.OUTCOMES[form.outcome.data].lower()}.",
              "success")
    return _back(review.concern)


# --- counts and timings --------------------------------------------------------------------


def _trust(trust_id: int) -> Trust:
    trust = db.session.get(Trust, trust_id)
    if trust is None or not sees_trust_counts(current_user, trust_id):
        abort(404)
    return trust


@bp.get("/trusts/<int:trust_id>/safeguarding")
@access(Access.SIGNED_IN)
def trust_safeguarding(trust_id: int):
    trust = _trust(trust_id)
    rows = figures.by_school(trust.id)
    lead = is_trust_lead(current_user, trust.id)
    return render_template(
        "safeguarding/trust.html", trust=trust, rows=rows, total=figures.totals(rows),
        no_dsl=figures.schools_without_dsl(trust.id), lead=lead,
        unacknowledged=queries.unacknowledged(trust.id, besides=current_user) if lead else [],
        not_recorded=queries.not_recorded_elsewhere(trust.id, besides=current_user)
        if lead else [],
        allegations=[(c, review, reviews.register_entry_of(c)) for c, review in
                     queries.allegations(trust.id, besides=current_user)]
        if manages_settings(current_user, trust.id) else [],
        suspend_form=SuspendForm(), review_form=CloseReviewForm(),
        settings=services.settings_for(trust.id), now=clock.now(),
        may_manage=manages_settings(current_user, trust.id))


@bp.get("/trusts/<int:trust_id>/safeguarding/figures.csv")
@access(Access.SIGNED_IN)
def trust_figures_csv(trust_id: int):
    trust = _trust(trust_id)
    rows = figures.by_school(trust.id)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(figures.totals(rows).row(
        inside_school=False)))
    writer.writeheader()
    for row in [*rows, figures.totals(rows)]:
        writer.writerow(row.row(inside_school=False))
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=safeguarding-figures-{trust.id}.csv"})


@bp.get("/trusts/<int:trust_id>/safeguarding/access-log")
@access(Access.SIGNED_IN)
def access_log(trust_id: int):
    trust = db.session.get(Trust, trust_id)
    if trust is None or not is_trust_lead(current_user, trust_id):
        abort(404)
    return render_template("safeguarding/access_log.html", trust=trust,
                           views=opening.access_log(trust.id, reader=current_user))


@bp.route("/trusts/<int:trust_id>/safeguarding/settings", methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def settings(trust_id: int):
    trust = db.session.get(Trust, trust_id)
    if trust is None or not manages_settings(current_user, trust_id):
        abort(404)
    form = SettingsForm(obj=services.settings_for(trust.id))
    if form.validate_on_submit():
        try:
            services.set_settings(trust.id, first=form.first_escalation_minutes.data,
                                  second=form.second_escalation_minutes.data,
                                  purge_days=form.purge_days.data, actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("Safeguarding timings saved.", "success")
            return redirect(url_for("safeguarding.trust_safeguarding", trust_id=trust.id))
    return render_template("safeguarding/settings.html", trust=trust, form=form), \
        _status(form)


@bp.get("/schools/<int:school_id>/safeguarding")
@access(Access.SIGNED_IN)
def school_safeguarding(school_id: int):
    school = db.session.get(School, school_id)
    if school is None or not sees_school_counts(current_user, school_id):
        abort(404)
    (row,) = figures.by_school(school.trust_id, school_id=school.id)
    return render_template("safeguarding/school.html", school=school, row=row,
                           has_dsl=services.has_dsl(school.id))
