"""What Roughy got wrong in a results file, clip by clip, and the patterns behind it.

    .venv/bin/python bench/cut --explain bench/cut/.cache/results-synthetic-<time>.json

For every clip with a clipped keep take, a cut inside speech, a drop left in, a long pause
left, or a wrong missing-line report: the truth events and Roughy's decisions around it. Then
counts of the causes that can be told apart from the plan and the transcript alone (for the
unscripted talks also: why a good sentence was lost, whether it was a template neighbour, and
what a pause left too long lay between).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from metrics import CATEGORIES
from truth import Truth

WINDOW = 1.0  # seconds of context around each problem


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def explain(path: Path, verbose: bool = True) -> dict[str, Any]:
    record = json.loads(path.read_text())
    causes: Counter[str] = Counter()
    import sets

    made = record.get("set_version")
    if made is not None and made != sets.VERSIONS[record["set"]]:
        now = sets.VERSIONS[record["set"]]
        raise SystemExit(f"{path}: made on {record['set']} version {made}; the bench now "
                         f"makes version {now}, whose truths differ")  # fmt: skip
    for clip in record["clips"]:
        plan = clip["methods"].get("roughy")
        if not plan:
            continue
        truth = sets.clip_for(clip["set"], clip["seed"]).truth
        words = plan["words"]
        decisions = plan["decisions"]
        problems: list[tuple[float, float, str]] = []
        for k in plan["keep_clipped"]:
            problems.append((k["start"], k["end"], f"keep line {k['line']} kept {k['kept']:.0%}"))
        for c in plan["cuts_inside"]:
            problems.append((c["at"], c["at"], f"cut inside {c['label']} '{c['text']}'"))
        for name in CATEGORIES:
            for e in plan[f"{name}_left"]:
                problems.append((e["start"], e["end"], f"{name} left in: '{e['text']}'"))
        said = set(range(1, len(truth.script) + 1)) - set(truth.missing_lines)
        for p in plan.get("pause_left", []):
            problems.append((p["start"], p["end"], f"pause kept {p['kept']:.2f} s"))
        if truth.meta.get("mode") == "unscripted":
            _talk_causes(truth, plan, causes)
        for line in sorted(set(plan.get("missing_lines", [])) & said):
            causes["said line reported missing"] += 1
            keeps = [e for e in truth.events if e.label == "keep" and e.script_line == line]
            if keeps:
                problems.append((keeps[0].start, keeps[-1].end, f"line {line} reported missing"))
        # Causes that the transcript shows.
        for e in truth.events:
            heard = [w for w in words if _overlap(w["start"], w["end"], e.start, e.end) > 0]
            if e.label == "keep" and not heard:
                causes["keep take with no word heard"] += 1
            if e.label == "keep":
                fillers = [d for d in decisions if d["kind"] == "filler" and
                           _overlap(d["start"], d["end"], e.start, e.end) >
                           0.5 * (d["end"] - d["start"])]  # fmt: skip
                causes["filler found inside a keep take (false filler)"] += len(fillers)
            found = any(d["kind"] == "filler" and _overlap(d["start"], d["end"], e.start, e.end) > 0
                        for d in decisions)  # fmt: skip
            if e.label == "drop:filler" and not found:
                causes["real filler not found as a filler"] += 1
        for c in plan["cuts_inside"]:
            event = next(
                (e for e in truth.events if e.kind == "say" and e.start < c["at"] < e.end), None
            )
            if event is None:
                continue
            edge = min(c["at"] - event.start, event.end - c["at"])
            causes["cut inside speech <= 150 ms from its edge" if edge <= 0.15
                   else "cut inside speech > 150 ms from its edge"] += 1  # fmt: skip
        if verbose and problems:
            meta = clip["meta"]
            print(f"== {clip['set']} seed {clip['seed']} ({clip['duration']:.0f} s"
                  + "".join(f", {k}={meta[k]}" for k in ("voice", "noise_snr_db", "drift_db",
                                                        "video") if meta.get(k))
                  + ")")  # fmt: skip
            for start, end, what in sorted(problems):
                print(f"  {start:7.2f}-{end:7.2f} {what}")
                for e in truth.events:
                    if e.kind == "say" and e.end > start - WINDOW and e.start < end + WINDOW:
                        print(f"      truth {e.start:7.2f}-{e.end:7.2f} {e.label:17} "
                              f"{e.variant or '':16} {e.text}")  # fmt: skip
                heard = [
                    f"{d['text'] if d['text'] else '·'}{'' if d['keep'] else '✗'}"
                    for d in decisions
                    if d["kind"] != "pause"
                    and d["end"] > start - WINDOW
                    and d["start"] < end + WINDOW
                ]
                print(f"      roughy {' '.join(heard)}")  # fmt: skip
    if verbose:
        print("\ncauses:")
        for cause, count in causes.most_common():
            print(f"  {count:4d}  {cause}")
    return dict(causes)


def _talk_causes(truth: Truth, plan: dict[str, Any], causes: Counter[str]) -> None:
    """The unscripted talks' misses by kind, from the truth, the plan's decisions and words."""
    decisions = plan["decisions"]
    words = plan["words"]
    templates = truth.meta.get("templates") or [None] * len(truth.script)

    def run_of(line: int) -> str:
        name = templates[line - 1]
        before = line > 1 and templates[line - 2] == name and name is not None
        after = line < len(templates) and templates[line] == name and name is not None
        if after:
            return "a template sentence, the next one of its run after it"
        if before:
            return "a template sentence, the last of its run"
        return "an ordinary sentence" if name is None else "a template sentence alone"

    for k in plan["keep_clipped"]:
        dropped = [d for d in decisions if not d["keep"] and d["kind"] == "word"
                   and _overlap(d["start"], d["end"], k["start"], k["end"]) > 0]  # fmt: skip
        reasons = Counter(d["reason"] for d in dropped)
        heard = [w for w in words if _overlap(w["start"], w["end"], k["start"], k["end"]) > 0]
        if k["kept"] < 0.5 and reasons:
            why = f"dropped as {reasons.most_common(1)[0][0]}"
        elif not heard:
            why = "not heard"
        else:
            why = "clipped at an edge" if k["kept"] >= 0.5 else "dropped"
        causes[f"good sentence {why}: {run_of(k['line'])}"] += 1
    for name, what in (("false_start", "false start"), ("bad_take", "retake")):
        for e in plan[f"{name}_left"]:
            heard = [w for w in words if _overlap(w["start"], w["end"], e["start"], e["end"]) > 0]
            line = e["line"]
            kind = run_of(line) if line else "?"
            causes[f"{what} left in{'' if heard else ' (no word heard)'}: {kind}"] += 1
    if plan["chatter_left"]:
        causes["restart cue left in"] += len(plan["chatter_left"])
    for p in plan.get("pause_left", []):
        before = max((e for e in truth.events if e.kind == "say" and e.end <= p["start"] + 2e-3),
                     key=lambda e: e.end, default=None)  # fmt: skip
        after = min((e for e in truth.events if e.kind == "say" and e.start >= p["end"] - 2e-3),
                    key=lambda e: e.start, default=None)  # fmt: skip
        labels = "/".join(e.label if e else "-" for e in (before, after))
        causes[f"pause left too long ({labels})"] += 1
