"""The demo that ``make run`` loads: every account signs in and its pages render."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.accounts.models import TWO_FACTOR_ROLES, User
from lms.accounts.security import group_secret, totp, totp_key
from lms.demo import ACCOUNTS, DEMO_TOTP_SECRET, DEMO_TRUST, DOMAIN
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
    two_factor = " ".join(demo.split("Two-factor sign-in, DEMO ONLY")[1]
                          .split("also need a code")[0].split())
    needing = [local for local, _, role, _ in ACCOUNTS if role in TWO_FACTOR_ROLES]
    assert {"admin", "central", "trustee", "dsl.aldbrook", "central.riverside"} <= set(needing)
    assert two_factor.endswith(", ".join(needing))
    code = app.test_cli_runner().invoke(args=["demo", "code"])
    assert code.exit_code == 0
    now = clock.now()  # read after the command, which may have run in the step before
    assert code.output.strip() in {totp(totp_key(DEMO_TOTP_SECRET), now - timedelta(seconds=30)),
                                   totp(totp_key(DEMO_TOTP_SECRET), now)}


def _sign_in(client, email: str) -> None:
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302


def test_demo_has_a_term_of_tutoring_at_every_stage(demo, db_session):
    from lms.organisations.models import School, Trust
    from lms.tutoring.clearance import clearance
    from lms.tutoring.models import (
        DeliveryModel,
        GroupPupil,
        GroupStatus,
        Programme,
        Pupil,
        SessionStatus,
        TutoringGroup,
        TutoringSession,
    )

    trust = db_session.scalar(select(Trust).where(Trust.name == DEMO_TRUST))
    models = {p.delivery_model for p in db_session.scalars(
        select(Programme).where(Programme.trust_id == trust.id))}
    assert models == set(DeliveryModel)
    groups = db_session.scalars(select(TutoringGroup).where(
        TutoringGroup.trust_id == trust.id)).all()
    schools = set(db_session.scalars(select(School.id).where(School.trust_id == trust.id)))
    assert {g.school_id for g in groups} == schools
    statuses = set(db_session.scalars(select(TutoringSession.status)))
    assert statuses == {SessionStatus.DELIVERED, SessionStatus.CANCELLED}
    assert db_session.scalar(select(TutoringSession.id).where(
        TutoringSession.cancel_reason.is_(None), TutoringSession.status
        == SessionStatus.CANCELLED)) is None
    # One tutor's endorsement is suspended: their groups are paused, not ended.
    paused = [g for g in groups if not clearance(g.trust_id, g.school_id, g.tutor_id).approved]
    assert paused and all(g.status == GroupStatus.ACTIVE for g in paused)
    assert len({g.tutor_id for g in paused}) == 1
    pupils = db_session.scalars(select(Pupil)).all()
    assert {p.year_group for p in pupils if p.school.phase.value == "primary"} <= set(range(7))
    assert any(p.disadvantaged for p in pupils) and any(p.send for p in pupils)
    places = db_session.scalars(select(GroupPupil)).all()
    assert sum(p.current is not None for p in places) > len(places) / 2
    # A few gaps, so the action lists have something in them.
    assert any(p.baseline is None for p in places)
    assert any(p.baseline is not None and p.current is None for p in places)


def test_the_demo_tutor_has_todays_session_to_log(app, demo, client, db_session):
    from lms.tutoring.sessions import sessions_due

    tutor = db_session.scalar(select(User).where(User.email == f"tutor.aldbrook@{DOMAIN}"))
    due = [d for d in sessions_due(tutor) if d.day == clock.today()]
    assert due and not any(d.logged or d.paused for d in due)
    group = due[0].group
    _sign_in(client, tutor.email)
    page = client.get(f"/groups/{group.id}/sessions/{clock.today().isoformat()}")
    assert page.status_code == 200
    marks = {f"pupil-{p.pupil_id}-status": "present" for p in group.current_places}
    response = client.post(f"/groups/{group.id}/sessions/{clock.today().isoformat()}",
                           data={"status": "delivered", "minutes_delivered": "60", **marks})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db_session.expire_all()
    assert not any(d.day == clock.today() and not d.logged
                   for d in sessions_due(tutor) if d.group.id == group.id)


def test_demo_has_safeguarding_at_aldbrook(demo, db_session):
    from lms.organisations.models import Membership, School, Trust
    from lms.platform.roles import Role
    from lms.safeguarding import escalation, services
    from lms.safeguarding.figures import schools_without_dsl
    from lms.safeguarding.models import Concern, EntryKind, ReferralTo

    aldbrook = db_session.scalar(select(School).where(School.urn == "990101"))
    dsl = db_session.scalar(select(User).where(User.email == f"dsl.aldbrook@{DOMAIN}"))
    assert db_session.scalar(select(Membership.id).where(
        Membership.user_id == dsl.id, Membership.role == Role.DSL,
        Membership.school_id == aldbrook.id))
    assert dsl.two_factor_required and dsl.two_factor_enabled
    concerns = db_session.scalars(select(Concern).where(
        Concern.school_id == aldbrook.id)).all()
    # Seen through to its close, acknowledged within the first threshold.
    closed = [c for c in concerns if c.closed_at is not None]
    assert len(closed) == 1
    done = closed[0]
    assert done.acknowledged_by_id == dsl.id and done.minutes_to_acknowledge < 60
    kinds = [e.kind for e in done.entries]
    assert {EntryKind.REFERRAL, EntryKind.PARENTS_INFORMED, EntryKind.OUTCOME,
            EntryKind.RECORDED_ELSEWHERE, EntryKind.CLOSED} <= set(kinds)
    referral = next(e for e in done.entries if e.kind == EntryKind.REFERRAL)
    assert referral.referral_to == ReferralTo.SOCIAL_CARE and services.details_of(referral)
    assert done.external_system == "CPOMS" and done.external_reference
    assert done.session_id is not None and done.raised_at < clock.now() - timedelta(days=7)
    # Still waiting: past the first threshold, not yet the second.
    waiting = [c for c in concerns if c.acknowledged_at is None and c.closed_at is None]
    assert len(waiting) == 1
    assert waiting[0].escalation_level == 1 and waiting[0].escalated_at is not None
    assert waiting[0].id not in escalation.due()
    assert waiting[0].id in escalation.due(clock.now() + timedelta(hours=3))
    # Schools with groups and no DSL: the central team's warning has something to show.
    trust = db_session.scalar(select(Trust).where(Trust.name == DEMO_TRUST))
    without = {s.urn for s in schools_without_dsl(trust.id)}
    assert without and not without & {"990101", "990103"}


def test_the_printout_names_the_dsl_and_their_demo_key(demo):
    assert f"dsl.aldbrook@{DOMAIN}" in demo
    two_factor = demo.split("Two-factor sign-in, DEMO ONLY")[1].split("with the key")[0]
    assert "dsl.aldbrook" in two_factor
    assert "Safeguarding: dsl.aldbrook@demo.example" in demo


def test_the_demo_dsl_opens_the_concern_waiting_for_them(app, demo, client, db_session):
    from lms.safeguarding.models import Concern

    waiting = db_session.scalar(select(Concern).where(Concern.acknowledged_at.is_(None)))
    client.post("/sign-in", data={"email": f"dsl.aldbrook@{DOMAIN}", "password": PASSWORD})
    response = client.post("/sign-in/two-factor",
                           data={"code": totp(totp_key(DEMO_TOTP_SECRET), clock.now())})
    assert response.status_code == 302
    inbox = client.get("/safeguarding/concerns")
    assert inbox.status_code == 200 and waiting.reference in inbox.get_data(as_text=True)
    page = client.get(f"/safeguarding/concerns/{waiting.id}")
    assert page.status_code == 200 and "online game" in page.get_data(as_text=True)
