"""The tables. Responses are anonymous by construction: see ../shared/DESIGN.md."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC and always hands back an aware datetime, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(16), default="slack")
    workspace_id: Mapped[str | None] = mapped_column(String(64), default=None)
    bank_ids: Mapped[list[Any]] = mapped_column(JSON)
    # "channels": one destination per school; "usergroup": members answered by DM.
    audience_kind: Mapped[str] = mapped_column(String(16), default="channels")
    audience: Mapped[list[Any]] = mapped_column(JSON)
    segment_labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    digest_channel: Mapped[str] = mapped_column(String(64))
    schedule: Mapped[str] = mapped_column(String(100))
    # "weekly", "fortnightly", "monthly" (from the modal) or "custom" (any cron). Only fortnightly
    # changes sending: cron cannot say "every other week", so alternate weeks are skipped from
    # `cadence_anchor` (see surveys/cadence.py).
    cadence: Mapped[str] = mapped_column(String(16), default="custom", server_default="custom")
    cadence_anchor: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    digest_schedule: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    items_per_round: Mapped[int] = mapped_column(Integer, default=1)
    round_hours: Mapped[int] = mapped_column(Integer, default=72)
    k: Mapped[int] = mapped_column(Integer, default=5)
    seed: Mapped[int] = mapped_column(Integer)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Nothing is sent in quiet hours (local; may run past midnight; None for none) or, when
    # quiet_weekends, on Saturdays and Sundays. See surveys/calendar.py for the rules.
    quiet_start: Mapped[dt.time | None] = mapped_column(Time, default=dt.time(19, 0))
    quiet_end: Mapped[dt.time | None] = mapped_column(Time, default=dt.time(7, 0))
    quiet_weekends: Mapped[bool] = mapped_column(Boolean, default=True)
    # One reminder this many hours before a round closes (never before half its window); 0: none.
    remind_hours: Mapped[int] = mapped_column(Integer, default=24)


class Round(Base):
    __tablename__ = "rounds"
    # One round per survey per schedule slot: a double fire or a restart cannot open it twice.
    __table_args__ = (UniqueConstraint("survey_id", "slot", name="uq_round_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    slot: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # [{"bank": id, "version": n, "item": id, "cycle": n}, ...]
    items: Mapped[list[Any]] = mapped_column(JSON)
    audience_size: Mapped[int] = mapped_column(Integer, default=0)
    # Set once, by whichever process claims the round's one reminder.
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # How many of its messages went out, kept when the delivery rows are purged at closing.
    sent_count: Mapped[int | None] = mapped_column(Integer, default=None)


class Delivery(Base):
    """One message owed to one place in one round: the outbox row that makes sending idempotent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("round_id", "kind", "destination", name="uq_delivery"),
        Index("ix_deliveries_status", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="item")
    destination: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # When sending first began: retries stop a bounded time after it (surveys/sending.py).
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    message_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Response(Base):
    """One anonymous answer.

    No user id and no time finer than the day. The primary key leads with the round and an HMAC
    that changes per round and item, and SQLite keeps no rowid, so not even row order tells who
    answered when.
    """

    __tablename__ = "responses"
    __table_args__ = (
        Index("ix_responses_round_item", "round_id", "item_id", "segment"),
        # Covers the digest's GROUP BY (storage/rollups.py), so it is answered from the index alone.
        Index("ix_responses_rollup", "round_id", "item_id", "facet", "segment", "score", "valence"),
        {"sqlite_with_rowid": False},
    )

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    # Which question of the item: "" for a plain item, "now"/"future" for a strand, "self"/"team"
    # for a trust behaviour.
    facet: Mapped[str] = mapped_column(String(16), primary_key=True, default="")
    respondent_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    bank_id: Mapped[str] = mapped_column(String(80))
    bank_version: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str] = mapped_column(String(64))
    option: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(SmallInteger)
    # +1 favourable, 0 neutral, -1 unfavourable, reverse-scoring already applied.
    valence: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[dt.date] = mapped_column(Date)


class Comment(Base):
    """One person's free-text comment on one round, anonymous like a response.

    No user id and no time of any kind, not even the day: comments are released to leaders in
    batches (surveys/comments.py), so nothing may tell when one was written. The key is
    HMAC(round | "comment" | user id), one comment per person per round; SQLite keeps no rowid,
    so row order does not give away who wrote first.
    """

    __tablename__ = "comments"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    respondent_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(500))


class Holiday(Base):
    """Days with no rounds: a date range, first and last day included. No survey: every survey."""

    __tablename__ = "holidays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), index=True, default=None
    )
    starts: Mapped[dt.date] = mapped_column(Date)
    ends: Mapped[dt.date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestPost(Base):
    """A digest posted for one schedule slot, so a double fire posts it once."""

    __tablename__ = "digest_posts"
    __table_args__ = (UniqueConstraint("survey_id", "slot", name="uq_digest_slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    slot: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class TeamsConversation(Base):
    """Where the Teams app is installed: a stored conversation reference for proactive sends.

    `key` is the short, stable name surveys use for the conversation (audience, segment, digest
    target): Teams' own ids are long and full of ':' and '@'. For a personal chat the reference
    names one person, but no answer ever points here: answers carry only the segment.
    """

    __tablename__ = "teams_conversations"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(512), unique=True)
    # "personal", "channel" or "groupChat", as Teams names them.
    kind: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # For a channel, the team whose roster answers there.
    team_id: Mapped[str | None] = mapped_column(String(512), default=None)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    service_url: Mapped[str] = mapped_column(String(512))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
