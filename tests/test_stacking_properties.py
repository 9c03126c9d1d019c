"""Properties of a portfolio: the granted total never exceeds the sum of the clause amounts nor any
cap, a capped group is granted its cap exactly, and the grants do not depend on the row order."""

from __future__ import annotations

import random
from decimal import Decimal

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.portfolio import stack
from policies.registry import policies
from policies.stacking import split_cap

ZONE = {"tongzhou": "tongzhou", "etown": "etown_core", "beijing": "other_beijing"}
money = st.decimals(min_value=0, max_value=Decimal("50000000"), places=2, allow_nan=False, allow_infinity=False)


@st.composite
def claims(draw) -> dict:
    clause = draw(
        st.sampled_from(["tongzhou:3", "tongzhou:6", "tongzhou:9", "beijing:8", "beijing:2.2", "etown:11", "etown:27"])
    )
    inputs: dict[str, object] = {}
    if clause in ("tongzhou:3", "tongzhou:6", "beijing:2.2", "etown:11"):
        inputs["investment_yuan"] = draw(money)
    elif clause == "tongzhou:9":
        inputs["funding_yuan"] = draw(money)
    elif clause == "beijing:8":
        inputs["loan_principal_yuan"] = draw(money) * 20
        inputs["loan_rate"] = draw(st.sampled_from(["0.01", "0.02", "0.035"]))
    else:
        inputs["capacity_kw"] = draw(st.integers(0, 20000))
    return {
        "enterprise": draw(st.sampled_from(["甲", "乙"])),
        "project": draw(st.sampled_from(["P1", "P2", "P3", "P4"])),
        "clause": clause,
        "year": draw(st.sampled_from([2025, 2026])),
        "zone": ZONE[clause.split(":")[0]],
        **{k: str(v) for k, v in inputs.items()},
    }


def caps() -> list[tuple[str, object, Decimal]]:
    return [(p.id, cap.clauses, cap.cap) for p in policies().values() for cap in p.annual_caps]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(claims(), min_size=1, max_size=14), st.randoms(use_true_random=False))
def test_granted_never_exceeds_amounts_nor_caps_and_ignores_row_order(rows, rng):
    result = stack(pd.DataFrame(rows))
    frame = result.claims
    valid = frame[frame["status"] != "invalid"]
    amounts = sum(valid["amount_yuan"], Decimal(0))
    granted = sum(valid["granted_yuan"], Decimal(0))
    assert granted <= amounts
    for _, row in valid.iterrows():
        assert 0 <= row["granted_yuan"] <= row["amount_yuan"]
    for _, group in valid.groupby(["enterprise", "year"]):
        for policy, clauses, cap in caps():
            under = group[(group["policy"] == policy) & (clauses == "all" or group["clause"].isin(clauses))]
            assert sum(under["granted_yuan"], Decimal(0)) <= cap
    shuffled = rows[:]
    rng.shuffle(shuffled)
    again = stack(pd.DataFrame(shuffled)).claims

    def grants(f: pd.DataFrame) -> dict:
        return {
            (r.enterprise, r.project, r.clause, r.year, r.status): r.granted_yuan
            for r in f.itertuples()
            if r.status != "invalid"
        }

    assert grants(again) == grants(frame)


@given(
    st.lists(st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2), min_size=1, max_size=12),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000000"), places=2),
)
def test_split_cap_shares_add_up_to_the_cap_and_keep_every_positive_claim(amounts, cap):
    keyed = [(f"k{i}", a) for i, a in enumerate(amounts)]
    shares = split_cap(cap, keyed)
    total = sum(amounts, Decimal(0))
    assert sum(shares.values()) == min(total, cap)
    for key, amount in keyed:
        assert 0 <= shares[key] <= amount
        if amount > 0 and cap * 100 >= len([a for a in amounts if a > 0]):
            assert shares[key] > 0
    order = keyed[:]
    random.Random(1).shuffle(order)
    assert split_cap(cap, order) == shares
