"""Typed settings, read from ``ROUGHY_*`` environment variables."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

GIB = 1024**3
# The bounds of a cut's options, in a request and in the settings that are their defaults.
MAX_PAUSE_LIMIT_SECONDS = 60.0
PADDING_LIMIT_SECONDS = 5.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROUGHY_", extra="ignore")

    data_dir: Path = Path("./.roughy")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in the data dir."
    )
    public_url: str | None = Field(
        default=None, description="Base URL clients see, e.g. https://api.example.com"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str | None = Field(
        default=None, description="Signs download URLs; default: a key kept in the data dir."
    )

    upload_fsync: bool = Field(
        default=True, description="Acknowledge offsets only after fsync; off only for benchmarks."
    )
    upload_checkpoint_bytes: int = Field(
        default=256 * 1024 * 1024,
        gt=0,
        description="A long PATCH acknowledges its bytes this often: a crash loses at most this.",
    )
    upload_expiry_seconds: int = 48 * 3600
    upload_lock_wait_seconds: float = 3.0
    upload_idle_timeout_seconds: float = 60.0
    max_upload_bytes: int = 50 * GIB
    reaper_interval_seconds: float = 60.0
    shutdown_grace_seconds: int = Field(
        default=10, description="On stop, running uploads get this long, then keep what arrived."
    )
    download_url_ttl_seconds: int = 15 * 60
    upload_token_ttl_seconds: int = Field(
        default=6 * 3600,
        gt=0,
        description="How long an upload token (POST /v1/assets with upload_token) is valid; a "
        "PATCH that started before it expired runs to its end.",
    )
    ffmpeg: str | None = Field(
        default=None,
        description="The ffmpeg binary renders run; default: the static build that the "
        "imageio-ffmpeg package installs with Roughy.",
    )

    credits_enforced: bool = Field(
        default=True, description="Charge for processing; off for self-hosting without billing."
    )
    signup_credits: int = Field(default=60, description="Credits granted to each new account.")
    unpaid_retention_seconds: int = Field(
        default=30 * 24 * 3600, description="pending_payment assets are purged after this long."
    )

    storage_url: str | None = Field(
        default=None,
        description="Where bytes live: a directory (default: blobs/ in the data dir), or "
        "s3://bucket/prefix for an S3-compatible store (several machines).",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="The S3 server, e.g. http://127.0.0.1:8080; default: AWS."
    )
    s3_region: str | None = Field(default=None, description="Default: AWS_REGION, us-east-1.")
    s3_access_key_id: str | None = Field(
        default=None, description="Default: the standard AWS variables and files."
    )
    s3_secret_access_key: str | None = Field(default=None)
    s3_max_parts: int = Field(
        default=10_000,
        ge=1,
        le=10_000,
        description="The server's most parts in a multipart upload (Swift's s3api: 1,000 "
        "unless raised); the part size follows from it and the upload's length.",
    )
    s3_presigned_downloads: bool = Field(
        default=False,
        description="Download URLs redirect to a presigned URL of the S3 server instead of "
        "streaming through the API (the server must be reachable by clients).",
    )
    storage_cache_bytes: int = Field(
        default=20 * GIB,
        gt=0,
        description="The bound of the jobs' local cache of objects (in the data dir; the least "
        "recently used go first), for a store whose objects tools cannot read in place or by "
        "URL: on S3, tools read presigned URLs with Range requests and nothing is cached.",
    )
    s3_orphan_grace_seconds: int = Field(
        default=3600,
        ge=0,
        description="A multipart upload in the bucket that no unfinished upload owns is aborted "
        "with its objects once this old (a crash between the store and the database).",
    )

    redis_url: str | None = Field(
        default=None, description="Job queue on Redis (scale-out); default: SQLite in the data dir."
    )
    queue_name: str = Field(
        default="roughy", description="Name of the job queue; deployments sharing a Redis differ."
    )
    embedded_worker: bool = Field(
        default=True, description="`roughy serve` runs a job worker beside the API."
    )
    worker_threads: int = Field(default=2, ge=1, description="Jobs one worker runs at once.")
    job_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A running job renews its claim this often ×3; a dead worker's job runs again "
        "once its claim lapses.",
    )

    speech_model: str = Field(
        default="base",
        description='Whisper model: "base" (multilingual), "tiny.en" (fast, English only), or the '
        "path of a CTranslate2 Whisper model directory (a larger model, a GPU machine).",
    )
    speech_models_dir: Path | None = Field(
        default=None,
        description="Where the speech models are prepared once; default: models/ in the data dir. "
        "Processes on one machine may share it.",
    )
    speech_threads: int = Field(default=2, ge=1, description="CPU threads one transcription uses.")
    transcribe_on_ready: bool = Field(
        default=True,
        description="Transcribe each asset once it is ready, so its first cut is quick.",
    )
    # The defaults of a cut's options (``POST /v1/cuts`` ``options``): a cut that leaves one
    # out takes it from here, within the same bounds a request has.
    cut_policy: Literal["last", "best"] = Field(
        default="last", description="Which complete take of a script line a cut keeps."
    )
    cut_max_pause_seconds: float = Field(
        default=0.4,
        gt=0,
        le=MAX_PAUSE_LIMIT_SECONDS,
        description="Longer pauses inside kept speech are shortened to this.",
    )
    cut_padding_before_seconds: float = Field(
        default=0.08,
        ge=0,
        le=PADDING_LIMIT_SECONDS,
        description="Kept before the first word of each kept stretch of speech.",
    )
    cut_padding_after_seconds: float = Field(
        default=0.16,
        ge=0,
        le=PADDING_LIMIT_SECONDS,
        description="Kept after the last word of each kept stretch of speech.",
    )
    cut_remove_fillers: bool = Field(
        default=True, description="Cut out fillers (um, uh) inside kept speech."
    )
    cut_remove_repeats: bool = Field(
        default=True,
        description="Without a script, drop a sentence the next one starts over (a restart or "
        "a retake).",
    )
    cut_min_filler_seconds: float = Field(
        default=0.12, ge=0, description="Fillers (um, uh) at least this long are cut out."
    )

    webhook_allow_private: bool = Field(
        default=False,
        description="Webhook endpoints may be plain http and private, loopback or link-local "
        "addresses (self-hosting on a private network; the test suite's receiver).",
    )
    webhook_retry_schedule: list[float] = Field(
        default=[5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
        min_length=1,
        description="Seconds before each retry of a failed webhook delivery (±20 % jitter); "
        "after the last one the delivery has failed. The default spans about three days.",
    )
    webhook_timeout_seconds: float = Field(
        default=15.0, gt=0, description="A webhook attempt that has no answer by then failed."
    )
    webhook_disable_after_seconds: float = Field(
        default=5 * 24 * 3600,
        gt=0,
        description="An endpoint whose every attempt failed for this long is disabled.",
    )
    webhook_rotation_overlap_seconds: float = Field(
        default=24 * 3600,
        ge=0,
        description="After a secret rotation, the old secret signs too, for this long.",
    )
    webhook_poll_seconds: float = Field(
        default=0.1,
        gt=0,
        description="How often each worker looks for events to send and retries that are due.",
    )
    webhook_concurrency: int = Field(
        default=8, ge=1, description="Deliveries one worker sends to one endpoint at once."
    )

    cors_origins: list[str] = ["*"]
    log_level: str = "INFO"
    log_json: bool = True

    @cached_property
    def resolved_database_url(self) -> str:
        url = self.database_url or f"sqlite:///{(self.data_dir / 'roughy.db').resolve()}"
        # psycopg 3 is the driver we ship; plain postgresql:// URLs would pick psycopg2.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @cached_property
    def signing_key(self) -> bytes:
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def models_dir(self) -> Path:
        return self.speech_models_dir or self.data_dir / "models"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"
