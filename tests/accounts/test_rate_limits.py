"""Rate limits hold, in memory (one process) and in Redis (every process as one): sign-in,
password resets, the public verification pages, and the provider API.

Limits count per ``request.remote_addr``: no proxy is configured (no ``ProxyFix``), so an
``X-Forwarded-For`` header is the client's own word and changes nothing. The memory store
counts on the platform's clock (so a test can travel past a window); Redis expires keys on
its own clock, so the Redis runs check that limits hold and are shared, not that they end.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from credentials.providers import services as providers
from lms.accounts import services as accounts
from lms.notifications.models import OutboxEmail
from lms.platform import clock
from lms.platform.counters import MemoryCounterStore, RedisCounterStore
from lms.platform.extensions import db
from tests.conftest import TEST_PASSWORD, need_service, redis_url
from tests.factories import make_endorsement, make_provider, make_user

TOO_MANY = "Too many failed sign-in attempts"
WRONG = "Enter a correct email address and password"
RESET_SENT = "If that address has an account, we have sent it a link"
API = "/api/v1/verifications"


@pytest.fixture(params=["memory", "redis"])
def store(request, app):
    """The counter store the app uses for this test: a fresh one in memory, or Redis (under a
    prefix of its own, so parallel runs sharing the database do not meet)."""
    if request.param == "memory":
        app.extensions["lms.counters"] = MemoryCounterStore()
        yield app.extensions["lms.counters"]
        return
    import redis

    url = redis_url()
    need_service("Redis", lambda: redis.Redis.from_url(url, socket_timeout=2).ping())
    prefix = f"lms-test-{uuid.uuid4().hex}:"
    app.extensions["lms.counters"] = RedisCounterStore(url, prefix=prefix)
    yield app.extensions["lms.counters"]
    connection = redis.Redis.from_url(url)
    keys = list(connection.scan_iter(prefix + "*"))
    if keys:
        connection.delete(*keys)
    connection.close()


def _in_memory(store) -> bool:
    return isinstance(store, MemoryCounterStore)


def _another_process(app, store):
    """The same counters as a second web process sees them: for Redis a second connection,
    for memory the same store (one process is all memory can be)."""
    if _in_memory(store):
        return store
    return RedisCounterStore(redis_url(), prefix=store._prefix)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _page(response) -> str:
    """The page without its form token (signed afresh each second)."""
    return re.sub(r'name="csrf_token"[^>]*>', "", _text(response))


def _error_summary(response) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', _text(response), re.S)
    return match.group(0) if match else ""


# --- sign-in ------------------------------------------------------------------------------


def _sign_in(client, email: str, password: str, address: str, **headers):
    return client.post("/sign-in", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def _fail(client, email: str, address: str) -> None:
    """One wrong password, after the slow-down from the last one has passed."""
    clock.travel(timedelta(minutes=1))
    _sign_in(client, email, "wrong password!!", address)


def test_sign_in_slows_after_five_failures_and_locks_after_ten_per_account_across_addresses(
        app, db_session, client, store):
    victim = make_user()
    db_session.commit()
    for n in range(app.config["SIGN_IN_SLOW_AFTER"]):
        _fail(client, victim.email, f"198.51.100.{n}")
    slowed = _sign_in(client, victim.email, TEST_PASSWORD, "198.51.100.99")
    assert slowed.status_code == 400 and TOO_MANY in _text(slowed)
    for n in range(app.config["SIGN_IN_SLOW_AFTER"], app.config["SIGN_IN_MAX_FAILURES"]):
        _fail(client, victim.email, f"198.51.100.{n}")
    clock.travel(timedelta(minutes=1))
    locked = _sign_in(client, victim.email, TEST_PASSWORD, "192.0.2.200")
    assert locked.status_code == 400 and f"{TOO_MANY}. Try again in 14 minutes." in _text(locked)
    # Another web process sees the same lock.
    app.extensions["lms.counters"] = _another_process(app, store)
    assert TOO_MANY in _text(_sign_in(client, victim.email, TEST_PASSWORD, "192.0.2.201"))
    clock.travel(app.config["SIGN_IN_LOCK"])
    assert _sign_in(client, victim.email, TEST_PASSWORD, "192.0.2.202").status_code == 302


def test_sign_in_locks_an_address_trying_many_accounts_but_not_the_accounts_elsewhere(
        app, db_session, store):
    bystander = make_user()
    known = [make_user() for _ in range(3)]
    db_session.commit()
    emails = [u.email for u in known] + [f"nobody{n}@school.example" for n in range(7)]
    sprayer = app.test_client()
    for email in emails[:app.config["SIGN_IN_MAX_FAILURES"]]:
        _fail(sprayer, email, "203.0.113.7")
    clock.travel(timedelta(minutes=1))
    refused = _sign_in(app.test_client(), bystander.email, TEST_PASSWORD, "203.0.113.7")
    assert refused.status_code == 400 and TOO_MANY in _text(refused)
    # The header is the client's own word: it does not move the request to another address.
    spoofed = _sign_in(app.test_client(), bystander.email, TEST_PASSWORD, "203.0.113.7",
                       **{"X-Forwarded-For": "192.0.2.55", "X-Real-IP": "192.0.2.55"})
    assert spoofed.status_code == 400 and TOO_MANY in _text(spoofed)
    assert _sign_in(app.test_client(), bystander.email, TEST_PASSWORD,
                    "203.0.113.8").status_code == 302
    assert _sign_in(app.test_client(), known[0].email, TEST_PASSWORD,
                    "203.0.113.9").status_code == 302


def test_failures_split_between_account_and_address_count_in_both(app, db_session, store):
    """Five failures on one account from address A, five on others from A, five on the
    account from B: A is locked (ten) and so is the account (ten), B is not."""
    victim, other = make_user(), make_user()
    db_session.commit()
    client = app.test_client()
    for _ in range(5):
        _fail(client, victim.email, "198.51.100.1")
    for n in range(5):
        _fail(client, f"guess{n}@school.example", "198.51.100.1")
    for _ in range(5):
        _fail(client, victim.email, "198.51.100.2")
    clock.travel(timedelta(minutes=1))
    assert TOO_MANY in _text(_sign_in(client, other.email, TEST_PASSWORD, "198.51.100.1"))
    assert TOO_MANY in _text(_sign_in(client, victim.email, TEST_PASSWORD, "198.51.100.3"))
    assert _sign_in(client, other.email, TEST_PASSWORD, "198.51.100.2").status_code == 302


def test_the_sign_in_answers_never_say_whether_an_account_exists(app, db_session, store):
    make_user("real@school.example")
    db_session.commit()
    known, unknown = app.test_client(), app.test_client()
    for attempt in range(app.config["SIGN_IN_MAX_FAILURES"] + 3):
        a = _sign_in(known, "real@school.example", "wrong password!!", "10.9.0.1")
        b = _sign_in(unknown, "fake@school.example", "wrong password!!", "10.9.0.2")
        assert (a.status_code, _error_summary(a)) == (b.status_code, _error_summary(b)), attempt
        assert WRONG in _text(a) or TOO_MANY in _text(a)
        clock.travel(timedelta(seconds=40))
    # Locked, the right password and any password for nobody get the same answer too.
    a = _sign_in(known, "real@school.example", TEST_PASSWORD, "10.9.0.1")
    b = _sign_in(unknown, "fake@school.example", TEST_PASSWORD, "10.9.0.2")
    assert (a.status_code, _error_summary(a)) == (b.status_code, _error_summary(b))
    assert TOO_MANY in _error_summary(a)


# --- password resets ----------------------------------------------------------------------


def _forgot(client, email: str, address: str = "10.1.0.1", **headers):
    return client.post("/password/forgot", data={"email": email},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def _sent_to(email: str) -> int:
    return len(db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.to_address == email, OutboxEmail.subject == "Reset your password")).all())


def test_reset_emails_to_one_address_stop_after_five_an_hour_with_the_same_answer(
        app, client, db_session, store):
    make_user("real@school.example")
    db_session.commit()
    answers = []
    for n in range(accounts.RESETS_PER_EMAIL + 3):
        for email in ("real@school.example", "fake@school.example"):
            response = _forgot(client, email if n % 2 else email.upper(), f"10.1.{n}.1")
            answers.append((response.status_code, response.headers.get("Location"),
                            _page(client.get(response.headers["Location"]))))
    assert len(set(answers)) == 1, "the answer depends on the address or on the limit"
    assert answers[0][0] == 302 and RESET_SENT in answers[0][2]
    assert _sent_to("real@school.example") == accounts.RESETS_PER_EMAIL
    assert _sent_to("fake@school.example") == 0
    if _in_memory(store):
        clock.travel(accounts.RESET_WINDOW)
        _forgot(client, "real@school.example")
        assert _sent_to("real@school.example") == accounts.RESETS_PER_EMAIL + 1


def test_reset_requests_from_one_address_past_twenty_an_hour_get_429_and_send_nothing(
        app, client, db_session, store):
    victim = make_user("real@school.example")
    db_session.commit()
    for n in range(accounts.RESETS_PER_ADDRESS):
        assert _forgot(client, f"someone{n}@school.example", "10.2.0.1").status_code == 302
    if _in_memory(store):
        clock.travel(timedelta(minutes=20))
    app.extensions["lms.counters"] = _another_process(app, store)
    refused = _forgot(client, victim.email, "10.2.0.1",
                      **{"X-Forwarded-For": "192.0.2.77"})
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    if _in_memory(store):
        assert 40 * 60 - 10 <= retry_after <= 40 * 60
    else:
        assert 60 * 59 <= retry_after <= 60 * 60
    page = _text(refused)
    assert "Try again in" in page and "If that address has an account" in page
    assert 'name="email"' in page, "the form is shown again"
    assert _sent_to(victim.email) == 0
    assert _forgot(client, victim.email, "10.2.0.2").status_code == 302
    assert _sent_to(victim.email) == 1
    if _in_memory(store):
        clock.travel(timedelta(minutes=40))
        assert _forgot(client, victim.email, "10.2.0.1").status_code == 302
        assert _sent_to(victim.email) == 2


def test_a_limited_reset_still_says_only_what_it_always_says(app, client, db_session, store,
                                                            monkeypatch):
    """The 429 reads the same whether the address asked about has an account."""
    monkeypatch.setattr(accounts, "RESETS_PER_ADDRESS", 1)
    make_user("real@school.example")
    db_session.commit()
    _forgot(client, "first@school.example", "10.3.0.1")
    _forgot(client, "first@school.example", "10.3.0.2")
    known = _forgot(client, "real@school.example", "10.3.0.1")
    unknown = _forgot(client, "fake@school.example", "10.3.0.2")
    assert known.status_code == unknown.status_code == 429
    assert _error_summary(known) == _error_summary(unknown)


# --- the public verification pages --------------------------------------------------------


def _verify(client, path: str, address: str = "10.4.0.1", **headers):
    return client.get(path, environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_the_verification_pages_share_one_limit_per_address(app, client, db_session, store,
                                                            monkeypatch):
    monkeypatch.setitem(app.config, "VERIFICATION_REQUESTS_PER_MINUTE", 6)
    endorsement = make_endorsement()
    db_session.commit()
    page = f"/credentials/{endorsement.public_id}"
    for path in (page, f"{page}.json", f"{page}/qr.svg", f"{page}/certificate.pdf",
                 "/credentials/no-such-id", "/credentials/no-such-id.json"):
        assert _verify(client, path).status_code in (200, 404), path
    refused = _verify(client, page, **{"X-Forwarded-For": "192.0.2.9"})
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "<h1>Too many requests</h1>" in _text(refused)
    assert "verification API" in _text(refused)
    for path, headers in ((f"{page}.json", {}), (page, {"Accept": "application/vc+ld+json"})):
        as_json = _verify(client, path, **headers)
        assert as_json.status_code == 429 and as_json.mimetype == "application/problem+json"
        body = as_json.get_json()
        assert body["status"] == 429 and body["title"] and "Try again in" in body["detail"]
        assert as_json.headers["Retry-After"]
    for path in (f"{page}/qr.svg", f"{page}/certificate.pdf"):
        assert _verify(client, path).status_code == 429
    app.extensions["lms.counters"] = _another_process(app, store)
    assert _verify(client, page).status_code == 429
    assert _verify(client, page, "10.4.0.2").status_code == 200
    if _in_memory(store):
        clock.travel(timedelta(seconds=45))
        assert 10 <= int(_verify(client, page).headers["Retry-After"]) <= 15
        clock.travel(timedelta(seconds=16))
        assert _verify(client, page).status_code == 200, "a new minute, a new count"


def test_the_verification_limit_is_a_setting_of_120_a_minute(app):
    from lms.platform.config import ENVIRONMENT

    assert app.config["VERIFICATION_REQUESTS_PER_MINUTE"] == 120
    assert "VERIFICATION_REQUESTS_PER_MINUTE" in ENVIRONMENT


def test_the_issuer_and_status_lists_are_not_limited_with_the_pages(app, client, db_session,
                                                                    store, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFICATION_REQUESTS_PER_MINUTE", 1)
    make_endorsement()
    db_session.commit()
    _verify(client, "/credentials/x")
    assert _verify(client, "/credentials/x").status_code == 429
    assert _verify(client, "/.well-known/did.json").status_code == 200


# --- the provider API ---------------------------------------------------------------------


def _key() -> str:
    _, token = providers.create_api_key(make_provider(), name="Bookings", actor=None)
    db.session.commit()
    return token


def _ask(client, token: str, address: str = "10.5.0.1"):
    return client.post(API, json={"credential_id": "x"}, csrf=False,
                       headers={"Authorization": f"Bearer {token}"},
                       environ_base={"REMOTE_ADDR": address})


def test_the_api_limit_holds_per_key_across_addresses_and_processes(app, client, db_session,
                                                                    store, monkeypatch):
    monkeypatch.setitem(app.config, "API_REQUESTS_PER_MINUTE", 4)
    busy, quiet = _key(), _key()
    for n in range(4):
        assert _ask(client, busy, f"10.5.0.{n}").status_code == 200
    if _in_memory(store):
        clock.travel(timedelta(seconds=20))
    app.extensions["lms.counters"] = _another_process(app, store)
    refused = _ask(client, busy, "10.5.1.1")
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    retry_after = int(refused.headers["Retry-After"])
    if _in_memory(store):
        assert 35 <= retry_after <= 40
    else:
        assert 1 <= retry_after <= 60
    body = refused.get_json()
    assert body["status"] == 429 and f"Try again in {retry_after} seconds" in body["detail"]
    assert _ask(client, quiet).status_code == 200, "another key is unaffected"
    # Refused requests count too: hammering does not shorten the wait.
    assert _ask(client, busy).status_code == 429
    if _in_memory(store):
        clock.travel(timedelta(seconds=retry_after))
        assert _ask(client, busy).status_code == 200


def test_requests_with_a_wrong_key_do_not_use_up_a_real_keys_limit(app, client, db_session,
                                                                  store, monkeypatch):
    monkeypatch.setitem(app.config, "API_REQUESTS_PER_MINUTE", 2)
    token = _key()
    prefix = token.rsplit("_", 1)[0]
    for _ in range(5):
        assert _ask(client, prefix + "_wrongsecret").status_code == 401
    assert _ask(client, token).status_code == 200
