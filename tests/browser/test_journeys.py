"""The whole journey in a real browser, as the people who make it would click through it: a
school leader nominates (by the form and by CSV), the central team approves, the tutor trains,
fails, revisits, passes and downloads the endorsement, a provider verifies it by page and API,
and the central team suspends it. On a phone and on a desktop, every page checked with axe-core
and any console error, page error or failed request failing the test. Then an assessment taken
with the keyboard alone.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from courses.content import read_pathways
from lms.accounts.models import User
from lms.notifications.models import OutboxEmail
from lms.organisations import services
from lms.organisations.models import Phase
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.programme.models import Pathway
from tests.browser.tabs import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    POINTER_WATCH,
    Journal,
    Keyboard,
    Tab,
)
from tests.conftest import TEST_PASSWORD
from tests.factories import make_member, make_provider, make_school, make_trust

#: The QTS refresher's lessons, as the journey's tutor meets them.
QTS_LESSONS = sum(len(m.lessons) for spec in read_pathways()
                  if spec.pathway == Pathway.QTS_REFRESHER for m in spec.modules)

pytestmark = [pytest.mark.browser, pytest.mark.once]

TUTOR_PASSWORD = "kettle orchard lantern 42"
SUSPEND_REASON = "New information from a DBS Update Service check; a risk assessment is under way."


@dataclass
class World:
    trust_name: str
    school_name: str
    provider_name: str
    leader: User
    central: User
    verifier: User


def _world() -> World:
    """Content, the item bank, and the people the journey needs (the tutors are nominated
    in the browser)."""
    from assessments.bank.services import load_bank
    from courses.services import load_content

    load_content()
    load_bank()
    trust = make_trust("Northern Lights Learning Trust")
    services.set_nomination_approval(trust, True, actor=None)
    school = make_school(trust, name="Aldbrook Primary School", phase=Phase.PRIMARY)
    provider = make_provider("Bright Futures Tutoring")
    world = World(
        trust.name, school.name, provider.name,
        leader=make_member(Role.SCHOOL_LEADER, school=school, email="head@aldbrook.example",
                           name="James Whitaker"),
        central=make_member(Role.CENTRAL_TEAM, trust=trust, email="central@northern.example",
                            name="Tom Okafor"),
        verifier=make_member(Role.PROVIDER, provider=provider,
                             email="leah@brightfutures.example", name="Leah Martin"),
    )
    db.session.commit()
    return world


# --- reading what only the database (or the person's phone) knows ---------------------------


def _read(query):
    """Read from the database as it is now (the server commits from its own threads)."""
    db.session.rollback()
    try:
        return query()
    finally:
        db.session.rollback()


def _invitation_link(email: str) -> str:
    body = _read(lambda: db.session.scalars(
        select(OutboxEmail.body_text).where(OutboxEmail.to_address == email)
        .order_by(OutboxEmail.id.desc())).first())
    assert body, f"no email to {email}"
    return re.search(r"https?://\S+/join/\S+", body).group(0)


def _keys(item, order: list[int], *, right: bool) -> list[int]:
    """The positions, as shown, of the right options (or of one wrong one)."""
    if right:
        return [p for p, i in enumerate(order) if item.options[i]["correct"]]
    return [next(p for p, i in enumerate(order) if not item.options[i]["correct"])]


def _check_answers(url: str) -> list[list[int]]:
    from assessments.bank.models import ItemVersion
    from assessments.checks.models import FormativeResult

    check_id = int(re.search(r"/checks/try/(\d+)", url).group(1))

    def answers():
        check = db.session.get(FormativeResult, check_id)
        return [_keys(db.session.get(ItemVersion, e["item_version_id"]), e["option_order"],
                      right=True) for e in check.items]

    return _read(answers)


def _question(url: str, *, right: bool) -> tuple[int, int, bool, list[int]]:
    """The attempt and position of a question page, whether it takes several answers, and
    the positions to choose."""
    from assessments.attempts.models import Attempt

    match = re.search(r"/attempts/(\d+)/q/(\d+)", url)
    attempt_id, position = int(match.group(1)), int(match.group(2))

    def read():
        row = next(r for r in db.session.get(Attempt, attempt_id).items
                   if r.position == position)
        return row.item.type == "multiple", _keys(row.item, row.option_order, right=right)

    multiple, chosen = _read(read)
    return attempt_id, position, multiple, chosen


def _autosaved(response) -> bool:
    return "/answers/" in response.url and response.request.method == "POST"


def _said_saved(page) -> None:
    """The page tells the tutor their answer is saved (the script has read the answer)."""
    page.locator(".autosave-status", has_text="Answer saved.").wait_for()


# --- steps everyone takes ---------------------------------------------------------------------


def _sign_in(tab: Tab, email: str, password: str = TEST_PASSWORD, step: str | None = None):
    page = tab.page
    tab.go("/")
    tab.follow(page.get_by_role("main").get_by_role("link", name="Sign in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    tab.follow(page.get_by_role("button", name="Sign in"), step)


def _sign_in_with_second_factor(tab: Tab, email: str) -> None:
    """The first sign-in of a role that needs two factors: set up the authenticator with the
    key the page shows, enter its code, save the recovery codes."""
    from lms.accounts.security import hotp, totp_key, totp_step

    page = tab.page
    _sign_in(tab, email, step="set-up-two-factor")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill(
        hotp(totp_key(secret), totp_step(clock.now())))
    tab.follow(page.get_by_role("button", name="Check the code"), "recovery-codes")
    page.get_by_label("I have saved these recovery codes somewhere safe").check()
    tab.follow(page.get_by_role("button", name="Continue and sign in"), "signed-in")
    assert page.get_by_role("heading", name="Hello, ").count() == 1


def _home(tab: Tab) -> None:
    tab.follow(tab.page.get_by_role("navigation", name="Main").get_by_role("link", name="Home"))


def _banner(tab: Tab, text: str) -> None:
    banner = tab.page.locator(".banner").filter(has_text=text)
    assert banner.count() == 1, tab.page.locator("main").inner_text()


def _status_on_page(tab: Tab) -> str:
    return tab.page.locator(".status-headline").inner_text()


def _verify_by_api(tab: Tab, key: str, public_id: str) -> dict:
    response = tab.context.request.post(
        f"{tab.base_url}/api/v1/verifications",
        headers={"Authorization": f"Bearer {key}"}, data={"credential_id": public_id})
    assert response.status == 200, response.text()
    assert response.headers["content-type"].startswith("application/json")
    [result] = response.json()["results"]
    return result


# --- the journey ----------------------------------------------------------------------------


def _nominate(leader: Tab, world: World, tutor: dict, tmp_path) -> None:
    page = leader.page
    _sign_in(leader, world.leader.email, step="signed-in")
    leader.follow(page.get_by_role("link", name="Nominate a tutor"), "nomination-form")
    assert page.get_by_role("heading", level=1).inner_text() == \
        f"Nominate a tutor at {world.school_name}"
    with leader.expecting(400):
        leader.follow(page.get_by_role("button", name="Continue"), "nomination-form-errors")
    assert page.get_by_role("alert").filter(has_text="There is a problem").count() == 1
    page.get_by_label("Full name").fill(tutor["name"])
    page.get_by_label("Email address").fill(tutor["email"])
    page.get_by_label("Role in school").select_option("teacher")
    page.get_by_role("group", name="Do they hold qualified teacher status (QTS)?") \
        .get_by_label("Yes").check()
    page.get_by_label("Teacher reference number (TRN)").fill("1234567")
    page.get_by_role("group", name="Which pupils will they tutor?").get_by_label("Primary").check()
    page.get_by_label("Subject focus").fill("Year 6 reading")
    leader.follow(page.get_by_role("button", name="Continue"), "check-the-nomination")
    assert "QTS refresher" in page.locator("main").inner_text()
    leader.follow(page.get_by_role("button", name="Submit nomination"), "nominated")
    _banner(leader, "The central team will review the nomination.")

    upload = tmp_path / "nominations.csv"
    with upload.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "email", "role_in_school", "holds_qts", "trn",
                         "tutoring_phase", "subject_focus"])
        writer.writerow(["Priya Nair", "priya.nair@aldbrook.example", "teacher", "yes",
                         "2345678", "primary", "Maths"])
        writer.writerow(["Owen Hale", "owen.hale@aldbrook.example", "teacher", "yes",
                         "3456789", "primary", "Phonics"])
    leader.follow(page.get_by_role("link", name="Upload a CSV"), "csv-upload-form")
    page.get_by_label("CSV file").set_input_files(str(upload))
    leader.follow(page.get_by_role("button", name="Upload and check"), "csv-imported")
    _banner(leader, "2 nominations imported")
    leader.follow(page.get_by_role("link", name="See the school's tutors"), "school-tutors")
    for name in (tutor["name"], "Priya Nair", "Owen Hale"):
        assert page.get_by_role("row").filter(has_text=name).count() == 1


def _approve(central: Tab, world: World, names: list[str]) -> None:
    page = central.page
    _sign_in_with_second_factor(central, world.central.email)
    central.follow(page.get_by_role("link", name="Nominations awaiting approval"),
                   "awaiting-approval")
    assert f"{world.trust_name} asks the central team to approve" in \
        page.locator("main").inner_text()
    for name in names:
        page.get_by_label(f"Choose {name}").check()
    central.follow(page.get_by_role("button", name="Approve and invite"), "approved")
    _banner(central, "3 nominations approved and invited.")


def _accept(tutor: Tab, person: dict) -> None:
    page = tutor.page
    link = _invitation_link(person["email"])
    assert link.startswith(tutor.base_url + "/join/")
    tutor.go(link, "invitation")
    page.get_by_label("Choose a password").fill(TUTOR_PASSWORD)
    page.get_by_label("Confirm password").fill(TUTOR_PASSWORD)
    page.get_by_label("I have read the privacy notice").check()
    tutor.follow(page.get_by_role("button", name="Accept and start training"),
                 "training-started")
    _banner(tutor, "Your training has started.")


def _study(tutor: Tab) -> None:
    """Every lesson and every module check, from the course page."""
    page = tutor.page
    tutor.follow(page.get_by_role("link", name="Go to your course"), "course")
    lessons = checks = 0
    for _ in range(40):
        take_check = page.get_by_role("button", name="Take the module check")
        resume = page.get_by_role("link", name=re.compile(
            r"^(Start the course|Continue where you left off)$"))
        if take_check.count():
            checks += 1
            tutor.follow(take_check.first, "module-check" if checks == 1 else None)
            for index, positions in enumerate(_check_answers(page.url)):
                for position in positions:
                    page.locator(f"#q{index}-{position}").check()
            tutor.follow(page.get_by_role("button", name="Check my answers"),
                         "module-check-result" if checks == 1 else None)
            _banner(tutor, "You have passed this module's check.")
            tutor.follow(page.get_by_role("link", name="Back to the course"))
        elif resume.count():
            tutor.follow(resume, "first-lesson" if lessons == 0 else None)
            while "/lessons/" in page.url:
                lessons += 1
                complete = page.get_by_role("button", name="Mark as complete and continue")
                if lessons == 1:  # straight away: too soon, and said kindly
                    tutor.follow(complete, "lesson-not-yet")
                    _banner(tutor, "not marked complete yet")
                    _answer_a_scenario(tutor)
                clock.travel(timedelta(minutes=30))  # reading and doing the activities
                tutor.follow(complete)
        else:
            break
    assert (lessons, checks) == (QTS_LESSONS, 3)
    assert "You have finished every lesson." in page.locator("main").inner_text()
    tutor.journal.shot(page, "tutor-course-done")


def _answer_a_scenario(tutor: Tab) -> None:
    """The first "what would you do?" of the course: the model answer shows once answered."""
    page = tutor.page
    save = page.get_by_role("button", name="Save my answer and show the model answer")
    assert save.count(), "the first lesson has a scenario"
    assert page.locator(".model-answer").count() == 0
    page.locator(".scenario textarea").first.fill("Stay calm, listen, and ask what happened.")
    tutor.follow(save.first, "scenario-answered")
    assert page.locator(".model-answer").count() >= 1
    assert "Stay calm, listen" in page.locator(".your-answer").first.inner_text()


def _sit(tutor: Tab, *, right: bool, label: str) -> None:
    """Answer every question by the mouse, each saved as it is chosen; review; submit."""
    page = tutor.page
    tutor.follow(page.get_by_role("button", name="Start the assessment"), f"{label}-question-1")
    for number in range(1, 100):
        if "/q/" not in page.url:
            break
        _, position, _, chosen = _question(page.url, right=right)
        assert position == number - 1
        for choice in chosen:
            with page.expect_response(_autosaved) as saved:
                page.locator(f"#answer-{choice}").check()
            assert saved.value.ok, saved.value.text()
            _said_saved(page)
        tutor.follow(page.get_by_role("button", name="Save and continue"))
    assert "You have answered 20 of 20 questions." in page.locator("main").inner_text()
    tutor.journal.shot(page, f"tutor-{label}-review")
    tutor.follow(page.get_by_role("button", name="Submit my answers"), f"{label}-result")


def _fail_revisit_and_pass(tutor: Tab) -> None:
    page = tutor.page
    tutor.follow(page.get_by_role("link", name="Your assessment"), "assessment")
    _sit(tutor, right=False, label="first-attempt")
    assert page.get_by_role("heading", level=1).inner_text() == "Not passed this time"
    assert page.get_by_role("table").filter(has_text="Revisit").count() == 1
    revisit = page.locator("h2:text-is('What to revisit') ~ ul a")
    flagged = revisit.count()
    assert flagged >= 1
    titles = [revisit.nth(index).inner_text() for index in range(flagged)]
    assert len(set(titles)) == flagged  # each lesson once, as a link
    needs = page.locator(".panel").filter(has_text="Your next attempt").inner_text()
    assert "Wait until" in needs and "Revisit the lessons marked" in needs
    assert not any(title in needs for title in titles)
    tutor.follow(revisit.nth(0), "revisit-lesson")
    tutor.back()
    tutor.reload("lesson-only-opened")  # a glance is not a revisit
    assert "Revisit the lessons marked" in page.locator(".panel").filter(
        has_text="Your next attempt").inner_text()
    for index in range(flagged):
        tutor.follow(revisit.nth(index))
        assert "/lessons/" in page.url
        clock.travel(timedelta(minutes=30))  # stayed with it
        tutor.reload()
        tutor.back()
    tutor.reload("lessons-revisited")
    needs = page.locator(".panel").filter(has_text="Your next attempt").inner_text()
    assert "Revisit the lessons marked" not in needs and "Wait until" in needs

    clock.travel(timedelta(hours=24, minutes=1))  # past the cool-off, not slept through
    tutor.reload("cool-off-over")
    tutor.follow(page.get_by_role("link", name="Go to the assessment"))
    _sit(tutor, right=True, label="second-attempt")
    assert page.get_by_role("heading", level=1).inner_text() == "You passed"
    _banner(tutor, "your endorsement has been issued")


def _endorsement(tutor: Tab) -> tuple[str, str]:
    """See and download the endorsement; the link to share and its id."""
    page = tutor.page
    tutor.follow(page.get_by_role("link", name="See, download and share your endorsement"),
                 "my-endorsements")
    assert page.locator(".card .tag").inner_text() == "Valid"
    credential_file = tutor.download(
        page.get_by_role("link", name="Download the signed credential (JSON)"),
        tutor.journal.folder)
    credential = json.loads(credential_file.read_text())
    assert "OpenBadgeCredential" in credential["type"]
    proofs = credential["proof"] if isinstance(credential["proof"], list) else \
        [credential["proof"]]
    assert [p["cryptosuite"] for p in proofs] == ["eddsa-rdfc-2022"]
    certificate = tutor.download(
        page.get_by_role("link", name="Download a printable certificate (PDF)"),
        tutor.journal.folder)
    assert certificate.read_bytes().startswith(b"%PDF")
    link = page.get_by_label("Link to share with schools and tutoring providers").input_value()
    assert link.startswith(tutor.base_url + "/credentials/")
    return link, link.rsplit("/", 1)[1]


def _make_api_key(provider: Tab, world: World) -> str:
    page = provider.page
    _sign_in(provider, world.verifier.email, step="signed-in")
    provider.follow(page.get_by_role("link", name=f"API keys for {world.provider_name}"),
                    "api-keys")
    page.get_by_label("Name for the new key").fill("Safer recruitment checks")
    provider.follow(page.get_by_role("button", name="Make a new key"), "api-key-made")
    return page.get_by_label("API key", exact=True).input_value()


def _give_provider_access(central: Tab, world: World, tutor_name: str) -> None:
    page = central.page
    _home(central)
    central.follow(page.get_by_role("link", name="Approved-tutor register"), "register")
    assert "Pending" in page.get_by_role("row").filter(has_text=tutor_name).inner_text()
    central.follow(page.get_by_role("link", name="Renewal policy and provider access"),
                   "register-settings")
    page.get_by_label("Provider", exact=True).select_option(label=world.provider_name)
    central.follow(page.get_by_role("button", name="Give access"), "provider-access-given")
    _banner(central, f"{world.provider_name} can now see the register status")


def _suspend(central: Tab, tutor_name: str) -> None:
    page = central.page
    _home(central)
    central.follow(page.get_by_role("link", name="Tutors and their stage"), "trust-tutors")
    central.follow(page.get_by_role("row").filter(has_text=tutor_name).get_by_role("link")
                   .nth(1), "training-record")
    central.follow(page.locator("main a[href^='/endorsements/']"), "endorsement")
    page.locator("#suspend-reason").fill(SUSPEND_REASON)
    central.follow(page.get_by_role("button", name="Suspend the endorsement"), "suspended")
    _banner(central, "The endorsement is suspended.")
    assert _status_on_page(central) == "Suspended"


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=lambda d: d["name"])
def test_nomination_to_suspension_through_the_browser(device, browser, live_server, tmp_path):
    world = _world()
    journal = Journal(ARTIFACTS / device["name"])
    tabs = {who: Tab(browser, live_server, device, journal, who)
            for who in ("leader", "central", "tutor", "provider")}
    leader, central, tutor, provider = tabs.values()
    person = {"name": "Grace Obi", "email": "grace.obi@aldbrook.example"}
    try:
        _nominate(leader, world, person, tmp_path)
        _approve(central, world, [person["name"], "Priya Nair", "Owen Hale"])
        _accept(tutor, person)
        _study(tutor)
        _fail_revisit_and_pass(tutor)
        link, public_id = _endorsement(tutor)

        key = _make_api_key(provider, world)
        provider.go(link, "verification-page")
        assert _status_on_page(provider) == "Valid"
        assert person["name"] in provider.page.get_by_role("heading", level=1).inner_text()
        result = _verify_by_api(provider, key, public_id)
        assert (result["status"], result["valid"], result["tutor_name"]) == \
            ("valid", True, person["name"])
        assert "register" not in result  # the trust has not given this provider access
        _give_provider_access(central, world, person["name"])
        assert _verify_by_api(provider, key, public_id)["register"]["status"] == "pending"

        _suspend(central, person["name"])
        provider.reload("verification-page-suspended")
        assert _status_on_page(provider) == "Suspended"
        result = _verify_by_api(provider, key, public_id)
        assert (result["status"], result["valid"]) == ("suspended", False)
        assert result["register"]["status"] == "suspended"
        _home(central)
        central.follow(central.page.get_by_role("link", name="Approved-tutor register"),
                       "register-suspended")
        row = central.page.get_by_role("row").filter(has_text=person["name"]).inner_text()
        assert "Suspended" in row and "endorsement" in row.lower()
        tutor.reload("my-endorsements-suspended")
        card = tutor.page.locator(".card").inner_text()
        assert "Suspended" in card and world.provider_name in card

        journal.assert_clean()
        journal.assert_accessible()
    finally:
        for tab in tabs.values():
            tab.close()


# --- the keyboard alone -------------------------------------------------------------------


def _answer_by_keyboard(keys: Keyboard, multiple: bool, chosen: list[int]) -> None:
    """Radios: Tab into the group, then Space on the first option or the arrow keys to the
    one wanted (each choice is saved as it is made). Checkboxes: Tab to each, Space."""
    page = keys.page

    def saved(key: str) -> None:
        with page.expect_response(_autosaved) as response:
            keys.press(key)
        assert response.value.ok, response.value.text()
        _said_saved(page)

    if multiple:
        for position in chosen:
            keys.tab_to(f"#answer-{position}")
            saved("Space")
        return
    [position] = chosen
    keys.tab_to("input[name=answer]")
    if position == 0:
        saved("Space")
    for _ in range(position):
        saved("ArrowDown")
    assert page.evaluate("document.activeElement.id") == f"answer-{position}"


def test_a_tutor_takes_the_assessment_with_the_keyboard_alone(browser, live_server):
    from assessments.attempts.models import Attempt
    from assessments.bank.services import load_bank
    from courses.services import load_content
    from lms.demo import study
    from tests.factories import make_enrolment

    load_content()
    load_bank()
    enrolment = make_enrolment(role_in_school="teacher", holds_qts="yes", trn="1234567",
                               tutoring_phase="primary")
    study(enrolment, lessons=1000)
    db.session.commit()
    email = enrolment.user.email
    journal = Journal(ARTIFACTS / "keyboard")
    tab = Tab(browser, live_server, DESKTOP, journal, "tutor", audit=False)
    tab.context.add_init_script(script=POINTER_WATCH)
    keys = Keyboard(tab)
    page = tab.page
    try:
        tab.go("/sign-in")
        keys.tab_to("#email")
        page.keyboard.type(email)
        keys.tab_to("#password")
        page.keyboard.type("tutor password 2026")
        keys.press_and_go("Enter", "home")
        keys.tab_to("a", "Go to the assessment")
        keys.press_and_go("Enter", "assessment")
        keys.tab_to("button", "Start the assessment")
        keys.press_and_go("Space", "question-1")

        went_back = False
        for _ in range(30):
            if "/q/" not in page.url:
                break
            attempt_id, position, multiple, chosen = _question(page.url, right=True)
            if not page.locator("input[name=answer]:checked").count():
                _answer_by_keyboard(keys, multiple, chosen)
                if position == 0:
                    journal.shot(page, "tutor-answered-focus-visible")
            if position == 2 and not went_back:
                # Back a question: past "Save and continue", then Shift+Tab to the one wanted.
                went_back = True
                keys.tab_to("button", "Save and review answers")
                keys.tab_to("button", "Save and go back", backwards=True)
                keys.press_and_go("Enter", "went-back")
                assert page.url.endswith("/q/1")
                assert page.locator("input[name=answer]:checked").count()  # still saved
                continue
            keys.tab_to("button", "Save and continue")
            keys.press_and_go("Enter", "question-2" if position == 0 else None)
        assert page.url.endswith("/review")
        assert "You have answered 20 of 20 questions." in page.locator("main").inner_text()
        journal.shot(page, "tutor-review")
        # From the review, back to the first question (Shift+Tab up the list) and return.
        keys.tab_to("button", "Submit my answers")
        keys.tab_to("a", "Question 1", backwards=True)
        keys.press_and_go("Enter", "question-1-again")
        assert page.url.endswith("/q/0")
        keys.tab_to("button", "Save and review answers")
        keys.press_and_go("Enter")
        keys.tab_to("button", "Submit my answers")
        keys.press_and_go("Enter", "result")
        assert page.get_by_role("heading", level=1).inner_text() == "You passed"

        graded = _read(lambda: db.session.execute(
            select(Attempt.submitted_at.is_not(None), Attempt.auto_submitted, Attempt.correct,
                   Attempt.total, Attempt.passed).where(Attempt.id == attempt_id)).one())
        assert tuple(graded) == (True, False, 20, 20, True)
        assert not keys.pointer_used(), "a pointer was used"
        assert keys.stops > 100
        journal.assert_clean()
    finally:
        tab.close()
