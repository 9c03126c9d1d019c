"""The engine's behaviour around the amount: readings of values, conditions, zones, validity, trace."""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal

import pytest

from policies import evaluate
from policies.engine import all_clauses

WORKED_EXAMPLES = [  # POLICY_CATALOG.md, "Worked examples"
    ("etown:27", {"capacity_kw": 100, "ownership": "self"}, "80000"),
    (
        "beijing:2.1",
        {"project_type": "energy_saving", "energy_saved_tce": 1000, "investment_yuan": 10_000_000},
        "1200000",
    ),
    ("tongzhou:3", {"investment_yuan": 10_000_000}, "2000000"),
    ("etown:19", {"fleet_size": 20, "nev_count": 19}, "300000"),
]


@pytest.mark.parametrize("clause, inputs, amount", WORKED_EXAMPLES)
def test_worked_examples(clause: str, inputs: dict, amount: str) -> None:
    award = evaluate(clause, **inputs)
    assert award.eligible and award.amount == Decimal(amount)


def test_every_catalog_clause_is_encoded() -> None:
    expected = (
        ["beijing:" + a for a in "1.1 1.2 2.1 2.2 2.3 2.4 2.5 3.1 3.2 4 5 6 7 8".split()]
        + ["tongzhou:" + a for a in "1 2 3 4 5.1 5.2 5.3 5.4 6 7 8 9 10 11".split()]
        + [f"etown:{n}" for n in range(1, 41) if n not in ()]
    )
    encoded = {c.id for _, c in all_clauses()}
    assert set(expected) <= encoded, sorted(set(expected) - encoded)
    monetary_etown = {c.id for _, c in all_clauses() if c.id.startswith("etown:") and c.monetary}
    assert {f"etown:{n}" for n in (5, 6, 8, 30, 33)}.isdisjoint(monetary_etown)


@pytest.mark.parametrize("ownership", ["self", "自有", "Self-owned", " SELF "])
def test_choice_accepts_value_or_label_in_either_language(ownership: str) -> None:
    assert evaluate("etown:27", capacity_kw=100.0, ownership=ownership).amount == 80000


@pytest.mark.parametrize(
    "word, expected",
    [
        ("是", "1000000"),
        ("TRUE", "1000000"),
        (True, "1000000"),
        ("否", "500000"),
        ("false", "500000"),
        (False, "500000"),
    ],
)
def test_yes_no_words(word: object, expected: str) -> None:
    award = evaluate("etown:10", boiler_grade="A", investment_yuan=1_000_000.0, budget_unit=word)
    assert award.amount == Decimal(expected)


def test_choice_typed_as_a_number() -> None:
    # 清洁生产审核 等级为一级 → 30万元; Excel sends the typed 1 as 1.0
    assert evaluate("etown:16", audit_level=1.0).amount == 300000
    assert evaluate("etown:16", audit_level="1").amount == 300000


def test_float_taken_by_its_shortest_decimal_form() -> None:
    # 面积合计超过0.8公顷: 0.8 typed in a cell is exactly 0.8, which is not above 0.8.
    assert not evaluate("etown:40", area_ha=0.8, built=True).eligible
    assert evaluate("etown:40", area_ha=0.81, built=True).amount == 200000
    # 0.1 kW typed in a cell arrives as the float nearest 0.1 and is read as exactly 0.1
    assert evaluate("etown:27", capacity_kw=0.1).amount == Decimal("80.00")
    assert evaluate("etown:27", capacity_kw=0.1 + 0.2).amount == Decimal("240.00")  # 0.30000000000000004 kW


def test_rounding_happens_once_half_up() -> None:
    # 800 元/kW × 0.0000625 kW × 50% = 0.025 exactly, rounded half up once at the end
    award = evaluate("etown:27", capacity_kw="0.0000625", ownership="third_party")
    assert award.amount == Decimal("0.03")  # 800 × 0.0000625 × 0.5 = 0.025, half up


