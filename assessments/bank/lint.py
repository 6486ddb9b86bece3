"""The item linter: the published rules for writing multiple-choice items, checked.

Per item: options alike in length, no "none / all of the above", negative stems emphasised, no
cue between stem and key (shared wording the distractors lack, "a" / "an"), feedback that
explains every option, readable wording, no near-duplicate stems. Across the bank: where the key
stands and how long it is compared with the distractors, whether absolute words mark the wrong
answers, how many items are scenarios, and whether each topic holds enough items for its
blueprint. Errors fail ``flask assessments lint`` and the bank's test; warnings are reported.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from assessments.bank.blueprints import BANK_FACTOR, BLUEPRINTS
from assessments.bank.items import Bank, ItemSpec
from lms.platform.readability import flesch_reading_ease

#: Longest option over shortest, in characters.
MAX_LENGTH_RATIO = 2.0
#: The key stands out when it is this much longer than the longest distractor.
KEY_STANDS_OUT = 1.25
#: At most this share of single-answer items may have the key as their longest option (chance
#: is a quarter with four options).
MAX_KEY_LONGEST_SHARE = 0.35
#: Keys and distractors carry absolute words in shares at most this far apart.
MAX_ABSOLUTE_GAP = 0.15
MIN_SCENARIO_SHARE = 0.6
#: A stem of at least this many words (or a shared scenario) sets out a situation.
SCENARIO_WORDS = 25
NEAR_DUPLICATE = 0.8
MIN_READING_EASE = 30
MIN_FEEDBACK_CHARS = 20

_ABOVE = re.compile(r"\b(none|all|both|neither) of (the )?(above|these)\b|\bboth [a-d] and [a-d]\b",
                    re.IGNORECASE)
_NEGATIVE = re.compile(r"\b(not|except|least|never|false)\b")
_EMPHASISED = re.compile(r"\b(NOT|EXCEPT|LEAST|NEVER|FALSE)\b|\*\*(not|except|least)\*\*")
_ABSOLUTE = re.compile(r"\b(always|never|only|all|every|must|none|nothing|completely)\b",
                       re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z'\u2019-]+")
STOPWORDS = frozenset("""
about above after again against because before being below between could doing during every
their there these those through under until where which while would should shall might
other others another first second third with from into onto that this what when whom whose
tutor tutors pupil pupils lesson session sessions school does have having they them then
than your yours very just also more most some such same each much many""".split())


@dataclass(frozen=True)
class Finding:
    key: str
    rule: str
    message: str
    error: bool = True


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    #: Figures across the bank's live single-answer items.
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.error]


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 5 and w not in STOPWORDS}


def _question(stem: str) -> str:
    """The sentence that asks: a scenario's narrative may say "not" without asking it."""
    sentences = re.split(r"(?<=[.!?])\s+", stem.strip())
    return sentences[-1] if sentences else stem


def is_scenario(item: ItemSpec) -> bool:
    return item.scenario is not None or len(item.stem.split()) >= SCENARIO_WORDS


def key_option(item: ItemSpec):
    return next(o for o in item.options if o.correct)


def lint_item(item: ItemSpec) -> list[Finding]:
    found: list[Finding] = []

    def report(rule: str, message: str, error: bool = True) -> None:
        found.append(Finding(item.key, rule, message, error))

    texts = [o.text for o in item.options]
    for text in texts:
        if _ABOVE.search(text):
            report("above", f"'{text}': no 'none / all of the above' options")
    lengths = [len(t) for t in texts]
    if min(lengths) and max(lengths) / min(lengths) > MAX_LENGTH_RATIO:
        report("lengths", f"options run from {min(lengths)} to {max(lengths)} characters: "
                          f"keep them within {MAX_LENGTH_RATIO:g}x of each other")
    question = _question(item.stem)
    if _NEGATIVE.search(question) and not _EMPHASISED.search(question):
        report("negative", "a negative question must say so in capitals (NOT, EXCEPT, LEAST)")
    if item.type == "single":
        key = key_option(item)
        distractors = [o for o in item.options if not o.correct]
        longest_other = max(len(o.text) for o in distractors)
        if len(key.text) > KEY_STANDS_OUT * longest_other:
            report("key-length", f"the key ({len(key.text)} characters) is much longer than every "
                                 f"distractor (at most {longest_other})")
        shared = _content_words(key.text) & _content_words(item.stem)
        for other in distractors:
            shared -= _content_words(other.text)
        if len(shared) >= 2:
            report("stem-cue", "only the key repeats the stem's words "
                               f"{', '.join(sorted(shared))}: a candidate can match them")
        article = re.search(r"\b(a|an)$", item.stem.strip().rstrip(":").lower())
        if article:
            vowel = [o.text[:1].lower() in "aeiou" for o in item.options]
            fits = vowel if article.group(1) == "an" else [not v for v in vowel]
            if fits[item.options.index(key)] and not all(fits):
                report("grammar", f"the stem ends '{article.group(1)}', which only some options "
                                  "follow: end the stem before the article")
    for option in item.options:
        if len(option.feedback) < MIN_FEEDBACK_CHARS:
            report("feedback", f"'{option.text[:40]}': its feedback should say why, in a "
                               "sentence", error=item.use == "formative")
    ease = flesch_reading_ease(" ".join([item.scenario or "", item.stem] + texts))
    if ease < MIN_READING_EASE:
        report("readability", f"reading ease {ease:.0f}: shorter sentences, plainer words",
               error=False)
    return found


