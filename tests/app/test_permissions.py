"""Who may reach what: every route of the app, for every role, against another trust's data.

The routes come from the app's URL map, so a new route that has not declared its access, or
whose URL arguments nobody has classified in ``URL_ARGUMENTS`` below, fails this suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import or_, select

from assessments.attempts.models import Attempt
from assessments.checks.models import FormativeResult
from courses.models import CourseVersion, Resource
from courses.services import course_progress, load_content
from credentials.endorsements.models import Endorsement
from credentials.providers.models import ApiKey
from credentials.providers.services import create_api_key
from credentials.register import services as register
from credentials.register.access import grant_provider_access
from credentials.register.models import (
    DbsCheck,
    DbsStatusCheck,
    ProviderAccess,
    RegisterEntry,
    RegisterPolicy,
    SafeguardingTraining,
    register_entry_schools,
)
from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxEmail
from lms.organisations.models import Cluster, Membership, School, Trust
from lms.platform import clock
from lms.platform.roles import Role
from lms.programme.models import Enrolment, NominationImport
from lms.safeguarding import reviews
from lms.safeguarding import services as safeguarding
from lms.safeguarding.models import (
    Concern,
    ConcernAlert,
    ConcernEntry,
    ConcernView,
    Review,
    SafeguardingSettings,
)
from lms.tutoring import groups
from lms.tutoring.models import GroupPupil, Programme, Pupil, TutoringGroup, TutoringSession
from tests.content_factory import write_content
from tests.factories import (
    make_cluster,
    make_endorsement,
    make_enrolment,
    make_member,
    make_nomination,
    make_provider,
    make_school,
    make_trust,
    membership_of,
)
from tests.tutoring_factory import clear_for, log_delivered, make_group, make_programme, make_pupil

TUTOR_PASSWORD = "tutor password 2026"

#: Endpoints meant for anyone, signed in or not. Anything else must send strangers to sign in.
PUBLIC = {
    "static", "healthz", "lms.home", "lms.sign_in", "lms.forgot_password", "lms.reset_password",
    "lms.accept_invitation", "lms.verify_email", "lms.accept_nomination",
    "lms.decline_nomination",
    # The privacy notice is read before anyone has an account.
    "lms.privacy_notice", *(
        # Verification is for anyone: a provider or parent holding a link or a QR code.
        "credentials.did_json", "credentials.status_list", "credentials.credential",
        "credentials.credential_json", "credentials.credential_qr",
        "credentials.credential_certificate", "credentials.achievement",
        # The API authenticates with its own keys.
        "api.verifications", "api.openapi", "api.groups", "api.log_sessions"),
}

#: API endpoints that answer only to a provider's API key.
API_KEY_ENDPOINTS = {"api.verifications", "api.groups", "api.log_sessions"}

#: Public pages that show one endorsement to whoever holds its link: the tutor's name is
#: meant to be there; nothing else of trust B is.
PUBLISHED = {"credentials.credential", "credentials.credential_json",
             "credentials.credential_certificate"}

#: How to fill each URL argument: with trust B's objects, so every object-scoped URL points
#: into the trust the people under test do not belong to. A new argument must be added here.
URL_ARGUMENTS = {
    "trust_id": lambda w: w.b.trust.id,
    "school_id": lambda w: w.b.school.id,
    "membership_id": lambda w: membership_of(w.b.people["school_leader"], Role.SCHOOL_LEADER).id,
    "user_id": lambda w: w.b.people["school_leader"].id,
    "email_id": lambda w: w.b.email_id,
    "nomination_id": lambda w: w.b.nomination_id,
    "import_id": lambda w: w.b.import_id,
    "enrolment_id": lambda w: w.b.enrolment.id,
    "lesson_id": lambda w: w.b.lesson_id,
    "resource_id": lambda w: w.b.resource_id,
    "version_id": lambda w: w.version_id,
    "check_id": lambda w: w.b.check_id,
    "attempt_id": lambda w: w.b.attempt_id,
    "endorsement_id": lambda w: w.b.endorsement.id,
    "public_id": lambda w: w.b.endorsement.public_id,
    "list_id": lambda w: w.b.endorsement.status_list.public_id,
    "provider_id": lambda w: w.b.provider_id,
    "key_id": lambda w: w.b.api_key_id,
    "dbs_check_id": lambda w: w.b.dbs_check_id,
    "access_id": lambda w: w.b.access_id,
    "change": lambda w: "suspend",
    "slug": lambda w: "primary",
    "topic": lambda w: "module-1",
    "position": lambda w: 0,
    "number": lambda w: 1,
    "token": lambda w: "bad-token",
    "filename": lambda w: "app.css",
    "section": lambda w: "pipeline",
    "fmt": lambda w: "csv",
    "programme_id": lambda w: w.b.programme_id,
    "pupil_id": lambda w: w.b.pupil_id,
    "group_id": lambda w: w.b.group_id,
    "day": lambda w: clock.today().isoformat(),
    "concern_id": lambda w: w.b.concern_id,
    "review_id": lambda w: w.b.review_id,
    "observation_id": lambda w: w.b.observation_id,
    "survey_id": lambda w: w.b.survey_id,
    "pilot_id": lambda w: w.b.pilot_id,
    "module": lambda w: "course",
    "pathway": lambda w: "primary",
}

#: Arguments that name an object of trust B (the rest only shape the URL).
OBJECT_ARGUMENTS = set(URL_ARGUMENTS) - {"topic", "position", "number", "token", "filename",
                                         "change", "slug", "section", "fmt", "day",
                                         "module", "pathway"}

PROGRAMME_FORM = {
    "name": "Planted Programme", "subject": "maths", "delivery_model": "small_group",
    "max_group_size": "3", "planned_sessions": "15", "session_minutes": "60",
    "cost_model": "per_tutor_hour", "rate": "30.00", "school_contribution_percent": "0",
    "provider_id": "", "measure_scale": "score", "evidence_source": "teacher_assessment",
    "sla_notice_hours": "24", "sla_report_hours": "48", "sla_late_minutes": "5"}

#: A well-formed body for POSTs that change something, so a refusal is the access rule's doing
#: and not a form error. Other POSTs carry only the CSRF token.
POST_DATA = {
    "lms.add_cluster": {"name": "Planted Cluster"},
    "lms.add_school": {"urn": "777777", "name": "Planted School", "phase": "primary",
                       "local_authority": "Leeds", "postcode": "LS1 4AP", "cluster_id": ""},
    "lms.edit_school": {"name": "Renamed School", "phase": "secondary",
                        "local_authority": "York", "postcode": "YO1 7HH"},
    "lms.move_school": {"trust_id": "{a_trust}", "cluster_id": "", "reason": "Taken over"},
    "lms.trust_people": {"name": "Planted Person", "email": "planted@elsewhere.example",
                         "role": "trustee", "school_id": "", "cluster_id": ""},
    "lms.end_membership": {"reason": "Left"},
    "lms.trust_settings": {"requires_nomination_approval": "y"},
    "lms.approvals": {"nomination_ids": "{b_nomination}", "decision": "approve", "reason": ""},
    "lms.resend_nomination": {"reason": ""},
    "lms.withdraw_nomination": {"reason": "Left"},
    "lms.extend_enrolment": {"extend-days": "7", "extend-reason": "Illness"},
    "lms.withdraw_enrolment": {"withdraw-reason": "Left"},
    "assessments.grant_adjustment": {"kind": "extra_attempt", "value": "1", "reason": "Needs"},
    "credentials.change_endorsement": {"suspend-reason": "Planted suspension"},
    "credentials.provider_keys": {"name": "Planted key"},
    "credentials.record_dbs_check": {
        "dbs-certificate_number": "001234567890", "dbs-issued_on": "2025-01-10",
        "dbs-level": "enhanced_barred", "dbs-workforce": "child", "dbs-barred_lists": "children",
        "dbs-original_seen_by": "Planted", "dbs-original_seen_on": "2025-01-12",
        "dbs-update_service": "yes", "dbs-showed_information": "no"},
    "credentials.record_status_check": {"status-checked_on": "2025-06-01",
                                        "status-result": "new_information"},
    "credentials.record_risk_decision": {"risk-decision": "not_suitable",
                                         "risk-decided_on": "2025-02-01",
                                         "risk-decided_by": "Planted"},
    "credentials.record_training": {"training-completed_on": "2025-03-01",
                                    "training-course": "Planted"},
    "credentials.save_register_entry": {"entry-school_ids": "{b_sibling}"},
    "credentials.remove_register_entry": {"remove-reason": "Planted removal"},
    "credentials.register_settings": {"dbs_renewal": "update_service", "certificate_years": "1",
                                      "status_check_months": "1", "training_months": "1"},
    "credentials.grant_access": {"provider_id": "{a_provider}"},
    "credentials.find_certificate": {"certificate_number": "909090909090"},
    "tutoring.programmes": PROGRAMME_FORM,
    "tutoring.programme": {**PROGRAMME_FORM, "rate": "99.00"},
    "tutoring.set_retention": {"pupil_retention_years": "9"},
    "tutoring.school_pupils": {"display_name": "Planted", "reference": "PLANT1",
                               "year_group": "5"},
    "tutoring.pupil": {"display_name": "Planted", "reference": "PLANT1", "year_group": "5"},
    "tutoring.erase_pupils": {"reason": "Planted erasure", "confirm": "y"},
    "tutoring.erase_pupil": {"reason": "Planted erasure", "confirm": "y"},
    "tutoring.pupil_progress": {"baseline": "40", "target": "60"},
    "tutoring.log_session": {"status": "cancelled", "cancel_reason": "other",
                             "reason": "Planted change"},
    "safeguarding.raise_concern": {"school_id": "{b_school}", "kind": "about_child",
                                   "account": "Planted concern"},
    "safeguarding.break_glass": {"reason": "Planted reason, long enough to be accepted"},
    "safeguarding.add_entry": {"kind": "note", "text": "Planted note"},
    "safeguarding.recorded_elsewhere": {"system": "CPOMS", "reference": "PLANT1"},
    "safeguarding.close": {"outcome": "Planted outcome"},
    "safeguarding.suspend": {"reason": "Planted suspension"},
    "safeguarding.close_review": {"outcome": "reinstated", "reason": "Planted reinstatement"},
    "safeguarding.settings": {"first_escalation_minutes": "10",
                              "second_escalation_minutes": "20", "purge_days": "5"},
}

#: Endpoints that, for a signed-in user, redirect somewhere of their own.
OWN_REDIRECTS = {"lms.sign_in", "lms.sign_out", "lms.send_verification", "courses.my_course",
                 # Two-factor pages: sign-in's (only half-way through signing in, so back to
                 # sign-in) and the account page's when there is nothing to set up or show.
                 "lms.two_factor_challenge", "lms.two_factor_set_up",
                 "lms.two_factor_recovery_codes", "lms.account_two_factor_set_up",
                 "lms.account_recovery_codes"}

#: Routes only the tutor of the enrolment may use (not even a programme admin studies).
STUDY_ENDPOINTS = {
    "courses.course", "courses.lesson", "courses.complete_lesson", "courses.resource",
    "courses.answer_scenario",
    "assessments.start_check", "assessments.check", "assessments.assessment",
    "assessments.start_attempt", "assessments.question", "assessments.autosave",
    "assessments.review", "assessments.result",
}

#: What the programme admin gets from trust B's safeguarding pages: their general reach does
#: not extend to concerns. (The concern itself answers with the break-glass form.)
ADMIN_SAFEGUARDING = {
    "safeguarding.raise_concern": 403,  # they work at no school
    "safeguarding.inbox": 403,
    "safeguarding.receipt": 404,  # the reporter's alone
    "safeguarding.account_download": 403,  # opened only through the break-glass page
    "safeguarding.access_log": 404,  # the trust safeguarding lead's alone
    "safeguarding.settings": 404,
    "safeguarding.school_safeguarding": 404,
    # After training: what is one person's own stays theirs.
    "feedback.rate": 403,  # the enrolment's tutor alone rates their course
    "feedback.survey": 404,  # the school leader it was sent to alone answers it
    "library.index": 403,  # only endorsed tutors have a library
    "library.unit": 403,
    "library.resource": 403,
    "observations.record_observation": 403,  # recorded by the school's own staff
}

ROLES_OF_A = ["central_team", "trustee", "cluster_lead", "school_leader", "tutoring_lead",
              "tutor", "dsl", "deputy_dsl", "trust_safeguarding_lead"]


@dataclass
class TrustSide:
    """One trust with a person in every role; all its names start with its ``prefix``."""

    prefix: str
    trust: Trust
    cluster: Cluster
    other_cluster: Cluster
    school: School
    sibling: School
    people: dict[str, User]
    enrolment: Enrolment
    urns: list[str]
    nomination_id: int = 0
    import_id: int = 0
    lesson_id: int = 0
    resource_id: int = 0
    check_id: int = 0
    attempt_id: int = 0
    email_id: int = 0
    provider_id: int = 0
    api_key_id: int = 0
    dbs_check_id: int = 0
    access_id: int = 0
    programme_id: int = 0
    pupil_id: int = 0
    group_id: int = 0
    concern_id: int = 0
    review_id: int = 0
    observation_id: int = 0
    survey_id: int = 0
    pilot_id: int = 0
    endorsement: Endorsement | None = None
    staff_ids: set[int] = field(default_factory=set)


@dataclass
class World:
    a: TrustSide
    b: TrustSide
    provider: User
    admin: User
    version_id: int

    def person(self, role: str) -> User:
        return self.provider if role == "provider" else self.a.people[role]


def _side(db_session, prefix: str, urn_base: int) -> TrustSide:
    trust = make_trust(f"{prefix} Learning Trust")
    cluster = make_cluster(trust, f"{prefix} North Hub")
    other_cluster = make_cluster(trust, f"{prefix} South Hub")
    urns = [str(urn_base + 1), str(urn_base + 2)]
    school = make_school(trust, cluster=cluster, urn=urns[0], name=f"{prefix} Oak Primary")
    sibling = make_school(trust, cluster=other_cluster, urn=urns[1],
                          name=f"{prefix} Elm Academy")
    low = prefix.lower()
    people = {
        "central_team": make_member(Role.CENTRAL_TEAM, trust=trust, name=f"{prefix} Centralis",
                                    email=f"{low}.central@trust.example"),
        "trustee": make_member(Role.TRUSTEE, trust=trust, name=f"{prefix} Trusteed",
                               email=f"{low}.trustee@trust.example"),
        "cluster_lead": make_member(Role.CLUSTER_LEAD, cluster=cluster,
                                    name=f"{prefix} Clusterby",
                                    email=f"{low}.lead@trust.example"),
        "school_leader": make_member(Role.SCHOOL_LEADER, school=school,
                                     name=f"{prefix} Headley", email=f"{low}.head@trust.example"),
        "tutoring_lead": make_member(Role.TUTORING_LEAD, school=school,
                                     name=f"{prefix} Leadwell",
                                     email=f"{low}.tutoring@trust.example"),
        "dsl": make_member(Role.DSL, school=school, name=f"{prefix} Designate",
                           email=f"{low}.dsl@trust.example"),
        "deputy_dsl": make_member(Role.DEPUTY_DSL, school=school, name=f"{prefix} Deputise",
                                  email=f"{low}.deputy@trust.example"),
        "trust_safeguarding_lead": make_member(
            Role.TRUST_SAFEGUARDING_LEAD, trust=trust, name=f"{prefix} Safeguard",
            email=f"{low}.safeguarding@trust.example"),
    }
    nomination = make_nomination(school, actor=people["school_leader"],
                                 name=f"{prefix} Nominee", email=f"{low}.nominee@trust.example")
    enrolment = make_enrolment(school, name=f"{prefix} Tutorson",
                               email=f"{low}.tutor@trust.example")
    people["tutor"] = enrolment.user
    side = TrustSide(prefix, trust, cluster, other_cluster, school, sibling, people, enrolment,
                     urns, nomination_id=nomination.id)
    upload = NominationImport(school=school, filename=f"{low}.csv", content="name\n")
    check = FormativeResult(enrolment_id=enrolment.id, topic="module-1", items=[], total=0)
    attempt = Attempt(enrolment_id=enrolment.id, number=1, seed=1, total=0,
                      started_at=clock.now(), deadline_at=clock.now())
    db_session.add_all([upload, check, attempt])
    db_session.flush()
    side.import_id, side.check_id, side.attempt_id = upload.id, check.id, attempt.id
    side.lesson_id = course_progress(enrolment).next_lesson.id
    side.resource_id = db_session.scalars(select(Resource.id)).first()
    side.email_id = db_session.scalars(
        select(OutboxEmail.id).where(OutboxEmail.to_address == f"{low}.nominee@trust.example")
    ).first()
    side.endorsement = make_endorsement(school, name=f"{prefix} Endorsed",
                                        email=f"{low}.endorsed@trust.example")
    provider = make_provider(f"{prefix} Tutoring Ltd")
    key, _ = create_api_key(provider, name=f"{prefix} key", actor=None)
    side.provider_id, side.api_key_id = provider.id, key.id
    # The school leader tutors too: on the register, with a DBS check that showed information
    # (so the risk decision and status check forms are in play) and training.
    leader = people["school_leader"]
    register.add_to_register(trust, leader, schools=[school])
    check = register.record_dbs_check(
        leader, trust, certificate_number=f"{urn_base:06d}{urn_base:06d}",
        issued_on=date(2025, 1, 10), level="enhanced_barred", workforce="child",
        barred_lists=["children"], original_seen_by=f"{prefix} Centralis",
        original_seen_on=date(2025, 1, 12), update_service=True, showed_information=True)
    register.record_training(leader, trust, completed_on=date(2025, 3, 1))
    side.dbs_check_id = check.id
    side.access_id = grant_provider_access(trust, provider, None).id
    # Tutoring: the endorsed tutor cleared for the school, a group with a pupil, a session.
    tutor = clear_for(side.endorsement.user, school)
    programme = make_programme(trust, name=f"{prefix} Maths Boost")
    group = make_group(school, programme=programme, tutor=tutor, pupil_count=0,
                       name=f"{prefix} Year 5 maths")
    pupil = make_pupil(school, display_name=f"{prefix} Pupil")
    groups.add_pupils(group, [pupil], on=group.starts_on)
    log_delivered(group)
    side.programme_id, side.group_id, side.pupil_id = programme.id, group.id, pupil.id
    # Safeguarding: the tutor raises an allegation about the school leader (an adult on the
    # register), and the central team suspends them pending review.
    concern = safeguarding.raise_concern(people["tutor"], safeguarding.Report(
        school_id=school.id, kind="about_adult", subject_id=leader.id,
        account=f"{prefix} planted allegation"))
    review = reviews.suspend_pending_review(concern, actor=people["central_team"],
                                            reason=f"{prefix} planted suspension")
    db_session.flush()
    side.concern_id, side.review_id = concern.id, review.id
    # After training: an observation of the group, the leader's survey about the endorsed
    # tutor, a pilot of the programme against the sibling school.
    from lms.feedback.models import LeaderSurvey
    from tests.observations_factory import observe
    from tests.research_factory import make_pilot

    side.observation_id = observe(group, people["tutoring_lead"]).id
    survey = LeaderSurvey(endorsement_id=side.endorsement.id, leader_id=leader.id,
                          school_id=school.id, trust_id=trust.id, tutor_id=tutor.id,
                          pathway=side.endorsement.pathway, course_version="planted")
    db_session.add(survey)
    db_session.flush()
    side.survey_id = survey.id
    side.pilot_id = make_pilot(trust, programme, comparison_schools=[sibling],
                               name=f"{prefix} pilot").id
    side.staff_ids = {p.id for p in people.values()}
    return side


@pytest.fixture
def world(db_session, tmp_path) -> World:
    load_content(write_content(tmp_path / "content"))
    a = _side(db_session, "Ashdown", 100000)
    b = _side(db_session, "Bramblewick", 909090)
    provider = make_member(Role.PROVIDER, provider=make_provider("Checkwell Tutoring"),
                           name="Piper Provider")
    admin = make_member(Role.PROGRAMME_ADMIN, name="Ada Admin")
    db_session.commit()
    version_id = db_session.scalars(select(CourseVersion.id)).first()
    assert a.email_id and b.email_id, "the nominations should have emailed their candidates"
    return World(a, b, provider, admin, version_id)


def _sign_in(sign_in, world: World, role: str):
    person = world.person(role)
    password = TUTOR_PASSWORD if role == "tutor" else "correct horse battery staple"
    return sign_in(person, password)


def _urls(app, world: World):
    """Every rule and method, with a concrete URL pointing at trust B's objects."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        missing = set(rule.arguments) - set(URL_ARGUMENTS)
        assert not missing, (
            f"URL argument(s) {sorted(missing)} of {rule.rule} ({rule.endpoint}) are not "
            "classified: add them to URL_ARGUMENTS in tests/app/test_permissions.py with a value "
            "naming trust B's object"
        )
        values = {name: URL_ARGUMENTS[name](world) for name in rule.arguments}
        url = rule.build(values)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, url, bool(set(rule.arguments) & OBJECT_ARGUMENTS)


