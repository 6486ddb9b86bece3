"""A safeguarding concern in a real browser, on a 320 px phone: a tutor raises it from a
session with page scripts turned off (a draft kept, the 999 instruction before anything else,
then the receipt), the school's DSL acknowledges it and adds to its chronology, and the trust
safeguarding lead reads the school's time to acknowledge with its small counts hidden. Every
page checked with axe-core and for sideways scrolling; any console error, page error or failed
request fails the test."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.platform import clock
from lms.platform.extensions import db
from lms.safeguarding import figures
from lms.safeguarding.models import Concern
from tests.browser.tabs import ARTIFACTS, Journal, Tab
from tests.browser.test_journeys import _banner, _home, _read, _sign_in, _sign_in_with_second_factor
from tests.factories import make_trust
from tests.safeguarding_factory import make_safeguarding_school

pytestmark = [pytest.mark.browser, pytest.mark.once]

TUTOR_PASSWORD = "tutor password 2026"
#: The narrowest phone a page must fit without scrolling sideways.
NARROW_PHONE = {"name": "phone-320", "viewport": {"width": 320, "height": 640},
                "is_mobile": True, "has_touch": True}
ACCOUNT = ("At the end of the session the pupil said an older cousin locks them in the shed "
           "when they are left at home. They said: \"I'm not allowed to tell anyone.\"")
NOTE = "Spoke to the pupil's class teacher; the family support worker is aware."
#: How long the DSL takes to get to the concern.
WAIT = timedelta(minutes=12)


class _WithoutScripts:
    """The browser, but every context it opens runs no page script."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **options):
        return self._browser.new_context(java_script_enabled=False, **options)


class _ScriptlessTab(Tab):
    """A tab whose pages run no script. axe-core cannot run there (its checks wait on
    timers, which never fire), so each page the tab lands on is checked in a second tab at
    the same viewport, given the very document this one shows, at the same address and with
    the headers it came with (its content security policy too): the stylesheet comes from the
    app as usual."""

    def __init__(self, browser, base_url: str, device: dict, journal: Journal, who: str):
        super().__init__(_WithoutScripts(browser), base_url, device, journal, who)
        self._headers: dict[str, str] = {}
        self.page.on("response", self._on_document)
        self._checker = browser.new_context(
            base_url=base_url, viewport=device["viewport"], is_mobile=device["is_mobile"],
            has_touch=device["has_touch"], locale="en-GB", timezone_id="Europe/London")
        self._checker.set_default_timeout(20_000)
        self._checker_page = self._checker.new_page()

    def _on_document(self, response) -> None:
        if response.request.is_navigation_request() and response.frame == self.page.main_frame:
            self._headers = {name: value for name, value in response.headers.items()
                             if name not in ("content-length", "content-encoding", "set-cookie")}

    def audit(self) -> None:
        url, html, headers = self.page.url, self.page.content(), self._headers
        checker = self._checker_page

        def same(address: str) -> bool:
            return address == url

        checker.route(same, lambda route: route.fulfill(status=200, headers=headers, body=html))
        try:
            checker.goto(url, wait_until="load")
        finally:
            checker.unroute(same)
        shown, self.page = self.page, checker
        try:
            super().audit()
        finally:
            self.page = shown

    def close(self) -> None:
        self._checker.close()
        super().close()


def _world():
    trust = make_trust("Riverside Learning Trust")
    world = make_safeguarding_school(trust=trust)
    db.session.commit()
    world.pupil = world.group.places[0].pupil.display_name
    return world


def _fits(tab: Tab) -> None:
    """Nothing on the page makes it scroll sideways."""
    page = tab.page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


def _concerns() -> int:
    return _read(lambda: db.session.scalar(select(func.count(Concern.id))))


