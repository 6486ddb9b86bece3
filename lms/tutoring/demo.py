"""A term of tutoring for the demo trust, built through the real services.

``lms.demo`` endorses the tutors; this records their DBS checks and safeguarding training,
lists them on the register for their schools, and plays ten weeks of tutoring day by day
with the clock moved back: the central team's five programmes (one of each delivery model),
pupils and groups in every school, sessions logged after each slot (attendance mostly 85-95%,
two groups near 60%, some cancelled), baselines, targets and current status for most pupils.
Part way through, one tutor's endorsement is suspended, which pauses their groups. Today's
sessions are still to log, the demo tutor's among them; so is one session last week.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from credentials.endorsements.models import Endorsement
from credentials.endorsements.services import suspend_endorsement
from credentials.register import services as register
from credentials.register.derivation import refresh_register
from credentials.register.queries import register_entry
from lms.accounts.models import User
from lms.organisations.models import Provider, School, Trust
from lms.platform import clock
from lms.platform.clock import LONDON
from lms.platform.extensions import db
from lms.tutoring import groups, progress, pupils, sessions
from lms.tutoring.models import LogSource, MeasureScale, Programme, TutoringGroup
from lms.tutoring.programmes import ProgrammeTerms, create_programme

#: The schools each tutor is listed for on the register (by the local part of their email).
TUTORS = {
    "tutor.aldbrook": ["990101"],
    "olivia.bennett": ["990101", "990104"],
    "sophie.turner": ["990102", "990106"],
    "marcus.lee": ["990103"],
    "kwame.mensah": ["990103", "990105"],
    "ruth.adeyemi": ["990105"],
}
#: Whose endorsement is suspended, and how many days ago.
SUSPENDED = "marcus.lee"
SUSPENDED_DAYS_AGO = 3
SUSPENSION_REASON = ("New information from a DBS Update Service check; a risk assessment is "
                     "under way.")
#: The provider whose tutor delivers the provider programme.
PROVIDER_TUTOR = "kwame.mensah"
WEEKS = 10


def _programmes(provider: Provider) -> dict[str, ProgrammeTerms]:
    return {
        "one_to_one": ProgrammeTerms(
            name="Reading recovery one-to-one", subject="english", delivery_model="one_to_one",
            max_group_size=1, planned_sessions=20, session_minutes=30,
            cost_model="per_tutor_hour", rate_pence=2850, school_contribution_percent=40,
            measure_scale="reading_age", evidence_source="standardised_test"),
        "small_group": ProgrammeTerms(
            name="Maths small-group tuition", subject="maths", delivery_model="small_group",
            max_group_size=3, planned_sessions=15, session_minutes=60,
            cost_model="per_tutor_hour", rate_pence=3200, school_contribution_percent=25,
            measure_scale="score", evidence_source="teacher_assessment"),
        "provider": ProgrammeTerms(
            name="GCSE maths with Bright Futures", subject="maths", delivery_model="provider",
            max_group_size=3, planned_sessions=15, session_minutes=60,
            cost_model="per_pupil", rate_pence=45000, school_contribution_percent=25,
            provider_id=provider.id, measure_scale="gcse_grade",
            evidence_source="exam_questions", sla_notice_hours=24, sla_report_hours=48,
            sla_late_minutes=5, sla_cover_required=True),
        "ai_assisted": ProgrammeTerms(
            name="Maths practice with tutor review", subject="maths",
            delivery_model="ai_assisted", max_group_size=6, planned_sessions=20,
            session_minutes=30, cost_model="per_term", rate_pence=60000,
            school_contribution_percent=50, measure_scale="score",
            evidence_source="skill_mastery"),
        "blended": ProgrammeTerms(
            name="Blended English: reading and writing", subject="english",
            delivery_model="blended", max_group_size=4, planned_sessions=12,
            session_minutes=45, cost_model="per_pupil", rate_pence=18000,
            school_contribution_percent=25, measure_scale="teacher_judgement",
            evidence_source="teacher_assessment"),
    }


@dataclass(frozen=True)
class GroupPlan:
    urn: str
    programme: str
    tutor: str
    name: str
    #: Monday is 0; ``None`` meets on today's weekday (the demo tutor's session to log).
    weekday: int | None
    starts_at: time
    year: int
    size: int
    #: Weeks into the term the group began.
    weeks_in: int
    attendance: float


GROUPS = [
    GroupPlan("990101", "small_group", "tutor.aldbrook", "Year 6 maths A", None, time(9, 15),
              6, 3, 0, 0.93),
    GroupPlan("990101", "ai_assisted", "tutor.aldbrook", "Year 5 maths practice", 3,
              time(14, 0), 5, 5, 1, 0.9),
    GroupPlan("990101", "one_to_one", "olivia.bennett", "Year 3 reading (1)", 0, time(13, 30),
              3, 1, 0, 0.92),
    GroupPlan("990101", "one_to_one", "olivia.bennett", "Year 3 reading (2)", 2, time(13, 30),
              3, 1, 0, 0.88),
    GroupPlan("990102", "small_group", "sophie.turner", "Year 6 maths", 1, time(10, 0), 6, 3,
              0, 0.9),
    GroupPlan("990102", "blended", "sophie.turner", "Year 4 English", 3, time(11, 0), 4, 4, 1,
              0.87),
    GroupPlan("990102", "one_to_one", "sophie.turner", "Year 2 reading", 4, time(9, 30), 2, 1,
              0, 0.95),
    GroupPlan("990103", "provider", "kwame.mensah", "Year 11 GCSE maths A", 0, time(15, 15),
              11, 3, 0, 0.88),
    GroupPlan("990103", "small_group", "marcus.lee", "Year 10 maths", 1, time(12, 30), 10, 3,
              0, 0.86),
    GroupPlan("990103", "ai_assisted", "marcus.lee", "Year 9 maths practice", 3, time(13, 0),
              9, 6, 1, 0.89),
    GroupPlan("990104", "small_group", "olivia.bennett", "Year 6 maths", 1, time(14, 0), 6, 3,
              0, 0.91),
    GroupPlan("990104", "blended", "olivia.bennett", "Year 5 English", 4, time(10, 30), 5, 4,
              0, 0.6),
    GroupPlan("990105", "provider", "kwame.mensah", "Year 11 GCSE maths B", 2, time(15, 15),
              11, 3, 0, 0.9),
    GroupPlan("990105", "small_group", "ruth.adeyemi", "Year 10 maths", 0, time(12, 0), 10, 3,
              0, 0.92),
    GroupPlan("990105", "ai_assisted", "ruth.adeyemi", "Year 8 maths practice", 2,
              time(13, 45), 8, 6, 1, 0.62),
    GroupPlan("990105", "one_to_one", "ruth.adeyemi", "Year 7 reading", 3, time(8, 30), 7, 1,
              2, 0.94),
    GroupPlan("990106", "one_to_one", "sophie.turner", "Reading (Year 4)", 0, time(11, 0), 4,
              1, 0, 0.9),
    GroupPlan("990106", "small_group", "sophie.turner", "Maths group (Year 7)", 2, time(10, 0),
              7, 3, 1, 0.85),
]
#: The group whose last session (last week) nobody has logged yet.
UNLOGGED = ("990104", "Year 6 maths")

NEXT_ACTIONS = {
    "maths": ["Revisit column subtraction with exchange", "Times tables to 12: daily fluency",
              "Move on to fractions of amounts", "Two-step word problems next",
              "Check place value with the class teacher", "Past-paper questions on ratio",
              "Rearranging formulae: more worked examples"],
    "english": ["Read aloud at home three times a week", "Inference questions next",
                "Phase 5 phonics: alternative spellings", "Retest with the termly reading test",
                "Build vocabulary before each new text", "Paragraphing in extended writing"],
}
CANCEL_NOTES = {"school_event": ["Year group assembly", "Mock exams", "Sports day",
                                 "INSET follow-up"],
                "tutor_absent": ["Tutor unwell"], "other": ["Room unavailable"],
                "pupils_absent": [""]}


@contextmanager
def _at(moment: datetime):
    """Play what follows as if it were ``moment`` (never later than now)."""
    shift = min(moment - clock.now(), timedelta(0))
    clock.travel(shift)
    try:
        yield
    finally:
        clock.travel(-shift)


def _on(day: date, at: time = time(8, 0)):
    return _at(datetime.combine(day, at, tzinfo=LONDON))


def load_tutoring(trust: Trust, provider: Provider, endorsed: dict[str, Endorsement], *,
                  domain: str, seed: int = 2026) -> list[TutoringGroup]:
    """Build the demo trust's term of tutoring; return its groups."""
    rng = random.Random(seed)
    people = {local: db.session.scalar(select(User).where(User.email == f"{local}@{domain}"))
              for local in (*TUTORS, "central", "tutoring.aldbrook", "head.aldbrook",
                            "head.calder")}
    schools = {s.urn: s for s in db.session.scalars(select(School).where(
        School.trust_id == trust.id))}
    today = clock.today()
    start = today - timedelta(weeks=WEEKS)
    start -= timedelta(days=start.weekday())
    with _on(start - timedelta(days=14), time(10, 0)):
        _clear_tutors(trust, people, schools, start)
    with _on(start - timedelta(days=10), time(11, 0)):
        programmes = {key: create_programme(trust, terms, actor=people["central"])
                      for key, terms in _programmes(provider).items()}
    leads = {"990101": people["tutoring.aldbrook"], "990103": people["head.calder"]}
    made = _groups(rng, schools, programmes, people, leads, start, today, provider)
    _deliver(rng, made, people, provider, endorsed[f"{SUSPENDED}@{domain}"], start, today)
    _current_status(rng, made, today)
    refresh_register(trust_id=trust.id)
    db.session.flush()
    return [group for group, _ in made]


