"""A demonstration trust, built through the same services as real data."""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from datetime import datetime, timedelta

import click
from sqlalchemy import select

from lms.accounts import services as accounts
from lms.accounts.models import User
from lms.organisations import people, services
from lms.organisations.models import Phase, Trust
from lms.platform import clock
from lms.platform.extensions import db
from lms.platform.roles import Role
from lms.programme import window

DEMO_TRUST = "Northern Lights Learning Trust"
OTHER_TRUST = "Riverside Schools Partnership"
DOMAIN = "demo.example"

SCHOOLS = [
    # urn, name, phase, local authority, postcode, cluster
    ("990101", "Aldbrook Primary School", Phase.PRIMARY, "Leeds", "LS6 2AB", "North hub"),
    ("990102", "Bramley Fields Primary Academy", Phase.PRIMARY, "Leeds", "LS13 3DP", "North hub"),
    ("990103", "Calder Vale Academy", Phase.SECONDARY, "Wakefield", "WF1 4QT", "North hub"),
    ("990104", "Denby Dale Primary School", Phase.PRIMARY, "Kirklees", "HD8 8RX", "South hub"),
    ("990105", "Elmfield Secondary School", Phase.SECONDARY, "Kirklees", "HD1 5NL", "South hub"),
    ("990106", "Fernside Special School", Phase.SPECIAL, "Bradford", "BD7 1AY", None),
]
OTHER_SCHOOLS = [
    ("990201", "Riverside Primary School", Phase.PRIMARY, "York", "YO1 7HH", None),
    ("990202", "Ouse Valley Academy", Phase.ALL_THROUGH, "York", "YO24 1AB", None),
]

ACCOUNTS = [
    # email local part, name, role, scope key
    ("admin", "Priya Shah", Role.PROGRAMME_ADMIN, None),
    ("central", "Tom Okafor", Role.CENTRAL_TEAM, "trust"),
    ("trustee", "Margaret Ellis", Role.TRUSTEE, "trust"),
    ("safeguarding.lead", "Catherine Doyle", Role.TRUST_SAFEGUARDING_LEAD, "trust"),
    ("cluster.lead", "Hannah Brooks", Role.CLUSTER_LEAD, "North hub"),
    ("head.aldbrook", "James Whitaker", Role.SCHOOL_LEADER, "990101"),
    ("dsl.aldbrook", "Rebecca Lawson", Role.DSL, "990101"),
    ("deputy.dsl.aldbrook", "Michael Osei", Role.DEPUTY_DSL, "990101"),
    ("head.calder", "Sara Nowak", Role.SCHOOL_LEADER, "990103"),
    ("dsl.calder", "Fiona Gallagher", Role.DSL, "990103"),
    ("tutoring.aldbrook", "Nadia Rahman", Role.TUTORING_LEAD, "990101"),
    ("tutor.aldbrook", "Amira Hussain", Role.TUTOR, "990101"),
    ("tutor.calder", "Daniel Reid", Role.TUTOR, "990103"),
    ("provider", "Leah Martin", Role.PROVIDER, "provider"),
    ("central.riverside", "Owen Price", Role.CENTRAL_TEAM, "other"),
]

#: The safeguarding demo's people (local parts of their emails) and the school's own system.
SAFEGUARDING_DSL = "dsl.aldbrook"
SAFEGUARDING_DEPUTY = "deputy.dsl.aldbrook"
SAFEGUARDING_LEAD = "safeguarding.lead"
SAFEGUARDING_CALDER = "dsl.calder"
SAFEGUARDING_REPORTER = "tutor.aldbrook"
EXTERNAL_SYSTEM = "CPOMS"
#: How long ago the concern still waiting for acknowledgement was raised.
WAITING_MINUTES = 75

#: The authenticator key of every demo account whose role needs two-factor sign-in. It is
#: published (README, ``demo load``), so it protects nothing: for trying the demo only.
DEMO_TOTP_SECRET = "DEMODEMODEMODEMODEMODEMODEMODEMO"


