"""The practice rubric: eight criteria taken from the course's key practices, each scored 1-4.

The rubric is kept in code, frozen, and every observation stores the version it was scored
against, so a later rewording never changes what an earlier observation meant. Each criterion
names the course lessons behind it as ``(module slug, lesson slug)``; the tutor's observation
page links to them in the course version they studied (``lms.observations.lessons``)."""

from __future__ import annotations

from dataclasses import dataclass

#: Bump when a criterion, descriptor or lesson changes; keep the old version in ``RUBRICS``.
RUBRIC_VERSION = "2026.1"

#: The four levels, lowest first.
LEVELS: dict[int, str] = {1: "Not yet seen", 2: "Developing", 3: "Secure", 4: "Strong"}
SCORES = tuple(LEVELS)

NOTE_MAX = 500
COMMENT_MAX = 2000
NEXT_STEP_MAX = 300


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    #: What the observer looks for, in a sentence.
    looks_for: str
    #: One line per score, 1 to 4.
    descriptors: tuple[str, str, str, str]
    #: The lessons behind it, as ``(module slug, lesson slug)``.
    lessons: tuple[tuple[str, str], ...]

    def descriptor(self, score: int) -> str:
        return self.descriptors[score - 1]


@dataclass(frozen=True)
class Rubric:
    version: str
    criteria: tuple[Criterion, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.criteria)

    def criterion(self, key: str) -> Criterion:
        return next(c for c in self.criteria if c.key == key)


CRITERIA = (
    Criterion(
        "starts_from_prior_knowledge", "Starts from what the pupil knows",
        "The session begins by finding out what the pupil already knows and builds from there.",
        ("Starts the planned work without finding out what the pupil already knows.",
         "Asks what the pupil remembers, but carries on with the plan whatever the answer.",
         "Uses a quick question or task to find the starting point and pitches the work to it.",
         "Probes the starting point precisely and re-pitches the session at once when it "
         "differs from the plan."),
        (("assessment-for-learning", "finding-the-starting-point"),
         ("planning-sessions", "starting-from-the-classroom-curriculum"),
         ("qts-tutoring-practice", "diagnosing-and-responding"))),
    Criterion(
        "checks_understanding", "Checks understanding",
        "Questions and tasks show what each pupil understands, not just whether they agree.",
        ("Relies on “does that make sense?” or on the pupil saying they understand.",
         "Asks questions that check recall, but rarely ones that reveal the pupil's thinking.",
         "Asks pupils to explain or show their thinking and spots misconceptions as they arise.",
         "Checks understanding throughout, diagnoses the cause of errors and acts on what it "
         "shows."),
        (("assessment-for-learning", "questioning-that-reveals-thinking"),
         ("assessment-for-learning", "diagnosing-misconceptions"),
         ("qts-tutoring-practice", "diagnosing-and-responding"))),
    Criterion(
        "keeps_every_pupil_engaged", "Keeps every pupil in the group engaged",
        "Every pupil in the group is thinking and taking part for the whole session.",
        ("One pupil does most of the talking or work; others wait or drift off.",
         "Involves each pupil at times, but some are passive for long stretches.",
         "Uses turn-taking, whiteboards or paired work so each pupil takes part throughout.",
         "Every pupil is accountable and working hard; the tutor notices and re-engages anyone "
         "quietly falling behind."),
        (("small-group-tutoring", "keeping-every-pupil-engaged"),
         ("small-group-tutoring", "running-a-group-session"),
         ("qts-tutoring-practice", "small-groups-and-send-in-tutoring"))),
    Criterion(
        "specific_feedback", "Gives specific feedback",
        "Feedback tells the pupil what they did well and exactly what to do next.",
        ("Feedback is general praise or correction (“good”, “not quite”).",
         "Feedback names what is right or wrong, but the pupil is not asked to act on it.",
         "Feedback is specific, about the task, and the pupil uses it straight away.",
         "Feedback is precise, well timed and acted on; the pupil can say what they will do "
         "differently."),
        (("feedback", "principles-of-effective-feedback"),
         ("feedback", "feedback-in-the-tutoring-session"),
         ("qts-tutoring-practice", "feedback-and-metacognition-one-to-one"))),
    Criterion(
        "links_to_class_teaching", "Links to class teaching",
        "The session connects to what the pupil is learning in class and what the teacher asked.",
        ("The session's content has no visible link to the pupil's class work.",
         "The topic matches the class, but the session does not use the class's methods or "
         "words.",
         "Builds on the current class topic using the teacher's methods and vocabulary.",
         "Planned with the class teacher's information and feeds back what to pick up in "
         "class."),
        (("working-with-the-class-teacher", "communicating-with-the-class-teacher"),
         ("planning-sessions", "starting-from-the-classroom-curriculum"),
         ("qts-safeguarding-and-partnership", "working-with-the-class-teacher"))),
    Criterion(
        "manages_time", "Manages time and pace",
        "The session starts promptly, moves at a pace that suits the pupils and ends well.",
        ("Time is lost at the start or on one task; the session ends abruptly.",
         "The session has a structure, but the pace suits the plan more than the pupils.",
         "A clear structure with brisk transitions, ending with a short review.",
         "Pace is adjusted to the pupils in the moment, with time kept for practice and for "
         "the review."),
        (("planning-sessions", "structuring-a-session"),
         ("planning-sessions", "adapting-in-the-moment"),
         ("qts-from-classroom-to-tutoring", "shaping-a-session"))),
    Criterion(
        "builds_independence", "Builds independence: planning, monitoring, evaluating",
        "Pupils are helped to plan, monitor and evaluate their own work, with support withdrawn.",
        ("The tutor does the thinking; the pupil follows step-by-step instructions.",
         "Models a strategy, but the pupil is not asked to use it on their own.",
         "Models, then gradually withdraws support; asks the pupil to plan and check their "
         "work.",
         "The pupil chooses a strategy, monitors their progress and evaluates it, with little "
         "prompting."),
        (("metacognition", "plan-monitor-evaluate"),
         ("metacognition", "building-independence"),
         ("qts-tutoring-practice", "feedback-and-metacognition-one-to-one"))),
    Criterion(
        "warm_purposeful_relationship", "Builds a warm, purposeful relationship",
        "The pupils feel safe to have a go and the relationship is focused on learning.",
        ("The relationship is distant, or friendly but with little focus on learning.",
         "Warm and encouraging, though time drifts to chat or effort is not expected.",
         "Warm, respectful and purposeful; mistakes are treated as part of learning.",
         "Pupils are confident to take risks, show pride in progress and hold high "
         "expectations of themselves."),
        (("relationships-and-motivation", "first-sessions-and-rapport"),
         ("relationships-and-motivation", "motivation-and-self-belief"),
         ("qts-from-classroom-to-tutoring", "what-changes-when-you-tutor"))),
)

RUBRIC = Rubric(RUBRIC_VERSION, CRITERIA)

#: Every version an observation may have been scored against.
RUBRICS: dict[str, Rubric] = {RUBRIC.version: RUBRIC}

CRITERION_KEYS = RUBRIC.keys


def rubric_for(version: str) -> Rubric:
    """The rubric an observation was scored against (the current one if it is unknown)."""
    return RUBRICS.get(version, RUBRIC)


def level_label(score: int) -> str:
    return f"{score} {LEVELS[score].lower()}"
