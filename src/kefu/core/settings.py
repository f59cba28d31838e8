"""Settings from the environment (``KEFU_…``): the defaults need nothing installed."""

from __future__ import annotations

import secrets
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kefu.core.clock import DEFAULT_TIMEZONE, parse_zone


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", extra="ignore")

    data_dir: Path = Field(default=Path("kefu-data"), description="SQLite file, secret key, uploads")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in data_dir if unset")
    secret_key: str | None = Field(default=None, description="signs sessions; kept in data_dir if unset")
    session_idle_minutes: int = Field(default=30, ge=1)
    max_failed_logins: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    password_max_age_days: int = Field(default=90, ge=1)
    rules: list[Path] = Field(default_factory=list, description="the centre's rulebook files")
    timezone: str = Field(
        default=DEFAULT_TIMEZONE, description="the centre's clock: an IANA zone (Asia/Shanghai) or an offset (+08:00)"
    )
    escalation_interval: float = Field(
        default=300, ge=0, description="seconds between overdue-escalation rounds of `kefu serve`; 0 turns them off"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            parse_zone(value)
        except ValueError as err:
            raise ValueError(f"KEFU_TIMEZONE:{err}") from None
        return value.strip()

    @property
    def tz(self) -> tzinfo:
        return parse_zone(self.timezone)

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'kefu.db').resolve()}"

    def signing_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
