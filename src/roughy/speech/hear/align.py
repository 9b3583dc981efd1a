"""Tighten Whisper's word edges and find the fillers it dropped, with pocketsphinx.

Whisper's words are force-aligned, one chunk of at most ``MAX_CHUNK`` seconds at a time
(pocketsphinx fails on long stretches), with the grammar ``[<f>] w1 [<f>] w2 … [<f>]`` where
``<f>`` is a hesitation. The aligner moves each word to where it was said and reports the
hesitations it heard between them. A chunk that cannot be aligned keeps Whisper's words.
English only: the bundled acoustic model is US English.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from pocketsphinx import Decoder

from roughy.speech.hear.audio import Samples, Sound, sound_of
from roughy.speech.hear.g2p import G2PUnavailable, arpabet
from roughy.speech.text import tokens
from roughy.speech.types import ALIGNER_FILLER_CONFIDENCE, FRAME_SECONDS, SAMPLE_RATE, Word

ALIGNED_LANGUAGES = frozenset({"en"})  # what the bundled acoustic model hears
MAX_CHUNK = 25.0  # seconds of words per alignment; pocketsphinx gives up on much longer ones
SPLIT_GAP = 1.5  # a pause this long always ends a chunk
DRIFT = 0.5  # an aligned word this far outside Whisper's span of it was misplaced
MIN_SPLIT_GAP = 0.2  # a chunk aligned in two halves splits at a pause at least this long
PAD = 1.0  # audio aligned before a chunk's first and after its last word, within the gap
FILLER_WORDS = ("uh", "um", "ah", "er", "hmm")
# Prior of a hesitation in each gap between words. Small on purpose: with an even prior the
# aligner also "hears" fillers in the unstressed syllables of words Whisper got slightly wrong
# (9 such of at least 0.12 s in a 65 s espeak-ng clip); from 1e-25 to 1e-37 it found every
# real one in two such clips and nothing else, and below 1e-45 it starts missing real ones.
FILLER_PRIOR = 1e-33
# Prior of a silence between words (pocketsphinx's default is 0.005). At the default, a short
# word after a pause ("again. [1 s] The quick") was pulled back onto the tail of the word
# before it, and the cut then kept that tail; 0.1 puts it where it was said.
SILENCE_PRIOR = 0.1
FILLER_CONFIDENCE = ALIGNER_FILLER_CONFIDENCE  # pocketsphinx gives no useful posterior here
MIN_FILLER = 0.06  # shorter aligner fillers are noise

_SOFT = 0.02  # sound above this fraction of a word's peak still belongs to it
_DIP = 0.08  # quiet this long inside a word (a stop's closure) does not end it
_REACH = 0.25  # an edge moves at most this far
_TOUCHING = 0.03  # fillers closer than this are one hesitation
_FRAME_RATE = 100  # pocketsphinx frames per second
_PLAIN = re.compile(r"[a-z][a-z']*")
_SEARCH = "roughy-align"
_FIT = "roughy-fit"
_PRIME = "roughy-prime"
_local = threading.local()


@dataclass(frozen=True)
class _Chunk:
    words: Sequence[Word]
    start: float  # audio aligned, seconds
    end: float


def align(source: Samples | Sound, words: Sequence[Word]) -> list[Word]:
    """``words`` (time-ordered, one normalised token each) with aligned edges, plus fillers.

    Each chunk's audio is read from ``source`` on its own (a ``Recording`` is never loaded
    whole), and the edges are widened over its levels.

    Each recording starts from the decoder's first cepstral mean, not from where the last
    recording this thread aligned left it: the same recording aligns the same way whatever
    the worker did before.
    """
    _decoder().set_cmn(_local.first_mean)
    sound = sound_of(source)
    duration = sound.length / SAMPLE_RATE
    out: list[Word] = []
    todo = _chunks(words, duration)[::-1]
    while todo:
        chunk = todo.pop()
        aligned = _align_chunk(sound, chunk)
        halves = _split(chunk) if aligned is not None and _drifted(chunk, aligned) else None
        if halves is not None:
            todo.extend(halves[::-1])
        else:
            out.extend(chunk.words if aligned is None else aligned)
    return _widen(out, sound.levels())


def fit(
    source: Samples | Sound,
    start: float,
    end: float,
    written: Sequence[str],
    heard: Sequence[str],
) -> float | None:
    """How much better the tokens ``written`` (a script line) account for the audio of
    [start, end] than the tokens ``heard`` there (what the recogniser wrote): the difference
    of their forced alignments' log scores. Above 0 the script fits better: the recogniser
    misheard a take read right. None when either will not align.

    Both are aligned to the same audio, word after word with nothing else allowed between
    them (a hesitation would also soak up a word read in too many), so the scores compare;
    their scale is pocketsphinx's (a misread word in a 3 s line moves it by 0.05 to 0.5).
    """
    first, last = round(max(0.0, start) * SAMPLE_RATE), round(end * SAMPLE_RATE)
    if last <= first:
        return None
    pcm = _pcm16(sound_of(source).read(first, last))
    _prime(pcm)
    written_score = _score(pcm, written)
    heard_score = _score(pcm, heard)
    if written_score is None or heard_score is None:
        return None
    return written_score - heard_score


def word_fits(
    source: Samples | Sound, start: float, end: float, written: Sequence[str]
) -> list[tuple[float, float]] | None:
    """How well each of the tokens ``written`` accounts for its own part of the audio of
    [start, end] when all are force-aligned to it in order: the natural log of its acoustic
    score per 10 ms frame, against the best-matching sound at each frame (0 is a perfect fit,
    a word said fits at about -0.001 to -0.005), and the seconds aligned to it. None when they
    will not align.

    Two takes of one line compare word by word: a word misread in one of them, which the
    recogniser wrote as the script has it, fits clearly worse there than in the other.
    """
    first, last = round(max(0.0, start) * SAMPLE_RATE), round(end * SAMPLE_RATE)
    if last <= first or not written:
        return None
    pcm = _pcm16(sound_of(source).read(first, last))
    _prime(pcm)
    forced = _forced(pcm, written)
    if forced is None:
        return None
    fits = [
        (math.log(ascore) / frames, frames / _FRAME_RATE)
        for entry, first_frame, last_frame, ascore in forced.segments
        if entry in forced.entries and ascore > 0 and (frames := last_frame - first_frame + 1) > 0
    ]
    return fits if len(fits) == len(written) else None


@dataclass(frozen=True)
class _Forced:
    """Words force-aligned to audio in order (``_forced``)."""

    entries: Sequence[str]  # the dictionary entries aligned
    score: float  # the best path's score
    segments: Sequence[tuple[str, int, int, float]]  # entry, first frame, last frame, ascore


def _forced(pcm: bytes, words: Sequence[str]) -> _Forced | None:
    """``words`` aligned to ``pcm`` by the batch decoder, one after another with nothing but
    silence between them; None when a word has no dictionary entry or no path is found."""
    decoder = _decoder(batch=True)
    symbols = [_symbol(decoder, word) for word in words]
    entries = [s for s in symbols if s is not None]
    if not entries or len(entries) != len(symbols):
        return None
    try:
        _decode(decoder, _FIT, _sequence(entries), pcm)
        hypothesis = decoder.hyp()
        segments = [
            (_entry(s.word), s.start_frame, s.end_frame, s.ascore) for s in decoder.seg() or ()
        ]
    except (RuntimeError, ValueError):
        return None
    if hypothesis is None or not hypothesis.score > 0:
        return None
    return _Forced(entries, hypothesis.score, segments)


def _entry(name: str) -> str:
    """A segment's dictionary entry, without its pronunciation's number ("didn't(4)")."""
    return re.sub(r"\(\d+\)$", "", name)


def _prime(pcm: bytes) -> None:
    """Run the audio through the batch decoder once, with a one-word grammar (cheap): some of
    the decoder's state carries over from the utterance before, and a fit must not depend on
    what was listened to last."""
    decoder = _decoder(batch=True)
    try:
        _decode(decoder, _PRIME, _sequence(["a"]), pcm)
    except (RuntimeError, ValueError):
        return


def _score(pcm: bytes, words: Sequence[str]) -> float | None:
    """The natural log of the best path's score aligning ``words`` to ``pcm``."""
    forced = _forced(pcm, words)
    return math.log(forced.score) if forced is not None else None


