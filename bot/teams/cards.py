"""Adaptive Cards (schema 1.5, the highest Teams renders), built by pure functions: no I/O here.

Every answer button is an `Action.Execute` (Universal Actions): Teams sends the click to the bot
as an invoke, and the card the bot answers with replaces the original for the clicking person
only, so a channel full of staff never sees who chose what.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot import digest_format as fmt
from bot.promises import ROUND_NOTE
from bot.teams import picks_cards
from bot.teams.picks_cards import PicksForm
from surveys.answers import Answer, AnswerResult, Outcome
from surveys.banks import Bank, Item
from surveys.digest import Digest
from surveys.platform import Prompt, Reminder, RoundMessage

Card = dict[str, Any]
Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
ANSWER_VERB = "pulse.answer"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams shows at most six buttons in a row of actions.
MAX_ACTIONS = 6
# Teams refuses a bot message much over 28 KB, card JSON included.
MAX_MESSAGE_BYTES = 28_000
ANONYMITY_NOTE = "🔒 " + ROUND_NOTE
FACET_LABELS = {
    "now": "Where are we now?",
    "future": "Where should we be a year from now?",
    "self": "In my own work",
    "team": "Across the leadership team",
}

# (item id, facet) -> the option this person chose in this round.
Chosen = Mapping[tuple[str, str], str]


def card(body: Sequence[Element], *, actions: Sequence[Element] = ()) -> Card:
    out: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": list(body)}
    if actions:
        out["actions"] = list(actions)
    return out


def text(value: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def local_time(at: dt.datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %d %b, %H:%M")


def facets_of(bank: Bank) -> list[str]:
    """The questions one item asks: one plain answer, or one per facet (strand, trust behaviour)."""
    if bank.kind == "strands":
        return ["now", "future"]
    if bank.kind == "picks" and bank.picks is not None:
        return list(bank.picks.perspectives)
    return [""]


def _buttons(round_id: int, bank: Bank, item: Item, facet: str, chosen: str | None) -> list[Element]:
    actions = []
    for opt in bank.scale_of(item).options:
        action: Element = {
            "type": "Action.Execute",
            "title": opt.label,
            "verb": ANSWER_VERB,
            "data": Answer.payload(round_id, bank.id, item.id, opt.value, facet),
        }
        if chosen == opt.value:
            action["style"] = "positive"
        actions.append(action)
    return [{"type": "ActionSet", "actions": actions[i : i + MAX_ACTIONS]} for i in range(0, len(actions), MAX_ACTIONS)]


def prompt_elements(
    round_id: int, prompt: Prompt, chosen: Chosen | None = None, *, open_: bool = True, form: PicksForm | None = None
) -> list[Element]:
    bank, item = prompt.bank, prompt.item
    if bank.kind == "picks":
        # One answer is a whole set of picks: a form, not a button per option (picks_cards.py).
        if form is not None and open_:
            return picks_cards.form_elements(round_id, bank, form)
        return picks_cards.prompt_elements(round_id, bank, chosen, open_=open_)
    elements: list[Element] = []
    if bank.intro:
        elements.append(text(bank.intro, isSubtle=True, size="Small"))
    elements.append(text(item.text, weight="Bolder"))
    if item.levels is not None:
        elements.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": name.capitalize(), "value": descriptor} for name, descriptor in item.levels.as_list()
                ],
            }
        )
    for facet in facets_of(bank):
        if facet:
            elements.append(text(FACET_LABELS.get(facet, facet.capitalize()), weight="Bolder", size="Small"))
        mine = (chosen or {}).get((item.id, facet))
        if open_:
            elements.extend(_buttons(round_id, bank, item, facet, mine))
        if mine is not None:
            option = bank.scale_of(item).option(mine)
            label = option.label if option else mine
            elements.append(text(f"Your answer: **{label}**", color="Good", size="Small"))
    return [{"type": "Container", "separator": True, "spacing": "Medium", "items": elements}]


def round_card(
    message: RoundMessage,
    chosen: Chosen | None = None,
    *,
    status: str = "",
    open_: bool = True,
    forms: Mapping[str, PicksForm] | None = None,
) -> Card:
    """The round as one card: each item with one button per option (a picks exercise: one button).

    `chosen` and `status` make the copy one person sees after a click: their own choices
    highlighted and a line saying what happened. `forms` (by bank id) draws a picks exercise as
    its form, filled in for that person. Only that person ever receives such a copy.
    """
    body: list[Element] = []
    if status:
        wrong = any(f.problems for f in (forms or {}).values())
        body.append(text(status, weight="Bolder", color="Attention" if wrong else "Accent"))
    for prompt in message.prompts:
        form = (forms or {}).get(prompt.bank.id)
        body.extend(prompt_elements(message.round_id, prompt, chosen, open_=open_, form=form))
    body.append(
        text(
            f"**{message.survey_name}** · open until {local_time(message.closes_at, message.timezone)}",
            isSubtle=True,
            size="Small",
            separator=True,
        )
    )
    body.append(text(ANONYMITY_NOTE.format(k=message.k), isSubtle=True, size="Small"))
    return card(body)


def round_summary(message: RoundMessage) -> str:
    """The notification text Teams shows in the activity feed and on lock screens."""
    first = message.prompts[0].item.text if message.prompts else ""
    return f"Pulse: {first}"[:300]


def status_line(result: AnswerResult) -> str:
    until = f" You can change it until {local_time(result.closes_at, result.timezone)}." if result.closes_at else ""
    match result.outcome:
        case Outcome.RECORDED:
            return f"✅ Thanks — recorded anonymously: {result.option_label}.{until}"
        case Outcome.CHANGED:
            return (
                f"🔄 Changed from {result.previous_label} to {result.option_label}. "
                f"Still anonymous, still counted once.{until}"
            )
        case Outcome.UNCHANGED:
            return f"You had already answered {result.option_label}; nothing changed.{until}"
        case Outcome.SUPERSEDED:
            return (
                f"A later click of yours already stands: {result.previous_label}. "
                f"This one ({result.option_label}) was not recorded.{until}"
            )
        case Outcome.CLOSED:
            return "This round has closed, so answers can no longer be recorded. Look out for the next one."
        case _:
            return "Sorry, that answer could not be recorded: the question is no longer available."


def answered_card(message: RoundMessage, result: AnswerResult, chosen: Chosen) -> Card:
    """What the clicking person sees in place of the round card."""
    still_open = result.outcome not in (Outcome.CLOSED,)
    return round_card(message, chosen, status=status_line(result), open_=still_open)


def notice_card(message: str) -> Card:
    """A one-line card, for clicks that cannot be matched to a round any more."""
    return card([text(message)])


def reminder_summary(reminder: Reminder) -> str:
    message = reminder.round
    total = len(message.prompts)
    left = f"{reminder.unanswered} of {total} items" if total > 1 else "its item"
    return (
        f"Reminder: {message.survey_name} closes {local_time(message.closes_at, message.timezone)} "
        f"and you have {left} still to answer."
    )


def reminder_card(reminder: Reminder, *, where: str | None = None) -> Card:
    """The nudge, sent in a 1:1 chat. No buttons: an answer counts toward the channel it is given
    in, so it has to be given on the round's card there, which is what the card points to."""
    place = f"the pulse in **{where}**" if where else "the pulse in your school's channel"
    body = [
        text("⏰ " + reminder_summary(reminder), weight="Bolder"),
        text(f"Open {place} to answer. One click each, and it stays anonymous."),
    ]
    body += [text(f"• {prompt.item.text}", isSubtle=True, spacing="Small") for prompt in reminder.round.prompts]
    return card(body)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def _figure(digest: Digest, cell: Any) -> str:
    if cell.suppressed:
        return "_hidden for anonymity_"
    if cell.favourable_pct is None:
        return "_no answers_"
    # One item in one round: each person answers once, so its count is of people.
    return f"**{cell.favourable_pct:.0f}%** favourable · {cell.n} people"