def _post_data(client, endpoint: str, world: World) -> dict:
    data = {key: value.format(a_trust=world.a.trust.id, b_nomination=world.b.nomination_id,
                              b_sibling=world.b.sibling.id, a_provider=world.a.provider_id,
                              b_school=world.b.school.id)
            for key, value in POST_DATA.get(endpoint, {}).items()}
    return {"csrf_token": client.csrf_token(), **data}


def _leaks(body: str, world: World, endpoint: str = "") -> list[str]:
    lowered = body.lower()
    if endpoint in PUBLISHED:
        lowered = lowered.replace(world.b.endorsement.user.name.lower(), "")
    markers = ["bramblewick", *world.b.urns]
    return [m for m in markers if m.lower() in lowered]


def _state_of_b(db_session, world: World) -> tuple:
    """What a refused request must not have changed about trust B."""
    db_session.expire_all()
    b = world.b
    audit = db_session.scalars(select(AuditEntry.id).where(or_(
        AuditEntry.trust_id == b.trust.id,
        (AuditEntry.object_type == "User") & AuditEntry.object_id.in_(
            [str(i) for i in b.staff_ids])))).all()
    schools = db_session.execute(select(
        School.id, School.name, School.phase, School.postcode, School.trust_id,
        School.cluster_id).where(School.id.in_([b.school.id, b.sibling.id]))).all()
    memberships = db_session.execute(select(Membership.id, Membership.ended_at).where(
        Membership.trust_id == b.trust.id)).all()
    emails = db_session.scalars(select(OutboxEmail.id).where(
        OutboxEmail.to_address.like("bramblewick%"))).all()
    keys = db_session.execute(select(ApiKey.id, ApiKey.revoked_at).where(
        ApiKey.provider_id == b.provider_id)).all()
    entries = db_session.execute(select(
        RegisterEntry.id, RegisterEntry.status, RegisterEntry.removed_at, RegisterEntry.held_at,
        RegisterEntry.subject).where(RegisterEntry.trust_id == b.trust.id)).all()
    listed = db_session.execute(select(register_entry_schools).where(
        register_entry_schools.c.entry_id.in_([e.id for e in entries]))).all()
    checks = db_session.execute(select(
        DbsCheck.id, DbsCheck.risk_decision, DbsCheck.risk_decision_on)
        .where(DbsCheck.trust_id == b.trust.id)).all()
    status_checks = db_session.scalars(select(DbsStatusCheck.id).join(
        DbsCheck, DbsCheck.id == DbsStatusCheck.dbs_check_id).where(
        DbsCheck.trust_id == b.trust.id)).all()
    training = db_session.scalars(select(SafeguardingTraining.id).where(
        SafeguardingTraining.trust_id == b.trust.id)).all()
    policies = db_session.execute(select(
        RegisterPolicy.id, RegisterPolicy.dbs_renewal, RegisterPolicy.certificate_years)
        .where(RegisterPolicy.trust_id == b.trust.id)).all()
    grants = db_session.execute(select(ProviderAccess.id, ProviderAccess.provider_id,
                                       ProviderAccess.revoked_at)
                                .where(ProviderAccess.trust_id == b.trust.id)).all()
    tutoring = (
        db_session.execute(select(Programme.id, Programme.rate_pence, Programme.superseded_at)
                           .where(Programme.trust_id == b.trust.id)).all(),
        db_session.execute(select(Pupil.id, Pupil.display_name, Pupil.erased_at)
                           .where(Pupil.school_id.in_([b.school.id, b.sibling.id]))).all(),
        db_session.execute(select(TutoringGroup.id, TutoringGroup.status, TutoringGroup.tutor_id)
                           .where(TutoringGroup.trust_id == b.trust.id)).all(),
        db_session.execute(select(GroupPupil.id, GroupPupil.left_on, GroupPupil.baseline)
                           .where(GroupPupil.group_id == b.group_id)).all(),
        db_session.execute(select(TutoringSession.id, TutoringSession.minutes_delivered,
                                  TutoringSession.edited_at)
                           .where(TutoringSession.trust_id == b.trust.id)).all())
    of_b = Concern.trust_id == b.trust.id
    safeguarding_state = (
        db_session.execute(select(
            Concern.id, Concern.acknowledged_at, Concern.recorded_elsewhere_at,
            Concern.closed_at, Concern.purged_at).where(of_b)).all(),
        db_session.execute(select(Concern.id).where(Concern.school_id.in_(
            [b.school.id, b.sibling.id]))).all(),
        db_session.execute(select(ConcernEntry.id, ConcernEntry.kind).join(
            Concern, Concern.id == ConcernEntry.concern_id).where(of_b)).all(),
        db_session.execute(select(ConcernAlert.id, ConcernAlert.dismissed_at).join(
            Concern, Concern.id == ConcernAlert.concern_id).where(of_b)).all(),
        db_session.execute(select(ConcernView.id).where(
            ConcernView.trust_id == b.trust.id)).all(),
        db_session.execute(select(Review.id, Review.closed_at, Review.outcome).join(
            Concern, Concern.id == Review.concern_id).where(of_b)).all(),
        db_session.execute(select(
            SafeguardingSettings.trust_id, SafeguardingSettings.first_escalation_minutes,
            SafeguardingSettings.purge_days).where(
            SafeguardingSettings.trust_id == b.trust.id)).all())
    return (sorted(audit), sorted(schools), sorted(memberships), sorted(emails),
            [c.name for c in b.trust.clusters], b.trust.requires_nomination_approval,
            b.endorsement.status, sorted(keys), sorted(entries), sorted(listed), sorted(checks),
            sorted(status_checks), sorted(training), policies, sorted(grants),
            *(sorted(rows) for rows in tutoring), *(sorted(rows) for rows in safeguarding_state))


