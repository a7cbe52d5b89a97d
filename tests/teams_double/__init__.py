"""Local double of the Bot Connector service Teams bots talk to, plus what tests need around it.

* :class:`TeamsDouble` -- an aiohttp server at ``service_url`` that records every call
  (``calls``, ``calls_to``), keeps what was posted per conversation (``messages_in``,
  ``cards_in``), serves rosters (``teams={id: Team(...)}``, ``chats={id: [...]}``), checks cards
  against the Adaptive Cards 1.5 schema and the ~28 KB limit, and injects faults
  (``rate_limit_next(n, retry_after=...)``, ``fail_next(n, status=...)``).
* :func:`validate_card` -- the same schema check, for unit tests of card builders.
* :mod:`activities` -- activities shaped exactly as Teams sends them (from ``fixtures/``).
* :class:`TokenAuthority` -- Bot Framework tokens for the SDK's real validator.
* :class:`TeamsHarness` (``tests.teams_double.harness``) -- the whole product over HTTP.
"""

from .cards import validate_card
from .server import APP_ID, TENANT, Call, Team, TeamsDouble, cards_of, user_id_for
from .tokens import OUTBOUND_TOKEN, TokenAuthority

__all__ = [
    "APP_ID",
    "OUTBOUND_TOKEN",
    "TENANT",
    "Call",
    "Team",
    "TeamsDouble",
    "TokenAuthority",
    "cards_of",
    "user_id_for",
    "validate_card",
]
