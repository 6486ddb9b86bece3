"""People and their roles: one account per email, many roles per person, roles that end."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.organisations import people
from lms.organisations.models import Membership
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from tests.factories import (
    make_cluster,
    make_member,
    make_provider,
    make_school,
    make_trust,
    make_user,
    membership_of,
)

INVITE = {"name": "Nia Jones", "email": "nia@school.example", "role": "trustee",
          "school_id": "", "cluster_id": ""}


def _count(db_session, model) -> int:
    return db_session.scalar(select(func.count(model.id)))


# --- one account per email ------------------------------------------------------------------


def test_emails_are_unique_whatever_their_case(db_session):
    first = make_user("Someone@X.org")
    assert first.email == "someone@x.org"
    with pytest.raises(DomainError, match="already has an account") as error:
        make_user("someone@x.org")
    assert error.value.field == "email"
    with pytest.raises(DomainError, match="already has an account"):
        make_user("  SOMEONE@x.ORG ")
    assert _count(db_session, User) == 1
    assert accounts.find_user_by_email("someONE@X.org") == first


def test_the_database_keeps_emails_unique_too(db_session):
    make_user("twice@school.example")
    db_session.add(User(email="twice@school.example", name="Copy"))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_signing_in_does_not_care_about_the_emails_case(db_session, client):
    person = make_user("Mixed.Case@School.example")
    db_session.commit()
    response = client.post("/sign-in", data={"email": "MIXED.case@school.EXAMPLE",
                                             "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert person.email == "mixed.case@school.example"


def test_inviting_an_existing_person_in_another_case_gives_them_the_role(db_session, client,
                                                                          sign_in):
    school = make_school()
    existing = make_member(Role.TUTOR, school=school, email="nia@school.example")
    sign_in(make_member(Role.CENTRAL_TEAM, trust=school.trust))
    users = _count(db_session, User)
    response = client.post(f"/trusts/{school.trust_id}/people",
                           data={**INVITE, "email": "NIA@School.Example"})
    assert response.status_code == 302
    assert _count(db_session, User) == users
    db_session.expire_all()
    assert {m.role for m in existing.memberships} == {Role.TUTOR, Role.TRUSTEE}
    sent = db_session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    assert sent.to_address == "nia@school.example" and "new role" in sent.subject


# --- several roles, never the same one twice ------------------------------------------------


def test_one_person_can_hold_several_roles(db_session, client, sign_in):
    first, second = make_school(), make_school()
    person = make_member(Role.SCHOOL_LEADER, school=first)
    make_member(Role.TUTOR, school=second, user=person)
    make_member(Role.TRUSTEE, trust=second.trust, user=person)
    assert {(m.role, m.school_id or m.trust_id) for m in person.memberships} == {
        (Role.SCHOOL_LEADER, first.id), (Role.TUTOR, second.id),
        (Role.TRUSTEE, second.trust_id)}
    db_session.commit()
    sign_in(person)
    home = client.get("/").get_data(as_text=True)
    assert "School leader" in home and "Tutor" in home and "Trustee" in home
    assert client.get(f"/schools/{first.id}").status_code == 200
    assert client.get(f"/schools/{second.id}").status_code == 200  # as trustee
    assert client.get(f"/schools/{second.id}/edit").status_code == 403


def test_the_same_role_in_the_same_place_cannot_be_granted_twice(db_session):
    school, other = make_school(), make_school()
    person = make_member(Role.TUTOR, school=school)
    with pytest.raises(DomainError, match="already holds that role") as error:
        people.grant_membership(person, Role.TUTOR, actor=None, school=school)
    assert error.value.field == "role"
    people.grant_membership(person, Role.TUTOR, actor=None, school=other)
    admin = make_member(Role.PROGRAMME_ADMIN)
    with pytest.raises(DomainError, match="already holds that role"):
        people.grant_membership(admin, Role.PROGRAMME_ADMIN, actor=None)
    assert _count(db_session, Membership) == 3


def test_a_role_can_be_granted_again_once_it_has_ended(db_session):
    school = make_school()
    person = make_member(Role.SCHOOL_LEADER, school=school)
    people.end_membership(membership_of(person, Role.SCHOOL_LEADER), actor=None)
    again = people.grant_membership(person, Role.SCHOOL_LEADER, actor=None, school=school)
    assert [m.id for m in person.memberships] == [again.id]
    assert _count(db_session, Membership) == 2


def test_inviting_someone_to_a_role_they_hold_is_refused_on_the_form(db_session, client,
                                                                     sign_in):
    trust = make_trust()
    make_member(Role.TRUSTEE, trust=trust, email="nia@school.example", name="Nia Jones")
    sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    memberships = _count(db_session, Membership)
    response = client.post(f"/trusts/{trust.id}/people", data=INVITE)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nia Jones already holds that role there" in body
    assert 'id="role-error"' in body
    assert _count(db_session, Membership) == memberships


def test_a_role_needs_the_place_it_is_held_in(db_session, client, sign_in):
    trust = make_trust()
    sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    for role, field in (("school_leader", "school_id"), ("cluster_lead", "cluster_id")):
        response = client.post(f"/trusts/{trust.id}/people", data={**INVITE, "role": role})
        assert response.status_code == 400
        assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert accounts.find_user_by_email(INVITE["email"]) is None


def test_a_cluster_lead_is_invited_to_a_cluster_of_the_same_trust(db_session, client, sign_in):
    trust = make_trust()
    ours, theirs = make_cluster(trust), make_cluster(make_trust())
    sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    data = {**INVITE, "role": "cluster_lead"}
    response = client.post(f"/trusts/{trust.id}/people",
                           data={**data, "cluster_id": str(theirs.id)})
    assert response.status_code == 400
    response = client.post(f"/trusts/{trust.id}/people", data={**data, "cluster_id": str(ours.id)})
    assert response.status_code == 302
    nia = accounts.find_user_by_email(INVITE["email"])
    assert [(m.role, m.cluster_id, m.trust_id) for m in nia.memberships] == [
        (Role.CLUSTER_LEAD, ours.id, trust.id)]
    invitation = db_session.scalars(select(OutboxEmail)).one()
    assert invitation.to_address == INVITE["email"] and "/invitations/" in invitation.body_text


@pytest.mark.parametrize("role", [Role.PROGRAMME_ADMIN.value, Role.PROVIDER.value, "owner"])
def test_staff_invitations_cannot_grant_platform_or_unknown_roles(db_session, client, sign_in,
                                                                  role):
    trust = make_trust()
    sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    response = client.post(f"/trusts/{trust.id}/people", data={**INVITE, "role": role})
    assert response.status_code == 400
    assert accounts.find_user_by_email(INVITE["email"]) is None


# --- the database refuses scopes that do not fit the role -----------------------------------


def _scopes(db_session) -> dict[str, dict]:
    school = make_school()
    cluster = make_cluster(school.trust)
    provider = make_provider()
    return {"trust": {"trust_id": school.trust_id},
            "cluster": {"trust_id": school.trust_id, "cluster_id": cluster.id},
            "school": {"trust_id": school.trust_id, "school_id": school.id},
            "school_without_trust": {"school_id": school.id},
            "cluster_without_trust": {"cluster_id": cluster.id},
            "trust_and_school_and_cluster": {"trust_id": school.trust_id,
                                             "school_id": school.id, "cluster_id": cluster.id},
            "provider": {"provider_id": provider.id},
            "provider_and_trust": {"provider_id": provider.id, "trust_id": school.trust_id},
            "platform": {}}


FITTING = {Role.PROGRAMME_ADMIN: "platform", Role.CENTRAL_TEAM: "trust", Role.TRUSTEE: "trust",
           Role.CLUSTER_LEAD: "cluster", Role.SCHOOL_LEADER: "school", Role.TUTOR: "school",
           Role.TUTORING_LEAD: "school", Role.DSL: "school", Role.DEPUTY_DSL: "school",
           Role.TRUST_SAFEGUARDING_LEAD: "trust",
           Role.PROVIDER: "provider"}


@pytest.mark.parametrize("role", list(Role))
def test_the_database_refuses_a_scope_that_does_not_fit_the_role(db_session, role):
    person = make_user()
    scopes = _scopes(db_session)
    db_session.commit()
    for name, scope in scopes.items():
        db_session.add(Membership(user_id=person.id, role=role, **scope))
        if name == FITTING[role]:
            db_session.flush()  # the one scope that fits is accepted
            db_session.rollback()
            continue
        with pytest.raises(IntegrityError, match="(?i)scope_matches_role|check constraint"):
            db_session.flush()
        db_session.rollback()
    assert _count(db_session, Membership) == 0


# --- ending roles ---------------------------------------------------------------------------


def test_ending_a_role_ends_the_access_it_gave(db_session, client, sign_in):
    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school, name="Leah Leader")
    central = make_member(Role.CENTRAL_TEAM, trust=school.trust)
    db_session.commit()
    membership_id = membership_of(leader, Role.SCHOOL_LEADER).id

    sign_in(leader)
    assert client.get(f"/schools/{school.id}").status_code == 200
    client.post("/sign-out")

    sign_in(central)
    page = client.get(f"/users/{leader.id}").get_data(as_text=True)
    assert f"/memberships/{membership_id}/end" in page
    response = client.post(f"/memberships/{membership_id}/end", data={"reason": "Left"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Leah Leader no longer has the role School leader" in response.get_data(as_text=True)
    assert "Leah Leader" not in client.get(f"/trusts/{school.trust_id}/people").get_data(
        as_text=True)
    client.post("/sign-out")

    sign_in(leader)  # a fresh sign-in, and an old session, both lose the school
    assert client.get(f"/schools/{school.id}").status_code == 404
    assert client.get(f"/schools/{school.id}/nominations/new").status_code == 404

    ended = db_session.get(Membership, membership_id)
    assert ended.ended_at is not None  # kept as history, not deleted
    [entry] = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "membership.ended")).all()
    assert (entry.actor_id, entry.reason, entry.object_id) == (
        central.id, "Left", str(membership_id))
    assert entry.trust_id == school.trust_id and entry.changes["ended_at"][0] is None


def test_an_ended_role_cannot_be_ended_again(db_session):
    person = make_member(Role.TRUSTEE)
    membership = membership_of(person, Role.TRUSTEE)
    people.end_membership(membership, actor=None)
    with pytest.raises(DomainError, match="already been removed"):
        people.end_membership(membership, actor=None)


def test_nobody_removes_their_own_central_team_role(db_session, client, sign_in):
    trust = make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    own = membership_of(central, Role.CENTRAL_TEAM)
    with pytest.raises(DomainError, match="cannot remove your own role"):
        people.end_membership(own, actor=central)
    db_session.commit()

    sign_in(central)
    assert f"/memberships/{own.id}/end" not in client.get(f"/users/{central.id}").get_data(
        as_text=True)
    response = client.post(f"/memberships/{own.id}/end", data={"reason": "Oops"},
                           follow_redirects=True)
    assert "You cannot remove your own role" in response.get_data(as_text=True)
    db_session.expire_all()
    assert own.ended_at is None
    assert client.get(f"/trusts/{trust.id}/people").status_code == 200


def test_a_colleague_can_remove_a_central_team_role(db_session):
    trust = make_trust()
    leaving, staying = make_member(Role.CENTRAL_TEAM, trust=trust), make_member(
        Role.CENTRAL_TEAM, trust=trust)
    people.end_membership(membership_of(leaving, Role.CENTRAL_TEAM), actor=staying)
    assert leaving.memberships == []


def test_the_last_programme_admin_cannot_be_removed(db_session):
    first = make_member(Role.PROGRAMME_ADMIN)
    second = make_member(Role.PROGRAMME_ADMIN)
    with pytest.raises(DomainError, match="your own role"):
        people.end_membership(membership_of(first, Role.PROGRAMME_ADMIN), actor=first)
    people.end_membership(membership_of(second, Role.PROGRAMME_ADMIN), actor=first)
    with pytest.raises(DomainError, match="at least one programme admin"):
        people.end_membership(membership_of(first, Role.PROGRAMME_ADMIN), actor=None)
    assert first.is_programme_admin and not second.is_programme_admin


def test_the_last_admin_is_kept_through_the_page_too(db_session, client, sign_in):
    first, second = make_member(Role.PROGRAMME_ADMIN), make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    sign_in(first)
    second_role = membership_of(second, Role.PROGRAMME_ADMIN)
    assert client.post(f"/memberships/{second_role.id}/end", data={"reason": "x"}
                       ).status_code == 302
    first_role = membership_of(first, Role.PROGRAMME_ADMIN)
    response = client.post(f"/memberships/{first_role.id}/end", data={"reason": "x"},
                           follow_redirects=True)
    assert "your own role" in response.get_data(as_text=True)
    db_session.expire_all()
    assert first_role.ended_at is None


def test_central_team_cannot_end_a_role_in_another_trust(db_session, client, sign_in):
    ours, theirs = make_school(), make_school()
    their_leader = make_member(Role.SCHOOL_LEADER, school=theirs)
    their_central = make_member(Role.CENTRAL_TEAM, trust=theirs.trust)
    sign_in(make_member(Role.CENTRAL_TEAM, trust=ours.trust))
    for person, role in ((their_leader, Role.SCHOOL_LEADER), (their_central, Role.CENTRAL_TEAM)):
        membership = membership_of(person, role)
        response = client.post(f"/memberships/{membership.id}/end", data={"reason": "x"})
        assert response.status_code == 404
        db_session.expire_all()
        assert membership.ended_at is None
    assert client.get(f"/users/{their_leader.id}").status_code == 404


def test_only_the_central_team_ends_roles_in_its_trust(db_session, client, sign_in):
    school = make_school()
    cluster = make_cluster(school.trust)
    school.cluster = cluster
    tutor = make_member(Role.TUTOR, school=school)
    role = membership_of(tutor, Role.TUTOR)
    for who in (make_member(Role.TRUSTEE, trust=school.trust),
                make_member(Role.CLUSTER_LEAD, cluster=cluster),
                make_member(Role.SCHOOL_LEADER, school=school)):
        db_session.commit()
        sign_in(who)
        assert client.get(f"/users/{tutor.id}").status_code == 200
        assert client.post(f"/memberships/{role.id}/end", data={"reason": "x"}
                           ).status_code == 403, who.memberships[0].role
        client.post("/sign-out")
    db_session.expire_all()
    assert role.ended_at is None


def test_removing_someones_last_role_here_lands_on_the_staff_list(db_session, client, sign_in):
    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    sign_in(make_member(Role.CENTRAL_TEAM, trust=school.trust))
    response = client.post(f"/memberships/{membership_of(leader, Role.SCHOOL_LEADER).id}/end",
                           data={"reason": "Left"})
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200


def test_a_person_page_shows_only_the_roles_the_viewer_may_see(db_session, client, sign_in):
    ours, theirs = make_school(name="Our School"), make_school(name="Their School")
    person = make_member(Role.SCHOOL_LEADER, school=ours)
    make_member(Role.TUTOR, school=theirs, user=person)
    db_session.commit()
    sign_in(make_member(Role.CENTRAL_TEAM, trust=ours.trust))
    page = client.get(f"/users/{person.id}").get_data(as_text=True)
    assert "Our School" in page and "Their School" not in page


def test_two_admins_removing_each_other_at_once_leave_one(app, db_session):
    """The count of admins is taken under a row lock, so the second removal waits for the
    first and then sees it."""
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("needs two concurrent writers, which SQLite serialises anyway")
    import threading

    first, second = make_member(Role.PROGRAMME_ADMIN), make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    first_role_id = membership_of(first, Role.PROGRAMME_ADMIN).id
    outcome: list[str] = []

    def the_other_admin_removes_the_first():
        with app.app_context():
            from lms.platform.extensions import db

            try:
                people.end_membership(db.session.get(Membership, first_role_id),
                                        actor=None)
                db.session.commit()
                outcome.append("removed")
            except DomainError as error:
                db.session.rollback()
                outcome.append(error.message)
            finally:
                db.session.remove()

    people.end_membership(membership_of(second, Role.PROGRAMME_ADMIN), actor=first)
    db_session.flush()
    other = threading.Thread(target=the_other_admin_removes_the_first)
    other.start()
    other.join(timeout=0.5)
    assert other.is_alive(), "the second removal should wait for the first to finish"
    db_session.commit()
    other.join(timeout=10)
    assert outcome == ["The platform must keep at least one programme admin"]
    db_session.expire_all()
    assert db_session.scalar(select(func.count(Membership.id)).where(
        Membership.role == Role.PROGRAMME_ADMIN, Membership.ended_at.is_(None))) == 1
