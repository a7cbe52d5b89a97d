"""A key per round, destroyed at close: through the real app, then as someone holding the secret.

While the round is open, the round's key (HMAC of the secret and the round's random nonce) and
the member list re-derive every stored key; once it has closed, nothing anywhere in the database
matches any key worked out for any member, with the secret, with the nonce read before the close,
or with the old scheme (a key from the secret alone).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json

from sqlalchemy import select, text

from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base, RoundKey
from surveys.closing import close_due_rounds
from surveys.keys import COMMENT_SUBJECT, round_key, subject
from surveys.keys import RoundKey as Key
from tests.e2e.conftest import SCHOOL_A, STAFF_A
from tests.e2e.test_checkins_flow import BEHAVIOURS, _values, button, elements, open_round
from tests.e2e.test_comments_flow import comment
from tests.harness import Harness
from tests.slack_double import SlackDouble
from tests.surveys.helpers import new_round

STATEMENTS = "staff-trust-in-leadership"
MEMBERS = STAFF_A[:6]


async def _every_stored_value(db: Database) -> set[str]:
    """Every value in every table, as text (bytes as hex): what an operator reads from a dump."""
    out: set[str] = set()
    async with db.session() as session:
        names = [t.name for t in Base.metadata.sorted_tables]
        for name in names:
            for row in (await session.execute(text(f"SELECT * FROM {name}"))).all():
                for value in row:
                    out.add(value.hex() if isinstance(value, bytes | memoryview) else str(value))
    return out


def _candidates(secret: bytes, round_id: int, nonce: bytes, subjects: list[str]) -> set[str]:
    key = Key.derive(secret, round_id, nonce)
    old = {
        hmac.new(secret, f"{round_id}|{s.split('/')[-1]}|{user}".encode(), hashlib.sha256).hexdigest()
        for s in subjects
        for user in MEMBERS
    }
    return {key.respondent(s, user) for s in subjects for user in MEMBERS} | old


async def test_the_secret_and_the_members_re_derive_every_key_while_open_and_none_once_closed(
    app: Harness, double: SlackDouble
) -> None:
    message = await open_round(app, double, bank_ids=[STATEMENTS, BEHAVIOURS], items_per_round=2)
    answers = [el for el in elements(message) if el["action_id"].startswith("answer:")]
    statement, other = answers[0], answers[1]
    item_id = json.loads(statement["value"])["i"]
    assert json.loads(other["value"])["i"] == item_id
    ids = [i.id for i in app.ctx.banks[BEHAVIOURS].items]
    for n, user in enumerate(MEMBERS):
        await app.click(user, SCHOOL_A, statement)
        if n % 2:
            await app.click(user, SCHOOL_A, other)  # a change of mind
        await app.click(user, SCHOOL_A, button(message, prefix="picks:"))
        await app.wait_for(lambda n=n: len(double.views) == 2 * n + 1)  # type: ignore[misc]
        await app.submit_view(user, double.views[-1]["view"], _values({"self:strong": ids[n : n + 2]}))
        assert (await comment(app, user, SCHOOL_A, f"Remark {n}"))["response_action"] == "update"

    async with app.db.session() as session:
        [(round_id, nonce)] = (await session.execute(select(RoundKey.round_id, RoundKey.nonce))).all()
    subjects = [subject(STATEMENTS, item_id), subject(BEHAVIOURS, BEHAVIOURS), COMMENT_SUBJECT]
    derived = _candidates(app.ctx.secret, round_id, bytes(nonce), subjects)
    stored = await _every_stored_value(app.db)
    # Open: each member's answer, ballot and comment key is found (so the attack below can succeed).
    assert len(derived & stored) == 3 * len(MEMBERS)

    await close_due_rounds(app.db, now=app.ctx.clock() + dt.timedelta(days=30))
    stored = await _every_stored_value(app.db)
    assert derived & stored == set()
    assert bytes(nonce).hex() not in stored
    async with app.db.session() as session:
        assert await session.scalar(select(RoundKey.round_id)) is None


async def test_two_databases_with_the_same_settings_give_one_person_different_keys(
    app: Harness,
    double: SlackDouble,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    first = await open_round(app, double, bank_ids=[STATEMENTS], items_per_round=1)
    async with app.db.session() as session:
        [(round_id, nonce)] = (await session.execute(select(RoundKey.round_id, RoundKey.nonce))).all()
    item = json.loads(next(el for el in elements(first) if el["action_id"].startswith("answer:"))["value"])["i"]

    # A second deployment with the same secret: a fresh database, its first round.
    other_url = f"sqlite:///{tmp_path}/other.db"
    await asyncio.to_thread(upgrade, other_url)
    other = Database(other_url)
    try:
        other_round = await new_round(other, app.ctx.banks, [STATEMENTS])
        assert other_round.id == round_id  # the same round id in both
        async with other.session() as session:
            other_key = await round_key(session, app.ctx.secret, round_id)
    finally:
        await other.dispose()
    assert other_key is not None
    mine = Key.derive(app.ctx.secret, round_id, bytes(nonce)).respondent(subject(STATEMENTS, item), STAFF_A[0])
    theirs = other_key.respondent(subject(STATEMENTS, item), STAFF_A[0])
    assert mine != theirs