# --- the route-level guarantee --------------------------------------------------------------


def test_every_route_declares_who_may_reach_it(app):
    undeclared = sorted(
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not hasattr(app.view_functions[rule.endpoint], "access")
    )
    assert undeclared == [], f"add @access(...) to the views of {undeclared}"


def test_only_the_listed_routes_are_public(app):
    public = {
        rule.endpoint for rule in app.url_map.iter_rules()
        if rule.endpoint == "static" or app.view_functions[rule.endpoint].access == "public"
    }
    assert public == PUBLIC, "a route became public (or stopped being): update PUBLIC on purpose"


def test_every_url_argument_is_classified(app):
    unclassified = {
        (rule.rule, name) for rule in app.url_map.iter_rules() for name in rule.arguments
        if name not in URL_ARGUMENTS
    }
    assert not unclassified, (
        f"classify these URL arguments in URL_ARGUMENTS of tests/app/test_permissions.py: "
        f"{sorted(unclassified)}"
    )


# --- nobody outside trust B reaches trust B -------------------------------------------------


@pytest.mark.parametrize("role", ["anonymous", *ROLES_OF_A, "provider"])
def test_nobody_outside_trust_b_reaches_its_data(app, db_session, client, sign_in, world, role):
    if role != "anonymous":
        _sign_in(sign_in, world, role)
    before = _state_of_b(db_session, world)
    checked = 0
    for rule, method, url, names_an_object in _urls(app, world):
        endpoint = rule.endpoint
        if endpoint == "lms.sign_out" and role != "anonymous":
            continue  # it would end the session the rest of the loop needs
        data = None if method == "GET" else _post_data(client, endpoint, world)
        response = client.open(url, method=method, data=data)
        body = response.get_data().decode("utf-8", "replace")
        location = response.headers.get("Location", "")
        response.close()
        where = f"{role}: {method} {url} ({endpoint}) gave {response.status_code}"
        checked += 1

        assert response.status_code < 500, where
        leaks = _leaks(body, world, endpoint)
        assert not leaks, f"{where} and shows trust B's {leaks}"
        assert "bramblewick" not in location.lower(), where

        view = app.view_functions[endpoint]
        if endpoint in PUBLIC:
            if endpoint not in PUBLISHED and (names_an_object or rule.arguments) and \
                    endpoint not in ("static", "credentials.status_list",
                                     "credentials.credential_qr", "credentials.achievement"):
                assert response.status_code in (400, 404), where  # a bad link, nothing more
            continue
        if role == "anonymous":
            assert response.status_code == 302, where
            assert location.split("?")[0].endswith("/sign-in"), where
            continue
        if view.roles and not world.person(role).has_role(*view.roles):
            assert response.status_code == 403, where
        elif names_an_object:
            # 404, never 403: a refusal must not even confirm that B's object exists.
            assert response.status_code == 404, where
        elif response.status_code == 302:
            assert endpoint in OWN_REDIRECTS, where
        else:
            assert response.status_code in (200, 400, 403), where
    assert checked > 50
    assert _state_of_b(db_session, world) == before, f"{role} changed something of trust B"


