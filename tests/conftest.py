"""Fixtures: a real Roughy server process on a real database, accounts, and real media.

The suite runs once per deployment shape: ``pytest --db sqlite --queue sqlite`` (the embedded
default) and ``pytest --db postgresql --queue redis`` (the machine's PostgreSQL at 127.0.0.1:5432,
database ``test``, and Redis at 127.0.0.1:6379). ``make test`` runs both, and a third pass of
the storage, upload and multi-node tests with ``--storage s3`` (an S3 server on loopback, started
for the session: tests/s3server.py; ``--s3-max-parts`` sets its part limit).
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from roughy.accounts import service as accounts
from roughy.db import Database
from roughy.migrate import upgrade
from tests import s3server
from tests.browser import browser, page, static_site  # noqa: F401 (registered here, once)
from tests.s3server import S3Server

POSTGRES_URL = os.environ.get(
    "ROUGHY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ROOT = Path(__file__).resolve().parent.parent
# Every server of every run prepares the speech models once, here (checked by their hashes).
SPEECH_MODELS_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / "roughy-test-speech-models"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.addoption("--queue", choices=["sqlite", "redis"], default="sqlite")
    parser.addoption("--storage", choices=["local", "s3"], default="local")
    parser.addoption("--s3-max-parts", type=int, default=10_000)


REDIS_URL = os.environ.get("ROUGHY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE_ENV: dict[str, str] = {}
S3: list[S3Server] = []  # the S3 pass's server, once started


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: runs only in the PostgreSQL pass (--db postgresql)"
    )
    config.addinivalue_line("markers", "s3: runs only in the S3 pass (--storage s3)")
    if config.getoption("--queue") == "redis":
        QUEUE_ENV["ROUGHY_REDIS_URL"] = REDIS_URL


@pytest.fixture(scope="session", autouse=True)
def s3_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3Server | None]:
    """The S3 server of the S3 pass (None in the other passes)."""
    if request.config.getoption("--storage") != "s3":
        yield None
        return
    server = s3server.start(
        tmp_path_factory.mktemp("s3-server"), request.config.getoption("--s3-max-parts")
    )
    S3.append(server)
    yield server
    S3.remove(server)
    server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    postgresql = config.getoption("--db") == "postgresql"
    s3 = config.getoption("--storage") == "s3"
    deselected = [
        item
        for item in items
        if (item.get_closest_marker("postgresql") and not postgresql)
        or (item.get_closest_marker("s3") and not s3)
    ]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Each run's servers get databases named after the run's process, so two runs on one machine
# (two developers, or a developer beside CI) never drop each other's databases.
SERVER_DB_PREFIX = "roughy_t_"
RUN_DB_PREFIX = f"{SERVER_DB_PREFIX}{os.getpid()}_"


def _run_alive(name: str) -> bool:
    """Whether the test run that made database ``name`` is still running."""
    pid = name.removeprefix(SERVER_DB_PREFIX).partition("_")[0]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reset_postgres(url: str) -> None:
    """An empty ``public`` schema, and no databases left by earlier runs' servers (a run still
    going keeps its own)."""
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
        stale = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (SERVER_DB_PREFIX + "%",)
        ).fetchall()
        for (name,) in stale:
            if not _run_alive(name):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def database_for(base_url: str, tmp: Path) -> str:
    """The database of the server started in directory ``tmp``: one per directory, as in a real
    deployment, where every process on one database shares its store and queue. A server
    started again in the same directory finds its data; other servers never see it (their
    housekeeping would otherwise take up its jobs against another store)."""
    if base_url.startswith("sqlite"):
        return f"sqlite:///{tmp / 'roughy.db'}"
    name = RUN_DB_PREFIX + hashlib.sha256(str(tmp).encode()).hexdigest()[:16]
    with psycopg.connect(_plain(base_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + "/" + name


@dataclass
class Server:
    base_url: str
    data_dir: Path
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    environ: dict[str, str]

    @property
    def local_key(self) -> str:
        return (self.data_dir / "local-api-key").read_text().strip()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(
    tmp: Path, database_url: str, *, max_file_bytes: int | None = None, **env: str
) -> Server:
    """A ``roughy serve`` process; ``max_file_bytes`` caps the size of any file it writes."""
    port = free_port()
    data_dir = Path(env.get("ROUGHY_DATA_DIR", tmp / "data"))
    database_url = database_for(database_url, tmp)
    log_path = tmp / "server.log"
    # Servers of one run share a Redis: each gets a queue of its own.
    queue = {**QUEUE_ENV, "ROUGHY_QUEUE_NAME": f"test-{uuid.uuid4().hex}"} if QUEUE_ENV else {}
    environ = {
        **os.environ,
        "ROUGHY_DATA_DIR": str(data_dir),
        "ROUGHY_DATABASE_URL": database_url,
        "ROUGHY_PORT": str(port),
        "ROUGHY_LOG_JSON": "true",
        "ROUGHY_SPEECH_MODELS_DIR": str(SPEECH_MODELS_DIR),
        # Servers made for one test transcribe at a cut only: their long noise recordings
        # would keep the CPU busy for minutes. The session's server keeps the default.
        "ROUGHY_TRANSCRIBE_ON_READY": "false",
        **queue,
        # In the S3 pass, each server directory stores under a prefix of its own (as a database).
        **(S3[0].env(hashlib.sha256(str(tmp).encode()).hexdigest()[:16]) if S3 else {}),
        **env,
    }
    roughy = shutil.which("roughy", path=str(Path(sys.executable).parent)) or "roughy"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [roughy, "serve"],
            env=environ,
            stdout=log,
            stderr=log,
            preexec_fn=None if max_file_bytes is None else lambda: _limit_files(max_file_bytes),
        )
    server = Server(f"http://127.0.0.1:{port}", data_dir, database_url, process, log_path, environ)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited:\n" + log_path.read_text())
        try:
            if httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("server did not start:\n" + log_path.read_text())


def start_worker(
    server: Server, log_path: Path, *, hostname: str | None = None, **env: str
) -> subprocess.Popen[bytes]:
    """A ``roughy worker`` process on the server's database and queue; with ``hostname``, in a
    UTS namespace of its own that names the machine so (as a worker on another host)."""
    roughy = shutil.which("roughy", path=str(Path(sys.executable).parent)) or "roughy"
    command = [roughy, "worker"]
    if hostname is not None:
        command = [
            "unshare",
            "--uts",
            "sh",
            "-c",
            f'hostname {hostname} && exec "$0" worker',
            roughy,
        ]
    with log_path.open("ab") as log:
        return subprocess.Popen(command, env={**server.environ, **env}, stdout=log, stderr=log)


def _limit_files(size: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.config.getoption("--db") == "postgresql":
        reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'roughy.db'}"


@pytest.fixture(scope="session")
def server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server | None
) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("server"), database_url, ROUGHY_TRANSCRIBE_ON_READY="true"
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def db(server: Server) -> Iterator[Database]:
    """Direct database access for test setup only (accounts); behaviour is tested over HTTP."""
    from roughy.config import Settings

    url = Settings(database_url=server.database_url).resolved_database_url
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def new_key(db: Database) -> str:
    import uuid

    with db.session() as session:
        account = accounts.create_account(
            session, f"user-{uuid.uuid4().hex[:12]}@example.com", credits=60
        )
        return accounts.mint_key(session, account).plaintext


@pytest.fixture
def api_key(db: Database) -> str:
    return new_key(db)


@pytest.fixture
def client(server: Server, api_key: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60
    ) as c:
        yield c


@pytest.fixture
def other_client(server: Server, db: Database) -> Iterator[httpx.Client]:
    """A second account's client."""
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {new_key(db)}"}, timeout=60
    ) as c:
        yield c


@pytest.fixture
def anon(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as c:
        yield c


@pytest.fixture
def project(client: httpx.Client) -> dict[str, object]:
    r = client.post("/v1/projects", json={"name": "Interviews"})
    assert r.status_code == 201, r.text
    return dict(r.json())


# --- real media, made with ffmpeg -----------------------------------------------------------


def ffmpeg(*args: str) -> None:
    binary = shutil.which("ffmpeg")
    assert binary, "ffmpeg is required (make test installs it)"
    subprocess.run([binary, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    sine = ["-f", "lavfi", "-i", "sine=frequency=330:duration=6"]
    ffmpeg(*sine, "-b:a", "128k", str(d / "talk.mp3"))
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=6",
        *sine, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(d / "talk.mp4"),
    )  # fmt: skip
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=3",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(d / "silent.mp4"),
    )  # fmt: skip
    (d / "doc.pdf").write_bytes(
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" * 40
    )
    (d / "random.bin").write_bytes(os.urandom(256 * 1024))
    names = {"mp3": "talk.mp3", "mp4": "talk.mp4", "silent_mp4": "silent.mp4", "pdf": "doc.pdf"}
    return {key: d / name for key, name in names.items()} | {"random": d / "random.bin"}