def load(password: str) -> list[User] | None:
    """Create the demo trust once; return the accounts made, or None if it already exists."""
    if db.session.scalar(select(Trust.id).where(Trust.name == DEMO_TRUST)):
        return None
    from assessments.bank.services import load_bank
    from courses.services import load_content

    load_content()
    load_bank()
    trust = services.create_trust(DEMO_TRUST, actor=None)
    clusters = {name: services.add_cluster(trust, name, actor=None)
                for name in ("North hub", "South hub")}
    schools = {}
    for urn, name, phase, la, postcode, cluster in SCHOOLS:
        schools[urn] = services.add_school(
            trust, urn=urn, name=name, phase=phase, local_authority=la, postcode=postcode,
            cluster=clusters.get(cluster), actor=None,
        )
    other = services.create_trust(OTHER_TRUST, actor=None)
    for urn, name, phase, la, postcode, _ in OTHER_SCHOOLS:
        schools[urn] = services.add_school(
            other, urn=urn, name=name, phase=phase, local_authority=la, postcode=postcode,
            actor=None,
        )
    provider = services.create_provider("Bright Futures Tutoring", actor=None)
    users = []
    for local, name, role, scope in ACCOUNTS:
        user = accounts.create_user(f"{local}@{DOMAIN}", name, actor=None, password=password)
        user.email_verified_at = clock.now()
        people.grant_membership(
            user,
            role,
            actor=None,
            trust=other if scope == "other" else trust,
            cluster=clusters.get(scope or ""),
            school=schools.get(scope or ""),
            provider=provider,
        )
        if user.two_factor_required:
            _enrol_two_factor(user)
        users.append(user)
    endorsed = load_pipeline(password)
    from lms.tutoring.demo import load_tutoring

    load_tutoring(trust, provider, endorsed, domain=DOMAIN)
    load_safeguarding(trust)
    load_after_training(trust)
    return users


def load_after_training(trust: Trust) -> None:
    """After training: observations, the library, feedback on the course and the leaders'
    surveys, a pilot and research consent, each through its own domain's services."""
    from lms.feedback.demo import load_demo as feedback
    from lms.library.demo import load_demo as library
    from lms.observations.demo import load_demo as observations
    from lms.research.demo import load_demo as research

    for load_part in (observations, library, feedback, research):
        load_part(trust)


def _enrol_two_factor(user: User) -> None:
    """Set the demo key up as the person would, with a code from the previous time step, so
    the code an app shows now still works for their first sign-in."""
    from lms.accounts import two_factor
    from lms.accounts.security import TOTP_PERIOD, totp, totp_key

    earlier = clock.now() - timedelta(seconds=TOTP_PERIOD)
    two_factor.enable_two_factor(user, DEMO_TOTP_SECRET, totp(totp_key(DEMO_TOTP_SECRET),
                                                              earlier))


def demo_code() -> str:
    """The code an authenticator app holding the demo key shows now."""
    from lms.accounts.security import totp, totp_key

    return totp(totp_key(DEMO_TOTP_SECRET), clock.now())


def print_accounts(password: str) -> None:
    from credentials.endorsements.models import Endorsement, EndorsementStatus
    from credentials.endorsements.services import credential_url

    click.echo("")
    click.echo(f"Demo accounts (password for all: {password})")
    role_width = max(len(role.label) for _, _, role, _ in ACCOUNTS)
    email_width = max(len(f"{local}@{DOMAIN}") for local, *_ in ACCOUNTS)
    for local, name, role, _ in ACCOUNTS:
        click.echo(f"  {role.label:<{role_width}}  {local + '@' + DOMAIN:<{email_width}}  {name}")
    from lms.accounts.models import TWO_FACTOR_ROLES
    from lms.accounts.security import group_secret

    needing = ", ".join(local for local, _, role, _ in ACCOUNTS if role in TWO_FACTOR_ROLES)
    click.echo("")
    click.echo("Two-factor sign-in, DEMO ONLY (this key is published; never use it for a real "
               "account):")
    for line in textwrap.wrap(f"{needing} also need a code from an authenticator app set up",
                              width=86):
        click.echo(f"  {line}")
    click.echo(f"  with the key {group_secret(DEMO_TOTP_SECRET)}  (time-based, 6 digits, "
               "30 s),")
    click.echo("  or print the code it shows now with: flask --app lms demo code")
    click.echo("")
    click.echo("Tutoring: a term of it in every school. tutor.aldbrook has today's session to "
               "log;")
    click.echo("  Marcus Lee's endorsement is suspended, so his groups at Calder Vale are "
               "paused.")
    _print_safeguarding()
    endorsement = db.session.scalar(select(Endorsement).where(
        Endorsement.status == EndorsementStatus.ACTIVE).order_by(Endorsement.id))
    if endorsement is not None:
        click.echo("")
        click.echo(f"Verify an endorsement ({endorsement.user.name}): "
                   f"{credential_url(endorsement.public_id)}")
    click.echo("")