def test_a_programme_admin_sees_every_trusts_pages(app, db_session, client, sign_in, world):
    sign_in(world.admin)
    for rule, method, url, _names_an_object in _urls(app, world):
        endpoint = rule.endpoint
        if method != "GET":
            continue
        response = client.get(url)
        response.close()
        where = f"admin: GET {url} ({endpoint}) gave {response.status_code}"
        if endpoint in STUDY_ENDPOINTS:
            assert response.status_code == 403, where  # only the tutor studies
        elif "token" in rule.arguments:
            assert response.status_code == 400, where
        elif endpoint in OWN_REDIRECTS or endpoint == "lms.sign_in":
            assert response.status_code == 302, where
        elif endpoint in API_KEY_ENDPOINTS:
            assert response.status_code == 401, where  # an API key, not a session
        elif endpoint in ADMIN_SAFEGUARDING:
            assert response.status_code == ADMIN_SAFEGUARDING[endpoint], where
        else:
            assert response.status_code == 200, where


def test_the_programme_admin_sees_trust_b_by_name(db_session, client, sign_in, world):
    sign_in(world.admin)
    b = world.b
    pages = {
        "/trusts": ["Bramblewick Learning Trust"],
        f"/trusts/{b.trust.id}": ["Bramblewick Oak Primary", "Bramblewick Elm Academy"],
        f"/schools/{b.school.id}": ["Bramblewick Headley", b.urns[0]],
        f"/trusts/{b.trust.id}/people": ["Bramblewick Centralis", "Bramblewick Clusterby"],
        f"/users/{b.people['school_leader'].id}": ["bramblewick.head@trust.example"],
        f"/outbox/{b.email_id}": ["bramblewick.nominee@trust.example"],
    }
    for url, expected in pages.items():
        body = client.get(url).get_data(as_text=True)
        for text in expected:
            assert text in body, f"{url} should show {text}"


