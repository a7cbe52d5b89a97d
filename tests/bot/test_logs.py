"""LOG_LEVEL governs the libraries' loggers too, never below WARNING for those that could log
who clicked; start-up says nothing misleading (issue 27)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.context import Context
from bot.logs import CHATTY, ROUTINE, quiet_chatty_loggers
from bot.settings import Settings
from bot.slack.app import build_slack_app
from storage.db import Database
from surveys.banks import BankRegistry


@pytest.fixture(autouse=True)
def restore_levels() -> Iterator[None]:
    names = [*CHATTY, *ROUTINE]
    before = {n: logging.getLogger(n).level for n in names}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)
    quiet_chatty_loggers()


@pytest.mark.parametrize(
    ("level", "chatty", "routine"),
    [
        (logging.DEBUG, logging.WARNING, logging.DEBUG),
        (logging.INFO, logging.WARNING, logging.WARNING),
        (logging.WARNING, logging.WARNING, logging.WARNING),
        (logging.ERROR, logging.ERROR, logging.ERROR),
    ],
)
def test_the_level_reaches_the_libraries_but_never_opens_the_chatty_ones(level: int, chatty: int, routine: int) -> None:
    quiet_chatty_loggers(level)
    assert {logging.getLogger(n).getEffectiveLevel() for n in CHATTY} == {chatty}
    assert {logging.getLogger(n).getEffectiveLevel() for n in ROUTINE} == {routine}
    # The scheduler's job bookkeeping is INFO: at the default level it is not written.
    assert logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO) == (level <= logging.DEBUG)


async def test_building_the_app_with_the_token_in_the_environment_warns_of_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: object
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    quiet_chatty_loggers()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token="xoxb-from-the-environment",
        slack_signing_secret="s",
        pulse_anonymity_secret="a" * 32,
        database_url="sqlite+aiosqlite:///:memory:",
    )
    db = Database(settings.database_url)
    ctx = Context(settings=settings, db=db, banks=BankRegistry.load(None), secret=b"a" * 32)
    with caplog.at_level(logging.DEBUG):
        build_slack_app(ctx)
    await ctx.db.dispose()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
