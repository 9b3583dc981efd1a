"""Recognise supported audio/video formats from the first bytes of an upload.

Only content counts, never a filename. ``sniff`` walks a registry of detectors, one per
container family; each looks at its own signature and returns a format or ``None``.
Where a container can hold either audio or video (MP4, Matroska, FLV, ASF, Ogg), the
answer follows what the head shows and defaults to video; processing later corrects it
from the real streams.

Every detector must tolerate truncated or hostile input: indexes are bounds-checked and
box/element walks only move forward, so ``sniff`` never raises.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

MIN_HEAD_BYTES = 64  # fewer bytes than this can never be judged
SNIFF_BYTES = 65536  # callers pass up to this many leading bytes (may be fewer, >= 64)


@dataclass(frozen=True, slots=True)
class MediaFormat:
    type: Literal["audio", "video"]
    content_type: str  # MIME type
    extension: str  # without dot


_MP4 = MediaFormat("video", "video/mp4", "mp4")
_M4A = MediaFormat("audio", "audio/mp4", "m4a")
_M4V = MediaFormat("video", "video/x-m4v", "m4v")
_MOV = MediaFormat("video", "video/quicktime", "mov")
_THREE_GP = MediaFormat("video", "video/3gpp", "3gp")
_THREE_GP_AUDIO = MediaFormat("audio", "audio/3gpp", "3gp")
_WEBM = MediaFormat("video", "video/webm", "webm")
_WEBM_AUDIO = MediaFormat("audio", "audio/webm", "webm")
_MKV = MediaFormat("video", "video/x-matroska", "mkv")
_MKA = MediaFormat("audio", "audio/x-matroska", "mka")
_WAV = MediaFormat("audio", "audio/wav", "wav")
_AVI = MediaFormat("video", "video/x-msvideo", "avi")
_TS = MediaFormat("video", "video/mp2t", "ts")
_MPG = MediaFormat("video", "video/mpeg", "mpg")
_FLV = MediaFormat("video", "video/x-flv", "flv")
_FLV_AUDIO = MediaFormat("audio", "audio/x-flv", "flv")
_WMV = MediaFormat("video", "video/x-ms-wmv", "wmv")
_WMA = MediaFormat("audio", "audio/x-ms-wma", "wma")
_ASF = MediaFormat("video", "video/x-ms-asf", "asf")
_MP3 = MediaFormat("audio", "audio/mpeg", "mp3")
_MP2 = MediaFormat("audio", "audio/mpeg", "mp2")  # MPEG audio layers I and II
_AAC = MediaFormat("audio", "audio/aac", "aac")
_FLAC = MediaFormat("audio", "audio/flac", "flac")
_OGG = MediaFormat("audio", "audio/ogg", "ogg")
_OPUS = MediaFormat("audio", "audio/ogg", "opus")
_SPX = MediaFormat("audio", "audio/ogg", "spx")
_OGA = MediaFormat("audio", "audio/ogg", "oga")
_OGV = MediaFormat("video", "video/ogg", "ogv")
_AIFF = MediaFormat("audio", "audio/aiff", "aiff")
_AMR = MediaFormat("audio", "audio/amr", "amr")
_AWB = MediaFormat("audio", "audio/amr-wb", "awb")
_CAF = MediaFormat("audio", "audio/x-caf", "caf")

# What a video-by-default container becomes when the head shows only sound tracks.
_AUDIO_ONLY = {_MP4: _M4A, _THREE_GP: _THREE_GP_AUDIO, _WEBM: _WEBM_AUDIO, _MKV: _MKA}

_BEYOND = 1 << 63  # end offset of a box/element whose size is "until end of file"


def _u32(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 4], "big")


# --- ISO base media (MP4, MOV, 3GP, M4A) ---------------------------------------------

_BRAND_FORMATS = {b"M4A ": _M4A, b"M4B ": _M4A, b"M4P ": _M4A, b"M4V ": _M4V, b"qt  ": _MOV}
_IMAGE_BRANDS = {b"mif1", b"msf1", b"heic", b"heix", b"heim", b"heis", b"avif", b"avis", b"crx "}
_ISO_LEADING = {b"free", b"skip", b"wide", b"pnot", b"mdat"}  # may precede ftyp/moov


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, body start, box end) within data[start:end]; the last box may run past."""
    end = min(end, len(data))
    pos = start
    while pos + 8 <= end:
        size, body = _u32(data, pos), pos + 8
        if size == 1:
            if pos + 16 > end:
                return
            size, body = int.from_bytes(data[pos + 8 : pos + 16], "big"), pos + 16
        elif size == 0:
            size = _BEYOND
        if size < body - pos:
            return
        yield data[pos + 4 : pos + 8], body, pos + size
        pos += size