def _raise_from_the_session(tutor: Tab, world) -> str:
    """Start a concern from today's session, keep it as a draft, come back to it from the
    footer, send it as an emergency. The concern's reference."""
    page = tutor.page
    main = page.locator("main")
    account = page.get_by_label("What did you see or hear?")
    _sign_in(tutor, world.tutor.email, TUTOR_PASSWORD, step="signed-in")
    tutor.follow(page.get_by_role("link", name=f"Log the session of {clock.today():%-d %B}"),
                 "session-log")
    tutor.follow(page.get_by_role("link", name="Raise a safeguarding concern from this session"),
                 "concern-form")
    _fits(tutor)
    assert page.get_by_role("heading", level=1).inner_text() == "Raise a safeguarding concern"
    assert "Raised from a session" in main.inner_text()
    account.fill(ACCOUNT)
    page.get_by_label("When did it happen?").fill("Today, at the end of the session")
    page.get_by_label("Which pupil?").select_option(label=world.pupil)
    tutor.follow(page.get_by_role("button", name="Save as a draft"), "draft-saved")
    _banner(tutor, "Your draft is saved. Only you can see it; nobody has been told yet.")
    assert _concerns() == 0

    tutor.reload("draft-reloaded")
    assert account.input_value() == ACCOUNT
    assert "Draft saved" in main.inner_text()
    _home(tutor)
    tutor.follow(page.get_by_role("contentinfo").get_by_role(
        "link", name="Raise a safeguarding concern"), "concern-form-from-footer")
    assert account.input_value() == ACCOUNT
    assert page.get_by_label("Which pupil?").locator("option:checked").inner_text() == \
        world.pupil
    assert "Raised from a session" in main.inner_text()
    _fits(tutor)

    page.get_by_label("A child is in immediate danger now").check()
    tutor.follow(page.get_by_role("button", name="Send the concern"), "call-999")
    _fits(tutor)
    alert = page.get_by_role("alert").filter(has_text="call 999 now")
    assert alert.count() == 1
    assert page.locator("main > *").first.get_attribute("id") == "danger"  # before all else
    top = alert.bounding_box()["y"]
    assert 0 <= top < page.viewport_size["height"], "the 999 instruction is off the screen"
    assert _concerns() == 0  # not sent until they say so, and kept as a draft meanwhile
    assert account.input_value() == ACCOUNT
    assert page.get_by_label("A child is in immediate danger now").is_checked()

    tutor.follow(page.get_by_role("button", name="Send to the DSL now"), "receipt")
    _fits(tutor)
    receipt = page.get_by_role("status").filter(has_text="Your concern has been sent")
    assert receipt.count() == 1
    text = receipt.inner_text()
    assert "The school's designated safeguarding lead and deputies were told at once." in text
    reference = re.search(r"Reference: (SG-\d{4}-\d{5})", text).group(1)
    assert _concerns() == 1
    return reference


def _acknowledge_and_note(dsl: Tab, world, reference: str) -> None:
    page = dsl.page
    _sign_in_with_second_factor(dsl, world.dsl.email)
    dsl.follow(page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Safeguarding concerns", exact=True), "concerns")
    _fits(dsl)
    row = page.get_by_role("row").filter(has_text=reference)
    assert row.count() == 1
    assert "Immediate danger" in row.inner_text() and "Not acknowledged" in row.inner_text()
    dsl.follow(row.get_by_role("link", name=reference), "concern")
    _fits(dsl)
    main = page.locator("main")
    assert page.get_by_role("heading", level=1).inner_text() == f"Concern {reference}"
    assert "The reporter said a child was in immediate danger." in main.inner_text()
    assert page.locator(".account").inner_text() == ACCOUNT
    summary = main.locator(".summary").all_inner_texts()
    assert any(world.pupil in s for s in summary)
    assert any(world.group.name in s and world.tutor.name in s for s in summary)

    dsl.follow(page.get_by_role("button", name="Acknowledge: I have this concern"),
               "acknowledged")
    _fits(dsl)
    _banner(dsl, "Acknowledged.")
    assert page.get_by_role("button", name="Acknowledge: I have this concern").count() == 0
    page.get_by_label("What are you recording?").select_option("note")
    page.get_by_label("Details").fill(NOTE)
    dsl.follow(page.get_by_role("button", name="Add", exact=True), "note-added")
    _fits(dsl)
    _banner(dsl, "Added to the chronology.")
    chronology = page.locator(".chronology > li").all_inner_texts()
    assert any("Acknowledged" in e and world.dsl.name in e for e in chronology)
    assert NOTE in chronology[-1] and world.dsl.name in chronology[-1], chronology


def _read_the_figures(lead: Tab, world) -> None:
    page = lead.page
    _sign_in_with_second_factor(lead, world.trust_lead.email)
    lead.follow(page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Safeguarding", exact=True), "trust-safeguarding")
    _fits(lead)
    assert page.url.endswith(f"/trusts/{world.trust.id}/safeguarding")
    raised, acknowledged = _read(lambda: db.session.execute(select(
        Concern.raised_at, Concern.acknowledged_at)).one())
    minutes = figures.minutes((acknowledged - raised).total_seconds() / 60)
    assert minutes.endswith(" min") and int(minutes.split()[0]) >= WAIT / timedelta(minutes=1)
    table = page.get_by_role("table", name="Safeguarding concerns by school")
    for name in (world.school.name, "All schools"):
        cells = table.get_by_role("row").filter(has_text=name).get_by_role("cell")
        assert cells.all_inner_texts()[:5] == [
            "fewer than 5", "none", minutes, minutes, "none"], name
    text = page.locator("main").inner_text()
    assert ACCOUNT not in text and NOTE not in text and world.pupil not in text


def test_a_concern_raised_acknowledged_and_counted(browser, live_server):
    world = _world()
    journal = Journal(ARTIFACTS / "safeguarding")
    tutor = _ScriptlessTab(browser, live_server, NARROW_PHONE, journal, "tutor")
    dsl = Tab(browser, live_server, NARROW_PHONE, journal, "dsl")
    lead = Tab(browser, live_server, NARROW_PHONE, journal, "trust-lead")
    try:
        reference = _raise_from_the_session(tutor, world)
        clock.travel(WAIT)
        _acknowledge_and_note(dsl, world, reference)
        _read_the_figures(lead, world)
        journal.assert_clean()
        journal.assert_accessible()
    finally:
        for tab in (tutor, dsl, lead):
            tab.close()
