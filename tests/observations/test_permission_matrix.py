"""Who gets what from every observations route: one test per person around a school, each
checking every route. The school's leaders and tutoring leads record and read; the trust's
central team reads; the tutor reads their own; the programme admin reads; anyone else who
may see the group gets 403 on the form and 404 on the observations; anyone who may not even
see the group gets 404 everywhere. A refused request saves nothing."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from lms.observations.models import Observation
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from tests.factories import make_cluster, make_member, make_school, make_trust
from tests.observations_factory import TUTOR_PASSWORD, form_data, observe
from tests.tutoring_factory import make_cleared_tutor, make_group

ROLES = ("tutor", "other_tutor", "school_leader", "tutoring_lead", "central_team", "trustee",
         "cluster_lead", "dsl", "other_school_leader", "other_trust_central", "admin")
RECORDERS = ("school_leader", "tutoring_lead")
READERS = ("school_leader", "tutoring_lead", "central_team", "admin")
#: Those who may see the group (so are told "forbidden", not "not found", on the form).
SEE_GROUP = ("tutor", "central_team", "trustee", "cluster_lead", "admin")


def _world() -> SimpleNamespace:
    trust = make_trust()
    cluster = make_cluster(trust)
    school = make_school(trust, cluster=cluster)
    group = make_group(school, starts_on=clock.today() - timedelta(weeks=6))
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    people = {
        "tutor": group.tutor, "other_tutor": make_cleared_tutor(school),
        "school_leader": leader,
        "tutoring_lead": make_member(Role.TUTORING_LEAD, school=school),
        "central_team": make_member(Role.CENTRAL_TEAM, trust=trust),
        "trustee": make_member(Role.TRUSTEE, trust=trust),
        "cluster_lead": make_member(Role.CLUSTER_LEAD, trust=trust, cluster=cluster),
        "dsl": make_member(Role.DSL, school=school),
        "other_school_leader": make_member(Role.SCHOOL_LEADER, school=make_school(trust)),
        "other_trust_central": make_member(Role.CENTRAL_TEAM),
        "admin": make_member(Role.PROGRAMME_ADMIN),
    }
    observation = observe(group, leader, notes={"manages_time": "Planted note 7731"})
    db.session.commit()
    return SimpleNamespace(group=group, observation=observation, people=people)


def _expected(role: str) -> dict[str, int]:
    refused_form = 403 if role in SEE_GROUP else 404
    return {
        "form": 200 if role in RECORDERS else refused_form,
        "record": 302 if role in RECORDERS else refused_form,
        "observation": 200 if role in (*READERS, "tutor") else 404,
        "group": 200 if role in READERS else (302 if role == "tutor" else 404),
        "mine": 200,
    }


def _saved() -> int:
    return db.session.scalar(select(func.count(Observation.id)))


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_person_as_the_rules_say(db_session, sign_in, role):
    world = _world()
    person = world.people[role]
    client = sign_in(person, TUTOR_PASSWORD if role in ("tutor", "other_tutor") else
                     "correct horse battery staple")
    group_id, observation_id = world.group.id, world.observation.id
    got = {
        "form": client.get(f"/groups/{group_id}/observations/new"),
        "observation": client.get(f"/observations/{observation_id}"),
        "group": client.get(f"/groups/{group_id}/observations"),
        "mine": client.get("/observations"),
    }
    before = _saved()
    got["record"] = client.post(f"/groups/{group_id}/observations/new", data=form_data())
    expected = _expected(role)
    assert {k: r.status_code for k, r in got.items()} == expected
    assert _saved() == before + (1 if role in RECORDERS else 0)
    for name in ("form", "observation", "group"):
        if got[name].status_code != 200:
            assert b"Planted note 7731" not in got[name].get_data()
    if expected["observation"] == 200:
        assert b"Planted note 7731" in got["observation"].get_data()
    listed = b"Planted note" in got["mine"].get_data() or \
        f"/observations/{observation_id}\"".encode() in got["mine"].get_data()
    assert listed == (role == "tutor")


def test_signed_out_people_are_sent_to_sign_in(db_session, client):
    world = _world()
    for url in (f"/groups/{world.group.id}/observations/new",
                f"/observations/{world.observation.id}", "/observations",
                f"/groups/{world.group.id}/observations"):
        answer = client.get(url)
        assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
