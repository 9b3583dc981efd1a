"""Script lines, and every attempt at each line found in the spoken tokens.

An attempt is a run of spoken tokens that follows one script line: a *complete* take when it
reaches the line's end, a *false start* when it begins the line and stops short. Attempts are
seeded by the bigrams the speech shares with a line (an inverted index over the script, so the
cost follows the number of shared bigrams, not words × lines), chained along the line across a
few wrong, extra or missing tokens, then extended token by token at both ends.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise

from roughy.speech.text import tokens

# Tokens a chain may step over between two matches (wrong, extra or missing words).
MAX_SKIP = 3
# A take is complete when it covers this share of the line and reaches its last two tokens.
COMPLETE_COVERAGE = 0.6
# Wrong tokens absorbed at either end of an attempt, at most.
MAX_ABSORB = 3
# A wrong token this far from the take's edge word is not absorbed unless it looks like the
# script's: the speaker paused between it and the take.
ABSORB_PAUSE = 0.3
# Tokens at least this alike (difflib's ratio) are taken for a recogniser's slip.
LIKE = 0.5
# An attempt is not extended across a silence this long.
SENTENCE_PAUSE = 0.7
# The line's end heard as one word more is heard with no longer pause before that word than
# between the words of a phrase.
RUN_ON_PAUSE = 0.15
# Number words, as ``roughy.speech.text.tokens`` spells numbers out.
NUMBER_WORDS = frozenset(
    word
    for number in (*range(20), *range(20, 100, 10), 100, 1000, 10**6, 10**9)
    for word in tokens(str(number))
)
# Words of a closed set that look alike by spelling but name different things: one said for
# another is misread, however alike ("friday" for "thursday"), like a number said differently.
DAY_WORDS = frozenset(
    {
        *("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "october", "november", "december"),
    }
)
# An unsure stretch is at most this many times as long as its line (in tokens).
UNSURE_LENGTH = 1.5

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")

Pair = tuple[int, int]  # (spoken token index, line token index) of a matching token


def script_lines(script: str) -> list[str]:
    """The script's lines as the engine numbers them (line 1 is ``script_lines(s)[0]``).

    Non-empty lines; lines without a single word (``"---"``) are not lines. A script written as
    one paragraph (no line breaks) is split into sentences instead.
    """
    lines = [line.strip() for line in script.splitlines() if tokens(line)]
    if len(lines) == 1:
        lines = [part.strip() for part in _SENTENCE_END.split(lines[0]) if tokens(part)]
    return lines


def compounds_apart(
    lines: Sequence[Sequence[str]], heard: Sequence[Sequence[str]]
) -> tuple[list[list[str]], list[list[str]]]:
    """Script lines and heard words (tokens per word) with compounds written apart where the
    other side writes them so: a recogniser's "handmade" for "hand made", "light house" for
    "lighthouse". A compound is two tokens side by side on one side, one on the other."""
    spoken = [token for said in heard for token in said]
    spoken_pairs = {a + b: (a, b) for a, b in pairwise(spoken)}
    line_pairs = {a + b: (a, b) for line in lines for a, b in pairwise(line)}
    apart_lines = [[part for t in line for part in spoken_pairs.get(t, (t,))] for line in lines]
    apart_heard = [[part for t in said for part in line_pairs.get(t, (t,))] for said in heard]
    return apart_lines, apart_heard


@dataclass(frozen=True)
class Attempt:
    line: int  # 0-based script line
    first: int  # first spoken token (inclusive)
    last: int  # last spoken token (inclusive)
    size: int  # tokens in the line
    matched: int  # line tokens said as written
    # Extra, skipped and unsaid tokens count 1 each; a wrong token less when it looks like the
    # script's (see ``substitution_cost``).
    errors: float
    complete: bool
    # How much better the script than the words heard fits the take's audio (see
    # ``roughy.speech.decide.ear``); None when not listened to.
    fit: float | None = None
    # How much better the words heard with the line's words it left out put back than the
    # words heard fit (``roughy.speech.decide.ear``): below 0 the speaker left them out.
    omission: float | None = None
    # The recogniser surely heard a word read in too many inside the take (``speech.ear``).
    extra: bool = False
    # A word of the take fits the script clearly worse than in another take of its line
    # (``roughy.speech.decide.ear.compare_takes``): misread, though heard as written.
    outdone: bool = False
    # A stretch of speech that may be a take the recogniser garbled (``_Extender.unsure``):
    # neither a take nor a false start until listened to.
    unsure: bool = False
    # Where the take's sound begins, when before its first heard word: a restart whose first
    # words the recogniser did not write (``roughy.speech.decide.ear``).
    heard_from: float | None = None
    # Where the take's sound ends, when after its last heard word: its last words went
    # unwritten (``roughy.speech.decide.ear``).
    heard_to: float | None = None

    @property
    def score(self) -> float:
        return self.matched - self.errors


def key(token: str) -> str:
    """What two tokens share when they are the same word to the matcher: a recogniser's "it's"
    for "its" or "donate" for "donates" is not a different word read."""
    token = token.replace("'", "")
    return token[:-1] if len(token) > 3 and token.endswith("s") else token


def substitution_cost(said: str, written: str) -> float:
    """How much a wrong token counts: a word read wrongly looks nothing like the script's
    ("nearly" for "today": 1); a recogniser's slip often looks like it ("intermude" for
    "interviewed", "making" for "baking": less). The same slip costs the same in every take."""
    for words in (NUMBER_WORDS, DAY_WORDS):
        if said in words and written in words:
            return 1.0  # "sixteen" for "fifteen", "friday" for "thursday": misread
    likeness = SequenceMatcher(None, said, written, autojunk=False).ratio()
    return 1.0 - likeness if likeness >= LIKE else 1.0


def find_attempts(
    lines: Sequence[Sequence[str]],
    spoken: Sequence[str],
    pause_after: Sequence[float],
    sentence_ends: Collection[int] = (),
) -> list[Attempt]:
    """Complete takes and false starts of every line, in no particular order, and the
    ``unsure`` stretches that may be takes the recogniser garbled.

    ``pause_after[p]`` is the silence between spoken token ``p`` and the next one;
    ``sentence_ends`` the tokens the recogniser ended a sentence with.
    """
    written = lines
    lines = [[key(t) for t in line] for line in lines]
    spoken = [key(t) for t in spoken]
    found = _shared_pairs(lines, spoken)
    heads = {p for i, pairs in found.items() for p, j in pairs if j == 0}
    tails = {p for i, pairs in found.items() for p, j in pairs if j == len(lines[i]) - 1}
    attempts: list[Attempt] = []
    stretches: set[tuple[int, int, int]] = set()  # unsure ones found: (line, first, last)
    for i, pairs in found.items():
        extender = _Extender(
            lines[i], spoken, pause_after, (heads, tails, sentence_ends), written[i]
        )
        chains = _without_overlaps(_chains(pairs, len(lines[i]), pause_after))
        pieces: list[tuple[list[Pair], Attempt, int]] = []  # incomplete ones, with their low
        for k, chain in enumerate(chains):
            low = chains[k - 1][-1][0] if k else -1
            high = chains[k + 1][0][0] if k + 1 < len(chains) else len(spoken)
            chain = extender.grown(chain, low, high)
            attempt = extender.attempt(i, chain, low, high)
            if attempt.complete and pieces:
                whole = extender.continued(*pieces[-1], chain, attempt, high)
                if whole is not None:
                    if pieces[-1][1] in attempts:
                        attempts.remove(pieces[-1][1])
                    attempt = whole
            if attempt.complete or (chain[0][1] == 0 and attempt.matched >= 2):
                attempts.append(attempt)
            if attempt.complete:
                continue
            stretch = extender.unsure(attempt, chain, low, high)
            if pieces:
                stretch = extender.joined(*pieces[-1][:2], chain, attempt) or stretch
            pieces.append((chain, attempt, low))
            if stretch is not None and (i, stretch.first, stretch.last) not in stretches:
                stretches.add((i, stretch.first, stretch.last))
                attempts.append(stretch)
    return attempts


def _shared_pairs(lines: Sequence[Sequence[str]], spoken: Sequence[str]) -> dict[int, list[Pair]]:
    bigrams: dict[tuple[str, str], list[Pair]] = defaultdict(list)
    unigrams: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        if len(line) == 1:
            unigrams[line[0]].append(i)
        for j in range(len(line) - 1):
            bigrams[line[j], line[j + 1]].append((i, j))
    found: dict[int, set[Pair]] = defaultdict(set)
    for p, token in enumerate(spoken):
        for i in unigrams.get(token, ()):
            found[i].add((p, 0))
        if p + 1 < len(spoken):
            for i, j in bigrams.get((token, spoken[p + 1]), ()):
                found[i].update(((p, j), (p + 1, j + 1)))
    return {i: sorted(pairs) for i, pairs in found.items()}


def _chains(pairs: Sequence[Pair], size: int, pause_after: Sequence[float]) -> list[list[Pair]]:
    """Split a line's matches (sorted by spoken index) into runs that move forward on both sides.

    A run does not step over words the line does not have across a pause of
    ``SENTENCE_PAUSE``: "I didn't [pause] seven of clubs even check" is a false start, chatter
    and a take whose first words went unwritten, not one take with three words too many (a
    word heard wrong in a word's place after a pause is still a step). A lone bigram
    inside a long line is dropped: alone it is neither a start nor a take.
    """
    done: list[list[Pair]] = []
    live: list[list[Pair]] = []
    reach = MAX_SKIP + 1
    swept = -1
    for p, j in pairs:
        if p != swept:
            done.extend(chain for chain in live if p - chain[-1][0] > reach)
            live = [chain for chain in live if p - chain[-1][0] <= reach]
            swept = p
        best: list[Pair] | None = None
        best_cost = 0
        for chain in live:
            dp, dj = p - chain[-1][0], j - chain[-1][1]
            paused = dp > dj and max(pause_after[chain[-1][0] : p]) >= SENTENCE_PAUSE
            if 0 < dp <= reach and 0 < dj <= reach and not paused:
                cost = max(dp, dj)
                if best is None or cost < best_cost:
                    best, best_cost = chain, cost
        if best is None:
            live.append([(p, j)])
        else:
            best.append((p, j))
    chains = (chain for chain in done + live if len(chain) > 2 or chain[0][1] == 0 or size <= 4)
    return sorted(chains)


def _without_overlaps(chains: list[list[Pair]]) -> list[list[Pair]]:
    """Of chains sharing spoken tokens, the longest (a repeated phrase inside one take)."""
    kept: list[list[Pair]] = []
    for chain in chains:  # sorted by first spoken token
        if kept and chain[0][0] <= kept[-1][-1][0]:
            if len(chain) > len(kept[-1]):
                kept[-1] = chain
        else:
            kept.append(chain)
    return kept


class _Extender:
    """Grows a chain over the odd unmatched token and measures it against its line."""

    def __init__(
        self,
        line: Sequence[str],
        spoken: Sequence[str],
        pause_after: Sequence[float],
        bounds: tuple[Collection[int], Collection[int], Collection[int]],
        written: Sequence[str],
    ) -> None:
        self.written = written  # the line's tokens as written; ``line`` holds their keys
        self.line = line
        self.spoken = spoken
        self.pause_after = pause_after
        # Spoken tokens that start some line (not absorbed as a tail), that end some line (not
        # absorbed as a head), and that end a sentence as heard (an unsure stretch stops there).
        self.heads, self.tails, self.sentence_ends = bounds

    def grown(self, chain: list[Pair], low: int, high: int) -> list[Pair]:
        """The chain extended match by match both ways, and filled in between.

        ``low``/``high``: spoken indices (exclusive) where neighbouring attempts lie."""
        return self._filled(self._forward(self._backward(chain, low), high))

    def attempt(self, index: int, chain: list[Pair], low: int, high: int) -> Attempt:
        """The attempt a grown chain makes, wrong words at its ends absorbed."""
        size = len(self.line)
        errors = sum(self._gap_cost(a, b) for a, b in pairwise(chain))
        (first, first_j), (last, last_j) = chain[0], chain[-1]
        errors += first_j + size - 1 - last_j
        # Wrong words at either end are still part of the take (the recogniser mangles the odd
        # word): the spoken tokens there are absorbed as wrong words, not as unsaid ones.
        head = 0
        while (
            head < min(first_j, MAX_ABSORB)
            and self._joins(first - head - 1, first - head, low, high)
            and first - head - 1 not in self.tails
            and self._absorbs(first - head - 1, first_j - head - 1, first - head - 1)
        ):
            head += 1
            errors += substitution_cost(self.spoken[first - head], self.written[first_j - head]) - 1
        tail = 0
        while (
            tail < min(size - 1 - last_j, MAX_ABSORB)
            and self._joins(last + tail + 1, last + tail, low, high)
            and last + tail + 1 not in self.heads
            and self._absorbs(last + tail + 1, last_j + tail + 1, last + tail)
        ):
            tail += 1
            errors += substitution_cost(self.spoken[last + tail], self.written[last_j + tail]) - 1
        if last_j + tail == size - 1 and self._runs_on(last + tail, low, high):
            tail += 1  # the recogniser heard the line's end as one word more
            errors += 1
        complete = last_j + tail >= size - 2 and len(chain) >= COMPLETE_COVERAGE * size
        first, last = first - head, last + tail
        return Attempt(index, first, last, size, len(chain), errors, complete)

    def unsure(self, attempt: Attempt, chain: list[Pair], low: int, high: int) -> Attempt | None:
        """An incomplete attempt stretched over the speech around it up to the pauses (or
        the neighbouring takes) either side: where the recogniser garbled a take ("shows us
        to be rising new customers"), its matches break into pieces too short for a take.
        Not stretched back from the line's first word, nor on from its last, nor across the
        end of a sentence as heard. None unless the stretch is about as long as the line and
        holds two of its words."""
        size = len(self.line)
        first, last = attempt.first, attempt.last
        most = round(UNSURE_LENGTH * size) + 1
        while (
            chain[0][1] > 0
            and last - first + 1 < most
            and self._joins(first - 1, first, low, high)
            and first - 1 not in self.tails
            and first - 1 not in self.sentence_ends
        ):
            first -= 1
        while (
            chain[-1][1] < size - 1
            and last - first + 1 < most
            and self._joins(last + 1, last, low, high)
            and (last + 1 not in self.heads or self._alone(last + 1))
            and last not in self.sentence_ends
        ):
            last += 1
        return self._stretch(attempt.line, first, last, attempt.matched)

    def joined(
        self, chain: list[Pair], attempt: Attempt, later: list[Pair], next_attempt: Attempt
    ) -> Attempt | None:
        """Two pieces of one take, the later going on along the line past where the earlier
        stopped, with no long pause between them: the recogniser garbled the middle ("our
        customer masked for an archer, color, so we made one"). A later piece that says again
        words of the earlier (other spoken tokens matching the same line words) is a restart,
        not the rest of one take."""
        restart = later[0][1] <= chain[-1][1] and later[0][0] > chain[-1][0]
        if restart or later[-1][1] <= chain[-1][1] or next_attempt.last <= attempt.last:
            return None
        if self._pause_between(attempt.first, next_attempt.last) >= SENTENCE_PAUSE:
            return None
        matched = len({j for _, j in chain} | {j for _, j in later})
        return self._stretch(attempt.line, attempt.first, next_attempt.last, matched)

    def continued(
        self,
        chain: list[Pair],
        attempt: Attempt,
        low: int,
        later: list[Pair],
        take: Attempt,
        high: int,
    ) -> Attempt | None:
        """A complete take whose beginning the matches left behind as a start of the line
        ("The old | light has still guides ships ..."): the two run on along the line with
        no pause between them, so they are one take, measured whole."""
        head = [(p, j) for p, j in chain if p < later[0][0] and j < later[0][1]]
        if not head or later[-1][1] <= chain[-1][1] or take.first > attempt.last + 1:
            return None
        if self._pause_between(attempt.first, take.first) >= SENTENCE_PAUSE:
            return None
        whole = self.attempt(take.line, head + later, low, high)
        return whole if whole.complete else None

    def _stretch(self, line: int, first: int, last: int, matched: int) -> Attempt | None:
        size = len(self.line)
        length = last - first + 1
        if matched < 2 or length < COMPLETE_COVERAGE * size or length > round(UNSURE_LENGTH * size):
            return None
        errors = float(max(size, length) - matched)
        return Attempt(line, first, last, size, matched, errors, False, unsure=True)

    def _gap_cost(self, a: Pair, b: Pair) -> float:
        """Errors between two matches: wrong tokens paired in order, the rest extra or unsaid."""
        (p, j), (q, k) = a, b
        said, unsaid = q - p - 1, k - j - 1
        wrong = min(said, unsaid)
        cost = float(max(said, unsaid) - wrong)
        for n in range(1, wrong + 1):
            cost += substitution_cost(self.spoken[p + n], self.written[j + n])
        return cost

    def _runs_on(self, p: int, low: int, high: int) -> bool:
        """Whether the sentence as heard runs on one token past spoken token ``p``, the line's
        last: it ends there, with no pause between (``RUN_ON_PAUSE``: "for all those two
        centuries." for "for almost a century.")."""
        return (
            p not in self.sentence_ends
            and p + 1 in self.sentence_ends
            and p + 1 not in self.heads
            and self._joins(p + 1, p, low, high)
            and self.pause_after[p] < RUN_ON_PAUSE
        )

    def _alone(self, p: int) -> bool:
        """Whether spoken token ``p`` is heard alone before a long pause (or the end): a line's
        first word said and nothing after it is as likely the rest of the take before it
        garbled ("try again fail again I" for "... fail better")."""
        return p + 1 == len(self.spoken) or self.pause_after[p] >= SENTENCE_PAUSE

    def _absorbs(self, p: int, j: int, pause: int) -> bool:
        """Whether spoken token ``p`` may be taken for line token ``j`` misheard at the take's
        edge: not when it looks nothing like it and a pause (after token ``pause``) parts it
        from the take ("discussion about | like these days" for "feels like these days")."""
        unlike = substitution_cost(self.spoken[p], self.written[j]) >= 1.0
        return not unlike or self.pause_after[pause] < ABSORB_PAUSE

    def _joins(self, p: int, neighbour: int, low: int, high: int) -> bool:
        """Whether spoken token ``p`` lies in (low, high) with no long pause to ``neighbour``."""
        return low < p < high and self.pause_after[min(p, neighbour)] < SENTENCE_PAUSE

    def _filled(self, chain: list[Pair]) -> list[Pair]:
        """The chain with matches inside its gaps added (bigram seeds miss lone matches)."""
        out = [chain[0]]
        for q, k in chain[1:]:
            p, j = out[-1]
            for x in range(p + 1, q):
                y = next((y for y in range(j + 1, k) if self.spoken[x] == self.line[y]), None)
                if y is not None:
                    out.append((x, y))
                    j = y
            out.append((q, k))
        return out

    def _forward(self, chain: list[Pair], high: int) -> list[Pair]:
        chain = list(chain)
        while (step := self._step(*chain[-1], 1, high)) is not None:
            chain.append(step)
        return chain

    def _backward(self, chain: list[Pair], low: int) -> list[Pair]:
        chain = list(chain)
        while (step := self._step(*chain[0], -1, low)) is not None:
            chain.insert(0, step)
        return chain

    def _step(self, p: int, j: int, direction: int, bound: int) -> Pair | None:
        """The nearest match MAX_SKIP tokens or fewer away, not across a long pause."""
        reach = MAX_SKIP + 1
        for total in range(2, 2 * reach + 1):
            for dp in range(max(1, total - reach), min(reach, total - 1) + 1):
                q, k = p + direction * dp, j + direction * (total - dp)
                if not (0 <= k < len(self.line)) or (q - bound) * direction >= 0:
                    continue
                if self.spoken[q] == self.line[k] and self._pause_between(p, q) < SENTENCE_PAUSE:
                    return q, k
        return None

    def _pause_between(self, p: int, q: int) -> float:
        low, high = min(p, q), max(p, q)
        return max(self.pause_after[low:high], default=0.0)
