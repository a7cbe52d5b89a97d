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


@dataclass(frozen=True)
class Reminder:
    """A private nudge to one person with items of an open round still to answer."""

    round: RoundMessage
    unanswered: int


class PlatformError(Exception):
    """A send that failed. `retry_after` is set when the platform said when to try again.

    `maybe_delivered` is set when the message may have arrived all the same (a timeout, a 5xx, a
    dropped connection): the sender then asks `find_delivery` before posting it again. `gone` is
    set when the place refuses the app for good (it was removed, or blocked).
    """

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        maybe_delivered: bool = False,
        gone: bool = False,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.maybe_delivered = maybe_delivered
        self.gone = gone


class ChatPlatform(Protocol):
    name: str

    async def audience(self, kind: str, ids: Sequence[str]) -> list[Recipient]:
        """Where a round goes: the channels themselves, or each member of a user group."""
        ...

    async def audience_size(self, kind: str, ids: Sequence[str]) -> int:
        """How many people can answer: channel members, or the group's size."""
        ...

    async def post_round(self, destination: str, message: RoundMessage, *, delivery_id: int | None = None) -> str:
        """Post a round's items; return the platform's reference to the message.

        `delivery_id` (the outbox row) travels with the message, invisibly, so that
        `find_delivery` can recognise it later.
        """
        ...

    async def find_delivery(self, destination: str, delivery_id: int) -> str | None:
        """The reference of a message already posted for this delivery, or None if there is none.

        Asked before posting again a delivery whose earlier attempt may have arrived (the sender
        crashed, or the response was lost). Raises PlatformError when it cannot tell.
        """
        ...

    async def post_digest(self, destination: str, digest: Digest) -> None: ...

    async def channel_members(self, channel: str) -> list[str]:
        """The people in a channel (not the bot itself), asked at the moment of reminding."""
        ...

    async def remind(self, user: str, channel: str | None, reminder: Reminder) -> str | None:
        """Remind one person privately: seen by them alone in `channel`, or by DM when None.

        Returns where the reminder stays (to `withdraw` it when the round closes), or None when
        it leaves nothing behind (an ephemeral message).
        """
        ...

    async def withdraw(self, survey_id: int, ref: str) -> None:
        """Delete a reminder `remind` left behind. One already gone counts as withdrawn; raises
        PlatformError when the platform cannot do it now."""
        ...
