"""The role policy: who may do what, from the facts alone."""

from __future__ import annotations

import pytest

from surveys.roles import POLICY, Action, Facts, Need, may, refusal

COORDINATORS = [
    Facts(workspace_admin=True),
    Facts(configured=True),
    Facts(in_coordinator_group=True),
]
LEADER_OF_7 = Facts(leads=frozenset({7}))
STAFF = Facts()


@pytest.mark.parametrize("facts", COORDINATORS)
@pytest.mark.parametrize("action", list(Action))
def test_coordinators_may_do_everything(facts: Facts, action: Action) -> None:
    assert facts.is_coordinator
    assert may(facts, action, 7)


@pytest.mark.parametrize("action", list(Action))
def test_staff_may_only_ask_for_help(action: Action) -> None:
    assert may(STAFF, action, 7) is (action is Action.HELP)


@pytest.mark.parametrize("action", list(Action))
def test_leaders_see_their_own_surveys_results_and_change_nothing(action: Action) -> None:
    reads = {Action.HELP, Action.RESULTS, Action.LIST_SURVEYS}
    assert may(LEADER_OF_7, action, 7) is (action in reads)
    assert may(LEADER_OF_7, action, 8) is (action is Action.HELP)


def test_a_leader_of_any_survey_may_list_surveys() -> None:
    assert may(LEADER_OF_7, Action.LIST_SURVEYS, None)
    assert not may(STAFF, Action.LIST_SURVEYS, None)


def test_every_action_has_a_rule_and_a_polite_refusal() -> None:
    assert set(POLICY) == set(Action)
    for action in Action:
        text = refusal(action)
        assert text.startswith("Sorry, only") and "Nothing was changed" in text
        assert ("leaders" in text) is (POLICY[action] is Need.LEADER)