def _print_safeguarding() -> None:
    from lms.safeguarding.figures import schools_without_dsl

    trust = db.session.scalar(select(Trust).where(Trust.name == DEMO_TRUST))
    no_dsl = [school.name for school in schools_without_dsl(trust.id)] if trust else []
    text = (
        f"Safeguarding: {SAFEGUARDING_DSL}@{DOMAIN}, the DSL at Aldbrook (two-factor, with the "
        f"demo key), has a concern from {SAFEGUARDING_REPORTER} nobody has acknowledged: "
        f"escalated after an hour to {SAFEGUARDING_DEPUTY} and {SAFEGUARDING_LEAD}, and again "
        "when the beat runs four hours after it was raised. An earlier one is closed: a "
        "referral to children's social care, parents informed, recorded in "
        f"{EXTERNAL_SYSTEM}. Calder Vale's DSL is {SAFEGUARDING_CALDER}.")
    if no_dsl:
        text += (f" No DSL (their concerns go to {SAFEGUARDING_LEAD}, and the central team is "
                 f"asked to find one): {', '.join(no_dsl)}.")
    click.echo("")
    for line in textwrap.wrap(text, width=88, subsequent_indent="  "):
        click.echo(line)


def load_pipeline(password: str) -> dict:
    """Nominees at every stage in the demo trust, through the real services; returns the
    endorsements of the tutors who tutor this term, by email."""
    from credentials.endorsements.services import issue_endorsement
    from lms.organisations.models import School
    from lms.programme import nominations
    from lms.programme.models import EnrolmentStatus
    from lms.programme.nominations import candidate_from

    trust = db.session.scalar(select(Trust).where(Trust.name == DEMO_TRUST))
    leader = db.session.scalar(select(User).where(User.email == f"head.aldbrook@{DOMAIN}"))
    aldbrook = db.session.scalar(select(School).where(School.urn == "990101"))
    calder = db.session.scalar(select(School).where(School.urn == "990103"))

    def nominate(school, name, email, qts=False, phase="primary", subject="Reading"):
        candidate = candidate_from(
            name=name, email=email, role_in_school="teacher" if qts else "teaching_assistant",
            holds_qts="yes" if qts else "no", trn="2345678" if qts else "",
            tutoring_phase=phase, subject_focus=subject)
        return nominations.nominate_tutor(school, candidate, actor=leader)

    def enrol(nomination, existing_password=False):
        token = _latest_token(nomination)
        return nominations.accept_nomination(
            token, password=None if existing_password else password, privacy_consent=True)

    # Endorsed last term and tutoring now: the demo tutor account at Aldbrook.
    with days_ago(ENDORSED_DAYS_AGO["amira"]):
        amira = enrol(nominate(aldbrook, "Amira Hussain", f"tutor.aldbrook@{DOMAIN}"), True)
        amira.user.created_at = min(amira.user.created_at, clock.now())
        study(amira, lessons=1000)
        sit_assessment(amira, passing=True)
        endorsed = {amira.user.email: issue_endorsement(amira)}
    # In training: the other demo tutor account, part-way through the course.
    daniel = enrol(nominate(calder, "Daniel Reid", f"tutor.calder@{DOMAIN}", phase="secondary",
                            subject="GCSE maths"), True)
    study(daniel, lessons=8)
    # Invited, not yet accepted.
    nominate(aldbrook, "Grace Obi", f"grace.obi@{DOMAIN}")
    nominate(calder, "Ben Carter", f"ben.carter@{DOMAIN}", qts=True, phase="secondary",
             subject="Science")
    # Close to the deadline, and lapsed.
    late = enrol(nominate(aldbrook, "Chloe Adams", f"chloe.adams@{DOMAIN}"))
    late.opened_at -= timedelta(days=23)
    late.deadline_at -= timedelta(days=23)
    gone = enrol(nominate(calder, "Ryan Shaw", f"ryan.shaw@{DOMAIN}", phase="secondary"))
    gone.opened_at -= timedelta(days=30)
    gone.deadline_at -= timedelta(days=30)
    db.session.flush()
    window.lapse_overdue_enrolments()
    # Withdrawn.
    withdrawn = enrol(nominate(aldbrook, "Ella Green", f"ella.green@{DOMAIN}"))
    window.withdraw_enrolment(withdrawn, reason="Left the school", actor=None)
    endorsed.update(_assessed(nominate, enrol))
    # Awaiting approval, once the trust asks for it.
    services.set_nomination_approval(trust, True, actor=None)
    nominate(calder, "Isaac Moore", f"isaac.moore@{DOMAIN}", phase="secondary",
             subject="English")
    nominate(aldbrook, "Maya Singh", f"maya.singh@{DOMAIN}")
    assert gone.status == EnrolmentStatus.LAPSED
    return endorsed