# --- and each role sees what it should ------------------------------------------------------


def _status(client, url: str, data: dict | None = None) -> int:
    response = client.get(url) if data is None else client.post(url, data=data)
    response.close()
    return response.status_code


def test_central_team_sees_and_manages_its_own_trust(db_session, client, sign_in, world):
    a = world.a
    _sign_in(sign_in, world, "central_team")
    body = client.get(f"/trusts/{a.trust.id}").get_data(as_text=True)
    assert "Ashdown Oak Primary" in body and "Ashdown Elm Academy" in body
    for url in (f"/schools/{a.school.id}", f"/schools/{a.sibling.id}",
                f"/schools/{a.sibling.id}/edit", f"/schools/{a.sibling.id}/move",
                f"/trusts/{a.trust.id}/schools/new", f"/trusts/{a.trust.id}/people",
                f"/trusts/{a.trust.id}/audit", f"/users/{a.people['school_leader'].id}",
                f"/users/{a.people['tutor'].id}"):
        assert _status(client, url) == 200, url
    assert "Add a school" in body


def test_trustee_reads_its_trust_but_cannot_change_it(db_session, client, sign_in, world):
    a = world.a
    _sign_in(sign_in, world, "trustee")
    for url in (f"/trusts/{a.trust.id}", f"/trusts/{a.trust.id}/people",
                f"/trusts/{a.trust.id}/audit", f"/schools/{a.school.id}",
                f"/schools/{a.sibling.id}", f"/users/{a.people['school_leader'].id}"):
        assert _status(client, url) == 200, url
    assert "Add a school" not in client.get(f"/trusts/{a.trust.id}").get_data(as_text=True)
    for url in (f"/trusts/{a.trust.id}/schools/new", f"/schools/{a.school.id}/edit",
                f"/schools/{a.school.id}/move"):
        assert _status(client, url) == 403, url
    refused = {
        f"/trusts/{a.trust.id}/schools/new": POST_DATA["lms.add_school"],
        f"/trusts/{a.trust.id}/clusters": POST_DATA["lms.add_cluster"],
        f"/schools/{a.school.id}/edit": POST_DATA["lms.edit_school"],
        f"/schools/{a.school.id}/move": {"trust_id": str(a.trust.id),
                                          "cluster_id": str(a.other_cluster.id), "reason": "x"},
        f"/trusts/{a.trust.id}/people": POST_DATA["lms.trust_people"],
        f"/memberships/{membership_of(a.people['school_leader'], Role.SCHOOL_LEADER).id}/end":
            {"reason": "x"},
    }
    for url, data in refused.items():
        assert _status(client, url, data) == 403, url
    db_session.expire_all()
    assert a.school.name == "Ashdown Oak Primary" and a.school.cluster_id == a.cluster.id
    assert len(a.trust.clusters) == 2
    assert db_session.scalars(select(School).where(School.urn == "777777")).first() is None
    assert a.people["school_leader"].has_role(Role.SCHOOL_LEADER)