def _drifted(chunk: _Chunk, aligned: Sequence[Word]) -> bool:
    """Whether the aligner moved a word far from where Whisper heard it.

    Whisper's edges are rough (a few tenths of a second), but a word moved further than
    ``DRIFT`` away from its whole span was put on someone else's sound: typically a short word
    after a pause pulled back onto the tail of the word before it.
    """
    heard = iter(chunk.words)
    for word in aligned:
        if word.kind != "word":
            continue
        whisper = next(heard)
        if word.end < whisper.start - DRIFT or word.start > whisper.end + DRIFT:
            return True
    return False


def _split(chunk: _Chunk) -> tuple[_Chunk, _Chunk] | None:
    """The chunk in two at its widest pause, each aligned on its own side of the middle."""
    words = chunk.words
    gaps = [(words[i + 1].start - words[i].end, i + 1) for i in range(len(words) - 1)]
    widest, at = max(gaps, default=(0.0, 0))
    if widest < MIN_SPLIT_GAP:
        return None
    middle = (words[at - 1].end + words[at].start) / 2
    return _Chunk(words[:at], chunk.start, middle), _Chunk(words[at:], middle, chunk.end)


def _widen(words: list[Word], levels: npt.NDArray[np.float32]) -> list[Word]:
    """Stretch edges that face a pause over the quiet sound the aligner gives to silence.

    The aligner ends a word before a pause too early when the word ends softly (the release
    of a final "p", a trailing "s"); cutting there clips it. An edge moves outwards over
    frames louder than ``_SOFT`` of the word's own peak, across dips of at most ``_DIP``
    (a stop's closure), by at most ``_REACH``, and never into the neighbouring word.
    """
    out = list(words)
    frames = len(levels)
    for i, word in enumerate(out):
        first = min(int(word.start / FRAME_SECONDS), frames)
        last = min(max(int(np.ceil(word.end / FRAME_SECONDS)), first + 1), frames)
        if first >= last:
            continue
        floor = float(levels[first:last].max()) * _SOFT
        before = out[i - 1].end if i else 0.0
        after = words[i + 1].start if i + 1 < len(words) else frames * FRAME_SECONDS
        start = _reach(levels, first - 1, -1, floor, max(before, word.start - _REACH))
        end = _reach(levels, last, 1, floor, min(after, word.end + _REACH))
        out[i] = replace(word, start=min(word.start, start), end=max(word.end, end))
    return out


