"""Two-factor sign-in: RFC 6238 codes, set-up, the challenge, recovery codes, throttling, the
pending sign-in, the account page, an admin's reset and the command line."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, IntegerConverter

from lms.accounts import services as accounts
from lms.accounts import two_factor
from lms.accounts.models import RecoveryCode, User
from lms.accounts.security import (
    group_secret,
    hotp,
    normalise_recovery_code,
    totp,
    totp_key,
    totp_match,
    totp_step,
)
from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.organisations import people
from lms.platform import clock
from lms.platform.crypto import decrypt, keyed_hash
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from tests.conftest import TEST_PASSWORD
from tests.factories import make_member, make_school

#: RFC 6238's example key, "12345678901234567890", in base32.
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
KEY = totp_key(SECRET)
CHALLENGE = "/sign-in/two-factor"
SET_UP = "/sign-in/two-factor/set-up"
CODES = "/sign-in/two-factor/recovery-codes"
NOT_RIGHT = two_factor.CODE_NOT_RIGHT
TOO_MANY = "Too many failed sign-in attempts"
STEP = timedelta(seconds=30)


@pytest.fixture(autouse=True)
def _at_the_start_of_a_step(_fresh_state):
    """Codes belong to 30-second steps of the clock, which runs on in real time. Each test
    starts at the beginning of a step, so the step cannot change between making a code and
    sending it, however slow the machine."""
    now = clock.now()
    clock.travel_to(now - timedelta(seconds=now.timestamp() % STEP.total_seconds()))


def _text(response) -> str:
    return response.get_data(as_text=True)


def _password(client, user: User, next: str = ""):
    url = "/sign-in" + (f"?next={quote(next, safe='')}" if next else "")
    return client.post(url, data={"email": user.email, "password": TEST_PASSWORD})


def _code(at: timedelta = timedelta(0)) -> str:
    return totp(KEY, clock.now() + at)


def _enrolled(db_session, user: User) -> list[str]:
    """Set ``SECRET`` up for ``user`` with a code from the step before now, so the code of
    the current step is still unused; returns their recovery codes."""
    codes = two_factor.enable_two_factor(user, SECRET, _code(-STEP))
    db_session.commit()
    return codes


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def _error(response) -> str:
    match = re.search(r'<p class="error-message"[^>]*><span[^>]*>Error:</span> ([^<]+)</p>',
                      _text(response))
    return match.group(1) if match else ""


@pytest.fixture
def central(db_session):
    user = make_member(Role.CENTRAL_TEAM, email="central@trust.example", name="Cara Central")
    db_session.commit()
    return user


# --- the codes themselves (RFC 4226 and RFC 6238) ---------------------------------------


RFC_6238_SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC_6238_VECTORS = [
    # Unix time, SHA-1, SHA-256, SHA-512 (RFC 6238 appendix B, 8 digits)
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("unix_time", "sha1", "sha256", "sha512"), RFC_6238_VECTORS)
def test_codes_match_the_rfc_6238_test_vectors(unix_time, sha1, sha256, sha512):
    moment = datetime.fromtimestamp(unix_time, UTC)
    for digest, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert totp(RFC_6238_SEEDS[digest], moment, digits=8, digest=digest) == expected


def test_codes_match_the_rfc_4226_hotp_test_vectors():
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922",
                "162583", "399871", "520489"]
    assert [hotp(RFC_6238_SEEDS["sha1"], counter) for counter in range(10)] == expected


def test_the_platform_uses_six_digit_sha1_codes_of_thirty_seconds():
    moment = datetime.fromtimestamp(59, UTC)
    assert totp_step(moment) == 1
    assert totp(KEY, moment) == "287082"  # the last six digits of RFC 6238's 94287082
    assert totp_match(KEY, "287082", moment, after=None) == 1
    assert totp_match(KEY, " 287 082 ", moment, after=None) == 1
    assert totp_match(KEY, "287082", moment, after=1) is None  # that step is used
    for wrong in ("287083", "28708", "2870822", "abcdef", "٢٨٧٠٨٢", ""):
        assert totp_match(KEY, wrong, moment, after=None) is None


def test_recovery_codes_are_read_forgivingly_but_must_be_well_formed():
    assert normalise_recovery_code(" ABCD-EFGH-JK ") == "abcdefghjk"
    assert normalise_recovery_code("abcd efgh jk") == "abcdefghjk"
    assert normalise_recovery_code("0lio-efgh-jk") == "0110efghjk"  # Crockford's readings
    for bad in ("abcd-efgh-j", "abcd-efgh-jkk", "abcd-efgh-j!", "123456", ""):
        assert normalise_recovery_code(bad) is None


# --- clock drift and replays ----------------------------------------------------------------


def test_a_code_from_one_step_either_side_is_accepted_but_not_two(db_session, central):
    _enrolled(db_session, central)
    clock.travel(STEP * 10)
    behind, ahead = _code(-STEP), _code(STEP)
    too_old, too_new = _code(-2 * STEP), _code(2 * STEP)
    for code in (too_old, too_new):
        with pytest.raises(DomainError, match="Enter a correct code"):
            two_factor.check_second_factor(central, code)
    assert two_factor.check_second_factor(central, behind) == two_factor.TOTP
    assert two_factor.check_second_factor(central, ahead) == two_factor.TOTP


def test_a_phone_running_thirty_seconds_slow_still_signs_in(db_session, client, central):
    _enrolled(db_session, central)
    clock.travel(STEP * 2)  # their last code was from three steps ago
    slow_phone_code = _code(-STEP)
    assert _password(client, central).headers["Location"] == CHALLENGE
    response = client.post(CHALLENGE, data={"code": slow_phone_code})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _signed_in(client)


def test_a_code_is_refused_the_second_time_and_so_is_an_older_one(db_session, client, central):
    _enrolled(db_session, central)
    code = _code()
    _password(client, central)
    assert client.post(CHALLENGE, data={"code": code}).status_code == 302
    client.post("/sign-out")
    _password(client, central)
    replay = client.post(CHALLENGE, data={"code": code})
    assert replay.status_code == 400 and _error(replay) == NOT_RIGHT
    older = client.post(CHALLENGE, data={"code": _code(-STEP)})
    assert older.status_code == 400 and _error(older) == NOT_RIGHT
    assert not _signed_in(client)
    clock.travel(STEP)
    assert client.post(CHALLENGE, data={"code": _code()}).status_code == 302
    assert db_session.get(User, central.id).totp_last_step == totp_step(clock.now())


# --- recovery codes -------------------------------------------------------------------------


def test_a_recovery_code_signs_in_once_only(db_session, client, central):
    codes = _enrolled(db_session, central)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{2}", c) for c in codes)
    _password(client, central)
    page = client.get(CHALLENGE + "?recovery=1")
    assert "Recovery code" in _text(page)
    response = client.post(CHALLENGE + "?recovery=1", data={"code": codes[3].upper()})
    assert response.status_code == 302 and _signed_in(client)
    assert "You have 9 left" in _text(client.get("/"))
    client.post("/sign-out")
    _password(client, central)
    again = client.post(CHALLENGE + "?recovery=1", data={"code": codes[3]})
    assert again.status_code == 400 and _error(again) == NOT_RIGHT
    assert not _signed_in(client)
    used = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "user.recovery_code_used")).all()
    assert len(used) == 1 and used[0].object_id == str(central.id)
    before, after = used[0].changes["recovery_code_id"]
    assert list(used[0].changes) == ["recovery_code_id"] and before is None
    assert isinstance(after, int)


def test_only_hashes_of_recovery_codes_are_stored(db_session, central):
    codes = _enrolled(db_session, central)
    stored = set(db_session.scalars(select(RecoveryCode.code_hash)))
    assert stored == {keyed_hash(normalise_recovery_code(c), "recovery-code") for c in codes}
    for code in codes:
        assert not any(code.replace("-", "") in h or code in h for h in stored)


# --- throttling -----------------------------------------------------------------------------


def test_every_kind_of_wrong_code_gets_the_same_answer(db_session, client, central):
    codes = _enrolled(db_session, central)
    two_factor.check_second_factor(central, codes[0])
    db_session.commit()
    _password(client, central)
    wrong_digits = str((int(_code()) + 1) % 1_000_000).zfill(6)
    answers = [client.post(CHALLENGE, data={"code": code})
               for code in (wrong_digits, codes[0], "not a code at all", _code(-STEP))]
    assert [a.status_code for a in answers] == [400] * 4
    assert {_error(a) for a in answers} == {NOT_RIGHT}


def test_wrong_codes_slow_then_lock_the_second_factor(db_session, client, central, app):
    _enrolled(db_session, central)
    _password(client, central)
    wrong = str((int(_code()) + 500_000) % 1_000_000).zfill(6)
    slow_after = app.config["SIGN_IN_SLOW_AFTER"]
    for _ in range(slow_after - 1):
        assert _error(client.post(CHALLENGE, data={"code": wrong})) == NOT_RIGHT
    assert TOO_MANY in _error(client.post(CHALLENGE, data={"code": wrong}))
    slowed = client.post(CHALLENGE, data={"code": _code()})
    assert slowed.status_code == 400 and TOO_MANY in _error(slowed)
    # Waiting out each pause, the failures go on to the lock.
    for _ in range(app.config["SIGN_IN_MAX_FAILURES"] - slow_after):
        clock.travel(timedelta(seconds=33))
        client.post(CHALLENGE, data={"code": wrong})
    clock.travel(timedelta(seconds=40))
    locked = client.post(CHALLENGE, data={"code": _code()})
    assert locked.status_code == 400
    assert _error(locked) == "Too many failed sign-in attempts. Try again in 15 minutes."
    assert not _signed_in(client)
    clock.travel(app.config["SIGN_IN_LOCK"])
    _password(client, central)  # the pending sign-in has expired meanwhile
    assert client.post(CHALLENGE, data={"code": _code()}).status_code == 302


# --- the pending sign-in --------------------------------------------------------------------


def test_the_pending_sign_in_expires_after_ten_minutes(db_session, client, central):
    _enrolled(db_session, central)
    assert _password(client, central).headers["Location"] == CHALLENGE
    clock.travel(timedelta(minutes=10, seconds=1))
    response = client.post(CHALLENGE, data={"code": _code()})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    page = _text(client.get("/sign-in"))
    assert "took more than 10 minutes" in page
    assert not _signed_in(client)


def test_going_back_to_the_sign_in_page_starts_over(db_session, client, central):
    _enrolled(db_session, central)
    _password(client, central)
    assert client.get(CHALLENGE).status_code == 200
    client.get("/sign-in")
    assert client.get(CHALLENGE).headers["Location"] == "/sign-in"
    assert client.post(CHALLENGE, data={"code": _code()}).headers["Location"] == "/sign-in"
    assert not _signed_in(client)


def test_next_survives_the_second_factor(db_session, client, central):
    _enrolled(db_session, central)
    _password(client, central, next="/account")
    response = client.post(CHALLENGE, data={"code": _code()})
    assert response.headers["Location"] == "/account"
    client.post("/sign-out")
    clock.travel(STEP)
    _password(client, central, next="//evil.example/")
    response = client.post(CHALLENGE, data={"code": _code()})
    assert response.headers["Location"] == "/"


def test_a_required_role_reaches_no_page_before_setting_up(app, db_session, client, central):
    response = _password(client, central)
    assert response.headers["Location"] == SET_UP
    assert not _signed_in(client)
    assert client.get(CHALLENGE).headers["Location"] == SET_UP
    assert client.get(CODES).headers["Location"] == CHALLENGE
    reached, tried = [], 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint == "static" or view.access in ("public", "second_factor"):
            continue
        values = {name: _any_value(rule._converters[name]) for name in rule.arguments}
        url = rule.build(values)[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method,
                                    data={"csrf_token": client.csrf_token()})
            location = response.headers.get("Location", "")
            tried += 1
            if response.status_code != 302 or not location.startswith("/sign-in?"):
                reached.append((method, url, response.status_code))
    assert reached == [] and tried > 50
    # Still pending and still not set up: the set-up page is where they stand.
    page = client.get(SET_UP)
    assert page.status_code == 200 and not _signed_in(client)
    assert db_session.get(User, central.id).two_factor_enabled_at is None


def _any_value(converter):
    if isinstance(converter, IntegerConverter):
        return 1
    return sorted(converter.items)[0] if isinstance(converter, AnyConverter) else "x"


def test_the_codes_must_be_confirmed_saved_before_signing_in(db_session, client, central):
    _password(client, central)
    secret = re.search(r"secret=([A-Z2-7]+)", _text(client.get(SET_UP))).group(1)
    client.post(SET_UP, data={"code": totp(totp_key(secret), clock.now())})
    unconfirmed = client.post(CODES, data={})
    assert unconfirmed.status_code == 400
    assert "Confirm that you have saved the recovery codes" in _text(unconfirmed)
    assert not _signed_in(client)
    # Two-factor sign-in is on already: starting again asks for a code, not a new set-up.
    client.get("/sign-in")
    assert _password(client, central).headers["Location"] == CHALLENGE
    assert client.get(SET_UP).headers["Location"] == CHALLENGE


# --- setting up -----------------------------------------------------------------------------


def test_setting_up_shows_a_key_and_qr_code_then_the_recovery_codes_once(db_session, client,
                                                                          central):
    _password(client, central)
    page = client.get(SET_UP)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    body = _text(page)
    uri = re.search(r'href="(otpauth://totp/[^"]+)"', body).group(1).replace("&amp;", "&")
    secret = re.search(r"secret=([A-Z2-7]{32})&", uri).group(1)
    assert "issuer=Tutor%20Endorsement%20Platform" in uri and "digits=6" in uri
    assert "period=30" in uri and "algorithm=SHA1" in uri
    assert group_secret(secret) in body and '<svg xmlns="http://www.w3.org/2000/svg"' in body
    assert "<script" not in body and "style=" not in body
    assert secret in _text(client.get(SET_UP)), "reloading keeps the same key"
    wrong = client.post(SET_UP, data={"code": "000000" if totp(
        totp_key(secret), clock.now()) != "000000" else "111111"})
    assert wrong.status_code == 400 and _error(wrong) == NOT_RIGHT
    confirmed = client.post(SET_UP, data={"code": totp(totp_key(secret), clock.now())})
    assert confirmed.headers["Location"] == CODES
    shown = client.get(CODES)
    assert "no-store" in shown.headers["Cache-Control"]
    codes = re.findall(r"<li>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{2})</li>", _text(shown))
    assert len(codes) == 10
    assert not _signed_in(client)
    done = client.post(CODES, data={"saved": "y"})
    assert done.status_code == 302 and done.headers["Location"] == "/" and _signed_in(client)
    assert client.get("/sign-in/two-factor/recovery-codes").headers["Location"] == "/sign-in"
    assert client.get("/account/two-factor/recovery-codes").headers["Location"] == "/account"
    user = db_session.get(User, central.id)
    assert user.two_factor_enabled and two_factor.secret_of(user) == secret
    assert two_factor.recovery_codes_left(user) == 10
    (entry,) = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "user.two_factor_enabled")).all()
    assert entry.object_id == str(user.id) and entry.actor_id == user.id


def test_a_tutor_is_not_asked_for_a_second_factor(db_session, client):
    tutor = make_member(Role.TUTOR)
    leader = make_member(Role.SCHOOL_LEADER)
    db_session.commit()
    for person in (tutor, leader):
        response = _password(client, person)
        assert response.headers["Location"] == "/" and _signed_in(client)
        client.post("/sign-out")


@pytest.mark.parametrize("role", [Role.CENTRAL_TEAM, Role.TRUSTEE, Role.PROGRAMME_ADMIN])
def test_each_role_that_needs_it_is_sent_to_set_up(db_session, client, role):
    person = make_member(role)
    db_session.commit()
    assert _password(client, person).headers["Location"] == SET_UP


def test_an_ended_role_no_longer_needs_it_but_a_chosen_set_up_stays(db_session, client, central):

    _enrolled(db_session, central)
    people.end_membership(central.memberships[0], actor=None, reason="Left the trust")
    db_session.commit()
    assert not central.two_factor_required
    assert _password(client, central).headers["Location"] == CHALLENGE


def test_a_password_reset_link_does_not_skip_the_second_factor(db_session, client, central):

    _enrolled(db_session, central)
    accounts.request_password_reset(central.email)
    db_session.commit()
    email = db_session.scalars(select(OutboxEmail).where(
        OutboxEmail.to_address == central.email).order_by(OutboxEmail.id.desc())).first()
    link = re.search(r"http://localhost(/password/reset/\S+)", email.body_text).group(1)
    response = client.post(link, data={"password": "a fresh passphrase 2026",
                                       "confirm": "a fresh passphrase 2026"})
    assert response.headers["Location"] == CHALLENGE and not _signed_in(client)
    assert client.post(CHALLENGE, data={"code": _code()}).status_code == 302
    assert _signed_in(client)


# --- the account page -----------------------------------------------------------------------


def test_anyone_may_turn_it_on_and_is_then_asked_every_time(db_session, client, sign_in):
    leader = make_member(Role.SCHOOL_LEADER, school=make_school())
    db_session.commit()
    sign_in(leader)
    assert "Turn on two-factor sign-in" in _text(client.get("/account"))
    page = _text(client.get("/account/two-factor/set-up"))
    secret = re.search(r"secret=([A-Z2-7]+)", page).group(1)
    response = client.post("/account/two-factor/set-up",
                           data={"code": totp(totp_key(secret), clock.now())})
    assert response.headers["Location"] == "/account/two-factor/recovery-codes"
    assert len(re.findall(r"<li>[0-9a-z-]{12}</li>", _text(client.get(
        "/account/two-factor/recovery-codes")))) == 10
    client.post("/account/two-factor/recovery-codes", data={"saved": "y"})
    account = _text(client.get("/account"))
    assert "You have 10 unused recovery codes" in account
    client.post("/sign-out")
    assert _password(client, leader).headers["Location"] == CHALLENGE


def test_turning_it_off_needs_a_current_code_and_a_role_that_allows_it(db_session, client,
                                                                       sign_in):
    leader = make_member(Role.SCHOOL_LEADER, school=make_school())
    db_session.commit()
    _enrolled(db_session, leader)
    sign_in(leader)
    clock.travel(STEP)
    refused = client.post("/account/two-factor/turn-off", data={"turn-off-code": "123"})
    assert refused.status_code == 400 and NOT_RIGHT in _text(refused)
    done = client.post("/account/two-factor/turn-off", data={"turn-off-code": _code()})
    assert done.headers["Location"] == "/account"
    user = db_session.get(User, leader.id)
    assert not user.two_factor_enabled and user.totp_secret_encrypted is None
    assert db_session.scalar(select(func.count(RecoveryCode.id))) == 0
    assert db_session.scalars(select(OutboxEmail.subject).where(
        OutboxEmail.to_address == leader.email)).all()[-1] == \
        "Two-factor sign-in is now off for your account"
    client.post("/sign-out")
    assert _password(client, leader).headers["Location"] == "/"


def test_a_role_that_needs_it_cannot_turn_it_off(db_session, client, sign_in, central):
    sign_in(central)
    page = _text(client.get("/account"))
    assert "Turn off two-factor sign-in" not in page and "cannot be turned off" in page
    clock.travel(STEP)
    refused = client.post("/account/two-factor/turn-off", data={"turn-off-code": _code()})
    assert refused.status_code == 400 and "Your role needs two-factor sign-in" in _text(refused)
    assert db_session.get(User, central.id).two_factor_enabled


def test_new_recovery_codes_need_a_current_code_and_replace_the_old(db_session, client,
                                                                    sign_in, central):
    sign_in(central)
    old = client.recovery_codes
    refused = client.post("/account/two-factor/recovery-codes/new",
                          data={"new-codes-code": "999999"})
    assert refused.status_code == 400 and NOT_RIGHT in _text(refused)
    response = client.post("/account/two-factor/recovery-codes/new",
                           data={"new-codes-code": old[0]})
    assert response.headers["Location"] == "/account/two-factor/recovery-codes"
    new = re.findall(r"<li>([0-9a-z-]{12})</li>", _text(client.get(
        "/account/two-factor/recovery-codes")))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/account/two-factor/recovery-codes", data={"saved": "y"})
    client.post("/sign-out")
    _password(client, central)
    assert client.post(CHALLENGE, data={"code": old[1]}).status_code == 400
    assert client.post(CHALLENGE, data={"code": new[1]}).status_code == 302


# --- a lost phone: an admin's reset and the command line ------------------------------------


def test_a_programme_admin_resets_a_lost_phone_with_a_reason(db_session, client, sign_in,
                                                             central):
    admin = make_member(Role.PROGRAMME_ADMIN, name="Ada Admin")
    db_session.commit()
    _enrolled(db_session, central)
    sign_in(admin)
    page = _text(client.get(f"/users/{central.id}"))
    assert "Reset two-factor sign-in" in page
    no_reason = client.post(f"/users/{central.id}/two-factor/reset", data={})
    assert no_reason.status_code == 302
    assert db_session.get(User, central.id).two_factor_enabled
    response = client.post(f"/users/{central.id}/two-factor/reset",
                           data={"two-factor-reason": "Lost phone; identity checked by call"})
    assert response.headers["Location"] == f"/users/{central.id}"
    user = db_session.get(User, central.id)
    assert not user.two_factor_enabled and user.totp_secret_encrypted is None
    (entry,) = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "user.two_factor_reset")).all()
    assert entry.actor_id == admin.id and entry.reason == "Lost phone; identity checked by call"
    assert set(entry.changes) == {"two_factor_enabled_at"}
    assert db_session.scalars(select(OutboxEmail.subject).where(
        OutboxEmail.to_address == central.email)).all()[-1] == \
        "Your two-factor sign-in has been reset"
    client.post("/sign-out")
    assert _password(client, central).headers["Location"] == SET_UP


def test_only_a_programme_admin_may_reset_and_not_their_own(db_session, client, sign_in,
                                                            central):
    admin = make_member(Role.PROGRAMME_ADMIN)
    colleague = make_member(Role.CENTRAL_TEAM, trust=central.memberships[0].trust)
    db_session.commit()
    _enrolled(db_session, colleague)
    sign_in(central)
    assert "Reset two-factor sign-in" not in _text(client.get(f"/users/{colleague.id}"))
    refused = client.post(f"/users/{colleague.id}/two-factor/reset",
                          data={"two-factor-reason": "Because"})
    assert refused.status_code == 403
    assert db_session.get(User, colleague.id).two_factor_enabled
    client.post("/sign-out")
    sign_in(admin)
    client.post(f"/users/{admin.id}/two-factor/reset", data={"two-factor-reason": "Mine"})
    assert "You cannot reset your own" in _text(client.get("/"))
    assert db_session.get(User, admin.id).two_factor_enabled


def test_the_command_line_resets_a_person(app, db_session, central):
    _enrolled(db_session, central)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-2fa", "--email", central.email,
                                 "--reason", "Lost phone, ticket 4411"])
    assert result.exit_code == 0, result.output
    assert "reset" in result.output
    db_session.expire_all()
    assert not db_session.get(User, central.id).two_factor_enabled
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "user.two_factor_reset")).one()
    assert entry.actor_id is None and entry.reason == "Lost phone, ticket 4411"
    again = runner.invoke(args=["users", "reset-2fa", "--email", central.email,
                                "--reason", "Twice"])
    assert again.exit_code != 0 and "has not set up two-factor sign-in" in again.output
    unknown = runner.invoke(args=["users", "reset-2fa", "--email", "nobody@x.example",
                                  "--reason", "x"])
    assert unknown.exit_code != 0 and "No account" in unknown.output


# --- the secret stays secret ------------------------------------------------------------------


def test_the_secret_is_encrypted_at_rest_and_never_logged_or_audited(app, db_session, client,
                                                                     central, caplog):
    caplog.set_level(logging.DEBUG)
    _password(client, central)
    secret = re.search(r"secret=([A-Z2-7]+)", _text(client.get(SET_UP))).group(1)
    with client.session_transaction() as session:
        assert secret not in json.dumps(dict(session), default=str)
    client.post(SET_UP, data={"code": totp(totp_key(secret), clock.now())})
    codes = re.findall(r"<li>([0-9a-z-]{12})</li>", _text(client.get(CODES)))
    client.post(CODES, data={"saved": "y"})
    with client.session_transaction() as session:
        assert not any(code in json.dumps(dict(session), default=str) for code in codes)
    from lms.platform.extensions import db

    stored = db.session.execute(select(User.totp_secret_encrypted).where(
        User.id == central.id)).scalar_one()
    assert secret.encode() not in stored and totp_key(secret) not in stored
    assert decrypt(stored, "totp-secret").decode() == secret
    client.post("/sign-out")
    clock.travel(STEP)
    _password(client, central)
    client.post(CHALLENGE, data={"code": codes[0]})
    admin = make_member(Role.PROGRAMME_ADMIN)
    two_factor.reset_two_factor(central, actor=admin, reason="Lost phone")
    db_session.commit()
    audited = json.dumps([[e.action, e.changes, e.reason] for e in db_session.scalars(
        select(AuditEntry))])
    assert "user.two_factor_enabled" in audited and "user.recovery_code_used" in audited
    for value in (secret, group_secret(secret), *codes, *(c.replace("-", "") for c in codes)):
        assert value not in audited
        assert value not in caplog.text
    assert "two-factor sign-in turned on for user" in caplog.text