def test_cluster_lead_sees_only_the_schools_of_its_cluster(db_session, client, sign_in, world):
    a = world.a
    _sign_in(sign_in, world, "cluster_lead")
    home = client.get("/").get_data(as_text=True)
    assert "Ashdown Oak Primary" in home and "Ashdown Elm Academy" not in home
    assert _status(client, f"/schools/{a.school.id}") == 200
    assert _status(client, f"/schools/{a.school.id}/nominations") == 200
    assert _status(client, f"/users/{a.people['school_leader'].id}") == 200
    for url in (f"/schools/{a.sibling.id}", f"/schools/{a.sibling.id}/nominations",
                f"/trusts/{a.trust.id}", f"/trusts/{a.trust.id}/people"):
        assert _status(client, url) == 404, url
    assert _status(client, f"/schools/{a.school.id}/edit") == 403


def test_school_leader_sees_only_its_own_school(db_session, client, sign_in, world):
    a = world.a
    _sign_in(sign_in, world, "school_leader")
    assert _status(client, f"/schools/{a.school.id}") == 200
    assert _status(client, f"/schools/{a.school.id}/nominations/new") == 200
    assert _status(client, f"/enrolments/{a.enrolment.id}") == 200
    for url in (f"/schools/{a.sibling.id}", f"/schools/{a.sibling.id}/nominations/new",
                f"/trusts/{a.trust.id}", f"/users/{a.people['central_team'].id}"):
        assert _status(client, url) == 404, url
    assert _status(client, f"/schools/{a.school.id}/edit") == 403


