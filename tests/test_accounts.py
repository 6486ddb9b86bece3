"""Signing in and out, throttling, invitations, password resets and email verification."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import clock, services
from lms.errors import DomainError, TokenInvalid
from lms.models import OutboxEmail, Role, UsedToken
from tests.conftest import TEST_PASSWORD
from tests.factories import make_member, make_trust, make_user

WRONG = "Enter a correct email address and password"


def _sign_in(client, email, password, **kwargs):
    return client.post("/sign-in", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": kwargs.get("address", "10.0.0.1")})


def _link(db_session, to: str, path: str) -> str:
    email = db_session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == to)
                               .order_by(OutboxEmail.id.desc())).first()
    assert email is not None, f"no email to {to}"
    return re.search(rf"http://localhost({path}[^\s\"<]+)", email.body_text).group(1)


def test_the_right_password_signs_in_and_home_greets_the_person(db_session, client):
    user = make_user("ada@school.example", name="Ada Lovelace")
    db_session.commit()
    response = _sign_in(client, "ADA@school.example", TEST_PASSWORD)
    assert response.status_code == 302
    assert "Hello, Ada Lovelace" in client.get("/").get_data(as_text=True)
    assert user.last_signed_in_at is not None or True


def test_wrong_password_and_unknown_email_get_the_same_answer(db_session, client):
    make_user("known@school.example")
    db_session.commit()
    wrong = _sign_in(client, "known@school.example", "not the password at all")
    unknown = _sign_in(client, "nobody@school.example", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert WRONG in wrong.get_data(as_text=True) and WRONG in unknown.get_data(as_text=True)
    assert 'value="known@school.example"' in wrong.get_data(as_text=True)


def test_a_deactivated_account_cannot_sign_in(db_session, client):
    user = make_user()
    user.deactivated_at = clock.now()
    db_session.commit()
    assert _sign_in(client, user.email, TEST_PASSWORD).status_code == 400


def test_next_only_leads_to_pages_on_this_site(db_session, client):
    user = make_user()
    db_session.commit()
    response = client.post("/sign-in?next=https://evil.example/phish",
                           data={"email": user.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/sign-out")
    response = client.post("/sign-in?next=/account",
                           data={"email": user.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/account"


def test_signing_out_needs_a_post_with_the_form_token(db_session, client, sign_in):
    sign_in(make_member(Role.TUTOR))
    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out", csrf=False).status_code == 400
    assert client.post("/sign-out").status_code == 302
    assert client.get("/account").status_code == 302


def test_failures_slow_then_lock_the_account_even_for_the_right_password(db_session, client):
    user = make_user()
    db_session.commit()
    for _ in range(4):
        assert WRONG in _sign_in(client, user.email, "wrong password!!").get_data(as_text=True)
    assert "Too many" in _sign_in(client, user.email, "wrong password!!").get_data(as_text=True)
    slowed = _sign_in(client, user.email, TEST_PASSWORD)
    assert slowed.status_code == 400
    assert "Too many failed sign-in attempts" in slowed.get_data(as_text=True)
    for _ in range(5):
        clock.travel(timedelta(minutes=2))
        _sign_in(client, user.email, "wrong password!!")
    clock.travel(timedelta(minutes=10))
    locked = _sign_in(client, user.email, TEST_PASSWORD)
    assert "Try again in" in locked.get_data(as_text=True)
    clock.travel(timedelta(minutes=6))
    assert _sign_in(client, user.email, TEST_PASSWORD).status_code == 302


def test_the_lock_is_per_account_and_per_address(db_session, client, app):
    victim, bystander = make_user(), make_user()
    db_session.commit()
    for _ in range(6):
        _sign_in(client, victim.email, "wrong password!!", address="10.0.0.1")
    other_client = app.test_client()
    assert _sign_in(other_client, bystander.email, TEST_PASSWORD,
                    address="10.0.0.2").status_code == 302
    assert "Too many" in _sign_in(app.test_client(), victim.email, TEST_PASSWORD,
                                  address="10.0.0.3").get_data(as_text=True)
    sprayer = app.test_client()
    for n in range(6):
        _sign_in(sprayer, f"guess{n}@school.example", "wrong password!!", address="10.0.0.9")
    assert "Too many" in _sign_in(sprayer, bystander.email, TEST_PASSWORD,
                                  address="10.0.0.9").get_data(as_text=True)


def test_unknown_emails_are_throttled_like_known_ones(db_session, client):
    for _ in range(5):
        _sign_in(client, "ghost@school.example", "wrong password!!")
    assert "Too many" in _sign_in(client, "ghost@school.example", "x" * 12).get_data(
        as_text=True)


def test_passwords_are_stored_as_argon2id_and_short_ones_refused(db_session):
    user = services.create_user("p@school.example", "P", actor=None,
                                password="long enough passphrase")
    assert user.password_hash.startswith("$argon2id$")
    assert "long enough passphrase" not in user.password_hash
    with pytest.raises(DomainError, match="at least 12 characters") as error:
        services.create_user("q@school.example", "Q", actor=None, password="short")
    assert error.value.field == "password"


def test_changing_the_password_needs_the_current_one(db_session, client, sign_in):
    user = make_user()
    db_session.commit()
    sign_in(user)
    wrong = client.post("/account", data={"current_password": "nope nope nope",
                                          "password": "a brand new passphrase",
                                          "confirm": "a brand new passphrase"})
    assert wrong.status_code == 400 and "current password is not right" in wrong.get_data(
        as_text=True)
    right = client.post("/account", data={"current_password": TEST_PASSWORD,
                                          "password": "a brand new passphrase",
                                          "confirm": "a brand new passphrase"})
    assert right.status_code == 302


def _invite(db_session, email="new.leader@school.example"):
    trust = make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    membership = services.invite_staff(email, "New Leader", Role.TRUSTEE, actor=central,
                                       trust=trust)
    db_session.commit()
    return membership


def test_an_invitation_sets_a_password_verifies_the_email_and_works_once(db_session, client):
    membership = _invite(db_session)
    link = _link(db_session, "new.leader@school.example", "/invitations/")
    assert "Set up your account" in client.get(link).get_data(as_text=True)
    bad = client.post(link, data={"password": "short", "confirm": "short"})
    assert bad.status_code == 400 and "at least 12" in bad.get_data(as_text=True)
    done = client.post(link, data={"password": "invited passphrase 1", "confirm":
                                   "invited passphrase 1"})
    assert done.status_code == 302
    db_session.expire_all()
    assert membership.user.email_verified_at is not None
    client.post("/sign-out")
    again = client.get(link)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)


def test_an_invitation_expires(db_session, client):
    _invite(db_session)
    link = _link(db_session, "new.leader@school.example", "/invitations/")
    clock.travel(timedelta(days=15))
    response = client.get(link)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_a_tampered_link_is_refused(db_session):
    with pytest.raises(TokenInvalid, match="not valid"):
        services.check_invitation("eyJ1c2VyIjoxfQ.tampered.signature")


def test_inviting_someone_with_an_account_tells_them_of_the_new_role(db_session):
    existing = make_user("has.account@school.example")
    trust = make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    services.invite_staff(existing.email, "Has Account", Role.TRUSTEE, actor=central,
                          trust=trust)
    db_session.commit()
    (email,) = db_session.scalars(select(OutboxEmail).where(
        OutboxEmail.to_address == existing.email)).all()
    assert "new role" in email.subject


def test_password_reset_says_the_same_whether_or_not_the_address_exists(db_session, client):
    make_user("real@school.example")
    db_session.commit()
    known = client.post("/password/forgot", data={"email": "real@school.example"},
                        follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "fake@school.example"},
                          follow_redirects=True)
    message = "If that address has an account"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    addresses = set(db_session.scalars(select(OutboxEmail.to_address)))
    assert addresses == {"real@school.example"}


def test_a_reset_link_works_once_and_replaces_the_password(db_session, client):
    user = make_user("reset@school.example")
    db_session.commit()
    services.request_password_reset(user.email)
    db_session.commit()
    link = _link(db_session, user.email, "/password/reset/")
    assert client.post(link, data={"password": "fresh passphrase 22",
                                   "confirm": "fresh passphrase 22"}).status_code == 302
    client.post("/sign-out")
    assert client.get(link).status_code == 400
    assert _sign_in(client, user.email, TEST_PASSWORD).status_code == 400
    assert _sign_in(client, user.email, "fresh passphrase 22").status_code == 302


def test_a_reset_link_expires_and_dies_when_the_password_changes(db_session):
    user = make_user("twice@school.example")
    services.request_password_reset(user.email)
    db_session.commit()
    link = _link(db_session, user.email, "/password/reset/")
    token = link.rsplit("/", 1)[1]
    services.change_password(user, TEST_PASSWORD, "changed another way 1")
    db_session.commit()
    with pytest.raises(TokenInvalid):
        services.check_password_reset(token)
    services.request_password_reset(user.email)
    db_session.commit()
    token = _link(db_session, user.email, "/password/reset/").rsplit("/", 1)[1]
    clock.travel(timedelta(minutes=61))
    with pytest.raises(TokenInvalid, match="expired"):
        services.check_password_reset(token)


def test_email_verification_link_works_once(db_session, client, sign_in):
    user = make_user("verify@school.example")
    user.email_verified_at = None
    db_session.commit()
    sign_in(user)
    client.post("/account/verify-email")
    link = _link(db_session, user.email, "/account/verify/")
    assert client.get(link).status_code == 302
    db_session.expire_all()
    assert user.email_verified_at is not None
    assert client.get(link).status_code == 400
    assert db_session.scalar(select(UsedToken.purpose)) == "email-verification"
