"""The survey modal's submission: validate, save, and answer within Slack's three seconds.

Every problem is shown on the field it belongs to (`response_action: errors`), never as a crash;
a success or a refusal replaces the modal with a short note (`response_action: update`).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.execute import Reply
from bot.commands.forms import FormErrors, SurveyForm
from bot.context import Context
from bot.slack.listeners.commands import caller_of, commands_for
from bot.slack.listeners.home import publish_home
from bot.slack.roles import GroupCache
from bot.slack.views import SURVEY_CALLBACK, field_errors, form_from_state, notice_modal, survey_id_of

log = logging.getLogger(__name__)

SORRY = "Sorry, the survey could not be saved just now. Please try again."


def _pydantic_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "name"
        errors.setdefault(field, "This value is not valid here.")
    return errors


def register(app: AsyncApp, ctx: Context, groups: GroupCache) -> None:
    @app.view(SURVEY_CALLBACK)
    async def on_survey_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        caller = caller_of(body)
        survey_id = survey_id_of(str(view.get("private_metadata") or ""))
        try:
            form = SurveyForm.model_validate(form_from_state((view.get("state") or {}).get("values") or {}))
            result = await commands_for(ctx, client, groups).save_form(form, survey_id, caller)
        except ValidationError as exc:
            await ack(response_action="errors", errors=field_errors(_pydantic_errors(exc)))
            return
        except FormErrors as exc:
            await ack(response_action="errors", errors=field_errors(exc.errors))
            return
        except Exception as exc:
            log.error("saving a survey failed: %s", type(exc).__name__)
            await ack(response_action="errors", errors={"name": SORRY})
            return
        if isinstance(result, Reply):
            await ack(response_action="update", view=notice_modal("Pulse Audit", result.text))
            return
        verb = "Created" if result.created else "Saved"
        await ack(
            response_action="update",
            view=notice_modal(
                "Survey saved",
                f"{verb} survey {result.survey_id}.\n{result.summary}\n\n"
                f"`/pulse send-now {result.survey_id}` sends a round straight away; "
                f"`/pulse status {result.survey_id}` shows how it is going.",
            ),
        )
        try:
            await publish_home(ctx, client, groups, caller)
        except Exception as exc:
            log.warning("refreshing App Home failed: %s", type(exc).__name__)