def test_tutor_sees_only_their_own_training(db_session, client, sign_in, world):
    a = world.a
    _sign_in(sign_in, world, "tutor")
    assert _status(client, f"/learn/{a.enrolment.id}") == 200
    assert _status(client, f"/enrolments/{a.enrolment.id}") == 200
    assert _status(client, f"/users/{a.people['tutor'].id}") == 200
    for url in (f"/schools/{a.school.id}", f"/trusts/{a.trust.id}",
                f"/users/{a.people['school_leader'].id}"):
        assert _status(client, url) == 404, url


def test_provider_sees_no_trust(db_session, client, sign_in, world):
    a = world.a
    _sign_in(sign_in, world, "provider")
    for url in (f"/schools/{a.school.id}", f"/trusts/{a.trust.id}",
                f"/users/{a.people['tutor'].id}", f"/enrolments/{a.enrolment.id}"):
        assert _status(client, url) == 404, url


def test_school_lists_and_school_pages_follow_the_same_rule(db_session, world):
    """``visible_schools`` (for lists) and the School policy (for pages) must agree."""
    from lms.organisations.queries import visible_schools
    from lms.platform.authz import Action, can

    schools = db_session.scalars(select(School)).all()
    people = [*world.a.people.values(), *world.b.people.values(), world.provider, world.admin]
    for person in people:
        listed = {s.id for s in db_session.scalars(visible_schools(person))}
        allowed = {s.id for s in schools if can(person, Action.VIEW, s)}
        assert listed == allowed, [m.role for m in person.memberships]
    central = world.a.people["central_team"]
    assert {s.id for s in db_session.scalars(visible_schools(central))} == {
        world.a.school.id, world.a.sibling.id}


@pytest.mark.parametrize("role", [*ROLES_OF_A, "provider"])
def test_no_person_or_role_of_trust_b_is_in_reach(db_session, client, sign_in, world, role):
    _sign_in(sign_in, world, role)
    b = world.b
    memberships = db_session.scalars(select(Membership).where(
        Membership.trust_id == b.trust.id)).all()
    # Eight staff (three of them for safeguarding), the tutor in training, the endorsed tutor.
    assert len(memberships) == 10
    for person in b.people.values():
        assert _status(client, f"/users/{person.id}") == 404, person.name
    for school in (b.school, b.sibling):
        assert _status(client, f"/schools/{school.id}") == 404
    for membership in memberships:
        url = f"/memberships/{membership.id}/end"
        assert _status(client, url, {"reason": "x"}) == 404, membership.role
    db_session.expire_all()
    assert all(m.ended_at is None for m in memberships)
