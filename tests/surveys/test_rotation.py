from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.models import Round, Survey
from surveys.banks import Bank, BankRegistry
from surveys.rotation import Asked, cycle_order, pick_items
from surveys.rounds import allot, choose_items, share_out

ITEMS = [f"i{n}" for n in range(10)]


def run(items: list[str], rounds: int, n: int, seed: int = 7) -> list[list[str]]:
    history: list[Asked] = []
    out = []
    for _ in range(rounds):
        picks = pick_items(items, history, n, seed=seed, bank_id="b")
        history += [Asked(p.item_id, p.cycle) for p in picks]
        out.append([p.item_id for p in picks])
    return out


def test_every_item_once_before_any_repeats() -> None:
    asked = [i for r in run(ITEMS, 5, 2) for i in r]
    assert sorted(asked) == sorted(ITEMS)


def test_order_is_reshuffled_each_cycle_and_seeded() -> None:
    assert cycle_order(ITEMS, 1, "b", 0) != cycle_order(ITEMS, 1, "b", 1)
    assert cycle_order(ITEMS, 1, "b", 0) == cycle_order(ITEMS, 1, "b", 0)
    assert cycle_order(ITEMS, 1, "b", 0) != cycle_order(ITEMS, 2, "b", 0)


def test_round_spanning_two_cycles_has_no_duplicate() -> None:
    for r in run(ITEMS[:3], 10, 2):
        assert len(set(r)) == len(r) == 2


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 4),
    seed=st.integers(0, 2**31),
    edits=st.lists(st.tuples(st.sampled_from(["add", "remove", "none"]), st.integers(0, 30)), max_size=25),
)
def test_edits_mid_cycle_never_repeat_nor_drop(n: int, seed: int, edits: list[tuple[str, int]]) -> None:
    items = list(ITEMS)
    history: list[Asked] = []
    fresh = 100
    for op, idx in edits:
        if op == "add":
            items.append(f"new{fresh}")
            fresh += 1
        elif op == "remove" and len(items) > 1:
            items.pop(idx % len(items))
        picks = pick_items(items, history, n, seed=seed, bank_id="b")
        assert len(picks) == min(n, len(items))
        assert len({p.item_id for p in picks}) == len(picks)
        assert all(p.item_id in items for p in picks)
        for p in picks:
            # never twice in one cycle
            assert Asked(p.item_id, p.cycle) not in history
        # an item still owed in the current cycle is picked before anything from the next cycle
        current = max((a.cycle for a in history), default=0)
        owed = {i for i in items if Asked(i, current) not in history}
        if any(p.cycle > current for p in picks):
            assert owed <= {p.item_id for p in picks if p.cycle == current}
        history += [Asked(p.item_id, p.cycle) for p in picks]


# --- banks mixed in one survey; cycle state per bank, derived from round history ------------------


TRUST, STRANDS, PICKS = "staff-trust-in-leadership", "maturity-strands", "leadership-trust-behaviours"


def _survey(bank_ids: list[str], n: int, seed: int = 11) -> Survey:
    return Survey(id=1, name="s", bank_ids=bank_ids, items_per_round=n, seed=seed)


def _rounds(survey: Survey, registry: BankRegistry, count: int) -> list[Round]:
    earlier: list[Round] = []
    for seq in range(1, count + 1):
        refs = choose_items(survey, registry, earlier)
        earlier.append(Round(seq=seq, items=[r.as_json() for r in refs]))
    return earlier


@given(capacities=st.lists(st.integers(0, 12), min_size=1, max_size=5), n=st.integers(0, 20), start=st.integers(0, 9))
def test_allot_fills_fairly_within_capacities(capacities: list[int], n: int, start: int) -> None:
    counts = allot(n, capacities, start=start)
    assert sum(counts) == min(n, sum(capacities))
    assert all(0 <= c <= cap for c, cap in zip(counts, capacities, strict=True))
    # a bank that still had items to give never got two fewer than another bank
    for i, c in enumerate(counts):
        if c < capacities[i]:
            assert all(other <= c + 1 for other in counts)
    if all(cap >= n for cap in capacities) and start == 0:
        assert counts == share_out(n, len(capacities))


def test_mixed_survey_asks_one_of_each_bank_per_round(banks: BankRegistry) -> None:
    survey = _survey([TRUST, STRANDS], 2)
    rounds = _rounds(survey, banks, 12)
    for r in rounds:
        assert sorted(ref["bank"] for ref in r.items) == [STRANDS, TRUST]
    trust = [ref["item"] for r in rounds[:10] for ref in r.items if ref["bank"] == TRUST]
    strands = [ref["item"] for r in rounds for ref in r.items if ref["bank"] == STRANDS]
    assert sorted(trust) == sorted(i.id for i in banks[TRUST].items)
    assert sorted(strands) == sorted(i.id for i in banks[STRANDS].items)


def test_one_item_a_round_alternates_between_banks(banks: BankRegistry) -> None:
    rounds = _rounds(_survey([TRUST, STRANDS], 1), banks, 6)
    assert [r.items[0]["bank"] for r in rounds] == [TRUST, STRANDS] * 3