def _clear_tutors(trust: Trust, people: dict, schools: dict, start: date) -> None:
    """A DBS check in date and safeguarding training for each tutor, and their register entry
    listing the schools they tutor at: approved."""
    for number, (local, urns) in enumerate(TUTORS.items(), start=1):
        tutor = people[local]
        issued = start - timedelta(days=90 + 37 * number)
        register.record_dbs_check(
            tutor, trust, certificate_number=f"0013{number:08d}", issued_on=issued,
            level="enhanced_barred", workforce="child", barred_lists=["children"],
            original_seen_by="School business manager", original_seen_on=issued
            + timedelta(days=4), update_service=number % 2 == 0, showed_information=False,
            school=schools[urns[0]])
        register.record_training(tutor, trust, completed_on=start - timedelta(days=20 + number),
                                 course="Annual safeguarding update", school=schools[urns[0]])
        entry = register_entry(trust, tutor)
        if entry is None:
            entry = register.add_to_register(trust, tutor, schools=[schools[u] for u in urns])
        register.set_register_schools(entry, [schools[u] for u in urns])
        refresh_register(user_id=tutor.id)
    db.session.flush()


def _initials(rng: random.Random) -> str:
    letters = "ABCDEFGHIJKLMNOPRSTWYZ"
    return f"{rng.choice(letters)}.{rng.choice(letters)}."


