"""Every route, for every role: nobody reaches another trust's data.

The routes come from the app's URL map, so a new route that has not declared its access, or
whose URL arguments nobody has classified here, makes this suite fail.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assessments.models import Attempt, FormativeResult
from courses.models import CourseVersion, Resource
from courses.services import course_progress, load_content
from lms import clock
from lms.models import AuditEntry, NominationImport, OutboxEmail, Role
from tests.content_factory import write_content
from tests.factories import (
    make_cluster,
    make_enrolment,
    make_member,
    make_nomination,
    make_provider,
    make_school,
    make_trust,
    membership_of,
)

#: Endpoints that are meant for anyone, signed in or not.
PUBLIC = {
    "static", "healthz", "lms.home", "lms.sign_in", "lms.forgot_password", "lms.reset_password",
    "lms.accept_invitation", "lms.verify_email", "lms.accept_nomination",
    "lms.decline_nomination",
}
#: Endpoints where a signed-in user is redirected without touching anyone else's data.
HARMLESS_REDIRECTS = {"lms.sign_in", "lms.sign_out", "courses.my_course", "lms.send_verification",
                      "lms.forgot_password", "lms.home"}
SECRET_NAME = "Zebedee Quartermaine"


def test_every_route_declares_who_may_reach_it(app):
    undeclared = [
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not hasattr(app.view_functions[rule.endpoint], "access")
    ]
    assert undeclared == [], "add @access(...) to these views"


def test_public_routes_are_exactly_the_listed_ones(app):
    public = {
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint == "static" or app.view_functions[rule.endpoint].access == "public"
    }
    assert public == PUBLIC


@pytest.fixture
def world(db_session, tmp_path):
    """Trust A with a person in every role, and trust B with data they must never reach."""
    load_content(write_content(tmp_path / "content"))
    trust_a, trust_b = make_trust("Trust A"), make_trust("Trust B")
    cluster_a, cluster_b = make_cluster(trust_a), make_cluster(trust_b)
    school_a = make_school(trust_a, cluster=cluster_a)
    school_b = make_school(trust_b, cluster=cluster_b, name=f"{SECRET_NAME} Academy")
    actors = {
        "central_team": make_member(Role.CENTRAL_TEAM, trust=trust_a),
        "trustee": make_member(Role.TRUSTEE, trust=trust_a),
        "cluster_lead": make_member(Role.CLUSTER_LEAD, cluster=cluster_a),
        "school_leader": make_member(Role.SCHOOL_LEADER, school=school_a),
        "tutor": make_member(Role.TUTOR, school=school_a),
        "provider": make_member(Role.PROVIDER, provider=make_provider()),
    }
    leader_b = make_member(Role.SCHOOL_LEADER, school=school_b, name=SECRET_NAME)
    nomination_b = make_nomination(school_b, actor=leader_b, name=SECRET_NAME)
    enrolment_b = make_enrolment(school_b, name=f"{SECRET_NAME} Junior")
    lesson_b = course_progress(enrolment_b).next_lesson
    upload_b = NominationImport(school=school_b, filename="b.csv", content="name\n")
    check_b = FormativeResult(enrolment_id=enrolment_b.id, topic="module-1", items=[], total=0)
    attempt_b = Attempt(enrolment_id=enrolment_b.id, number=1, seed=1, total=0,
                        started_at=clock.now(), deadline_at=clock.now())
    db_session.add_all([upload_b, check_b, attempt_b])
    db_session.commit()
    version = db_session.scalars(select(CourseVersion)).first()
    arguments = {
        "trust_id": trust_b.id,
        "school_id": school_b.id,
        "membership_id": membership_of(leader_b, Role.SCHOOL_LEADER).id,
        "user_id": leader_b.id,
        "email_id": db_session.scalars(select(OutboxEmail.id)).first(),
        "nomination_id": nomination_b.id,
        "import_id": upload_b.id,
        "enrolment_id": enrolment_b.id,
        "lesson_id": lesson_b.id,
        "resource_id": db_session.scalars(select(Resource.id)).first(),
        "version_id": version.id,
        "token": "not-a-real-token",
        "topic": "module-1",
        "check_id": check_b.id,
        "attempt_id": attempt_b.id,
        "position": 0,
        "filename": "app.css",
    }
    return actors, arguments, trust_b


def _urls(app, arguments):
    for rule in app.url_map.iter_rules():
        missing = set(rule.arguments) - set(arguments)
        assert not missing, f"classify URL arguments {missing} of {rule.rule} in this test"
        url = rule.build({name: arguments[name] for name in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url, bool(rule.arguments)


def _b_changes(db_session, trust_b) -> int:
    return db_session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.trust_id == trust_b.id))


@pytest.mark.parametrize(
    "role", ["anonymous", "central_team", "trustee", "cluster_lead", "school_leader", "tutor",
             "provider"])
def test_no_role_of_another_trust_reaches_trust_b(app, db_session, client, sign_in, world,
                                                    role):
    actors, arguments, trust_b = world
    if role != "anonymous":
        sign_in(actors[role])
    before = _b_changes(db_session, trust_b)
    for endpoint, method, url, names_an_object in _urls(app, arguments):
        if endpoint == "lms.sign_out":
            continue
        data = {} if method == "GET" else {"csrf_token": client.csrf_token()}
        response = client.open(url, method=method, data=data)
        body = response.get_data(as_text=True)
        response.close()
        where = f"{role} {method} {url}"
        assert response.status_code != 500, where
        assert SECRET_NAME not in body, where
        if endpoint in PUBLIC or endpoint == "static":
            continue
        if role == "anonymous":
            assert response.status_code == 302, where
            assert "/sign-in" in response.headers["Location"], where
        elif response.status_code == 302:
            assert endpoint in HARMLESS_REDIRECTS, where
        elif names_an_object:
            assert response.status_code in (400, 403, 404), where
        else:  # the user's own pages (home, account, admin lists): only their own data
            assert response.status_code in (200, 400, 403), where
    db_session.rollback()
    assert _b_changes(db_session, trust_b) == before


def _get(client, url):
    return client.get(url).status_code


def test_each_role_sees_what_it_should(app, db_session, client, sign_in):
    trust = make_trust()
    cluster, other_cluster = make_cluster(trust), make_cluster(trust)
    school = make_school(trust, cluster=cluster)
    sibling = make_school(trust, cluster=other_cluster)
    central = make_member(Role.CENTRAL_TEAM, trust=trust)
    trustee = make_member(Role.TRUSTEE, trust=trust)
    lead = make_member(Role.CLUSTER_LEAD, cluster=cluster)
    leader = make_member(Role.SCHOOL_LEADER, school=school)
    admin = make_member(Role.PROGRAMME_ADMIN)
    db_session.commit()

    sign_in(central)
    assert _get(client, f"/trusts/{trust.id}") == 200
    assert _get(client, f"/schools/{sibling.id}/edit") == 200
    client.post("/sign-out")

    sign_in(trustee)
    assert _get(client, f"/trusts/{trust.id}") == 200
    assert _get(client, f"/trusts/{trust.id}/audit") == 200
    assert _get(client, f"/schools/{school.id}") == 200
    assert _get(client, f"/trusts/{trust.id}/schools/new") == 403
    assert _get(client, f"/schools/{school.id}/edit") == 403
    assert _get(client, f"/schools/{school.id}/move") == 403
    client.post("/sign-out")

    sign_in(lead)
    assert _get(client, f"/schools/{school.id}") == 200
    assert _get(client, f"/schools/{sibling.id}") == 404
    assert _get(client, f"/trusts/{trust.id}") == 404
    client.post("/sign-out")

    sign_in(leader)
    assert _get(client, f"/schools/{school.id}") == 200
    assert _get(client, f"/schools/{school.id}/nominations/new") == 200
    assert _get(client, f"/schools/{sibling.id}") == 404
    assert _get(client, f"/schools/{sibling.id}/nominations/new") == 404
    assert _get(client, "/outbox") == 403
    client.post("/sign-out")

    sign_in(admin)
    for url in ("/trusts", f"/trusts/{trust.id}", f"/schools/{sibling.id}/move", "/outbox",
                "/admin/courses"):
        assert _get(client, url) == 200, url
