"""The hostile operator: holding every byte, the secret, the member list and the logs, who said what?

Eight people answer a statement, a strand check-in (both halves), the trust-behaviour picks and
a comment, through the same calls the Slack and Teams listeners make. The operator then tries
everything we could think of to put names to answers:

* **re-keying**: read the round's nonce, derive the round key with `PULSE_ANONYMITY_SECRET`,
  work out each member's respondent keys and look them up; also the old scheme (a key from the
  secret alone) against every 64-hex string in the files;
* **the files**: search the database's every byte (SQLite's main file, WAL and shared memory;
  PostgreSQL's whole data directory, WAL segments included) for any member's respondent key, any
  picks ballot and any click time (`seq`, in both byte orders);
* **physical order**: the order sealed rows sit in (rowid, ctid) and the transactions that wrote
  them (xmin), which could follow the order answers came in;
* **the logs**: every log line written at DEBUG, for a member's id.

Before sealing the round the operator links every answer (the test shows it can fail); after
sealing it links nobody.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.logs import quiet_chatty_loggers
from storage import ballots
from storage.db import Database
from storage.models import HeldAnswer, RoundKey, SealedComment, SealedCount
from surveys.answers import Answer, click_seq, record_answer
from surveys.banks import BankRegistry
from surveys.closing import awaiting_scrub, close_due_rounds, scrub
from surveys.comments import record_comment
from surveys.keys import COMMENT_SUBJECT, subject
from surveys.keys import RoundKey as Key
from surveys.picks import PickSet, record_picks
from tests.surveys.helpers import NOW, SCHOOL, new_round

SECRET = b"the operator has this too"
MEMBERS = [f"U0MEMBER{n}" for n in range(8)]
STATEMENTS, STRANDS, PICKS = "staff-trust-in-leadership", "maturity-strands", "leadership-trust-behaviours"
OPTIONS = ["strongly-agree", "agree", "disagree", "strongly-disagree"]
LEVELS = ["beginning", "developing", "embedding", "leading"]
HEX64 = re.compile(rb"[0-9a-f]{64}")


@dataclass
class Truth:
    """What each member really answered, and every trace of it the ballot box held while open."""

    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    ballots: set[str] = field(default_factory=set)
    seqs: set[int] = field(default_factory=set)
    comments: list[str] = field(default_factory=list)


async def vote(db: Database, banks: BankRegistry) -> tuple[int, Truth]:
    round_ = await new_round(db, banks, [STATEMENTS, STRANDS, PICKS], items=3)
    refs = {ref["bank"]: ref["item"] for ref in round_.items}
    assert set(refs) == {STATEMENTS, STRANDS, PICKS}
    behaviours = [i.id for i in banks[PICKS].items]
    truth = Truth()
    # Answers in an order unrelated to the members' order, a second apart, as real clicks would be.
    for n, person in sorted(enumerate(MEMBERS), key=lambda p: (p[0] * 5) % 8):
        at = NOW + dt.timedelta(minutes=10, seconds=n)
        mine = truth.answers[person] = {}
        for bank, option, facet in (
            (STATEMENTS, OPTIONS[n % 4], ""),
            (STRANDS, LEVELS[n % 4], "now"),
            (STRANDS, LEVELS[(n + 1) % 4], "future"),
        ):
            answer = Answer.model_validate({"r": round_.id, "i": refs[bank], "o": option, "f": facet})
            seq = click_seq(at) + len(mine)
            result = await record_answer(db, banks, SECRET, answer, user_id=person, channel_id=SCHOOL, now=at, seq=seq)
            assert result.outcome.value == "recorded"
            mine[f"{bank}:{facet}"] = option
            truth.seqs.add(seq)
        strong = (behaviours[n], behaviours[(n + 3) % len(behaviours)])
        picks = {"self": PickSet(strong=strong, weak=(behaviours[(n + 8) % len(behaviours)],))}
        seq = click_seq(at) + 10
        result = await record_picks(
            db, banks, SECRET, round_.id, PICKS, picks, user_id=person, channel_id=SCHOOL, now=at, seq=seq
        )
        assert result.outcome.value == "recorded"
        mine["picks"] = ",".join(strong)
        truth.seqs.add(seq)
        words = f"Remark by the {n}th person to write"
        assert (await record_comment(db, SECRET, round_.id, person, SCHOOL, words, at)).outcome.value == "recorded"
        truth.comments.append(words)
    async with db.session() as session:
        for row in (await session.scalars(select(HeldAnswer))).all():
            truth.keys.add(row.respondent_key)
            if row.picks:
                truth.ballots.add(row.picks)
    return round_.id, truth


class Operator:
    """Everything a hostile operator holds, and what they try with it."""

    def __init__(self, db: Database, banks: BankRegistry, round_id: int, logs: list[str]) -> None:
        self.db, self.banks, self.round_id, self.logs = db, banks, round_id, logs

    async def files(self) -> bytes:
        if self.db.is_sqlite:
            path = Path(make_url(self.db.url).database or "")
            return read_all([path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")])
        async with self.db.engine.connect() as conn:
            data = Path(str(await conn.scalar(text("SHOW data_directory"))))
        return read_tree(data)

    async def rekey(self) -> dict[str, dict[str, str]]:
        """Who answered what, from the round's nonce and the secret (what the open round allows)."""
        async with self.db.session() as session:
            nonce = await session.scalar(select(RoundKey.nonce).where(RoundKey.round_id == self.round_id))
            held = (await session.scalars(select(HeldAnswer))).all()
        if nonce is None:
            return {}
        key = Key.derive(SECRET, self.round_id, bytes(nonce))
        rounds = await self._refs()
        found: dict[str, dict[str, str]] = {}
        for person in MEMBERS:
            mine = {key.respondent(subject(bank, item), person) for bank, item in rounds.items()}
            for row in held:
                if row.respondent_key in mine:
                    slot = "picks" if row.picks else f"{row.bank_id}:{row.facet}"
                    value = row.option
                    if row.picks:
                        value = ",".join(i for i, option, _, _ in json.loads(row.picks) if option == "strong")
                    found.setdefault(person, {})[slot] = value
        return found

    async def _refs(self) -> dict[str, str]:
        from storage.models import Round

        async with self.db.session() as session:
            round_ = await session.get(Round, self.round_id)
        assert round_ is not None
        return {ref["bank"]: ref["item"] for ref in round_.items}

    async def old_scheme_keys(self, blob: bytes) -> set[str]:
        """Any 64-hex string in the files that a key from the secret alone would explain."""
        import hashlib
        import hmac

        seen = {m.decode() for m in HEX64.findall(blob)}
        rounds = await self._refs()
        guesses = {
            hmac.new(SECRET, f"{self.round_id}|{item}|{person}".encode(), hashlib.sha256).hexdigest()
            for item in [*rounds.values(), COMMENT_SUBJECT]
            for person in MEMBERS
        }
        return seen & guesses

    async def sealed_order(self) -> tuple[list[tuple[object, ...]], set[object]]:
        """The sealed counts in the order they sit on disk, and the transactions that wrote them."""
        cols = ", ".join(ballots.COUNT_COLUMNS)
        async with self.db.session() as session:
            if self.db.is_sqlite:
                # No ORDER BY: the table's b-tree order, as a reader of the file would walk it.
                rows = (await session.execute(text(f"SELECT {cols} FROM sealed_counts"))).all()
                writers: set[object] = set()
            else:
                rows = (await session.execute(text(f"SELECT {cols} FROM sealed_counts ORDER BY ctid"))).all()
                writers = set((await session.scalars(text("SELECT xmin::text FROM sealed_counts"))).all())
        return [tuple(r) for r in rows], writers


