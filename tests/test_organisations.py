"""Trusts, clusters and schools: validation, moves with history, and who may do what."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms import services
from lms.errors import DomainError
from lms.models import AuditEntry, Membership, Role, School, SchoolAffiliation
from tests.factories import make_cluster, make_member, make_school, make_trust, make_user

SCHOOL_FORM = {"urn": "123456", "name": "Hillside Primary", "phase": "primary",
               "local_authority": "Leeds", "postcode": "ls1 4ap", "cluster_id": ""}


@pytest.mark.parametrize("urn", ["12345", "1234567", "12a456", "ABCDEF", " 12 3456"])
def test_urn_must_be_exactly_six_digits(db_session, urn):
    with pytest.raises(DomainError, match="URN must be exactly 6 digits") as error:
        make_school(urn=urn)
    assert error.value.field == "urn"


def test_duplicate_urn_and_bad_postcode_are_refused_and_postcode_normalised(db_session):
    school = make_school(urn="654321")
    assert school.postcode == "LS1 4AP"
    with pytest.raises(DomainError, match="already on the platform"):
        make_school(urn="654321")
    with pytest.raises(DomainError, match="postcode"):
        services.add_school(make_trust(), urn="111111", name="X", phase="primary",
                            local_authority="Leeds", postcode="NOT A CODE", actor=None)


def test_a_cluster_must_belong_to_the_schools_trust(db_session):
    with pytest.raises(DomainError, match="another trust"):
        make_school(make_trust(), cluster=make_cluster(make_trust()))


def test_moving_keeps_where_the_school_belonged(db_session):
    trust, other = make_trust(), make_trust()
    north, south = make_cluster(trust), make_cluster(trust)
    school = make_school(trust, cluster=north)
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    services.move_school(school, trust=trust, cluster=south, actor=None, reason="Reorganised")
    services.move_school(school, trust=other, cluster=None, actor=None, reason="Joined Other")
    history = db_session.scalars(select(SchoolAffiliation).where(
        SchoolAffiliation.school_id == school.id).order_by(SchoolAffiliation.id)).all()
    assert [(h.trust_id, h.cluster_id) for h in history] == [
        (trust.id, north.id), (trust.id, south.id), (other.id, None)]
    assert all(h.ended_at for h in history[:2]) and history[2].ended_at is None
    membership = db_session.scalars(select(Membership).where(
        Membership.user_id == leader.id)).one()
    assert membership.trust_id == other.id
    moves = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "school.moved")
                               ).all()
    assert [m.reason for m in moves] == ["Reorganised", "Joined Other"]
    assert moves[1].changes["trust_id"] == [trust.id, other.id]


def test_only_a_programme_admin_moves_a_school_to_another_trust(db_session, client, sign_in):
    trust, other = make_trust(), make_trust("Elsewhere Trust")
    school = make_school(trust)
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    page = client.get(f"/schools/{school.id}/move").get_data(as_text=True)
    assert "Elsewhere Trust" not in page
    response = client.post(f"/schools/{school.id}/move",
                           data={"trust_id": str(other.id), "cluster_id": "", "reason": "x"})
    assert response.status_code == 400
    db_session.expire_all()
    assert school.trust_id == trust.id


def test_add_school_form_keeps_input_and_saves_nothing_on_error(db_session, client, sign_in):
    trust = make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    response = client.post(f"/trusts/{trust.id}/schools/new", data={**SCHOOL_FORM, "urn": "12"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "URN must be exactly 6 digits" in body and 'value="Hillside Primary"' in body
    assert db_session.scalars(select(School)).all() == []
    response = client.post(f"/trusts/{trust.id}/schools/new", data=SCHOOL_FORM)
    assert response.status_code == 302
    assert db_session.scalars(select(School.postcode)).one() == "LS1 4AP"


def test_emails_are_unique_whatever_their_case(db_session):
    make_user("Someone@School.example")
    with pytest.raises(DomainError, match="already has an account"):
        make_user("someone@school.EXAMPLE")


def test_one_person_can_hold_several_roles_but_not_the_same_one_twice(db_session):
    first, second = make_school(), make_school()
    person = make_member(Role.SCHOOL_LEADER, school=first)
    make_member(Role.TUTOR, school=second, user=person)
    assert {m.role for m in person.memberships} == {Role.SCHOOL_LEADER, Role.TUTOR}
    with pytest.raises(DomainError, match="already holds that role"):
        services.grant_membership(person, Role.TUTOR, actor=None, school=second)


def test_the_database_refuses_a_scope_that_does_not_fit_the_role(db_session):
    person = make_user()
    db_session.add(Membership(user_id=person.id, role=Role.SCHOOL_LEADER))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_ending_a_role_ends_access(db_session, client, sign_in):
    school = make_school()
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    central = make_member(Role.CENTRAL_TEAM, trust=school.trust)
    db_session.commit()
    sign_in(leader)
    assert client.get(f"/schools/{school.id}").status_code == 200
    membership = next(m for m in leader.memberships)
    services.end_membership(membership, actor=central, reason="Left")
    db_session.commit()
    assert client.get(f"/schools/{school.id}").status_code == 404


def test_nobody_removes_their_own_central_role_or_the_last_admin(db_session):
    trust = make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    with pytest.raises(DomainError, match="your own role"):
        services.end_membership(central.memberships[0], actor=central)
    admin = make_member(Role.PROGRAMME_ADMIN)
    with pytest.raises(DomainError, match="at least one programme admin"):
        services.end_membership(admin.memberships[0], actor=central)


def test_central_team_invites_staff_only_into_their_own_trust(db_session, client, sign_in):
    trust, other = make_trust(), make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    data = {"name": "Nia Jones", "email": "nia@school.example", "role": "trustee",
            "school_id": "", "cluster_id": ""}
    assert client.post(f"/trusts/{other.id}/people", data=data).status_code == 404
    assert client.post(f"/trusts/{trust.id}/people", data=data).status_code == 302
    nia = services.find_user_by_email("nia@school.example")
    assert [(m.role, m.trust_id) for m in nia.memberships] == [(Role.TRUSTEE, trust.id)]
