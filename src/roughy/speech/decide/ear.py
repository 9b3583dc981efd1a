"""Takes checked by ear. Where a script line's take differs from the line in text, the text
cannot tell whether the recogniser misheard it or the speaker misread it: both readings are
force-aligned to the take's audio (``listen``: ``roughy.speech.hear.align.fit`` on the recording)
and the better fit tells. Pure but for ``listen``, which the caller passes in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from roughy.speech.decide.script import SENTENCE_PAUSE, Attempt, key
from roughy.speech.types import Listen, Word, WordFits

# The script fitting a take's audio within FIT_ACCEPT of the words heard clears it; the words
# heard fitting better by FIT_REJECT convict it. In pocketsphinx's units: one misread word in
# a line moves the fit by 0.05 to 0.5.
FIT_ACCEPT = 0.0
FIT_REJECT = 0.3
# How far into the pause before (or after) a take a word the recogniser left out at its edge
# is listened for.
EDGE_REACH = 0.6
FIT_PAD = 0.05  # seconds of the pauses either side a take is listened to again with
SURE = 0.8  # a word heard with this confidence was said (see ``_Ear._sure_extra_word``)
# Takes of one line compared word by word (``compare_takes``), in log score per 10 ms frame
# (``roughy.speech.hear.align.word_fits``; a word said fits at -0.001 to -0.005): one word fitting
# OUTDONE worse than in another take, which fits nowhere EVEN worse than it, was misread. On
# the tuning clips, against a take read right: 212 of 291 takes with a word read differently
# or left out have a word OUTDONE worse or more; 299 of 312 takes read alike none EVEN worse.
OUTDONE = 0.0035
EVEN = 0.002
# A word aligned to less than JUDGED seconds fits badly however it was said (a quick "to"
# squeezed into the fewest frames its sounds allow): it outdoes a take only SQUEEZED worse (a
# word left out, whose name the aligner squeezed between its neighbours).
JUDGED = 0.07
SQUEEZED = 0.01
# A word aligned to STRETCHED times the seconds of the same word in another take, and STRETCH
# more, covers the sound of another word too (one read in too many, or in place of a short
# one): it outdoes a take if it fits worse at all.
STRETCHED = 3.0
STRETCH = 0.15
COMPARE_PAD = 0.2  # seconds of the pauses either side a take is compared with


@dataclass(frozen=True)
class Heard:
    """What the recogniser heard, as the takes were found in it."""

    spoken: Sequence[str]  # tokens
    items: Sequence[Word]  # words and fillers
    owner: Sequence[int]  # spoken token -> item
    pause_after: Sequence[float]  # spoken token -> silence after it
    # Item -> where the sound before it begins, and where the sound after it ends (unworded
    # sound in the pauses, ``takes._sound_edges``).
    onsets: Sequence[float]
    offsets: Sequence[float]


def listen_to_takes(
    attempts: list[Attempt], lines: Sequence[Sequence[str]], heard: Heard, listen: Listen
) -> list[Attempt]:
    """Takes listened to: unsure stretches that fit the script made complete takes (and, for
    a line with no take at all, the best one that is not clearly something else), restarts
    the recogniser wrote once split from their false starts, and the ``fit`` set on complete
    takes with errors where their line has more than one.

    Whisper mishears a take as easily as a speaker misreads it ("shows us to be rising" for
    "shows a steady rise"), and its slips differ from take to take, so the text alone can
    prefer a take that was misread (and heard right) to one read right (and misheard), or
    miss a take it garbled. Each is aligned to its audio twice, as the script has it and as
    it was heard (``verdict`` weighs the difference).
    """
    ear = _Ear(lines, heard, listen)
    found, doubtful = _listened(attempts, ear)
    complete: dict[int, int] = defaultdict(int)
    for attempt in found:
        complete[attempt.line] += attempt.complete
    # A line with no take at all gets the stretch that fits it best, unless that is clearly
    # something else: better a take garbled past clearing than a line reported never said.
    for line, attempt in doubtful.items():
        if not complete[line]:
            found.append(attempt)
            complete[line] = 1
    return [
        ear.checked(attempt)
        if attempt.fit is None
        and attempt.complete
        and attempt.errors > 0
        and complete[attempt.line] > 1
        else attempt
        for attempt in found
    ]


def _listened(attempts: list[Attempt], ear: _Ear) -> tuple[list[Attempt], dict[int, Attempt]]:
    """The attempts with unsure stretches that fit the script made takes and restarts the
    recogniser wrote once split from their false starts; and by line, the best stretch that
    fits short of clearing (``FIT_ACCEPT``), kept aside."""
    found = []
    doubtful: dict[int, Attempt] = {}
    for attempt in attempts:
        if attempt.unsure:
            better = ear.fit(attempt, sounds=True)
            if better is None or better < -FIT_REJECT:
                continue
            attempt = ear.unwritten_edges(replace(attempt, complete=True, unsure=False, fit=better))
            if better < -FIT_ACCEPT:
                best = doubtful.get(attempt.line)
                if best is None or better > (best.fit or 0.0):
                    doubtful[attempt.line] = attempt
                continue
        if attempt.complete and attempt.last > attempt.first:
            found.extend(ear.restarted(attempt))
        else:
            found.append(attempt)
    return found, doubtful


def compare_takes(
    attempts: Sequence[Attempt], lines: Sequence[Sequence[str]], heard: Heard, fits: WordFits
) -> list[Attempt]:
    """The complete takes of each line that has several, compared word by word as the script
    has them: a take with a word that fits clearly worse than in another take, which fits
    nowhere clearly worse than it, is ``outdone``. Whisper writes a misread word as the script
    has it when the line makes sense that way ("whether it was" for "whether might was"), and
    a word left out or read in too many ("he was was not"); its text cannot tell such a take
    from the one read right, but the script's word aligned to another word's sound can."""
    by_line: dict[int, list[int]] = defaultdict(list)
    for n, attempt in enumerate(attempts):
        if attempt.complete:
            by_line[attempt.line].append(n)
    out = list(attempts)
    for line, ns in by_line.items():
        if len(ns) < 2:
            continue
        scored = {
            n: found for n in ns if (found := fits(*_padded(attempts[n], heard), lines[line]))
        }
        for n, mine in scored.items():
            if any(
                _outdone(mine, theirs) and _worse(theirs, mine) < EVEN
                for m, theirs in scored.items()
                if m != n
            ):
                out[n] = replace(out[n], outdone=True)
    return out


def _padded(attempt: Attempt, heard: Heard) -> tuple[float, float]:
    """The take's span with up to ``COMPARE_PAD`` of the pauses either side: Whisper's edges
    can clip a first or last sound, and a word squeezed into too little audio fits badly."""
    items = heard.items
    first, last = heard.owner[attempt.first], heard.owner[attempt.last]
    start = max(items[first].start - COMPARE_PAD, items[first - 1].end if first else 0.0)
    end = items[last].end + COMPARE_PAD
    if last + 1 < len(items):
        end = min(end, items[last + 1].start)
    return start, end


def _outdone(mine: Sequence[tuple[float, float]], theirs: Sequence[tuple[float, float]]) -> bool:
    """Whether a word of one take fits clearly worse than the same word in another take:
    ``OUTDONE`` worse (``SQUEEZED`` where aligned to less than ``JUDGED``), or worse at all
    where stretched over ``STRETCHED`` times the other's seconds."""
    for (mine_fit, seconds), (their_fit, their_seconds) in zip(mine, theirs, strict=True):
        worse = their_fit - mine_fit
        if worse > (OUTDONE if seconds >= JUDGED else SQUEEZED):
            return True
        stretched = seconds >= STRETCHED * their_seconds and seconds - their_seconds >= STRETCH
        if stretched and worse > 0:
            return True
    return False