def read_all(paths: list[Path]) -> bytes:
    """Every byte of these files (the whole data directory, WAL segments included, on PostgreSQL)."""
    return b"".join(p.read_bytes() for p in paths if p.is_file())


def read_tree(root: Path) -> bytes:
    return read_all(sorted(root.rglob("*")))


def traces(blob: bytes, truth: Truth) -> dict[str, int]:
    """How many of the open round's per-person traces are still somewhere in the bytes."""
    seqs = [s for s in truth.seqs if struct.pack(">q", s) in blob or struct.pack("<q", s) in blob]
    return {
        "keys": sum(1 for k in truth.keys if k.encode() in blob),
        "ballots": sum(1 for b in truth.ballots if b.encode() in blob),
        "seqs": len(seqs),
    }


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    quiet_chatty_loggers()
    caplog.set_level(logging.DEBUG)
    return caplog.records


async def scrubbed(db: Database, limit: float = 30.0) -> None:
    """What the clock does each minute: try the scrub again while something older holds it back
    (on PostgreSQL, an autovacuum worker's ANALYZE can, for a moment)."""
    deadline = asyncio.get_running_loop().time() + limit
    while await awaiting_scrub(db):
        assert asyncio.get_running_loop().time() < deadline, "the scrub never went through"
        await asyncio.sleep(0.2)
        await scrub(db)


