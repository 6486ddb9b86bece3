"""Providers held to their service levels, and the procurement scorecard.

The trust's central team sees each provider's figures for a period, sets the scorecard's
weights and records reviews; trustees see the same pages without the forms; nobody outside
the trust reaches them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.organisations.models import Provider, Trust
from lms.platform import clock
from lms.platform.authz import Access, Action, access, can, require
from lms.platform.errors import DomainError
from lms.platform.extensions import db
from lms.platform.forms import fail
from lms.tutoring import bp, scorecards, service_levels
from lms.tutoring.service_level_forms import SCORE_LABELS, PeriodForm, ScoresForm, WeightsForm


def _period() -> tuple[PeriodForm, tuple | None]:
    """The period from the address (the current term so far when left out), or the form
    with what to fix."""
    today = clock.today()
    start, end = service_levels.term_so_far(today)
    form = PeriodForm(request.args, data={"start": start, "end": end})
    if not form.validate():
        return form, None
    try:
        service_levels.check_period(form.start.data, form.end.data, today)
    except DomainError as error:
        form.add_domain_error(error)
        return form, None
    return form, (form.start.data, form.end.data)


def _kept_period() -> dict[str, str]:
    return {k: request.args[k] for k in ("start", "end") if request.args.get(k)}


def _performance_page(trust: Trust, weights_form: WeightsForm | None = None):
    form, period = _period()
    figures = ranked = None
    if period is not None:
        figures = service_levels.provider_figures(trust.id, *period)
        ranked = scorecards.ranking(trust.id, *period, figures=figures)
    current = scorecards.weights(trust.id)
    manage = can(current_user, Action.MANAGE, trust)
    if weights_form is None:
        weights_form = WeightsForm(formdata=None, data=current)
    failed = bool(weights_form.errors or weights_form.form_errors)
    status = 400 if period is None or failed else 200
    return render_template(
        "tutoring/service_levels.html", trust=trust, form=form, period=period,
        period_args=_kept_period(), figures=figures, ranked=ranked,
        weights=current, weights_form=weights_form, criteria=scorecards.CRITERIA,
        events=service_levels.EVENT_LABELS, manage=manage), status


@bp.get("/trusts/<int:trust_id>/tutoring/providers")
@access(Access.SIGNED_IN)
def provider_performance(trust_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    return _performance_page(trust)


@bp.post("/trusts/<int:trust_id>/tutoring/providers/weights")
@access(Access.SIGNED_IN)
def set_scorecard_weights(trust_id: int):
    trust = require(Action.MANAGE, db.session.get(Trust, trust_id))
    form = WeightsForm()
    if form.validate_on_submit():
        try:
            scorecards.set_weights(trust, form.weights(), actor=current_user)
        except DomainError as error:
            fail(form, error)
        else:
            db.session.commit()
            flash("The scorecard weights have been saved. The ranking uses them now.",
                  "success")
            return redirect(url_for("tutoring.provider_performance", trust_id=trust.id,
                                    **_kept_period()) + "#ranking")
    return _performance_page(trust, weights_form=form)


def _provider(trust: Trust, provider_id: int) -> Provider:
    """A provider the trust works with (404 for any other)."""
    provider = db.session.get(Provider, provider_id)
    if provider is None or provider.id not in {
            p.id for p in service_levels.trust_providers(trust.id)}:
        abort(404)
    return provider


@bp.route("/trusts/<int:trust_id>/tutoring/providers/<int:provider_id>/scores",
          methods=["GET", "POST"])
@access(Access.SIGNED_IN)
def provider_scores(trust_id: int, provider_id: int):
    trust = require(Action.VIEW, db.session.get(Trust, trust_id))
    provider = _provider(trust, provider_id)
    manage = can(current_user, Action.MANAGE, trust)
    latest = scorecards.latest_scorecards(trust.id).get(provider.id)
    if request.method == "POST":
        require(Action.MANAGE, trust)
        form = ScoresForm()
        if form.validate_on_submit():
            try:
                scorecards.record_scores(trust, provider, form.scores(),
                                         comment=form.comment.data, actor=current_user)
            except DomainError as error:
                fail(form, error)
            else:
                db.session.commit()
                flash(f"The scores for {provider.name} have been saved. They are the ones "
                      "that count now; earlier reviews are kept below.", "success")
                return redirect(url_for("tutoring.provider_scores", trust_id=trust.id,
                                        provider_id=provider.id))
    else:
        form = ScoresForm(formdata=None, data={k: str(v) for k, v in (
            latest.scores if latest else {}).items()})
    start, end = service_levels.term_so_far(clock.today())
    figures = service_levels.figures_for(trust.id, provider.id, start, end)
    weights = scorecards.weights(trust.id)
    history = scorecards.scorecard_history(trust.id, provider.id)
    return render_template(
        "tutoring/scorecard.html", trust=trust, provider=provider, form=form, manage=manage,
        latest=latest, history=history, weights=weights, criteria=scorecards.CRITERIA,
        score_labels=SCORE_LABELS, weighted=scorecards.weighted_score, figures=figures,
        period=(start, end), events=service_levels.EVENT_LABELS
    ), 400 if form.errors or form.form_errors else 200