def _worse(mine: Sequence[tuple[float, float]], theirs: Sequence[tuple[float, float]]) -> float:
    """How much worse one take's worst word fits than the same word in another take."""
    return max(t - m for (m, _), (t, _) in zip(mine, theirs, strict=True))


class _Ear:
    """Attempts listened to against their lines, over the audio of what was heard."""

    def __init__(self, lines: Sequence[Sequence[str]], heard: Heard, listen: Listen) -> None:
        self.lines = lines
        self.heard = heard
        self.listen = listen

    def fit(
        self, attempt: Attempt, start: float | None = None, sounds: bool = False
    ) -> float | None:
        """The script against the words heard, over their own span (from ``start`` if given;
        with the unworded ``sounds`` in the pauses at either end, if asked): sound in it that
        the recogniser left out would count for the script. Where either reading finds no
        path there, it is listened to again with ``FIT_PAD`` of the pauses either side: the
        recogniser's edges can clip a word's first or last sound. (A take checked for errors,
        ``checked``, is not: with no fit, its text decides.)"""
        items, owner = self.heard.items, self.heard.owner
        first, last = owner[attempt.first], owner[attempt.last]
        if start is None:
            start = self.heard.onsets[first] if sounds else items[first].start
        end = self.heard.offsets[last] if sounds else items[last].end
        said = self.heard.spoken[attempt.first : attempt.last + 1]
        fitted = self.listen(start, end, self.lines[attempt.line], said)
        if fitted is None:
            fitted = self.listen(
                max(0.0, start - FIT_PAD), end + FIT_PAD, self.lines[attempt.line], said
            )
        return fitted

    def unwritten_edges(self, attempt: Attempt) -> Attempt:
        """The take with where its sound begins before its first heard word and ends after
        its last (unworded sound in the pauses there: words the recogniser left out)."""
        first, last = self.heard.owner[attempt.first], self.heard.owner[attempt.last]
        onset, offset = self.heard.onsets[first], self.heard.offsets[last]
        items = self.heard.items
        return replace(
            attempt,
            heard_from=onset if onset < items[first].start else None,
            heard_to=offset if offset > items[last].end else None,
        )

    def restarted(self, attempt: Attempt) -> list[Attempt]:
        """A take with a long pause in it, whose words after the pause the script fits whole:
        Whisper writes a phrase said twice once, so a restart's first words went unwritten
        and the words before the pause are a false start. Where the speaker only paused,
        the script fits the words after it badly: they lack the line's first words. A sound
        in the pause no word covers is listened to with them: the restart's first words may
        lie there unwritten."""
        items, owner, pause_after = self.heard.items, self.heard.owner, self.heard.pause_after
        longest, at = max((pause_after[p], p) for p in range(attempt.first, attempt.last))
        if longest < SENTENCE_PAUSE:
            return [attempt]
        rest = replace(attempt, first=at + 1)
        onset = min(self.heard.onsets[k] for k in range(owner[at] + 1, owner[at + 1] + 1))
        better = self.fit(rest, start=onset)
        if better is None or better < -FIT_ACCEPT:
            return [attempt]
        head = replace(attempt, last=at, complete=False)
        unwritten = onset if onset < items[owner[at + 1]].start else None
        return [
            head,
            replace(rest, matched=rest.size, errors=0.0, fit=better, heard_from=unwritten),
        ]

    def checked(self, attempt: Attempt) -> Attempt:
        """The take listened to twice over: the script against the words heard with the
        line's words the recogniser left out put back (``fit``: did it mishear or was the
        line misread?), and those against the words heard (``omission``: was the sound of
        the words it left out there?)."""
        items, owner = self.heard.items, self.heard.owner
        first, last = owner[attempt.first], owner[attempt.last]
        start, end = items[first].start, items[last].end
        written = self.lines[attempt.line]
        said = list(self.heard.spoken[attempt.first : attempt.last + 1])
        if self._sure_extra_word(attempt, written):
            attempt = replace(attempt, extra=True)
        whole = restored(said, written)
        if whole == said:
            return replace(attempt, fit=self.listen(start, end, written, said))
        # Words left out where a wrong word stands may be in it ("goalscule" for "whole
        # school"): only those left out between words heard right are listened for alone.
        apart = restored(said, written, beside_wrong=False)
        # Words put back before the first word heard or after the last are listened for in
        # the pause there.
        if whole[0] != said[0]:
            start = max(items[first - 1].end if first else 0.0, start - EDGE_REACH)
        if whole[-1] != said[-1]:
            end = min(items[last + 1].start if last + 1 < len(items) else end, end + EDGE_REACH)
        omission = self.listen(start, end, apart, said) if apart != said else None
        return replace(attempt, fit=self.listen(start, end, written, whole), omission=omission)

    def _sure_extra_word(self, attempt: Attempt, written: Sequence[str]) -> bool:
        """Whether the recogniser heard, surely (``SURE``), a word the line does not have
        between the line's words, other than a word said again: an aligner can stretch the
        line's words over the sound of one read in too many, so the ear cannot clear such a
        take."""
        said = self.heard.spoken[attempt.first : attempt.last + 1]
        matcher = SequenceMatcher(
            None, [key(t) for t in said], [key(t) for t in written], autojunk=False
        )
        keys = [key(t) for t in said]
        for op, a0, a1, _, _ in matcher.get_opcodes():
            if op != "delete" or a0 == 0 or a1 == len(said):
                continue
            for p in range(a0, a1):
                repeated = keys[p] in (keys[p - 1], keys[p + 1])  # "ever, ever failed"
                sure = self.heard.items[self.heard.owner[attempt.first + p]].confidence >= SURE
                if sure and not repeated:
                    return True
        return False


