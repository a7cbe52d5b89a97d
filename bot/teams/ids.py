"""Names for Teams conversations and people, as the rest of Pulse Audit sees them."""

from __future__ import annotations

import hashlib
import re
from typing import Any

KEY_PREFIX = "T"
_KEY = re.compile(r"^T[0-9A-F]{16}$")


def conversation_key(conversation_id: str) -> str:
    """A short, stable key for a Teams conversation.

    Surveys store audiences, segments and digest targets as short channel-like ids; Teams ids
    are long ("19:...@thread.tacv2", "a:1N4b...") and full of ':' and '@'. The key is a hash, so
    any process derives the same one without a lookup; the stored reference maps it back.
    """
    digest = hashlib.sha256(base_conversation_id(conversation_id).encode()).hexdigest()
    return KEY_PREFIX + digest[:16].upper()


def is_conversation_key(value: str) -> bool:
    return bool(_KEY.match(value))


def base_conversation_id(conversation_id: str) -> str:
    """A channel post's reply thread is '<channel>;messageid=<root>': the channel is what counts."""
    return conversation_id.split(";", 1)[0]


def channel_of(activity: Any) -> str:
    """The conversation a card or message lives in: the channel for channel posts, else the chat."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = (channel_data.get("channel") or {}).get("id")
    if channel:
        return str(channel)
    return base_conversation_id(str(activity.conversation.id))


def person_of(activity: Any) -> str:
    """The clicking person's stable id: the Entra object id, else the Teams user id.

    It is only ever used as an HMAC input for answers and a membership test for coordinators;
    it is never stored or logged next to an answer.
    """
    sender = activity.from_property
    if sender is None:
        return ""
    return str(getattr(sender, "aad_object_id", None) or sender.id or "")