@contextmanager
def days_ago(days: int):
    """Play one step of a tutor's story as if it happened ``days`` days ago."""
    clock.travel(-timedelta(days=days))
    try:
        yield
    finally:
        clock.travel(timedelta(days=days))


#: When the tutors who tutor this term were endorsed: before the term's groups began
#: (``lms.tutoring.demo`` suspends one of them part way through it).
ENDORSED_DAYS_AGO = {"amira": 95, "olivia": 120, "marcus": 110, "sophie": 100, "kwame": 105,
                     "ruth": 98}


def _assessed(nominate, enrol) -> dict:
    """Tutors who finished the course and sat the assessment: seven endorsed (one since
    revoked, and one the tutoring term suspends), one waiting for a second attempt, one who
    did not pass. Returns the endorsements of those who tutor, by email."""
    from credentials.endorsements.services import issue_endorsement, revoke_endorsement
    from lms.organisations.models import School

    school = {urn: db.session.scalar(select(School).where(School.urn == urn))
              for urn in ("990101", "990102", "990103", "990104", "990105")}
    central = db.session.scalar(select(User).where(User.email == f"central@{DOMAIN}"))
    days = ENDORSED_DAYS_AGO
    stories = [
        (days["olivia"], school["990101"], "Olivia Bennett", "primary", False, "Phonics"),
        (days["marcus"], school["990103"], "Marcus Lee", "secondary", False, "GCSE maths"),
        (days["kwame"], school["990103"], "Kwame Mensah", "secondary", False, "GCSE maths"),
        (days["sophie"], school["990102"], "Sophie Turner", "primary", True, "Year 6 maths"),
        (days["ruth"], school["990105"], "Ruth Adeyemi", "secondary", True, "Maths"),
        (9, school["990105"], "Jack Wilson", "secondary", False, "Science"),
    ]
    endorsed = {}
    for ago, where, name, phase, qts, subject in stories:
        with days_ago(ago):
            email = f"{name.lower().replace(' ', '.')}@{DOMAIN}"
            enrolment = enrol(nominate(where, name, email, qts=qts, phase=phase,
                                       subject=subject))
            study(enrolment, lessons=1000)
            sit_assessment(enrolment, passing=True)
            endorsed[email] = issue_endorsement(enrolment)
    jack = endorsed.pop(f"jack.wilson@{DOMAIN}")
    with days_ago(3):
        revoke_endorsement(jack, reason="Left the trust after a conduct investigation.",
                           actor=central)
    with days_ago(1):
        waiting = enrol(nominate(school["990104"], "Noah Patel", f"noah.patel@{DOMAIN}"))
        study(waiting, lessons=1000)
        sit_assessment(waiting, passing=False)
    with days_ago(8):
        failed = enrol(nominate(school["990104"], "Leo Hughes", f"leo.hughes@{DOMAIN}"))
        study(failed, lessons=1000)
        sit_assessment(failed, passing=False)
    with days_ago(6):
        revisit_every_lesson(failed)
    with days_ago(5):
        sit_assessment(failed, passing=False)
    return endorsed


