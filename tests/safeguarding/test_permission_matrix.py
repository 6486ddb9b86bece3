"""Who gets what from every safeguarding route: one row per route (and, for a route about a
concern, per kind of concern), one column per person around a school.

A concern about a child opens for the school's DSL and deputies and the trust safeguarding
lead; an allegation about an adult for the school's leaders and the trust safeguarding lead,
never for the person it is about. The programme admin gets only the break-glass form. A page
about a concern answers 404 to anyone who must not know it exists.

Each role's requests run in the order of ``MATRIX``: reading first, then acting, as a DSL
would (acknowledge before adding to the chronology, end a review before suspending again), so
every allowed request can succeed. A refused request must change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from flask import url_for
from sqlalchemy import func, select

from credentials.register import services as register
from lms.platform.roles import Role
from lms.safeguarding import access, reviews
from lms.safeguarding.models import (
    Concern,
    ConcernAlert,
    ConcernEntry,
    ConcernView,
    Review,
    SafeguardingSettings,
)
from tests.factories import make_cluster, make_member, make_provider, make_school, make_trust
from tests.safeguarding_factory import PLANTED, raise_about_adult, raise_about_child

ROLES = (
    "reporter",          # the tutor who raised both concerns
    "other_tutor",       # another tutor at the same school
    "dsl",
    "deputy_dsl",
    "school_leader",
    "tutoring_lead",
    "trust_lead",        # the trust safeguarding lead
    "central_team",
    "trustee",
    "cluster_lead",      # of the school's cluster
    "other_school_dsl",  # the DSL of another school in the same trust
    "other_trust_lead",  # another trust's safeguarding lead
    "provider",
    "admin",             # the programme admin
    "subject",           # the person the allegation is about: a school leader there too
)

#: The outcome for the programme admin opening a concern: the break-glass form (200), which
#: asks for a reason and shows nothing of the concern.
BREAK_GLASS = "break-glass form"

CHILD_READERS = ("dsl", "deputy_dsl", "trust_lead")
ADULT_READERS = ("school_leader", "trust_lead")
REVIEWERS = ("central_team", "trust_lead")
TRUST_FIGURES = ("central_team", "trustee", "trust_lead", "admin")
SCHOOL_FIGURES = ("school_leader", "dsl", "deputy_dsl", "subject")
RAISERS = ("reporter", "other_tutor", "dsl", "deputy_dsl", "school_leader", "tutoring_lead",
           "other_school_dsl", "subject")
ALERTED = ("dsl", "deputy_dsl", "school_leader", "trust_lead", "other_school_dsl",
           "other_trust_lead", "subject")


def outcomes(allowed, *roles: str, refused=404, **exceptions) -> dict[str, object]:
    """``allowed`` for ``roles``, a role's own outcome for ``exceptions``, ``refused`` for
    everyone else."""
    assert set(roles) | set(exceptions) <= set(ROLES)
    return {role: exceptions.get(role, allowed if role in roles else refused)
            for role in ROLES}


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    #: What the URL points at: "child" (the concern about a child), "allegation", "review"
    #: (of the allegation), "trust", "school", or None.
    target: str | None = None
    data: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint}" + (f" ({self.target})" if self.target else "")


def _concern_rows(endpoint: str, method: str, child, allegation, data=()):
    return {Row(endpoint, method, "child", data): child,
            Row(endpoint, method, "allegation", data): allegation}


MATRIX: dict[Row, dict[str, object]] = {
    # --- reading ---
    Row("safeguarding.raise_concern", "GET"): outcomes(200, *RAISERS, refused=403),
    Row("safeguarding.my_concerns", "GET"): outcomes(200, *ROLES),
    **_concern_rows("safeguarding.receipt", "GET",
                    outcomes(200, "reporter"), outcomes(200, "reporter")),
    # The list of concerns to act on is offered to anyone who may be alerted, and lists only
    # what each may open (for another school's DSL or another trust's lead: none of these).
    Row("safeguarding.inbox", "GET"): outcomes(200, *ALERTED, refused=403),
    **_concern_rows("safeguarding.concern", "GET",
                    outcomes(200, *CHILD_READERS, admin=BREAK_GLASS),
                    outcomes(200, *ADULT_READERS, admin=BREAK_GLASS)),
    **_concern_rows("safeguarding.account_download", "GET",
                    outcomes(200, *CHILD_READERS, admin=403),
                    outcomes(200, *ADULT_READERS, admin=403)),
    Row("safeguarding.trust_safeguarding", "GET", "trust"): outcomes(200, *TRUST_FIGURES),
    Row("safeguarding.trust_figures_csv", "GET", "trust"): outcomes(200, *TRUST_FIGURES),
    Row("safeguarding.access_log", "GET", "trust"): outcomes(200, "trust_lead"),
    Row("safeguarding.settings", "GET", "trust"): outcomes(200, "central_team", "trust_lead"),
    # Counts only; the subject sees them as a leader of the school.
    Row("safeguarding.school_safeguarding", "GET", "school"): outcomes(200, *SCHOOL_FIGURES),
    # --- acting ---
    # Breaking glass is the admin's alone; those a concern is for are sent to it instead.
    **_concern_rows("safeguarding.break_glass", "POST",
                    outcomes(302, *CHILD_READERS, admin=200),
                    outcomes(302, *ADULT_READERS, admin=200),
                    data=(("reason", "A court order asks for this concern's record"),)),
    **_concern_rows("safeguarding.acknowledge", "POST",
                    outcomes(302, *CHILD_READERS, admin=403),
                    outcomes(302, *ADULT_READERS, admin=403)),
    **_concern_rows("safeguarding.add_entry", "POST",
                    outcomes(302, *CHILD_READERS, admin=403),
                    outcomes(302, *ADULT_READERS, admin=403),
                    data=(("kind", "note"), ("text", "Spoke to the class teacher"))),
    **_concern_rows("safeguarding.recorded_elsewhere", "POST",
                    outcomes(302, *CHILD_READERS, admin=403),
                    outcomes(302, *ADULT_READERS, admin=403),
                    data=(("system", "CPOMS"), ("reference", "CP-1234"))),
    Row("safeguarding.close_review", "POST", "review",
        (("outcome", "reinstated"), ("reason", "The LADO found no case to answer"))):
        outcomes(302, *REVIEWERS),
    # Suspension pending review is for allegations only: nobody suspends over a concern
    # about a child.
    **_concern_rows("safeguarding.suspend", "POST",
                    outcomes(302), outcomes(302, *REVIEWERS),
                    data=(("reason", "Pending the LADO's advice"),)),
    **_concern_rows("safeguarding.close", "POST",
                    outcomes(302, *CHILD_READERS, admin=403),
                    outcomes(302, *ADULT_READERS, admin=403),
                    data=(("outcome", "Early help offered to the family"),)),
    Row("safeguarding.settings", "POST", "trust",
        (("first_escalation_minutes", "30"), ("second_escalation_minutes", "90"),
         ("purge_days", "14"))): outcomes(302, "central_team", "trust_lead"),
    Row("safeguarding.raise_concern", "POST", None,
        (("kind", "about_child"), ("account", "A second worry about the same pupil"))):
        outcomes(302, *RAISERS, refused=403),
}


def _world(db_session) -> SimpleNamespace:
    trust = make_trust("Harbour Learning Trust")
    cluster = make_cluster(trust, "Harbour North")
    school = make_school(trust, cluster=cluster, name="Harbour Primary")
    other_school = make_school(trust, cluster=make_cluster(trust), name="Quay Academy")
    people = {
        "reporter": make_member(Role.TUTOR, school=school, name="Rory Reporter"),
        "other_tutor": make_member(Role.TUTOR, school=school, name="Olive Othertutor"),
        "dsl": make_member(Role.DSL, school=school, name="Dana Designated"),
        "deputy_dsl": make_member(Role.DEPUTY_DSL, school=school, name="Dev Deputy"),
        "school_leader": make_member(Role.SCHOOL_LEADER, school=school, name="Hilary Head"),
        "tutoring_lead": make_member(Role.TUTORING_LEAD, school=school, name="Tam Tutoring"),
        "trust_lead": make_member(Role.TRUST_SAFEGUARDING_LEAD, trust=trust,
                                  name="Tariq Trustlead"),
        "central_team": make_member(Role.CENTRAL_TEAM, trust=trust, name="Cass Central"),
        "trustee": make_member(Role.TRUSTEE, trust=trust, name="Terry Trustee"),
        "cluster_lead": make_member(Role.CLUSTER_LEAD, cluster=cluster, name="Cleo Cluster"),
        "other_school_dsl": make_member(Role.DSL, school=other_school, name="Quinn Quay"),
        "other_trust_lead": make_member(Role.TRUST_SAFEGUARDING_LEAD, trust=make_trust(),
                                        name="Elsie Elsewhere"),
        "provider": make_member(Role.PROVIDER, provider=make_provider(), name="Piper Provider"),
        "admin": make_member(Role.PROGRAMME_ADMIN, name="Ada Admin"),
        # An assistant head who tutors too, on the register: as a leader they would open an
        # allegation, but never this one, which is about them.
        "subject": make_member(Role.SCHOOL_LEADER, school=school, name="Sam Subject"),
    }
    subject = people["subject"]
    make_member(Role.TUTOR, school=school, user=subject)
    register.add_to_register(trust, subject, schools=[school])
    world = SimpleNamespace(trust=trust, school=school, people=people,
                            # Where each raises a concern, if not at ``school``.
                            raises_at={"other_school_dsl": other_school})
    world.child = raise_about_child(world, reporter=people["reporter"])
    world.allegation = raise_about_adult(world, subject, reporter=people["reporter"])
    world.review = reviews.suspend_pending_review(world.allegation,
                                                  actor=people["central_team"],
                                                  reason="Pending the LADO's advice")
    db_session.commit()
    return world


def _url(row: Row, world) -> str:
    values = {
        "child": {"concern_id": world.child.id},
        "allegation": {"concern_id": world.allegation.id},
        "review": {"review_id": world.review.id},
        "trust": {"trust_id": world.trust.id},
        "school": {"school_id": world.school.id},
        None: {},
    }[row.target]
    return url_for(row.endpoint, **values)


def _state(db_session) -> tuple:
    """Everything a refused request must leave as it was."""
    db_session.expire_all()
    concerns = db_session.execute(select(
        Concern.id, Concern.acknowledged_at, Concern.recorded_elsewhere_at, Concern.closed_at,
        Concern.purged_at).order_by(Concern.id)).all()
    counts = [db_session.scalar(select(func.count()).select_from(table))
              for table in (ConcernEntry, ConcernView)]
    review_rows = db_session.execute(select(Review.id, Review.closed_at, Review.outcome)
                                     .order_by(Review.id)).all()
    settings = db_session.execute(select(
        SafeguardingSettings.trust_id, SafeguardingSettings.first_escalation_minutes,
        SafeguardingSettings.second_escalation_minutes,
        SafeguardingSettings.purge_days)).all()
    return concerns, counts, review_rows, settings


def _data(row: Row, world, role: str) -> dict[str, str] | None:
    if row.method != "POST":
        return None
    data = dict(row.data)
    if row.endpoint == "safeguarding.raise_concern":
        data["school_id"] = str(world.raises_at.get(role, world.school).id)
    return data


def _check(response, expected, row: Row, world, role: str) -> str | None:
    """What is wrong with ``response``, if anything."""
    body = response.get_data()
    status = response.status_code
    if expected == BREAK_GLASS:
        if status != 200 or b"Break-glass access to" not in body:
            return f"expected the break-glass form, got {status}"
        if PLANTED.encode() in body:
            return "the break-glass form shows the account"
        return None
    if status != expected:
        return f"expected {expected}, got {status}"
    if status == 302 and "/sign-in" in response.headers.get("Location", ""):
        return "sent to sign in"
    if row.endpoint == "safeguarding.concern" and status == 200 \
            and PLANTED.encode() not in body:
        return "opened without the account"
    if status == 200 and row.endpoint in LISTS:
        listed = {c.reference for c in (world.child, world.allegation)
                  if c.reference.encode() in body}
        if listed != LISTS[row.endpoint](world, role):
            return f"lists {sorted(listed)}"
    return None


def _inbox(world, role: str) -> set[str]:
    """The concerns this person may open, and no other."""
    return ({world.child.reference} if role in CHILD_READERS else set()) | (
        {world.allegation.reference} if role in ADULT_READERS else set())


def _receipts(world, role: str) -> set[str]:
    return {world.child.reference, world.allegation.reference} if role == "reporter" else set()


#: The lists, and which of the two concerns each person must find on them.
LISTS = {"safeguarding.inbox": _inbox, "safeguarding.my_concerns": _receipts}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_matrix_says(app, db_session, client, sign_in, role):
    world = _world(db_session)
    sign_in(world.people[role])
    with app.test_request_context():
        urls = {row: _url(row, world) for row in MATRIX}
    wrong = []
    for row, expected_by_role in MATRIX.items():
        expected = expected_by_role[role]
        before = _state(db_session)
        if row.method == "GET":
            response = client.get(urls[row])
        else:
            response = client.post(urls[row], data=_data(row, world, role))
        problem = _check(response, expected, row, world, role)
        response.close()
        if problem is None:
            changed = _state(db_session) != before
            if expected in (403, 404) and changed:
                problem = f"refused with {expected} but changed something"
            elif row.method == "POST" and expected not in (403, 404) and not changed and not (
                    row.endpoint == "safeguarding.break_glass" and expected == 302):
                problem = f"allowed with {expected} but did nothing"
        if problem:
            wrong.append(f"{row}: {problem}")
    assert not wrong, f"{role}:\n  " + "\n  ".join(wrong)


def test_every_safeguarding_route_is_in_the_matrix(app):
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("safeguarding.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    rows = {(row.endpoint, row.method) for row in MATRIX}
    assert routes - rows == set(), "add these safeguarding routes to MATRIX"
    assert rows - routes == set(), "these rows of MATRIX name no route"
    # A route about a concern is checked against both kinds, which open for different people.
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("safeguarding.") and "concern_id" in rule.arguments:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                targets = {r.target for r in MATRIX if (r.endpoint, r.method) ==
                           (rule.endpoint, method)}
                assert targets == {"child", "allegation"}, (rule.endpoint, method)
    assert all(set(outcome) == set(ROLES) for outcome in MATRIX.values())


def test_the_matrix_keeps_the_rules_of_the_policies():
    """The rules read the same in the matrix as in ``lms.safeguarding.policies``' docstring:
    the ones that must never be loosened."""
    opened = {row.target: outcome for row, outcome in MATRIX.items()
              if row.endpoint == "safeguarding.concern"}
    for role in ("reporter", "other_tutor", "other_school_dsl", "trustee", "provider"):
        assert opened["child"][role] == 404 and opened["allegation"][role] == 404, role
    assert opened["allegation"]["subject"] == 404
    assert opened["child"]["admin"] == opened["allegation"]["admin"] == BREAK_GLASS


def test_a_trust_lead_an_allegation_is_about_is_shown_nothing_of_it(db_session, client,
                                                                   sign_in):
    world = _world(db_session)
    subject = world.people["subject"]
    make_member(Role.TRUST_SAFEGUARDING_LEAD, trust=world.trust, user=subject)
    access.break_glass(world.allegation, world.people["admin"],
                       reason="A court order asks for this concern's record")
    db_session.commit()
    sign_in(subject)
    reference = world.allegation.reference
    assert client.get(f"/safeguarding/concerns/{world.allegation.id}").status_code == 404
    for url in (f"/trusts/{world.trust.id}/safeguarding",
                f"/trusts/{world.trust.id}/safeguarding/access-log"):
        assert reference not in client.get(url).get_data(as_text=True), url
    assert not db_session.scalars(select(ConcernAlert).where(
        ConcernAlert.user_id == subject.id)).all()
