"""A synthetic, national-scale dataset: trusts, clusters, schools, staff and tutors at every
stage, with nominations, enrolments, lesson progress, checks, attempts, endorsements, DBS checks,
safeguarding training and register entries; and tutoring (``lms.tutoring.synthetic``):
programmes, pupils, groups, sessions with their attendance, progress records.

It exists so that dashboards, the register and exports can be measured at the size of the
whole programme (``flask data generate``). Rows are written in bulk, straight into the tables,
with dates and states that agree with each other as the services would leave them; register
statuses are then derived by the real ``refresh_register``. Endorsements carry an unsigned
credential (signing 50,000 would take minutes and measures nothing the dashboards use),
lesson-by-lesson progress is written only for tutors whose training is open or ended part way
(a finished course is known from the attempts), and nobody is emailed. Every synthetic trust
is named ``Synthetic trust NN``.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text

from credentials.register import derivation
from lms.platform import bulk, clock
from lms.platform.errors import DomainError
from lms.platform.extensions import db

TRUST_PREFIX = "Synthetic trust"
DOMAIN = "synthetic.example"

#: How tutors are spread over the stages a candidate can be in, by default.
STAGE_WEIGHTS = {
    "awaiting_approval": 3,
    "invited": 5,
    "not_taken_up": 5,      # rejected, declined, invitation expired or withdrawn
    "in_training": 12,
    "ready": 3,             # course done, assessment not started
    "failed_first": 3,      # failed the first attempt, second still to come
    "failed": 4,
    "lapsed": 6,
    "withdrawn": 2,
    "endorsed": 57,
}

#: For endorsed tutors: the facts behind their register entry.
REGISTER_WEIGHTS = {
    "approved": 70,
    "no_dbs": 9,
    "no_training": 7,
    "dbs_lapsed": 4,
    "training_lapsed": 3,
    "information_no_decision": 1,
    "endorsement_suspended": 1.5,
    "endorsement_revoked": 0.5,
    "endorsement_expired": 1,
    "removed": 1,
    "update_service_new_information": 1,
    "dbs_due_soon": 1,
}

SUBJECTS = ["Reading", "Phonics", "Maths", "Writing", "English", "Science", "GCSE maths",
            "GCSE English", "Number", "Spelling"]
FIRST = ["Aisha", "Ben", "Chloe", "Dev", "Ella", "Farah", "George", "Hana", "Isaac", "Jade",
         "Kofi", "Lily", "Mohammed", "Niamh", "Oscar", "Priya", "Rhys", "Sofia", "Tomasz", "Zara"]
LAST = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal",
        "Jones", "Khan", "Lewis", "Murphy", "Nowak", "Okafor", "Patel", "Roberts", "Smith",
        "Taylor", "Williams"]
AUTHORITIES = ["Leeds", "Bradford", "Manchester", "Birmingham", "Bristol", "Kent", "Norfolk",
               "Devon", "Lancashire", "Essex", "Hampshire", "Cumbria", "Newcastle upon Tyne"]


@dataclass(frozen=True)
class Scale:
    trusts: int = 25
    schools: int = 2_000
    tutors: int = 100_000
    #: Tutoring (``lms.tutoring.synthetic``): pupils and sessions. By default 1.5 pupils per
    #: tutor and 40 sessions for every 3 pupils: 150,000 and 2,000,000 at national scale.
    pupils: int | None = None
    sessions: int | None = None

    @property
    def pupil_count(self) -> int:
        return self.tutors * 3 // 2 if self.pupils is None else self.pupils

    @property
    def session_count(self) -> int:
        return self.pupil_count * 40 // 3 if self.sessions is None else self.sessions


def _weights_for(count: int, weights: list[float] | None) -> list[float]:
    """Trust sizes: as given, or skewed as real trusts are (a few large, many small)."""
    if weights is not None:
        if len(weights) != count:
            raise DomainError(f"Give {count} trust weights, not {len(weights)}")
        return weights
    return [1 / (rank + 1) ** 0.7 for rank in range(count)]


def _split(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """``total`` split in proportion to ``weights`` (each at least ``minimum``), summing to it."""
    scale = sum(weights)
    counts = [max(minimum, int(total * w / scale)) for w in weights]
    counts[0] += total - sum(counts)
    return counts


TABLES = ["trusts", "clusters", "schools", "school_affiliations", "users", "memberships",
          "nominations", "enrolments", "deadline_extensions", "lesson_progress",
          "formative_results", "attempts", "assessment_adjustments", "status_lists",
          "endorsements", "dbs_checks", "dbs_status_checks", "safeguarding_training",
          "register_entries", "register_policies"]


def generate(scale: Scale = Scale(), *, seed: int = 2026, now: datetime | None = None,
             stage_weights: dict[str, float] | None = None,
             register_weights: dict[str, float] | None = None,
             trust_weights: list[float] | None = None, password_hash: str | None = None,
             course_detail: bool = True, derive_register: bool = True,
             tutoring: bool = True) -> Counter:
    """Write the dataset and return how many rows of each kind were made. Refuses to run
    twice: synthetic trusts already present means it has been generated.

    ``course_detail=False`` leaves out lesson progress and check results (most of the rows),
    for measuring what does not read them; ``derive_register=False`` leaves every register
    entry pending, as if its facts had just been recorded (and so no tutor may tutor: there
    is no tutoring); ``tutoring=False`` leaves tutoring out."""
    from assessments.bank.services import load_bank
    from assessments.checks.services import check_topics
    from courses.services import current_version, load_content
    from lms.accounts.security import hash_password

    if scale.trusts < 1 or scale.schools < scale.trusts or scale.tutors < 0:
        raise DomainError("Give at least one trust, a school per trust, and no negative counts")
    if db.session.scalar(select(func.count()).select_from(text("trusts")).where(
            text("name LIKE :p")).params(p=f"{TRUST_PREFIX} %")):
        raise DomainError("Synthetic data is already here: start from an empty database")
    now = now or clock.now()
    rng = random.Random(seed)
    load_content()
    load_bank()
    db.session.flush()
    ids = bulk.Ids(TABLES)
    made: Counter = Counter()
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    hashed = password_hash or hash_password(f"synthetic-{seed}-password")

    def add(table: str, **values) -> int:
        values.setdefault("id", ids.take(table))
        rows[table].append(values)
        made[table] += 1
        return values["id"]

    def person(name: str, email: str) -> int:
        return add("users", email=email, name=name, password_hash=hashed,
                   email_verified_at=now - timedelta(days=400), created_at=now
                   - timedelta(days=400))

    def member(user_id: int, role: str, **scope) -> None:
        add("memberships", user_id=user_id, role=role, created_at=now - timedelta(days=400),
            **{"trust_id": None, "cluster_id": None, "school_id": None, "provider_id": None,
               **scope})

    # --- organisations and staff ----------------------------------------------------------
    weights = _weights_for(scale.trusts, trust_weights)
    schools_per_trust = _split(scale.schools, weights, minimum=1)
    tutors_per_trust = _split(scale.tutors, weights)
    taken_urns = set(db.session.scalars(text("SELECT urn FROM schools")))
    urn = 300000
    schools_of: dict[int, list[tuple[int, str]]] = {}
    needs_approval: dict[int, bool] = {}
    for number, school_count in enumerate(schools_per_trust, start=1):
        trust_id = add("trusts", name=f"{TRUST_PREFIX} {number:02d}",
                       requires_nomination_approval=number % 2 == 0,
                       created_at=now - timedelta(days=730))
        needs_approval[trust_id] = number % 2 == 0
        for role, label in (("central_team", "central"), ("central_team", "central2"),
                            ("trustee", "trustee")):
            member(person(f"{label.title()} {number:02d}",
                          f"{label}.t{number:02d}@{DOMAIN}"), role, trust_id=trust_id)
        clusters = []
        if school_count >= 10:
            for c in range(1, school_count // 10 + 1):
                cluster_id = add("clusters", trust_id=trust_id, name=f"Hub {c}")
                clusters.append(cluster_id)
                member(person(f"Cluster lead {number:02d}-{c}",
                              f"lead.t{number:02d}.c{c}@{DOMAIN}"), "cluster_lead",
                       trust_id=trust_id, cluster_id=cluster_id)
        schools_of[trust_id] = []
        for s in range(school_count):
            while f"{urn:06d}" in taken_urns:
                urn += 1
            phase = rng.choices(["primary", "secondary", "all_through", "special"],
                                [70, 22, 4, 4])[0]
            cluster_id = clusters[s % len(clusters)] if clusters else None
            school_id = add("schools", urn=f"{urn:06d}", name=f"School {urn:06d}", phase=phase,
                            local_authority=rng.choice(AUTHORITIES), postcode="LS1 4AP",
                            trust_id=trust_id, cluster_id=cluster_id,
                            created_at=now - timedelta(days=730))
            urn += 1
            add("school_affiliations", school_id=school_id, trust_id=trust_id,
                cluster_id=cluster_id, started_at=now - timedelta(days=730))
            member(person(f"Head {school_id}", f"head.{school_id}@{DOMAIN}"), "school_leader",
                   trust_id=trust_id, school_id=school_id)
            schools_of[trust_id].append((school_id, phase))

    # --- what the tutors study ------------------------------------------------------------
    from lms.programme.models import Pathway

    lessons, checks = {}, {}
    for pathway in Pathway:
        version = current_version(pathway)
        lessons[pathway.value] = (version.version, [
            (lesson.id, module.slug, lesson.slug) for module in version.modules
            for lesson in module.lessons])
        checks[pathway.value] = sorted(check_topics(pathway.value))
    from assessments.bank.blueprints import BLUEPRINTS

    stage_weights = stage_weights or STAGE_WEIGHTS
    register_weights = register_weights or REGISTER_WEIGHTS
    stages, stage_w = list(stage_weights), list(stage_weights.values())
    facts, fact_w = list(register_weights), list(register_weights.values())
    status_lists: list[dict] = []
    endorsed: list[tuple[int, int, str]] = []

    def status_index() -> tuple[dict, int]:
        if not status_lists or status_lists[-1]["used"] >= 65_536:
            from credentials.endorsements.models import STATUS_LIST_SIZE

            status_lists.append({"id": ids.take("status_lists"), "public_id":
                                 f"syn{len(status_lists):05d}{seed:06d}",
                                 "purpose": "suspension", "size": STATUS_LIST_SIZE,
                                 "used": 0, "bits": bytearray(STATUS_LIST_SIZE // 8),
                                 "free": rng.sample(range(STATUS_LIST_SIZE), 65_536),
                                 "changed_at": now})
        current = status_lists[-1]
        current["used"] += 1
        return current, current["free"].pop()

    from credentials.endorsements.keys import active_key

    key_id = active_key().id
    tutor_number = 0
    for trust_id, tutor_count in zip(schools_of, tutors_per_trust, strict=True):
        approval = needs_approval[trust_id]
        for _ in range(tutor_count):
            tutor_number += 1
            school_id, school_phase = rng.choice(schools_of[trust_id])
            stage = rng.choices(stages, stage_w)[0]
            if stage == "awaiting_approval" and not approval:
                stage = "invited"
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            email = f"tutor{tutor_number}@{DOMAIN}"
            phase = ("secondary" if school_phase == "secondary" or
                     (school_phase == "all_through" and rng.random() < 0.5) else "primary")
            qts = rng.random() < 0.3
            pathway = "qts_refresher" if qts else phase
            nominated_at = now - timedelta(days=rng.uniform(1, 540), seconds=rng.randrange(86400))
            if stage in ("awaiting_approval", "invited", "in_training", "ready", "failed_first"):
                nominated_at = now - timedelta(days=rng.uniform(1, 40))
            nomination = {
                "school_id": school_id, "trust_id": trust_id, "nominated_by_id": None,
                "candidate_name": name, "candidate_email": email,
                "role_in_school": "teacher" if qts else rng.choice(
                    ["teaching_assistant", "support_staff", "other"]),
                "holds_qts": qts, "trn": f"{rng.randrange(10**6, 10**7):07d}" if qts else None,
                "tutoring_phase": phase, "subject_focus": rng.choice(SUBJECTS),
                "pathway": pathway, "decision_reason": None, "decided_by_id": None,
                "decided_at": None, "invited_at": None, "invitation_expires_at": None,
                "invitation_version": 0, "accepted_at": None, "privacy_consent_at": None,
                "closed_at": None, "import_id": None, "created_at": nominated_at}
            made[f"stage:{stage}"] += 1
            if stage == "awaiting_approval":
                add("nominations", status="submitted", **nomination)
                continue
            invited_at = nominated_at + timedelta(hours=rng.uniform(1, 72))
            nomination.update(invited_at=invited_at, invitation_version=1,
                              invitation_expires_at=invited_at + timedelta(days=14))
            if approval:
                nomination.update(decided_at=invited_at)
            if stage in ("invited", "not_taken_up"):
                if stage == "invited":
                    invited_at = min(invited_at, now - timedelta(hours=1))
                    nomination.update(invited_at=invited_at,
                                      invitation_expires_at=invited_at + timedelta(days=14))
                    add("nominations", status="invited", **nomination)
                else:
                    ending = rng.choice(["declined", "expired", "withdrawn"]
                                        + (["rejected"] if approval else []))
                    nomination.update(closed_at=invited_at + timedelta(days=rng.uniform(1, 14)),
                                      decision_reason="Not taken up" if ending in (
                                          "rejected", "withdrawn") else None)
                    add("nominations", status=ending, **nomination)
                continue
            opened = invited_at + timedelta(days=rng.uniform(0.1, 6))
            if stage in ("in_training", "ready", "failed_first"):
                opened = now - timedelta(days=rng.uniform(1, 27))
                invited_at = min(invited_at, opened - timedelta(hours=2))
                nomination.update(invited_at=invited_at,
                                  invitation_expires_at=invited_at + timedelta(days=14))
            user_id = person(name, email)
            member(user_id, "tutor", trust_id=trust_id, school_id=school_id)
            nomination_id = add("nominations", status="accepted",
                                **{**nomination, "accepted_at": opened,
                                   "privacy_consent_at": opened})
            deadline = opened + timedelta(days=28)
            version, course = lessons[pathway]
            enrolment_id = ids.take("enrolments")
            if rng.random() < 0.04:
                days = rng.choice([7, 14])
                deadline += timedelta(days=days)
                add("deadline_extensions", enrolment_id=enrolment_id, days=days,
                    reason="Long-term illness: extension agreed with the school",
                    granted_by_id=None, created_at=opened + timedelta(days=10))
            status, closed_at, reason = "active", None, None
            done = len(course)
            if stage == "in_training":
                done = rng.randrange(0, len(course))
            elif stage in ("lapsed", "withdrawn"):
                done = rng.randrange(0, len(course))
                closed_at = deadline if stage == "lapsed" else opened + timedelta(days=9)
                status, reason = stage, ("The training window closed." if stage == "lapsed"
                                         else "Left the school")
            spent = (deadline - opened) * 0.8 if stage != "in_training" else now - opened
            # Lesson by lesson, only where a figure or a page reads it: training still open
            # or ended part way (a finished course is known from the attempts).
            detailed = course_detail and stage in ("in_training", "ready", "failed_first",
                                                   "lapsed", "withdrawn")
            for position, (lesson_id, _, _) in enumerate(
                    course[:max(done, 1)] if detailed else ()):
                at = opened + spent * (position + 1) / (len(course) + 1)
                add("lesson_progress", enrolment_id=enrolment_id, lesson_id=lesson_id,
                    started_at=at, last_seen_at=at + timedelta(minutes=20),
                    completed_at=at + timedelta(minutes=20) if position < done else None,
                    seconds_spent=1200)
            course_done_at = opened + spent * len(course) / (len(course) + 1)
            if done == len(course) and detailed:
                for topic in checks[pathway]:
                    add("formative_results", enrolment_id=enrolment_id, topic=topic, items=[],
                        correct=4, total=4, passed=True, created_at=course_done_at,
                        submitted_at=course_done_at)
            blueprint = BLUEPRINTS[Pathway(pathway)]
            total = blueprint.total_items
            attempts = {"ready": 0, "in_training": 0, "lapsed": 0, "withdrawn": 0,
                        "failed_first": 1, "failed": 2}.get(stage)
            if attempts is None:  # endorsed: passed first time, or second
                attempts = 1 if rng.random() < 0.72 else 2
            last_submitted = None
            for number in range(1, attempts + 1):
                passes = stage == "endorsed" and number == attempts
                started = min(course_done_at + timedelta(days=2 * number - 1),
                              now - timedelta(hours=2))
                started = max(started, opened + timedelta(hours=1))
                correct = (rng.randint(int(blueprint.pass_mark * total + 0.999), total)
                           if passes else rng.randint(total // 2,
                                                      int(blueprint.pass_mark * total - 0.001)))
                weak = [] if passes else rng.sample(list(blueprint.items_per_topic), 2)
                results = {
                    topic: {"correct": n if topic not in weak else max(0, n - 2), "total": n,
                            "secure": topic not in weak,
                            "lessons": [s for _, m, s in course if m == topic][:1]
                            if topic in weak else []}
                    for topic, n in blueprint.items_per_topic.items()}
                last_submitted = started + timedelta(minutes=rng.uniform(15, 40))
                add("attempts", enrolment_id=enrolment_id, number=number,
                    seed=rng.getrandbits(62), status="submitted", started_at=started,
                    deadline_at=started + blueprint.time_limit, submitted_at=last_submitted,
                    auto_submitted=False, correct=correct, total=total, passed=passes,
                    topic_results=results)
            if stage == "failed":
                status, closed_at = "failed", last_submitted
                reason = "Did not pass within the attempts allowed."
                if rng.random() < 0.1:
                    add("assessment_adjustments", enrolment_id=enrolment_id,
                        kind="extra_time", value=25, reason="Dyslexia: 25% extra time",
                        granted_by_id=None, created_at=opened + timedelta(days=2))
            if stage == "endorsed":
                status, closed_at, reason = "passed", last_submitted, "Passed the assessment."
            add("enrolments", id=enrolment_id, user_id=user_id, nomination_id=nomination_id,
                school_id=school_id, trust_id=trust_id, pathway=pathway,
                course_version=version, opened_at=opened, deadline_at=deadline,
                status=status, closed_at=closed_at, close_reason=reason)
            if stage == "endorsed":
                endorsed.append(_endorse(add, status_index, rng, now, key_id, register_weights,
                                         facts, fact_w, user_id=user_id, trust_id=trust_id,
                                         school_id=school_id, enrolment_id=enrolment_id,
                                         pathway=pathway, phase=phase, version=version,
                                         passed_at=last_submitted, subject=nomination[
                                             "subject_focus"]))

    for status_list in status_lists:
        status_list.pop("free")
        status_list["bits"] = bytes(status_list["bits"])
        add("status_lists", **status_list)
    entry_schools = [{"entry_id": entry["id"], "school_id": entry.pop("school_id")}
                     for entry in rows["register_entries"]]
    for table in TABLES:
        bulk.insert_rows(table, rows[table])
    bulk.insert_rows("register_entry_schools", entry_schools)
    bulk.fix_sequences(TABLES)
    db.session.flush()
    from credentials.endorsements import status
    from credentials.endorsements.models import StatusList

    for status_list in db.session.scalars(select(StatusList).where(
            StatusList.id.in_([s["id"] for s in status_lists]))):
        status.publish(status_list, now)
    if derive_register:
        derivation.refresh_register(now=now, notify=False)
    if tutoring:
        from lms.tutoring.synthetic import generate_tutoring

        made.update(generate_tutoring(schools_of, pupils=scale.pupil_count,
                                      sessions=scale.session_count, seed=seed, now=now))
    return made


def _endorse(add, status_index, rng, now, key_id, register_weights, facts, fact_w, *,
             user_id, trust_id, school_id, enrolment_id, pathway, phase, version, passed_at,
             subject) -> tuple[int, int, str]:
    """The endorsement of a tutor who passed, and the facts behind their register entry."""
    fact = rng.choices(facts, fact_w)[0]
    status_list, index = status_index()
    issued = passed_at + timedelta(seconds=rng.uniform(2, 30))
    valid_until = issued + timedelta(days=365 * 3)
    status, changed, reason = "active", None, None
    if fact == "endorsement_suspended":
        status, changed, reason = "suspended", now - timedelta(days=rng.uniform(1, 60)), \
            "Allegation under investigation by the school"
    elif fact == "endorsement_revoked":
        status, changed, reason = "revoked", now - timedelta(days=rng.uniform(1, 120)), \
            "Dismissed following a conduct hearing"
    elif fact == "endorsement_expired":
        valid_until = now - timedelta(days=rng.uniform(1, 60))
        issued = valid_until - timedelta(days=365 * 3)
        status, changed, reason = "expired", valid_until, "Reached its expiry date"
    if status in ("suspended", "revoked"):
        status_list["bits"][index // 8] |= 0x80 >> (index % 8)
    public_id = f"syn{enrolment_id:012d}{rng.getrandbits(40):010x}"[:32]
    add("endorsements", public_id=public_id, user_id=user_id, enrolment_id=enrolment_id,
        trust_id=trust_id, school_id=school_id, pathway=pathway, phase=phase,
        course_version=version, passed_at=passed_at, issued_at=issued, valid_from=issued,
        valid_until=valid_until, status=status, status_changed_at=changed,
        status_reason=reason, status_list_id=status_list["id"], status_index=index,
        issuer_key_id=key_id, credential=json.dumps(
            {"id": public_id, "type": ["VerifiableCredential", "OpenBadgeCredential"],
             "description": "Synthetic endorsement, not signed"}))
    today = now.date()
    entry_id = add("register_entries", trust_id=trust_id, user_id=user_id, subject=subject,
                   status="pending", status_since=issued, reasons=[], next_due_on=None,
                   added_by_id=None, added_at=issued,
                   removed_at=now - timedelta(days=3) if fact == "removed" else None,
                   removed_by_id=None,
                   removed_reason="Left the trust" if fact == "removed" else None,
                   school_id=school_id)
    if fact != "no_dbs":
        issued_on = today - timedelta(days=rng.randint(30, 900))
        if fact == "dbs_lapsed":
            issued_on = today - timedelta(days=rng.randint(1100, 1300))
        elif fact == "dbs_due_soon":
            issued_on = today - timedelta(days=365 * 3 - rng.randint(1, 25))
        update_service = fact == "update_service_new_information" or rng.random() < 0.3
        showed = fact == "information_no_decision" or rng.random() < 0.03
        number = f"{rng.randrange(10**11, 10**12):012d}"
        check_id = add(
            "dbs_checks", user_id=user_id, trust_id=trust_id, school_id=school_id,
            certificate_number_encrypted=_encrypt(number),
            certificate_number_lookup=_lookup(number), issued_on=issued_on,
            level="enhanced_barred", workforce="child", barred_lists=["children"],
            original_seen_by="School business manager", original_seen_on=issued_on
            + timedelta(days=3), update_service=update_service, showed_information=showed,
            risk_decision="suitable" if showed and fact != "information_no_decision" else None,
            risk_decision_on=issued_on + timedelta(days=5) if showed
            and fact != "information_no_decision" else None,
            risk_decision_by="Headteacher" if showed and fact != "information_no_decision"
            else None, recorded_by_id=None, recorded_at=now - timedelta(days=10))
        if fact == "update_service_new_information":
            add("dbs_status_checks", dbs_check_id=check_id, checked_on=today
                - timedelta(days=rng.randint(1, 30)), checked_by_id=None,
                result="new_information", recorded_at=now - timedelta(days=1))
    if fact != "no_training":
        completed = today - timedelta(days=rng.randint(10, 330))
        if fact == "training_lapsed":
            completed = today - timedelta(days=rng.randint(370, 500))
        add("safeguarding_training", user_id=user_id, trust_id=trust_id, school_id=school_id,
            completed_on=completed, course="Annual safeguarding update",
            recorded_by_id=None, recorded_at=now - timedelta(days=10))
    return entry_id, trust_id, fact


def _encrypt(number: str) -> bytes:
    from credentials.register.derivation import CERTIFICATE_PURPOSE
    from lms.platform import crypto

    return crypto.encrypt(number.encode(), CERTIFICATE_PURPOSE)


def _lookup(number: str) -> str:
    from credentials.register.derivation import CERTIFICATE_PURPOSE
    from lms.platform import crypto

    return crypto.keyed_hash(number, CERTIFICATE_PURPOSE)
