"""`pulse new` / `pulse edit` in Teams: the survey form as an Adaptive Card, checked by the same rules
as Slack's modal (bot/commands/forms.py), each problem shown under its field, nothing saved until
it is right."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.teams.ids import conversation_key
from bot.teams.survey_cards import FIX_THEM, SAVE_VERB
from storage.models import Survey
from tests.e2e.teams.conftest import COORDINATOR, ELMHURST, LEADERS, OAKFIELD, STAFF_A, installed
from tests.teams_double import TENANT, TeamsDouble, activities, cards_of, validate_card
from tests.teams_double.harness import TeamsHarness, texts_of


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card["body"] if str(e.get("type", "")).startswith("Input.")}


def values(card: dict[str, Any]) -> dict[str, str]:
    """What Teams sends for each input: its value as a string, as shown."""
    return {field: str(e["value"]) for field, e in inputs(card).items() if "value" in e}


async def save(app: TeamsHarness, teams: TeamsDouble, person: str, card: dict[str, Any], **changes: Any) -> Any:
    """Press Save on `card` in the person's 1:1 chat, with some fields changed; the card answered."""
    [action] = card["actions"]
    assert action["verb"] == SAVE_VERB
    dm = teams.personal_conversation(person)
    data = {**action["data"], **values(card), **changes}
    status, body = await app.post(
        activities.execute(
            teams.service_url,
            data,
            who=teams.account(person),
            reply_to="1",
            conversation_id=dm,
            verb=SAVE_VERB,
            app_id=app.bot.app_id,
        )
    )
    assert status == 200 and body["statusCode"] == 200
    assert validate_card(body["value"]) == []
    return body["value"]


async def surveys(app: TeamsHarness) -> list[Survey]:
    async with app.db.session() as s:
        return list((await s.scalars(select(Survey))).all())


async def form_in_dm(app: TeamsHarness, teams: TeamsDouble, text: str) -> dict[str, Any]:
    assert await app.say(COORDINATOR, text) == 202
    [card] = cards_of(teams.messages_in(teams.personal_conversation(COORDINATOR))[-1])
    assert validate_card(card) == []
    return dict(card)


async def test_a_survey_is_created_from_the_form_after_its_mistakes_are_shown(
    app: TeamsHarness, teams: TeamsDouble
) -> None:
    oak, elm, leaders = await installed(app)
    form = await form_in_dm(app, teams, "pulse new")
    fields = inputs(form)
    # The places offered are the conversations the app is installed in, by name.
    offered = {c["value"]: c["title"] for c in fields["channels"]["choices"]}
    assert offered == {oak: "Oakfield Primary", elm: "Elmhurst Academy", leaders: "Leadership"}
    assert fields["channels"]["isMultiSelect"] and fields["bank_ids"]["isMultiSelect"]
    assert "usergroup" not in fields

    # Everything wrong at once: no banks, no channels, no digest channel, k below 3, a bad zone.
    bad = await save(app, teams, COORDINATOR, form, k="2", timezone="Mars/Olympus", time="25:00")
    shown = texts_of(bad)
    assert shown[1] == FIX_THEM
    for field in ("bank_ids", "channels", "digest_channel", "k", "time"):
        at = next(n for n, e in enumerate(bad["body"]) if e.get("id") == field)
        assert bad["body"][at + 1]["color"] == "Attention", field
    assert any("never below 3" in t for t in shown) and any("HH:MM" in t for t in shown)
    # What was typed stays, to be corrected.
    assert inputs(bad)["timezone"]["value"] == "Mars/Olympus"
    assert await surveys(app) == []

    # A zone that does not exist is caught by SurveyConfig, once the rest is right.
    good = {
        "name": "Partnership pulse",
        "bank_ids": "staff-trust-in-leadership,staff-trust-in-one-another",
        "channels": f"{oak},{elm}",
        "digest_channel": leaders,
        "k": "6",
        "time": "09:30",
    }
    zone = await save(app, teams, COORDINATOR, bad, **{**good, "timezone": "Mars/Olympus"})
    at = next(n for n, e in enumerate(zone["body"]) if e.get("id") == "timezone")
    assert zone["body"][at + 1]["color"] == "Attention"
    assert await surveys(app) == []

    done = await save(app, teams, COORDINATOR, zone, **{**good, "timezone": "Europe/London"})
    [survey] = await surveys(app)
    assert f"Created survey {survey.id}" in json.dumps(done) and f"pulse send-now {survey.id}" in json.dumps(done)
    assert (survey.platform, survey.workspace_id, survey.name, survey.k) == ("teams", TENANT, "Partnership pulse", 6)
    assert survey.bank_ids == ["staff-trust-in-leadership", "staff-trust-in-one-another"]
    assert (survey.audience, survey.digest_channel) == ([oak, elm], leaders)
    assert survey.segment_labels == {oak: "Oakfield Primary", elm: "Elmhurst Academy"}
    assert survey.schedule == "30 9 * * mon"

    # Editing: the form comes back filled in; a change is saved onto the same survey.
    edit = await form_in_dm(app, teams, f"pulse edit {survey.id}")
    assert edit["body"][0]["text"] == f"Edit survey {survey.id}"
    assert values(edit)["channels"] == f"{oak},{elm}" and values(edit)["k"] == "6"
    saved = await save(app, teams, COORDINATOR, edit, name="Renamed pulse", channels=oak)
    assert f"Saved survey {survey.id}" in json.dumps(saved)
    [changed] = await surveys(app)
    assert (changed.id, changed.name, changed.audience) == (survey.id, "Renamed pulse", [oak])
    assert changed.segment_labels == {oak: "Oakfield Primary"}


