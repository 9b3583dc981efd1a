"""Property tests of the TUS header parsers: any header value in, a value or a 400-class refusal
out, never another exception (which the server would answer with 500).

Header values reach the parsers as Starlette decodes them: latin-1 text of any byte but CR/LF.
"""

from __future__ import annotations

import base64
import hashlib

from hypothesis import example, given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from roughy.errors import ApiError
from roughy.uploads import checksum
from roughy.uploads.protocol import TUS_VERSION, non_negative_int, require_tus_resumable

header_text = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=255, blacklist_characters="\r\n"),
    max_size=64,
)


def _headers(name: str, value: str) -> Headers:
    return Headers(raw=[(name.encode(), value.encode("latin-1"))])


@given(value=header_text)
@example(value="²")  # a digit to str.isdigit, not to int()
@example(value="99999999999999999999")
@example(value=" 42 ")
@example(value="-1")
@example(value="+1")
@example(value="1_000")
def test_offsets_and_lengths_are_decimal_ascii_or_refused(value: str) -> None:
    for name in ("upload-offset", "upload-length"):
        try:
            parsed = non_negative_int(_headers(name, value), name, required=True)
        except ApiError as refused:
            assert refused.code == "bad_request"
            continue
        digits = value.strip()
        assert parsed is not None and parsed >= 0
        assert digits.isascii() and digits.isdigit() and int(digits) == parsed
        assert parsed < 2**63  # fits a BIGINT column


@given(number=st.integers(min_value=0, max_value=2**63 - 1))
def test_every_offset_a_client_can_send_is_read_back(number: int) -> None:
    assert non_negative_int(
        _headers("upload-offset", str(number)), "upload-offset", required=True
    ) == (number)


def test_a_missing_required_header_is_refused_and_an_optional_one_is_none() -> None:
    empty = Headers(raw=[])
    assert non_negative_int(empty, "upload-length", required=False) is None
    try:
        non_negative_int(empty, "upload-offset", required=True)
    except ApiError as refused:
        assert refused.code == "bad_request"
    else:
        raise AssertionError("a missing Upload-Offset was accepted")


@given(value=header_text)
@example(value="sha1 " + base64.b64encode(hashlib.sha1(b"x").digest()).decode())
@example(value="SHA256 " + base64.b64encode(b"\x00" * 32).decode())
@example(value="md5 ===")
@example(value="crc32 é")
@example(value="sha1")
def test_checksums_parse_or_are_refused(value: str) -> None:
    try:
        expected = checksum.parse(value)
    except ApiError as refused:
        assert refused.code == "bad_request"
        return
    assert expected is not None
    assert expected.algorithm in checksum.ALGORITHMS
    digest = expected.new()
    digest.update(b"some bytes")
    assert isinstance(expected.matches(digest), bool)


@given(data=st.binary(max_size=4096), algorithm=st.sampled_from(checksum.ALGORITHMS))
def test_a_checksum_made_the_way_clients_make_it_matches(data: bytes, algorithm: str) -> None:
    import zlib

    raw = (
        zlib.crc32(data).to_bytes(4, "big")
        if algorithm == "crc32"
        else hashlib.new(algorithm, data).digest()
    )
    expected = checksum.parse(f"{algorithm} {base64.b64encode(raw).decode()}")
    assert expected is not None
    digest = expected.new()
    digest.update(data)
    assert expected.matches(digest)


@given(value=header_text)
@example(value=TUS_VERSION)
@example(value="1.0.0 ")
@example(value="0.2.2")
def test_tus_resumable_is_exactly_the_version_or_refused(value: str) -> None:
    try:
        require_tus_resumable(_headers("tus-resumable", value))
    except ApiError as refused:
        assert refused.code == "precondition_failed"
        assert refused.headers["Tus-Version"] == TUS_VERSION
        assert value != TUS_VERSION
    else:
        assert value == TUS_VERSION
