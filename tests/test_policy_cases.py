"""The policy tests: tables of cases in tests/cases/*.yaml, each citing its article, figures from the text."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from policies import evaluate
from policies.engine import all_clauses

CASES_DIR = Path(__file__).parent / "cases"


def load_cases() -> list[dict]:
    groups = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8")):
            groups.append({**group, "file": path.name})
    return groups


GROUP_KEYS = {"clause", "cites", "cases", "file"}
CASE_KEYS = {"inputs", "on", "amount", "binding", "eligible", "reason", "payments", "payment_status", "note"}


def check_keys(groups: list[dict]) -> list[dict]:
    """A misspelt key (or YAML reading an unquoted `on:` as True) must not silently drop a check."""
    for group in groups:
        assert set(group) <= GROUP_KEYS, f"{group['file']}: unknown keys {set(group) - GROUP_KEYS}"
        for case in group["cases"]:
            assert set(case) <= CASE_KEYS, f"{group['file']} {group['clause']}: unknown keys {set(case) - CASE_KEYS}"
    return groups


GROUPS = check_keys(load_cases())
CASES = [
    pytest.param(group["clause"], case, id=f"{group['clause']}#{i + 1}")
    for group in GROUPS
    for i, case in enumerate(group["cases"])
]


@pytest.mark.parametrize("clause, case", CASES)
def test_case(clause: str, case: dict) -> None:
    award = evaluate(clause, on=case.get("on"), **case.get("inputs", {}))
    expected_eligible = case.get("eligible", True)
    assert award.eligible is expected_eligible, award.reasons
    if "amount" in case:
        assert award.amount == Decimal(str(case["amount"])).quantize(Decimal("0.01")), award.trace
    if not expected_eligible:
        assert award.amount == 0
        if "reason" in case:
            assert any(case["reason"] in r for r in award.reasons), award.reasons
    if "binding" in case:
        assert award.binding == case["binding"], award.trace
    for stage, amount in enumerate(case.get("payments", [])):
        assert award.payments[stage].amount == Decimal(str(amount)), award.payments
    if "payment_status" in case:
        assert [p.status for p in award.payments] == case["payment_status"]
    if "note" in case:
        assert any(case["note"] in note for note in award.notes), award.notes


def test_every_monetary_clause_has_cases_on_rate_and_on_limit() -> None:
    """At least two cases per monetary clause; one on the rate or unit price, one on each cap or floor."""
    by_clause: dict[str, list[dict]] = {}
    for group in GROUPS:
        by_clause.setdefault(group["clause"], []).extend(group["cases"])
    problems = []
    for _, clause in all_clauses():
        if not clause.monetary:
            continue
        cases = by_clause.get(clause.id, [])
        if len(cases) < 2:
            problems.append(f"{clause.id}: {len(cases)} case(s)")
            continue
        kinds = {}
        for case in cases:
            award = evaluate(clause.id, on=case.get("on"), **case.get("inputs", {}))
            if award.eligible and award.binding:
                kinds.setdefault(clause.parameters[award.binding].kind, set()).add(award.binding)
        limits = {n for n, p in clause.parameters.items() if p.kind in ("cap", "floor")}
        missing = limits - kinds.get("cap", set()) - kinds.get("floor", set())
        if missing:
            problems.append(f"{clause.id}: no case binds on {sorted(missing)}")
        if not kinds.keys() - {"cap", "floor"} and any(
            p.kind not in ("cap", "floor", "threshold") for p in clause.parameters.values()
        ):
            problems.append(f"{clause.id}: no case binds on its rate, unit price or fixed amount")
    assert not problems, "\n".join(problems)