def _groups(rng, schools, programmes, people, leads, start, today, provider):
    made = []
    references = {urn: 1000 + 37 * n for n, urn in enumerate(schools)}
    for plan in GROUPS:
        school = schools[plan.urn]
        programme = programmes[plan.programme]
        weekday = today.weekday() if plan.weekday is None else plan.weekday
        first = start + timedelta(weeks=plan.weeks_in, days=weekday)
        actor = leads.get(plan.urn)
        with _on(first - timedelta(days=5), time(15, 30)):
            placed = []
            for _ in range(plan.size):
                references[plan.urn] += rng.randint(1, 9)
                special = school.phase.value == "special"
                placed.append(pupils.add_pupil(school, pupils.details_from(
                    display_name=_initials(rng), reference=f"ADM{references[plan.urn]}",
                    year_group=plan.year, disadvantaged=rng.random() < 0.3,
                    send=rng.random() < (0.9 if special else 0.1),
                    eal=rng.random() < 0.2), actor=actor))
        with _on(first, time(8, 10)):
            group = groups.create_group(
                school, programme=programme, tutor=people[plan.tutor], name=plan.name,
                weekday=weekday, starts_at=plan.starts_at, starts_on=first,
                provider=provider if plan.programme == "provider" else None, pupils=placed,
                actor=actor)
            for n, place in enumerate(group.places):
                if (len(made) + n) % 11 == 5:  # no baseline yet: on the action list
                    continue
                baseline, target = _baseline(rng, programme, plan.year)
                progress.record_progress(place, progress.ProgressRecord(
                    baseline=baseline, target=target, current=None, current_on=None,
                    evidence_source=None,
                    next_action=rng.choice(NEXT_ACTIONS[programme.subject.value]
                                           if programme.subject.value in NEXT_ACTIONS
                                           else NEXT_ACTIONS["maths"])), actor=actor)
        made.append((group, plan))
    return made


def _baseline(rng: random.Random, programme: Programme, year: int) -> tuple[float, float]:
    scale = programme.measure_scale
    if scale == MeasureScale.READING_AGE:
        age = round((year + 4.5) * 12)
        baseline = max(60, age - rng.randint(12, 26))
        return baseline, baseline + rng.randint(6, 12)
    if scale == MeasureScale.GCSE_GRADE:
        baseline = rng.randint(2, 4)
        return baseline, baseline + rng.choice([1, 1, 2])
    if scale == MeasureScale.TEACHER_JUDGEMENT:
        baseline = rng.choice([1, 1, 2])
        return baseline, baseline + 1
    baseline = rng.randint(28, 60)
    return baseline, min(100, baseline + rng.randint(15, 25))