def restored(heard: Sequence[str], written: Sequence[str], beside_wrong: bool = True) -> list[str]:
    """The words heard with the line's words that the recogniser left out put back in place
    (unsaid by the text's alignment of the two; wrong words stay as heard, the line's words
    beyond them in a stretch it heard wrongly are put back after them unless not
    ``beside_wrong``)."""
    out: list[str] = []
    matcher = SequenceMatcher(
        None, [key(t) for t in heard], [key(t) for t in written], autojunk=False
    )
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        out.extend(heard[a0:a1])
        if op == "insert" or (op == "replace" and beside_wrong):
            out.extend(written[b0 + a1 - a0 : b1])  # those past the wrong words, in place
    return out


def verdict(attempt: Attempt) -> bool | None:
    """Whether the ear says a take was read right (True) or misread (False); None where it was
    not listened to or cannot tell, and the text decides.

    The script fitting as well as the words heard (with the words the recogniser left out put
    back, ``restored``) clears a take it misheard, unless it heard fewer words than the line
    has, bar one, or the sound of the words it left out is not there: Whisper garbles words
    more often than it drops them. The words heard fitting clearly better convicts a take
    whose misread word the text let pass as a slip ("sixteen" for "fifteen"); so does a word
    left out whose sound is clearly not there, and so does a word that fits clearly worse
    than in another take of the line (``compare_takes``).
    """
    if attempt.outdone:
        return False
    if attempt.fit is None:
        return None
    whole = attempt.last - attempt.first + 1 >= attempt.size - 1 and not attempt.extra
    if attempt.omission is not None:
        whole = whole and attempt.omission >= -FIT_ACCEPT
    if attempt.fit >= -FIT_ACCEPT and whole:
        return True
    if attempt.fit < -FIT_REJECT or (attempt.omission or 0.0) < -FIT_REJECT:
        return False
    return None