def test_condition_false_makes_ineligible_and_absent_is_noted() -> None:
    assumed = evaluate("beijing:2.2", investment_yuan=1_000_000)
    assert assumed.eligible and any("Assumed" in n and "重污染" in n for n in assumed.notes)
    refused = evaluate("beijing:2.2", investment_yuan=1_000_000, heavy_pollution_key_industry="否")
    assert not refused.eligible and refused.amount == 0
    assert any("重污染" in r for r in refused.reasons)
    assert refused.payments == ()


def test_zone_checked_when_given() -> None:
    assert not evaluate("tongzhou:3", investment_yuan=1e6, zone="etown_core").eligible
    assert evaluate("tongzhou:3", investment_yuan=1e6, zone="城市副中心（通州）").eligible
    assert not evaluate("etown:10", boiler_grade="A", investment_yuan=1e6, zone="yizhuang_new_town").eligible
    assert evaluate("etown:27", capacity_kw=10, zone="yizhuang_new_town").eligible
    assert any("Zone assumed" in n for n in evaluate("tongzhou:3", investment_yuan=1e6).notes)


def test_general_condition_of_etown() -> None:
    award = evaluate("etown:27", capacity_kw=100, not_three_simultaneous=False)
    assert not award.eligible and any("三同时" in r for r in award.reasons)


def test_budget_unit_waives_the_government_funding_exclusion() -> None:
    award = evaluate(
        "etown:10", boiler_grade="B", investment_yuan=200000, budget_unit=True, no_government_funding=False
    )
    assert award.eligible and award.amount == 200000
    assert not evaluate("etown:10", boiler_grade="B", investment_yuan=200000, no_government_funding=False).eligible


@pytest.mark.parametrize(
    "clause, inputs, on, eligible",
    [
        ("beijing:2.2", {"investment_yuan": 1e6}, date(2023, 12, 31), False),
        ("beijing:2.2", {"investment_yuan": 1e6}, "2024-03-01", True),
        ("beijing:2.2", {"investment_yuan": 1e6}, 2027, True),
        ("beijing:2.2", {"investment_yuan": 1e6}, "2028-01-01", False),
        ("etown:27", {"capacity_kw": 1}, "2025-05-16", False),
        ("etown:27", {"capacity_kw": 1}, "2025-05-17", True),
        ("etown:27", {"capacity_kw": 1}, 2040, True),
        ("tongzhou:3", {"investment_yuan": 1}, 2030, True),
    ],
)
def test_validity_window(clause: str, inputs: dict, on: object, eligible: bool) -> None:
    assert evaluate(clause, on=on, **inputs).eligible is eligible


def test_unknown_bounds_are_open_with_a_note() -> None:
    award = evaluate("tongzhou:3", on=2026, investment_yuan=1)
    assert any("three years" in n for n in award.notes)


def test_trace_cites_the_article_at_every_step() -> None:
    award = evaluate("beijing:2.1", project_type="energy_saving", energy_saved_tce=1000, investment_yuan=10_000_000)
    assert len(award.trace) >= 4
    assert all("二(一)" in step for step in award.trace)
    assert award.binding == "unit_price" and award.binding_kind == "unit_price"
    assert any("1,200,000" in step for step in award.trace)


def test_ineligible_trace_says_why() -> None:
    award = evaluate("etown:19", fleet_size=9, nev_count=9)
    assert not award.eligible and award.amount == 0
    assert "Not eligible" in award.trace[-1]


def test_payments_add_up_and_second_half_waits_for_90_percent() -> None:
    award = evaluate("etown:11", investment_yuan=333333.33, total_incl_tax_yuan=400000, paid_incl_tax_yuan=359999.99)
    first, second = award.payments
    assert first.amount + second.amount == award.amount
    assert (first.status, second.status) == ("due", "pending")
    paid = evaluate("etown:11", investment_yuan=333333.33, total_incl_tax_yuan=400000, paid_incl_tax_yuan=360000)
    assert [p.status for p in paid.payments] == ["due", "due"]


def test_award_is_json_ready() -> None:
    award = evaluate("etown:27", capacity_kw=100)
    data = json.loads(json.dumps(award.to_dict(), ensure_ascii=False))
    assert data["amount"] == "80000.00" and data["clause"] == "etown:27"


