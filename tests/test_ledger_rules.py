"""The rules across years, batches and enterprises (issue 11), each on a portfolio written from the text.

Figures: Tongzhou 第三条 30% of the approved investment, at most 2,000,000 a project; 第四条 municipal
honour 500,000; 第六条 30%; 第八条 5,000,000 over three years; 第九条 50% of the outlay, 1,000,000 per
event; 第十条 best clause only (从优不重复), 2,000,000 per enterprise per year. E-Town 27: 800 yuan per
kW, one-off (一次性奖励); 31: 100,000 every year (每年度). Beijing 八: loan interest, every year.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pandas as pd
import pytest

from addin.portfolio import stack
from policies import evaluate
from policies.errors import InputError, PolicyDataError
from policies.ledger_rules import Grant, Record, event_key, room_left
from policies.stacking import STATUSES, Portfolio

D = Decimal


def claim(enterprise: str, project: str, clause: str, year: object = 2025, **inputs: object) -> dict:
    zone = {"tongzhou": "tongzhou", "etown": "etown_core", "beijing": "other_beijing"}[clause.split(":")[0]]
    return {"enterprise": enterprise, "project": project, "clause": clause, "year": year, "zone": zone, **inputs}


def run(*rows: dict, record=None) -> Portfolio:
    return stack(pd.DataFrame(list(rows)), record=record)


def outcome(result: Portfolio) -> list[tuple[str, Decimal]]:
    return list(zip(result.claims["status"], result.claims["granted_yuan"]))


# --- a one-off clause pays a project once -------------------------------------------------------------


def test_tongzhou_3_claimed_in_two_years_pays_1_500_000_once():
    result = run(
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=5_000_000),
        claim("甲", "P1", "tongzhou:3", 2026, investment_yuan=5_000_000),
    )
    assert outcome(result) == [("granted", D("1500000.00")), ("duplicate", D("0.00"))]
    assert result.granted_total == D("1500000.00")
    note = result.claims["note"][1]
    assert "重复 Duplicate" in note and "row 2, 2025" in note and "1,500,000.00" in note


def test_the_earlier_year_is_the_grant_whatever_the_row_order():
    result = run(
        claim("甲", "P1", "tongzhou:3", 2026, investment_yuan=5_000_000),
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=5_000_000),
    )
    assert outcome(result) == [("duplicate", D("0.00")), ("granted", D("1500000.00"))]
    assert "row 3, 2025" in result.claims["note"][0]


def test_etown_27_the_same_100_kw_in_two_years_pays_80_000_once():
    result = run(
        claim("乙", "屋顶光伏", "etown:27", 2025, capacity_kw=100),
        claim("乙", "屋顶光伏", "etown:27", 2026, capacity_kw=100),
    )
    assert outcome(result) == [("granted", D("80000.00")), ("duplicate", D("0.00"))]
    assert "一次性" in result.claims["note"][1] or "one-off" in result.claims["note"][1]


def test_etown_27_owner_and_investor_of_one_third_party_project_are_two_claims():
    # 27: 第三方投资，项目投资方和场地业主方分开申请，各享受奖励资金的50%
    result = run(
        claim("投资方", "屋顶光伏", "etown:27", 2025, capacity_kw=100, ownership="third_party", applicant="investor"),
        claim("业主方", "屋顶光伏", "etown:27", 2026, capacity_kw=100, ownership="third_party", applicant="owner"),
    )
    assert outcome(result) == [("granted", D("40000.00")), ("granted", D("40000.00"))]


def test_tongzhou_4_the_same_municipal_honour_twice_pays_500_000_once():
    result = run(
        claim("丙", "绿色工厂", "tongzhou:4", 2025, honour="green_factory", honour_level="municipal"),
        claim("丙", "绿色工厂", "tongzhou:4", 2026, honour="green_factory", honour_level="municipal"),
    )
    assert outcome(result) == [("granted", D("500000.00")), ("duplicate", D("0.00"))]


@pytest.mark.parametrize("prior", ["none", "municipal"])
def test_tongzhou_4_an_upgrade_to_national_gets_the_difference_whatever_it_declares(prior):
    # 晋级享差额支持: municipal 500,000 in 2025, national in 2026 → 1,000,000 − 500,000
    result = run(
        claim("丙", "绿色工厂", "tongzhou:4", 2025, honour="green_factory", honour_level="municipal"),
        claim(
            "丙",
            "绿色工厂",
            "tongzhou:4",
            2026,
            honour="green_factory",
            honour_level="national",
            prior_honour_level=prior,
        ),
    )
    assert outcome(result) == [("granted", D("500000.00")), ("granted", D("500000.00"))]


def test_tongzhou_4_a_declared_earlier_level_stands_where_the_record_has_none():
    # held the municipal honour before the ledger: the upgrade still gets only the difference
    result = run(
        claim(
            "丙",
            "绿色工厂",
            "tongzhou:4",
            2026,
            honour="green_factory",
            honour_level="national",
            prior_honour_level="municipal",
        ),
        record=[],
    )
    assert outcome(result) == [("granted", D("500000.00"))]
    national_twice = run(
        claim("丙", "绿色工厂", "tongzhou:4", 2025, honour="green_factory", honour_level="national"),
        claim("丙", "绿色工厂", "tongzhou:4", 2026, honour="green_factory", honour_level="national"),
    )
    assert outcome(national_twice) == [("granted", D("1000000.00")), ("duplicate", D("0.00"))]


def test_a_claim_that_was_not_granted_makes_no_duplicate():
    # 2025 ineligible (not a manufacturer): the 2026 claim is the first that pays
    result = run(
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=5_000_000, manufacturer_or_data_centre=False),
        claim("甲", "P1", "tongzhou:3", 2026, investment_yuan=5_000_000),
    )
    assert outcome(result) == [("ineligible", D("0.00")), ("granted", D("1500000.00"))]


@pytest.mark.parametrize(
    "clause, inputs, amount",
    [
        (
            "beijing:8",
            {"loan_principal_yuan": 100_000_000, "loan_rate": 0.04, "fixed_asset_investment_yuan": 6_000_000},
            D("2000000.00"),
        ),
        ("etown:31", {"key_units_served": 5}, D("100000.00")),
    ],
)
def test_the_clauses_that_pay_by_year_repeat(clause, inputs, amount):
    result = run(*(claim("丁", "X", clause, year, **inputs) for year in (2025, 2026, 2027)))
    assert outcome(result) == [("granted", amount)] * 3


# --- tongzhou:8: 5,000,000 over three years ---------------------------------------------------------


def test_tongzhou_8_pays_three_years_and_no_fourth():
    # each year within 第十条's 2,000,000; what earlier years gave replaces awarded_before_yuan
    result = run(*(claim("平台公司", "集群平台", "tongzhou:8", year) for year in (2025, 2026, 2027, 2028)))
    assert outcome(result) == [
        ("capped", D("2000000.00")),
        ("capped", D("2000000.00")),
        ("granted", D("1000000.00")),
        ("ineligible", D("0.00")),
    ]
    assert list(result.claims["amount_yuan"])[:3] == [D("5000000.00"), D("3000000.00"), D("1000000.00")]
    assert result.granted_total == D("5000000.00")
    assert "3 years" in result.claims["note"][3] and "分三年" in result.claims["note"][3]


def test_tongzhou_8_a_declared_awarded_before_below_the_table_is_raised_to_it():
    result = run(
        claim("平台公司", "集群平台", "tongzhou:8", 2025),
        claim("平台公司", "集群平台", "tongzhou:8", 2026, awarded_before_yuan=0),
    )
    assert list(result.claims["amount_yuan"]) == [D("5000000.00"), D("3000000.00")]
    assert (
        "2,000,000.00 元 granted before" in result.claims["note"][1]
        and "awarded_before_yuan = 0" in result.claims["note"][1]
    )


def test_tongzhou_8_without_a_ledger_a_higher_declared_figure_stands():
    # the table does not hold every earlier year (2024 is not in it): what it declares beyond stands
    result = run(
        claim("平台公司", "集群平台", "tongzhou:8", 2025, awarded_before_yuan=1_000_000),
        claim("平台公司", "集群平台", "tongzhou:8", 2026, awarded_before_yuan=3_000_000),
    )
    assert list(result.claims["amount_yuan"]) == [D("4000000.00"), D("2000000.00")]


def test_tongzhou_8_with_a_ledger_the_record_replaces_the_declared_figure():
    record = [Grant("平台公司", "集群平台", "tongzhou:8", 2025, D("2000000"), cite="ledger submission 7")]
    result = run(claim("平台公司", "集群平台", "tongzhou:8", 2026, awarded_before_yuan=500_000), record=record)
    assert result.claims["amount_yuan"][0] == D("3000000.00")
    assert outcome(result) == [("capped", D("2000000.00"))]
    assert "ledger submission 7" in result.claims["note"][0] and "counts 500,000.00" in result.claims["note"][0]
    # nothing on record in a complete ledger: the declared 3,000,000 is not believed
    empty = run(claim("平台公司", "集群平台", "tongzhou:8", 2026, awarded_before_yuan=3_000_000), record=[])
    assert empty.claims["amount_yuan"][0] == D("5000000.00")


def test_tongzhou_8_fourth_year_after_a_ledger_first_grant():
    record = [Grant("平台公司", "集群平台", "tongzhou:8", 2024, D("2000000"), cite="ledger submission 1")]
    result = run(claim("平台公司", "集群平台", "tongzhou:8", 2027, awarded_before_yuan=2_000_000), record=record)
    assert outcome(result) == [("ineligible", D("0.00"))]


# --- 从优不重复 and one district policy, across years ---------------------------------------------------


def test_tongzhou_3_then_tongzhou_6_the_earlier_grant_stands():
    result = run(
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=5_000_000),
        claim("甲", "P1", "tongzhou:6", 2026, investment_yuan=6_000_000),
    )
    assert outcome(result) == [("granted", D("1500000.00")), ("superseded", D("0.00"))]
    note = result.claims["note"][1]
    assert "tongzhou:3 in 2025" in note and "第十条" in note and "earlier grant stands" in note


def test_a_project_granted_by_tongzhou_is_a_conflict_under_etown_a_year_later():
    result = run(
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=5_000_000),
        claim("甲", "P1", "etown:7", 2026, investment_yuan=1_000_000),
    )
    assert outcome(result) == [("granted", D("1500000.00")), ("conflict", D("0.00"))]


def test_municipal_awards_stack_across_years():
    result = run(
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=5_000_000),
        claim("甲", "P1", "beijing:2.1", 2026, project_type="other", investment_yuan=5_000_000),
    )
    assert outcome(result) == [("granted", D("1500000.00")), ("granted", D("1250000.00"))]


# --- tongzhou:9: 1,000,000 per event, across enterprises and years ------------------------------------


def test_two_co_funders_of_one_event_share_its_1_000_000():
    result = run(
        claim("主办方", "论坛", "tongzhou:9", 2025, funding_yuan=3_000_000, event="2025 副中心绿色低碳论坛"),
        claim("协办方", "论坛赞助", "tongzhou:9", 2025, funding_yuan=3_000_000, event=" 2025  副中心绿色低碳论坛 "),
    )
    assert outcome(result) == [("capped", D("500000.00")), ("capped", D("500000.00"))]
    assert "单个活动最高支持100万元" in result.claims["note"][0]


def test_event_shares_are_in_proportion_and_an_empty_event_is_its_own():
    result = run(
        claim("A", "e", "tongzhou:9", 2025, funding_yuan=1_200_000, event="Expo"),  # 600,000
        claim("B", "e", "tongzhou:9", 2025, funding_yuan=2_800_000, event="EXPO"),  # 1,000,000 (its own cap)
        claim("C", "e", "tongzhou:9", 2025, funding_yuan=3_000_000),  # no event: 1,000,000 alone
    )
    # 600,000 : 1,000,000 share 1,000,000 → 375,000 and 625,000
    assert outcome(result) == [("capped", D("375000.00")), ("capped", D("625000.00")), ("granted", D("1000000.00"))]


def test_an_event_granted_last_year_leaves_nothing_this_year():
    result = run(
        claim("A", "e", "tongzhou:9", 2025, funding_yuan=3_000_000, event="Expo"),
        claim("B", "e", "tongzhou:9", 2026, funding_yuan=3_000_000, event="Expo"),
    )
    assert outcome(result) == [("granted", D("1000000.00")), ("capped", D("0.00"))]
    assert "1,000,000.00 元 already on record" in result.claims["note"][1]


def test_an_event_on_record_is_deducted_first_then_shared():
    record = [Grant("A", "e", "tongzhou:9", 2025, D("400000"), event="expo", cite="ledger submission 3")]
    result = run(
        claim("B", "e", "tongzhou:9", 2025, funding_yuan=1_000_000, event="Expo"),  # 500,000
        claim("C", "e", "tongzhou:9", 2025, funding_yuan=2_000_000, event="Expo"),  # 1,000,000
        record=record,
    )
    assert outcome(result) == [("capped", D("200000.00")), ("capped", D("400000.00"))]


def test_event_key_ignores_case_width_and_spaces():
    assert event_key("２０２５  Green Forum ") == event_key("2025 green forum")
    assert event_key(None) == event_key("  ") == ""


# --- caps with the record deducted first, in proportion whatever the order -----------------------------


def test_the_tongzhou_cap_counts_the_grants_on_record_first():
    record = [Grant("91350100M000100Y43", "P1", "tongzhou:3", 2025, D("1500000"), cite="ledger submission 1 (a.xlsx)")]
    result = run(
        {**claim("甲", "P2", "tongzhou:3", 2025, investment_yuan=2_000_000), "uscc": "91350100M000100Y43"},
        {
            **claim("甲", "P3", "tongzhou:4", 2025, honour="green_factory", honour_level="municipal"),
            "uscc": "91350100M000100Y43",
        },
        record=record,
    )
    # 600,000 and 500,000 share the 500,000 left: 272,727.27 and 227,272.73
    assert outcome(result) == [("capped", D("272727.27")), ("capped", D("227272.73"))]
    assert "ledger submission 1 (a.xlsx)" in result.claims["note"][0]


def test_shared_caps_do_not_depend_on_row_order():
    rows = [
        claim(e, p, "tongzhou:3", y, investment_yuan=inv)
        for e, p, y, inv in [
            ("甲", "P1", 2025, 3_000_000),
            ("甲", "P2", 2025, 3_300_000),
            ("甲", "P3", 2025, 1_000_000),
            ("甲", "P4", 2026, 6_000_000),
            ("甲", "P1", 2026, 3_000_000),
            ("甲", "P5", 2026, 777_777),
        ]
    ] + [
        claim(e, "ev", "tongzhou:9", 2025, funding_yuan=f, event="Expo")
        for e, f in [("乙", 700_001), ("丙", 900_000), ("丁", 1_333_333)]
    ]
    want = {(r["enterprise"], r["project"], r["clause"], r["year"]): None for r in rows}
    first = run(*rows)
    for r, g, s in zip(rows, first.claims["granted_yuan"], first.claims["status"]):
        want[(r["enterprise"], r["project"], r["clause"], r["year"])] = (s, g)
    for seed in range(5):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        again = run(*shuffled)
        got = {
            (r["enterprise"], r["project"], r["clause"], r["year"]): (s, g)
            for r, g, s in zip(shuffled, again.claims["granted_yuan"], again.claims["status"])
        }
        assert got == want
    assert want[("甲", "P1", "tongzhou:3", 2026)] == ("duplicate", D("0.00"))
    assert sum(g for (e, *_), (s, g) in want.items() if e == "甲") == D("4000000.00")  # two years' 第十条 caps


# --- resubmissions and what is not on record -------------------------------------------------------------


def test_a_resubmission_replaces_the_claim_on_record_and_is_no_duplicate():
    record = [Grant("甲", "P1", "tongzhou:3", 2025, D("1500000"), cite="ledger submission 1 (old.xlsx)")]
    result = run(claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=4_000_000), record=record)
    assert outcome(result) == [("granted", D("1200000.00"))]
    assert "取代 Replaces" in result.claims["note"][0] and "old.xlsx" in result.claims["note"][0]


def test_a_grant_of_nothing_frees_its_room_and_is_no_duplicate():
    record = [Grant("甲", "P1", "tongzhou:3", 2025, D("0"), cite="rejected")]
    result = run(claim("甲", "P1", "tongzhou:3", 2026, investment_yuan=5_000_000), record=record)
    assert outcome(result) == [("granted", D("1500000.00"))]


def test_room_left_under_each_cap():
    record = Record(
        [Grant("甲", "P1", "tongzhou:6", 2025, D("1200000")), Grant("甲", "P2", "tongzhou:3", 2025, D("500000"))]
    )
    left = {cap.id: (used, room) for _, cap, used, room in room_left(record, "甲", 2025)}
    assert left == {
        "tongzhou_renewable_entity_year": (D("1200000"), D("800000")),
        "tongzhou_enterprise_year": (D("1700000"), D("300000")),
    }


def test_duplicate_is_a_status_of_the_summaries():
    result = run(
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=5_000_000),
        claim("甲", "P1", "tongzhou:3", 2026, investment_yuan=5_000_000),
    )
    assert "duplicate" in STATUSES
    by_year = result.by_enterprise_year.set_index("year")
    assert by_year.loc[2026, "duplicate"] == 1 and by_year.loc[2026, "granted_yuan"] == 0


# --- the event input ----------------------------------------------------------------------------------


def test_the_event_is_a_text_input_of_tongzhou_9_that_changes_no_amount():
    award = evaluate("tongzhou:9", funding_yuan=3_000_000, event=2025.0)
    assert award.amount == D("1000000.00") and award.inputs["event"] == "2025"
    with pytest.raises(InputError, match="event"):
        evaluate("tongzhou:9", funding_yuan=1, event="x" * 201)


def test_only_a_text_input_may_be_used_by_nothing():
    from policies.schema import Clause

    base = {"id": "t:1", "article": "1", "title": {"zh": "t", "en": "t"}, "source": "s", "amount": "1"}
    Clause(**base, inputs={"name": {"type": "text", "label": {"zh": "名", "en": "name"}}})
    with pytest.raises(ValueError, match="used by nothing"):
        Clause(**base, inputs={"n": {"type": "number", "label": {"zh": "数", "en": "n"}}})
    with pytest.raises(ValueError, match="text"):
        Clause(**base, inputs={"name": {"type": "text", "default": 1, "label": {"zh": "名", "en": "name"}}})
    assert PolicyDataError  # the loader wraps such errors


# --- the audit's kinds of cases, through the command users run ------------------------------------------


def test_the_issue_cases_through_green_award_portfolio(tmp_path):
    from typer.testing import CliRunner

    from addin.cli import app
    from addin.portfolio import read_rows

    table = tmp_path / "claims.csv"
    table.write_text(
        "enterprise,project,clause,year,zone,investment_yuan,capacity_kw,honour,honour_level,funding_yuan,event\n"
        "甲,P1,tongzhou:3,2025,tongzhou,5000000,,,,,\n"
        "甲,P1,tongzhou:3,2026,tongzhou,5000000,,,,,\n"
        "乙,Q1,tongzhou:3,2025,tongzhou,5000000,,,,,\n"
        "乙,Q1,tongzhou:6,2026,tongzhou,5000000,,,,,\n"
        "丙,PV,etown:27,2025,etown_core,,100,,,,\n"
        "丙,PV,etown:27,2026,etown_core,,100,,,,\n"
        "丁,GF,tongzhou:4,2025,tongzhou,,,green_factory,municipal,,\n"
        "丁,GF,tongzhou:4,2026,tongzhou,,,green_factory,municipal,,\n"
        "戊,论坛,tongzhou:9,2025,tongzhou,,,,,3000000,副中心绿色论坛\n"
        "己,论坛,tongzhou:9,2025,tongzhou,,,,,3000000,副中心绿色论坛\n"
        + "".join(f"庚,平台,tongzhou:8,{y},tongzhou,,,,,,\n" for y in (2025, 2026, 2027, 2028)),
        encoding="utf-8",
    )
    out = tmp_path / "result.csv"
    result = CliRunner().invoke(app, ["portfolio", str(table), "-o", str(out)])
    assert result.exit_code == 0, result.output
    header, rows = read_rows(out)
    at = {h: i for i, h in enumerate(header)}
    got: dict[str, list] = {}
    for row in rows:
        got.setdefault(row[at["enterprise"]], []).append((row[at["status"]], D(row[at["granted_yuan"]])))
    assert got == {
        "甲": [("granted", D("1500000")), ("duplicate", 0)],
        "乙": [("granted", D("1500000")), ("superseded", 0)],
        "丙": [("granted", D("80000")), ("duplicate", 0)],
        "丁": [("granted", D("500000")), ("duplicate", 0)],
        "戊": [("capped", D("500000"))],
        "己": [("capped", D("500000"))],
        "庚": [("capped", D("2000000")), ("capped", D("2000000")), ("granted", D("1000000")), ("ineligible", 0)],
    }
