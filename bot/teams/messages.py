"""Cards wrapped for the wire: as a message activity, or as the answer to an Action.Execute invoke."""

from __future__ import annotations

from microsoft_agents.activity import Activity, ActivityTypes, AdaptiveCardInvokeResponse, Attachment

from bot.teams.cards import CARD_CONTENT_TYPE, Card


def card_message(content: Card, summary: str | None = None) -> Activity:
    """A message holding one card; `summary` is what notifications and the activity feed show."""
    activity = Activity(
        type=ActivityTypes.message, attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=content)]
    )
    if summary:
        activity.summary = summary
    return activity


def invoke_card(content: Card) -> AdaptiveCardInvokeResponse:
    """The card that replaces the clicked one, for the person who clicked only."""
    return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=content)