def test_pydantic_input_model_reads_values_as_the_engine_does() -> None:
    """The reviewer's pydantic model and the engine's fast path share one set of coercers."""
    from policies.engine import compiled
    from policies.inputs import coerce_inputs, validate_inputs

    cc = compiled("etown:27")
    raw = {
        "capacity_kw": 12.5,
        "ownership": "第三方投资",
        "applicant": "Site owner",
        "zone": None,
        "no_major_penalty": "是",
    }
    assert validate_inputs(cc.id, cc.model, raw) == coerce_inputs(cc.id, cc.coercers, raw)
    with pytest.raises(Exception) as by_model:
        validate_inputs(cc.id, cc.model, {"capacity_kw": -1})
    with pytest.raises(Exception) as by_engine:
        coerce_inputs(cc.id, cc.coercers, {"capacity_kw": -1})
    assert str(by_model.value) == str(by_engine.value)


def test_single_amount_above_an_annual_cap_carries_a_note() -> None:
    # 第七条 1:1 matching of a 3,000,000 municipal award exceeds 第十条's 2,000,000 per enterprise-year.
    award = evaluate("tongzhou:7", municipal_award_yuan=3_000_000)
    assert award.amount == 3_000_000
    assert any("第十条" in n and "annual cap" in n for n in award.notes)
    assert not any("annual cap" in n for n in evaluate("tongzhou:7", municipal_award_yuan=1_000_000).notes)


def test_money_default_of_zero() -> None:
    # 第八条: awarded_before_yuan defaults to 0 (catalog Conventions)
    assert evaluate("tongzhou:8").amount == 5_000_000


# --- a computed share against a threshold: exact in the core, floating-point noise only in Excel (issue 9 item 16) ---

THRESHOLDS = [  # (clause, inputs, eligible): the three examples of the issue, and exact thresholds
    (
        "etown:32",
        {"neutral_category": "renewal_park", "self_generation_kwh": 49_999.99, "grid_purchase_kwh": 1_000_000},
        False,
    ),
    (
        "etown:32",
        {"neutral_category": "renewal_park", "self_generation_kwh": 50_000, "grid_purchase_kwh": 1_000_000},
        True,
    ),
    (
        "etown:32",
        {"neutral_category": "renewal_park", "self_generation_kwh": 6172.835, "grid_purchase_kwh": 123456.7},
        True,
    ),
    (
        "etown:32",
        {"neutral_category": "renewal_park", "self_generation_kwh": 50.001, "grid_purchase_kwh": 1000.02},
        True,
    ),  # 0.05 × 1000.02 > 50.001 in doubles
    (
        "tongzhou:5.2",
        {
            "emissions_prev_t": 100_000,
            "output_prev_yuan": 1e8,
            "emissions_last_t": 95_000.04,
            "output_last_yuan": 1e8,
            "carbon_price_yuan_per_t": 80,
        },
        False,
    ),
    (
        "tongzhou:5.2",
        {
            "emissions_prev_t": 100_000,
            "output_prev_yuan": 1e8,
            "emissions_last_t": 95_000,
            "output_last_yuan": 1e8,
            "carbon_price_yuan_per_t": 80,
        },
        True,
    ),
    (
        "tongzhou:5.2",
        {
            "emissions_prev_t": 25_000,
            "output_prev_yuan": 2.5e8,
            "emissions_last_t": 19_000,
            "output_last_yuan": 2e8,
            "carbon_price_yuan_per_t": 80,
        },
        True,
    ),
    ("etown:19", {"fleet_size": 2_000_000, "nev_count": 1_799_999}, "low"),
    ("etown:19", {"fleet_size": 2_000_000, "nev_count": 1_800_000}, "high"),
]


@pytest.mark.parametrize("clause, inputs, expected", THRESHOLDS)
def test_a_share_is_compared_with_its_threshold_exactly(clause: str, inputs: dict, expected: object) -> None:
    award = evaluate(clause, **inputs)
    if isinstance(expected, bool):
        assert award.eligible is expected, award.trace
    else:
        assert award.binding == f"{expected}_award", award.trace