def test_picks_bank_is_one_exercise_asked_every_round_it_is_dealt(banks: BankRegistry) -> None:
    rounds = _rounds(_survey([PICKS, STRANDS], 3), banks, 4)
    for seq, r in enumerate(rounds):
        picks = [ref for ref in r.items if ref["bank"] == PICKS]
        assert [(p["item"], p["cycle"]) for p in picks] == [(PICKS, seq)]
        # the slot a picks bank cannot use goes to the other bank
        assert len([ref for ref in r.items if ref["bank"] == STRANDS]) == 2
        assert {ref["version"] for ref in r.items if ref["bank"] == PICKS} == {banks[PICKS].version}


def test_two_surveys_on_one_bank_do_not_march_in_step(banks: BankRegistry) -> None:
    a = [ref["item"] for r in _rounds(_survey([TRUST], 1, seed=1), banks, 10) for ref in r.items]
    b = [ref["item"] for r in _rounds(_survey([TRUST], 1, seed=2), banks, 10) for ref in r.items]
    assert sorted(a) == sorted(b) and a != b


EDIT = st.tuples(
    st.sampled_from(["add", "remove", "reword", "round", "round"]),
    st.sampled_from([TRUST, STRANDS, PICKS]),
    st.integers(0, 50),
)


def _edited(bank: Bank, op: str, idx: int, fresh: int) -> Bank:
    items = list(bank.items)
    if op == "add":
        template = items[idx % len(items)]
        items.insert(idx % (len(items) + 1), template.model_copy(update={"id": f"added-{fresh}"}))
    elif op == "remove" and len(items) > 3:
        items.pop(idx % len(items))
    elif op == "reword":
        item = items[idx % len(items)]
        items[idx % len(items)] = item.model_copy(update={"text": f"{item.text} (reworded {fresh})"})
    else:
        return bank
    return bank.model_copy(update={"items": items, "version": bank.version + 1})


@settings(max_examples=150, deadline=None)
@given(
    bank_ids=st.lists(st.sampled_from([TRUST, STRANDS, PICKS]), min_size=1, max_size=3, unique=True),
    n=st.integers(1, 4),
    seed=st.integers(0, 2**31),
    edits=st.lists(EDIT, min_size=1, max_size=40),
)
def test_rotation_rules_hold_per_bank_over_random_edits(
    banks: BankRegistry, bank_ids: list[str], n: int, seed: int, edits: list[tuple[str, str, int]]
) -> None:
    current = {b: banks[b] for b in bank_ids}
    survey = _survey(bank_ids, n, seed)
    earlier: list[Round] = []
    for fresh, (op, bank_id, idx) in enumerate(edits):
        if op != "round":
            if bank_id in current:
                current[bank_id] = _edited(current[bank_id], op, idx, fresh)
            continue
        registry = BankRegistry(list(current.values()))
        refs = choose_items(survey, registry, earlier)
        capacity = sum(len(b.round_item_ids()) for b in current.values())
        assert len(refs) == min(n, capacity)
        assert len({(r.bank, r.item) for r in refs}) == len(refs)  # nothing twice in one message
        for bank_id_, bank in current.items():
            mine = [r for r in refs if r.bank == bank_id_]
            assert all(r.version == bank.version for r in mine)
            assert all(r.item in bank.round_item_ids() for r in mine)
            history = {(i["item"], i["cycle"]) for r in earlier for i in r.items if i["bank"] == bank_id_}
            assert not any((r.item, r.cycle) in history for r in mine)  # never twice in one cycle
            cycle = max((c for _, c in history), default=0)
            owed = {i for i in bank.round_item_ids() if (i, cycle) not in history}
            if any(r.cycle > cycle for r in mine):  # this bank's cycle closes in this round...
                # ...only once everything still owed is asked in it
                assert owed <= {r.item for r in mine if r.cycle == cycle}
        earlier.append(Round(seq=len(earlier) + 1, items=[r.as_json() for r in refs]))


def test_reworded_item_keeps_its_place_in_the_cycle(banks: BankRegistry) -> None:
    bank = banks[TRUST]
    survey = _survey([TRUST], 3)
    earlier = _rounds(survey, banks, 2)
    asked = [ref["item"] for r in earlier for ref in r.items]
    reworded = bank.model_copy(
        update={
            "version": bank.version + 1,
            "items": [i.model_copy(update={"text": "Reworded."}) if i.id == asked[0] else i for i in bank.items],
        }
    )
    rest = choose_items(survey, BankRegistry([reworded]), earlier)
    rest += choose_items(survey, BankRegistry([reworded]), [*earlier, Round(seq=3, items=[r.as_json() for r in rest])])
    later = [r.item for r in rest if r.cycle == 0]
    assert asked[0] not in later
    assert sorted(asked + later) == sorted(i.id for i in bank.items)
    assert {r.version for r in rest} == {bank.version + 1}
