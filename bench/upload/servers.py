"""The servers bench/upload measures, each started fresh on loopback, storing to local disk.

* ``roughy-durable`` and ``roughy-relaxed``: ``roughy serve`` on SQLite with its worker, with
  authentication on, acknowledging bytes after fsync (durable) or not (relaxed, like the peers);
* ``tus-node``: @tus/server + @tus/file-store (``bench/peers/node_tus.mjs``);
* ``tuspy``: tuspyserver's FastAPI router under uvicorn (``bench/peers/tuspy_app.py``);
* ``raw``: ``raw_receiver.py``, which only writes request bodies to files (a baseline);
* ``baseline-durable`` and ``baseline-relaxed``: Roughy as it was at an earlier commit
  (``--baseline REF``: its ``src/`` exported to the work dir, run with this venv), to show a
  change costs nothing in the same run.

Each kind knows how to open an upload (Roughy through ``POST /v1/assets``, the others through
TUS creation) and where the stored file ends up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from upload_bench import free_port

HERE = Path(__file__).resolve().parent
PEERS = HERE.parent / "peers"
TUS = {"Tus-Resumable": "1.0.0"}
KINDS = ("roughy-durable", "tus-node", "roughy-relaxed", "tuspy")  # ours and peers alternate
BASELINE_KINDS = ("baseline-durable", "baseline-relaxed")
# Where an earlier Roughy's src/ lies, for the baseline kinds (set by --baseline).
baseline_src: Path | None = None


def is_roughy(kind: str) -> bool:
    """Roughy now or at the baseline commit (both speak Roughy's API and store alike)."""
    return kind.startswith(("roughy", "baseline"))


@dataclass
class Running:
    kind: str
    process: subprocess.Popen[bytes]
    base_url: str
    data_dir: Path
    log_path: Path
    key: str = ""  # Roughy only
    project: str = ""  # Roughy only
    made: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def create(self, size: int) -> str:
        """Open an upload of ``size`` bytes; its absolute URL."""
        with httpx.Client(base_url=self.base_url, headers={**TUS, **self.auth}, timeout=60) as c:
            if is_roughy(self.kind):
                if not self.project:
                    made = c.post("/v1/projects", json={"name": "bench"})
                    self.project = made.raise_for_status().json()["id"]
                answer = c.post("/v1/assets", json={"project_id": self.project, "size_bytes": size})
            else:
                metadata = "filename YmVuY2gud2F2,filetype YXVkaW8vd2F2"  # bench.wav, audio/wav
                headers = {"Upload-Length": str(size), "Upload-Metadata": metadata}
                answer = c.post("/files", headers=headers)
            answer.raise_for_status()
            location = answer.headers["location"]
        url = location if location.startswith("http") else self.base_url + location
        self.made.append(url)
        return url

    def stored(self, url: str) -> Path:
        """Where the server keeps the bytes of that upload."""
        name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]
        if is_roughy(self.kind):
            done = self.data_dir / "blobs" / "objects" / name
            return done if done.exists() else self.data_dir / "blobs" / "uploads" / name
        return self.data_dir / name

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def start(kind: str, workdir: Path, name: str) -> Running:
    port = free_port()
    data_dir = workdir / f"data-{name}"
    data_dir.mkdir(parents=True)
    log_path = workdir / "logs" / f"{name}.log"
    log_path.parent.mkdir(exist_ok=True)
    env = {**os.environ, "PORT": str(port), "DATA_DIR": str(data_dir)}
    cwd = None
    if is_roughy(kind):
        env.pop("ROUGHY_DATABASE_URL", None)
        env.pop("ROUGHY_REDIS_URL", None)
        env |= {
            "ROUGHY_DATA_DIR": str(data_dir),
            "ROUGHY_PORT": str(port),
            "ROUGHY_UPLOAD_FSYNC": "true" if kind.endswith("-durable") else "false",
        }
        command = [str(Path(sys.executable).with_name("roughy")), "serve"]
        if kind.startswith("baseline"):
            if baseline_src is None:
                raise ValueError("the baseline kinds need --baseline REF")
            env["PYTHONPATH"] = str(baseline_src)  # before the venv's editable install
            command = [sys.executable, "-c", "from roughy.cli import main; main()", "serve"]
    elif kind == "tus-node":
        command = ["node", str(PEERS / "node_tus.mjs")]
    elif kind == "tuspy":
        uvicorn = str(PEERS / ".venv" / "bin" / "uvicorn")
        command = [uvicorn, "tuspy_app:app", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--log-level", "warning"]
        cwd = PEERS
    elif kind == "raw":
        command = [sys.executable, str(HERE / "raw_receiver.py")]
    else:
        raise ValueError(kind)
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            start_new_session=True,
        )  # fmt: skip
    server = Running(kind, process, f"http://127.0.0.1:{port}", data_dir, log_path)
    try:
        _wait_ready(server)
        if is_roughy(kind):
            server.key = (data_dir / "local-api-key").read_text().strip()
    except BaseException:
        stop(server)
        raise
    return server


def _wait_ready(server: Running, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} exited:\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if _answers(server):
                return
        time.sleep(0.1)
    raise RuntimeError(f"{server.kind} not ready after {timeout:.0f} s:\n{server.log_tail()}")


def _answers(server: Running) -> bool:
    if is_roughy(server.kind):
        return httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200
    return httpx.options(server.base_url + "/files", headers=TUS, timeout=1).status_code < 500


def stop(server: Running) -> None:
    """SIGTERM to the process group (Roughy's worker too), SIGKILL after 15 s."""
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.process.wait()
