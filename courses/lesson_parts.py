"""What a lesson's text is made of, and so how long it takes.

A lesson's minutes are computed, never typed in: its words at 200 a minute (the references
excluded), plus the minutes each activity declares, plus the minutes of its video. An activity
is a section whose heading says how long it takes and, for a task, what the tutor produces:

    ## Activity: Plan the first ten minutes (12 minutes)       ... **You produce:** ...
    ## What would you do? The pupil who will not start (5 minutes)   ... ### Model answer ...

A "what would you do?" scenario keeps its model answer back until the tutor has written theirs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

READING_WORDS_PER_MINUTE = 200

_SECTION = re.compile(r"^## (.+?)\s*$", re.MULTILINE)
_ACTIVITY = re.compile(
    r"^(?P<kind>Activity:|What would you do\?)\s*(?P<title>.*?)\s*\((?P<minutes>\d+) minutes?\)$")
_LOOKS_LIKE_ACTIVITY = re.compile(r"^(Activity\b|What would you do\b)", re.IGNORECASE)
_PRODUCES = re.compile(r"^\*\*You produce:\*\*\s*\S", re.MULTILINE)
_MODEL_ANSWER = re.compile(r"^### Model answer\s*$", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z0-9\u00C0-\u024F]+(?:['\u2019][A-Za-z]+)*")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<file>[^)\s]+)\)")
_REFERENCES = "References"


class LessonTextError(ValueError):
    """The lesson's text breaks a rule of its structure; the message says which."""


@dataclass(frozen=True)
class Activity:
    kind: str  #: "task" or "scenario"
    title: str
    minutes: int
    #: A scenario's text before its model answer, and the model answer (Markdown).
    prompt: str = ""
    model_answer: str = ""


@dataclass(frozen=True)
class Section:
    heading: str | None
    text: str
    activity: Activity | None = None


@dataclass(frozen=True)
class Image:
    alt: str
    file: str


def sections(body: str) -> list[Section]:
    """The body cut at its ``## `` headings, each activity section recognised."""
    cuts = list(_SECTION.finditer(body))
    parts = [Section(None, body[:cuts[0].start()] if cuts else body)]
    for index, cut in enumerate(cuts):
        end = cuts[index + 1].start() if index + 1 < len(cuts) else len(body)
        heading, text = cut.group(1), body[cut.end():end]
        parts.append(Section(heading, text, _activity(heading, text)))
    return parts


def _activity(heading: str, text: str) -> Activity | None:
    match = _ACTIVITY.match(heading)
    if match is None:
        if _LOOKS_LIKE_ACTIVITY.match(heading):
            raise LessonTextError(
                f"the heading '## {heading}' looks like an activity but does not say how long "
                "it takes: end it with '(N minutes)'")
        return None
    minutes = int(match.group("minutes"))
    if not 1 <= minutes <= 60:
        raise LessonTextError(f"'## {heading}': an activity takes between 1 and 60 minutes")
    title = match.group("title").strip() or "What would you do?"
    if match.group("kind") == "Activity:":
        if not _PRODUCES.search(text):
            raise LessonTextError(
                f"'## {heading}': an activity says what the tutor produces, in a line "
                "starting '**You produce:**'")
        return Activity("task", title, minutes)
    answer = _MODEL_ANSWER.search(text)
    if answer is None:
        raise LessonTextError(f"'## {heading}': a scenario needs a '### Model answer'")
    prompt, model = text[:answer.start()].strip(), text[answer.end():].strip()
    if not prompt or not model:
        raise LessonTextError(f"'## {heading}': write both the scenario and its model answer")
    return Activity("scenario", title, minutes, prompt, model)


def words(text: str) -> int:
    return len(_WORD.findall(text))


def reading_words(body: str) -> int:
    """The words a tutor reads: everything but the references (image markup counts as its
    text alternative)."""
    return sum(words(_IMAGE.sub(r"\g<alt>", s.text) + " " + (s.heading or ""))
               for s in sections(body) if s.heading != _REFERENCES)


def activities(body: str) -> list[Activity]:
    return [s.activity for s in sections(body) if s.activity is not None]


def images(body: str) -> list[Image]:
    return [Image(m.group("alt").strip(), m.group("file")) for m in _IMAGE.finditer(body)]


def video_minutes(video: dict | None) -> int:
    return int((video or {}).get("minutes") or 0)


def lesson_minutes(body: str, video: dict | None = None) -> int:
    """Words at 200 a minute, plus each activity's minutes, plus the video's; at least 1."""
    reading = reading_words(body) / READING_WORDS_PER_MINUTE
    return max(1, round(reading + sum(a.minutes for a in activities(body))
                        + video_minutes(video)))
