"""The new/edit survey form as a coordinator fills it in, whatever the platform draws it with.

A form holds what the fields hold (mostly text); `to_config` turns it into a SurveyConfig and
reports every problem against the field it belongs to, so the platform can show it there.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from storage.models import Survey
from surveys.anonymity import DEFAULT_K, MIN_K
from surveys.banks import BankRegistry
from surveys.cadence import PERIOD_HOURS, WEEKDAYS, Cadence, read_cadence
from surveys.config import SurveyConfig

CUSTOM = "custom"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# Which form field a SurveyConfig field's error is shown on.
_CONFIG_TO_FORM = {
    "name": "name",
    "bank_ids": "bank_ids",
    "digest_channel": "digest_channel",
    "timezone": "timezone",
    "items_per_round": "items_per_round",
    "round_hours": "round_hours",
    "k": "k",
    "schedule": "time",
    "digest_schedule": "digest_time",
    "cadence": "cadence",
}


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class SurveyForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = "Trust pulse"
    bank_ids: list[str] = []
    channels: list[str] = []
    usergroup: str | None = None
    cadence: str = "weekly"
    weekday: str = "mon"
    time: str = "09:00"
    timezone: str = "Europe/London"
    items_per_round: str = "1"
    round_hours: str = "72"
    digest_channel: str | None = None
    digest_weekday: str = "fri"
    digest_time: str = "08:00"
    k: str = str(DEFAULT_K)
    # What "custom" keeps when editing a survey whose schedule the form cannot show.
    custom_schedule: str | None = None
    custom_digest_schedule: str | None = None

    @classmethod
    def from_survey(cls, survey: Survey) -> SurveyForm:
        values: dict[str, Any] = {
            "name": survey.name,
            "bank_ids": list(survey.bank_ids),
            "timezone": survey.timezone,
            "items_per_round": str(survey.items_per_round),
            "round_hours": str(survey.round_hours),
            "digest_channel": survey.digest_channel,
            "k": str(survey.k),
        }
        if survey.audience_kind == "usergroup":
            values["usergroup"] = survey.audience[0] if survey.audience else None
        else:
            values["channels"] = list(survey.audience)
        rounds = read_cadence(survey.schedule, survey.cadence)
        if rounds is None:
            values.update(cadence=CUSTOM, custom_schedule=survey.schedule)
        else:
            values.update(cadence=rounds.kind, weekday=rounds.weekday, time=rounds.time)
        digest = read_cadence(survey.digest_schedule, "weekly")
        if digest is None or digest.kind != "weekly":
            values.update(digest_weekday=CUSTOM, custom_digest_schedule=survey.digest_schedule)
        else:
            values.update(digest_weekday=digest.weekday, digest_time=digest.time)
        return cls.model_validate(values)

    def to_config(
        self,
        banks: BankRegistry,
        *,
        workspace_id: str | None,
        platform: str = "slack",
        segment_labels: dict[str, str] | None = None,
    ) -> SurveyConfig:
        """A valid SurveyConfig, or FormErrors naming each bad field."""
        errors: dict[str, str] = {}
        unknown = [b for b in self.bank_ids if b not in banks]
        if not self.bank_ids:
            errors["bank_ids"] = "Choose at least one question bank."
        elif unknown:
            errors["bank_ids"] = f"There is no bank '{unknown[0]}'."
        if self.channels and self.usergroup:
            errors["channels"] = "Choose the school channels or a user group, not both."
        elif not self.channels and not self.usergroup:
            errors["channels"] = "Choose the channels to send to (one per school), or a user group below."
        if not self.digest_channel:
            errors["digest_channel"] = "Choose the channel where leaders read the digest."
        numbers = {
            "items_per_round": (self.items_per_round, 1, 10, "Items per round"),
            "round_hours": (self.round_hours, 1, 24 * 28, "Hours open"),
            "k": (self.k, MIN_K, 100, "The anonymity threshold"),
        }
        parsed: dict[str, int] = {}
        for field, (raw, low, high, label) in numbers.items():
            try:
                value = int(str(raw).strip())
            except ValueError:
                errors[field] = f"{label} must be a whole number."
                continue
            if not low <= value <= high:
                extra = " (never below 3, so no answer can be singled out)" if field == "k" else ""
                errors[field] = f"{label} must be between {low} and {high}{extra}."
                continue
            parsed[field] = value

        schedule, cadence_kind = self._schedule(errors)
        digest_schedule = self._digest_schedule(errors)
        period = PERIOD_HOURS.get(cadence_kind)
        if period is not None and "round_hours" in parsed and parsed["round_hours"] > period:
            errors["round_hours"] = f"A {cadence_kind} round can stay open at most {period} hours, or rounds overlap."
        if errors:
            raise FormErrors(errors)

        audience_kind = "usergroup" if self.usergroup else "channels"
        audience = [self.usergroup] if self.usergroup else list(dict.fromkeys(self.channels))
        labels = {k: v for k, v in (segment_labels or {}).items() if k in audience}
        try:
            return SurveyConfig(
                name=self.name.strip() or "Trust pulse",
                platform=platform,
                workspace_id=workspace_id,
                bank_ids=list(dict.fromkeys(self.bank_ids)),
                audience_kind=audience_kind,
                audience=audience,
                segment_labels=labels,
                digest_channel=self.digest_channel,
                schedule=schedule,
                cadence=cadence_kind,
                digest_schedule=digest_schedule,
                timezone=self.timezone.strip(),
                items_per_round=parsed["items_per_round"],
                round_hours=parsed["round_hours"],
                k=parsed["k"],
            )
        except ValidationError as exc:
            raise FormErrors(config_errors(exc, audience_field="usergroup" if self.usergroup else "channels")) from None

    def _schedule(self, errors: dict[str, str]) -> tuple[str, str]:
        if self.cadence == CUSTOM and self.custom_schedule:
            return self.custom_schedule, CUSTOM
        if self.cadence not in ("weekly", "fortnightly", "monthly"):
            errors["cadence"] = "Choose weekly, fortnightly or monthly."
            return "", CUSTOM
        hour_minute = _hour_minute(self.time)
        if self.weekday not in WEEKDAYS:
            errors["weekday"] = "Choose a day of the week."
        if hour_minute is None:
            errors["time"] = "Give a time of day as HH:MM."
        if hour_minute is None or self.weekday not in WEEKDAYS:
            return "", self.cadence
        cadence = Cadence(kind=self.cadence, weekday=self.weekday, hour=hour_minute[0], minute=hour_minute[1])
        return cadence.cron(), self.cadence

    def _digest_schedule(self, errors: dict[str, str]) -> str:
        if self.digest_weekday == CUSTOM and self.custom_digest_schedule:
            return self.custom_digest_schedule
        hour_minute = _hour_minute(self.digest_time)
        if self.digest_weekday not in WEEKDAYS:
            errors["digest_weekday"] = "Choose a day of the week."
        if hour_minute is None:
            errors["digest_time"] = "Give a time of day as HH:MM."
        if hour_minute is None or self.digest_weekday not in WEEKDAYS:
            return ""
        return Cadence(kind="weekly", weekday=self.digest_weekday, hour=hour_minute[0], minute=hour_minute[1]).cron()


# The inputs a survey form shows, in order; each platform's form draws these ids (the custom_*
# fields only carry an unshowable schedule through an edit).
INPUT_FIELDS = tuple(name for name in SurveyForm.model_fields if not name.startswith("custom_"))


def _hour_minute(text: str) -> tuple[int, int] | None:
    match = _TIME.match(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def config_errors(exc: ValidationError, *, audience_field: str = "channels") -> dict[str, str]:
    """SurveyConfig's errors, each on the form field it belongs to."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        message = str(error["msg"]).removeprefix("Value error, ")
        if loc and loc[0] == "audience":
            field = audience_field
        elif loc:
            field = _CONFIG_TO_FORM.get(loc[0], "name")
        else:
            # Model-level checks name their field first: "schedule: ...".
            head = message.split(":", 1)[0]
            field = _CONFIG_TO_FORM.get(head, "name")
        errors.setdefault(field, message[:150])
    return errors