async def test_only_coordinators_can_save_and_a_channel_gets_the_form_privately(
    app: TeamsHarness, teams: TeamsDouble
) -> None:
    oak, elm, leaders = await installed(app)
    assert await app.say(COORDINATOR, "pulse new", channel_id=OAKFIELD, team_id=OAKFIELD) == 202
    assert "private chat" in teams.messages_in(OAKFIELD)[-1]["text"]
    assert not cards_of(teams.messages_in(OAKFIELD)[-1])
    [created] = teams.created
    assert created["members"] == [{"id": teams.account(COORDINATOR)["id"]}]
    [form] = cards_of(teams.messages_in(teams.personal_conversation(COORDINATOR))[-1])

    good = {
        "bank_ids": "staff-trust-in-leadership",
        "channels": f"{oak},{elm}",
        "digest_channel": leaders,
    }
    # A staff member who got hold of the card is refused and nothing is saved.
    refused = await save(app, teams, STAFF_A[0], form, **good)
    assert "only Pulse coordinators can create surveys" in json.dumps(refused)
    async with app.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Survey)) == 0
    # Staff asking for the form are refused too, in the platform's words.
    assert await app.say(STAFF_A[0], "pulse new") == 202
    said = teams.messages_in(teams.personal_conversation(STAFF_A[0]))[-1]
    assert not cards_of(said) and "named in Pulse Audit's configuration" in said["text"]
    assert conversation_key(ELMHURST) == elm and conversation_key(LEADERS) == leaders


async def test_a_team_too_small_to_stay_anonymous_is_refused_on_its_field(
    app: TeamsHarness, teams: TeamsDouble
) -> None:
    _, _, leaders = await installed(app)
    form = await form_in_dm(app, teams, "pulse new")
    # The leaders' team has two people: no k can keep a figure of theirs anonymous.
    good = {"name": "Leaders", "bank_ids": "staff-trust-in-leadership", "digest_channel": leaders, "k": "3"}
    refused = await save(app, teams, COORDINATOR, form, **good, channels=leaders)
    at = next(n for n, e in enumerate(refused["body"]) if e.get("id") == "channels")
    assert refused["body"][at + 1]["color"] == "Attention"
    rule = "has 2 people: at least 6 are needed (twice the anonymity threshold, k = 3)"
    assert rule in refused["body"][at + 1]["text"]
    assert await surveys(app) == []