def _deliver(rng, made, people, provider, suspended: Endorsement, start, today) -> None:
    """Every slot from the start of term to yesterday, logged an hour or so after it ended
    (the provider's through its API); the suspended tutor's stop at the suspension."""
    suspended_on = today - timedelta(days=SUSPENDED_DAYS_AGO)
    unlogged = next(g for g, p in made if (p.urn, p.name) == UNLOGGED)
    last_week = today - timedelta(days=7)
    day = start
    while day < today:
        if day == suspended_on:
            with _on(day, time(7, 45)):
                suspend_endorsement(suspended, reason=SUSPENSION_REASON,
                                    actor=people["central"])
        for group, plan in made:
            if group.weekday != day.weekday() or day < group.starts_on:
                continue
            if plan.tutor == SUSPENDED and day >= suspended_on:
                continue
            if group is unlogged and day > last_week:
                continue
            _log(rng, group, plan, day, people, provider)
        day += timedelta(days=1)


_owed: dict[int, float] = {}


def _log(rng, group: TutoringGroup, plan: GroupPlan, day: date, people, provider) -> None:
    programme = group.programme
    minutes = programme.session_minutes
    ends = datetime.combine(day, group.starts_at, tzinfo=LONDON) + timedelta(minutes=minutes)
    by_provider = plan.tutor == PROVIDER_TUTOR
    source = dict(source=LogSource.PROVIDER_API, provider_id=provider.id,
                  idempotency_key=f"bf-{group.id}-{day.isoformat()}") if by_provider else {}
    places = sessions.pupils_on(group, day)
    cancel = rng.random() < 0.06
    marks = {}
    for place in places:
        # Absences spread so that each group's attendance comes out near its plan's.
        owed = _owed.get(group.id, rng.random()) + 1 - plan.attendance
        _owed[group.id] = owed - (owed >= 1)
        if owed < 1:
            marks[place.pupil_id] = sessions.PupilMark(
                "late" if rng.random() < 0.05 else "present",
                engagement=rng.choices([None, 1, 2, 3, 4, 5], [8, 2, 8, 25, 37, 20])[0])
        else:
            marks[place.pupil_id] = sessions.PupilMark(
                "absent", rng.choices(["ill", "other_lesson", "school_trip", "not_in_school",
                                       "refused", "other"], [40, 20, 8, 20, 7, 5])[0])
    if not cancel and all(m.status == "absent" for m in marks.values()):
        cancel, reason = True, "pupils_absent"
    else:
        reason = rng.choices(["tutor_absent", "school_event", "other"], [4, 5, 1])[0]
    if cancel:
        log = sessions.SessionLog(held_on=day, status="cancelled", cancel_reason=reason,
                                  note=rng.choice(CANCEL_NOTES[reason]),
                                  notice_hours=rng.choice([2, 20, 48, 72]))
    else:
        short = rng.random() < 0.1
        log = sessions.SessionLog(
            held_on=day, status="delivered",
            minutes_delivered=minutes - rng.choice([5, 10]) if short else minutes,
            marks=marks, late_start_minutes=rng.choice([0, 0, 0, 4, 8]) if by_provider else 0,
            note="Started late: the room was in use" if short else "")
    with _at(ends + timedelta(minutes=rng.randint(20, 180))):
        sessions.log_session(group, log, actor=None if by_provider else people[plan.tutor],
                             **source)


def _current_status(rng, made, today: date) -> None:
    """The current status of most pupils with a baseline, assessed in the last three weeks."""
    count = 0
    for group, _plan in made:
        scale = group.programme.measure_scale
        for place in group.places:
            if place.baseline is None:
                continue
            count += 1
            if count % 9 == 4:  # baseline and target, no current status yet
                continue
            day = today - timedelta(days=rng.randint(2, 20))
            gain = (place.target - place.baseline) * rng.uniform(0.2, 1.1)
            current = place.baseline + gain
            current = round(current) if scale != MeasureScale.SCORE else round(current, 1)
            low, high = scale.bounds
            with _on(day, time(16, 0)):
                progress.record_progress(place, progress.ProgressRecord(
                    baseline=None, target=None, current=min(high, max(low, current)),
                    current_on=day, evidence_source=None, next_action=place.next_action))
