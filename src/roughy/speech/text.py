"""Words as the engine compares them: lower case, no punctuation, numbers spelt out."""

from __future__ import annotations

import re
from functools import lru_cache

from num2words import num2words

# Hesitations as recognisers and aligners spell them.
FILLERS = frozenset({"um", "umm", "uh", "uhm", "uhh", "er", "erm", "ah", "hmm", "mm", "mhm"})

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)


def tokens(text: str, language: str = "en") -> list[str]:
    """The words of ``text``, normalised.

    ``"It's 20% off!"`` → ``["it's", "twenty", "percent", "off"]``.
    """
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group().replace("’", "'").lower()
        if token[0].isdigit():
            out.extend(_spelt(token, language))
        else:
            out.append(token)
    return out


def is_filler(word: str) -> bool:
    return word.lower().strip(".,!?;:…-") in FILLERS


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
