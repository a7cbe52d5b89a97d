"""Activities exactly as Teams POSTs them to a bot, built from recorded fixtures (fixtures/*.json).

Each builder starts from a fixture captured in the shape Teams sends (ids, channelData,
entities, the Action.Execute invoke envelope) and changes only who, where and what.
"""

from __future__ import annotations

import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
_ids = itertools.count(1)


@cache
def _fixture(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def fixture(name: str, service_url: str) -> dict[str, Any]:
    """A fixture as recorded, pointed at `service_url` (the Bot Connector double)."""
    activity: dict[str, Any] = json.loads(_fixture(name))
    activity["serviceUrl"] = service_url
    return activity


def _bot(activity: dict[str, Any], app_id: str | None) -> None:
    if app_id is not None:
        activity["recipient"] = {"id": f"28:{app_id}", "name": "Pulse Audit"}


def _in_channel(activity: dict[str, Any], team_id: str, channel_id: str, root: str | None) -> None:
    activity["conversation"] = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": activity["conversation"]["tenantId"],
        "id": f"{channel_id};messageid={root}" if root else channel_id,
    }
    channel_data = json.loads(_fixture("message_channel_mention"))["channelData"]
    channel_data.update(teamsChannelId=channel_id, teamsTeamId=team_id, channel={"id": channel_id})
    channel_data["team"] = {**channel_data["team"], "id": team_id}
    # Keep what the activity's own channelData says beyond where it is (e.g. an invoke's "source").
    where = {"tenant", "team", "channel", "teamsChannelId", "teamsTeamId"}
    activity["channelData"] = {**{k: v for k, v in activity["channelData"].items() if k not in where}, **channel_data}


def install(
    service_url: str,
    *,
    scope: str,
    conversation_id: str,
    who: dict[str, str],
    app_id: str | None = None,
    team_name: str = "Pulse Team",
    channel_id: str | None = None,
) -> dict[str, Any]:
    """conversationUpdate with the bot among membersAdded: the app was added to a team, chat or person.

    For a team, `conversation_id` is the team's id (that of its General channel); `channel_id` is
    the channel the installer picked, when not General: the event then comes from that channel.
    """
    name = {"team": "install_channel", "groupChat": "install_groupchat", "personal": "install_personal"}[scope]
    activity = fixture(name, service_url)
    activity["id"] = f"f:{next(_ids):08d}"
    activity["from"] = who
    activity["conversation"]["id"] = channel_id or conversation_id
    if scope == "team":
        team = activity["channelData"]["team"]
        team.update(id=conversation_id, name=team_name)
        activity["channelData"]["settings"]["selectedChannel"]["id"] = channel_id or conversation_id
    _bot(activity, app_id)
    activity["membersAdded"] = [{"id": activity["recipient"]["id"]}]
    return activity


def uninstall(
    service_url: str,
    *,
    conversation_id: str,
    who: dict[str, str],
    app_id: str | None = None,
    team_id: str | None = None,
) -> dict[str, Any]:
    activity = install(
        service_url, scope="team" if team_id else "personal", conversation_id=conversation_id, who=who, app_id=app_id
    )
    activity["membersRemoved"] = activity.pop("membersAdded")
    activity["channelData"]["eventType"] = "teamMemberRemoved"
    # A removal names no picked channel: it comes from the team's own conversation.
    activity["channelData"].pop("settings", None)
    return activity


def message(
    service_url: str,
    text: str,
    *,
    who: dict[str, str],
    conversation_id: str | None = None,
    team_id: str | None = None,
    channel_id: str | None = None,
    app_id: str | None = None,
) -> dict[str, Any]:
    """A message to the bot: in a personal chat, or in a channel with the bot @mentioned first."""
    if channel_id is not None:
        activity = fixture("message_channel_mention", service_url)
        _in_channel(activity, team_id or channel_id, channel_id, str(next(_ids)))
        activity["text"] = f"<at>Pulse Audit</at> {text}"
    else:
        activity = fixture("message_personal", service_url)
        activity["text"] = text
        if conversation_id is not None:
            activity["conversation"]["id"] = conversation_id
    activity["id"] = f"17{next(_ids):011d}"
    activity["from"] = who
    _bot(activity, app_id)
    for entity in activity.get("entities") or []:
        if entity.get("type") == "mention":
            entity["mentioned"] = dict(activity["recipient"])
    return activity


def execute(
    service_url: str,
    data: dict[str, Any],
    *,
    who: dict[str, str],
    reply_to: str,
    channel_id: str | None = None,
    team_id: str | None = None,
    conversation_id: str | None = None,
    verb: str = "pulse.answer",
    title: str = "",
    app_id: str | None = None,
) -> dict[str, Any]:
    """The invoke Teams sends when someone clicks an Action.Execute button on a card the bot posted."""
    activity = fixture("invoke_action_execute", service_url)
    if channel_id is not None:
        _in_channel(activity, team_id or channel_id, channel_id, reply_to)
    elif conversation_id is not None:
        activity["conversation"]["id"] = conversation_id
    activity["id"] = f"f:{next(_ids):08d}"
    activity["replyToId"] = reply_to
    activity["from"] = who
    activity["value"] = {
        "action": {"type": "Action.Execute", "title": title, "verb": verb, "data": data},
        "trigger": "manual",
    }
    _bot(activity, app_id)
    return activity
