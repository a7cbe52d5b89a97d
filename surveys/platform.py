"""The small protocol a chat platform implements. The domain never knows which one it talks to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from surveys.banks import Bank, Item

if TYPE_CHECKING:
    from surveys.digest import Digest


@dataclass(frozen=True)
class Prompt:
    """One item as it is put to people in a round."""

    bank: Bank
    item: Item


@dataclass(frozen=True)
class RoundMessage:
    survey_id: int
    survey_name: str
    round_id: int
    closes_at: dt.datetime
    timezone: str
    prompts: Sequence[Prompt]
    k: int = 5


@dataclass(frozen=True)
class Recipient:
    destination: str
    segment: str


class PlatformError(Exception):
    """A send that failed. `retry_after` is set when the platform said when to try again."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class ChatPlatform(Protocol):
    name: str

    async def audience(self, kind: str, ids: Sequence[str]) -> list[Recipient]:
        """Where a round goes: the channels themselves, or each member of a user group."""
        ...

    async def audience_size(self, kind: str, ids: Sequence[str]) -> int:
        """How many people can answer: channel members, or the group's size."""
        ...

    async def post_round(self, destination: str, message: RoundMessage) -> str:
        """Post a round's items; return the platform's reference to the message."""
        ...

    async def post_digest(self, destination: str, digest: Digest) -> None: ...
