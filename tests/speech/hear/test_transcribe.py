"""The speech front end on clips synthesised with espeak-ng, whose event edges are known exactly."""

from __future__ import annotations

import difflib
import math
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from pocketsphinx import get_model_path

from roughy.speech.decide.ear import EVEN, JUDGED, OUTDONE
from roughy.speech.hear import models
from roughy.speech.hear.align import align, fit, word_fits
from roughy.speech.hear.audio import AudioUnreadable, frame_levels, load_audio
from roughy.speech.hear.g2p import arpabet
from roughy.speech.hear.models import ModelUnavailable, prepare_model
from roughy.speech.hear.transcribe import transcribe, transcribe_file, unheard_speech
from roughy.speech.text import tokens
from roughy.speech.types import SAMPLE_RATE, Transcript, Word

EDGE_TOLERANCE = 0.1
PHRASE_1 = "the quick brown fox jumps over the lazy dog"
PHRASE_2 = "so we will ship"
PHRASE_3 = "the new release on friday"


@dataclass(frozen=True)
class Event:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Clip:
    path: Path
    events: list[Event]  # voiced parts, exact edges


def _speech(text: str, voice: str, work: Path) -> npt.NDArray[np.int16]:
    """``text`` spoken by espeak-ng at 16 kHz, trimmed to its voiced part."""
    raw, converted = work / "raw.wav", work / "16k.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", raw, text], check=True)
    subprocess.run(
        ["sox", raw, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", converted], check=True
    )
    with wave.open(str(converted)) as f:
        pcm = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16)
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 300)
    return pcm[loud[0] : loud[-1] + 1]


def _make_clip(path: Path, layout: list[str | float], voice: str = "en-us") -> Clip:
    """A wav of ``layout``: strings are spoken, numbers are seconds of silence."""
    parts: list[npt.NDArray[np.int16]] = []
    events: list[Event] = []
    at = 0
    for item in layout:
        if isinstance(item, str):
            pcm = _speech(item, voice, path.parent)
            events.append(Event(item, at / SAMPLE_RATE, (at + len(pcm)) / SAMPLE_RATE))
        else:
            pcm = np.zeros(round(item * SAMPLE_RATE), dtype=np.int16)
        parts.append(pcm)
        at += len(pcm)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(SAMPLE_RATE)
        f.writeframes(np.concatenate(parts).tobytes())
    return Clip(path, events)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="module")
def model_dir(work: Path) -> Path:
    return prepare_model("base", work / "models")


@pytest.fixture(scope="module")
def clip(work: Path) -> Clip:
    (work / "en").mkdir()
    # Whisper tends to write the isolated "um" but to drop the "uh" between words.
    layout: list[str | float] = [0.5, PHRASE_1, 1.5, "um", 0.6, PHRASE_2, 0.2, "uh", 0.2, PHRASE_3]
    return _make_clip(work / "en" / "clip.wav", [*layout, 0.5])


@pytest.fixture(scope="module")
def transcript(clip: Clip, model_dir: Path) -> Transcript:
    return transcribe(load_audio(clip.path), model_dir=model_dir, language=None, threads=2)


def _spoken(words: list[Word] | tuple[Word, ...]) -> list[str]:
    return [t for w in words if w.kind == "word" for t in tokens(w.text)]


def _within(words: tuple[Word, ...], event: Event) -> list[Word]:
    return [w for w in words if w.kind == "word" and event.start - 0.3 < w.start < event.end]


def test_words_are_recognised_and_language_detected(transcript: Transcript) -> None:
    assert transcript.language == "en"
    assert transcript.model == "whisper-base+pocketsphinx"
    expected = tokens(f"{PHRASE_1} {PHRASE_2} {PHRASE_3}")
    heard = _spoken(transcript.words)
    matcher = difflib.SequenceMatcher(a=expected, b=heard, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    assert matched / len(expected) >= 0.8, heard
    for word in transcript.words:
        assert len(tokens(word.text)) == 1, word
        assert 0 <= word.start <= word.end <= transcript.duration
        assert 0 <= word.confidence <= 1
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)


def test_word_edges_match_the_speech(clip: Clip, transcript: Transcript) -> None:
    for event in clip.events[::2]:
        inside = _within(transcript.words, event)
        assert abs(inside[0].start - event.start) <= EDGE_TOLERANCE, (inside[0], event)
        assert abs(inside[-1].end - event.end) <= EDGE_TOLERANCE, (inside[-1], event)


