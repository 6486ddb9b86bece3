"""The procurement scorecard: weights the trust sets (adding up to 100), reviews scored 1 to
5 on every criterion (the latest counts, the rest kept), providers ranked by weighted score
beside their measured figures; the central team changes it, trustees only read it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.platform import clock
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from lms.tutoring import scorecards
from lms.tutoring.models import ProviderScorecard, TutoringPolicy
from lms.tutoring.scorecards import (
    CRITERION_KEYS,
    DEFAULT_WEIGHTS,
    latest_scorecards,
    ranking,
    record_scores,
    scorecard_history,
    set_weights,
    weighted_score,
    weights,
)
from tests.factories import make_member, make_provider, make_school, make_trust
from tests.tutoring_factory import log_delivered, make_group, make_programme


def _all(score: int) -> dict[str, int]:
    return {key: score for key in CRITERION_KEYS}


def _weights(**overrides) -> dict[str, int]:
    return {**DEFAULT_WEIGHTS, **overrides}


def _contracted(trust, name=None):
    provider = make_provider(name)
    make_programme(trust, delivery_model="provider", provider_id=provider.id)
    return provider


def _period():
    return clock.today() - timedelta(days=30), clock.today()


def _form(values: dict, prefix: str = "") -> dict[str, str]:
    return {f"{prefix}{k}": str(v) for k, v in values.items()}


# --- weights ----------------------------------------------------------------------------------


def test_the_default_weights_cover_every_criterion_and_add_up_to_100(db_session):
    assert set(DEFAULT_WEIGHTS) == set(CRITERION_KEYS) == {
        "safeguarding", "curriculum_fit", "impact", "scalability", "reporting", "cost"}
    assert sum(DEFAULT_WEIGHTS.values()) == 100
    assert max(DEFAULT_WEIGHTS.values()) - min(DEFAULT_WEIGHTS.values()) <= 1
    assert weights(make_trust().id) == DEFAULT_WEIGHTS


def test_weights_must_add_up_to_100(db_session):
    trust = make_trust()
    with pytest.raises(DomainError, match="must add up to 100%; these add up to 101%"):
        set_weights(trust, _weights(safeguarding=18))
    with pytest.raises(DomainError, match="whole number from 0 to 100"):
        set_weights(trust, _weights(safeguarding=-1, cost=33))
    with pytest.raises(DomainError, match="Enter the weight for cost"):
        set_weights(trust, {k: v for k, v in DEFAULT_WEIGHTS.items() if k != "cost"})
    assert weights(trust.id) == DEFAULT_WEIGHTS


def test_the_trusts_weights_are_stored_on_its_policy_and_audited(db_session):
    trust = make_trust()
    chosen = {"safeguarding": 40, "curriculum_fit": 20, "impact": 20, "scalability": 5,
              "reporting": 5, "cost": 10}
    set_weights(trust, chosen)
    policy = db_session.scalars(select(TutoringPolicy)
                                .where(TutoringPolicy.trust_id == trust.id)).one()
    assert policy.scorecard_weights == chosen and weights(trust.id) == chosen
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "tutoring.scorecard_weights_set")).one()
    assert entry.trust_id == trust.id and entry.changes["safeguarding"] == [17, 40]


# --- scores -----------------------------------------------------------------------------------


def test_scores_are_whole_numbers_from_1_to_5_for_every_criterion(db_session):
    trust = make_trust()
    provider = _contracted(trust)
    for bad, message in (({**_all(3), "cost": 6}, "cost must be a whole number from 1 to 5"),
                         ({**_all(3), "impact": 0}, "from 1 to 5"),
                         ({**_all(3), "reporting": 2.5}, "from 1 to 5"),
                         ({k: 3 for k in CRITERION_KEYS if k != "scalability"},
                          "Score scalability from 1 to 5")):
        with pytest.raises(DomainError, match=message):
            record_scores(trust, provider, bad)
    assert db_session.scalars(select(ProviderScorecard)).all() == []


def test_the_latest_review_counts_and_earlier_ones_are_kept(db_session):
    trust = make_trust()
    provider = _contracted(trust)
    first = record_scores(trust, provider, _all(2), comment="First look")
    second = record_scores(trust, provider, _all(4), comment="After references")
    assert latest_scorecards(trust.id)[provider.id] == second
    assert scorecard_history(trust.id, provider.id) == [second, first]
    entries = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "tutoring.provider_scored").order_by(AuditEntry.id)).all()
    assert [e.trust_id for e in entries] == [trust.id, trust.id]
    assert entries[1].changes["cost"] == [2, 4]


def test_a_weighted_score_is_the_weighted_mean_of_the_scores():
    scores = {"safeguarding": 5, "curriculum_fit": 1, "impact": 1, "scalability": 1,
              "reporting": 1, "cost": 1}
    assert weighted_score(scores, _weights()) == pytest.approx(1 + 4 * 0.17)
    heavy = {"safeguarding": 100, "curriculum_fit": 0, "impact": 0, "scalability": 0,
             "reporting": 0, "cost": 0}
    assert weighted_score(scores, heavy) == pytest.approx(5)
    assert weighted_score({"safeguarding": 5}, heavy) is None


# --- ranking ----------------------------------------------------------------------------------


def test_providers_are_ranked_by_weighted_score_and_the_weights_reorder_them(db_session):
    trust = make_trust()
    safe, cheap, unscored = (_contracted(trust, n) for n in ("Safe Hands", "Cheap Hours",
                                                             "Not Yet Seen"))
    record_scores(trust, safe, {**_all(2), "safeguarding": 5})
    record_scores(trust, cheap, {**_all(2), "cost": 5, "reporting": 4})
    order = [(r.rank, r.provider.name) for r in ranking(trust.id, *_period())]
    assert order == [(1, "Cheap Hours"), (2, "Safe Hands"), (None, "Not Yet Seen")]
    set_weights(trust, {"safeguarding": 50, "curriculum_fit": 10, "impact": 10,
                        "scalability": 10, "reporting": 10, "cost": 10})
    order = [(r.rank, r.provider.name) for r in ranking(trust.id, *_period())]
    assert order == [(1, "Safe Hands"), (2, "Cheap Hours"), (None, "Not Yet Seen")]
    assert unscored


def test_equal_scores_share_a_rank(db_session):
    trust = make_trust()
    for name in ("Beta", "Alpha", "Gamma"):
        record_scores(trust, _contracted(trust, name), _all(5 if name == "Gamma" else 3))
    order = [(r.rank, r.provider.name) for r in ranking(trust.id, *_period())]
    assert order == [(1, "Gamma"), (2, "Alpha"), (2, "Beta")]


def test_the_ranking_shows_the_measured_figures_beside_the_scores(db_session):
    school = make_school()
    provider = make_provider()
    programme = make_programme(school.trust, delivery_model="provider",
                               provider_id=provider.id)
    group = make_group(school, programme=programme, provider=provider)
    log_delivered(group)
    record_scores(school.trust, provider, _all(4))
    (row,) = ranking(school.trust_id, *_period())
    assert row.score == pytest.approx(4) and row.figures.delivered == 1


def test_each_trust_scores_on_its_own(db_session):
    trust, other = make_trust(), make_trust()
    provider = _contracted(trust)
    record_scores(other, provider, _all(1))
    record_scores(trust, provider, _all(5))
    assert latest_scorecards(trust.id)[provider.id].scores == _all(5)
    assert latest_scorecards(other.id)[provider.id].scores == _all(1)


# --- the pages --------------------------------------------------------------------------------


def _central(trust):
    return make_member(Role.CENTRAL_TEAM, trust=trust)


def test_the_central_team_sets_the_weights(db_session, client, sign_in):
    trust = make_trust()
    central = _central(trust)
    db_session.commit()
    sign_in(central)
    chosen = _weights(safeguarding=27, cost=6)
    response = client.post(f"/trusts/{trust.id}/tutoring/providers/weights", data=_form(chosen))
    assert response.status_code == 302
    assert weights(trust.id) == chosen


def test_every_weight_problem_shows_at_once_and_what_was_typed_stays(db_session, client,
                                                                      sign_in):
    trust = make_trust()
    central = _central(trust)
    db_session.commit()
    sign_in(central)
    typed = {**_form(DEFAULT_WEIGHTS), "safeguarding": "lots", "impact": "", "cost": "150"}
    response = client.post(f"/trusts/{trust.id}/tutoring/providers/weights", data=typed)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Safeguarding (%) must be a whole number",
                    "Enter the weight for evidence of impact",
                    "The weight for cost must be a whole number from 0 to 100"):
        assert message in body
    assert 'value="lots"' in body and 'value="150"' in body
    response = client.post(f"/trusts/{trust.id}/tutoring/providers/weights",
                           data=_form(_weights(safeguarding=30)))
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "these add up to 113%" in body
    assert 'value="30"' in body
    assert weights(trust.id) == DEFAULT_WEIGHTS


def test_a_reviewer_scores_a_provider_and_every_missing_score_is_named(db_session, client,
                                                                        sign_in):
    trust = make_trust()
    provider = _contracted(trust, "Bright Tutors")
    central = _central(trust)
    db_session.commit()
    sign_in(central)
    url = f"/trusts/{trust.id}/tutoring/providers/{provider.id}/scores"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"safeguarding": "4", "cost": "9",
                                      "comment": "Keep this comment"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Score curriculum fit from 1 to 5", "Score evidence of impact from 1 to 5",
                    "Score scalability from 1 to 5", "Score reporting from 1 to 5",
                    "Score cost from 1 to 5"):
        assert message in body
    assert "Keep this comment" in body and 'value="4" checked' in body
    response = client.post(url, data={**_form(_all(4)), "comment": "References checked"})
    assert response.status_code == 302
    card = latest_scorecards(trust.id)[provider.id]
    assert card.scores == _all(4) and card.comment == "References checked"
    assert card.reviewed_by_id == central.id
    page = client.get(f"/trusts/{trust.id}/tutoring/providers").get_data(as_text=True)
    assert "Bright Tutors" in page and "4.00" in page


def test_trustees_may_view_the_scorecard_but_not_change_it(db_session, client, sign_in):
    trust = make_trust()
    provider = _contracted(trust)
    record_scores(trust, provider, _all(3))
    trustee = make_member(Role.TRUSTEE, trust=trust)
    db_session.commit()
    sign_in(trustee)
    url = f"/trusts/{trust.id}/tutoring/providers/{provider.id}/scores"
    page = client.get(url)
    assert page.status_code == 200 and "Save the scores" not in page.get_data(as_text=True)
    assert client.post(url, data=_form(_all(5))).status_code == 403
    assert client.post(f"/trusts/{trust.id}/tutoring/providers/weights",
                       data=_form(_weights(safeguarding=27, cost=6))).status_code == 403
    assert latest_scorecards(trust.id)[provider.id].scores == _all(3)
    assert weights(trust.id) == DEFAULT_WEIGHTS


def test_another_trusts_people_get_404_and_change_nothing(db_session, client, sign_in):
    trust = make_trust()
    provider = _contracted(trust)
    outsider = _central(make_trust())
    db_session.commit()
    sign_in(outsider)
    base = f"/trusts/{trust.id}/tutoring/providers"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/{provider.id}/scores").status_code == 404
    assert client.post(f"{base}/{provider.id}/scores", data=_form(_all(5))).status_code == 404
    assert client.post(f"{base}/weights", data=_form(_weights(safeguarding=27, cost=6))
                       ).status_code == 404
    assert latest_scorecards(trust.id) == {} and weights(trust.id) == DEFAULT_WEIGHTS


def test_a_provider_the_trust_does_not_work_with_has_no_scorecard_page(db_session, client,
                                                                        sign_in):
    trust = make_trust()
    stranger = make_provider()
    central = _central(trust)
    db_session.commit()
    sign_in(central)
    url = f"/trusts/{trust.id}/tutoring/providers/{stranger.id}/scores"
    assert client.get(url).status_code == 404
    assert client.post(url, data=_form(_all(5))).status_code == 404
    assert client.get(f"/trusts/{trust.id}/tutoring/providers/999999/scores").status_code == 404


def test_the_forms_carry_a_csrf_token(db_session, client, sign_in):
    trust = make_trust()
    provider = _contracted(trust)
    central = _central(trust)
    db_session.commit()
    sign_in(central)
    url = f"/trusts/{trust.id}/tutoring/providers/{provider.id}/scores"
    assert 'name="csrf_token"' in client.get(url).get_data(as_text=True)
    response = client.post(url, data=_form(_all(5)), csrf=False)
    assert response.status_code == 400
    assert latest_scorecards(trust.id) == {}
    assert scorecards.CRITERIA


def test_the_programme_admin_sees_any_trusts_providers(db_session, client, sign_in):
    from credentials.register.access import grant_provider_access

    trust = make_trust()
    provider = make_provider()
    grant_provider_access(trust, provider, None)  # a provider the trust works with
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    sign_in(admin)
    assert client.get(f"/trusts/{trust.id}/tutoring/providers").status_code == 200
    assert client.get(f"/trusts/{trust.id}/tutoring/providers/{provider.id}/scores"
                      ).status_code == 200
