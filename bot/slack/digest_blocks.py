"""The leaders' digest as Block Kit: pure functions, split to stay within Slack's limits."""

from __future__ import annotations

from bot.slack.blocks import Block, text_object
from surveys.digest import Digest


def _bar(pct: float, width: int = 10) -> str:
    filled = round(pct / 100 * width)
    return "█" * filled + "░" * (width - filled)


def digest_blocks(digest: Digest) -> list[Block]:
    p = digest.participation
    rate = f"{p.rate_pct:.0f}%" if p.rate_pct is not None else "—"
    blocks: list[Block] = [
        {"type": "header", "text": text_object(f"Pulse digest: {digest.survey_name}"[:150], "plain_text")},
        {
            "type": "section",
            "text": text_object(
                f"*Participation* (round {p.round_seq or '—'}): {rate} of {p.audience_size} people answered each item."
            ),
        },
        {"type": "divider"},
    ]
    for item in digest.items:
        if item.suppressed or item.favourable_pct is None:
            figure = f"_hidden: fewer than {digest.k} answers_"
        else:
            figure = f"`{_bar(item.favourable_pct)}` *{item.favourable_pct:.0f}%* favourable · n={item.n}"
        blocks.append({"type": "section", "text": text_object(f"{item.text}\n{figure}"[:3000])})
    blocks.append({"type": "context", "elements": [text_object(digest.hidden_note)]})
    return blocks
