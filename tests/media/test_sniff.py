"""Format sniffing against real files made by ffmpeg, plus non-media and hostile input."""

import random
import shutil
import struct
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roughy.media.sniff import MIN_HEAD_BYTES, SNIFF_BYTES, MediaFormat, sniff

AUDIO_IN = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2"]
LONG_AUDIO_IN = ["-f", "lavfi", "-i", "sine=frequency=440:duration=10"]
VIDEO_IN = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2", *AUDIO_IN]
QCIF_IN = ["-f", "lavfi", "-i", "testsrc=size=176x144:rate=10:duration=2", *AUDIO_IN]
H264_AAC = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
VP8 = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]
NO_ID3 = ["-id3v2_version", "0", "-write_id3v1", "0"]
FASTSTART = ["-movflags", "+faststart"]

# name -> (output file, ffmpeg arguments between the inputs and the output)
FFMPEG_SAMPLES: dict[str, tuple[str, list[str]]] = {
    "mp4": ("v.mp4", [*VIDEO_IN, *H264_AAC, *FASTSTART, "-f", "mp4"]),
    "mp4-audio-only": ("a.mp4", [*AUDIO_IN, "-c:a", "aac", *FASTSTART, "-f", "mp4"]),
    "mp4-audio-moov-at-end": ("late.mp4", [*LONG_AUDIO_IN, "-c:a", "aac", "-f", "mp4"]),
    "m4a": ("a.m4a", [*AUDIO_IN, "-c:a", "aac", "-f", "ipod"]),
    "m4v": ("v.m4v", [*VIDEO_IN, *H264_AAC, "-f", "ipod"]),
    "mov": ("v.mov", [*VIDEO_IN, *H264_AAC, "-f", "mov"]),
    "3gp": ("v.3gp", [*QCIF_IN, "-c:v", "h263", "-c:a", "aac", "-ar", "8000", "-f", "3gp"]),
    "3gp-audio-only": ("a.3gp", [*AUDIO_IN, "-c:a", "aac", "-ar", "8000", "-f", "3gp"]),
    "mkv": ("v.mkv", [*VIDEO_IN, *H264_AAC, "-f", "matroska"]),
    "mka": ("a.mka", [*AUDIO_IN, "-c:a", "flac", "-f", "matroska"]),
    "webm": ("v.webm", [*VIDEO_IN, *VP8, "-c:a", "libvorbis", "-f", "webm"]),
    "webm-audio-only": ("a.webm", [*AUDIO_IN, "-c:a", "libopus", "-f", "webm"]),
    "avi": ("v.avi", [*VIDEO_IN, "-c:v", "mpeg4", "-c:a", "libmp3lame", "-f", "avi"]),
    "wav": ("a.wav", [*AUDIO_IN, "-c:a", "pcm_s16le", "-f", "wav"]),
    "wav-rf64": ("rf64.wav", [*AUDIO_IN, "-c:a", "pcm_s16le", "-rf64", "always", "-f", "wav"]),
    "ts": ("v.ts", [*VIDEO_IN, *H264_AAC, "-f", "mpegts"]),
    "m2ts": ("v.m2ts", [*VIDEO_IN, *H264_AAC, "-mpegts_m2ts_mode", "1", "-f", "mpegts"]),
    "mpg-mpeg1-ps": (
        "v.mpg",
        [*VIDEO_IN, "-r", "25", "-c:v", "mpeg1video", "-c:a", "mp2", "-f", "mpeg"],
    ),
    "vob-mpeg2-ps": (
        "v.vob",
        [*VIDEO_IN, "-r", "25", "-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob"],
    ),
    "flv": (
        "v.flv",
        [*VIDEO_IN, "-c:v", "flv1", "-c:a", "libmp3lame", "-ar", "44100", "-f", "flv"],
    ),
    "flv-audio-only": ("a.flv", [*AUDIO_IN, "-c:a", "libmp3lame", "-ar", "44100", "-f", "flv"]),
    "wmv": ("v.wmv", [*VIDEO_IN, "-c:v", "wmv2", "-c:a", "wmav2", "-f", "asf"]),
    "wma": ("a.wma", [*AUDIO_IN, "-c:a", "wmav2", "-f", "asf"]),
    "mp3-id3": ("id3.mp3", [*AUDIO_IN, "-c:a", "libmp3lame", "-f", "mp3"]),
    "mp3-bare": ("bare.mp3", [*AUDIO_IN, "-c:a", "libmp3lame", *NO_ID3, "-f", "mp3"]),
    "mp3-bare-no-xing": (
        "noxing.mp3",
        [*AUDIO_IN, "-c:a", "libmp3lame", *NO_ID3, "-write_xing", "0", "-f", "mp3"],
    ),
    "mp2": ("a.mp2", [*AUDIO_IN, "-c:a", "mp2", "-f", "mp2"]),
    "aac-adts": ("a.aac", [*AUDIO_IN, "-c:a", "aac", "-f", "adts"]),
    "flac": ("a.flac", [*AUDIO_IN, "-c:a", "flac", "-f", "flac"]),
    "ogg-vorbis": ("a.ogg", [*AUDIO_IN, "-c:a", "libvorbis", "-f", "ogg"]),
    "ogg-opus": ("a.opus", [*AUDIO_IN, "-c:a", "libopus", "-f", "opus"]),
    "ogg-speex": ("a.spx", [*AUDIO_IN, "-c:a", "libspeex", "-ar", "16000", "-f", "ogg"]),
    "ogg-flac": ("a.oga", [*AUDIO_IN, "-c:a", "flac", "-f", "ogg"]),
    "ogv-theora": ("v.ogv", [*VIDEO_IN, "-c:v", "libtheora", "-c:a", "libvorbis", "-f", "ogg"]),
    "aiff": ("a.aiff", [*AUDIO_IN, "-c:a", "pcm_s16be", "-f", "aiff"]),
    "aifc": ("a.aifc", [*AUDIO_IN, "-c:a", "pcm_alaw", "-f", "aiff"]),
    "caf": ("a.caf", [*AUDIO_IN, "-c:a", "pcm_s16le", "-f", "caf"]),
}

