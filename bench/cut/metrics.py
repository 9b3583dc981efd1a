"""Scores of a cut (kept spans) against a clip's truth (research cut-engine.md §4.2).

Per clip, ``score`` gives counts (numerators and denominators), so sets aggregate by pooling
events across clips (``aggregate``), not by averaging per-clip ratios.

Pauses shortened to the setting (``pause_*``): every silence (a run of ``sil`` events: ``gap``,
``drop`` or long silence) between the first and the last keep event that is longer than the
cut's limit, ``max_pause`` + ``PAUSE_TOLERANCE`` + 2 × ``snap_window`` (CutOptions' defaults:
0.4 + 0.05 + 0.08 = 0.53 s; each cut point may snap by the window, and 50 ms is left for word
edges), counts as shortened when the pause it ends up in is at most that limit: its kept time
plus that of the silences it is joined to across speech the cut removed (a removed filler or
false start between two silences makes them one pause); kept speech ends a pause. Shorter
silences cannot fail, so they are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from truth import (
    BAD_TAKE,
    CHATTER,
    FALSE_START,
    FILLER,
    KEEP,
    LONG_SILENCE,
    NEUTRAL,
    Event,
    Truth,
)

from roughy.speech.types import CutOptions

Span = tuple[float, float]

FULLY_KEPT = 0.98  # a keep event counts as kept with this share of it kept
RESIDUAL_S = 0.06  # a dropped event counts as removed with at most max(this, ...
RESIDUAL_SHARE = 0.10  # ... this share of it) kept
LONG_SILENCE_LEFT = 0.6  # a long silence counts as shortened with at most this kept
KEEP_TOLERANCE = 0.12  # kept time this close to a keep event still counts as precise
INSIDE_SPEECH = 0.05  # a cut this far inside a spoken event is audible
PAUSE_TOLERANCE = 0.05  # a pause counts as shortened with this much over the limit (below)
CATEGORIES = {"filler": FILLER, "false_start": FALSE_START, "bad_take": BAD_TAKE,
              "chatter": CHATTER}  # fmt: skip


def normalised(spans: Iterable[Span], duration: float) -> list[Span]:
    """Sorted, clipped to the clip, touching or overlapping spans joined; plain floats, so
    that no count derived from them is a numpy scalar (the results' JSON writes those as
    strings, which ``aggregate`` then leaves out)."""
    out: list[Span] = []
    for start, end in sorted((max(0.0, float(a)), min(duration, float(b))) for a, b in spans):
        if end <= start:
            continue
        if out and start <= out[-1][1] + 1e-9:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def overlap(spans: Sequence[Span], start: float, end: float) -> float:
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans)


def pause_limit(options: CutOptions | None = None) -> float:
    """The longest pause a cut with ``options`` (default CutOptions()) may leave, tolerance in."""
    options = options or CutOptions()
    return options.max_pause + PAUSE_TOLERANCE + 2 * options.snap_window


def score(spans: Iterable[Span], truth: Truth, options: CutOptions | None = None) -> dict[str, Any]:
    kept = normalised(spans, truth.duration)
    out: dict[str, Any] = {}
    keeps = truth.keep_events()
    fractions = [overlap(kept, e.start, e.end) / e.duration for e in keeps if e.duration > 0]
    out["keep_n"] = len(fractions)
    out["keep_fully"] = sum(f >= FULLY_KEPT for f in fractions)
    templates = [f for e, f in zip(keeps, fractions, strict=True) if e.variant == "template"]
    out["template_keep_n"] = len(templates)  # unscripted: sentences in a run of one template
    out["template_keep_fully"] = sum(f >= FULLY_KEPT for f in templates)
    out["keep_fraction_sum"] = sum(fractions)
    out["keep_clipped"] = [
        {"start": round(e.start, 3), "end": round(e.end, 3), "line": e.script_line,
         "kept": round(f, 3)}
        for e, f in zip(keeps, fractions, strict=True) if f < FULLY_KEPT
    ]  # fmt: skip
    for name, label in CATEGORIES.items():
        events = [e for e in truth.events if e.label == label]
        left = [e for e in events if not _removed(kept, e)]
        out[f"{name}_n"] = len(events)
        out[f"{name}_removed"] = len(events) - len(left)
        out[f"{name}_left"] = [_describe(e, kept) for e in left]
    for source in ("recorded", "espeak"):  # the human set's fillers: which kind was left
        found = [e for e in truth.events if e.label == FILLER and e.variant == source]
        out[f"filler_{source}_n"] = len(found)
        out[f"filler_{source}_removed"] = sum(_removed(kept, e) for e in found)
    repeats = [e for e in truth.events if e.label == BAD_TAKE and e.variant == "repeat"]
    out["repeat_n"] = len(repeats)
    out["repeat_removed"] = sum(_removed(kept, e) for e in repeats)
    cues = [e for e in truth.events if e.label == CHATTER and e.variant == "cue"]
    out["cue_n"] = len(cues)  # unscripted: restart cues ("sorry, let me start again")
    out["cue_removed"] = sum(_removed(kept, e) for e in cues)
    limit = pause_limit(options)
    pauses = long_pauses(kept, truth, limit)
    out["pause_n"] = len(pauses)
    out["pause_shortened"] = sum(left <= limit + 1e-6 for _, _, left in pauses)
    out["pause_left"] = [
        {"start": round(a, 3), "end": round(b, 3), "kept": round(left, 3)}
        for a, b, left in pauses if left > limit + 1e-6
    ][:20]  # fmt: skip
    longs = [e for e in truth.events if e.label == LONG_SILENCE]
    out["long_silence_n"] = len(longs)
    out["long_silence_shortened"] = sum(
        overlap(kept, e.start, e.end) <= LONG_SILENCE_LEFT + 1e-6 for e in longs
    )
    kept_s = sum(b - a for a, b in kept)
    good = normalised(
        [(e.start - KEEP_TOLERANCE, e.end + KEEP_TOLERANCE) for e in keeps]
        + [(e.start, e.end) for e in truth.events if e.label in NEUTRAL],
        truth.duration,
    )
    out["kept_s"] = kept_s
    out["kept_good_s"] = sum(overlap(good, a, b) for a, b in kept)
    out["ideal_s"] = sum(e.duration for e in keeps)
    inside = cuts_inside_speech(kept, truth)
    out["cuts_inside_speech"] = len(inside)
    out["cuts_inside"] = inside[:20]
    return out


def cuts_inside_speech(kept: Sequence[Span], truth: Truth) -> list[dict[str, Any]]:
    """Span edges more than INSIDE_SPEECH inside a spoken event (the clip's ends excepted)."""
    edges = [t for span in kept for t in span if 1e-6 < t < truth.duration - 1e-6]
    spoken = [e for e in truth.events if e.kind == "say"]
    found = []
    for t in edges:
        for e in spoken:
            if e.start + INSIDE_SPEECH < t < e.end - INSIDE_SPEECH:
                found.append({"at": round(t, 3), "label": e.label, "text": e.text,
                              "line": e.script_line})  # fmt: skip
                break
    return found


def long_pauses(
    kept: Sequence[Span], truth: Truth, limit: float
) -> list[tuple[float, float, float]]:
    """Each silence longer than ``limit`` between the first and last keep event: its start and
    end, and the kept time of the pause it is part of in the cut (see the module docstring)."""
    events = truth.events
    keeps = [k for k, e in enumerate(events) if e.label == KEEP]
    found: list[tuple[float, float, float]] = []
    if len(keeps) < 2:
        return found
    runs: list[tuple[float, float]] = []  # the silences of the pause now open
    run: list[Event] = []
    left = 0.0

    def close_run() -> None:
        if run:
            runs.append((run[0].start, run[-1].end))
            run.clear()

    def close_pause() -> None:
        nonlocal left
        close_run()
        found.extend((a, b, left) for a, b in runs if b - a > limit + 1e-9)
        runs.clear()
        left = 0.0

    for event in events[keeps[0] + 1 : keeps[-1]]:
        if event.kind == "sil":
            run.append(event)
            left += overlap(kept, event.start, event.end)
            continue
        close_run()
        if not _removed(kept, event):
            close_pause()
    close_pause()
    return found


def _removed(kept: Sequence[Span], event: Event) -> bool:
    limit = max(RESIDUAL_S, RESIDUAL_SHARE * event.duration)
    return overlap(kept, event.start, event.end) <= limit + 1e-6


def _describe(event: Event, kept: Sequence[Span]) -> dict[str, Any]:
    return {"start": round(event.start, 3), "end": round(event.end, 3), "text": event.text,
            "line": event.script_line, "variant": event.variant,
            "kept": round(overlap(kept, event.start, event.end), 3)}  # fmt: skip


def missing_score(reported: Iterable[int], truth: Truth) -> dict[str, int]:
    """Missing lines: truly missing lines reported, and said lines reported missing."""
    said = set(reported)
    really = set(truth.missing_lines)
    return {"missing_n": len(really), "missing_reported": len(said & really),
            "missing_false": len(said - really)}  # fmt: skip


COUNTS = ("keep_n", "keep_fully", "keep_fraction_sum", "repeat_n", "repeat_removed",
          "long_silence_n", "long_silence_shortened", "kept_s", "kept_good_s", "ideal_s",
          "cuts_inside_speech", "missing_n", "missing_reported", "missing_false",
          "wer_ref_words", "wer_s", "wer_d", "wer_i", "wer_errors", "wer_delta_errors",
          "duration_s", "transcribe_s", "decide_s", "pipeline_s", "clips",
          "filler_recorded_n", "filler_recorded_removed", "filler_espeak_n",
          "filler_espeak_removed", "template_keep_n", "template_keep_fully", "cue_n",
          "cue_removed", "pause_n", "pause_shortened")  # fmt: skip


def aggregate(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pooled totals over clips, and the ratios the table shows."""
    total: dict[str, float] = {}
    keys = list(COUNTS) + [f"{n}_{s}" for n in CATEGORIES for s in ("n", "removed")]
    for result in results:
        for key in keys:
            value = result.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    total["clips"] = len(results)
    total["wer_clips"] = sum("wer_ref_words" in r for r in results)

    def ratio(a: str, b: str) -> float | None:
        return total[a] / total[b] if total.get(b) else None

    out: dict[str, Any] = {"totals": total}
    out["keep_fully_kept"] = ratio("keep_fully", "keep_n")
    out["keep_time_recall"] = ratio("keep_fraction_sum", "keep_n")
    for name in CATEGORIES:
        out[f"{name}_removed"] = ratio(f"{name}_removed", f"{name}_n")
    out["repeat_removed"] = ratio("repeat_removed", "repeat_n")
    out["template_keep_fully_kept"] = ratio("template_keep_fully", "template_keep_n")
    out["cue_removed"] = ratio("cue_removed", "cue_n")
    out["pause_shortened"] = ratio("pause_shortened", "pause_n")
    restarts = total.get("false_start_n", 0) + total.get("bad_take_n", 0)
    out["restart_removed"] = (
        (total.get("false_start_removed", 0) + total.get("bad_take_removed", 0)) / restarts
        if restarts
        else None
    )
    for source in ("recorded", "espeak"):
        out[f"filler_{source}_removed"] = ratio(f"filler_{source}_removed", f"filler_{source}_n")
    out["long_silence_shortened"] = ratio("long_silence_shortened", "long_silence_n")
    out["kept_time_precision"] = ratio("kept_good_s", "kept_s")
    out["cuts_inside_speech"] = total.get("cuts_inside_speech", 0)
    out["output_s"] = total.get("kept_s", 0.0)
    out["ideal_s"] = total.get("ideal_s", 0.0)
    out["missing_reported"] = ratio("missing_reported", "missing_n")
    out["missing_false"] = total.get("missing_false")
    if total.get("wer_ref_words"):
        words = total["wer_ref_words"]
        out["wer"] = total["wer_errors"] / words
        out["wer_delta"] = total.get("wer_delta_errors", 0) / words
        for part in ("s", "d", "i"):
            out[f"wer_{part}"] = total[f"wer_{part}"] / words
    if total.get("duration_s") and total.get("pipeline_s"):
        out["rtf"] = total["pipeline_s"] / total["duration_s"]
        out["transcribe_s"] = total.get("transcribe_s")
        out["decide_s"] = total.get("decide_s")
    return out
