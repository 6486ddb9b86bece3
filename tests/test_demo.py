"""The demo that ``make run`` loads: every account signs in and its pages render."""

import pytest
from sqlalchemy import select

from lms.demo import ACCOUNTS, DOMAIN
from lms.models import Enrolment, EnrolmentStatus, Nomination, NominationStatus, User

PASSWORD = "demo-password-2026"


@pytest.fixture
def demo(app, db_session):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "admin@demo.example" in result.output
    again = app.test_cli_runner().invoke(args=["demo", "load", "--password", PASSWORD])
    assert "already loaded" in again.output


def test_demo_has_nominees_at_every_stage(demo, db_session):
    statuses = set(db_session.scalars(select(Nomination.status)))
    assert {NominationStatus.INVITED, NominationStatus.SUBMITTED,
            NominationStatus.ACCEPTED} <= statuses
    stages = set(db_session.scalars(select(Enrolment.status)))
    assert {EnrolmentStatus.ACTIVE, EnrolmentStatus.LAPSED, EnrolmentStatus.WITHDRAWN} <= stages


@pytest.mark.parametrize("local", [a[0] for a in ACCOUNTS])
def test_every_demo_account_signs_in_and_its_links_work(demo, client, local):
    response = client.post("/sign-in", data={"email": f"{local}@{DOMAIN}", "password": PASSWORD})
    assert response.status_code == 302
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