async def test_the_operator_links_everyone_while_open_and_nobody_once_sealed(
    db: Database, banks: BankRegistry, logs: list[logging.LogRecord]
) -> None:
    round_id, truth = await vote(db, banks)
    lines = [r.getMessage() for r in logs]
    operator = Operator(db, banks, round_id, lines)

    # Open: the nonce is in the database, so the secret's holder can re-key everyone (docs/anonymity.md).
    assert await operator.rekey() == truth.answers
    # ...and the bytes hold the keys, ballots and click times (a record split across two WAL pages
    # can hide one from a plain search, so "some of each", not "every one").
    before = traces(await operator.files(), truth)
    assert len(truth.ballots) == len(MEMBERS) and all(n > 0 for n in before.values()), before

    closed = await close_due_rounds(db, now=NOW + dt.timedelta(days=4))
    assert closed == [round_id]
    await scrubbed(db)

    # Sealed: no nonce to re-key with, and no key from the secret alone.
    assert await operator.rekey() == {}
    blob = await operator.files()
    assert await operator.old_scheme_keys(blob) == set()
    # Not a key, not a ballot, not a click time, anywhere in the files.
    assert traces(blob, truth) == {"keys": 0, "ballots": 0, "seqs": 0}
    # The counts sit in the order of their groups, written by one transaction: no order of arrival.
    rows, writers = await operator.sealed_order()
    assert rows == sorted(rows) and len(writers) <= 1
    async with db.session() as session:
        texts = (await session.scalars(select(SealedComment.text).order_by(SealedComment.ordinal))).all()
        counted = sum(c.n for c in (await session.scalars(select(SealedCount))).all())
    assert list(texts) == sorted(truth.comments, key=lambda t: ballots.comment_order(round_id, t))
    assert counted > 0
    # The picks are counts per behaviour now: nothing puts one person's picks back together.
    assert all(b.encode() not in blob for b in truth.ballots)
    # And no line of the log names a member.
    for line in [r.getMessage() for r in logs]:
        assert not any(person in line for person in MEMBERS), line


async def test_a_snapshot_older_than_the_seal_postpones_the_scrub_until_it_ends(
    db: Database, banks: BankRegistry, logs: list[logging.LogRecord]
) -> None:
    """PostgreSQL's VACUUM FULL keeps a deleted row that an older snapshot could still see (an open
    transaction, an autovacuum worker's ANALYZE): the scrub waits for it rather than leave it."""
    if db.is_sqlite:
        pytest.skip("SQLite's scrub waits for readers by its own checkpoint (PRAGMA wal_checkpoint)")
    round_id, truth = await vote(db, banks)
    operator = Operator(db, banks, round_id, [])
    reader = await db.engine.connect()
    try:
        await reader.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        assert await reader.scalar(text("SELECT count(*) FROM held_answers"))  # its snapshot still sees them
        # Bounded: were the scrub to go ahead, its VACUUM FULL would wait on this reader for ever.
        sealed = await asyncio.wait_for(close_due_rounds(db, now=NOW + dt.timedelta(days=4)), 30)
        assert sealed == [round_id] and await awaiting_scrub(db) == 1
    finally:
        await reader.rollback()
        await reader.close()
    assert await scrub(db) == 1 and await awaiting_scrub(db) == 0
    assert traces(await operator.files(), truth) == {"keys": 0, "ballots": 0, "seqs": 0}
