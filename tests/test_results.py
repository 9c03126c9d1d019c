"""Results as data (issue 10 part 1): checks with stable codes, steps, bindings, one payment split;
the prose (reasons, notes, trace) rendered from them, and no module outside ``policies/`` reading prose."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from policies import Check, evaluate
from policies.award import Payment
from policies.engine import all_clauses, compiled
from policies.payments import amounts, resplit, split
from policies.render import check_line

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"(zone|validity)|(condition|excluded|threshold|rule):[a-z][a-z0-9_]*")


def failed(award) -> dict[str, Check]:
    return {c.code: c for c in award.checks if c.status == "failed"}


def status(award) -> dict[str, str]:
    return {c.code: c.status for c in award.checks}


# --- an ineligible award names what failed -------------------------------------------------------------


def test_zone_failed():
    """etown:27: 800 元/kW × 100 kW, within E-Town (the core and Yizhuang New Town) only."""
    award = evaluate("etown:27", capacity_kw=100, zone="tongzhou")
    assert award.amount == 0 and not award.eligible
    assert list(failed(award)) == ["zone"]
    assert "tongzhou" in failed(award)["zone"].message.en and award.reasons == (
        "区域不符：城市副中心（通州）不在本条适用区域（经开区60平方公里范围（含新扩区域赋权管理单位）、亦庄新城225平方公里范围）内 "
        "Zone City sub-centre (Tongzhou) [tongzhou] is not one of: "
        "E-Town core (60 km² and delegated areas) [etown_core]; Yizhuang New Town (225 km²) [yizhuang_new_town]",
    )  # the zones by their labels (common.yaml), the codes beside the English
    assert status(evaluate("etown:27", capacity_kw=100, zone="etown_core"))["zone"] == "passed"


def test_validity_failed():
    """beijing:2.2 (25% of 1,000,000 = 250,000) is in force to the end of 2027."""
    assert evaluate("beijing:2.2", investment_yuan=1_000_000, on=2027).amount == Decimal("250000.00")
    award = evaluate("beijing:2.2", investment_yuan=1_000_000, on=2028)
    assert award.amount == 0 and list(failed(award)) == ["validity"]
    assert "expired" in failed(award)["validity"].message.en and "政策已到期" in award.reasons[0]
    dateless = evaluate("beijing:2.2", investment_yuan=1_000_000)
    assert (
        status(dateless)["validity"] == "assumed"
    )  # no date given: not checked, and not a note (the caller did not ask)
    assert not any("有效期" in n for n in dateless.notes) and dateless.amount == Decimal("250000.00")


def test_condition_failed():
    """beijing:2.1 is for manufacturers (二(一)): 25% of 8,000,000 = 2,000,000 when met."""
    assert (
        evaluate("beijing:2.1", project_type="other", investment_yuan=8_000_000, manufacturer=True).amount == 2_000_000
    )
    award = evaluate("beijing:2.1", project_type="other", investment_yuan=8_000_000, manufacturer=False)
    check = failed(award)["condition:manufacturer"]
    assert award.amount == 0 and list(failed(award)) == ["condition:manufacturer"]
    assert check.cites == "二(一)" and check.subject.en == "The applicant is a manufacturing enterprise"
    assert award.reasons == (check_line(check),) and "条件不满足 Not met" in award.reasons[0]


def test_excluded_failed():
    """E-Town excludes 'three simultaneous' construction projects (七(二)5(1))."""
    award = evaluate("etown:27", capacity_kw=100, not_three_simultaneous=False)
    assert award.amount == 0 and list(failed(award)) == ["excluded:not_three_simultaneous"]
    assert failed(award)["excluded:not_three_simultaneous"].cites == "七(二)5(1)"


def test_threshold_failed():
    """etown:19: a fleet of 10 vehicles or more (车辆规模大于等于10辆); 9 of 9 electric is not enough."""
    assert evaluate("etown:19", fleet_size=10, nev_count=10).amount == Decimal("500000.00")
    award = evaluate("etown:19", fleet_size=9, nev_count=9)
    assert award.amount == 0 and list(failed(award)) == ["threshold:fleet_size"]
    assert failed(award)["threshold:fleet_size"].cites == "四(七)19"
    award = evaluate("etown:19", fleet_size=1000, nev_count=799)  # below 80%
    assert list(failed(award)) == ["threshold:nev_count"]


def test_rule_failed():
    """beijing:1.2: 120,000 per enterprise served; none served is no award (一(二))."""
    assert evaluate("beijing:1.2", enterprises_served=1, parks_served=0).amount == Decimal("120000.00")
    award = evaluate("beijing:1.2", enterprises_served=0, parks_served=0)
    assert award.amount == 0 and list(failed(award)) == ["rule:enterprises_served"]
    assert "At least one enterprise or park served" in award.reasons[0]


def test_assumed_and_waived():
    """beijing:8's fixed-asset investment above 5,000,000 is a fact: blank, it is assumed (and noted);
    etown:10 lifts 'not government-funded' for a budget unit (waived)."""
    award = evaluate("beijing:8", loan_principal_yuan=10_000_000, loan_rate=0.03)
    assert award.eligible and status(award)["threshold:fixed_asset_investment_yuan"] == "assumed"
    assert any(n.startswith("假定满足 Assumed") and "5,000,000" in n for n in award.notes)
    below = evaluate("beijing:8", loan_principal_yuan=10_000_000, loan_rate=0.03, fixed_asset_investment_yuan=5_000_000)
    assert list(failed(below)) == ["threshold:fixed_asset_investment_yuan"]  # 超过500万元: not 5,000,000 itself
    waived = evaluate(
        "etown:10", boiler_grade="A", investment_yuan=1_000_000, budget_unit=True, no_government_funding=False
    )
    assert waived.eligible and status(waived)["excluded:no_government_funding"] == "waived"


def test_every_check_code_follows_the_grammar_and_is_unique():
    for _, clause in all_clauses():
        if not clause.monetary:
            continue
        codes = [d.code for d in compiled(clause.id).definitions]
        assert codes[:2] == ["validity", "zone"], clause.id
        assert len(codes) == len(set(codes)), clause.id
        assert all(CODE.fullmatch(code) for code in codes), (clause.id, codes)


def test_rule_codes_are_data():
    """A rule's code is its ``id`` when the YAML gives one, else derived: tongzhou:5.2's two thresholds."""
    assert compiled("tongzhou:5.2").clause.rule_codes == ["threshold:intensity_drop", "threshold:emissions_drop"]
    assert compiled("etown:40").clause.rule_codes == ["threshold:area_ha", "rule:built"]


# --- bindings and steps ---------------------------------------------------------------------------------


def test_bindings_name_every_part_that_decided_the_amount():
    """etown:40: 200,000 for building and 100,000 for maintaining green space (六(十四)40): both decide 300,000."""
    award = evaluate("etown:40", area_ha=2, built=True, maintained=True)
    assert award.amount == Decimal("300000.00") and award.binding == "built_award"
    assert award.bindings == ("built_award", "maintained_award")
    assert evaluate("etown:40", area_ha=2, built=True).bindings == ("built_award",)


def test_bindings_name_an_input_that_binds():
    """beijing:8: at most 2% interest (八): a loan at 1.5% is subsidised at its own rate: the input binds."""
    low = evaluate("beijing:8", loan_principal_yuan=10_000_000, loan_rate=0.015)
    assert low.amount == Decimal("150000.00") and low.binding is None and low.bindings == ("loan_rate",)
    high = evaluate("beijing:8", loan_principal_yuan=10_000_000, loan_rate=0.03)
    assert high.amount == Decimal("200000.00") and high.bindings == ("rate",)
    capped = evaluate("beijing:8", loan_principal_yuan=600_000_000, loan_rate=0.03)
    assert capped.amount == Decimal("10000000.00") and capped.bindings == ("cap",)


def test_bindings_of_tongzhou_5_2():
    """tongzhou:5.2: the reduction (10,000 − 9,000 t) × the market price 80 元/t = 80,000, at most 500,000."""
    inputs = dict(emissions_prev_t=10_000, emissions_last_t=9_000, output_prev_yuan=1e8, output_last_yuan=1e8)
    award = evaluate("tongzhou:5.2", carbon_price_yuan_per_t=80, **inputs)
    assert award.amount == Decimal("80000.00") and award.binding is None
    assert award.bindings == ("emissions_prev_t", "emissions_last_t", "carbon_price_yuan_per_t")
    capped = evaluate("tongzhou:5.2", carbon_price_yuan_per_t=1000, **inputs)
    assert capped.amount == Decimal("500000.00") and capped.binding == "cap" and capped.bindings == ("cap",)


def test_steps_are_the_trace_as_data():
    """beijing:2.1: min(1,200 × 1,000 tce, 25% × 10,000,000, 30,000,000) = 1,200,000, the unit price binding."""
    award = evaluate("beijing:2.1", project_type="energy_saving", energy_saved_tce=1000, investment_yuan=10_000_000)
    choice, formula, binding, amount = award.steps
    assert choice.kind == "min" and choice.value == 1_200_000 and choice.bound == "unit_price"
    assert [v for _, v in choice.args] == [1_200_000, 2_500_000, 30_000_000] and choice.cites == "二(一)"
    assert formula.kind == "formula" and formula.value == 1_200_000 and formula.bound == "unit_price"
    assert (binding.kind, binding.value, binding.bound) == ("binding", 1200, "unit_price")
    assert binding.cites == "按照项目节能量给予不超过1200元/吨标准煤的资金奖励"
    assert amount.kind == "amount" and amount.value == Decimal("1200000.00")
    assert award.trace[2].startswith("min(") and award.trace[-2].startswith("决定金额 Binding: unit_price")
    assert award.computed == Decimal("1200000.00")
    ineligible = evaluate(
        "beijing:2.1",
        project_type="energy_saving",
        energy_saved_tce=1000,
        investment_yuan=10_000_000,
        manufacturer=False,
    )
    assert ineligible.computed == Decimal("1200000.00") and ineligible.steps[-1].value == 0


def test_to_dict_has_the_data_and_is_json():
    award = evaluate("etown:27", capacity_kw=100, zone="tongzhou", on=2025)
    data = json.loads(json.dumps(award.to_dict(), ensure_ascii=False))
    assert {"code": "zone", "status": "failed"}.items() <= data["checks"][1].items()
    assert data["checks"][0]["code"] == "validity" and data["checks"][0]["status"] == "passed"
    assert data["steps"][-1] == {"kind": "amount", "what": "", "value": "0.00", "cites": "五(十一)27", "bound": None}
    assert data["bindings"] == ["per_kw", "full_share"] and data["reasons"] == list(award.reasons)


# --- one payment split ------------------------------------------------------------------------------------


def test_one_payment_split():
    """E-Town's engineering projects: 50% on start, 50% on completion (七(二)4); the last stage takes the cent."""
    assert amounts(Decimal("100.01"), [Decimal("0.5"), Decimal("0.5")]) == [Decimal("50.01"), Decimal("50.00")]
    award = evaluate("etown:10", boiler_grade="A", investment_yuan=200_000.02, total_incl_tax_yuan=226_000)
    assert [p.amount for p in award.payments] == [Decimal("50000.01"), Decimal("50000.00")]
    cc = compiled("etown:10")
    assert split(award.amount, cc.schedule, award.inputs) == award.payments
    again = resplit(award.payments, Decimal("70000.01"))
    assert [p.amount for p in again] == [Decimal("35000.01"), Decimal("35000.00")]
    assert [p.status for p in again] == [p.status for p in award.payments]
    assert all(isinstance(p, Payment) for p in again)


