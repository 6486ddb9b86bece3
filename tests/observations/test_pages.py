"""The pages: a phone-friendly form with no script, eight radio groups with their
descriptors, every error shown at once with nothing typed lost; the observation page with the
lessons behind each practice; the tutor's observations over time; the group page's links."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from courses.services import load_content
from lms.observations.models import Observation
from lms.observations.rubric import RUBRIC
from lms.platform import clock
from lms.platform.extensions import db
from tests.observations_factory import (
    TUTOR_PASSWORD,
    form_data,
    make_observed_school,
    observe,
    scores,
)
from tests.tutoring_factory import log_cancelled, log_delivered


def _main(page: str) -> str:
    return page.split("<main", 1)[-1].split("</main>")[0]


def _saved() -> int:
    return db.session.scalar(select(func.count(Observation.id)))


def _new(world) -> str:
    return f"/groups/{world.group.id}/observations/new"


def test_the_form_has_eight_radio_groups_with_descriptors_and_no_script(db_session, sign_in):
    world = make_observed_school()
    db.session.commit()
    page = sign_in(world.leader).get(_new(world)).get_data(as_text=True)
    main = _main(page)
    assert "<script" not in main
    assert main.count("<fieldset") == 8
    for criterion in RUBRIC.criteria:
        assert criterion.label in main
        for score in (1, 2, 3, 4):
            assert f'name="{criterion.key}_score" id="{criterion.key}_score-{score}" ' \
                   f'value="{score}"' in main
        assert criterion.descriptor(4) in main.replace("&#34;", '"').replace("&#39;", "'")
    assert "1 Not yet seen:" in main and "4 Strong:" in main
    assert f'value="{clock.today().isoformat()}"' in main
    assert 'name="csrf_token"' in main


def test_every_error_is_shown_at_once_and_nothing_typed_is_lost(db_session, sign_in):
    world = make_observed_school()
    db.session.commit()
    client = sign_in(world.leader)
    data = form_data(observed_on=clock.today() + timedelta(days=3), next_step="",
                     given=scores(checks_understanding=None, manages_time=None,
                                  specific_feedback=5))
    data["builds_independence_note"] = "Modelled the strategy, then stepped back."
    answer = client.post(_new(world), data=data)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    links = re.findall(r'<a href="#([a-z_]+)">', summary)
    assert links == ["observed_on", "checks_understanding_score", "specific_feedback_score",
                     "manages_time_score", "next_step"]
    assert page.startswith("<!") and "<title>Error: " in page
    assert "Modelled the strategy, then stepped back." in page
    assert 'id="keeps_every_pupil_engaged_score-3" value="3" checked' in page
    assert _saved() == 0


def test_a_mistyped_date_says_what_to_fix_once(db_session, sign_in):
    world = make_observed_school()
    db.session.commit()
    answer = sign_in(world.leader).post(_new(world), data=form_data() | {
        "observed_on": "31/02/2026"})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert page.count("must be a real date") == 2  # the summary and the field
    assert "Enter the date" not in page


def test_without_the_form_token_nothing_is_saved(db_session, sign_in):
    world = make_observed_school()
    db.session.commit()
    client = sign_in(world.leader)
    answer = client.post(_new(world), data=form_data(), csrf=False)
    assert answer.status_code == 400 and _saved() == 0


def test_a_complete_observation_is_saved_and_opens(db_session, sign_in):
    world = make_observed_school()
    db.session.commit()
    client = sign_in(world.lead)
    answer = client.post(_new(world), data=form_data(given=scores(4)))
    assert answer.status_code == 302
    observation = db.session.scalar(select(Observation))
    assert answer.headers["Location"].endswith(f"/observations/{observation.id}")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "4.0 out of 4" in page and "the first observation" in page


def test_from_a_session_the_form_starts_with_that_session_and_its_day(db_session, sign_in):
    world = make_observed_school()
    held = log_delivered(world.group, clock.today() - timedelta(days=7))
    log_cancelled(world.group, clock.today() - timedelta(days=14))
    db.session.commit()
    client = sign_in(world.leader)
    group_page = client.get(f"/groups/{world.group.id}").get_data(as_text=True)
    assert f"/groups/{world.group.id}/observations/new?session={held.id}" in group_page
    assert group_page.count("observations/new?session=") == 1  # not the cancelled one
    page = client.get(f"{_new(world)}?session={held.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{held.id}">|<option value="{held.id}" '
                     r'selected', page)
    assert f'value="{held.held_on.isoformat()}"' in page
    answer = client.post(_new(world), data=form_data(observed_on=held.held_on,
                                                     session_id=str(held.id)))
    assert answer.status_code == 302
    assert db.session.scalar(select(Observation.session_id)) == held.id


def test_the_group_page_links_to_recording_for_leaders(db_session, sign_in):
    world = make_observed_school()
    db.session.commit()
    leader_page = sign_in(world.leader).get(f"/groups/{world.group.id}").get_data(as_text=True)
    assert f'href="/groups/{world.group.id}/observations/new"' in leader_page
    assert f'href="/groups/{world.group.id}/observations"' in leader_page


def test_the_tutor_sees_their_group_links_to_their_own_observations(db_session, sign_in):
    world = make_observed_school()
    db.session.commit()
    page = sign_in(world.tutor, TUTOR_PASSWORD).get(f"/groups/{world.group.id}"
                                                    ).get_data(as_text=True)
    assert "/observations/new" not in page
    assert 'href="/observations"' in page


def test_the_tutor_reads_each_practice_with_its_lessons_and_the_change(db_session, sign_in):
    load_content()
    world = make_observed_school()
    observe(world.group, world.leader, observed_on=clock.today() - timedelta(days=21),
            given=scores(2, checks_understanding=1))
    latest = observe(world.group, world.lead, given=scores(3, checks_understanding=3),
                     notes={"checks_understanding": "Asked each pupil to explain why."},
                     next_step="Use mini whiteboards so every pupil answers.")
    db.session.commit()
    client = sign_in(world.tutor, TUTOR_PASSWORD)
    page = client.get(f"/observations/{latest.id}").get_data(as_text=True)
    assert "Asked each pupil to explain why." in page
    assert "Use mini whiteboards so every pupil answers." in page
    assert "up 2" in page and "up 1" in page  # checks understanding, and the others
    assert "Questioning that reveals thinking" in page
    assert re.search(r'href="/learn/\d+/lessons/\d+">Questioning that reveals thinking', page)
    mine = client.get("/observations").get_data(as_text=True)
    assert "Use mini whiteboards so every pupil answers." in mine
    assert mine.count(f'href="/observations/{latest.id}"') >= 2
    assert 'role="region"' in mine and 'tabindex="0"' in mine
    row = re.search(r"Checks understanding</th>(.*?)</tr>", mine, re.S).group(1)
    assert re.findall(r'class="num">(\d)</td>', row) == ["1", "3"] and "up 2" in row


def test_a_leader_reads_the_lessons_as_titles_not_the_tutors_links(db_session, sign_in):
    load_content()
    world = make_observed_school()
    observation = observe(world.group, world.leader)
    db.session.commit()
    page = sign_in(world.central).get(f"/observations/{observation.id}").get_data(as_text=True)
    assert "Questioning that reveals thinking" in page and "/learn/" not in page
