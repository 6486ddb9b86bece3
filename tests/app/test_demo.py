"""The demo that ``make run`` loads: every account signs in and its pages render."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import TWO_FACTOR_ROLES, User
from lms.accounts.security import group_secret, totp, totp_key
from lms.demo import ACCOUNTS, DEMO_TOTP_SECRET, DOMAIN
from lms.platform import clock
from lms.programme.models import Enrolment, EnrolmentStatus, Nomination, NominationStatus

PASSWORD = "demo-password-2026"


@pytest.fixture
def demo(app, db_session):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "admin@demo.example" in result.output
    again = app.test_cli_runner().invoke(args=["demo", "load", "--password", PASSWORD])
    assert "already loaded" in again.output
    return result.output


def test_demo_has_nominees_at_every_stage(demo, db_session):
    statuses = set(db_session.scalars(select(Nomination.status)))
    assert {NominationStatus.INVITED, NominationStatus.SUBMITTED,
            NominationStatus.ACCEPTED} <= statuses
    stages = set(db_session.scalars(select(Enrolment.status)))
    assert {EnrolmentStatus.ACTIVE, EnrolmentStatus.LAPSED, EnrolmentStatus.WITHDRAWN} <= stages


@pytest.mark.parametrize(("local", "role"), [(a[0], a[2]) for a in ACCOUNTS])
def test_every_demo_account_signs_in_and_its_links_work(demo, client, local, role):
    response = client.post("/sign-in", data={"email": f"{local}@{DOMAIN}", "password": PASSWORD})
    assert response.status_code == 302
    if role in TWO_FACTOR_ROLES:
        # With the published demo key, as a tester's authenticator app would.
        assert response.headers["Location"] == "/sign-in/two-factor"
        code = totp(totp_key(DEMO_TOTP_SECRET), clock.now())
        response = client.post("/sign-in/two-factor", data={"code": code})
        assert response.status_code == 302 and response.headers["Location"] == "/"
    else:
        assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    import re

    links = set(re.findall(r'href="(/[^"#]*)"', home.get_data(as_text=True)))
    for link in sorted(links):
        if link.startswith("/static/"):
            continue
        page = client.get(link)
        assert page.status_code == 200, (link, page.status_code)


def test_demo_accounts_are_ready_to_use(demo, db_session):
    for local, *_ in ACCOUNTS:
        user = db_session.scalar(select(User).where(User.email == f"{local}@{DOMAIN}"))
        assert user.password_hash and user.email_verified_at


def test_the_demo_key_is_printed_and_clearly_for_the_demo_only(app, demo):
    assert "DEMO ONLY" in demo and group_secret(DEMO_TOTP_SECRET) in demo
    assert "admin, central, trustee, central.riverside" in demo
    code = app.test_cli_runner().invoke(args=["demo", "code"])
    assert code.exit_code == 0
    now = clock.now()  # read after the command, which may have run in the step before
    assert code.output.strip() in {totp(totp_key(DEMO_TOTP_SECRET), now - timedelta(seconds=30)),
                                   totp(totp_key(DEMO_TOTP_SECRET), now)}
