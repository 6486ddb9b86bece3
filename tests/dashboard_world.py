"""The hand-built world the dashboard tests share: a trust with one candidate at every stage
of the pipeline, each figure worked out by hand (see tests/insight/test_dashboards.py), and a second
trust with one candidate."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from assessments.bank.services import load_bank
from courses.services import load_content
from credentials.endorsements.services import issue_endorsement
from credentials.register import services as register
from lms.demo import days_ago, revisit_every_lesson, sit_assessment, study
from lms.insight import pipeline
from lms.platform import clock
from lms.platform.roles import Role
from lms.programme import nominations, window
from tests import snapshots
from tests.factories import (
    invitation_token,
    make_cluster,
    make_member,
    make_nomination,
    make_school,
    make_trust,
)


def enrol(school, name, **fields):
    nomination = make_nomination(school, name=name, **fields)
    return nominations.accept_nomination(invitation_token(nomination),
                                         password="tutor password 2026", privacy_consent=True)


def build_world(db_session) -> SimpleNamespace:
    """Trust A: Oak (in the North cluster) and Elm; one candidate at each stage, the
    endorsed ones 10 and 20 days from nomination to endorsement. Trust B: one candidate.
    Built once per run, and restored as it was for each test (``tests.snapshots``)."""
    return snapshots.world("dashboard", lambda: _build(db_session))


def _build(db_session) -> SimpleNamespace:
    load_content()
    load_bank()
    trust = make_trust("Trust A")
    north = make_cluster(trust, "North")
    oak = make_school(trust, cluster=north, name="Oak Primary")
    elm = make_school(trust, name="Elm Academy")
    central = make_member(Role.CENTRAL_TEAM, trust=trust, name="Cara Central")
    w = SimpleNamespace(trust=trust, north=north, oak=oak, elm=elm, central=central)

    with days_ago(30):
        w.endorsed_slow = enrol(oak, "Ada Twenty")
        w.lapsed = enrol(elm, "Lia Lapsed")
    with days_ago(22):
        w.at_risk = enrol(oak, "Ravi Risk")
        study(w.at_risk, lessons=1)
    with days_ago(20):
        w.endorsed_fast = enrol(elm, "Bea Ten")
    with days_ago(10):
        for enrolment in (w.endorsed_slow, w.endorsed_fast):
            study(enrolment, lessons=1000)
            sit_assessment(enrolment, passing=True)
            issue_endorsement(enrolment)
    with days_ago(5):
        w.failed = enrol(oak, "Fen Failed")
        study(w.failed, lessons=1000)
        sit_assessment(w.failed, passing=False)
    with days_ago(3):
        revisit_every_lesson(w.failed)
        sit_assessment(w.failed, passing=False)
        w.invited = make_nomination(oak, name="Ivy Invited")
    window.lapse_overdue_enrolments()
    w.on_track = enrol(elm, "Otto Track")
    study(w.on_track, lessons=3)
    w.ready = enrol(oak, "Rae Ready")
    study(w.ready, lessons=1000)
    w.failed_first = enrol(elm, "Fay First")
    study(w.failed_first, lessons=1000)
    sit_assessment(w.failed_first, passing=False)
    w.withdrawn = enrol(oak, "Wes Withdrawn")
    window.withdraw_enrolment(w.withdrawn, reason="Left the school", actor=central)
    declined = make_nomination(elm, name="Dee Declined")
    db_session.commit()
    nominations.decline_nomination(invitation_token(declined))
    approved = w.endorsed_fast.user
    register.record_dbs_check(
        approved, trust, certificate_number="001234567890",
        issued_on=clock.today() - timedelta(days=30), level="enhanced_barred",
        workforce="child", barred_lists=["children"], original_seen_by="Jo Bloggs",
        original_seen_on=clock.today() - timedelta(days=20), update_service=False,
        showed_information=False)
    register.record_training(approved, trust,
                             completed_on=clock.today() - timedelta(days=360))
    trust.requires_nomination_approval = True
    w.awaiting = make_nomination(oak, name="Abe Awaiting")
    other = make_trust("Trust B")
    w.other_school = make_school(other, name="Birch School")
    make_nomination(w.other_school, name="Bo Elsewhere")
    w.other = other
    db_session.commit()
    pipeline.rebuild()  # as the beat would
    db_session.commit()
    return w
