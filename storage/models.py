"""The tables. Answers are held under a per-round key while a round is open and sealed into counts
when it closes: see docs/anonymity.md."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
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
    # No Python default: the ORM would put it in place of an explicit None ("no quiet hours").
    # SurveyConfig carries the defaults.
    quiet_start: Mapped[dt.time | None] = mapped_column(Time)
    quiet_end: Mapped[dt.time | None] = mapped_column(Time)
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
    # The anonymity threshold its figures are shown with, fixed when it opens: a later edit of the
    # survey may raise it but never lowers it (surveys/anonymity.py, `round_k`).
    k: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # Sealed, but the database files may still hold traces of its ballot box (SQLite's WAL, dead
    # PostgreSQL tuples): surveys/closing.py scrubs them and clears this.
    scrub_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


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


class SentReminder(Base):
    """A reminder that stays where it was sent (a Slack DM, a Teams 1:1 chat), to be taken back.

    It says its reader had not answered when it went out, so it is deleted on the platform once
    the round closes (surveys/withdrawal.py), and this row with it. Kept only while the round is
    open, or until the platform lets the message go; a reminder nobody can see again (Slack's
    ephemeral ones) has no row.
    """

    __tablename__ = "sent_reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    # The platform's own words for where the message is: "<conversation> <message id>" (Slack), or
    # "<home conversation key> <1:1 conversation id> <activity id>" (Teams).
    ref: Mapped[str] = mapped_column(Text)


class SendBudget(Base):
    """A rate budget shared by every sending process: one row per limit (e.g. a workspace's posts).

    `tat` is the budget's theoretical arrival time (GCRA, as surveys/pacing.py keeps in memory), in
    seconds since the epoch; storage/budgets.py reserves a slot under a row lock.
    """

    __tablename__ = "send_budgets"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, default=0.0)


class RoundKey(Base):
    """The one secret that ties an open round's answers to the people who gave them.

    Random, made when the round opens, destroyed in the transaction that seals the round: after
    that not even `PULSE_ANONYMITY_SECRET` can work out whose answer was whose. The key itself is
    HMAC(secret, nonce) (surveys/keys.py), so the database alone cannot link answers while the
    round is open either. On PostgreSQL the table is UNLOGGED (migration 0008): the nonce is never
    written to the WAL, so neither WAL archives nor replicas keep it.
    """

    __tablename__ = "round_keys"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(32))


class HeldAnswer(Base):
    """One answer of an open round, in the ballot box until the round is sealed.

    The key is HMAC(round key, bank/item | person): it lets the person change the answer (`seq`,
    the platform's time of the click in microseconds, keeps the latest of their clicks whichever
    process stores it first) and see it on App Home, and lets a reminder skip them. At close the
    rows become `SealedCount`s and are deleted. The primary key leads with the key, and SQLite
    keeps no rowid, so the table's order says nothing about who answered when.

    A trust-behaviour exercise is one row per person and perspective: `item_id` is the exercise
    (the bank's id), `option` is "took-part" and `picks` holds the whole ballot, which is counted
    per behaviour when the round is sealed and never kept.
    """

    __tablename__ = "held_answers"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    respondent_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Which question of the item: "" for a plain item, "now"/"future" for a strand, the perspective
    # ("self"/"team") for a trust-behaviour exercise.
    facet: Mapped[str] = mapped_column(String(16), primary_key=True, default="")
    bank_id: Mapped[str] = mapped_column(String(80))
    item_id: Mapped[str] = mapped_column(String(80))
    bank_version: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str] = mapped_column(String(64))
    option: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(SmallInteger)
    # +1 favourable, 0 neutral, -1 unfavourable, reverse-scoring already applied.
    valence: Mapped[int] = mapped_column(SmallInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    picks: Mapped[str | None] = mapped_column(Text, default=None)


class SealedCount(Base):
    """How many people in one segment gave one answer to one question of a closed round.

    All that survives of a round's answers: no key, no time, no order of arrival (a round's counts
    are written together, in the order of this primary key). Digests read only these.
    """

    __tablename__ = "sealed_counts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    bank_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    valence: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    option: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The bank version whose scale scored the answers (answers keep their scores if a bank changes).
    bank_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class HeldComment(Base):
    """One person's free-text comment on an open round, keyed like a held answer, no time kept."""

    __tablename__ = "held_comments"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    respondent_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(500))
    seq: Mapped[int] = mapped_column(BigInteger)


class SealedComment(Base):
    """A comment of a closed round: its text and nothing else, numbered in an order set by the text."""

    __tablename__ = "sealed_comments"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, primary_key=True)
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


# -- the JPD exchange: not anonymous; names are the point, and the invitation says so -----------


class JpdTopic(Base):
    """A practice topic a coordinator keeps for exchanges. `scope` is the workspace or tenant
    ("" for a single-workspace install). Removed topics are kept, hidden, so that a scope with no
    rows at all is one that never changed the starter list."""

    __tablename__ = "jpd_topics"
    __table_args__ = (UniqueConstraint("scope", "slug", name="uq_jpd_topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), default="")
    slug: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class JpdExchange(Base):
    """One exchange: an invitation open until its deadline, then groups formed once."""

    __tablename__ = "jpd_exchanges"
    # At most one open exchange per scope, whichever process opens it.
    __table_args__ = (
        Index(
            "uq_jpd_open_exchange",
            "scope",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), default="")
    platform: Mapped[str] = mapped_column(String(16), default="slack")
    # "staff": people answer for themselves; "schools": each school's coordinator for the school.
    kind: Mapped[str] = mapped_column(String(16), default="staff")
    channel: Mapped[str] = mapped_column(String(64))
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    # The topics as they stood at opening: [{"slug": ..., "label": ...}].
    topics: Mapped[list[Any]] = mapped_column(JSON)
    invitation_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set in the same transaction as closed_at: {"groups": [...], "unmatched": {...}}.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class JpdEntry(Base):
    """One person's (or, for schools, one school's) answer to an exchange."""

    __tablename__ = "jpd_entries"
    __table_args__ = (UniqueConstraint("exchange_id", "person", name="uq_jpd_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("jpd_exchanges.id", ondelete="CASCADE"), index=True)
    person: Mapped[str] = mapped_column(String(64))
    # How the platform names the person, where it cannot mention them by id (Teams' cards).
    name: Mapped[str] = mapped_column(String(200), default="")
    # Department (staff) or school (schools): groups across units are preferred.
    unit: Mapped[str] = mapped_column(String(100), default="")
    offers: Mapped[list[Any]] = mapped_column(JSON)
    wants: Mapped[list[Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class JpdNotice(Base):
    """A message owed after an exchange closes: a group's introduction, a word to someone left
    out, or the coordinator's summary. Written with the result; sent and marked by the outbox."""

    __tablename__ = "jpd_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("jpd_exchanges.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "group", "unmatched", "summary"
    to: Mapped[list[Any]] = mapped_column(JSON)  # people, or [channel] for the summary
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # After a failure, not tried again before this (backing off, so an outage loses nothing).
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
