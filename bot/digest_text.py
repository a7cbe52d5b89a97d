"""The digest as plain text, for the terminal and `pulse digest --format text`."""

from __future__ import annotations

import textwrap

from surveys.digest import Digest


def digest_text(digest: Digest) -> str:
    p = digest.participation
    rate = f"{p.rate_pct:.0f}%" if p.rate_pct is not None else "-"
    lines = [
        f"Pulse digest: {digest.survey_name} (survey {digest.survey})",
        f"Participation, round {p.round_seq or '-'}: {rate} of {p.audience_size} people answered each item",
        "",
        f"{'favourable':>10}  {'n':>4}  item",
    ]
    for item in digest.items:
        figure = "hidden" if item.suppressed or item.favourable_pct is None else f"{item.favourable_pct:.1f}%"
        text = textwrap.shorten(item.text, 70, placeholder="...")
        lines.append(f"{figure:>10}  {item.n:>4}  {text}{' (reverse-scored)' if item.reverse else ''}")
    lines += ["", digest.hidden_note]
    return "\n".join(lines)
