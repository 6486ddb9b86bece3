"""Trusts, clusters and schools: validation, moves that keep their history, and the audit trail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.audit.models import AuditEntry
from lms.organisations import people, services
from lms.organisations.models import Membership, Phase, School, SchoolAffiliation
from lms.platform.errors import DomainError
from lms.platform.roles import Role
from tests.factories import (
    make_cluster,
    make_member,
    make_school,
    make_trust,
    membership_of,
)

SCHOOL_FORM = {"urn": "123456", "name": "Hillside Primary", "phase": "primary",
               "local_authority": "Leeds", "postcode": "ls1 4ap", "cluster_id": ""}


def _add(trust=None, **fields):
    values = {"urn": "100001", "name": "Hillside Primary", "phase": "primary",
              "local_authority": "Leeds", "postcode": "LS1 4AP", **fields}
    return services.add_school(trust or make_trust(), actor=None, **values)


def _entries(db_session, action: str) -> list[AuditEntry]:
    return db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
    ).all()


def _history(db_session, school) -> list[SchoolAffiliation]:
    return db_session.scalars(
        select(SchoolAffiliation).where(SchoolAffiliation.school_id == school.id)
        .order_by(SchoolAffiliation.id)
    ).all()


def _form_of(body: str) -> str:
    return body[body.index('<form method="post" novalidate>'):]


def _field_errors(body: str, field_id: str) -> list[str]:
    """The error messages shown next to one field (not in the summary at the top)."""
    return [re.sub(r"<[^>]+>", "", m).replace("Error:", "").strip() for m in re.findall(
        rf'<p class="error-message" id="{field_id}-error">(.*?)</p>', body, re.S)]


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("urn", ["12345", "1234567", "12a456", "ABCDEF", "", "12 3456",
                                 "123-456", "١٢٣٤٥٦", "１２３４５６"])
def test_urn_must_be_exactly_six_digits(db_session, urn):
    with pytest.raises(DomainError, match="URN must be exactly 6 digits") as error:
        _add(urn=urn)
    assert error.value.field == "urn"
    assert db_session.scalar(select(func.count(School.id))) == 0


def test_urn_surrounding_spaces_are_trimmed(db_session):
    assert _add(urn=" 012345 ").urn == "012345"


def test_a_urn_already_on_the_platform_is_refused_even_in_another_trust(db_session):
    _add(urn="654321")
    with pytest.raises(DomainError, match="URN 654321 is already on the platform") as error:
        _add(make_trust(), urn="654321", name="Another School")
    assert error.value.field == "urn"
    assert db_session.scalar(select(func.count(School.id))) == 1


@pytest.mark.parametrize(("typed", "stored"), [
    ("ls1 4ap", "LS1 4AP"), ("LS14AP", "LS1 4AP"), ("  sw1a   1aa ", "SW1A 1AA"),
    ("m1 1ae", "M1 1AE"), ("EC1A1BB", "EC1A 1BB"),
])
def test_postcodes_are_stored_in_the_standard_form(db_session, typed, stored):
    assert _add(postcode=typed).postcode == stored


@pytest.mark.parametrize("postcode", ["NOT A CODE", "", "12345", "LS1", "LS1 4A", "ＬＳ1 4AP",
                                      "LS١ 4AP"])
def test_a_bad_postcode_is_refused(db_session, postcode):
    with pytest.raises(DomainError, match="postcode") as error:
        _add(postcode=postcode)
    assert error.value.field == "postcode"


def test_a_schools_cluster_must_belong_to_its_trust(db_session):
    trust, other = make_trust(), make_trust()
    with pytest.raises(DomainError, match="another trust") as error:
        _add(trust, cluster=make_cluster(other))
    assert error.value.field == "cluster_id"
    school = _add(trust, urn="200002")
    with pytest.raises(DomainError, match="another trust"):
        services.move_school(school, trust=trust, cluster=make_cluster(other), actor=None,
                             reason="Wrong")
    assert school.cluster_id is None and len(school.affiliations) == 1


def test_cluster_names_are_unique_within_a_trust_only(db_session):
    trust = make_trust()
    make_cluster(trust, "North")
    with pytest.raises(DomainError, match="already has a cluster called north"):
        make_cluster(trust, "north")
    assert make_cluster(make_trust(), "North").name == "North"


# --- moves keep the history -----------------------------------------------------------------


def test_moving_to_another_cluster_then_another_trust_keeps_every_period(db_session):
    trust, other = make_trust(), make_trust()
    north, south = make_cluster(trust), make_cluster(trust)
    school = make_school(trust, cluster=north)
    services.move_school(school, trust=trust, cluster=south, actor=None, reason="Reorganised")
    services.move_school(school, trust=other, cluster=None, actor=None, reason="Joined Other")
    db_session.commit()

    history = _history(db_session, school)
    assert [(h.trust_id, h.cluster_id) for h in history] == [
        (trust.id, north.id), (trust.id, south.id), (other.id, None)]
    assert all(h.ended_at is not None for h in history[:2])
    assert history[2].ended_at is None
    assert history[0].ended_at == history[1].started_at
    assert history[1].ended_at == history[2].started_at
    assert (school.trust_id, school.cluster_id) == (other.id, None)
    assert school not in trust.schools and school in other.schools
    assert school not in south.schools


def test_moving_to_where_the_school_already_is_is_refused(db_session):
    trust = make_trust()
    school = make_school(trust)
    with pytest.raises(DomainError, match="already there"):
        services.move_school(school, trust=trust, cluster=None, actor=None)
    assert len(_history(db_session, school)) == 1


def test_school_roles_follow_the_school_to_its_new_trust(db_session, client, sign_in):
    old, new = make_trust(), make_trust()
    school = make_school(old)
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    tutor = make_member(Role.TUTOR, school=school)
    old_central = make_member(Role.CENTRAL_TEAM, trust=old)
    new_central = make_member(Role.CENTRAL_TEAM, trust=new)
    services.move_school(school, trust=new, cluster=None, actor=None, reason="Joined")
    db_session.commit()

    for person, role in ((leader, Role.SCHOOL_LEADER), (tutor, Role.TUTOR)):
        assert membership_of(person, role).trust_id == new.id
    assert membership_of(old_central, Role.CENTRAL_TEAM).trust_id == old.id

    sign_in(new_central)
    assert client.get(f"/schools/{school.id}").status_code == 200
    people = client.get(f"/trusts/{new.id}/people").get_data(as_text=True)
    assert leader.name in people
    client.post("/sign-out")
    sign_in(old_central)
    assert client.get(f"/schools/{school.id}").status_code == 404
    assert leader.name not in client.get(f"/trusts/{old.id}/people").get_data(as_text=True)
    assert client.get(f"/users/{leader.id}").status_code == 404


def test_ended_roles_stay_with_the_trust_they_were_held_in(db_session):
    old, new = make_trust(), make_trust()
    school = make_school(old)
    leaver = make_member(Role.SCHOOL_LEADER, school=school)
    people.end_membership(membership_of(leaver, Role.SCHOOL_LEADER), actor=None)
    services.move_school(school, trust=new, cluster=None, actor=None)
    ended = db_session.scalars(select(Membership).where(Membership.user_id == leaver.id)).one()
    assert ended.trust_id == old.id


def test_central_team_moves_a_school_between_its_own_clusters(db_session, client, sign_in):
    trust = make_trust()
    north, south = make_cluster(trust, "North"), make_cluster(trust, "South")
    school = make_school(trust, cluster=north)
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    page = client.get(f"/schools/{school.id}/move").get_data(as_text=True)
    cluster_select = re.search(r'<select id="cluster_id".*?</select>', page, re.S).group(0)
    assert f'<option selected value="{north.id}">North' in cluster_select

    response = client.post(f"/schools/{school.id}/move", data={
        "trust_id": str(trust.id), "cluster_id": str(south.id), "reason": "Closer to South"})
    assert response.status_code == 302
    db_session.expire_all()
    assert school.cluster_id == south.id
    [entry] = _entries(db_session, "school.moved")
    assert entry.actor_id == central.id and entry.reason == "Closer to South"
    assert entry.changes == {"cluster_id": [north.id, south.id]}


def test_only_a_programme_admin_moves_a_school_to_another_trust(db_session, client, sign_in):
    trust, elsewhere = make_trust("Home Trust"), make_trust("Elsewhere Trust")
    away_cluster = make_cluster(elsewhere, "Away Hub")
    school = make_school(trust)
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    also_central_elsewhere = make_member(Role.CENTRAL_TEAM, trust=elsewhere, user=central)
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    move = {"trust_id": str(elsewhere.id), "cluster_id": "", "reason": "Joined"}

    sign_in(also_central_elsewhere)  # central team of both trusts, yet not a platform role
    page = _form_of(client.get(f"/schools/{school.id}/move").get_data(as_text=True))
    assert "Home Trust" in page
    assert "Elsewhere Trust" not in page and "Away Hub" not in page
    assert client.post(f"/schools/{school.id}/move", data=move).status_code == 400
    response = client.post(f"/schools/{school.id}/move",
                           data={**move, "trust_id": str(trust.id),
                                 "cluster_id": str(away_cluster.id)})
    assert response.status_code == 400
    db_session.expire_all()
    assert (school.trust_id, school.cluster_id) == (trust.id, None)
    assert _entries(db_session, "school.moved") == []
    client.post("/sign-out")

    sign_in(admin)
    page = _form_of(client.get(f"/schools/{school.id}/move").get_data(as_text=True))
    assert "Home Trust" in page and "Elsewhere Trust" in page
    response = client.post(f"/schools/{school.id}/move",
                           data={**move, "cluster_id": str(away_cluster.id)})
    assert response.status_code == 302
    db_session.expire_all()
    assert (school.trust_id, school.cluster_id) == (elsewhere.id, away_cluster.id)
    entries = _entries(db_session, "school.moved")
    assert [e.trust_id for e in entries] == [trust.id, elsewhere.id]  # in both trusts' logs
    for entry in entries:
        assert entry.actor_id == admin.id and entry.reason == "Joined"
        assert entry.changes == {"trust_id": [trust.id, elsewhere.id],
                                 "cluster_id": [None, away_cluster.id]}
    assert [h.ended_at is None for h in _history(db_session, school)] == [False, True]


def test_a_move_needs_a_reason(db_session, client, sign_in):
    trust = make_trust()
    cluster = make_cluster(trust)
    school = make_school(trust)
    sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    response = client.post(f"/schools/{school.id}/move", data={
        "trust_id": str(trust.id), "cluster_id": str(cluster.id), "reason": ""})
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "reason") == [
        "Say why the school is moving"]
    db_session.expire_all()
    assert school.cluster_id is None


def test_the_school_page_shows_where_it_has_belonged(db_session, client, sign_in):
    trust, other = make_trust("First Trust"), make_trust("Second Trust")
    school = make_school(trust)
    services.move_school(school, trust=other, cluster=None, actor=None, reason="Joined")
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()
    sign_in(admin)
    body = client.get(f"/schools/{school.id}").get_data(as_text=True)
    history = body.split("<h2>History</h2>")[1]
    assert history.index("First Trust") < history.index("Second Trust")
    assert history.count("Now") == 1


# --- every change is audited ----------------------------------------------------------------


def test_every_organisation_change_writes_an_audit_entry(db_session):
    actor = make_member(Role.PROGRAMME_ADMIN)
    trust = services.create_trust("Oak Trust", actor=actor)
    other = services.create_trust("Ash Trust", actor=actor)
    cluster = services.add_cluster(trust, "North", actor=actor)
    school = services.add_school(trust, urn="300003", name="Oak Primary", phase="primary",
                                 local_authority="Leeds", postcode="LS1 4AP", cluster=cluster,
                                 actor=actor)
    services.update_school(school, name="Oak Academy", phase=Phase.ALL_THROUGH,
                           local_authority="Leeds", postcode="ls1 4ap", actor=actor)
    services.move_school(school, trust=other, cluster=None, actor=actor, reason="Merger")
    db_session.commit()

    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.actor_id == actor.id)
                                 .order_by(AuditEntry.seq)).all()
    assert [(e.action, e.object_type, e.trust_id) for e in entries] == [
        ("trust.created", "Trust", trust.id),
        ("trust.created", "Trust", other.id),
        ("cluster.created", "Cluster", trust.id),
        ("school.created", "School", trust.id),
        ("school.updated", "School", trust.id),
        ("school.moved", "School", trust.id),
        ("school.moved", "School", other.id),
    ]
    created, updated, moved = entries[3], entries[4], entries[6]
    assert entries[5].changes == moved.changes and entries[5].reason == moved.reason
    assert created.changes["urn"] == [None, "300003"]
    assert updated.changes == {"name": ["Oak Primary", "Oak Academy"],
                               "phase": ["primary", "all_through"]}
    assert moved.changes == {"trust_id": [trust.id, other.id], "cluster_id": [cluster.id, None]}
    assert moved.reason == "Merger"
    assert {e.object_id for e in entries[3:]} == {str(school.id)}


def test_both_trusts_audit_logs_show_a_school_moving_between_them(db_session, client,
                                                                  sign_in):
    left, joined = make_trust(), make_trust()
    school = make_school(left, name="Travelling Primary")
    left_trustee = make_member(Role.TRUSTEE, trust=left)
    joined_trustee = make_member(Role.TRUSTEE, trust=joined)
    services.move_school(school, trust=joined, cluster=None, actor=None, reason="Rebrokered")
    db_session.commit()
    for trustee, trust in ((left_trustee, left), (joined_trustee, joined)):
        sign_in(trustee)
        log = client.get(f"/trusts/{trust.id}/audit?action=school.moved").get_data(as_text=True)
        assert "Rebrokered" in log and f"School {school.id}" in log, trust.name
        client.post("/sign-out")


def test_saving_unchanged_details_writes_nothing(db_session):
    school = make_school()
    before = db_session.scalar(select(func.count(AuditEntry.id)))
    services.update_school(school, name=school.name, phase=school.phase,
                           local_authority=school.local_authority, postcode="ls14ap", actor=None)
    assert db_session.scalar(select(func.count(AuditEntry.id))) == before


def test_views_record_who_made_the_change(db_session, client, sign_in):
    trust = make_trust()
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    db_session.commit()
    sign_in(central)
    assert client.post(f"/trusts/{trust.id}/clusters", data={"name": "Hub"}).status_code == 302
    assert client.post(f"/trusts/{trust.id}/schools/new", data=SCHOOL_FORM).status_code == 302
    school = db_session.scalars(select(School)).one()
    response = client.post(f"/schools/{school.id}/edit", data={
        "name": "Hillside Academy", "phase": "primary", "local_authority": "Leeds",
        "postcode": "LS1 4AP"})
    assert response.status_code == 302
    actions = [(e.action, e.actor_id) for e in db_session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id.is_not(None),
                                 AuditEntry.object_type != "User")  # signing in set up 2FA
        .order_by(AuditEntry.seq))]
    assert actions == [("cluster.created", central.id), ("school.created", central.id),
                       ("school.updated", central.id)]
    log = client.get(f"/trusts/{trust.id}/audit").get_data(as_text=True)
    assert "school.updated" in log and "Hillside Academy" in log and central.name in log


# --- the add-school form --------------------------------------------------------------------


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("urn", "12", "URN must be exactly 6 digits"),
    ("postcode", "NOWHERE", "Enter a real UK postcode"),
    ("name", "", "Enter the school name"),
    ("phase", "", "Choose the school&#39;s phase"),
])
def test_add_school_form_shows_the_error_keeps_the_input_and_saves_nothing(
        db_session, client, sign_in, field, typed, message):
    trust = make_trust()
    sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    before = db_session.scalar(select(func.count(AuditEntry.id)))
    response = client.post(f"/trusts/{trust.id}/schools/new", data={**SCHOOL_FORM,
                                                                     field: typed})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    [shown] = _field_errors(body, field)
    assert shown.startswith(message)
    assert 'class="error-summary"' in body and f'href="#{field}"' in body
    for name, value in SCHOOL_FORM.items():
        if name not in (field, "phase", "cluster_id"):
            assert f'value="{value}"' in body, name
    if field != "phase":
        assert '<option selected value="primary">' in body
    assert db_session.scalar(select(func.count(School.id))) == 0
    assert db_session.scalar(select(func.count(SchoolAffiliation.id))) == 0
    assert db_session.scalar(select(func.count(AuditEntry.id))) == before


def test_add_school_form_refuses_a_duplicate_urn_next_to_the_field(db_session, client, sign_in):
    trust = make_trust()
    make_school(urn="123456")
    sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    response = client.post(f"/trusts/{trust.id}/schools/new", data=SCHOOL_FORM)
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "urn") == [
        "A school with URN 123456 is already on the platform"]
    assert db_session.scalar(select(func.count(School.id))) == 1


def test_add_school_form_saves_a_good_school_with_its_history(db_session, client, sign_in):
    trust = make_trust()
    cluster = make_cluster(trust)
    sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    response = client.post(f"/trusts/{trust.id}/schools/new",
                           data={**SCHOOL_FORM, "cluster_id": str(cluster.id)})
    school = db_session.scalars(select(School)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/schools/{school.id}")
    assert (school.postcode, school.cluster_id, school.trust_id) == (
        "LS1 4AP", cluster.id, trust.id)
    [period] = _history(db_session, school)
    assert (period.trust_id, period.cluster_id, period.ended_at) == (trust.id, cluster.id, None)


def test_add_school_form_offers_only_the_trusts_own_clusters(db_session, client, sign_in):
    trust, other = make_trust(), make_trust()
    make_cluster(trust, "Our Hub")
    theirs = make_cluster(other, "Their Hub")
    sign_in(make_member(Role.CENTRAL_TEAM, trust=trust))
    page = client.get(f"/trusts/{trust.id}/schools/new").get_data(as_text=True)
    assert "Our Hub" in page and "Their Hub" not in page
    response = client.post(f"/trusts/{trust.id}/schools/new",
                           data={**SCHOOL_FORM, "cluster_id": str(theirs.id)})
    assert response.status_code == 400
    assert db_session.scalar(select(func.count(School.id))) == 0


def test_edit_school_form_refuses_a_bad_postcode_and_keeps_the_old_one(db_session, client,
                                                                       sign_in):
    school = make_school()
    sign_in(make_member(Role.CENTRAL_TEAM, trust=school.trust))
    response = client.post(f"/schools/{school.id}/edit", data={
        "name": "New Name", "phase": "primary", "local_authority": "Leeds",
        "postcode": "nowhere"})
    assert response.status_code == 400
    assert _field_errors(response.get_data(as_text=True), "postcode") == [
        "Enter a real UK postcode, for example SW1A 1AA"]
    db_session.expire_all()
    assert (school.name, school.postcode) != ("New Name", "nowhere")
    assert school.postcode == "LS1 4AP"