def _reach(
    levels: npt.NDArray[np.float32], frame: int, step: int, floor: float, limit: float
) -> float:
    """The far edge of sound above ``floor`` from ``frame`` outwards, not past ``limit``."""
    edge = (frame - step + (1 if step < 0 else 0)) * FRAME_SECONDS
    quiet = 0
    while 0 <= frame < len(levels) and quiet * FRAME_SECONDS <= _DIP:
        if (step > 0 and (frame + 1) * FRAME_SECONDS > limit) or (
            step < 0 and frame * FRAME_SECONDS < limit
        ):
            break
        if levels[frame] > floor:
            edge = (frame + 1) * FRAME_SECONDS if step > 0 else frame * FRAME_SECONDS
            quiet = 0
        else:
            quiet += 1
        frame += step
    return edge


def _chunks(words: Sequence[Word], duration: float) -> list[_Chunk]:
    groups: list[Sequence[Word]] = []
    todo = [words] if words else []
    while todo:
        group = todo.pop()
        gaps = [(group[i + 1].start - group[i].end, i + 1) for i in range(len(group) - 1)]
        widest, at = max(gaps, default=(0.0, 0))
        if gaps and (widest >= SPLIT_GAP or group[-1].end - group[0].start > MAX_CHUNK):
            todo.extend([group[at:], group[:at]])
        else:
            groups.append(group)
    chunks: list[_Chunk] = []
    for i, group in enumerate(groups):
        low = (groups[i - 1][-1].end + group[0].start) / 2 if i else 0.0
        high = (group[-1].end + groups[i + 1][0].start) / 2 if i + 1 < len(groups) else duration
        start = max(low, group[0].start - PAD, 0.0)
        end = min(high, group[-1].end + PAD, duration)
        chunks.append(_Chunk(group, start, max(end, start)))
    return chunks


def _align_chunk(sound: Sound, chunk: _Chunk) -> list[Word] | None:
    decoder = _decoder()
    symbols: list[str] = []
    for word in chunk.words:
        symbol = _symbol(decoder, word.text)
        if symbol is None:
            return None
        symbols.append(symbol)
    grammar = _grammar(symbols)
    first = round(chunk.start * SAMPLE_RATE)
    last = round(chunk.end * SAMPLE_RATE)
    pcm = _pcm16(sound.read(first, last))
    try:
        _decode(decoder, _SEARCH, grammar, pcm)
        segments = [(_entry(s.word), s.start_frame, s.end_frame) for s in decoder.seg() or ()]
    except (RuntimeError, ValueError):
        return None
    return _assign(chunk, symbols, segments, first / SAMPLE_RATE)


