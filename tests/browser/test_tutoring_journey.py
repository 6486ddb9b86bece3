"""Tutoring in a real browser: the tutoring lead adds pupils and starts a group, the tutor
logs today's session on a 360 px phone, the central team reads the termly impact review. Every
page checked with axe-core; any console error, page error or failed request fails the test."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.tutoring.models import TutoringSession
from tests.browser.tabs import ARTIFACTS, DESKTOP, PHONE, Journal, Tab
from tests.browser.test_journeys import _sign_in, _sign_in_with_second_factor
from tests.factories import make_member, make_school, make_trust
from tests.tutoring_factory import make_cleared_tutor, make_programme

pytestmark = [pytest.mark.browser, pytest.mark.once]

TUTOR_PASSWORD = "tutor password 2026"


def _world():
    trust = make_trust("Riverside Learning Trust")
    school = make_school(trust, name="Riverside Primary")
    make_programme(trust, name="Number Sense", max_group_size=3, measure_scale="score")
    tutor = make_cleared_tutor(school, name="Tom Reyes", email="tom.reyes@riverside.example")
    lead = make_member(Role.TUTORING_LEAD, school=school, name="Lena Ortiz",
                       email="lena.ortiz@riverside.example")
    central = make_member(Role.CENTRAL_TEAM, trust=trust, name="Cara Bell",
                          email="cara.bell@riverside.example")
    db.session.commit()
    return school, tutor, lead, central


def _add_pupils_and_start_a_group(lead: Tab, tutor_name: str) -> None:
    page = lead.page
    lead.follow(page.get_by_role("link", name="Pupils"), "pupils")
    for name, reference in (("A.K.", "ADM2001"), ("J.M.", "ADM2002")):
        page.get_by_label("Name shown").fill(name)
        page.get_by_label("School's pupil reference").fill(reference)
        page.get_by_label("Year group").select_option("4")
        lead.follow(page.get_by_role("button", name="Add the pupil"))
    assert page.get_by_role("row").filter(has_text="ADM2002").count() == 1
    lead.follow(page.get_by_role("link", name="Tutoring at Riverside Primary"))
    lead.follow(page.get_by_role("link", name="Start a group"), "new-group")
    page.get_by_label("Group name").fill("Year 4 number")
    page.get_by_label("Programme").select_option(label="Number Sense (School-led small group, "
                                                       "up to 3)")
    page.get_by_label("Tutor", exact=True).select_option(label=tutor_name)
    page.get_by_label("Day").select_option(str(clock.today().weekday()))
    page.get_by_label("Time").fill("09:30")
    page.get_by_label("A.K. (Year 4)").check()
    page.get_by_label("J.M. (Year 4)").check()
    lead.follow(page.get_by_role("button", name="Start the group"), "group")
    assert page.get_by_role("row").filter(has_text="A.K.").count() == 1


def _log_todays_session(tutor: Tab) -> None:
    page = tutor.page
    tutor.follow(page.get_by_role("link", name="Log the session"), "session-log")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    page.get_by_label("Delivered", exact=True).check()
    page.get_by_label("Minutes delivered").fill("55")
    present, absent = (page.get_by_role("group", name=n) for n in ("A.K.", "J.M."))
    present.get_by_label("Present", exact=True).check()
    present.get_by_label("Engagement").select_option("4")
    absent.get_by_label("Absent", exact=True).check()
    absent.get_by_label("If absent, why?").select_option("ill")
    tutor.follow(page.get_by_role("button", name="Save the session"), "session-logged")
    assert "Logged" in page.locator("main").inner_text()


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=lambda d: d["name"])
def test_a_group_set_up_a_session_logged_and_the_impact_review_read(device, browser,
                                                                  live_server):
    school, tutor_user, lead_user, central_user = _world()
    journal = Journal(ARTIFACTS / f"tutoring-{device['name']}")
    tabs = {who: Tab(browser, live_server, device, journal, who)
            for who in ("lead", "tutor", "central")}
    lead, tutor, central = tabs.values()
    try:
        _sign_in(lead, lead_user.email)
        _add_pupils_and_start_a_group(lead, tutor_user.name)
        _sign_in(tutor, tutor_user.email, TUTOR_PASSWORD)
        _log_todays_session(tutor)
        db.session.rollback()  # a fresh read of what the server saved
        session = db.session.scalars(select(TutoringSession)).one()
        assert sorted(a.minutes for a in session.attendance) == [0, 55]

        _sign_in_with_second_factor(central, central_user.email)
        central.follow(central.page.get_by_role("link", name="Tutoring impact review"),
                       "impact-review")
        review = central.page.locator("main").inner_text()
        assert "Number Sense" in review and "A.K." not in review
        journal.assert_clean()
        journal.assert_accessible()
    finally:
        for tab in tabs.values():
            tab.close()
