"""Synthetic tutoring at national scale, for ``lms.insight.synthetic`` (``flask data generate``):
programmes per trust (one of each delivery model, and a provider's), pupils in every school
with a tutor, groups, weekly sessions with their attendance, and progress records.

Rows go in bulk (``lms.platform.bulk``: COPY on PostgreSQL), straight into the tables, with
facts that agree as the services would leave them: a group's tutor is one the register lists
for its school (approved, or suspended since, which pauses the group), a pupil has one open
place per programme, sessions fall weekly on the group's day outside the holidays, a session
nobody attended is cancelled, and minutes are counted only for pupils who came. Sessions are
written as they are generated, a chunk at a time, so two million take little memory. Nothing
is audited or emailed. Without an approved tutor there is no tutoring: a register left
underived gets none.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from credentials.register.models import RegisterEntry, RegisterStatus, register_entry_schools
from lms.platform import bulk
from lms.platform.clock import LONDON, today
from lms.platform.extensions import db
from lms.tutoring import totals

TABLES = ["providers", "tutoring_programmes", "pupils", "tutoring_groups", "group_pupils",
          "tutoring_sessions", "session_attendance"]
PROVIDERS = 8
CHUNK = 100_000
#: Two school years of weekly sessions at most.
MAX_SESSIONS = 70

#: (delivery model, subject, sizes to draw from, minutes, cost model, rate in pence,
#:  measure scale, evidence source, share of groups)
PROGRAMMES = [
    ("one_to_one", "english", (1,), 30, "per_tutor_hour", 2850, "reading_age",
     "standardised_test", 12),
    ("small_group", "maths", (2, 3, 3, 3), 60, "per_tutor_hour", 3200, "score",
     "teacher_assessment", 40),
    ("provider", "maths", (2, 3, 3), 60, "per_pupil", 45000, "gcse_grade", "exam_questions",
     15),
    ("ai_assisted", "maths", (4, 5, 6), 30, "per_term", 60000, "score", "skill_mastery", 15),
    ("blended", "english", (3, 4), 45, "per_pupil", 18000, "teacher_judgement",
     "teacher_assessment", 18),
]
NAMES = {"one_to_one": "Reading one-to-one", "small_group": "Maths small groups",
         "provider": "GCSE maths with a provider", "ai_assisted": "Maths practice, reviewed",
         "blended": "Blended English"}
YEARS = {"primary": range(1, 7), "secondary": range(7, 12), "all_through": range(1, 12),
         "special": range(1, 12)}
ACTIONS = ["Revisit the last topic", "Retest next half term", "Move on to the next unit",
           "Check with the class teacher", "Practise at home twice a week", ""]
ABSENCES = ["ill", "other_lesson", "school_trip", "not_in_school", "refused", "other"]
ABSENCE_W = [40, 20, 8, 20, 7, 5]
CANCELS = ["tutor_absent", "school_event", "other"]
ENGAGEMENT = [None, 1, 2, 3, 4, 5]
ENGAGEMENT_W = [8, 2, 8, 25, 37, 20]


def _holiday(day: date) -> bool:
    """Summer, Christmas and the Easter fortnight, roughly: no tutoring."""
    return (day.month == 8 or (day.month == 12 and day.day > 19) or (day.month == 1 and day.day < 5)
            or (day.month == 4 and day.day < 15))


def _tutors(trust_ids: list[int]) -> dict[int, list[tuple[int, bool]]]:
    """For each school, the tutors the register lists for it: (user id, approved now). A
    suspended tutor was approved when their groups began; pending and removed ones never
    tutor."""
    rows = db.session.execute(
        select(register_entry_schools.c.school_id, RegisterEntry.user_id, RegisterEntry.status)
        .join(RegisterEntry, RegisterEntry.id == register_entry_schools.c.entry_id)
        .where(RegisterEntry.trust_id.in_(trust_ids),
               RegisterEntry.status.in_([RegisterStatus.APPROVED, RegisterStatus.SUSPENDED]))
        .order_by(register_entry_schools.c.school_id, RegisterEntry.user_id))
    found: dict[int, list[tuple[int, bool]]] = {}
    for school_id, user_id, status in rows:
        found.setdefault(school_id, []).append((user_id, status == RegisterStatus.APPROVED))
    return found


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` in proportion to ``weights``, the remainder one each to the largest parts
    left over (so that no one part takes it all)."""
    scale = sum(weights) or 1
    exact = [total * w / scale for w in weights]
    counts = [int(x) for x in exact]
    left = sorted(range(len(counts)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in left[:total - sum(counts)]:
        counts[i] += 1
    return counts


def _scores(rng: random.Random, scale: str, year: int) -> tuple[float, float, float]:
    """Baseline, target and current on a programme's scale."""
    if scale == "reading_age":
        base = max(60, round((year + 4.5) * 12) - rng.randint(10, 26))
        target = base + rng.randint(6, 12)
        return base, target, base + rng.randint(0, target - base + 2)
    if scale == "gcse_grade":
        base = rng.randint(2, 4)
        return base, base + rng.choice((1, 1, 2)), base + rng.choice((0, 0, 1, 1, 2))
    if scale == "teacher_judgement":
        base = rng.choice((1, 1, 2))
        return base, base + 1, base + rng.choice((0, 1, 1))
    base = rng.randint(25, 62)
    target = min(100, base + rng.randint(12, 25))
    return base, target, round(min(100, base + (target - base) * rng.uniform(0.1, 1.2)), 1)


def generate_tutoring(schools_of: dict[int, list[tuple[int, str]]], *, pupils: int,
                      sessions: int, seed: int = 2026, now: datetime | None = None) -> Counter:
    """Tutoring for the trusts and schools given (``{trust id: [(school id, phase)]}``):
    about ``pupils`` pupils and ``sessions`` sessions. Returns the rows made, by table."""
    from lms.platform import clock

    now = now or clock.now()
    on = today(now)
    rng = random.Random(seed * 7 + 1)
    made: Counter = Counter()
    tutors = _tutors(list(schools_of))
    if not tutors or pupils <= 0:
        return made
    ids = bulk.Ids(TABLES)

    providers = [{"id": ids.take("providers"), "name": f"Synthetic provider {n:02d} {seed}",
                  "created_at": now - timedelta(days=800)} for n in range(1, PROVIDERS + 1)]
    bulk.insert_rows("providers", providers)
    made["providers"] = len(providers)

    programmes: dict[int, list[dict]] = {}
    rows = []
    for trust_id in schools_of:
        programmes[trust_id] = []
        for model, subject, sizes, minutes, cost, rate, scale, evidence, share in PROGRAMMES:
            key = f"s{seed:x}t{trust_id}{model}"[:32]
            row = {"id": ids.take("tutoring_programmes"), "key": key,
                   "version": 1, "trust_id": trust_id, "name": NAMES[model],
                   "subject": subject, "delivery_model": model, "max_group_size": max(sizes),
                   "planned_sessions": 30, "session_minutes": minutes, "cost_model": cost,
                   "rate_pence": rate, "school_contribution_percent": rng.choice((0, 25, 50)),
                   "provider_id": rng.choice(providers)["id"] if model == "provider" else None,
                   "measure_scale": scale, "evidence_source": evidence,
                   "sla_notice_hours": 24, "sla_report_hours": 48, "sla_late_minutes": 5,
                   "sla_cover_required": True, "created_by_id": None,
                   "created_at": now - timedelta(days=500), "superseded_at": None}
            rows.append(row)
            programmes[trust_id].append({**row, "sizes": sizes, "share": share})
    bulk.insert_rows("tutoring_programmes", rows)
    made["tutoring_programmes"] = len(rows)

    # Pupils, in the schools with a tutor, more in the larger secondaries.
    served = [(trust_id, school_id, phase) for trust_id, schools in schools_of.items()
              for school_id, phase in schools if school_id in tutors]
    per_school = _split(pupils, [1.6 if phase == "secondary" else 1.0
                                 for _, _, phase in served])
    pupil_rows, plans = [], []
    for (trust_id, school_id, phase), count in zip(served, per_school, strict=True):
        school_pupils = []
        years = YEARS.get(phase, YEARS["primary"])
        for n in range(count):
            pupil_id = ids.take("pupils")
            year = rng.choice(years)
            pupil_rows.append({
                "id": pupil_id, "school_id": school_id, "display_name":
                f"{chr(65 + rng.randrange(26))}.{chr(65 + rng.randrange(26))}.",
                "reference": f"ADM{1000 + n}", "pseudonym": f"P-S{pupil_id:07X}",
                "year_group": year, "disadvantaged": rng.random() < 0.3,
                "send": rng.random() < (0.9 if phase == "special" else 0.13),
                "eal": rng.random() < 0.2, "created_by_id": None,
                "created_at": now - timedelta(days=rng.randint(30, 500)), "erased_at": None})
            school_pupils.append((pupil_id, year))
        plans.append((trust_id, school_id, school_pupils))
    bulk.insert_rows("pupils", pupil_rows)
    made["pupils"] = len(pupil_rows)
    del pupil_rows

    # Groups: every pupil in one, some in a second of another programme.
    groups, places = [], []
    for trust_id, school_id, school_pupils in plans:
        offered = programmes[trust_id]
        weights = [p["share"] for p in offered]
        taken: dict[int, set[str]] = {}
        queue = list(school_pupils)
        rng.shuffle(queue)
        queue += rng.sample(school_pupils, len(school_pupils) * 3 // 20)
        while queue:
            programme = rng.choices(offered, weights)[0]
            size = rng.choice(programme["sizes"])
            members = []
            while queue and len(members) < size:
                pupil = queue.pop()
                if programme["key"] in taken.setdefault(pupil[0], set()):
                    continue
                taken[pupil[0]].add(programme["key"])
                members.append(pupil)
            if members:
                groups.append((trust_id, school_id, programme, members))
    weekly = _split(sessions, [rng.uniform(0.6, 1.4) for _ in groups])
    group_rows, runs = [], []
    for (trust_id, school_id, programme, members), count in zip(groups, weekly, strict=True):
        group_id = ids.take("tutoring_groups")
        count = min(MAX_SESSIONS, max(1, count))
        weekday = rng.randrange(5)
        ended = rng.random() < 0.4
        last = on - timedelta(days=rng.randint(21, 300) if ended else 1)
        last -= timedelta(days=(last.weekday() - weekday) % 7)
        days = []
        day = last
        while len(days) < count:
            if not _holiday(day):
                days.append(day)
            day -= timedelta(days=7)
        days.reverse()
        choices = tutors[school_id]
        tutor_id, _approved = rng.choice(choices)
        starts_at = time(rng.randint(8, 15), rng.choice((0, 15, 30, 45)))
        group_rows.append({
            "id": group_id, "school_id": school_id, "trust_id": trust_id,
            "programme_id": programme["id"], "programme_key": programme["key"],
            "name": f"{programme['name']} {group_id}", "tutor_id": tutor_id,
            "provider_id": programme["provider_id"], "weekday": weekday,
            "starts_at": starts_at, "starts_on": days[0],
            "status": "ended" if ended else "active", "ended_on": last if ended else None,
            "created_by_id": None, "created_at": datetime.combine(
                days[0] - timedelta(days=7), time(9), tzinfo=LONDON)})
        attendance = rng.uniform(0.55, 0.68) if rng.random() < 0.08 else rng.uniform(0.85, 0.96)
        group_places = []
        for pupil_id, year in members:
            base, target, current = _scores(rng, programme["measure_scale"], year)
            has_base = rng.random() < 0.92
            has_current = has_base and rng.random() < 0.8
            current_on = days[-1] - timedelta(days=rng.randint(0, 14))
            group_places.append(pupil_id)
            places.append({
                "id": ids.take("group_pupils"), "group_id": group_id, "pupil_id": pupil_id,
                "programme_key": programme["key"], "joined_on": days[0],
                "left_on": last if ended else None,
                "baseline": base if has_base else None,
                "baseline_on": days[0] if has_base else None,
                "target": target if has_base else None,
                "current": current if has_current else None,
                "current_on": max(days[0], current_on) if has_current else None,
                "evidence_source": programme["evidence_source"] if has_base else None,
                "next_action": rng.choice(ACTIONS) if has_base else "",
                "progress_updated_at": datetime.combine(max(days[0], current_on), time(16),
                                                        tzinfo=LONDON) if has_base else None})
        runs.append((group_rows[-1], programme, group_places, days, attendance))
    bulk.insert_rows("tutoring_groups", group_rows)
    bulk.insert_rows("group_pupils", places)
    made["tutoring_groups"], made["group_pupils"] = len(group_rows), len(places)
    del places
    _sessions(rng, ids, runs, on, made)
    bulk.fix_sequences(TABLES)
    db.session.flush()
    totals.rebuild(schools_of, now=now)  # the sessions went in without their totals
    return made


def _sessions(rng: random.Random, ids: bulk.Ids, runs: list, on: date, made: Counter
              ) -> None:
    """Each group's weekly sessions and their attendance, written a chunk at a time."""
    session_rows: list[dict] = []
    marks: list[dict] = []
    random_ = rng.random
    next_session = ids.next["tutoring_sessions"]
    next_mark = ids.next["session_attendance"]
    for group, programme, pupil_ids, days, attendance in runs:
        minutes = programme["session_minutes"]
        provider_id = programme["provider_id"]
        source = "provider_api" if provider_id else "tutor"
        starts = group["starts_at"]
        for day in days:
            if day > on - timedelta(days=14) and random_() < 0.02:
                continue  # not logged yet
            session_id = next_session
            next_session += 1
            cancelled = random_() < 0.06
            reason = rng.choice(CANCELS) if cancelled else None
            present = []
            if not cancelled:
                for pupil_id in pupil_ids:
                    if random_() < attendance:
                        present.append((pupil_id, "late" if random_() < 0.04 else "present"))
                    else:
                        present.append((pupil_id, None))
                if all(status is None for _, status in present):
                    cancelled, reason, present = True, "pupils_absent", []
            delivered = 0 if cancelled else (minutes - 10 if random_() < 0.08 else minutes)
            report = rng.randint(0, 30)
            session_rows.append({
                "id": session_id, "group_id": group["id"], "school_id": group["school_id"],
                "trust_id": group["trust_id"], "held_on": day,
                "status": "cancelled" if cancelled else "delivered", "cancel_reason": reason,
                "notice_hours": rng.choice((2, 24, 48)) if cancelled else None,
                "minutes_delivered": delivered, "late_start_minutes": 0,
                "tutor_id": group["tutor_id"], "cover": False, "note": "",
                "source": source, "provider_id": provider_id,
                "idempotency_key": f"s-{session_id}" if provider_id else None,
                "report_hours": report, "logged_by_id": None if provider_id
                else group["tutor_id"],
                "logged_at": datetime.combine(day, starts, tzinfo=LONDON)
                + timedelta(minutes=minutes, hours=report, seconds=random_() * 3000),
                "edited_at": None})
            for pupil_id, status in present:
                marks.append({
                    "id": next_mark, "session_id": session_id, "pupil_id": pupil_id,
                    "status": status or "absent",
                    "absence_reason": None if status else rng.choices(ABSENCES, ABSENCE_W)[0],
                    "engagement": rng.choices(ENGAGEMENT, ENGAGEMENT_W)[0] if status else None,
                    "minutes": delivered if status else 0})
                next_mark += 1
            if len(session_rows) >= CHUNK:
                _flush(session_rows, marks, made)
    _flush(session_rows, marks, made)
    ids.next["tutoring_sessions"], ids.next["session_attendance"] = next_session, next_mark


def _flush(session_rows: list[dict], marks: list[dict], made: Counter) -> None:
    bulk.insert_rows("tutoring_sessions", session_rows)
    bulk.insert_rows("session_attendance", marks)
    made["tutoring_sessions"] += len(session_rows)
    made["session_attendance"] += len(marks)
    session_rows.clear()
    marks.clear()
