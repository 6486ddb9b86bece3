"""How easy English text is to read: the Flesch reading ease score.

206.835 - 1.015 x (words per sentence) - 84.6 x (syllables per word). 60-70 is plain English;
below 50 is hard going on a phone. Syllables are counted by vowel groups, which is close enough
for a score over a paragraph or more.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|\n\s*\n|\n\s*[-*\d]")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_MARKUP = re.compile(r"[#*_>`|\[\]()]|!\[[^\]]*\]\([^)]*\)|\([^)]*\.svg\)")


def syllables(word: str) -> int:
    word = word.lower()
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    if word.endswith(("ed", "es")) and count > 1 and not word.endswith(("ted", "ded", "ses")):
        count -= 1
    return max(1, count)


def flesch_reading_ease(text: str) -> float:
    """The score for ``text`` (Markdown markup ignored); 100 for text without words."""
    plain = _MARKUP.sub(" ", text)
    words = _WORD.findall(plain)
    if not words:
        return 100.0
    sentences = max(1, len([s for s in _SENTENCE_END.split(plain) if _WORD.search(s)]))
    per_sentence = len(words) / sentences
    per_word = sum(syllables(w) for w in words) / len(words)
    return round(206.835 - 1.015 * per_sentence - 84.6 * per_word, 1)