def _find_box(data: bytes, start: int, end: int, path: tuple[bytes, ...]) -> tuple[int, int] | None:
    """Body range of the first complete box along path, e.g. (b"mdia", b"hdlr")."""
    for kind, body, box_end in _boxes(data, start, end):
        if kind == path[0] and box_end <= end:
            return (body, box_end) if len(path) == 1 else _find_box(data, body, box_end, path[1:])
    return None


def _track_handlers(data: bytes, start: int, end: int) -> set[bytes]:
    """Handler types (b"vide", b"soun", ...) of the trak boxes in a moov body."""
    handlers: set[bytes] = set()
    for kind, body, box_end in _boxes(data, start, end):
        hdlr = _find_box(data, body, box_end, (b"mdia", b"hdlr")) if kind == b"trak" else None
        if hdlr is not None and hdlr[1] - hdlr[0] >= 12:
            handlers.add(data[hdlr[0] + 8 : hdlr[0] + 12])
    return handlers


def _iso_bmff(head: bytes) -> MediaFormat | None:
    found = _ftyp_and_moov(head)
    if found is None:
        return None
    brands, moov = found
    if brands and brands[0] in _IMAGE_BRANDS:
        return None
    fmt = _brand_format(brands)
    if fmt in _AUDIO_ONLY and moov is not None and moov[1] <= len(head):
        handlers = _track_handlers(head, *moov)
        if b"soun" in handlers and b"vide" not in handlers:
            return _AUDIO_ONLY[fmt]
    return fmt


def _ftyp_and_moov(head: bytes) -> tuple[list[bytes], tuple[int, int] | None] | None:
    """The brands of the leading ``ftyp`` box and where the ``moov`` box's body lies, if the
    boxes before them are those an ISO file starts with; None when they are not."""
    brands: list[bytes] = []
    moov: tuple[int, int] | None = None
    for kind, body, end in _boxes(head, 0, len(head)):
        if kind == b"ftyp" and not brands:
            stop = min(end, len(head))
            brands = [head[i : i + 4] for i in range(body, stop - 3, 4) if i != body + 4]
            if not brands or not all(0x20 <= c <= 0x7E for c in brands[0]):
                return None
        elif kind == b"moov":
            if not brands and head[body + 4 : body + 8] not in (b"mvhd", b"cmov"):
                return None
            moov = (body, end)
            break
        elif not brands and kind not in _ISO_LEADING:
            return None
    if not brands and moov is None:
        return None
    return brands, moov


def _brand_format(brands: list[bytes]) -> MediaFormat:
    """The format the first brand that names one says; no ftyp at all: classic QuickTime."""
    for brand in brands:
        specific = _BRAND_FORMATS.get(brand) or (
            _THREE_GP if brand[:3] in (b"3gp", b"3g2") else None
        )
        if specific is not None:
            return specific
    return _MP4 if brands else _MOV


# --- EBML (Matroska, WebM) -----------------------------------------------------------