# --- nothing outside policies/ reads prose ---------------------------------------------------------------

#: What reading an award's or a claim's prose looks like (a membership test, a search, a prefix, a pattern).
FORBIDDEN = [
    re.compile(r"""["'][^"'\n]*["']\s+in\s+\(?\s*(?:\w+\.)*(?:notes?|reasons?|trace)\b"""),
    re.compile(
        r"""\.(?:startswith|endswith|find|index|rfind)\(\s*["'](?:假定|封顶|决定金额|取代|记录|重复|冲突|从优|不符合|条件不满足|区域不符|政策)"""
    ),
    re.compile(r"""re\.\w+\(\s*r?["'][^"'\n]*(?:封顶|假定|Capped|Assumed|Replaces|On record|Binding)"""),
    re.compile(r"""["'](?:封顶 Capped|取代 Replaces|记录 On record|假定满足 Assumed|决定金额 Binding)["']"""),
]
SCOPE = [
    *sorted((ROOT / "addin").rglob("*.py")),
    *sorted((ROOT / "udfs").rglob("*.py")),
    ROOT / "policies" / "stacking.py",
    ROOT / "policies" / "ledger_rules.py",
]


def prose_searches(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if any(p.search(line) for p in FORBIDDEN)]


def test_the_search_for_prose_finds_what_the_modules_did_before():
    """The patterns catch each way a module read prose before issue 10 (so the next test can fail)."""
    before = [
        '            if status[i] == "invalid" and "duplicate" in (notes[i] or ""):',
        '            at = text.find("封顶 Capped")',
        '        if note.startswith("假定满足 Assumed") and not any(note == cc.condition_texts[n][0] for n in cc.conditions):',
        '    assumed = sum(1 for n in award.notes if n.startswith("假定"))',
        '    binding_line = trace.pop() if award.binding is not None and trace and trace[-1].startswith("决定金额") else None',
        '                             re.findall(r"封顶 Capped: (.*?) \\([^)]*\\);.*?〔([^〕]*)〕", row.get("note") or ""))',
        '            found = [text.find(mark) for mark in ("封顶 Capped", "取代 Replaces", "记录 On record") if mark in text]',
        '        if "条件不满足" in reason and any(cc.condition_texts[n][1] == reason for n in cc.conditions):',
    ]
    assert len(prose_searches("\n".join(before))) == len(before)


@pytest.mark.parametrize("path", SCOPE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_outside_policies_searches_result_text(path):
    assert prose_searches(path.read_text(encoding="utf-8")) == []
