"""The training impact report's pages: who may read which, the grouping chosen on the page
(an unknown one refused), the warning, "too few to compare", the CSV, and statements that do
not grow with the data."""

import pytest

from lms.platform.roles import Role
from lms.research import impact
from tests.downloads import csv_rows
from tests.factories import make_member, make_school, make_trust
from tests.research_factory import make_trained_tutor, make_tutored_group
from tests.statements import statements_run


@pytest.fixture(autouse=True)
def _practice_and_library(monkeypatch):
    monkeypatch.setattr(impact, "observation_scores", lambda ids: {})
    monkeypatch.setattr(impact, "units_completed", lambda ids: {})


def _trust_with_tutors(count: int = 2):
    school = make_school()
    for n in range(count):
        tutor = make_trained_tutor(school, score=70 + n, weeks_ago=n)
        make_tutored_group(school, tutor, pupils=2, sessions=2)
    return school.trust


def _url(trust) -> str:
    return f"/trusts/{trust.id}/impact-report"


def test_the_central_team_reads_its_own_trusts_report_with_the_warning(db_session, sign_in):
    trust = _trust_with_tutors()
    client = sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    page = client.get(_url(trust) + "?grouping=score_band").get_data(as_text=True)
    assert "This is a comparison, not proof of cause" in page
    assert "95% t-interval over tutors" in page
    assert "70–79%" in page
    assert "too few to compare" in page  # two tutors
    assert 'role="region"' in page and 'tabindex="0"' in page


@pytest.mark.parametrize(("role", "status"), [
    (Role.CENTRAL_TEAM, 404),  # another trust's
    (Role.TRUSTEE, 404),
    (Role.SCHOOL_LEADER, 404),
])
def test_no_one_reads_another_trusts_report(db_session, sign_in, role, status):
    trust = _trust_with_tutors(1)
    other = make_trust()
    scope = {"school": make_school(trust)} if role == Role.SCHOOL_LEADER else {"trust": other}
    client = sign_in(make_member(role, **scope))
    assert client.get(_url(trust)).status_code == status


def test_trustees_read_their_trusts_report_a_school_leader_does_not(db_session, sign_in,
                                                                    client):
    trust = _trust_with_tutors(1)
    assert sign_in(make_member(Role.TRUSTEE, trust=trust)).get(_url(trust)).status_code == 200
    client.post("/sign-out")
    leader = make_member(Role.SCHOOL_LEADER, school=make_school(trust))
    assert sign_in(leader).get(_url(trust)).status_code == 404


def test_only_programme_admins_read_the_programme_report_and_any_trusts(db_session, sign_in,
                                                                        client):
    trust = _trust_with_tutors(1)
    central = sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    assert central.get("/programme/impact-report").status_code == 403
    assert central.get("/programme/impact-report.csv").status_code == 403
    client.post("/sign-out")
    admin = sign_in(make_member(Role.PROGRAMME_ADMIN))
    assert admin.get("/programme/impact-report").status_code == 200
    assert admin.get(_url(trust)).status_code == 200
    assert admin.get(_url(make_trust())).status_code == 200
    assert admin.get("/trusts/999999/impact-report").status_code == 404


def test_an_unknown_grouping_is_answered_with_400_and_a_clear_message(db_session, sign_in):
    trust = _trust_with_tutors(1)
    client = sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    response = client.get(_url(trust) + "?grouping=favourite_colour")
    assert response.status_code == 400
    assert "Choose a grouping from the list" in response.get_data(as_text=True)
    response = client.get(_url(trust) + ".csv?grouping=favourite_colour")
    assert response.status_code == 400
    assert "Choose a grouping from the list" in response.get_data(as_text=True)
    assert client.get(_url(trust) + "?scale=shoe_size").status_code == 400


def test_the_csv_holds_one_line_per_group_and_the_whole(db_session, sign_in):
    trust = _trust_with_tutors(2)
    client = sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    response = client.get(_url(trust) + ".csv?grouping=attempts")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = csv_rows(response)
    assert rows[0][:2] == ["Attempts needed to pass", "Tutors"]
    by_group = {row[0]: row for row in rows[1:]}
    assert by_group["First attempt"][1] == "2" and by_group["All tutors"][1] == "2"


def test_the_page_runs_as_many_statements_for_a_bigger_trust(db_session, sign_in):
    small, big = _trust_with_tutors(1), _trust_with_tutors(5)
    client = sign_in(make_member(Role.PROGRAMME_ADMIN))
    counts = []
    for trust in (small, big):
        client.get(_url(trust))
        with statements_run() as run:
            assert client.get(_url(trust) + "?grouping=weeks").status_code == 200
        counts.append(len(run))
    assert counts[0] == counts[1]
