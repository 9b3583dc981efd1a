"""Words as the engine compares them: lower case, no punctuation, numbers spelt out."""

from __future__ import annotations

import re
from functools import lru_cache

from num2words import num2words

# Hesitations as recognisers and aligners spell them, letters said longer ("errr", "uhhh",
# "humm") written once. Whisper also writes an "erm" or a "hmm" as one of the rarer spellings
# ("hum", "herm", "hurm", "urm", "urn"); a script that holds such a word keeps it a word.
FILLERS = frozenset(
    {"um", "uh", "uhm", "er", "erm", "ern", "ah", "ahm", "ehm", "hm", "mm", "mhm", "hum"}
    | {"hem", "herm", "hirm", "hurm", "urm", "urn"}
)
_HELD = re.compile(r"(.)\1+")
# Abbreviations said as words: a recogniser writes "Mr." where a script says "mister".
_SAID_AS = {
    "mr": ("mister",),
    "mrs": ("missus",),
    "dr": ("doctor",),
    "vs": ("versus",),
    "etc": ("et", "cetera"),
    "ok": ("okay",),
}

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)


def tokens(text: str, language: str = "en") -> list[str]:
    """The words of ``text``, normalised.

    ``"It's 20% off, Mr. Smith!"`` → ``["it's", "twenty", "percent", "off", "mister", "smith"]``.
    """
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group().replace("’", "'").lower()
        if token[0].isdigit():
            out.extend(_spelt(token, language))
        elif language == "en" and token in _SAID_AS:
            out.extend(_SAID_AS[token])
        else:
            out.append(token)
    return out


def is_filler(word: str) -> bool:
    bare = word.lower().strip(".,!?;:…-")
    return bare in FILLERS or _HELD.sub(r"\1", bare) in FILLERS


@lru_cache(maxsize=4096)
def _spelt(number: str, language: str) -> tuple[str, ...]:
    percent = number.endswith("%")
    digits = number.rstrip("%").replace(",", "")
    try:
        words = num2words(float(digits) if "." in digits else int(digits), lang=language)
    except (NotImplementedError, ValueError, OverflowError):
        words = num2words(int(digits.split(".")[0]), lang="en")
    if percent:
        words += " percent"
    return tuple(tokens(words.replace("-", " "), language))
