"""The first chunk of an upload must show audio or video, whoever stores it."""

from __future__ import annotations

from roughy.media.sniff import MIN_HEAD_BYTES, SNIFF_BYTES, MediaFormat, sniff


class Refused(Exception):
    """The first chunk is not media we accept."""


def judge_head(head: bytes) -> MediaFormat:
    if len(head) < MIN_HEAD_BYTES:
        raise Refused(
            f"The first chunk must carry at least {MIN_HEAD_BYTES} bytes so the format can be "
            "checked; the upload was cancelled."
        )
    media = sniff(head[:SNIFF_BYTES])
    if media is None:
        raise Refused(
            "The first chunk is not a supported audio or video format; the upload was cancelled."
        )
    return media
