"""Pronunciations for words the aligner's dictionary lacks: espeak-ng IPA mapped to ARPAbet.

espeak-ng is the copy inside the ``espeakng-loader`` wheel, called through ctypes, so the
runtime needs no system package. The library keeps global state, hence the lock.
"""

from __future__ import annotations

import ctypes
import threading
import unicodedata
from pathlib import Path

_AUDIO_OUTPUT_SYNCHRONOUS = 0x02
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_IPA_WITH_SEPARATOR = 0x02 | (ord("_") << 8)  # IPA phonemes joined by "_"

# The phone set of pocketsphinx's en-us acoustic model.
_IPA_TO_ARPABET: dict[str, tuple[str, ...]] = {
    "i": ("IY",), "iː": ("IY",), "ɪ": ("IH",), "ᵻ": ("IH",), "ɨ": ("IH",), "y": ("IY",),
    "e": ("EY",), "eɪ": ("EY",), "ɛ": ("EH",), "æ": ("AE",), "a": ("AE",), "ɐ": ("AH",),
    "ɑ": ("AA",), "ɑː": ("AA",), "ɒ": ("AA",), "ɔ": ("AO",), "ɔː": ("AO",),
    "o": ("OW",), "oʊ": ("OW",), "əʊ": ("OW",), "ʊ": ("UH",), "u": ("UW",), "uː": ("UW",),
    "ʉ": ("UW",), "ʌ": ("AH",), "ə": ("AH",), "ɚ": ("ER",), "ɝ": ("ER",), "ɜ": ("ER",),
    "ɜː": ("ER",), "ø": ("ER",), "œ": ("ER",), "aɪ": ("AY",), "aʊ": ("AW",), "ɔɪ": ("OY",),
    "iə": ("IY", "AH"), "ɪə": ("IH", "R"), "eə": ("EH", "R"), "ʊə": ("UH", "R"),
    "ɑːɹ": ("AA", "R"), "ɔːɹ": ("AO", "R"), "oːɹ": ("AO", "R"), "ɛɹ": ("EH", "R"),
    "ɪɹ": ("IH", "R"), "ʊɹ": ("UH", "R"), "aɪɚ": ("AY", "ER"), "aɪə": ("AY", "ER"),
    "p": ("P",), "b": ("B",), "t": ("T",), "d": ("D",), "k": ("K",), "g": ("G",),
    "ɡ": ("G",), "f": ("F",), "v": ("V",), "θ": ("TH",), "ð": ("DH",), "s": ("S",),
    "z": ("Z",), "ʃ": ("SH",), "ʒ": ("ZH",), "h": ("HH",), "m": ("M",), "n": ("N",),
    "ŋ": ("NG",), "l": ("L",), "ɫ": ("L",), "ɹ": ("R",), "r": ("R",), "ɾ": ("T",),
    "w": ("W",), "j": ("Y",), "tʃ": ("CH",), "dʒ": ("JH",), "x": ("K",), "ç": ("HH",),
    "ɬ": ("L",), "ʔ": (), "ɲ": ("N", "Y"), "ʎ": ("L", "Y"), "β": ("V",), "ɣ": ("G",),
    "ts": ("T", "S"), "dz": ("D", "Z"),
}  # fmt: skip
_IGNORED = {"ˈ", "ˌ", "ʲ", "ʰ", "ʷ", "-", "ˑ"}

_lock = threading.Lock()
_library: ctypes.CDLL | None = None


class G2PUnavailable(RuntimeError):
    """espeak-ng could not be loaded or initialised."""


def arpabet(word: str) -> list[str] | None:
    """US-English ARPAbet phones for ``word`` (``sourdough`` → ``S AW ER D OW``), or None."""
    phones: list[str] = []
    for phoneme in _ipa(word).replace(" ", "_").split("_"):
        mapped = _map(phoneme)
        if mapped is None:
            return None
        phones.extend(mapped)
    return phones or None


def _map(phoneme: str) -> tuple[str, ...] | None:
    cleaned = "".join(
        c for c in unicodedata.normalize("NFD", phoneme)
        if c not in _IGNORED and not unicodedata.combining(c)
    )  # fmt: skip
    if not cleaned:
        return ()
    for candidate in (cleaned, cleaned.replace("ː", "")):
        if candidate in _IPA_TO_ARPABET:
            return _IPA_TO_ARPABET[candidate]
    out: list[str] = []
    for char in cleaned.replace("ː", ""):
        if char not in _IPA_TO_ARPABET:
            return None
        out.extend(_IPA_TO_ARPABET[char])
    return tuple(out)


def _ipa(word: str) -> str:
    with _lock:
        lib = _load()
        text = ctypes.create_string_buffer(word.encode())
        pointer = ctypes.c_void_p(ctypes.addressof(text))
        parts: list[str] = []
        while pointer.value:
            out = lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, _IPA_WITH_SEPARATOR)
            if not out:
                break
            parts.append(out.decode("utf-8", "replace"))
        return "_".join(parts)


def _load() -> ctypes.CDLL:
    global _library
    if _library is None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise G2PUnavailable("package espeakng-loader is not installed") from exc
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        # The path names the folder that holds espeak-ng-data.
        home = str(Path(espeakng_loader.get_data_path()).parent).encode()
        if lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, home, _INITIALIZE_DONT_EXIT) < 0:
            raise G2PUnavailable("espeak-ng failed to initialise")
        if lib.espeak_SetVoiceByName(b"en-us") != 0:
            raise G2PUnavailable("espeak-ng has no en-us voice")
        _library = lib
    return _library
