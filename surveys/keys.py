"""Keys that let an open round recognise a person's answers, and nothing after it closes.

Each round gets a random nonce when it opens (storage/ballots.py keeps it in `round_keys`). The
round's key is HMAC(deployment secret, nonce): the database alone cannot link answers to people
while the round is open, and once the nonce is erased at sealing nobody can, the secret's holder
included. A person's respondent key for one question is HMAC(round key, subject | user id), so
keys differ per round and per item and cannot be joined across them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballots

NONCE_BYTES = 32
COMMENT_SUBJECT = "comment"


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)


def subject(bank_id: str, item_id: str) -> str:
    """What a key is for: one item of one bank (two banks may share an item id)."""
    return f"{bank_id}/{item_id}"


@dataclass(frozen=True)
class RoundKey:
    """An open round's key, held in memory only for as long as one request needs it."""

    round_id: int
    key: bytes

    @classmethod
    def derive(cls, secret: bytes, round_id: int, nonce: bytes) -> RoundKey:
        message = f"pulse-round|{round_id}|".encode() + nonce
        return cls(round_id, hmac.new(secret, message, hashlib.sha256).digest())

    def respondent(self, subject: str, user_id: str) -> str:
        """This person's key for one subject of this round."""
        return hmac.new(self.key, f"{subject}|{user_id}".encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never print the key, not even in a traceback
        return f"RoundKey(round_id={self.round_id})"


async def round_keys(
    session: AsyncSession, secret: bytes, round_ids: Iterable[int], *, lock: bool = False
) -> dict[int, RoundKey]:
    """The keys of those rounds that are still open for answers; a sealed round has none.

    `lock`: for a write to the ballot box, in `Database.writing()`: the round cannot be sealed
    before the transaction ends (storage/ballots.py).
    """
    nonces = await ballots.round_nonces(session, round_ids, lock=lock)
    return {round_id: RoundKey.derive(secret, round_id, nonce) for round_id, nonce in nonces.items()}


async def round_key(session: AsyncSession, secret: bytes, round_id: int, *, lock: bool = False) -> RoundKey | None:
    return (await round_keys(session, secret, [round_id], lock=lock)).get(round_id)
