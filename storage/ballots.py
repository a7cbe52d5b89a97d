"""The ballot box: queries on round keys, held answers and comments, and sealing a round into counts.

Every write to the held tables runs in `Database.writing()` and first takes the round's key row
with `round_nonces(..., lock=True)`: FOR SHARE on PostgreSQL, the write lock on SQLite. Sealing
takes the same row FOR UPDATE, so it waits for writes already under way and every later write
finds the key gone and stores nothing. That is what makes "closed" exact across processes.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HeldAnswer, HeldComment, RoundKey, SealedComment, SealedCount

# The columns a sealed count is grouped by, in the order its rows are written.
COUNT_COLUMNS = ("round_id", "bank_id", "item_id", "facet", "segment", "score", "valence", "option", "bank_version")


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _insert(session: AsyncSession, table: Any) -> Any:
    return (postgresql.insert if _postgres(session) else sqlite.insert)(table)


# -- round keys ------------------------------------------------------------------------------


async def add_round_key(session: AsyncSession, round_id: int, nonce: bytes) -> None:
    await session.execute(insert(RoundKey).values(round_id=round_id, nonce=nonce))


async def round_nonces(session: AsyncSession, round_ids: Iterable[int], *, lock: bool = False) -> dict[int, bytes]:
    """The nonces of those rounds that are still open for answers (sealed rounds have none).

    `lock`: hold them until the transaction ends, so no round can be sealed meanwhile.
    """
    ids = sorted(set(round_ids))
    if not ids:
        return {}
    stmt = select(RoundKey.round_id, RoundKey.nonce).where(RoundKey.round_id.in_(ids))
    if lock and _postgres(session):
        stmt = stmt.with_for_update(read=True)
    return {int(r): bytes(n) for r, n in (await session.execute(stmt)).all()}


async def keyless_open_rounds(session: AsyncSession, round_ids: Sequence[int]) -> list[int]:
    """Of these open rounds, those whose key has gone (PostgreSQL lost its unlogged table in a crash)."""
    if not round_ids:
        return []
    have = set((await session.scalars(select(RoundKey.round_id).where(RoundKey.round_id.in_(round_ids)))).all())
    return [r for r in round_ids if r not in have]


# -- held answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """One stored answer as its owner may see it again: which question, which option (or ballot)."""

    key: str
    facet: str
    bank_id: str
    item_id: str
    option: str
    seq: int
    picks: str | None


def _held(row: Any) -> Held:
    return Held(row.respondent_key, row.facet, row.bank_id, row.item_id, row.option, int(row.seq), row.picks)


async def held_answers(session: AsyncSession, wanted: Iterable[tuple[int, str]]) -> dict[tuple[int, str], list[Held]]:
    """The held answers under (round, respondent key) pairs, in one query: (round, key) -> answers."""
    by_round: dict[int, set[str]] = {}
    for round_id, key in wanted:
        by_round.setdefault(round_id, set()).add(key)
    if not by_round:
        return {}
    stmt = select(HeldAnswer).where(
        or_(
            *(
                and_(HeldAnswer.round_id == round_id, HeldAnswer.respondent_key.in_(sorted(keys)))
                for round_id, keys in by_round.items()
            )
        )
    )
    found: dict[tuple[int, str], list[Held]] = {}
    for row in (await session.scalars(stmt)).all():
        found.setdefault((row.round_id, row.respondent_key), []).append(_held(row))
    return found


_UPSERTS: dict[str, Any] = {}


def _upsert(session: AsyncSession) -> Any:
    """The held-answer upsert, built once per dialect (it is on every click's path).

    A row replaces the stored one only if its `seq` is not earlier: one person's clicks may be
    stored by different processes in any order, and the last click made is the one that stands
    (an equal `seq` is the same click retried, or a clock too coarse to tell; the newer write wins).
    """
    dialect = session.get_bind().dialect.name
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        table = HeldAnswer.__table__
        assert isinstance(table, Table)
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        changing = ("bank_id", "item_id", "bank_version", "segment", "option", "score", "valence", "seq", "picks")
        stmt = _UPSERTS[dialect] = ins.on_conflict_do_update(
            index_elements=["round_id", "respondent_key", "facet"],
            set_={c: ins.excluded[c] for c in changing},
            where=table.c.seq <= ins.excluded.seq,
        )
    return stmt


async def hold_answers(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store answers, or replace the same people's earlier (older) ones; no two rows may share a key."""
    if rows:
        await session.execute(_upsert(session), [dict(r) for r in rows])


async def withdraw(session: AsyncSession, round_id: int, key: str, facet: str, seq: int) -> None:
    """Remove one held answer (a picks perspective sent back empty), unless a later one replaced it."""
    await session.execute(
        delete(HeldAnswer).where(
            HeldAnswer.round_id == round_id,
            HeldAnswer.respondent_key == key,
            HeldAnswer.facet == facet,
            HeldAnswer.seq <= seq,
        )
    )


async def answered_keys(session: AsyncSession, round_id: int) -> set[str]:
    """Every respondent key that has an answer in this open round (for reminders; never stored)."""
    stmt = select(HeldAnswer.respondent_key).where(HeldAnswer.round_id == round_id).distinct()
    return set((await session.scalars(stmt)).all())


@dataclass(frozen=True)
class HeldCount:
    """How many answers an open round holds for one question in one segment: participation only."""

    round_id: int
    bank_id: str
    item_id: str
    facet: str
    segment: str
    n: int


async def held_counts(
    session: AsyncSession, round_ids: Sequence[int], *, before_seq: int | None = None
) -> list[HeldCount]:
    """Answers held per question and segment (GROUP BY); only clicks made before `before_seq` if given."""
    if not round_ids:
        return []
    cols = (HeldAnswer.round_id, HeldAnswer.bank_id, HeldAnswer.item_id, HeldAnswer.facet, HeldAnswer.segment)
    wanted: list[ColumnElement[bool]] = [HeldAnswer.round_id.in_(sorted(set(round_ids)))]
    if before_seq is not None:
        wanted.append(HeldAnswer.seq < before_seq)
    stmt = select(*cols, func.count()).where(*wanted).group_by(*cols)
    rows = await session.execute(stmt)
    return [HeldCount(int(r), str(b), str(i), str(f), str(s), int(n)) for r, b, i, f, s, n in rows]


# -- held comments -----------------------------------------------------------------------------


async def hold_comment(session: AsyncSession, *, round_id: int, key: str, segment: str, text: str, seq: int) -> bool:
    """Store a comment, or replace the same person's earlier one; True if there was one already."""
    earlier = await session.scalar(
        select(func.count())
        .select_from(HeldComment)
        .where(HeldComment.round_id == round_id, HeldComment.respondent_key == key)
    )
    table = HeldComment.__table__
    assert isinstance(table, Table)
    ins = _insert(session, table)
    stmt = ins.values(round_id=round_id, respondent_key=key, segment=segment, text=text, seq=seq).on_conflict_do_update(
        index_elements=["round_id", "respondent_key"],
        set_={"segment": ins.excluded.segment, "text": ins.excluded.text, "seq": ins.excluded.seq},
        where=table.c.seq <= ins.excluded.seq,
    )
    await session.execute(stmt)
    return bool(earlier)


# -- sealed comments ---------------------------------------------------------------------------


async def sealed_comment_counts(session: AsyncSession, round_ids: Sequence[int]) -> dict[int, int]:
    """Comments per sealed round (GROUP BY), for the rounds given."""
    if not round_ids:
        return {}
    stmt = (
        select(SealedComment.round_id, func.count())
        .where(SealedComment.round_id.in_(sorted(set(round_ids))))
        .group_by(SealedComment.round_id)
    )
    return {int(r): int(n) for r, n in (await session.execute(stmt)).all()}


async def sealed_comment_texts(session: AsyncSession, round_ids: Sequence[int]) -> list[str]:
    """The texts of the rounds' comments, and nothing else."""
    if not round_ids:
        return []
    stmt = select(SealedComment.text).where(SealedComment.round_id.in_(sorted(set(round_ids))))
    return list((await session.scalars(stmt)).all())


# -- sealing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sealed:
    answers: int
    comments: int


def ballot_counts(round_id: int, ballots: Iterable[Any]) -> list[dict[str, Any]]:
    """A picks exercise's held ballots as counts: its took-part rows, and each behaviour named."""
    counts: Counter[tuple[Any, ...]] = Counter()
    for b in ballots:
        counts[(round_id, b.bank_id, b.item_id, b.facet, b.segment, b.score, b.valence, b.option, b.bank_version)] += 1
        for item_id, option, score, valence in json.loads(b.picks or "[]"):
            group = (round_id, b.bank_id, str(item_id), b.facet, b.segment, int(score), int(valence), str(option))
            counts[(*group, b.bank_version)] += 1
    return [{**dict(zip(COUNT_COLUMNS, group, strict=True)), "n": n} for group, n in sorted(counts.items())]


def comment_order(round_id: int, text: str) -> str:
    """Where a comment goes among its round's: set by its words alone, never by when it came."""
    return hashlib.sha256(f"{round_id}|{text}".encode()).hexdigest()


async def seal(session: AsyncSession, round_id: int) -> Sealed:
    """Turn the round's held answers and comments into counts and bare texts, and erase its key.

    In the caller's transaction (`Database.writing()`), which also stamps the round closed. Counts
    are written in the order of their groups, so nothing of the order answers came in survives.
    """
    lock = select(RoundKey.round_id).where(RoundKey.round_id == round_id)
    if _postgres(session):
        lock = lock.with_for_update()
    await session.execute(lock)

    columns = [getattr(HeldAnswer, c) for c in COUNT_COLUMNS]
    plain = and_(HeldAnswer.round_id == round_id, HeldAnswer.picks.is_(None))
    grouped = select(*columns, func.count()).where(plain).group_by(*columns)
    rows = await session.execute(grouped)
    counts = [{**dict(zip(COUNT_COLUMNS, row[:-1], strict=True)), "n": int(row[-1])} for row in rows]
    ballots = (
        (
            await session.execute(
                select(HeldAnswer).where(HeldAnswer.round_id == round_id, HeldAnswer.picks.is_not(None))
            )
        )
        .scalars()
        .all()
    )
    counts += ballot_counts(round_id, ballots)
    if counts:
        # One executemany in the groups' own order: nothing of the order answers came in survives.
        counts.sort(key=lambda c: tuple(c[col] for col in COUNT_COLUMNS))
        await session.execute(insert(SealedCount), counts)
    answers = int(
        await session.scalar(select(func.count()).select_from(HeldAnswer).where(HeldAnswer.round_id == round_id)) or 0
    )
    await session.execute(delete(HeldAnswer).where(HeldAnswer.round_id == round_id))

    texts = (await session.scalars(select(HeldComment.text).where(HeldComment.round_id == round_id))).all()
    ordered = sorted(texts, key=lambda t: comment_order(round_id, t))
    if ordered:
        await session.execute(
            insert(SealedComment), [{"round_id": round_id, "ordinal": i, "text": t} for i, t in enumerate(ordered)]
        )
    await session.execute(delete(HeldComment).where(HeldComment.round_id == round_id))
    await session.execute(delete(RoundKey).where(RoundKey.round_id == round_id))
    return Sealed(answers, len(ordered))