def _index_figure(index: Any) -> str:
    if index.suppressed or index.favourable_pct is None:
        return _figure_text(index)
    # The index pools several items, so its count is of answers.
    return f"**{index.favourable_pct:.0f}%** favourable · {fmt.answers(index)}"


def _figure_text(cell: Any) -> str:
    return "_hidden for anonymity_" if cell.suppressed else "_no answers_"


def _change(item: Any) -> str:
    if item.change_pts is None:
        return ""
    arrow = {"up": " ▲", "down": " ▼"}.get(item.trend or "", "")
    return f" · {item.change_pts:+.0f} pts since last time{arrow}"


def _facts(pairs: Sequence[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in pairs]}


def _section(title: str) -> Element:
    return text(title, weight="Bolder", size="Medium", separator=True, spacing="Large")


def _audits(digest: Digest) -> list[Element]:
    out: list[Element] = []
    for audit in digest.audits:
        out.append(_section(audit.title))
        out.append(text(f"Trust index: {_index_figure(audit.index)}"))
        if audit.favourable_means:
            out.append(text(fmt.favourable_note(audit), isSubtle=True, size="Small", spacing="None"))
        points = [(fmt.cycle_label(p), _pct(p.favourable_pct) if not p.suppressed else "hidden") for p in audit.trend]
        if len(points) > 1:
            out.append(text(f"By cycle, oldest first ({fmt.CYCLE_MEANS})", isSubtle=True, size="Small"))
            out.append(_facts(points))
        if audit.index.segments and digest.partnership:
            out.append(
                _facts([(s.label, _pct(None if s.suppressed else s.favourable_pct)) for s in audit.index.segments])
            )
        labels = {a.aspect: a.label for a in audit.aspects}
        if audit.strongest:
            out.append(text("Strongest: " + ", ".join(labels.get(a, a) for a in audit.strongest), size="Small"))
        if audit.weakest:
            out.append(text("Weakest: " + ", ".join(labels.get(a, a) for a in audit.weakest), size="Small"))
    return out


