"""Fixtures for the /pulse tests: the real app over HTTP, with every role in its workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from surveys.banks import BankRegistry
from tests.e2e.conftest import START
from tests.e2e.pulse_support import SETTINGS, workspace_double
from tests.harness import Harness, SimClock
from tests.slack_double import SlackDouble


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with workspace_double() as d:
        yield d


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
async def app(db_url: str, double: SlackDouble, clock: SimClock, banks: BankRegistry) -> AsyncIterator[Harness]:
    async with Harness(db_url, double=double, clock=clock, banks=banks, settings=SETTINGS) as h:
        yield h
