"""Settings from the environment (``KEFU_…``): the defaults need nothing installed."""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kefu.core.clock import DEFAULT_TIMEZONE, parse_zone


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", extra="ignore")

    data_dir: Path = Field(default=Path("kefu-data"), description="SQLite file, secret key, uploads")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in data_dir if unset")
    secret_key: str | None = Field(default=None, description="signs sessions; kept in data_dir if unset")
    session_idle_minutes: int = Field(default=30, ge=1, description="a session unused this long ends (server-side)")
    max_failed_logins: int = Field(
        default=5, ge=1, description="failed logins for one 工号 from one address before that pair is paused"
    )
    max_failed_logins_per_address: int = Field(
        default=50, ge=1, description="failed logins from one address (any 工号) before the address is paused"
    )
    lockout_minutes: int = Field(
        default=15, ge=1, description="how long a pause lasts after the last failure; older failures are forgotten"
    )
    https: bool = Field(default=False, description="the site is reached over HTTPS: session cookies always Secure")
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto are believed",
    )
    password_max_age_days: int = Field(default=90, ge=1)
    # argon2id's cost for new password hashes (kefu.core.security). A hash carries the cost it was
    # made with, so hashes made before a change still verify; a login re-hashes them at this cost.
    password_hash_time_cost: int = Field(default=3, ge=1, le=100, description="argon2 passes over the memory")
    password_hash_memory_kib: int = Field(default=65536, ge=8, description="argon2 memory per hash, in KiB")
    password_hash_parallelism: int = Field(default=4, ge=1, le=64, description="argon2 lanes per hash")
    rules: list[Path] = Field(default_factory=list, description="the centre's rulebook files")
    timezone: str = Field(
        default=DEFAULT_TIMEZONE, description="the centre's clock: an IANA zone (Asia/Shanghai) or an offset (+08:00)"
    )
    escalation_interval: float = Field(
        default=300, ge=0, description="seconds between overdue-escalation rounds of `kefu serve`; 0 turns them off"
    )
    job_worker: Literal["process", "thread"] = Field(
        default="process",
        description="where imports and exports run (kefu.jobs): a worker process beside the server, or a thread of "
        "it (tests, debugging; heavy jobs then slow the web requests down)",
    )
    # Under load (kefu.web.admission): per server process, at most this many requests use the
    # database at once; the connection pool is sized from it (pool_size).
    max_concurrent_requests: int = Field(
        default=8, ge=1, le=64, description="requests one server process works on at once; more wait or get 503"
    )
    admission_wait_ms: int = Field(
        default=300, ge=0, le=10_000, description="how long a request may wait for a free place before its 503"
    )
    retry_after_seconds: int = Field(default=2, ge=1, le=3600, description="the Retry-After a 503 answer carries")
    # Performance (SPEC §7): how the centre counts; seed 003 sets 85% of calls within 20 s.
    service_level_seconds: float = Field(default=20, gt=0, le=600, description="服务水平:几秒内接听算及时")
    service_level_target: float = Field(default=0.85, gt=0, le=1, description="服务水平目标")
    abandon_policy: Literal["short_ignored", "failures", "ignored"] = Field(
        default="short_ignored", description="放弃的来电如何计入服务水平(centres disagree)"
    )
    short_abandon_seconds: float = Field(default=5, ge=0, le=120, description="这么多秒内挂断的放弃来电不计入")
    fcr_days: int = Field(default=7, ge=1, le=90, description="一次解决率:几天内同一客户同一原因再来电算未解决")
    # Workforce (SPEC §8): seed 004 publishes the roster a week ahead and takes leave three days ahead.
    shrinkage: float = Field(default=0.3, ge=0, lt=1, description="排班缩减率:休息、培训、请假占排班时间的比例")
    patience_seconds: float | None = Field(
        default=None, gt=0, le=3600, description="客户平均耐心(秒);设置后按 Erlang A(含放弃)计算人力"
    )
    leave_notice_days: int = Field(default=3, ge=0, le=60, description="请假至少提前几天申请")
    roster_notice_days: int = Field(default=7, ge=0, le=60, description="排班至少提前几天发布")
    # Training (SPEC §9, seed 004): the theory exam.
    exam_blueprint: str = Field(
        default="single:30x1,multiple:15x2,true_false:10x1,short:5x6",
        description="理论考核试卷结构:题型:题数x每题分值,总分 100",
    )
    exam_minutes: int = Field(default=90, ge=1, le=600, description="理论考核时长(分钟)")
    exam_pass_mark: float = Field(default=80, gt=0, le=100, description="理论考核及格分")
    exam_multiple_scoring: Literal["all_or_nothing", "partial"] = Field(
        default="all_or_nothing", description="多选题计分:全对才得分,或少选得一半分"
    )
    exam_retake_days: int = Field(default=7, ge=0, le=90, description="补考最早在首次考试几天后")
    db_pool_timeout: float = Field(
        default=3, gt=0, le=30, description="seconds to wait for a database connection before answering 503"
    )
    shutdown_timeout: int = Field(
        default=5, ge=1, le=300, description="seconds a stopping server (SIGTERM) lets requests under way finish"
    )

    @property
    def pool_size(self) -> int:
        """Connections kept per server process: one per admitted request, plus the background
        work (the overdue escalation round, the search index build)."""
        return self.max_concurrent_requests + 2

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            parse_zone(value)
        except ValueError as err:
            raise ValueError(f"KEFU_TIMEZONE:{err}") from None
        return value.strip()

    @model_validator(mode="after")
    def _enough_hash_memory(self) -> Settings:
        if self.password_hash_memory_kib < 8 * self.password_hash_parallelism:  # argon2's own floor
            raise ValueError(
                "KEFU_PASSWORD_HASH_MEMORY_KIB 至少是 KEFU_PASSWORD_HASH_PARALLELISM 的 8 倍"
                f"(现为 {self.password_hash_memory_kib} 与 {self.password_hash_parallelism})"
            )
        return self

    @property
    def tz(self) -> tzinfo:
        return parse_zone(self.timezone)

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'kefu.db').resolve()}"

    def ensure_data_dir(self) -> Path:
        """The data folder; when kefu creates it, only its owner may enter (0700): it holds the
        database and the secret key."""
        return private_dir(self.data_dir)

    def signing_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.ensure_data_dir()
            # Written whole to a 0600 temporary file (mkstemp's mode), then linked into place: never
            # readable by others, never seen half-written, and a process that starts at the same
            # moment keeps the key that got there first.
            descriptor, temporary = tempfile.mkstemp(dir=self.data_dir, prefix=".secret_key.")
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                    file.write(secrets.token_urlsafe(48))
                os.link(temporary, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(temporary)
        return path.read_text(encoding="utf-8").strip()


def private_dir(path: Path) -> Path:
    """``path`` as a folder; made 0700 when it does not exist yet (a folder that exists is the
    operator's: left as it is)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            return path
        path.chmod(0o700)  # mkdir's mode went through the umask
    return path


@lru_cache
def get_settings() -> Settings:
    return Settings()
