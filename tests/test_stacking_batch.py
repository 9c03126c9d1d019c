"""The batch path (``policies.batch``) gives exactly ``evaluate``'s amounts, checks and payments.

``evaluate_chunk`` evaluates a table's rows from the clauses' compiled parts without building an
``Award``; here every case table row (tests/cases/*.yaml), as cells a table would hold, and rows
generated over every monetary clause's inputs are evaluated both ways and compared field by field:
amount, eligibility, the failed checks' codes and texts, the basis, the payment shares and statuses,
the assumed count and the error message.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import batch
from policies.engine import compiled
from policies.stacking import monetary_clauses

CASES = Path(__file__).resolve().parent / "cases"


def cell(value: object) -> str:
    """A value as a csv cell holds it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def key_of(clause: str, year: int, inputs: dict, as_text: bool = True) -> batch.Key:
    names = tuple(compiled(clause).specs)
    cells = tuple((cell(inputs.get(n)) if as_text else inputs.get(n, "")) for n in names)
    return (clause, year, names, cells)


def by_evaluate(keys: list[batch.Key], reform=None) -> list[batch.Outcome]:
    return [batch.evaluate_key(key, reform) for key in keys]


def same(fast: batch.Outcome, slow: batch.Outcome) -> None:
    assert fast.amount == slow.amount and fast.eligible == slow.eligible and fast.error == slow.error
    assert [(n.about, n.text, n.cites) for n in fast.failed] == [(n.about, n.text, n.cites) for n in slow.failed]
    assert (fast.basis is None) == (slow.basis is None)
    if fast.basis is not None:
        assert (fast.basis.text, fast.basis.about, fast.basis.cites) == (
            slow.basis.text,
            slow.basis.about,
            slow.basis.cites,
        )
    assert fast.stages == slow.stages and fast.assumed == slow.assumed


def case_keys() -> list[batch.Key]:
    keys = []
    for path in sorted(CASES.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8")):
            if not compiled(group["clause"]).clause.monetary:
                continue
            for case in group["cases"]:
                inputs = dict(case.get("inputs", {}))
                for year in (2024, 2025, 2026, 2028):
                    keys.append(key_of(group["clause"], year, inputs))
                    keys.append(key_of(group["clause"], year, inputs, as_text=False))
    return keys


def test_every_case_table_row_gives_evaluate_s_outcome_by_the_batch_path() -> None:
    keys = case_keys()
    assert len(keys) > 2000
    twice = keys + keys  # the second time every basis is known: the fast path answers, not evaluate
    fast = batch.evaluate_chunk(twice)
    slow = by_evaluate(twice)
    for f, s in zip(fast, slow):
        same(f, s)
    answered = sum(batch.fast_outcome(key) is not None for key in keys if batch.evaluate_key(key).error is None)
    assert answered > len(keys) // 2  # the batch path does the work, evaluate only the first of each kind


def test_under_a_reform_the_batch_path_gives_evaluate_s_outcome() -> None:
    reform = {"etown:27.per_kw": {"2027-01-01": 1000}, "tongzhou:3.rate": "0.4"}
    from policies.parameters import parse_reform

    parsed = parse_reform(reform)
    keys = [k for k in case_keys() if k[0] in ("etown:27", "tongzhou:3")]
    assert keys
    for f, s in zip(batch.evaluate_chunk(keys + keys, parsed), by_evaluate(keys + keys, parsed)):
        same(f, s)
    got = batch.evaluate_chunk([key_of("etown:27", 2027, {"capacity_kw": 100, "ownership": "self"})] * 2, parsed)
    assert got[1].amount == Decimal("100000.00")


NUMBER_TYPES = ("money", "number", "integer", "ratio")


@st.composite
def rows(draw) -> batch.Key:
    clause = draw(st.sampled_from(monetary_clauses()))
    specs = compiled(clause).specs
    inputs: dict[str, object] = {}
    for name, spec in specs.items():
        if not draw(st.booleans()):
            continue
        if spec.type in NUMBER_TYPES:
            inputs[name] = draw(
                st.one_of(
                    st.integers(-5, 10**9).map(str),
                    st.decimals(min_value=-1, max_value=10**8, places=3, allow_nan=False).map(str),
                    st.sampled_from(["1,000", "abc", " ", "0", "1e3"]),
                )
            )
        elif spec.type == "bool":
            inputs[name] = draw(st.sampled_from(["是", "否", "true", "false", "yes", "maybe"]))
        elif spec.type == "choice":
            inputs[name] = draw(st.sampled_from([*(spec.values or {}), "nonsense"]))
        else:
            inputs[name] = draw(st.text(max_size=5))
    year = draw(st.sampled_from([2024, 2025, 2026, 2027, 2028]))
    return key_of(clause, year, inputs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(), min_size=1, max_size=4))
def test_generated_rows_give_evaluate_s_outcome_by_the_batch_path(keys: list[batch.Key]) -> None:
    twice = keys + keys
    for f, s in zip(batch.evaluate_chunk(twice), by_evaluate(twice)):
        same(f, s)


@pytest.mark.parametrize("cells", [("1000", True), ("1000", 1), ("1000", Decimal(1))])
def test_equal_cells_of_other_types_are_coerced_apart(cells: tuple) -> None:
    """True == 1 == Decimal(1) as dict keys: the memo of coerced cells keys by type too."""
    names = ("investment_yuan", "manufacturer_or_data_centre")
    key = ("tongzhou:3", 2025, names, cells)
    for f, s in zip(batch.evaluate_chunk([key, key]), by_evaluate([key, key])):
        same(f, s)


@pytest.mark.parametrize(
    "text",
    ["1200000", "0.035", "007", "0.000", "1200000.50", "9" * 30, "9" * 31, "1." + "0" * 30, "1." + "0" * 31,
     "1" * 30 + "." + "5" * 30, "1,200,000", "120万", "１２００", " 12 ", "1e3", "-5", "5.", ".5"],
)  # fmt: skip
def test_a_number_s_text_gives_evaluate_s_outcome_on_the_plain_path_and_off_it(text: str) -> None:
    """Plain digits (read as ``Decimal(text)`` by ``numbers.to_decimal``) and every
    other form (separators, 万, full-width, spaces, signs, exponents, too long) as ``evaluate`` reads it."""
    for clause, name in (("tongzhou:3", "investment_yuan"), ("etown:37", "titles")):
        key = key_of(clause, 2025, {name: text})
        for f, s in zip(batch.evaluate_chunk([key, key]), by_evaluate([key, key])):
            same(f, s)