def _items(digest: Digest, *, with_segments: bool, limit: int | None) -> list[Element]:
    items = digest.items if limit is None else digest.items[:limit]
    out: list[Element] = [_section("Statements")] if items else []
    for item in items:
        lines: list[Element] = [
            text(item.text + (" _(reverse-scored)_" if item.reverse else "")),
            text(_figure(digest, item) + _change(item), isSubtle=True, spacing="None"),
        ]
        if with_segments and digest.partnership and item.segments:
            lines.append(_facts([(s.label, _figure(digest, s)) for s in item.segments]))
        out.append({"type": "Container", "separator": True, "items": lines})
    if limit is not None and len(digest.items) > limit:
        more = len(digest.items) - limit
        out.append(text(f"{more} more statement(s): ask for `pulse results {digest.survey}`.", isSubtle=True))
    return out


def _level(share: Any) -> str:
    if share.suppressed or share.median_label is None:
        return "hidden"
    return str(share.median_label)


def _strands(digest: Digest) -> list[Element]:
    out: list[Element] = []
    for strands in digest.strands:
        out.append(_section(strands.title))
        for dimension in strands.dimensions:
            out.append(text(dimension.title, weight="Bolder"))
            facts = []
            for strand in dimension.strands:
                gap = f" (gap {strand.gap:+.1f})" if strand.gap is not None else ""
                facts.append((strand.label, f"now {_level(strand.now)} → in a year {_level(strand.future)}{gap}"))
            out.append(_facts(facts))
    return out


def _behaviours(digest: Digest) -> list[Element]:
    out: list[Element] = []
    for picks in digest.behaviours:
        out.append(_section(picks.title))
        labels = {b.item_id: b.label for b in picks.behaviours}
        for perspective in picks.perspectives:
            where = FACET_LABELS.get(perspective, perspective)
            if picks.suppressed.get(perspective):
                out.append(text(f"{where}: hidden, fewer than {digest.k} people took part.", size="Small"))
                continue
            strong = ", ".join(labels.get(i, i) for i in picks.named_strong.get(perspective, [])) or "—"
            weak = ", ".join(labels.get(i, i) for i in picks.named_weak.get(perspective, [])) or "—"
            out.append(_facts([(f"{where}: strongest", strong), (f"{where}: weakest", weak)]))
        if picks.disagreements:
            seen = ", ".join(labels.get(i, i) for i in picks.disagreements)
            out.append(text(f"Seen differently by the two perspectives: {seen}", size="Small"))
    return out


def digest_card(
    digest: Digest, *, chart_url: str | None = None, with_segments: bool = True, item_limit: int | None = None
) -> Card:
    """The leaders' digest. `chart_url` may be a data: URI; every figure is also in the text."""
    p = digest.participation
    body: list[Element] = [
        text(f"Pulse digest: {digest.survey_name}", size="Large", weight="Bolder"),
        text(
            f"**Participation** (round {p.round_seq or '—'}): {_pct(p.rate_pct)} of {p.audience_size} people "
            "answered each item."
        ),
    ]
    body += _audits(digest)
    body += _items(digest, with_segments=with_segments, limit=item_limit)
    moved = fmt.moved_line(digest)
    if moved:
        body.append(text(moved, separator=True))
    body += _strands(digest)
    body += _behaviours(digest)
    footer = [line for line in fmt.footer_lines(digest) if line]
    body += [text(line, isSubtle=True, size="Small", separator=i == 0) for i, line in enumerate(footer)]
    content = card(body)
    return with_chart(content, chart_url) if chart_url else content


def with_chart(digest_content: Card, url: str, alt: str = "") -> Card:
    """The digest card with its chart under the participation line."""
    image = {"type": "Image", "url": url, "altText": alt or "The trend chart; its figures are listed below"}
    body = list(digest_content["body"])
    return {**digest_content, "body": [*body[:2], image, *body[2:]]}


def fitting_digest_card(digest: Digest, *, limit: int = MAX_MESSAGE_BYTES) -> Card:
    """The fullest digest card that fits in one Teams message: schools side by side if there is
    room, else totals only, else the first statements with a pointer to the rest."""
    content = digest_card(digest)
    if message_bytes(content) <= limit:
        return content
    content = digest_card(digest, with_segments=False)
    n = len(digest.items)
    while message_bytes(content) > limit and n > 0:
        n = n * 3 // 4
        content = digest_card(digest, with_segments=False, item_limit=n)
    return content


def attachment(content: Card) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


def message_bytes(content: Card) -> int:
    """The size Teams will judge: the card as it travels, in UTF-8."""
    return len(json.dumps(attachment(content), ensure_ascii=False, separators=(",", ":")).encode())
