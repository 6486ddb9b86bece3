"""After training, in a real browser: a tutor on a 320 px phone finishes a module's last lesson
and rates the module with a few taps (and skips the rating of the next one), the school's
tutoring lead records an observation of the tutor's group session against the eight practices,
the tutor reads it with the lessons behind each practice, and a programme admin reads the
content report (the module's rating) and the training impact report (its t-intervals and its
warning), the lead and the admin on 360 px phones. Every page checked with axe-core, and for
sideways scrolling; any console error, page error or failed request fails the test."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from courses.services import course_progress
from lms.feedback.models import ModuleRating, SkippedRating
from lms.observations.models import Observation
from lms.observations.rubric import RUBRIC
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.programme.models import Enrolment, EnrolmentStatus, Pathway
from tests.browser.tabs import ARTIFACTS, PHONE, Journal, Tab
from tests.browser.test_journeys import _banner, _read, _sign_in, _sign_in_with_second_factor
from tests.factories import make_enrolment, make_member, make_school, make_trust, read_lesson
from tests.tutoring_factory import log_delivered, make_cleared_tutor, make_group, make_programme

pytestmark = [pytest.mark.browser, pytest.mark.once]

TUTOR_PASSWORD = "tutor password 2026"
TUTOR_EMAIL = "tom.reyes@riverside.example"
#: The narrowest phone a page must fit without scrolling sideways.
NARROW_PHONE = {"name": "phone-320", "viewport": {"width": 320, "height": 640},
                "is_mobile": True, "has_touch": True}
COMMENT = "The worked examples made it clear; more on older pupils, please."
NEXT_STEP = "Ask each pupil to say what they already know before you explain."


def _world() -> SimpleNamespace:
    """A tutor endorsed for primary tutoring and tutoring a group at Riverside Primary, now
    taking the secondary course: every lesson of its first module done but the last."""
    from courses.services import load_content

    load_content()
    trust = make_trust("Riverside Learning Trust")
    school = make_school(trust, name="Riverside Primary")
    programme = make_programme(trust, name="Number Sense", max_group_size=3)
    tutor = make_cleared_tutor(school, name="Tom Reyes", email=TUTOR_EMAIL)
    group = make_group(school, programme=programme, tutor=tutor, name="Year 5 number")
    session = log_delivered(group, clock.today() - timedelta(days=1), minutes=50)
    studying = make_enrolment(school, name="Tom Reyes", email=TUTOR_EMAIL,
                              tutoring_phase="secondary")
    assert studying.user_id == tutor.id and studying.pathway == Pathway.SECONDARY
    modules = course_progress(studying).modules
    for lesson in modules[0].module.lessons[:-1]:
        read_lesson(studying, lesson)
    world = SimpleNamespace(
        trust=trust, school=school, tutor=tutor, group=group, session=session,
        studying=studying, modules=[m.module for m in modules[:3]],
        lead=make_member(Role.TUTORING_LEAD, school=school, name="Lena Ortiz",
                         email="lena.ortiz@riverside.example"),
        admin=make_member(Role.PROGRAMME_ADMIN, name="Priya Shah",
                          email="priya.shah@programme.example"))
    db.session.commit()
    return world


def _fits(tab: Tab) -> None:
    """Nothing on the page makes it scroll sideways."""
    page = tab.page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


def _tap_and_go(tab: Tab, locator, step: str | None = None) -> None:
    """Tap a button that leads to another page, and check the page."""
    with tab.page.expect_navigation(wait_until="load"):
        locator.tap()
    tab.arrive(step)
    _fits(tab)


def _finish_the_module(tutor: Tab, module) -> None:
    """Open the module's last lesson from the course page, stay with it, mark it complete:
    the next module's first lesson opens with the finished module's rating prompt."""
    page = tutor.page
    tutor.follow(page.get_by_role("link", name="Continue where you left off"), "last-lesson")
    _fits(tutor)
    assert page.get_by_role("heading", level=1).inner_text() == module.lessons[-1].title
    clock.travel(timedelta(minutes=30))  # reading and doing the activities
    _tap_and_go(tutor, page.get_by_role("button", name="Mark as complete and continue"),
                "next-module")
    _banner(tutor, f"“{module.lessons[-1].title}” is complete.")


def _prompt(tutor: Tab, module):
    return tutor.page.get_by_role("region", name=f"How was “{module.title}”?")


def _rate_and_skip(tutor: Tab, world) -> None:
    page = tutor.page
    first, second, third = world.modules
    _sign_in(tutor, world.tutor.email, TUTOR_PASSWORD, step="signed-in")
    tutor.go(f"/learn/{world.studying.id}", "course")
    _fits(tutor)
    _finish_the_module(tutor, first)
    assert page.get_by_role("heading", level=1).inner_text() == second.lessons[0].title
    prompt = _prompt(tutor, first)
    assert prompt.count() == 1
    prompt.get_by_role("group", name="Clear", exact=True).get_by_label("4").tap()
    prompt.get_by_role("group", name="Useful for my tutoring").get_by_label("5").tap()
    prompt.get_by_text("Add a comment").tap()
    prompt.get_by_label("Anything to tell the course writers?").fill(COMMENT)
    _tap_and_go(tutor, prompt.get_by_role("button", name="Send rating"), "rated")
    _banner(tutor, "Thank you: your rating goes to the people who write the course.")
    assert page.get_by_role("heading", level=1).inner_text() == second.lessons[0].title
    assert _prompt(tutor, first).count() == 0

    db.session.rollback()  # a fresh read of what the server saved
    for lesson in second.lessons[:-1]:  # the tutor reads on, on another day
        read_lesson(world.studying, lesson)
    db.session.commit()
    tutor.go(f"/learn/{world.studying.id}", "course-later")
    _fits(tutor)
    _finish_the_module(tutor, second)
    assert page.get_by_role("heading", level=1).inner_text() == third.lessons[0].title
    _tap_and_go(tutor, _prompt(tutor, second).get_by_role("button", name="Skip"), "skipped")
    assert page.get_by_role("heading", level=1).inner_text() == third.lessons[0].title
    assert _prompt(tutor, second).count() == 0

    ratings = _read(lambda: [(r.module, r.clear, r.useful, r.comment) for r in db.session.scalars(
        select(ModuleRating).where(ModuleRating.enrolment_id == world.studying.id))])
    assert ratings == [(first.slug, 4, 5, COMMENT)]
    skipped = _read(lambda: list(db.session.scalars(select(SkippedRating.module).where(
        SkippedRating.enrolment_id == world.studying.id))))
    assert skipped == [second.slug]


def _observe(lead: Tab, world) -> None:
    page = lead.page
    _sign_in(lead, world.lead.email, step="signed-in")
    lead.go(f"/groups/{world.group.id}", "group")
    _fits(lead)
    lead.follow(page.get_by_role("link", name=re.compile(
        rf"^Observe the session on {world.session.held_on:%-d %B}")), "observation-form")
    _fits(lead)
    assert page.get_by_label("Session observed").locator("option:checked").inner_text() == \
        f"{world.session.held_on:%a %-d %b %Y}"
    assert len(RUBRIC.criteria) == 8
    for n, criterion in enumerate(RUBRIC.criteria):
        score = 2 if n == 0 else 3
        page.get_by_role("group", name=criterion.label, exact=True).get_by_label(
            re.compile(rf"^{score} ")).check()
    page.get_by_label(f"Note on “{RUBRIC.criteria[0].label}” (optional)").fill(
        "Went straight into the worksheet.")
    page.get_by_label("One next step for the tutor").fill(NEXT_STEP)
    lead.follow(page.get_by_role("button", name="Save the observation"), "observation")
    _fits(lead)
    _banner(lead, f"Your observation of {world.tutor.name} has been saved.")
    saved = _read(lambda: db.session.scalars(select(Observation)).one())
    assert saved.tutor_id == world.tutor.id and saved.session_id == world.session.id


def _read_the_observation(tutor: Tab, world) -> None:
    page = tutor.page
    tutor.go("/observations", "observations")
    _fits(tutor)
    main = page.locator("main")
    assert NEXT_STEP in main.inner_text()
    table = page.get_by_role("table", name="Your scores at each observation, oldest first")
    first = table.get_by_role("row").filter(has_text=RUBRIC.criteria[0].label)
    assert first.get_by_role("cell").all_inner_texts() == ["2"]
    tutor.follow(page.get_by_role("link", name="Read it in full"), "observation")
    _fits(tutor)
    passed = _read(lambda: db.session.scalar(select(Enrolment.id).where(
        Enrolment.user_id == world.tutor.id, Enrolment.status == EnrolmentStatus.PASSED)))
    links = main.locator(f"a[href^='/learn/{passed}/lessons/']")
    assert links.count() >= len(RUBRIC.criteria)
    title = links.first.inner_text()
    tutor.follow(links.first, "lesson-behind-a-practice")
    _fits(tutor)
    assert page.get_by_role("heading", level=1).inner_text() == title


def _read_the_reports(admin: Tab, world) -> None:
    page = admin.page
    first = world.modules[0]
    _sign_in_with_second_factor(admin, world.admin.email)
    admin.go("/programme/content-report", "content-report")
    _fits(admin)
    modules = page.get_by_role("table", name=re.compile(r"^Modules of the secondary course", re.I))
    row = modules.get_by_role("row").filter(has_text=first.title)
    cells = row.get_by_role("cell").all_inner_texts()
    assert cells[:3] == ["4.0", "5.0", "1"], cells
    assert COMMENT in row.inner_text()

    admin.go("/programme/impact-report", "impact-report")
    _fits(admin)
    warning = page.get_by_role("note")
    assert warning.get_by_role("heading").inner_text() == \
        "This is a comparison, not proof of cause"
    text = page.locator("main").inner_text()
    assert "95% t-interval over tutors" in text
    assert world.tutor.name not in text


def test_a_module_rated_a_session_observed_and_the_reports_read(browser, live_server):
    world = _world()
    journal = Journal(ARTIFACTS / "after-training")
    tutor = Tab(browser, live_server, NARROW_PHONE, journal, "tutor")
    lead = Tab(browser, live_server, PHONE, journal, "lead")
    admin = Tab(browser, live_server, PHONE, journal, "admin")
    try:
        _rate_and_skip(tutor, world)
        _observe(lead, world)
        _read_the_observation(tutor, world)
        _read_the_reports(admin, world)
        journal.assert_clean()
        journal.assert_accessible()
    finally:
        for tab in (tutor, lead, admin):
            tab.close()
