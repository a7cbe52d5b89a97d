"""The survey modal's submission: answered at once, then checked and saved.

Slack wants the answer within three seconds, and the checks that need the platform or the
database (who the person is, how many people each channel has, the save itself) can take longer
under load. So the form's own mistakes, found without I/O, are shown on their fields in the
answer (`response_action: errors`); otherwise the answer turns the modal into "Saving…" at once,
and the result replaces it when it is known (`views.update`): a short note, or the form again
with each problem under its field.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.execute import Reply, Saved
from bot.commands.forms import FormErrors, SurveyForm
from bot.context import Context
from bot.slack.listeners.commands import caller_of, commands_for, usergroup_options
from bot.slack.listeners.home import publish_home
from bot.slack.roles import GroupCache
from bot.slack.views import (
    SURVEY_CALLBACK,
    field_errors,
    form_from_state,
    notice_modal,
    saving_modal,
    survey_id_of,
    survey_modal,
)

log = logging.getLogger(__name__)

SORRY = "Sorry, the survey could not be saved just now. Please try again."


def _pydantic_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "name"
        errors.setdefault(field, "This value is not valid here.")
    return errors


def _result_view(result: Saved | Reply) -> dict[str, Any]:
    if isinstance(result, Reply):
        return notice_modal("Pulse Audit", result.text)
    verb = "Created" if result.created else "Saved"
    return notice_modal(
        "Survey saved",
        f"{verb} survey {result.survey_id}.\n{result.summary}\n\n"
        f"`/pulse send-now {result.survey_id}` sends a round straight away; "
        f"`/pulse status {result.survey_id}` shows how it is going.",
    )


def register(app: AsyncApp, ctx: Context, groups: GroupCache) -> None:
    @app.view(SURVEY_CALLBACK)
    async def on_survey_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        caller = caller_of(body)
        survey_id = survey_id_of(str(view.get("private_metadata") or ""))
        commands = commands_for(ctx, client, groups)
        try:
            form = SurveyForm.model_validate(form_from_state((view.get("state") or {}).get("values") or {}))
            commands.check_form(form, survey_id)
        except ValidationError as exc:
            await ack(response_action="errors", errors=field_errors(_pydantic_errors(exc)))
            return
        except FormErrors as exc:
            await ack(response_action="errors", errors=field_errors(exc.errors))
            return
        await ack(response_action="update", view=saving_modal())
        saved = False
        try:
            result = await commands.save_form(form, survey_id, caller)
        except FormErrors as exc:
            groups_offered = await usergroup_options(client)
            answer = survey_modal(
                form, banks=list(ctx.banks), usergroups=groups_offered, survey_id=survey_id, errors=exc.errors
            )
        except Exception as exc:
            log.error("saving a survey failed: %s", type(exc).__name__)
            answer = notice_modal("Pulse Audit", SORRY)
        else:
            answer, saved = _result_view(result), isinstance(result, Saved)
        try:
            await client.views_update(view_id=str(view.get("id") or ""), view=answer)
        except SlackApiError as exc:
            log.warning("views.update failed: %s", exc.response.get("error") if exc.response is not None else "?")
        if saved:
            try:
                await publish_home(ctx, client, groups, caller)
            except Exception as exc:
                log.warning("refreshing App Home failed: %s", type(exc).__name__)
