"""The one settings object: environment variables and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DEFAULT_URL

DEMO_SECRET = "pulse-demo-anonymity-secret-not-for-production"


class MissingSetting(SystemExit):
    """Start-up stops with one line naming what is missing."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"pulse: {name} is not set ({why}). Set it in the environment or in .env.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    pulse_anonymity_secret: SecretStr | None = None
    database_url: str = DEFAULT_URL
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    pulse_banks_dir: Path | None = Path("banks")
    # Extra coordinators by Slack user id, comma separated, beyond workspace admins and owners.
    pulse_coordinators: str = ""
    log_level: str = "INFO"

    def require_serve(self) -> None:
        """Everything `pulse serve` cannot run without, checked before anything starts."""
        required = {
            "SLACK_BOT_TOKEN": (self.slack_bot_token, "the bot token from the Slack app's OAuth page"),
            "SLACK_SIGNING_SECRET": (self.slack_signing_secret, "used to verify requests come from Slack"),
            "PULSE_ANONYMITY_SECRET": (self.pulse_anonymity_secret, "keys anonymous answers; keep it safe"),
        }
        for name, (value, why) in required.items():
            if value is None or not value.get_secret_value():
                raise MissingSetting(name, why)

    def anonymity_secret(self) -> bytes:
        if self.pulse_anonymity_secret is None:
            raise MissingSetting("PULSE_ANONYMITY_SECRET", "keys anonymous answers; keep it safe")
        return self.pulse_anonymity_secret.get_secret_value().encode()

    @property
    def coordinator_ids(self) -> set[str]:
        return {u.strip() for u in self.pulse_coordinators.split(",") if u.strip()}

    @property
    def api_base_url(self) -> str:
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