# Negative samples ffmpeg can also make: still images, including RIFF-based WebP.
IMAGE_SAMPLES: dict[str, tuple[str, list[str]]] = {
    name: (f"image.{name}", ["-f", "lavfi", "-i", "testsrc=size=64x64", "-frames:v", "1"])
    for name in ("png", "jpg", "webp", "gif", "bmp", "tiff")
}


def _id3_tag(payload_size: int) -> bytes:
    """An ID3v2.4 tag of padding only; its size is syncsafe (7 bits per byte)."""
    syncsafe = bytes((payload_size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + syncsafe + bytes(payload_size)


def _handmade_samples(made: Mapping[str, bytes]) -> dict[str, bytes]:
    # ffmpeg here has no AMR encoder (libopencore_amrnb / libvo_amrwbenc), so the AMR files
    # are written by hand: magic line, then frames of one header byte (frame type << 3 with
    # the quality bit 0x04) and that type's payload. ffprobe checks them in a test below.
    return {
        "amr-nb-handmade": b"#!AMR\n" + (b"\x3c" + bytes(31)) * 100,  # 12.2 kbit/s frames
        "amr-wb-handmade": b"#!AMR-WB\n" + (b"\x44" + bytes(60)) * 100,  # 23.85 kbit/s frames
        "flac-after-id3": _id3_tag(300) + made["flac"],
        "mp3-after-id3-with-padding": _id3_tag(100) + bytes(50) + made["mp3-bare"],
        "aac-after-id3": _id3_tag(100) + made["aac-adts"],
    }


def _ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        pytest.fail("ffmpeg is not on PATH; these tests need it (`make test` installs it)")
    return path


def _render(ffmpeg: str, out: Path, args: list[str]) -> bytes:
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args, str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    return out.read_bytes()


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    ffmpeg = _ffmpeg()
    folder = tmp_path_factory.mktemp("media")
    jobs = {**FFMPEG_SAMPLES, **IMAGE_SAMPLES}
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {
            name: pool.submit(_render, ffmpeg, folder / filename, args)
            for name, (filename, args) in jobs.items()
        }
        made = {name: future.result() for name, future in futures.items()}
    for name, data in _handmade_samples(made).items():
        (folder / f"{name}.bin").write_bytes(data)
        made[name] = data
    return made


MP4 = MediaFormat("video", "video/mp4", "mp4")
M4A = MediaFormat("audio", "audio/mp4", "m4a")
MKV = MediaFormat("video", "video/x-matroska", "mkv")
WEBM = MediaFormat("video", "video/webm", "webm")
THREE_GP = MediaFormat("video", "video/3gpp", "3gp")
ASF = MediaFormat("video", "video/x-ms-asf", "asf")
TS = MediaFormat("video", "video/mp2t", "ts")
MPG = MediaFormat("video", "video/mpeg", "mpg")
MP3 = MediaFormat("audio", "audio/mpeg", "mp3")
MP2 = MediaFormat("audio", "audio/mpeg", "mp2")
AAC = MediaFormat("audio", "audio/aac", "aac")
FLAC = MediaFormat("audio", "audio/flac", "flac")
WAV = MediaFormat("audio", "audio/wav", "wav")
AIFF = MediaFormat("audio", "audio/aiff", "aiff")

# name -> (format from the first SNIFF_BYTES, format from only the first 64 bytes)
EXPECTED: dict[str, tuple[MediaFormat, MediaFormat | None]] = {
    "mp4": (MP4, MP4),
    "mp4-audio-only": (M4A, MP4),  # moov (sound track only) is in the head, not in 64 bytes
    "mp4-audio-moov-at-end": (MP4, MP4),  # no moov in the head: default video
    "m4a": (M4A, M4A),
    "m4v": (MediaFormat("video", "video/x-m4v", "m4v"),) * 2,
    "mov": (MediaFormat("video", "video/quicktime", "mov"),) * 2,
    "3gp": (THREE_GP, THREE_GP),
    "3gp-audio-only": (MediaFormat("audio", "audio/3gpp", "3gp"), THREE_GP),
    "mkv": (MKV, MKV),
    "mka": (MediaFormat("audio", "audio/x-matroska", "mka"), MKV),  # Tracks lie past byte 64
    "webm": (WEBM, WEBM),
    "webm-audio-only": (MediaFormat("audio", "audio/webm", "webm"), WEBM),
    "avi": (MediaFormat("video", "video/x-msvideo", "avi"),) * 2,
    "wav": (WAV, WAV),
    "wav-rf64": (WAV, WAV),
    "ts": (TS, None),  # packet syncs every 188 bytes cannot be checked in 64 bytes
    "m2ts": (TS, None),
    "mpg-mpeg1-ps": (MPG, MPG),
    "vob-mpeg2-ps": (MPG, MPG),
    "flv": (MediaFormat("video", "video/x-flv", "flv"),) * 2,
    "flv-audio-only": (MediaFormat("audio", "audio/x-flv", "flv"),) * 2,
    "wmv": (MediaFormat("video", "video/x-ms-wmv", "wmv"), ASF),  # stream properties past byte 64
    "wma": (MediaFormat("audio", "audio/x-ms-wma", "wma"), ASF),
    "mp3-id3": (MP3, MP3),
    "mp3-bare": (MP3, MP3),  # first frame is LAME's Info frame
    "mp3-bare-no-xing": (MP3, MP3),
    "mp3-after-id3-with-padding": (MP3, MP3),
    "mp2": (MP2, None),  # a lone layer II frame is not trusted
    "aac-adts": (AAC, AAC),
    "aac-after-id3": (AAC, MP3),  # 64 bytes end inside the tag
    "flac": (FLAC, FLAC),
    "flac-after-id3": (FLAC, MP3),
    "ogg-vorbis": (MediaFormat("audio", "audio/ogg", "ogg"),) * 2,
    "ogg-opus": (MediaFormat("audio", "audio/ogg", "opus"),) * 2,
    "ogg-speex": (MediaFormat("audio", "audio/ogg", "spx"),) * 2,
    "ogg-flac": (MediaFormat("audio", "audio/ogg", "oga"),) * 2,
    "ogv-theora": (MediaFormat("video", "video/ogg", "ogv"),) * 2,
    "aiff": (AIFF, AIFF),
    "aifc": (AIFF, AIFF),
    "amr-nb-handmade": (MediaFormat("audio", "audio/amr", "amr"),) * 2,
    "amr-wb-handmade": (MediaFormat("audio", "audio/amr-wb", "awb"),) * 2,
    "caf": (MediaFormat("audio", "audio/x-caf", "caf"),) * 2,
}


def test_ffmpeg_is_installed() -> None:
    _ffmpeg()


def test_every_ffmpeg_sample_has_an_expectation() -> None:
    assert set(FFMPEG_SAMPLES) <= set(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_sniff_real_file(samples: dict[str, bytes], name: str) -> None:
    assert sniff(samples[name][:SNIFF_BYTES]) == EXPECTED[name][0]


@pytest.mark.parametrize("name", EXPECTED)
def test_sniff_first_64_bytes(samples: dict[str, bytes], name: str) -> None:
    assert sniff(samples[name][:MIN_HEAD_BYTES]) == EXPECTED[name][1]


@pytest.mark.parametrize("name", ["mp4", "ts", "flac", "mp3-bare"])
def test_longer_input_is_judged_on_its_first_sniff_bytes(
    samples: dict[str, bytes], name: str
) -> None:
    assert sniff(samples[name]) == sniff(samples[name][:SNIFF_BYTES])


def test_audio_only_mp4_is_isom_with_moov_in_head(samples: dict[str, bytes]) -> None:
    """Guard the premise of the mp4-audio-only case: a generic brand, moov before mdat."""
    data = samples["mp4-audio-only"]
    assert data[4:12] == b"ftypisom"
    assert data.find(b"moov") < data.find(b"mdat") < SNIFF_BYTES
    late = samples["mp4-audio-moov-at-end"]
    assert late.find(b"moov") > SNIFF_BYTES


@pytest.mark.parametrize("name", ["amr-nb-handmade", "amr-wb-handmade"])
def test_handmade_amr_is_valid_per_ffprobe(samples: dict[str, bytes], name: str) -> None:
    ffprobe = shutil.which("ffprobe")
    assert ffprobe is not None, "ffprobe (part of ffmpeg) is not on PATH"
    cmd = [ffprobe, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", "-"]
    result = subprocess.run(cmd, input=samples[name], capture_output=True, check=True)
    assert result.stdout.decode().strip() == ("amr_nb" if "nb" in name else "amr_wb")


# --- Things that are not supported media --------------------------------------------------


def _pad(prefix: bytes, size: int = 4096) -> bytes:
    return prefix + bytes(range(256)) * (size // 256)


NOT_MEDIA: dict[str, bytes] = {
    "pdf": _pad(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"),
    "png-signature": _pad(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"),
    "zip": _pad(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(20) + b"word/document.xml"),
    "gzip": _pad(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"),
    "jpeg-jfif": _pad(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
    "elf": _pad(b"\x7fELF\x02\x01\x01" + bytes(9)),
    "html": b"<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>\n" * 40,
    "json": b'{"name": "clip.mp4", "type": "video/mp4", "size": 1234567}\n' * 40,
    "text": b"The quick brown fox jumps over the lazy dog. ID3 fLaC OggS RIFF ftyp\n" * 40,
    "zeros": bytes(SNIFF_BYTES),
    "ones-0xff": b"\xff" * SNIFF_BYTES,
    "heif-brand": struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"heic", 0, b"mif1", b"heic")
    + bytes(100),
    "avif-brand": struct.pack(">I4s4sI4s", 20, b"ftyp", b"avif", 0, b"mif1") + bytes(100),
    "riff-webp": _pad(b"RIFF\x00\x10\x00\x00WEBPVP8 "),
    "ebml-unknown-doctype": _pad(b"\x1a\x45\xdf\xa3\x88\x42\x82\x85other"),
    "ogg-unknown-codec": _pad(b"OggS\x00\x02" + bytes(20) + b"\x01\x1e\x01unknown"),
}


@pytest.mark.parametrize("data", NOT_MEDIA.values(), ids=NOT_MEDIA.keys())
def test_not_media(data: bytes) -> None:
    assert sniff(data) is None
    assert sniff(data[:MIN_HEAD_BYTES]) is None


@pytest.mark.parametrize("name", IMAGE_SAMPLES)
def test_images_made_by_ffmpeg_are_not_media(samples: dict[str, bytes], name: str) -> None:
    assert sniff(samples[name][:SNIFF_BYTES]) is None


@pytest.mark.parametrize("name", ["mp3-bare", "mp3-id3", "flac", "wav"])
def test_fewer_than_min_head_bytes_is_never_judged(samples: dict[str, bytes], name: str) -> None:
    head = samples[name]
    assert sniff(head[:MIN_HEAD_BYTES]) is not None
    assert sniff(head[: MIN_HEAD_BYTES - 1]) is None
    assert sniff(b"") is None


def test_random_64k_buffers_never_match() -> None:
    rng = random.Random(20240611)
    hits = [seed for seed in range(2000) if sniff(rng.randbytes(SNIFF_BYTES)) is not None]
    assert hits == []


def test_random_64_byte_buffers_never_match() -> None:
    rng = random.Random(7)
    hits = [i for i in range(20_000) if sniff(rng.randbytes(MIN_HEAD_BYTES)) is not None]
    assert hits == []


def test_random_bytes_after_media_magic_never_match_the_frame_sync_formats() -> None:
    """Frame-sync formats have no magic number: random data behind a sync word must fail."""
    rng = random.Random(99)
    for sync in (b"\xff\xfb", b"\xff\xf3", b"\xff\xfd", b"\xff\xf1", b"\xff\xf9"):
        hits = sum(sniff(sync + rng.randbytes(SNIFF_BYTES - 2)) is not None for _ in range(500))
        assert hits == 0, sync.hex()


# --- Hostile and truncated input: judged or refused, never an exception --------------------

BROKEN_ISO: dict[str, bytes] = {
    "box-size-0": b"\x00\x00\x00\x00ftypisom" + bytes(80),
    "box-size-1-truncated-largesize": b"\x00\x00\x00\x01ftyp\x00\x00" + bytes(60),
    "box-size-1-largesize-too-small": b"\x00\x00\x00\x01ftyp" + bytes(8) + bytes(60),
    "box-size-4": b"\x00\x00\x00\x04ftypisom" + bytes(80),
    "box-size-huge": b"\xff\xff\xff\xffftypisom" + bytes(80),
    "ftyp-then-garbage-moov": b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00"
    + b"\x00\x00\x00\x30moov"
    + b"\x00\x00\x00\x05trak\xff\xff\xff\xffmdia" * 8,
    "moov-nested-sizes-past-end": b"\x00\x00\x00\x10ftypmp42\x00\x00\x00\x00"
    + b"\x00\x00\x00\x40moov\x00\x00\x00\x38trak\x00\x00\x7f\xffmdia\x00\x00\x00\x0bhdlr"
    + bytes(40),
    "free-then-nothing": b"\x00\x00\x00\x08free" * 10,
    "mdat-only": b"\x00\x10\x00\x00mdat" + bytes(100),
}


@pytest.mark.parametrize("data", BROKEN_ISO.values(), ids=BROKEN_ISO.keys())
def test_broken_iso_boxes_do_not_raise(data: bytes) -> None:
    result = sniff(data)
    assert result is None or result.content_type == "video/mp4"


def test_truncated_and_corrupted_real_files_do_not_raise(samples: dict[str, bytes]) -> None:
    rng = random.Random(5)
    for name, data in samples.items():
        head = data[:SNIFF_BYTES]
        for cut in {*range(MIN_HEAD_BYTES, 600), *rng.sample(range(len(head) + 1), 50)}:
            sniff(head[:cut])
        for _ in range(100):
            damaged = bytearray(head[: rng.randrange(MIN_HEAD_BYTES, len(head) + 1)])
            for _ in range(rng.randrange(1, 8)):
                pos = rng.randrange(len(damaged))
                damaged[pos] = rng.choice((0x00, 0x01, 0x7F, 0x80, 0xFF, rng.randrange(256)))
            result = sniff(bytes(damaged))
            assert result is None or isinstance(result, MediaFormat), name


@settings(max_examples=500, deadline=None, database=None)
@given(
    prefix=st.sampled_from(
        [
            b"",
            b"\x00\x00\x00\x18ftypisom",
            b"\x1aE\xdf\xa3",
            b"RIFF\x00\x00\x00\x00",
            b"OggS\x00\x02",
            b"ID3\x04\x00\x00",
            b"\x00\x00\x01\xba",
            bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"),
            b"\xff\xfb",
            b"\xff\xf1",
        ]
    ),
    body=st.binary(max_size=1024),
)
def test_arbitrary_bytes_behind_a_magic_number_do_not_raise(prefix: bytes, body: bytes) -> None:
    result = sniff(prefix + body)
    assert result is None or isinstance(result, MediaFormat)
