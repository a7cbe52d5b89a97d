"""What staff are told about their anonymity, in one place for Slack and Teams (docs/anonymity.md).

It must never promise more than the product keeps: while a round is open an answer is held
under that round's key (so it can be changed); at close it becomes a count and the key is erased.
"""

ROUND_NOTE = (
    "Anonymous: answers are held without your name, and when the round closes they become counts "
    "that nobody can trace back to you. Results only show groups of {k} or more."
)

PICKS_NOTE = (
    "Held without your name, and kept only as counts once the round closes; only you see this form "
    "and your picks. Send it again to change them while the round is open."
)

HOME_PROMISE = (
    "*How your anonymity is protected.* While a round is open your answers are held without your "
    "name, under a scrambled key made for that round alone, so that you can change them and see "
    "them here; someone running the server with full access could still link them to you until the "
    "round closes. When it closes they become counts only and the round's key is destroyed: from "
    "then on nobody, not even whoever runs the server, can tell which answers were yours. Leaders "
    "only see totals from closed rounds, and any figure with fewer than {k} people behind it is hidden."
)