def _grammar(symbols: list[str]) -> str:
    body = " ".join(f"<o> {s}" for s in symbols)
    return (
        "#JSGF V1.0;\ngrammar roughy;\n"
        f"public <utt> = {body} <o>;\n"
        f"<o> = /{1 - FILLER_PRIOR}/ <NULL> | /{FILLER_PRIOR}/ <f>;\n"
        f"<f> = {' | '.join(FILLER_WORDS)};\n"
    )


def _decode(decoder: Decoder, name: str, grammar: str, pcm: bytes) -> None:
    """``pcm`` through ``decoder`` as one whole utterance, under the JSGF ``grammar``."""
    decoder.add_jsgf_string(name, grammar)
    decoder.activate_search(name)
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def _sequence(symbols: list[str]) -> str:
    """The words in order, nothing between them but the silence pocketsphinx always allows."""
    return f"#JSGF V1.0;\ngrammar roughy;\npublic <utt> = {' '.join(symbols)};\n"


def _pcm16(samples: npt.NDArray[np.float32]) -> bytes:
    """16-bit PCM with ±1 LSB of dither: runs of exact zeros (digital silence) derail the
    aligner's feature normalisation and it then finds no path at all."""
    dither = np.random.default_rng(0).integers(-1, 2, len(samples))
    scaled = np.clip(samples, -1.0, 1.0) * 32766.0 + dither
    return scaled.astype("<i2").tobytes()


def _assign(
    chunk: _Chunk,
    symbols: list[str],
    segments: list[tuple[str, int, int]],
    offset: float,
) -> list[Word] | None:
    """Match the aligner's segments to the expected words; None unless they match exactly."""
    out: list[Word] = []
    next_word = 0
    for name, first_frame, last_frame in segments:
        start = offset + first_frame / _FRAME_RATE
        end = offset + (last_frame + 1) / _FRAME_RATE
        if next_word < len(symbols) and name == symbols[next_word]:
            _add(out, replace(chunk.words[next_word], start=start, end=end), heard=True)
            next_word += 1
        elif name in FILLER_WORDS:
            _add(out, Word(name, start, end, "filler", FILLER_CONFIDENCE), heard=False)
        elif not (name.startswith(("<", "[", "+")) or name == "(NULL)"):
            return None
    if next_word != len(symbols):
        return None
    return [w for w in out if w.kind == "word" or w.end - w.start >= MIN_FILLER]


def _add(out: list[Word], word: Word, *, heard: bool) -> None:
    """Append, merging touching fillers: the aligner often splits one "um" into "ah" + "um".

    ``heard`` marks a filler Whisper transcribed; its text and confidence win a merge.
    """
    previous = out[-1] if out else None
    if (
        previous is None
        or previous.kind != "filler"
        or word.kind != "filler"
        or word.start - previous.end > _TOUCHING
    ):
        out.append(word)
        return
    keep = word if heard else previous
    out[-1] = replace(keep, start=previous.start, end=word.end)


def _symbol(decoder: Decoder, text: str) -> str | None:
    """The dictionary entry standing for ``text``, adding one from espeak-ng when missing."""
    normal = tokens(text, "en")
    if len(normal) != 1:
        return None
    token = normal[0]
    symbol = token if _PLAIN.fullmatch(token) else "x" + hashlib.sha1(token.encode()).hexdigest()
    if decoder.lookup_word(symbol) is not None:
        return symbol
    try:
        phones = arpabet(token)
    except G2PUnavailable:
        return None
    if not phones:
        return None
    decoder.add_word(symbol, " ".join(phones), True)
    return symbol


def _decoder(*, batch: bool = False) -> Decoder:
    """One decoder per thread and kind: pocketsphinx decoders are not safe to share.

    The aligner's carries its cepstral mean from one chunk to the next (a long recording's
    chunks share a room and a voice). ``batch`` decoders take each utterance's own mean, so
    that two alignments of the same audio (``fit``) start from the same place.
    """
    name = "batch_decoder" if batch else "decoder"
    decoder: Decoder | None = getattr(_local, name, None)
    if decoder is None:
        # bestpath=False: the lattice pass can return a path that leaves the grammar.
        decoder = Decoder(
            lm=None,
            beam=1e-100,
            pbeam=1e-100,
            wbeam=1e-80,
            bestpath=False,
            silprob=SILENCE_PRIOR,
            cmn="batch" if batch else "live",
            loglevel="FATAL",
        )
        setattr(_local, name, decoder)
        if not batch:
            _local.first_mean = decoder.get_cmn()
    return decoder
