"""The leaders' digest as Block Kit: pure functions, split to stay within Slack's limits.

Short lines, one idea per line, so it reads on a phone. Section texts are cut at line ends
below Slack's 3000 characters, and `digest_messages` splits the blocks over several messages
rather than break the 50-block limit.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot import digest_format as fmt
from bot.slack.blocks import MAX_BLOCKS, Block, esc, text_object
from surveys.digest import Audit, Behaviours, Digest, ItemStat, Strands

MAX_SECTION_TEXT = 3000
MAX_DISAGREEMENTS = 5


def sections(lines: Iterable[str], limit: int = MAX_SECTION_TEXT) -> list[Block]:
    """Section blocks holding the lines, cut at line ends so none exceeds `limit` characters."""
    blocks: list[Block] = []
    chunk = ""
    for line in lines:
        line = line[:limit]
        if chunk and len(chunk) + 1 + len(line) > limit:
            blocks.append({"type": "section", "text": text_object(chunk)})
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append({"type": "section", "text": text_object(chunk)})
    return blocks


def participation_lines(digest: Digest) -> list[str]:
    p = digest.participation
    if p.round_seq is None:
        return ["*Participation*: no round has closed yet."]
    per_item = "–" if p.answers_per_item is None else fmt.whole(p.answers_per_item)
    lines = [
        f"*Participation*, round {p.round_seq}: *{fmt.pct(p.rate_pct)}* "
        f"({per_item} of {p.audience_size} answered each item)"
    ]
    if len(p.trend) > 1:
        rounds = " · ".join(f"{fmt.pct(r.rate_pct)}{'' if r.closed else ' (open)'}" for r in p.trend)
        lines.append(f"Last rounds: {rounds}")
    return lines


def item_line(item: ItemStat) -> str:
    figure = fmt.figure(item)
    parts = [f"*{esc(item.label)}* — *{figure}*" if not item.suppressed else f"*{esc(item.label)}* — _{figure}_"]
    moved = fmt.change(item)
    if moved:
        parts.append(moved)
    parts.append(fmt.people(item))
    if item.neutral_label and item.neutral_pct is not None:
        parts.append(f"{esc(item.neutral_label)} {fmt.pct(item.neutral_pct)}")
    text = item.text if len(item.text) <= 110 else item.text[:109].rsplit(" ", 1)[0] + "…"
    reverse = " (reverse-scored)" if item.reverse else ""
    return " · ".join(parts) + f"\n_{esc(text)}_{reverse}"


def schools(cells: Iterable[tuple[str, str]]) -> str:
    cells = list(cells)
    shown = " · ".join(f"{esc(label)} {value}" for label, value in cells[: fmt.MAX_SCHOOLS_SHOWN])
    more = len(cells) - fmt.MAX_SCHOOLS_SHOWN
    return shown + (f" · and {more} more in the CSV export" if more > 0 else "")


def audit_blocks(digest: Digest, audit: Audit) -> list[Block]:
    index = audit.index
    head = [
        f"*{esc(audit.title)}*",
        f"Trust index *{fmt.figure(index)}* · {fmt.answers(index)} to {len(index.items)} of {index.items_total} items",
    ]
    if audit.favourable_means:
        head.append(f"_{esc(fmt.favourable_note(audit))}_")
    if audit.trend:
        head.append(f"By cycle ({fmt.CYCLE_MEANS}): {fmt.trend_line(audit.trend)}")
    if digest.partnership and index.segments:
        head.append("By school: " + schools((s.label, f"*{fmt.school_figure(s)}*") for s in index.segments))
    if audit.strongest:
        head.append(
            "Strongest: "
            + " · ".join(f"{esc(label)} {share}" for label, share in fmt.ranked_aspects(audit, audit.strongest))
        )
        head.append(
            "Weakest: "
            + " · ".join(f"{esc(label)} {share}" for label, share in fmt.ranked_aspects(audit, audit.weakest))
        )
    blocks = sections(head)
    items = [i for i in digest.items if i.bank_id == audit.bank_id]
    blocks += sections(item_line(i) for i in items)
    if digest.partnership:
        lines = ["*Schools side by side*"]
        lines += [f"*{esc(i.label)}*: " + schools((s.label, fmt.school_figure(s)) for s in i.segments) for i in items]
        blocks += sections(lines)
    return blocks


def strands_blocks(digest: Digest, strands: Strands) -> list[Block]:
    lines = [f"*{esc(strands.title)}* — median level now → in a year"]
    for dim in strands.dimensions:
        head = f"*{esc(dim.title)}*"
        if dim.median_now is not None:
            head += f": {fmt.level_name(dim.median_now)} → {fmt.level_name(dim.median_future)}"
        lines.append(head)
        for s in dim.strands:
            if s.now.suppressed or s.now.median is None:
                lines.append(f"• {esc(s.label)} — _{fmt.level_figure(s.now)}_ · {fmt.people(s.now)}")
                continue
            line = f"• {esc(s.label)} — *{fmt.level_figure(s.now)}* → *{fmt.level_figure(s.future)}*"
            if s.gap is not None:
                line += f" · gap {fmt.signed(s.gap)}"
            if s.median_change:
                line += f" · now {fmt.signed(s.median_change)} since the last check-in"
            line += f" · {fmt.people(s.now)}"
            lines.append(line)
            lines.append(f"   now: {fmt.levels(s.now)}")
            if digest.partnership and s.segments:
                lines.append("   by school: " + schools((g.label, fmt.school_level(g.now)) for g in s.segments))
    return sections(lines)


def behaviours_blocks(digest: Digest, b: Behaviours) -> list[Block]:
    k = digest.k
    people = " · ".join(f"{p} {'hidden' if b.suppressed[p] else b.respondents[p]}" for p in b.perspectives)
    lines = [f"*{esc(b.title)}* (round {b.round_seq}; people who took part: {people})"]
    labels = {s.item_id: s.label for s in b.behaviours}
    counts = {(c.item_id, c.perspective): c for s in b.behaviours for c in s.cells}
    for p in b.perspectives:
        if b.suppressed[p]:
            lines.append(f"_{p}: hidden: fewer than {k} people took part_")
            continue
        if b.respondents[p] == 0:
            continue
        strong = " · ".join(f"{esc(labels[i])} {counts[(i, p)].strong}" for i in b.named_strong[p])
        weak = " · ".join(f"{esc(labels[i])} {counts[(i, p)].weak}" for i in b.named_weak[p])
        lines.append(f"*{p}* — named strong: {strong or '–'}")
        lines.append(f"*{p}* — named weak: {weak or '–'}")
    if b.disagreements and len(b.perspectives) > 1:
        first, second = b.perspectives[:2]
        lines.append(f"*Where {first} and {second} disagree* (strong minus weak, % of people):")
        for item_id in b.disagreements[:MAX_DISAGREEMENTS]:
            lines.append(
                f"• {esc(labels[item_id])}: {first} {fmt.net(counts[(item_id, first)])}, "
                f"{second} {fmt.net(counts[(item_id, second)])}"
            )
    return sections(lines)


def digest_blocks(digest: Digest) -> list[Block]:
    blocks: list[Block] = [
        {"type": "header", "text": text_object(f"Pulse digest: {digest.survey_name}"[:150], "plain_text")},
        {
            "type": "context",
            "elements": [
                text_object(
                    f"{digest.generated_at:%d %b %Y} · groups under {digest.k} people are hidden · "
                    f"▲▼ only where the change is significant"
                )
            ],
        },
    ]
    blocks += sections(participation_lines(digest))
    for audit in digest.audits:
        blocks.append({"type": "divider"})
        blocks += audit_blocks(digest, audit)
    moved = fmt.moved_line(digest)
    if moved:
        blocks += sections([esc(moved)])
    for strands in digest.strands:
        blocks.append({"type": "divider"})
        blocks += strands_blocks(digest, strands)
    for b in digest.behaviours:
        blocks.append({"type": "divider"})
        blocks += behaviours_blocks(digest, b)
    blocks += comments_blocks(digest)
    blocks.append({"type": "context", "elements": [text_object(line) for line in fmt.footer_lines(digest)]})
    return blocks


def comments_blocks(digest: Digest) -> list[Block]:
    """The released batch of comments, text only, and how many are held."""
    note = fmt.comments_note(digest)
    if not digest.comments and note is None:
        return []
    blocks: list[Block] = [{"type": "divider"}]
    if digest.comments:
        lines = ["*What people said*", *(f"• {esc(fmt.one_line(c))}" for c in digest.comments)]
        blocks += sections(lines)
    if note is not None:
        blocks.append({"type": "context", "elements": [text_object(note)]})
    return blocks


def digest_messages(digest: Digest, limit: int = MAX_BLOCKS) -> list[list[Block]]:
    """The digest as one or more messages, each within the block limit, split between sections."""
    messages: list[list[Block]] = [[]]
    for block in digest_blocks(digest):
        if len(messages[-1]) >= limit:
            messages.append([])
        messages[-1].append(block)
    # A divider never opens or closes a message.
    trimmed = [[b for i, b in enumerate(m) if not (b["type"] == "divider" and i in (0, len(m) - 1))] for m in messages]
    return [m for m in trimmed if m]


def fallback_text(digest: Digest) -> str:
    return f"Pulse digest: {esc(digest.survey_name)}"[:300]