CLOSED_ACCOUNT = (
    "At the end of the session he asked if he could have the biscuits left over because "
    "there was no food at home and he had not had any tea last night. He said he looks after "
    "his little sister after school until his mum gets back, which is sometimes after "
    "bedtime. He has worn the same jumper all week and fell asleep twice in the session.")
CLOSED_ENTRIES = [
    # minutes after it was raised, kind, what was written, referral to
    (55, "note", "Spoke to him with his class teacher. He repeated what he told the tutor and "
     "said there is often no food in the evening. No injuries seen.", None),
    (90, "referral", "Leeds children's social care, reference CSC/2026/04817.", "social_care"),
    (150, "parents_informed", "Mum told by phone, after children's social care agreed. She "
     "was upset but accepted help; an early help meeting offered.", None),
]
CLOSED_OUTCOME = (
    "Children's social care accepted the referral: an early help assessment is under way and "
    "the family has a named key worker. Breakfast club place arranged. The school monitors "
    "through CPOMS; the tutor has been thanked and told what to look out for.")
WAITING_ACCOUNT = (
    "At the end of the session she showed me messages on her tablet from someone she met in "
    "an online game. He says he is 14, has asked for photos of her and wants to meet at the "
    "park this weekend. He told her to keep it a secret from her parents.")


@contextmanager
def _at(moment: datetime):
    """Play what follows as if it were ``moment`` (in the past), then come back to now."""
    shift = moment - clock.now()
    clock.travel(shift)
    try:
        yield
    finally:
        clock.travel(-shift)


def load_safeguarding(trust: Trust) -> None:
    """Aldbrook's safeguarding, through the real services: a concern about a child, raised
    from a session about ten days ago and seen through to its close (acknowledged by the DSL
    within twenty minutes, referred to children's social care, parents informed, recorded in
    the school's own system); and one raised 75 minutes ago that nobody has acknowledged,
    escalated at the first threshold (the beat escalates it again at the second). Aldbrook and
    Calder Vale have a DSL; the other schools with groups have none."""
    from lms.organisations.models import School
    from lms.safeguarding import escalation
    from lms.safeguarding import services as safeguarding

    def person(local: str) -> User:
        return db.session.scalar(select(User).where(User.email == f"{local}@{DOMAIN}"))

    tutor, dsl = person(SAFEGUARDING_REPORTER), person(SAFEGUARDING_DSL)
    aldbrook = db.session.scalar(select(School).where(School.trust_id == trust.id,
                                                      School.urn == "990101"))
    session, pupil_id = _session_to_raise_from(tutor, aldbrook)
    raised = session.logged_at + timedelta(minutes=6)
    with _at(raised):
        closed = safeguarding.raise_concern(tutor, safeguarding.Report(
            school_id=aldbrook.id, account=CLOSED_ACCOUNT, category="neglect",
            pupil_id=pupil_id, when=f"End of the session on {session.held_on:%A %-d %B}",
            group_id=session.group_id, held_on=session.held_on))
    with _at(raised + timedelta(minutes=20)):
        safeguarding.acknowledge(closed, actor=dsl)
    for minutes, kind, text, referral_to in CLOSED_ENTRIES:
        with _at(raised + timedelta(minutes=minutes)):
            safeguarding.add_entry(closed, actor=dsl, kind=kind, text=text,
                                   on=clock.today() if kind != "note" else None,
                                   referral_to=referral_to)
    with _at(raised + timedelta(days=1)):
        safeguarding.record_elsewhere(closed, actor=dsl, system=EXTERNAL_SYSTEM,
                                      reference="CP-2026-0193")
    with _at(raised + timedelta(days=3)):
        safeguarding.close(closed, actor=dsl, outcome=CLOSED_OUTCOME)

    waiting_since = clock.now() - timedelta(minutes=WAITING_MINUTES)
    other = next((p for p, _ in safeguarding.pupils_for(tutor, aldbrook.id)
                  if p != pupil_id), None)
    with _at(waiting_since):
        waiting = safeguarding.raise_concern(tutor, safeguarding.Report(
            school_id=aldbrook.id, account=WAITING_ACCOUNT, category="online",
            pupil_id=other, when="Today, at the end of the session"))
    first, _ = escalation.thresholds(safeguarding.settings_for(trust.id))
    with _at(waiting_since + first + timedelta(seconds=30)):
        level = escalation.escalate(waiting.id)
    assert level == 1
    db.session.flush()