@pytest.mark.parametrize("index", [1, 3], ids=["um", "uh"])
def test_a_spoken_filler_is_reported_at_its_time(
    clip: Clip, transcript: Transcript, index: int
) -> None:
    said = clip.events[index]
    fillers = [w for w in transcript.words if w.kind == "filler"]
    overlapping = [f for f in fillers if f.start < said.end and f.end > said.start]
    assert len(overlapping) == 1, fillers
    filler = overlapping[0]
    assert abs(filler.start - said.start) <= 0.15, (filler, said)
    assert filler.end - filler.start >= 0.12
    assert not any(w.kind == "word" and w.start < said.end and w.end > said.start
                   for w in transcript.words)  # fmt: skip


def test_video_container_loads_and_transcribes(clip: Clip, work: Path, model_dir: Path) -> None:
    video = work / "en" / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=160x120:r=10",
         "-i", clip.path, "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", video],
        check=True,
    )  # fmt: skip
    original = load_audio(clip.path)
    decoded = load_audio(video)
    assert decoded.dtype == np.float32 and decoded.ndim == 1
    assert abs(len(decoded) - len(original)) < 0.1 * SAMPLE_RATE
    # Same timeline: the speech lines up within a few milliseconds.
    window = slice(SAMPLE_RATE, 3 * SAMPLE_RATE)
    lags = range(-160, 161)
    score = [float(np.dot(original[window], np.roll(decoded, -lag)[window])) for lag in lags]
    assert abs(lags[int(np.argmax(score))]) <= 32

    transcript, levels = transcribe_file(
        video, model="base", models_dir=model_dir.parent, language="en", threads=2
    )
    assert len(levels) == math.ceil(len(decoded) / (SAMPLE_RATE / 100))
    assert "fox" in _spoken(transcript.words)


def test_speech_under_a_word_stretched_over_it_is_decoded_again(work: Path) -> None:
    """Whisper at times stretches a window's last word over the phrase after it and writes
    nothing for that phrase: the phrase is unheard speech, however long the word says it is."""
    (work / "stretched").mkdir()
    clip = _make_clip(work / "stretched" / "clip.wav", [0.5, PHRASE_1, 2.0, PHRASE_2, 1.0])
    first, second = clip.events
    stretched = Word("four", first.end - 0.3, second.end + 0.5)
    holes = unheard_speech(load_audio(clip.path), [Word("said", first.start, first.end - 0.3),
                                                   stretched])  # fmt: skip
    assert any(start <= second.start + 0.2 and end >= second.end - 0.2 for start, end in holes)
    steps = math.ceil(second.end - first.start)
    tiled = [Word("said", first.start + k, first.start + k + 1.0) for k in range(steps)]
    assert unheard_speech(load_audio(clip.path), tiled) == []


def test_load_audio_refuses_a_file_without_sound(work: Path) -> None:
    silent_video = work / "mute.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "color=c=red:s=64x64:r=5:d=1", "-c:v", "libx264", "-preset", "ultrafast", silent_video],
        check=True,
    )  # fmt: skip
    with pytest.raises(AudioUnreadable):
        load_audio(silent_video)
    (work / "junk.mp3").write_bytes(b"not audio at all" * 100)
    with pytest.raises(AudioUnreadable):
        load_audio(work / "junk.mp3")


def test_a_language_hint_is_honoured(work: Path, model_dir: Path) -> None:
    (work / "de").mkdir()
    clip = _make_clip(
        work / "de" / "clip.wav", [0.3, "Guten Morgen, wie geht es dir heute?", 0.3], voice="de"
    )
    transcript = transcribe(load_audio(clip.path), model_dir=model_dir, language="de", threads=2)
    assert transcript.language == "de"
    assert transcript.model == "whisper-base"  # no English aligner for German
    assert {"guten", "morgen"} <= set(_spoken(transcript.words))


def test_frame_levels_are_rms_per_10_ms() -> None:
    samples = np.concatenate(
        [np.full(160, 0.5, dtype=np.float32), np.zeros(160, np.float32), np.ones(40, np.float32)]
    )
    levels = frame_levels(samples)
    assert levels.dtype == np.float32
    np.testing.assert_allclose(levels, [0.5, 0.0, 1.0], atol=1e-6)
    assert len(frame_levels(np.zeros(0, np.float32))) == 0


def test_alignment_never_loses_words() -> None:
    words = [Word("Hello,", 0.2, 0.6), Word("Roughy", 0.7, 1.2), Word("world.", 1.3, 1.8)]
    aligned = align(np.zeros(2 * SAMPLE_RATE, dtype=np.float32), words)
    assert [w.text for w in aligned if w.kind == "word"] == ["Hello,", "Roughy", "world."]


