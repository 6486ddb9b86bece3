"""Accounts: signing in and out, throttling, passwords, invitations, resets, email checks."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import func, select

from lms.accounts import services as accounts
from lms.accounts.models import UsedToken, User
from lms.notifications.models import OutboxEmail
from lms.organisations import people
from lms.organisations.models import Membership
from lms.platform import clock
from lms.platform.errors import DomainError, TokenInvalid
from lms.platform.roles import Role
from tests.conftest import TEST_PASSWORD, complete_second_factor
from tests.factories import make_member, make_school, make_trust, make_user

WRONG = "Enter a correct email address and password"
TOO_MANY = "Too many failed sign-in attempts"
NEW_PASSWORD = "a fresh passphrase 2026"


def _sign_in(client, email: str, password: str, address: str = "10.0.0.1", next: str = ""):
    url = "/sign-in" + (f"?next={quote(next, safe='')}" if next else "")
    return client.post(url, data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _text(response) -> str:
    return response.get_data(as_text=True)


def _emails_to(db_session, address: str) -> list[OutboxEmail]:
    return list(db_session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == address)
                                   .order_by(OutboxEmail.id)))


def _link(db_session, address: str, path: str) -> str:
    """The path of the newest emailed link under ``path`` to ``address``."""
    emails = _emails_to(db_session, address)
    assert emails, f"no email to {address}"
    match = re.search(rf"http://localhost({re.escape(path)}[^\s\"<]+)", emails[-1].body_text)
    assert match, emails[-1].body_text
    return match.group(1)


def _set_password(client, link: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(link, data={"password": password,
                                   "confirm": password if confirm is None else confirm})


def _fresh(db_session, user: User) -> User:
    db_session.expire_all()
    return db_session.get(User, user.id)


# --- signing in and out -----------------------------------------------------------------


def test_the_right_password_signs_in_and_home_greets_the_person(db_session, client):
    user = make_user("ada@school.example", name="Ada Lovelace")
    db_session.commit()
    response = _sign_in(client, "ada@school.example", TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Hello, Ada Lovelace" in _text(client.get("/"))
    assert client.get("/account").status_code == 200
    assert _fresh(db_session, user).last_signed_in_at is not None


def test_the_email_is_matched_whatever_its_case_and_spacing(db_session, client):
    make_user("grace@school.example", name="Grace Hopper")
    db_session.commit()
    assert _sign_in(client, "  Grace@SCHOOL.example ", TEST_PASSWORD).status_code == 302
    assert "Hello, Grace Hopper" in _text(client.get("/"))


def test_wrong_password_and_unknown_email_get_exactly_the_same_answer(db_session, client):
    make_user("known@school.example")
    db_session.commit()
    wrong = _sign_in(client, "known@school.example", "not the password at all")
    unknown = _sign_in(client, "nobody@school.example", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert WRONG in _text(wrong)
    # Apart from the address typed, which is put back in the box, the pages are identical.
    assert _text(wrong).replace("known@", "X@") == _text(unknown).replace("nobody@", "X@")


def test_a_deactivated_account_cannot_sign_in_and_is_told_nothing_more(db_session, client):
    user = make_user("gone@school.example")
    user.deactivated_at = clock.now()
    db_session.commit()
    refused = _sign_in(client, "gone@school.example", TEST_PASSWORD)
    unknown = _sign_in(client, "ghost@school.example", TEST_PASSWORD)
    assert refused.status_code == 400
    assert _text(refused).replace("gone@", "X@") == _text(unknown).replace("ghost@", "X@")
    assert _text(client.get("/")).count("Hello,") == 0


def test_someone_deactivated_while_signed_in_loses_access(db_session, client, sign_in):
    user = make_member(Role.TUTOR)
    db_session.commit()
    sign_in(user)
    assert client.get("/account").status_code == 200
    user.deactivated_at = clock.now()
    db_session.commit()
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_an_invited_person_without_a_password_cannot_sign_in(db_session, client):
    make_user("invited@school.example", password=None)
    db_session.commit()
    response = _sign_in(client, "invited@school.example", "")
    assert response.status_code == 400
    response = _sign_in(client, "invited@school.example", "any password at all")
    assert response.status_code == 400 and WRONG in _text(response)


@pytest.mark.parametrize("target", [
    "https://evil.example/phish",
    "//evil.example/phish",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "evil.example",
])
def test_next_never_leads_off_the_site(db_session, client, target):
    user = make_user()
    db_session.commit()
    response = _sign_in(client, user.email, TEST_PASSWORD, next=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location and "%5C" not in location.upper(), location
    assert urlsplit(location).netloc == "" and "evil" not in location, location


def test_next_leads_to_the_page_on_this_site_that_asked_for_sign_in(db_session, client):
    user = make_user()
    db_session.commit()
    asked = client.get("/account")
    assert asked.status_code == 302
    next_url = urlsplit(asked.headers["Location"]).query.removeprefix("next=")
    response = client.post(f"/sign-in?next={next_url}",
                           data={"email": user.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/account"


def test_signing_out_needs_a_post_with_the_form_token(db_session, client, sign_in):
    sign_in(make_member(Role.TUTOR))
    assert client.get("/sign-out").status_code == 405
    forged = client.post("/sign-out", csrf=False)
    assert forged.status_code == 400
    assert client.get("/account").status_code == 200, "a forged sign-out must not sign out"
    response = client.post("/sign-out")
    assert response.status_code == 302
    assert "You have signed out" in _text(client.get("/sign-in"))
    assert client.get("/account").status_code == 302


def test_the_sign_in_form_keeps_the_email_but_never_echoes_the_password(db_session, client):
    make_user("typed@school.example")
    db_session.commit()
    response = _sign_in(client, "typed@school.example", "my secret guess 123")
    page = _text(response)
    assert re.search(r'<input[^>]*name="email"[^>]*value="typed@school.example"', page)
    assert "my secret guess 123" not in page


def test_a_sign_in_with_empty_boxes_says_what_is_missing(db_session, client):
    response = client.post("/sign-in", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your email address" in _text(response)
    assert "Enter your password" in _text(response)


# --- throttling ---------------------------------------------------------------------------


def _fail(client, email: str, times: int, address: str = "10.0.0.1", step=timedelta(minutes=1)):
    """``times`` wrong passwords, each after the slow-down from the one before has passed."""
    for _ in range(times):
        clock.travel(step)
        _sign_in(client, email, "wrong password!!", address=address)


def test_after_slow_after_failures_even_the_right_password_must_wait(app, db_session, client):
    user = make_user()
    db_session.commit()
    slow_after = app.config["SIGN_IN_SLOW_AFTER"]
    for _ in range(slow_after - 1):
        assert WRONG in _text(_sign_in(client, user.email, "wrong password!!"))
    assert TOO_MANY in _text(_sign_in(client, user.email, "wrong password!!"))
    refused = _sign_in(client, user.email, TEST_PASSWORD)
    assert refused.status_code == 400 and TOO_MANY in _text(refused)
    assert "Hello," not in _text(client.get("/"))
    clock.travel(timedelta(seconds=3))
    assert _sign_in(client, user.email, TEST_PASSWORD).status_code == 302


def test_after_max_failures_the_account_is_locked_for_the_lock_period(app, db_session, client):
    user = make_user()
    db_session.commit()
    lock = app.config["SIGN_IN_LOCK"]
    _fail(client, user.email, app.config["SIGN_IN_MAX_FAILURES"] - 1)
    clock.travel(timedelta(minutes=1))
    last = _sign_in(client, user.email, "wrong password!!")
    minutes = int(lock.total_seconds() // 60)
    assert f"{TOO_MANY}. Try again in {minutes} minutes." in _text(last)
    clock.travel(lock - timedelta(minutes=1))
    locked = _sign_in(client, user.email, TEST_PASSWORD)
    assert locked.status_code == 400 and "Try again in 1 minute." in _text(locked)
    clock.travel(timedelta(minutes=1, seconds=1))
    assert _sign_in(client, user.email, TEST_PASSWORD).status_code == 302


def test_the_lock_follows_the_account_to_other_addresses_but_spares_other_people(
    app, db_session
):
    victim, bystander = make_user(), make_user()
    db_session.commit()
    _fail(app.test_client(), victim.email, app.config["SIGN_IN_MAX_FAILURES"],
          address="10.0.0.1")
    assert _sign_in(app.test_client(), bystander.email, TEST_PASSWORD,
                    address="10.0.0.2").status_code == 302
    elsewhere = _sign_in(app.test_client(), victim.email, TEST_PASSWORD, address="10.0.0.3")
    assert elsewhere.status_code == 400 and TOO_MANY in _text(elsewhere)


def test_one_address_trying_many_emails_is_locked(app, db_session):
    bystander = make_user()
    db_session.commit()
    sprayer = app.test_client()
    for n in range(app.config["SIGN_IN_MAX_FAILURES"]):
        clock.travel(timedelta(minutes=1))
        _sign_in(sprayer, f"guess{n}@school.example", "wrong password!!", address="10.0.0.9")
    from_there = _sign_in(app.test_client(), bystander.email, TEST_PASSWORD, address="10.0.0.9")
    assert from_there.status_code == 400 and TOO_MANY in _text(from_there)
    assert _sign_in(app.test_client(), bystander.email, TEST_PASSWORD,
                    address="10.0.0.10").status_code == 302


def test_unknown_emails_are_throttled_exactly_like_known_ones(app, db_session):
    make_user("real@school.example")
    db_session.commit()
    known, unknown = app.test_client(), app.test_client()
    for attempt in range(app.config["SIGN_IN_MAX_FAILURES"] + 2):
        a = _sign_in(known, "real@school.example", "wrong password!!", address="10.0.1.1")
        b = _sign_in(unknown, "fake@school.example", "wrong password!!", address="10.0.1.2")
        assert a.status_code == b.status_code, attempt
        assert _error_summary(a) == _error_summary(b), attempt
        clock.travel(timedelta(seconds=20))


def _error_summary(response) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', _text(response), re.S)
    return match.group(0) if match else ""


def test_spelling_variants_of_an_email_share_one_lock(app, db_session):
    user = make_user("victim@school.example")
    db_session.commit()
    variant = "Victim@ｓｃｈｏｏｌ.Example"  # full-width letters: the same account once normalised
    assert _sign_in(app.test_client(), variant, TEST_PASSWORD).status_code == 302
    for n in range(app.config["SIGN_IN_MAX_FAILURES"]):
        clock.travel(timedelta(minutes=1))
        _sign_in(app.test_client(), variant, "wrong password!!", address=f"10.0.2.{n}")
    clock.travel(timedelta(minutes=1))
    locked = _sign_in(app.test_client(), user.email, TEST_PASSWORD, address="10.0.3.1")
    assert locked.status_code == 400 and TOO_MANY in _text(locked)


# --- passwords --------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_never_in_plain(db_session):
    user = accounts.create_user("p@school.example", "P", actor=None,
                                password="long enough passphrase")
    db_session.commit()
    stored = db_session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert "long enough passphrase" not in stored


def test_a_short_password_is_refused_with_a_message_naming_the_field(db_session):
    with pytest.raises(DomainError, match="Password must be at least 12 characters") as error:
        accounts.create_user("q@school.example", "Q", actor=None, password="short pw")
    assert error.value.field == "password"


def test_a_password_of_few_different_characters_is_refused(db_session):
    with pytest.raises(DomainError, match="too easy to guess") as error:
        accounts.create_user("r@school.example", "R", actor=None, password="aaaaaaaaaaaaaaaa")
    assert error.value.field == "password"


def test_changing_the_password_needs_the_current_one(db_session, client, sign_in):
    user = make_user()
    db_session.commit()
    before = user.password_hash
    sign_in(user)
    wrong = client.post("/account", data={"current_password": "nope nope nope",
                                          "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400
    assert re.search(r'href="#current_password">Your current password is not right',
                     _text(wrong))
    assert _fresh(db_session, user).password_hash == before
    right = client.post("/account", data={"current_password": TEST_PASSWORD,
                                          "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert right.status_code == 302
    assert "Your password has been changed" in _text(client.get("/account"))
    client.post("/sign-out")
    assert _sign_in(client, user.email, TEST_PASSWORD).status_code == 400
    assert _sign_in(client, user.email, NEW_PASSWORD).status_code == 302


def test_a_new_password_that_is_too_short_is_refused_on_its_field(db_session, client, sign_in):
    user = make_user()
    db_session.commit()
    before = user.password_hash
    sign_in(user)
    response = client.post("/account", data={"current_password": TEST_PASSWORD,
                                             "password": "short", "confirm": "short"})
    assert response.status_code == 400
    assert re.search(r'href="#password">Password must be at least 12 characters',
                     _text(response))
    mismatch = client.post("/account", data={"current_password": TEST_PASSWORD,
                                             "password": NEW_PASSWORD, "confirm": "different!"})
    assert mismatch.status_code == 400 and "do not match" in _text(mismatch)
    assert _fresh(db_session, user).password_hash == before


# --- invitations ------------------------------------------------------------------------

INVITED = "new.leader@school.example"


def _invite(db_session, email: str = INVITED, role: Role = Role.TRUSTEE, **scope) -> Membership:
    trust = scope.pop("trust", None) or make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    membership = people.invite_staff(email, "New Leader", role, actor=central, trust=trust,
                                       **scope)
    db_session.commit()
    return membership


def test_inviting_staff_emails_a_link_to_set_up_the_account(db_session):
    membership = _invite(db_session)
    (email,) = _emails_to(db_session, INVITED)
    assert email.subject == "Set up your account on the tutor endorsement platform"
    assert "/invitations/" in email.body_text and "/invitations/" in email.body_html
    assert "Trustee" in email.body_text
    assert membership.user.password_hash is None
    assert membership.user.email_verified_at is None


def test_the_trust_people_page_invites_staff(db_session, client, sign_in):
    trust = make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    response = client.post(f"/trusts/{trust.id}/people", data={
        "name": "Nia Okafor", "email": "nia@school.example", "role": Role.TRUSTEE.value,
        "school_id": "", "cluster_id": ""})
    assert response.status_code == 302
    assert "Nia Okafor has been given the role" in _text(client.get(response.headers["Location"]))
    assert _link(db_session, "nia@school.example", "/invitations/")


def test_the_invite_form_keeps_what_was_typed_when_the_email_is_wrong(db_session, client,
                                                                      sign_in):
    trust = make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    response = client.post(f"/trusts/{trust.id}/people", data={
        "name": "Nia Okafor", "email": "nia-at-school", "role": Role.TRUSTEE.value,
        "school_id": "", "cluster_id": ""})
    assert response.status_code == 400
    page = _text(response)
    assert "Enter a valid email address" in page
    assert 'value="Nia Okafor"' in page and 'value="nia-at-school"' in page
    assert db_session.scalar(select(func.count(OutboxEmail.id))) == 0


def test_the_invitation_link_asks_for_a_password(db_session, client):
    _invite(db_session)
    page = client.get(_link(db_session, INVITED, "/invitations/"))
    assert page.status_code == 200
    text = _text(page)
    assert "Set up your account" in text and INVITED in text
    assert 'name="password"' in text and 'name="confirm"' in text


def test_accepting_an_invitation_sets_the_password_verifies_the_email_and_signs_in(
    db_session, client
):
    membership = _invite(db_session)
    response = _set_password(client, _link(db_session, INVITED, "/invitations/"))
    # A trustee's role needs two-factor sign-in: the link leads on to setting it up.
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in/two-factor/set-up"
    complete_second_factor(client, membership.user, response)
    assert "Hello, New Leader" in _text(client.get("/"))
    user = _fresh(db_session, membership.user)
    assert user.email_verified_at is not None
    assert user.password_hash.startswith("$argon2id$")
    client.post("/sign-out")
    response = _sign_in(client, INVITED, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in/two-factor"


def test_an_invitation_link_works_only_once(db_session, client):
    membership = _invite(db_session)
    link = _link(db_session, INVITED, "/invitations/")
    assert _set_password(client, link).status_code == 302
    client.post("/sign-out")
    again = client.get(link)
    assert again.status_code == 400 and "already been used" in _text(again)
    replay = _set_password(client, link, "a takeover passphrase 9")
    assert replay.status_code == 400 and "already been used" in _text(replay)
    assert _sign_in(client, INVITED, NEW_PASSWORD).status_code == 302
    assert _fresh(db_session, membership.user).password_hash is not None


def test_an_invitation_link_expires_after_the_invitation_max_age(app, db_session, client):
    _invite(db_session)
    link = _link(db_session, INVITED, "/invitations/")
    clock.travel(app.config["INVITATION_MAX_AGE"] - timedelta(hours=1))
    assert client.get(link).status_code == 200
    clock.travel(timedelta(days=15) - app.config["INVITATION_MAX_AGE"] + timedelta(hours=1))
    response = client.get(link)
    assert response.status_code == 400 and "expired" in _text(response)
    refused = _set_password(client, link)
    assert refused.status_code == 400 and "expired" in _text(refused)


def test_a_tampered_invitation_link_is_refused(db_session, client):
    membership = _invite(db_session)
    link = _link(db_session, INVITED, "/invitations/")
    token = link.rsplit("/", 1)[1]
    payload, stamp, signature = token.split(".")
    other = "A" if signature[0] != "A" else "B"
    for forged in (f"{payload}.{stamp}.{other}{signature[1:]}",   # signature changed
                   f"{payload[:-2]}x{payload[-1]}.{stamp}.{signature}",  # payload changed
                   "eyJ1c2VyIjoxfQ.tampered.signature", "nonsense"):
        response = _set_password(client, f"/invitations/{forged}")
        assert response.status_code == 400 and "not valid" in _text(response), forged
    assert _fresh(db_session, membership.user).password_hash is None
    with pytest.raises(TokenInvalid, match="not valid"):
        people.check_invitation("eyJ1c2VyIjoxfQ.tampered.signature")


def test_a_link_made_for_another_purpose_is_not_an_invitation(db_session, client):
    membership = _invite(db_session)
    accounts.request_password_reset(INVITED)
    db_session.commit()
    reset_token = _link(db_session, INVITED, "/password/reset/").rsplit("/", 1)[1]
    response = client.get(f"/invitations/{reset_token}")
    assert response.status_code == 400 and "not valid" in _text(response)
    assert _fresh(db_session, membership.user).password_hash is None


def test_bad_password_input_keeps_the_invitation_usable_and_changes_nothing(db_session, client):
    membership = _invite(db_session)
    link = _link(db_session, INVITED, "/invitations/")
    short = _set_password(client, link, "short")
    assert short.status_code == 400
    assert re.search(r'href="#password">Password must be at least 12 characters', _text(short))
    mismatch = _set_password(client, link, NEW_PASSWORD, "something else entirely")
    assert mismatch.status_code == 400 and "do not match" in _text(mismatch)
    empty = _set_password(client, link, "", "")
    assert empty.status_code == 400 and "Enter a new password" in _text(empty)
    user = _fresh(db_session, membership.user)
    assert user.password_hash is None and user.email_verified_at is None
    assert db_session.scalar(select(func.count()).select_from(UsedToken)) == 0
    assert "Hello," not in _text(client.get("/"))
    assert _set_password(client, link).status_code == 302


def test_inviting_someone_who_has_an_account_tells_them_of_the_new_role(db_session):
    existing = make_user("has.account@school.example")
    db_session.commit()
    before = existing.password_hash
    school = make_school()
    _invite(db_session, existing.email, Role.SCHOOL_LEADER, trust=school.trust, school=school)
    (email,) = _emails_to(db_session, existing.email)
    assert email.subject == "You have a new role on the tutor endorsement platform"
    assert "School leader" in email.body_text or "school leader" in email.body_text.lower()
    assert "/invitations/" not in email.body_text
    assert _fresh(db_session, existing).password_hash == before


def test_a_leftover_invitation_cannot_replace_a_password_already_set(db_session, client):
    trust = make_trust()
    _invite(db_session, trust=trust)
    first = _link(db_session, INVITED, "/invitations/")
    _invite(db_session, role=Role.SCHOOL_LEADER, trust=trust, school=make_school(trust))
    second = _link(db_session, INVITED, "/invitations/")
    assert first != second
    assert _set_password(client, first).status_code == 302
    client.post("/sign-out")
    leftover = _set_password(client, second, "a takeover passphrase 9")
    assert leftover.status_code == 400 and "already set up" in _text(leftover)
    assert _sign_in(client, INVITED, NEW_PASSWORD).status_code == 302


def test_an_invitation_to_a_deactivated_account_is_refused(db_session, client):
    membership = _invite(db_session)
    link = _link(db_session, INVITED, "/invitations/")
    membership.user.deactivated_at = clock.now()
    db_session.commit()
    response = client.get(link)
    assert response.status_code == 400 and "not valid" in _text(response)


# --- password resets --------------------------------------------------------------------

RESET_SENT = "If that address has an account, we have sent it a link"


def test_a_reset_for_an_unknown_address_says_the_same_and_sends_nothing(db_session, client):
    make_user("real@school.example")
    db_session.commit()
    known = client.post("/password/forgot", data={"email": "real@school.example"})
    known_page = _text(client.get(known.headers["Location"]))
    unknown = client.post("/password/forgot", data={"email": "fake@school.example"})
    unknown_page = _text(client.get(unknown.headers["Location"]))
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert RESET_SENT in known_page and known_page == unknown_page
    assert set(db_session.scalars(select(OutboxEmail.to_address))) == {"real@school.example"}


def test_a_reset_for_a_known_address_emails_a_link(app, db_session, client):
    make_user("real@school.example")
    db_session.commit()
    client.post("/password/forgot", data={"email": "Real@School.example"})
    (email,) = _emails_to(db_session, "real@school.example")
    assert email.subject == "Reset your password"
    minutes = int(app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() // 60)
    assert f"expires in {minutes} minutes" in email.body_text
    page = client.get(_link(db_session, "real@school.example", "/password/reset/"))
    assert page.status_code == 200 and 'name="password"' in _text(page)


def test_a_reset_for_a_deactivated_account_sends_nothing(db_session, client):
    user = make_user("left@school.example")
    user.deactivated_at = clock.now()
    db_session.commit()
    response = client.post("/password/forgot", data={"email": "left@school.example"},
                           follow_redirects=True)
    assert RESET_SENT in _text(response)
    assert _emails_to(db_session, "left@school.example") == []


def test_a_reset_link_replaces_the_password_and_works_only_once(db_session, client):
    user = make_user("reset@school.example", name="Rosa Reset")
    db_session.commit()
    client.post("/password/forgot", data={"email": user.email})
    link = _link(db_session, user.email, "/password/reset/")
    done = _set_password(client, link)
    assert done.status_code == 302
    assert "Hello, Rosa Reset" in _text(client.get("/"))
    client.post("/sign-out")
    again = client.get(link)
    assert again.status_code == 400 and "already been used" in _text(again)
    assert _set_password(client, link, "a takeover passphrase 9").status_code == 400
    assert _sign_in(client, user.email, TEST_PASSWORD).status_code == 400
    assert _sign_in(client, user.email, NEW_PASSWORD).status_code == 302


def test_a_reset_link_expires_after_the_password_reset_max_age(app, db_session, client):
    user = make_user("late@school.example")
    db_session.commit()
    client.post("/password/forgot", data={"email": user.email})
    link = _link(db_session, user.email, "/password/reset/")
    max_age = app.config["PASSWORD_RESET_MAX_AGE"]
    clock.travel(max_age - timedelta(minutes=1))
    assert client.get(link).status_code == 200
    clock.travel(timedelta(minutes=2))
    response = _set_password(client, link)
    assert response.status_code == 400 and "expired" in _text(response)
    assert _sign_in(client, user.email, TEST_PASSWORD).status_code == 302


def test_a_reset_link_dies_once_the_password_changes_another_way(db_session, client, sign_in):
    user = make_user("twice@school.example")
    db_session.commit()
    client.post("/password/forgot", data={"email": user.email})
    first = _link(db_session, user.email, "/password/reset/")
    client.post("/password/forgot", data={"email": user.email})
    second = _link(db_session, user.email, "/password/reset/")
    assert _set_password(client, second).status_code == 302  # the other link is used
    client.post("/sign-out")
    assert _set_password(client, first, "a takeover passphrase 9").status_code == 400

    client.post("/password/forgot", data={"email": user.email})
    third = _link(db_session, user.email, "/password/reset/")
    sign_in(user, NEW_PASSWORD)
    client.post("/account", data={"current_password": NEW_PASSWORD,
                                  "password": "changed on the account page",
                                  "confirm": "changed on the account page"})
    client.post("/sign-out")
    response = client.get(third)
    assert response.status_code == 400 and "already been used" in _text(response)


def test_a_reset_lets_a_locked_out_person_back_in(app, db_session, client):
    user = make_user("locked@school.example")
    db_session.commit()
    _fail(client, user.email, app.config["SIGN_IN_MAX_FAILURES"], address="10.0.4.1")
    assert TOO_MANY in _text(_sign_in(client, user.email, TEST_PASSWORD, address="10.0.4.2"))
    client.post("/password/forgot", data={"email": user.email})
    assert _set_password(client, _link(db_session, user.email, "/password/reset/")).status_code \
        == 302
    client.post("/sign-out")
    assert _sign_in(client, user.email, NEW_PASSWORD, address="10.0.4.2").status_code == 302


# --- email verification -----------------------------------------------------------------


def test_an_email_verification_link_confirms_the_address_and_works_only_once(
    db_session, client, sign_in
):
    user = make_user("verify@school.example")
    user.email_verified_at = None
    db_session.commit()
    sign_in(user)
    assert "Not confirmed" in _text(client.get("/account"))
    client.post("/account/verify-email")
    link = _link(db_session, user.email, "/account/verify/")
    response = client.get(link)
    assert response.status_code == 302
    assert _fresh(db_session, user).email_verified_at is not None
    assert "Confirmed" in _text(client.get("/account"))
    again = client.get(link)
    assert again.status_code == 400 and "already been used" in _text(again)


def test_an_email_verification_link_expires(app, db_session, client, sign_in):
    user = make_user("slow@school.example")
    user.email_verified_at = None
    db_session.commit()
    sign_in(user)
    client.post("/account/verify-email")
    link = _link(db_session, user.email, "/account/verify/")
    clock.travel(app.config["EMAIL_VERIFICATION_MAX_AGE"] + timedelta(minutes=1))
    response = client.get(link)
    assert response.status_code == 400 and "expired" in _text(response)
    assert _fresh(db_session, user).email_verified_at is None


def test_asking_for_a_verification_link_needs_the_form_token(db_session, client, sign_in):
    user = make_user("csrf@school.example")
    user.email_verified_at = None
    db_session.commit()
    sign_in(user)
    assert client.post("/account/verify-email", csrf=False).status_code == 400
    assert _emails_to(db_session, user.email) == []
