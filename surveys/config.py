"""A survey's settings as coordinators give them, validated once for the CLI, the modal and Teams."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from storage.models import Survey
from surveys.anonymity import DEFAULT_K, MIN_K
from surveys.calendar import DEFAULT_QUIET_END, DEFAULT_QUIET_START, QuietRules, RoundTrigger
from surveys.schedule import ScheduleError, trigger, zone

ChannelId = Annotated[str, Field(pattern=r"^[A-Z0-9][A-Za-z0-9_-]{1,63}$")]


class SurveyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)] = "Trust pulse"
    platform: Literal["slack", "teams"] = "slack"
    workspace_id: str | None = None
    bank_ids: Annotated[list[str], Field(min_length=1, max_length=5)]
    audience_kind: Literal["channels", "usergroup"] = "channels"
    audience: Annotated[list[ChannelId], Field(min_length=1, max_length=100)]
    segment_labels: dict[str, str] = {}
    digest_channel: ChannelId
    schedule: str = "0 9 * * 1"
    # How `schedule` was chosen; "fortnightly" makes sending skip alternate weeks (surveys/cadence.py).
    cadence: Literal["weekly", "fortnightly", "monthly", "custom"] = "custom"
    digest_schedule: str = "0 8 * * 5"
    timezone: str = "Europe/London"
    items_per_round: Annotated[int, Field(ge=1, le=10)] = 1
    round_hours: Annotated[int, Field(ge=1, le=24 * 28)] = 72
    k: Annotated[int, Field(ge=MIN_K, le=100)] = DEFAULT_K
    # Quiet hours (local; may run past midnight; both None for none) and weekends: surveys/calendar.py.
    quiet_start: dt.time | None = DEFAULT_QUIET_START
    quiet_end: dt.time | None = DEFAULT_QUIET_END
    quiet_weekends: bool = True
    # The one reminder, this many hours before a round closes; 0 for none.
    remind_hours: Annotated[int, Field(ge=0, le=24 * 28)] = 24

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone(value)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _schedules(self) -> SurveyConfig:
        for name in ("schedule", "digest_schedule"):
            try:
                trigger(getattr(self, name), self.timezone)
            except ScheduleError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return self

    @model_validator(mode="after")
    def _quiet_hours(self) -> SurveyConfig:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_start: give quiet hours both a start and an end, or neither")
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValueError("quiet_start: quiet hours must end at a different time from when they start")
        rules = QuietRules(self.quiet_start, self.quiet_end, self.quiet_weekends)
        sends = RoundTrigger(self.schedule, self.timezone, rules)
        if sends.get_next_fire_time(None, dt.datetime.now(dt.UTC)) is None:
            raise ValueError(
                "schedule: every time it names is in quiet hours or at a weekend, so no round would go out"
            )
        return self

    def to_model(self) -> Survey:
        return Survey(**self.model_dump(), seed=secrets.randbelow(2**31), paused=False)

    def apply(self, survey: Survey) -> None:
        for key, value in self.model_dump().items():
            setattr(survey, key, value)
