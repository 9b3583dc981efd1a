"""The engine that decides: words (with a script, and the levels, where there are) in, a plan
with a reason for every drop out. Pure: no files, no models, no HTTP. ``plan.decide`` is its
one entry point and lists its steps."""

from roughy.speech.decide.plan import decide

__all__ = ["decide"]
