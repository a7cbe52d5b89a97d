"""The practice topics a coordinator keeps for JPD exchanges, with a starter list to begin from.

A scope (workspace or tenant) that never changed its list uses the starter list; the first
change writes the starter list down with the change, and removed topics stay as hidden rows, so
an emptied list stays empty rather than coming back as the starters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JpdTopic

MAX_TOPICS = 30
MAX_LABEL = 60

STARTERS: tuple[tuple[str, str], ...] = (
    ("questioning", "Questioning that makes pupils think"),
    ("feedback", "Feedback pupils act on"),
    ("behaviour", "Calm, consistent behaviour routines"),
    ("reading", "Reading across the curriculum"),
    ("oracy", "Talk and oracy in lessons"),
    ("retrieval", "Retrieval practice and remembering more"),
    ("adaptive", "Adapting teaching for pupils with SEND"),
    ("modelling", "Modelling and worked examples"),
    ("assessment", "Assessment that shapes the next lesson"),
    ("coaching", "Coaching and peer observation"),
    ("families", "Working with families"),
    ("wellbeing", "Pupil wellbeing and pastoral care"),
)


class TopicError(ValueError):
    """A topic change that cannot be made; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class Topic:
    slug: str
    label: str


def slug_of(label: str) -> str:
    words = re.findall(r"[a-z0-9]+", label.lower())
    return "-".join(words)[:40].strip("-")


def find(topics: Sequence[Topic], text: str) -> Topic | None:
    """The topic named by its slug or its label, in any case."""
    wanted = text.strip().lower()
    for topic in topics:
        if wanted in (topic.slug, topic.label.lower()) or slug_of(text) == topic.slug:
            return topic
    return None


async def topics_of(session: AsyncSession, scope: str) -> list[Topic]:
    rows = (await session.scalars(select(JpdTopic).where(JpdTopic.scope == scope).order_by(JpdTopic.id))).all()
    if not rows:
        return [Topic(slug, label) for slug, label in STARTERS]
    return [Topic(r.slug, r.label) for r in rows if not r.hidden]


async def add_topic(session: AsyncSession, scope: str, label: str) -> Topic:
    label = " ".join(label.split())
    if not label:
        raise TopicError("Give the topic a name, e.g. `Questioning that makes pupils think`.")
    if len(label) > MAX_LABEL:
        raise TopicError(f"A topic's name is at most {MAX_LABEL} characters; that one has {len(label)}.")
    slug = slug_of(label)
    if not slug:
        raise TopicError("A topic's name needs at least one letter or digit.")
    current = await _written_down(session, scope)
    shown = [r for r in current if not r.hidden]
    if find([Topic(r.slug, r.label) for r in shown], label) is not None:
        raise TopicError(f"There is already a topic '{label}'.")
    if len(shown) >= MAX_TOPICS:
        raise TopicError(f"There are already {MAX_TOPICS} topics, the most a form can show; remove one first.")
    earlier = next((r for r in current if r.slug == slug), None)
    if earlier is not None:  # a removed topic comes back under its new wording
        earlier.hidden, earlier.label = False, label
    else:
        session.add(JpdTopic(scope=scope, slug=slug, label=label))
    await session.flush()
    return Topic(slug, label)


async def remove_topic(session: AsyncSession, scope: str, name: str) -> Topic:
    current = await _written_down(session, scope)
    shown = [r for r in current if not r.hidden]
    topic = find([Topic(r.slug, r.label) for r in shown], name)
    if topic is None:
        raise TopicError(f"There is no topic '{name.strip()[:MAX_LABEL]}'.")
    for row in shown:
        if row.slug == topic.slug:
            row.hidden = True
    await session.flush()
    return topic


async def _written_down(session: AsyncSession, scope: str) -> list[JpdTopic]:
    """The scope's rows, writing the starter list down first if it was never changed."""
    rows = list((await session.scalars(select(JpdTopic).where(JpdTopic.scope == scope).order_by(JpdTopic.id))).all())
    if rows:
        return rows
    rows = [JpdTopic(scope=scope, slug=slug, label=label, hidden=False) for slug, label in STARTERS]
    session.add_all(rows)
    await session.flush()
    return rows