def test_the_ear_tells_a_misread_word_from_a_misheard_one(work: Path) -> None:
    """``fit`` on real speech: the words actually said fit better than a one-word change."""
    steady = "the quarterly report shows a steady rise in new customers"
    nearly = "the quarterly report shows a nearly rise in new customers"
    for said, other in ((steady, nearly), (nearly, steady)):
        clip = _make_clip(work / "ear.wav", [0.3, said, 0.3])
        samples = load_audio(clip.path)
        end = len(samples) / SAMPLE_RATE
        # Script as said, heard wrong: the script fits better; and the other way round.
        assert (better := fit(samples, 0.0, end, said.split(), other.split())) is not None
        assert better > 0
        assert (worse := fit(samples, 0.0, end, other.split(), said.split())) is not None
        assert worse == pytest.approx(-better)  # the same however often it listened before
    assert fit(samples, 0.0, end, [], said.split()) is None  # nothing to align
    assert fit(samples, 1.0, 1.0, said.split(), said.split()) is None  # no audio


def test_a_misread_word_fits_the_script_worse_than_the_same_word_read_right(work: Path) -> None:
    """``word_fits`` on real speech: the script aligned to a take read right and to one with
    "nearly" said for "steady". There, "steady" fits clearly worse (``ear.OUTDONE``) than in
    the take read right; no word of the take read right fits clearly worse (``ear.EVEN``)."""
    said_right = "the quarterly report shows a steady rise in new customers"
    misread = said_right.replace("steady", "nearly")
    script = tokens(said_right)
    fits, spoken = [], []
    for said in (said_right, misread):
        clip = _make_clip(work / "compare.wav", [0.3, said, 0.3])
        spoken.append(clip.events[0].end - clip.events[0].start)
        samples = load_audio(clip.path)
        found = word_fits(samples, 0.0, len(samples) / SAMPLE_RATE, script)
        assert found is not None and len(found) == len(script)
        fits.append(found)
    right, wrong = fits
    steady = script.index("steady")
    assert right[steady][0] - wrong[steady][0] > OUTDONE
    assert wrong[steady][1] >= JUDGED
    assert all(w - r < EVEN for (r, _), (w, _) in zip(right, wrong, strict=True))
    # The words' seconds are the speech's, not the pauses around it.
    assert sum(seconds for _, seconds in right) == pytest.approx(spoken[0], abs=0.1)
    assert word_fits(samples, 0.0, 1.0, []) is None  # nothing to align
    assert word_fits(samples, 1.0, 1.0, script) is None  # no audio


def test_g2p_gives_phones_the_aligner_knows() -> None:
    dictionary = Path(get_model_path("en-us/cmudict-en-us.dict")).read_text()
    known = {phone for line in dictionary.splitlines() for phone in line.split()[1:]}
    for word in ("sourdough", "roughy", "kubernetes", "café", "nguyen"):
        phones = arpabet(word)
        assert phones and set(phones) <= known, (word, phones)


def test_model_preparation_verifies_hashes(work: Path, model_dir: Path) -> None:
    model_bin = model_dir / "model.bin"
    size = model_bin.stat().st_size
    with model_bin.open("r+b") as f:
        f.seek(size // 2)
        f.write(b"\0" * 64)
    assert prepare_model("base", model_dir.parent) == model_dir
    assert models._sha256(model_bin) == models.BASE_SHA256
    assert model_bin.stat().st_size == size

    with pytest.raises(ModelUnavailable):
        prepare_model(str(work / "no-such-model"), work)


def test_a_hash_mismatch_is_refused(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "TINY_EN_SHA256", "0" * 64)
    with pytest.raises(ModelUnavailable, match="sha256"):
        prepare_model("tiny.en", work / "refused")
    monkeypatch.undo()
    assert (prepare_model("tiny.en", work / "tiny") / "model.bin").is_file()


def test_two_processes_preparing_at_once_agree(work: Path) -> None:
    target = work / "concurrent"
    code = "import sys; from pathlib import Path; "
    code += "from roughy.speech.hear.models import prepare_model; "
    code += "print(prepare_model('base', Path(sys.argv[1])))"
    runs = [
        subprocess.Popen([sys.executable, "-c", code, target], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = {run.communicate(timeout=120)[0].strip() for run in runs}
    assert all(run.returncode == 0 for run in runs)
    assert outputs == {str(target / "whisper-base")}
    assert models._sha256(target / "whisper-base" / "model.bin") == models.BASE_SHA256
    assert not [p for p in (target / "whisper-base").iterdir() if p.name.endswith(".tmp")]
