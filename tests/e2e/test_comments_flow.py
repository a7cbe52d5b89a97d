"""Free-text comments through the real app over signed HTTP: button -> modal -> stored -> digest batch."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, select

from bot.logs import quiet_chatty_loggers
from bot.slack.blocks import COMMENT_ACTION
from bot.slack.digest_blocks import digest_messages
from storage.models import HeldComment, SealedComment
from surveys import operations
from tests.e2e.conftest import LEADERS, SCHOOL_A, SCHOOL_B, STAFF_A, STAFF_B, make_survey
from tests.harness import Harness, SimClock
from tests.slack_double import SlackDouble, validate_blocks, validate_view


def comment_button(message: dict[str, Any]) -> dict[str, Any]:
    for block in message["blocks"]:
        for el in block.get("elements", []):
            if el.get("action_id") == COMMENT_ACTION:
                return {**el, "block_id": block["block_id"]}
    raise AssertionError("no comment button")


async def open_round(app: Harness, survey_id: int) -> None:
    round_, report = await operations.open_and_send(
        app.db, app.ctx.banks, app.ctx.require_platform(), survey_id, now=app.ctx.clock(), scheduled=False
    )
    assert round_ is not None and report.sent == 2


async def comment(app: Harness, user: str, channel: str, text: str) -> dict[str, Any]:
    """Press the round's button, check the modal, submit `text`; the app's answer to the submission."""
    message = app.double.messages_in(channel)[-1]
    assert validate_blocks(message["blocks"]) == []
    before = len(app.double.views)
    assert await app.click(user, channel, comment_button(message)) == 200
    await app.wait_for(lambda: len(app.double.views) > before)
    opened = app.double.views[-1]
    assert opened["kind"] == "open"
    view = opened["view"]
    assert validate_view(view, surface="modal") == []
    status, answer = await app.submit_view(
        user, view, {"comment": {"text": {"type": "plain_text_input", "value": text}}}
    )
    assert status == 200
    if answer.get("response_action") == "update":
        assert validate_view(answer["view"], surface="modal") == []
    return answer


async def stored(app: Harness) -> list[str]:
    async with app.db.session() as s:
        held = (await s.scalars(select(HeldComment.text))).all()
        sealed = (await s.scalars(select(SealedComment.text))).all()
    return sorted([*held, *sealed])


async def test_comments_are_stored_once_per_person_and_released_only_as_a_batch(
    app: Harness,
    double: SlackDouble,
    clock: SimClock,
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    quiet_chatty_loggers()
    caplog.set_level(logging.DEBUG)
    survey = await make_survey(app, round_hours=48)
    await open_round(app, survey.id)

    writers = [(u, SCHOOL_A) for u in STAFF_A[:5]] + [(u, SCHOOL_B) for u in STAFF_B[:4]]
    texts = {u: f"Remark number {i} from someone" for i, (u, _) in enumerate(writers)}
    for user, channel in writers:
        answer = await comment(app, user, channel, f"  {texts[user]}  ")
        assert answer["response_action"] == "update", answer
    assert await stored(app) == sorted(texts.values())

    # An edit replaces the earlier comment; an empty one is refused on its field and changes nothing.
    texts[STAFF_A[0]] = "Changed my mind about this"
    assert "replaces" in str(await comment(app, STAFF_A[0], SCHOOL_A, texts[STAFF_A[0]]))
    assert (await comment(app, STAFF_A[1], SCHOOL_A, "   "))["response_action"] == "errors"
    assert await stored(app) == sorted(texts.values())

    before = len(double.views)
    assert await app.click(STAFF_A[6], SCHOOL_A, comment_button(double.messages_in(SCHOOL_A)[-1])) == 200
    await app.wait_for(lambda: len(double.views) > before)
    left_open = double.views[-1]["view"]
    assert "at least 10" in str(left_open)

    # While the round is open nothing is released, nor said to wait.
    digest = await operations.digest_for(app.db, app.ctx.banks, survey.id, now=clock())
    assert digest.comments == [] and not digest.comments_waiting

    # Closed with 9 people's comments, below the batch of 10: held, not shown, and not counted aloud.
    clock.advance(dt.timedelta(hours=49))
    # A modal opened in time but sent after the close is refused on its field; the button now says closed.
    status, late = await app.submit_view(
        STAFF_A[6], left_open, {"comment": {"text": {"type": "plain_text_input", "value": "Too late"}}}
    )
    assert status == 200 and late["response_action"] == "errors" and "closed" in str(late["errors"])
    before = len(double.views)
    assert await app.click(STAFF_A[6], SCHOOL_A, comment_button(double.messages_in(SCHOOL_A)[-1])) == 200
    await app.wait_for(lambda: len(double.views) > before)
    assert "closed" in str(double.views[-1]["view"]) and "input" not in str(double.views[-1]["view"]["blocks"])
    digest = await operations.digest_for(app.db, app.ctx.banks, survey.id, now=clock())
    assert digest.comments == [] and digest.comments_waiting and digest.comment_threshold == 10

    # A second round where ten people write: one round alone has ten different people, so the
    # batch of 19 is released once it closes.
    await open_round(app, survey.id)
    second = {STAFF_A[7]: "Second round <!channel> & more", STAFF_B[7]: "Another one"}
    second |= {u: f"Second round, voice {u[-1]}" for u in STAFF_A[:4] + STAFF_B[:4]}
    for user, text in second.items():
        await comment(app, user, SCHOOL_A if user in STAFF_A else SCHOOL_B, text)
    digest = await operations.digest_for(app.db, app.ctx.banks, survey.id, now=clock())
    assert digest.comments == [] and digest.comments_waiting
    clock.advance(dt.timedelta(hours=49))
    posted = await operations.post_digest(app.db, app.ctx.banks, app.ctx.require_platform(), survey.id, now=clock())
    assert posted is not None
    everything = [*texts.values(), *second.values()]
    assert sorted(posted.comments) == sorted(everything) and not posted.comments_waiting
    message = double.messages_in(LEADERS)[-1]
    rendered = str(message["blocks"])
    assert "What people said" in rendered and "Changed my mind" in rendered
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered
    for blocks in digest_messages(posted):
        assert validate_blocks(blocks) == []

    async with app.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(SealedComment)) == 19
        assert await s.scalar(select(func.count()).select_from(HeldComment)) == 0

    # No log line holds a comment's words or who wrote one.
    assert caplog.records
    people = [u for u, _ in writers] + list(second)
    for record in caplog.records:
        line = record.getMessage()
        assert not any(t in line for t in everything), line
        assert not any(u in line for u in people), line
