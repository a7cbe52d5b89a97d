"""Command outcomes drawn for Teams: text in Teams' markdown, and the cards a command answers with."""

from __future__ import annotations

import re

from bot.teams.cards import Card, card, text

DELETE_VERB = "pulse.delete"
KEEP_VERB = "pulse.keep"
CLOSE_VERB = "pulse.close"
KEEP_OPEN_VERB = "pulse.keep-open"
EMOJI = {
    ":warning:": "⚠️",
    ":white_check_mark:": "✅",
    ":lock:": "🔒",
    ":alarm_clock:": "⏰",
    ":arrows_counterclockwise:": "🔄",
    ":bar_chart:": "📊",
}
# Slack's *bold* (one star, no space inside) is Teams' **bold**; Teams reads one star as italics.
_SLACK_BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]+:")


def teams_markdown(slack_text: str) -> str:
    """The shared command replies are written in Slack's mrkdwn; this is the same text for Teams."""
    out = _SLACK_BOLD.sub(r"**\1**", slack_text)
    out = _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(0), m.group(0)), out)
    # Teams joins single line breaks; paragraphs keep each line on its own.
    return out.replace("\n", "\n\n")


def confirm_delete_card(survey_id: int, name: str) -> Card:
    return card(
        [
            text(f"Delete survey {survey_id}, **{name}**, with all its rounds and results?", weight="Bolder"),
            text("This cannot be undone.", color="Attention", size="Small"),
        ],
        actions=[
            {
                "type": "Action.Execute",
                "title": "Delete it",
                "verb": DELETE_VERB,
                "style": "destructive",
                "data": {"s": survey_id},
            },
            {"type": "Action.Execute", "title": "Keep it", "verb": KEEP_VERB, "data": {"s": survey_id}},
        ],
    )


def confirm_close_card(survey_id: int, name: str, round_id: int, seq: int) -> Card:
    """`close`'s question; the buttons carry the round, so a round opened meanwhile is not the one closed."""
    data = {"s": survey_id, "r": round_id}
    return card(
        [
            text(f"Close round {seq} of **{name}** now?", weight="Bolder"),
            text(
                "It is sealed at once: nobody can answer it or change an answer any more, and its results "
                "are in the digest straight away.",
                size="Small",
            ),
        ],
        actions=[
            {
                "type": "Action.Execute",
                "title": "Close it now",
                "verb": CLOSE_VERB,
                "style": "destructive",
                "data": data,
            },
            {"type": "Action.Execute", "title": "Keep it open", "verb": KEEP_OPEN_VERB, "data": data},
        ],
    )


def note_card(message: str) -> Card:
    return card([text(teams_markdown(message))])