def _near_duplicates(items: list[ItemSpec]) -> list[Finding]:
    found = []
    words = [(item, set(_WORD.findall(item.stem.lower()))) for item in items]
    for index, (item, mine) in enumerate(words):
        for other, theirs in words[index + 1:]:
            if mine and theirs and len(mine & theirs) / len(mine | theirs) >= NEAR_DUPLICATE:
                found.append(Finding(other.key, "duplicate",
                                     f"its stem is nearly the same as {item.key}'s"))
    return found


def lint_bank(bank: Bank) -> Report:
    live = [i for i in bank.items if i.status == "live"]
    report = Report()
    for item in live:
        report.findings += lint_item(item)
    report.findings += _near_duplicates(live)

    single = [i for i in live if i.type == "single"]
    if single:
        longest = sum(1 for i in single
                      if len(key_option(i).text) > max(len(o.text) for o in i.options
                                                       if not o.correct))
        positions = Counter(i.options.index(key_option(i)) for i in single)
        keys_absolute = sum(1 for i in single if _ABSOLUTE.search(key_option(i).text))
        distractors = [o for i in single for o in i.options if not o.correct]
        others_absolute = sum(1 for o in distractors if _ABSOLUTE.search(o.text))
        report.figures.update({
            "single_items": len(single),
            "key_longest_share": round(longest / len(single), 3),
            "key_position_top_share": round(max(positions.values()) / len(single), 3),
            "keys_with_absolutes": round(keys_absolute / len(single), 3),
            "distractors_with_absolutes": round(others_absolute / len(distractors), 3),
        })
        figures = report.figures
        if figures["key_longest_share"] > MAX_KEY_LONGEST_SHARE:
            report.findings.append(Finding("(bank)", "key-longest",
                f"the key is the longest option in {figures['key_longest_share']:.0%} of items "
                f"(at most {MAX_KEY_LONGEST_SHARE:.0%}; chance is 25%)"))
        if abs(figures["keys_with_absolutes"] - figures["distractors_with_absolutes"]) > \
                MAX_ABSOLUTE_GAP:
            report.findings.append(Finding("(bank)", "absolutes",
                f"absolute words are in {figures['keys_with_absolutes']:.0%} of keys and "
                f"{figures['distractors_with_absolutes']:.0%} of distractors: "
                "'avoid always and never' must not be a strategy"))
        if figures["key_position_top_share"] > 0.4:
            report.findings.append(Finding("(bank)", "key-position",
                f"{figures['key_position_top_share']:.0%} of keys stand in one position",
                error=False))
    summative = [i for i in live if i.use == "summative"]
    if summative:
        share = sum(1 for i in summative if is_scenario(i)) / len(summative)
        report.figures["summative_items"] = len(summative)
        report.figures["scenario_share"] = round(share, 3)
        if share < MIN_SCENARIO_SHARE:
            report.findings.append(Finding("(bank)", "scenarios",
                f"{share:.0%} of summative items are scenarios (at least "
                f"{MIN_SCENARIO_SHARE:.0%})"))
    for blueprint in BLUEPRINTS.values():
        for topic, drawn in blueprint.items_per_topic.items():
            held = len(bank.live(blueprint.pathway.value, topic, "summative"))
            if held < BANK_FACTOR * drawn:
                report.findings.append(Finding(f"({topic})", "bank-size",
                    f"{blueprint.pathway.value} draws {drawn} from {topic} but the bank holds "
                    f"{held} (at least {BANK_FACTOR * drawn})"))
    return report
