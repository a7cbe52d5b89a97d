"""The JPD exchange's messages in Teams: the invitation card in a channel, and at the deadline a
private message to each member of a group (Teams has no group chat a bot can start with people
who have not chatted together), to each person left out and to the coordinator, all through the
same paced, retried proactive sends as the surveys'. People are reached through the roster of
the channel the invitation went to.
"""

from __future__ import annotations

from bot.jpd_text import deadline_text
from bot.teams import jpd_cards
from bot.teams.messages import card_message
from bot.teams.platform import TeamsPlatform
from surveys.jpd.notices import Introduction, Invitation, LeftOut, Partnership, reach_each
from surveys.jpd.summary import Summary
from surveys.platform import PlatformError


class TeamsExchange:
    name = "teams"

    def __init__(self, platform: TeamsPlatform, home: str | None = None) -> None:
        self.platform = platform
        # The channel whose roster reaches the exchange's people (its invitation's channel).
        self.home = home

    def _home(self) -> str:
        if self.home is None:
            raise PlatformError("teams: the exchange's channel is not known here", transient=False)
        return self.home

    async def post_invitation(self, channel: str, invitation: Invitation) -> str:
        summary = f"JPD exchange: take part by {deadline_text(invitation.deadline, invitation.timezone)}"
        return await self.platform.post_card(channel, card_message(jpd_cards.invitation_card(invitation), summary))

    async def close_invitation(self, channel: str, ref: str, invitation: Invitation) -> None:
        await self.platform.update_card(channel, ref, card_message(jpd_cards.invitation_card(invitation)))

    async def introduce(self, intro: Introduction) -> None:
        # One message each; a retry after a failure part-way may give the first a second copy.
        message = card_message(jpd_cards.introduction_card(intro), "Your JPD group")
        await reach_each(
            intro.members, lambda person: self.platform.send_to_person(self._home(), person, message), self.name
        )

    async def tell_left_out(self, person: str, left: LeftOut) -> None:
        await self.platform.send_to_person(
            self._home(), person, card_message(jpd_cards.left_out_card(left), "Your JPD exchange")
        )

    async def send_summary(self, to: str, summary: Summary) -> None:
        await self.platform.send_to_person(
            self._home(), to, card_message(jpd_cards.summary_card(summary), "JPD exchange: the summary")
        )

    async def post_partnership(self, channel: str, partnership: Partnership) -> None:
        await self.platform.post_card(
            channel, card_message(jpd_cards.partnership_card(partnership), "JPD exchange: the groups")
        )
