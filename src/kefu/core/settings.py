"""Settings from the environment (``KEFU_…``): the defaults need nothing installed."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
