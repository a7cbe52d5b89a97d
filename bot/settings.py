"""The one settings object: environment variables and `.env`."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DEFAULT_URL, shown_url, url_problem

if TYPE_CHECKING:
    from bot.slack.platform import SlackBudget
    from surveys.sending import SendOptions

DEMO_SECRET = "pulse-demo-anonymity-secret-not-for-production"
# HMAC keys shorter than this can be guessed by trying; 32 characters is what `openssl rand -hex 16` gives.
MIN_SECRET_CHARS = 32


class MissingSetting(SystemExit):
    """Start-up stops with one line for each setting that is missing, all of them at once."""

    def __init__(self, name: str, why: str, *more: tuple[str, str]) -> None:
        lines = [f"pulse: {n} is not set ({w}). Set it in the environment or in .env." for n, w in [(name, why), *more]]
        super().__init__("\n".join(lines))


def setting_problems(exc: ValidationError) -> list[str]:
    """One line per setting the environment (or .env) got wrong: its variable, and what it needs."""
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]).upper() if error["loc"] else "a setting"
        given = error.get("input")
        secret = "SECRET" in name or "TOKEN" in name or "PASSWORD" in name
        if name == "DATABASE_URL" and isinstance(given, str):
            given = shown_url(given)  # never its password
        shown = f"={given}" if isinstance(given, (str, int, float)) and not secret else ""
        # pydantic prefixes the messages of our own validators; the reader needs only the reason.
        why = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"pulse: {name}{shown} is not valid: {why}. Fix it in the environment or in .env.")
    return lines


def _database_url(url: str) -> str:
    problem = url_problem(url)
    if problem:
        raise ValueError(problem)
    return url


def _long_secret(secret: SecretStr | None) -> SecretStr | None:
    if secret is not None and len(secret.get_secret_value()) < MIN_SECRET_CHARS:
        raise ValueError(
            f"it needs at least {MIN_SECRET_CHARS} characters, so that it cannot be guessed "
            "(`openssl rand -hex 32` makes one)"
        )
    return secret


def _given(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Multi-workspace installs (one Slack per school): Slack's OAuth flow at /slack/install, with
    # each workspace's bot token kept in the database. Off (single-workspace token mode) unless set.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # Only if the app has several redirect URLs; otherwise Slack uses the one in the manifest.
    slack_redirect_uri: str | None = None
    pulse_anonymity_secret: Annotated[SecretStr | None, AfterValidator(_long_secret)] = None
    database_url: Annotated[str, AfterValidator(_database_url)] = DEFAULT_URL
    port: int = Field(default=3000, ge=1, le=65535)
    host: str = "0.0.0.0"
    pulse_banks_dir: Path | None = Path("banks")
    # Extra coordinators by Slack user id, comma separated, beyond workspace admins and owners.
    pulse_coordinators: str = ""
    # Optional: a Slack user group (its id, S0123...) whose members are coordinators too.
    pulse_coordinator_group: str = ""
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], BeforeValidator(lambda v: str(v).strip().upper())
    ] = "INFO"
    # How often the counts of answers, picks and comments are logged and refreshed on /healthz
    # (bot/logs.py): never per click, and at least a minute apart, since a count's time dates clicks.
    pulse_counters_seconds: int = Field(default=3600, ge=60, le=86400)
    # Sending (surveys/sending.py, surveys/pacing.py). Slack allows about one message per second
    # per channel with short bursts, and a workspace-wide rate it does not publish: set the
    # workspace budget to what yours allows, divided between sending processes if you run several.
    pulse_send_channel_per_second: float = Field(default=1.0, gt=0)
    pulse_send_channel_burst: int = Field(default=3, ge=1)
    pulse_send_workspace_per_second: float = Field(default=10.0, gt=0)
    pulse_send_workspace_burst: int = Field(default=10, ge=1)
    # conversations.open / conversations.history (Slack's Tier 3: 50+ per minute), used only to look
    # for a delivery that may have arrived; DMs themselves are posted by user id.
    pulse_send_tier3_per_minute: float = Field(default=50.0, gt=0)
    pulse_send_concurrency: int = Field(default=32, ge=1, le=1000)
    pulse_send_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # How long a sender holds the deliveries it took; a crashed sender's are recovered after it.
    # Renewed while the sender lives: how long a crashed sender's deliveries wait to be taken over.
    pulse_send_lease_seconds: float = Field(default=20.0, ge=2, le=3600)
    # A delivery still failing this long after its first attempt is given up and shown as failed.
    pulse_send_give_up_minutes: float = Field(default=120.0, gt=0)
    # Microsoft Teams (the Entra app registration behind the bot). Teams is on when TEAMS_APP_ID is set.
    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    # A PFX file without a passphrase, instead of the password.
    teams_certificate_file: Path | None = None
    teams_tenant_id: str | None = None
    # Extra coordinators in Teams by Entra object id, comma separated (see the README for team owners).
    teams_coordinators: str = ""
    # Refuse activities whose serviceUrl is not a Microsoft host or differs from the token's claim.
    teams_check_service_url: bool = True
    # Only for tests and the demo: accept unauthenticated activities and send without tokens.
    teams_auth_disabled: bool = False

    def require_serve(self) -> None:
        """Everything `pulse serve` cannot run without, checked before anything starts."""
        required = {
            "SLACK_BOT_TOKEN": (self.slack_bot_token, "the bot token from the Slack app's OAuth page"),
            "SLACK_SIGNING_SECRET": (self.slack_signing_secret, "used to verify requests come from Slack"),
            "PULSE_ANONYMITY_SECRET": (self.pulse_anonymity_secret, "keys anonymous answers; keep it safe"),
        }
        if self.teams_enabled and self.slack_bot_token is None and self.slack_signing_secret is None:
            # A Teams-only deployment: Slack's secrets are not needed.
            del required["SLACK_BOT_TOKEN"], required["SLACK_SIGNING_SECRET"]
        if self.slack_oauth_enabled:
            # Each workspace's bot token comes from its installation, not from the environment.
            required.pop("SLACK_BOT_TOKEN", None)
            required["SLACK_SIGNING_SECRET"] = (self.slack_signing_secret, "used to verify requests come from Slack")
            required["SLACK_CLIENT_SECRET"] = (self.slack_client_secret, "from Basic Information, for OAuth installs")
        missing = [(name, why) for name, (value, why) in required.items() if not _given(value)]
        missing += self._teams_missing()
        if missing:
            raise MissingSetting(*missing[0], *missing[1:])

    def warnings(self) -> list[str]:
        """Settings that work but are probably not what was meant: said at start-up, nothing refused."""
        found = []
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        if token and not token.startswith("xoxb-"):
            found.append(
                "SLACK_BOT_TOKEN does not start with xoxb-: use the Bot User OAuth Token from the Slack "
                "app's OAuth & Permissions page (not a user xoxp- or app-level xapp- token)"
            )
        banks = self.pulse_banks_dir
        if "pulse_banks_dir" in self.model_fields_set and banks is not None and not banks.is_dir():
            found.append(f"PULSE_BANKS_DIR={banks} is not a folder: only the built-in banks are loaded")
        return [f"pulse: warning: {w}." for w in found]

    @property
    def slack_oauth_enabled(self) -> bool:
        return bool(self.slack_client_id)

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_app_id) or self.teams_auth_disabled

    def _teams_missing(self) -> list[tuple[str, str]]:
        if not self.teams_enabled or self.teams_auth_disabled:
            return []
        missing = []
        if self.teams_app_password is None and self.teams_certificate_file is None:
            missing.append(("TEAMS_APP_PASSWORD", "the client secret of the bot's app, or TEAMS_CERTIFICATE_FILE"))
        if not self.teams_tenant_id:
            missing.append(("TEAMS_TENANT_ID", "the Entra tenant of the bot's single-tenant app registration"))
        return missing

    def require_teams(self) -> None:
        """With Teams on, authentication is complete or explicitly (and loudly) switched off."""
        missing = self._teams_missing()
        if missing:
            raise MissingSetting(*missing[0], *missing[1:])

    @property
    def teams_coordinator_ids(self) -> set[str]:
        return {u.strip() for u in self.teams_coordinators.split(",") if u.strip()}

    def send_options(self) -> SendOptions:
        from surveys.pacing import RetryPolicy
        from surveys.sending import SendOptions

        lease = dt.timedelta(seconds=self.pulse_send_lease_seconds)
        return SendOptions(
            concurrency=self.pulse_send_concurrency,
            lease=lease,
            # Calls still running halfway through it are cancelled, so none is under way at the lapse.
            lease_margin=lease / 2,
            retry=RetryPolicy(give_up_after=dt.timedelta(minutes=self.pulse_send_give_up_minutes)),
        )

    def slack_budget(self) -> SlackBudget:
        from bot.slack.platform import SlackBudget
        from surveys.pacing import Rate

        return SlackBudget(
            post_per_channel=Rate(self.pulse_send_channel_per_second, self.pulse_send_channel_burst),
            post_workspace=Rate(self.pulse_send_workspace_per_second, self.pulse_send_workspace_burst),
            tier3=Rate.per_minute(self.pulse_send_tier3_per_minute, 5),
            timeout=self.pulse_send_timeout_seconds,
        )

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
