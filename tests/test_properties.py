"""Properties over every monetary clause: amounts are never negative, never above the clause's
largest amount, and never fall as the clause's base input grows with the others fixed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from policies import InputError, evaluate
from policies.engine import all_clauses
from policies.inputs import limit
from policies.schema import Clause, InputSpec

MONETARY = [c for _, c in all_clauses() if c.monetary]
WITH_BASE = [c for c in MONETARY if c.base_input]


def value_strategy(spec: InputSpec) -> st.SearchStrategy:
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "choice":
        return st.sampled_from(sorted(spec.values))
    if spec.type == "text":  # identifies a claim (tongzhou:9's event), computes nothing
        return st.one_of(st.none(), st.text(max_size=20))
    low = spec.lower or Decimal(0)
    if spec.type == "integer":
        high = int(spec.upper) if spec.upper is not None else int(low) + 500
        return st.integers(int(low), high)
    high = spec.upper if spec.upper is not None else min(Decimal("1e10"), limit(spec)[0] - 1)
    places = 6 if spec.type == "ratio" else 2
    return st.decimals(min_value=low, max_value=high, places=places, allow_nan=False, allow_infinity=False)


def inputs_strategy(clause: Clause) -> st.SearchStrategy:
    return st.fixed_dictionaries({name: value_strategy(spec) for name, spec in clause.inputs.items()})


def evaluated(clause: Clause, inputs: dict):
    try:
        return evaluate(clause.id, **inputs)
    except InputError:
        assume(False)  # a draw that breaks a cross-field rule or a strict bound is not a claim


@pytest.mark.parametrize("clause", MONETARY, ids=lambda c: c.id)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_amount_is_within_zero_and_the_clause_maximum(clause: Clause, data: st.DataObject) -> None:
    award = evaluated(clause, data.draw(inputs_strategy(clause)))
    assert award.amount >= 0
    if clause.max_amount is not None:
        assert award.amount <= clause.max_amount, award.trace
    assert sum(p.amount for p in award.payments) == (award.amount if award.eligible else 0)


@pytest.mark.parametrize("clause", WITH_BASE, ids=lambda c: c.id)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data(), growth=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2))
def test_amount_never_falls_as_the_base_input_grows(clause: Clause, data: st.DataObject, growth: Decimal) -> None:
    inputs = data.draw(inputs_strategy(clause))
    spec = clause.inputs[clause.base_input]
    if spec.type == "integer":
        growth = growth.to_integral_value() or Decimal(1)
    if spec.upper is not None:  # grow within the bound (etown:37's 1–2 turbines: most draws were wasted)
        room = spec.upper - inputs[clause.base_input]
        assume(room > 0)
        growth = min(growth, room)
    larger = {**inputs, clause.base_input: inputs[clause.base_input] + growth}
    smaller_award = evaluated(clause, inputs)
    larger_award = evaluated(clause, larger)
    assert larger_award.amount >= smaller_award.amount, (smaller_award.trace, larger_award.trace)


def test_every_clause_with_an_amount_that_grows_declares_its_base_input() -> None:
    flat = {c.id for c in MONETARY if not c.base_input}
    for clause in MONETARY:
        kinds = {p.kind for p in clause.parameters.values()}
        if kinds & {"rate", "unit_price"}:
            assert clause.id not in flat, f"{clause.id} has a rate or unit price but no base_input"


def largest_inputs(clause: Clause) -> dict:
    """Every number input at the largest value it accepts: its own maximum or just below its kind's bound."""
    values: dict = {}
    for name, spec in clause.inputs.items():
        bound = limit(spec)
        if bound is not None:
            values[name] = min(spec.upper, bound[0] - 1) if spec.upper is not None else bound[0] - 1
        elif spec.type == "ratio":
            values[name] = spec.upper
        elif spec.type == "bool":
            values[name] = True
        elif spec.type == "choice":
            values[name] = next(iter(spec.values))
    return values


@pytest.mark.parametrize("clause", MONETARY, ids=lambda c: c.id)
def test_the_largest_accepted_inputs_compute_on_every_route(clause: Clause) -> None:
    """No input within the bounds makes the arithmetic fail (1e26 yuan raised InvalidOperation in round_yuan)."""
    base = largest_inputs(clause)
    variants = (
        [base]
        + [
            {**base, name: value}
            for name, spec in clause.inputs.items()
            if spec.type == "choice"
            for value in spec.values
        ]
        + [{**base, name: False} for name, spec in clause.inputs.items() if spec.type == "bool"]
    )
    for inputs in variants:
        try:
            award = evaluate(clause.id, **inputs)
        except InputError as error:
            assert "cannot be computed" not in error.rule, error  # a cross-field rule may refuse a draw
            continue
        assert 0 <= award.amount < Decimal("1e20"), award.trace
        assert award.amount == award.amount.quantize(Decimal("0.01"))