def in_doubles(node, env: dict) -> object:
    """A node evaluated as a spreadsheet does: in doubles, ``at_least`` with its relative tolerance."""
    from policies import expr

    a = node.args
    match node:
        case expr.Number(value):
            return float(value)
        case expr.String(value) | expr.Bool(value):
            return value
        case expr.Name(name):
            return env[name]
        case expr.BinOp(op):
            x, y = in_doubles(a[0], env), in_doubles(a[1], env)
            return {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else math.inf}[op]
        case expr.Compare(op):
            x, y = in_doubles(a[0], env), in_doubles(a[1], env)
            return {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
        case expr.IfElse():
            return in_doubles(a[1], env) if in_doubles(a[0], env) else in_doubles(a[2], env)
        case expr.BoolOp(op):
            return (all if op == "and" else any)(in_doubles(x, env) for x in a)
        case expr.Call("at_least"):
            x, y = in_doubles(a[0], env), in_doubles(a[1], env)
            assert (
                expr.to_excel(node, str)
                == f"({expr.to_excel(a[0], str)}>={expr.to_excel(a[1], str)}-ABS({expr.to_excel(a[1], str)})*0.000000001)"
            )
            return x >= y - abs(y) * 1e-9
    raise AssertionError(f"not needed here: {node!r}")


@pytest.mark.parametrize("clause, inputs, expected", THRESHOLDS)
def test_the_excel_form_of_the_threshold_agrees_in_doubles(clause: str, inputs: dict, expected: object) -> None:
    """``at_least`` in Excel forgives relative 1e-9 and no more: the same answers computed in doubles."""
    from policies.engine import compiled

    cc = compiled(clause)
    env = {k: float(v) for k, v in cc.parameters.items()}
    env.update({k: (float(v) if isinstance(v, (int, float)) else v) for k, v in inputs.items()})
    holds = [in_doubles(rule, env) for rule in cc.clause.rule_nodes]
    assert all(holds) is (expected if isinstance(expected, bool) else True)
    if not isinstance(expected, bool):
        assert in_doubles(cc.amount_node, env) == float(cc.parameters[f"{expected}_award"])


def test_sums_and_products_are_exact_and_at_least_is_checked_when_parsed() -> None:
    from policies import expr

    node = expr.parse("a * b * c - d")
    expr.annotate(node, str)
    a, b, c = Decimal("1234.5678901234567"), Decimal("98765.432109876543"), Decimal("0.30000000000000004")
    ctx = expr.Context({"a": a, "b": b, "c": c, "d": Decimal("1e-20")})
    exact = Decimal("36579789.341106540729614345092727876974546616247524")  # 50 digits
    assert expr.compile_expr(node)(ctx) == exact
    assert a * b * c - Decimal("1e-20") != exact  # the default 28-digit context rounds it
    for bad in ("at_least(a)", "at_least(a, b, c)"):
        with pytest.raises(expr.ExpressionError):
            expr.parse(bad)


def test_tongzhou_is_not_in_force_before_2024_from_the_command() -> None:
    """Issue 9 item 17: `calc tongzhou:3 ... --on 2019` was eligible (the start was open)."""
    from typer.testing import CliRunner

    from addin.cli import app

    runner = CliRunner()
    before = runner.invoke(app, ["calc", "tongzhou:3", "investment_yuan=5000000", "--on", "2019", "--json"])
    assert before.exit_code == 0, before.output
    data = json.loads(before.output)
    assert data["eligible"] is False and data["amount"] == "0.00" and "政策尚未施行" in data["reasons"][0]
    after = json.loads(
        runner.invoke(app, ["calc", "tongzhou:3", "investment_yuan=5000000", "--on", "2024", "--json"]).output
    )
    assert after["eligible"] is True and after["amount"] == "1500000.00"


def test_an_empty_honour_is_assumed_and_noted() -> None:
    """Issue 9 item 18: tongzhou:4's honour only decides eligibility; empty was an error."""
    award = evaluate("tongzhou:4", honour_level="municipal", honour=None)
    assert award.eligible and award.amount == 500_000
    assert any(n.startswith("假定满足 Assumed") and "绿色工厂" in n for n in award.notes)
    assert evaluate("tongzhou:4", honour_level="municipal", honour="green_factory").notes != award.notes