_EBML_HEADER, _DOCTYPE, _SEGMENT = 0x1A45DFA3, 0x4282, 0x18538067
_TRACKS, _TRACK_ENTRY, _TRACK_TYPE, _CLUSTER = 0x1654AE6B, 0xAE, 0x83, 0x1F43B675


def _vint(data: bytes, pos: int) -> tuple[int, int] | None:
    """An EBML variable-length integer as (raw value with its length marker, byte length)."""
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 9 - data[pos].bit_length()
    if pos + length > len(data):
        return None
    return int.from_bytes(data[pos : pos + length], "big"), length


def _elements(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """Yield (id, body start, body end) within data[start:end]; the last may run past."""
    pos = start
    while pos < min(end, len(data)):
        element_id = _vint(data, pos)
        size = _vint(data, pos + element_id[1]) if element_id else None
        if element_id is None or size is None:
            return
        body = pos + element_id[1] + size[1]
        value = size[0] & ((1 << 7 * size[1]) - 1)
        unknown = value == (1 << 7 * size[1]) - 1  # all ones: size not known when written
        pos = end if unknown else body + value
        yield element_id[0], body, pos


def _ebml(head: bytes) -> MediaFormat | None:
    top = _elements(head, 0, _BEYOND)
    header = next(top, None)
    if header is None or header[0] != _EBML_HEADER or header[2] > len(head):
        return None
    doctypes = [head[s:e] for i, s, e in _elements(head, header[1], header[2]) if i == _DOCTYPE]
    fmt = {b"webm": _WEBM, b"matroska": _MKV}.get(doctypes[0].rstrip(b"\0") if doctypes else b"")
    if fmt is None:
        return None
    segment = next(top, None)
    if segment is None or segment[0] != _SEGMENT:
        return fmt
    for element_id, body, end in _elements(head, segment[1], segment[2]):
        if element_id == _CLUSTER or (element_id == _TRACKS and end > len(head)):
            break
        if element_id == _TRACKS:
            types = {
                int.from_bytes(head[s:e], "big")
                for entry_id, entry_body, entry_end in _elements(head, body, end)
                if entry_id == _TRACK_ENTRY
                for i, s, e in _elements(head, entry_body, entry_end)
                if i == _TRACK_TYPE and e <= len(head)
            }
            return _AUDIO_ONLY[fmt] if 2 in types and not types & {1, 3} else fmt
    return fmt


# --- Other containers with a magic number ----------------------------------------------


def _riff(head: bytes) -> MediaFormat | None:
    if head[:4] == b"RIFF":
        return {b"WAVE": _WAV, b"AVI ": _AVI}.get(head[8:12])
    return _WAV if head[:4] in (b"RF64", b"BW64") and head[8:12] == b"WAVE" else None


_ASF_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_ASF_STREAM_PROPERTIES = bytes.fromhex("9107dcb7b7a9cf118ee600c00c205365")
_ASF_AUDIO = bytes.fromhex("409e69f84d5bcf11a8fd00805f5c442b")
_ASF_VIDEO = bytes.fromhex("c0ef19bc4d5bcf11a8fd00805f5c442b")


def _asf(head: bytes) -> MediaFormat | None:
    if head[:16] != _ASF_HEADER:
        return None
    header_end = int.from_bytes(head[16:24], "little")
    streams: set[bytes] = set()
    pos = 30  # header object: GUID, size, object count, two reserved bytes
    while pos + 24 <= min(header_end, len(head)):
        size = int.from_bytes(head[pos + 16 : pos + 24], "little")
        if head[pos : pos + 16] == _ASF_STREAM_PROPERTIES and pos + 40 <= len(head):
            streams.add(head[pos + 24 : pos + 40])
        if size < 24 or pos + size > len(head):
            break
        pos += size
    if _ASF_VIDEO in streams:
        return _WMV
    return _WMA if _ASF_AUDIO in streams and pos == header_end else _ASF


def _flv(head: bytes) -> MediaFormat | None:
    if head[:4] != b"FLV\x01" or head[4] & 0xFA or _u32(head, 5) != 9:
        return None
    return _FLV_AUDIO if head[4] == 0x04 else _FLV  # flags: 0x04 audio, 0x01 video


_OGG_CODECS = (
    (b"\x80theora", _OGV),
    (b"\x01vorbis", _OGG),
    (b"OpusHead", _OPUS),
    (b"Speex   ", _SPX),
    (b"\x7fFLAC", _OGA),
)


def _ogg(head: bytes) -> MediaFormat | None:
    """Look at the first packet of every beginning-of-stream page (skeleton streams ignored)."""
    found: list[MediaFormat] = []
    pos = 0
    while pos + 27 <= len(head) and head[pos : pos + 5] == b"OggS\0" and head[pos + 5] & 0x02:
        packet = pos + 27 + head[pos + 26]
        found += [fmt for magic, fmt in _OGG_CODECS if head.startswith(magic, packet)]
        pos = packet + sum(head[pos + 27 : packet])
    return _OGV if _OGV in found else next(iter(found), None)


def _flac(head: bytes) -> MediaFormat | None:
    # fLaC, then the mandatory STREAMINFO block (type 0, 34 bytes) comes first
    ok = head[:4] == b"fLaC" and len(head) >= 8 and head[4] & 0x7F == 0 and head[5:8] == b"\0\0\x22"
    return _FLAC if ok else None


def _simple_magic(head: bytes) -> MediaFormat | None:
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return _AIFF
    if head[:8] == b"caff\x00\x01\x00\x00":
        return _CAF
    if head.startswith(b"#!AMR\n"):
        return _AMR
    return _AWB if head.startswith(b"#!AMR-WB\n") else None


# --- MPEG systems streams ---------------------------------------------------------------


def _mpeg_ts(head: bytes) -> MediaFormat | None:
    """0x47 sync byte at every packet start: 188-byte TS, or 192-byte M2TS (4-byte prefix)."""
    for first, stride in ((0, 188), (4, 192)):
        syncs = range(first, len(head), stride)
        if len(syncs) >= 4 and all(head[i] == 0x47 for i in syncs):
            return _TS
    return None


def _mpeg_ps(head: bytes) -> MediaFormat | None:
    """Pack header with its marker bits: MPEG-2 ('01' prefix) or MPEG-1 ('0010' prefix)."""
    if head[:4] != b"\0\0\x01\xba":
        return None
    b = head[4:14]
    mpeg2 = b[0] & 0xC4 == 0x44 and b[2] & b[4] & 0x04 and b[5] & 0x01 and b[8] & 0x03 == 0x03
    mpeg1 = b[0] & 0xF1 == 0x21 and b[2] & b[4] & 0x01 and b[5] & 0x80 and b[7] & 0x01
    return _MPG if mpeg2 or mpeg1 else None


# --- Raw audio streams: frame sync, or an ID3v2 tag first -----------------------------

_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_V2_LOW = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_MPEG_KBPS = {  # (is MPEG-1, layer) -> kbit/s for bitrate indexes 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): _V2_LOW,
    (False, 3): _V2_LOW,
}

_Frame = tuple[int, tuple[int, ...]]  # (frame length, fields every frame of the stream shares)


def _mpeg_audio_frame(data: bytes, pos: int) -> _Frame | None:
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version, layer = (b1 >> 3) & 3, 4 - ((b1 >> 1) & 3)  # version 1 and layer 4 are reserved
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3 or b3 & 3 == 2:
        return None
    bitrate = _MPEG_KBPS[version == 3, layer][bitrate_index - 1] * 1000
    rate, padding = _MPEG_RATES[version][rate_index], (b2 >> 1) & 1
    if layer == 1:
        length = (12 * bitrate // rate + padding) * 4
    else:
        length = (72 if layer == 3 and version != 3 else 144) * bitrate // rate + padding
    return length, (version, layer, rate_index)


def _adts_frame(data: bytes, pos: int) -> _Frame | None:
    if pos + 7 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:
        return None
    b = data[pos : pos + 7]
    length = ((b[3] & 0x03) << 11) | (b[4] << 3) | (b[5] >> 5)
    if (b[2] >> 2) & 0x0F > 12 or length < (7 if b[1] & 1 else 9):
        return None
    return length, (b[1], b[2] & 0xFD, b[3] & 0xC0)  # all but the private bit stay fixed


def _frames_seen(head: bytes, parse: Callable[[bytes, int], _Frame | None], header: int) -> int:
    """2: a frame at offset 0 and a matching one right after it; 1: the head ends before
    the second could start; 0: no stream here."""
    first = parse(head, 0)
    if first is None:
        return 0
    if first[0] + header > len(head):
        return 1
    second = parse(head, first[0])
    return 2 if second is not None and second[1] == first[1] else 0


# A lone frame (a very short head) is only trusted if it looks like the start of an
# encoder's output; otherwise about one random 64-byte buffer in 10,000 would pass.


def _mpeg_audio(head: bytes) -> MediaFormat | None:
    seen = _frames_seen(head, _mpeg_audio_frame, 4)
    if seen == 0:
        return None
    layer = 4 - ((head[1] >> 1) & 3)
    if seen == 1:
        # Layer III only, with main_data_begin 0: the bit reservoir starts out empty.
        side = 4 if head[1] & 1 else 6  # side info follows the header and optional CRC
        mpeg1 = head[1] & 0x18 == 0x18
        if layer != 3 or len(head) < side + 2 or head[side] or (mpeg1 and head[side + 1] & 0x80):
            return None
    return _MP3 if layer == 3 else _MP2


def _adts(head: bytes) -> MediaFormat | None:
    seen = _frames_seen(head, _adts_frame, 7)
    if seen == 1:
        # One raw data block, opening with a channel element (SCE/CPE, instance 0) or with
        # a data, program config or fill element (encoders put their name in the latter).
        start = 7 if head[1] & 1 else 9  # header and optional CRC
        first = head[start] if len(head) > start else 0xFF
        if head[6] & 0x03 or not (first >> 1 in (0x00, 0x10) or first >> 5 in (4, 5, 6)):
            return None
    return _AAC if seen else None


def _id3(head: bytes) -> MediaFormat | None:
    """ID3v2 tag (syncsafe size), then whatever audio stream follows it."""
    if head[:3] != b"ID3" or head[3] not in (2, 3, 4) or head[4] == 0xFF or head[5] & 0x0F:
        return None
    if any(b & 0x80 for b in head[6:10]):
        return None
    size = 10 + sum(b << 7 * (3 - i) for i, b in enumerate(head[6:10]))
    rest = head[size + (10 if head[5] & 0x10 else 0) :].lstrip(b"\0")  # footer, padding
    if len(rest) < 8:
        return _MP3  # the head ends inside the tag, or too soon after it to judge a frame
    return _flac(rest) or _mpeg_audio(rest) or _adts(rest)


_DETECTORS: tuple[Callable[[bytes], MediaFormat | None], ...] = (
    _iso_bmff,
    _ebml,
    _riff,
    _asf,
    _flv,
    _ogg,
    _flac,
    _simple_magic,
    _mpeg_ps,
    _mpeg_ts,
    _id3,
    _mpeg_audio,
    _adts,
)


def sniff(head: bytes) -> MediaFormat | None:
    """None when the bytes are not a supported audio/video format (or fewer than MIN_HEAD_BYTES)."""
    if len(head) < MIN_HEAD_BYTES:
        return None
    head = head[:SNIFF_BYTES]
    for detect in _DETECTORS:
        found = detect(head)
        if found is not None:
            return found
    return None
