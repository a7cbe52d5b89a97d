"""A seeded partnership with known answers, for the digest tests.

Four schools of different sizes (one below k on its own) answer nine weekly rounds of two
statement audits, strand check-ins and the trust-behaviour exercise. Every answer is kept here
as plain data, so the tests can work out each expected figure from the raw answers themselves,
without the production code, and written as the product would hold it.

Rounds 1-8 are closed (sealed) when the digest is taken, so their answers are written as sealed
counts; round 9 is still open, its answers held, and they must not show in any figure (only in
participation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from storage import ballots, repo
from storage.db import Database
from storage.models import HeldAnswer, Round, SealedCount
from surveys.banks import BankRegistry
from surveys.config import SurveyConfig

K = 5
SCHOOLS: dict[str, tuple[str, int]] = {
    "C0OAK": ("Oakfield", 14),
    "C0ELM": ("Elmhurst", 9),
    "C0BIR": ("Birchwood", 7),
    "C0ASH": ("Ashby", 5),
}
LEADERS = "C0LEADERS"
START = dt.datetime(2026, 9, 7, 8, 0, tzinfo=dt.UTC)
WEEK = dt.timedelta(weeks=1)
LEAD, STUDENT, STRANDS, PICKS = (
    "staff-trust-in-leadership",
    "student-trust-in-staff",
    "maturity-strands",
    "leadership-trust-behaviours",
)
BASE = {"C0OAK": 0.75, "C0ELM": 0.5, "C0BIR": 0.6, "C0ASH": 0.3}
# Favourable-rate shifts per (item index in its bank, cycle): one big rise, one big fall.
SHIFT = {(0, 0): -0.45, (0, 1): 0.2, (2, 0): 0.2, (2, 1): -0.45, (1, 1): 0.05}
STRAND_IDS = ("strand-jpd", "strand-fit-governance", "strand-analytic-investigation")
NOW = START + 8 * WEEK + dt.timedelta(hours=30)  # round 9 opened a day ago and is still open


@dataclass(frozen=True)
class Answer:
    round_seq: int
    item_id: str
    facet: str
    segment: str
    person: str
    option: str
    score: int
    valence: int


@dataclass
class SeededRound:
    seq: int
    id: int
    refs: list[dict[str, Any]]
    closed: bool
    audience_size: int


@dataclass
class Seeded:
    survey_id: int
    rounds: dict[int, SeededRound] = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)
    now: dt.datetime = NOW


def plan(registry: BankRegistry) -> dict[int, list[dict[str, Any]]]:
    """Which items each round asks (round seq -> refs), with the rotation cycle of each."""
    lead = [i.id for i in registry[LEAD].items]
    student = [i.id for i in registry[STUDENT].items]
    rounds: dict[int, list[dict[str, Any]]] = {}
    for seq in range(1, 10):
        cycle = 0 if seq <= 5 else 1
        pair = ((seq - 1) % 5) * 2
        refs = [
            {"bank": LEAD, "version": 1, "item": lead[pair], "cycle": cycle},
            {"bank": LEAD, "version": 1, "item": lead[pair + 1], "cycle": cycle},
            {"bank": STUDENT, "version": 1, "item": student[(seq - 1) % 4], "cycle": 0 if seq <= 4 else 1},
        ]
        if seq in (2, 7):
            refs += [{"bank": STRANDS, "version": 2, "item": s, "cycle": 0} for s in STRAND_IDS[:2]]
        if seq == 7:
            refs.append({"bank": STRANDS, "version": 2, "item": STRAND_IDS[2], "cycle": 0})
        if seq in (3, 8):
            refs.append({"bank": PICKS, "version": 2, "item": PICKS, "cycle": 0 if seq == 3 else 1})
        rounds[seq] = refs
    return rounds


def people(segment: str) -> list[str]:
    return [f"{segment}-p{i}" for i in range(SCHOOLS[segment][1])]


# One student item in round 6 that only three people answer: its whole figure is below k.
SPARSE = (6, "pupil-confidentiality")


def answering(segment: str, seq: int, salt: int, item_id: str = "") -> list[str]:
    """Who answers: most people, a different one or two missing each time."""
    staff = people(segment)
    if (seq, item_id) == SPARSE:
        return staff[:3] if segment == "C0OAK" else []
    missing = (seq + salt) % 3
    return staff[: len(staff) - missing]


def _statement(seq: int, ref: dict[str, Any], index: int, bank_kind: str) -> list[Answer]:
    out = []
    for segment in SCHOOLS:
        who = answering(segment, seq, index, ref["item"])
        rate = min(1.0, max(0.0, BASE[segment] + SHIFT.get((index, ref["cycle"]), 0.0) + 0.02 * (seq % 3)))
        fav = round(rate * len(who))
        for i, person in enumerate(who):
            if bank_kind == "agreement":
                if i < fav:
                    option, score, valence = ("strongly-agree", 4, 1) if i % 2 else ("agree", 3, 1)
                else:
                    option, score, valence = ("disagree", 2, -1) if i % 2 else ("strongly-disagree", 1, -1)
            else:  # yes / no / not sure: every third unfavourable person is not sure
                if i < fav:
                    option, score, valence = "yes", 3, 1
                elif (i - fav) % 3 == 0:
                    option, score, valence = "not-sure", 2, 0
                else:
                    option, score, valence = "no", 1, -1
            out.append(Answer(seq, ref["item"], "", segment, person, option, score, valence))
    return out


LEVELS = ("beginning", "developing", "embedding", "leading")


def _strand(seq: int, ref: dict[str, Any], index: int) -> list[Answer]:
    out = []
    for segment in SCHOOLS:
        for i, person in enumerate(answering(segment, seq, index)):
            now = 1 + (i + seq + index) % 3
            future = min(4, now + 1 + i % 2)
            for facet, level in (("now", now), ("future", future)):
                out.append(Answer(seq, ref["item"], facet, segment, person, LEVELS[level - 1], level, 0))
    return out


def _picks(seq: int, behaviours: list[str]) -> list[Answer]:
    out = []
    count = len(behaviours)
    for segment in SCHOOLS:
        for i, person in enumerate(answering(segment, seq, 7)):
            p = i + len(segment) * 3 + seq
            views = {
                "self": ([(p + j) % count for j in range(5)], [(p + 5 + j) % count for j in range(3)]),
                "team": ([(2 * p + 3 + j) % count for j in range(5)], [(2 * p + 8 + j) % count for j in range(3)]),
            }
            for facet, (strong, weak) in views.items():
                out.append(Answer(seq, PICKS, facet, segment, person, "took-part", 0, 0))
                out += [Answer(seq, behaviours[b], facet, segment, person, "strong", 1, 1) for b in strong]
                out += [Answer(seq, behaviours[b], facet, segment, person, "weak", -1, -1) for b in weak]
    return out


def answers_for(registry: BankRegistry, rounds: dict[int, list[dict[str, Any]]]) -> list[Answer]:
    lead = [i.id for i in registry[LEAD].items]
    student = [i.id for i in registry[STUDENT].items]
    behaviours = [i.id for i in registry[PICKS].items]
    out: list[Answer] = []
    for seq, refs in rounds.items():
        for ref in refs:
            if ref["bank"] == LEAD:
                out += _statement(seq, ref, lead.index(ref["item"]), "agreement")
            elif ref["bank"] == STUDENT:
                out += _statement(seq, ref, student.index(ref["item"]), "yes-no")
            elif ref["bank"] == STRANDS:
                out += _strand(seq, ref, STRAND_IDS.index(ref["item"]))
            else:
                out += _picks(seq, behaviours)
    return out


def survey_config() -> SurveyConfig:
    return SurveyConfig(
        name="Partnership trust",
        bank_ids=[LEAD, STUDENT, STRANDS, PICKS],
        audience=list(SCHOOLS),
        segment_labels={cid: name for cid, (name, _) in SCHOOLS.items()},
        digest_channel=LEADERS,
        items_per_round=3,
        round_hours=72,
        k=K,
    )


def key(a: Answer) -> str:
    return hashlib.sha256(f"{a.round_seq}|{a.item_id}|{a.facet}|{a.person}".encode()).hexdigest()


async def seed(db: Database, registry: BankRegistry) -> Seeded:
    rounds = plan(registry)
    answers = answers_for(registry, rounds)
    audience = sum(size for _, size in SCHOOLS.values())
    bank_of = {PICKS: PICKS} | {i.id: b for b in (LEAD, STUDENT, STRANDS, PICKS) for i in registry[b].items}
    async with db.session() as session:
        survey = survey_config().to_model()
        session.add(survey)
        await session.flush()
        seeded = Seeded(survey.id)
        for seq, refs in rounds.items():
            opened = START + (seq - 1) * WEEK
            round_ = Round(
                survey_id=survey.id,
                seq=seq,
                slot=opened,
                opened_at=opened,
                closes_at=opened + dt.timedelta(hours=72),
                items=refs,
                audience_size=audience,
            )
            closed = round_.closes_at <= NOW
            if closed:
                round_.closed_at = round_.closes_at
            assert await repo.insert_round(session, round_)
            if not closed:
                await ballots.add_round_key(session, round_.id, hashlib.sha256(b"seed").digest())
            seeded.rounds[seq] = SeededRound(seq, round_.id, refs, closed, audience)
        counts: Counter[tuple[Any, ...]] = Counter()
        held: list[dict[str, Any]] = []
        ballot: dict[tuple[int, str, str], list[list[Any]]] = {}
        took_part: dict[tuple[int, str, str], dict[str, Any]] = {}
        for a in answers:
            round_ = seeded.rounds[a.round_seq]
            group = (round_.id, bank_of[a.item_id], a.item_id, a.facet, a.segment, a.score, a.valence, a.option, 1)
            if round_.closed:
                counts[group] += 1
            elif bank_of[a.item_id] == PICKS and a.item_id != PICKS:
                ballot.setdefault((round_.id, a.facet, a.person), []).append([a.item_id, a.option, a.score, a.valence])
            else:
                row = dict(zip(ballots.COUNT_COLUMNS, group, strict=True))
                held.append({**row, "respondent_key": key(a), "seq": 1, "picks": None})
                if a.item_id == PICKS:
                    took_part[(round_.id, a.facet, a.person)] = held[-1]
        for person, row in took_part.items():
            row["picks"] = json.dumps(ballot.get(person, []))
        # As sealing leaves closed rounds (counts only) and as the answer flow holds the open one.
        sealed = [{**dict(zip(ballots.COUNT_COLUMNS, g, strict=True)), "n": n} for g, n in sorted(counts.items())]
        await session.execute(insert(SealedCount), sealed)
        if held:
            await session.execute(insert(HeldAnswer), held)
    seeded.answers = answers
    return seeded
