"""The comment modal and its replies, built by pure functions (no I/O)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.slack.blocks import text_object
from surveys.comments import MAX_LENGTH, CommentOutcome

COMMENT_CALLBACK = "pulse_comment"
COMMENT_BLOCK = "comment"
COMMENT_INPUT = "text"


class CommentMeta(BaseModel):
    """What the modal carries back: the round and where the button was. Never who."""

    model_config = ConfigDict(frozen=True)

    round_id: int = Field(alias="r", ge=1)
    channel_id: str | None = Field(default=None, alias="c", max_length=64)

    def dump(self) -> str:
        return json.dumps({"r": self.round_id, "c": self.channel_id}, separators=(",", ":"))


def comment_note(threshold: int) -> str:
    return (
        f":lock: Leaders see comments only in the digest, in batches of at least {threshold}, "
        "without names, schools or times. You can change yours until the round closes."
    )


def comment_modal(meta: CommentMeta, threshold: int) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": COMMENT_CALLBACK,
        "private_metadata": meta.dump(),
        "title": text_object("Add a comment", "plain_text"),
        "submit": text_object("Send", "plain_text"),
        "close": text_object("Cancel", "plain_text"),
        "blocks": [
            {
                "type": "input",
                "block_id": COMMENT_BLOCK,
                "label": text_object("Anything you would like leaders to know?", "plain_text"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": COMMENT_INPUT,
                    "multiline": True,
                    "max_length": MAX_LENGTH,
                    "placeholder": text_object("Please leave out names, yours or anyone else's.", "plain_text"),
                },
            },
            {"type": "context", "elements": [text_object(comment_note(threshold))]},
        ],
    }


def comment_error(outcome: CommentOutcome) -> str | None:
    """The message shown on the field when a comment is not stored, or None when it was."""
    match outcome:
        case CommentOutcome.RECORDED | CommentOutcome.CHANGED:
            return None
        case CommentOutcome.EMPTY:
            return "Please write something, or press Cancel."
        case CommentOutcome.TOO_LONG:
            return f"Please keep it to {MAX_LENGTH} characters."
        case CommentOutcome.CLOSED:
            return "This round has closed, so comments can no longer be added."
        case _:
            return "Sorry, this comment cannot be taken here."


def comment_thanks(outcome: CommentOutcome, threshold: int) -> str:
    first = (
        "Your comment replaces your earlier one."
        if outcome is CommentOutcome.CHANGED
        else "Thanks, your comment is saved."
    )
    return (
        f":white_check_mark: {first} Leaders will see it in a digest once at least {threshold} comments "
        "can be shown together, without your name or the time."
    )
