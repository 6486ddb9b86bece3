"""Item analysis figures, checked against a small example worked by hand."""

import math

import pytest

from assessments.attempts.analysis import Response, item_statistics, paper_difficulty
from lms.platform.roles import Role
from tests.factories import make_member


def _responses():
    # Item 1 over four attempts: right, right, wrong, wrong; attempt scores 9, 7, 4, 2.
    # Item 2 is right every time.
    item1 = [Response(1, 1, True, (0,), 9), Response(2, 1, True, (0,), 7),
             Response(3, 1, False, (1,), 4), Response(4, 1, False, (2,), 2)]
    item2 = [Response(a, 2, True, (3,), s) for a, s in ((1, 9), (2, 7), (3, 4), (4, 2))]
    return item1 + item2


def test_facility_discrimination_and_distractors_match_the_hand_worked_example():
    stats = item_statistics(_responses(), {1: 4, 2: 4}, min_responses=4)
    first = stats[1]
    assert first.facility == 0.5
    # x = [1, 1, 0, 0]; rest of paper y = [8, 6, 4, 2]: r = 4 / sqrt(1 * 20)
    assert first.discrimination == pytest.approx(4 / math.sqrt(20))
    assert first.option_rates == [0.5, 0.25, 0.25, 0.0]
    assert first.flags == []


def test_items_outside_sensible_bounds_are_flagged_once_they_have_enough_responses():
    easy = item_statistics(_responses(), {1: 4, 2: 4}, min_responses=4)[2]
    assert easy.facility == 1.0 and easy.discrimination is None
    assert easy.flags == ["very easy", "weak discrimination"]
    assert item_statistics(_responses(), {1: 4, 2: 4}, min_responses=30)[2].flags == []


def test_paper_difficulty_per_pathway():
    responses = _responses()
    stats = item_statistics(responses, {1: 4, 2: 4}, min_responses=4)
    (primary,) = paper_difficulty(responses, stats, {1: "primary", 2: "primary", 3: "primary",
                                                     4: "primary"})
    assert primary.papers == 4 and primary.mean_facility == pytest.approx(0.75)
    assert primary.spread == 0.0


def test_only_programme_admins_see_the_report(db_session, sign_in, client):
    leader = make_member(Role.CENTRAL_TEAM)
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    sign_in(leader)
    assert client.get("/admin/item-analysis").status_code == 403
    client.post("/sign-out")
    sign_in(admin)
    page = client.get("/admin/item-analysis")
    assert page.status_code == 200 and "Item analysis" in page.get_data(as_text=True)