def _session_to_raise_from(tutor: User, school):
    """The tutor's delivered session nearest ten days ago, and a pupil who was there."""
    from lms.tutoring.models import Attendance, SessionStatus, TutoringGroup, TutoringSession

    target = clock.today() - timedelta(days=10)
    near = db.session.scalars(select(TutoringSession).join(
        TutoringGroup, TutoringGroup.id == TutoringSession.group_id).where(
        TutoringGroup.tutor_id == tutor.id, TutoringGroup.school_id == school.id,
        TutoringSession.status == SessionStatus.DELIVERED)).all()
    session = min(near, key=lambda s: (abs((s.held_on - target).days), s.id))
    there = [a.pupil_id for a in session.attendance
             if a.status in (Attendance.PRESENT, Attendance.LATE)]
    return session, there[0]


def sit_assessment(enrolment, *, passing: bool):
    """Start an attempt, answer every question (all right, or half wrong), and submit it."""
    from assessments.attempts.services import save_answer, start_attempt, submit_attempt

    attempt = start_attempt(enrolment)
    for row in attempt.items:
        options = row.item.options
        right = [p for p, i in enumerate(row.option_order) if options[i]["correct"]]
        wrong = [next(p for p, i in enumerate(row.option_order) if not options[i]["correct"])]
        save_answer(attempt, row.position, right if passing or row.position % 2 else wrong)
    return submit_attempt(attempt)


def revisit_every_lesson(enrolment) -> None:
    """Stay with every lesson again, as long as a first reading needs (the revisit rule)."""
    from courses.models import Lesson
    from courses.services import course_progress, seconds_needed, view_lesson

    for module in course_progress(enrolment).modules:
        for lesson in module.module.lessons:
            row = db.session.get(Lesson, lesson.id)
            view_lesson(enrolment, row)
            later = clock.now() + timedelta(seconds=seconds_needed(row))
            view_lesson(enrolment, row, at=later)


def study(enrolment, *, lessons: int) -> None:
    """Work through lessons as a tutor would, passing each module's check on the way."""
    from assessments.bank.models import ItemVersion
    from assessments.checks.services import start_check, submit_check
    from courses.services import (
        complete_lesson,
        course_progress,
        current_version,
        seconds_needed,
        view_lesson,
    )

    if current_version(enrolment.pathway) is None:
        return
    for _ in range(lessons):
        progress = course_progress(enrolment)
        for module in progress.modules:
            if module.unlocked and module.lessons_complete and not module.complete:
                check = start_check(enrolment, module.module.slug)
                answers = {}
                for index, entry in enumerate(check.items):
                    item = db.session.get(ItemVersion, entry["item_version_id"])
                    answers[index] = [p for p, i in enumerate(entry["option_order"])
                                      if item.options[i]["correct"]]
                submit_check(check, answers)
                progress = course_progress(enrolment)
        lesson = progress.next_lesson
        if lesson is None:
            return
        # Stay with the lesson as long as it needs, as a tutor would.
        now = clock.now()
        view_lesson(enrolment, lesson, at=now - timedelta(seconds=seconds_needed(lesson)))
        complete_lesson(enrolment, lesson, at=now)


def _latest_token(nomination) -> str:
    import re

    from lms.notifications.models import OutboxEmail

    email = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == nomination.candidate_email)
        .order_by(OutboxEmail.id.desc())).first()
    return re.search(r"/join/(\S+)", email.body_text).group(1)
