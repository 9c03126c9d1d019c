"""The portfolio rules of issue 4, each on a small portfolio written from the text.

Figures: Tongzhou 第三条 30% of the approved investment, at most 2,000,000 a project; 第六条 30%,
2,000,000 per entity per year; 第十条 2,000,000 per enterprise per year, best clause only; Beijing
八 2% interest subsidy, 10,000,000 per enterprise per year; E-Town 七(二)3 best clause only, 七(二)4
50% on start and 50% on completion with tax-inclusive payments ≥ 90% of the total.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pandas as pd
import pytest

from addin.portfolio import stack
from policies.stacking import Portfolio, added_columns, ident, parse_date, split_cap, uscc_problem

D = Decimal


def claim(enterprise: str, project: str, clause: str, year: object = 2025, **inputs: object) -> dict:
    zone = {"tongzhou": "tongzhou", "etown": "etown_core", "beijing": "other_beijing"}[clause.split(":")[0]]
    return {"enterprise": enterprise, "project": project, "clause": clause, "year": year, "zone": zone, **inputs}


def run(*rows: dict) -> Portfolio:
    return stack(pd.DataFrame(list(rows)))


def by_project(result: Portfolio) -> dict[tuple[str, str], dict]:
    return {(r["project"], r["clause"]): r for r in result.claims.to_dict("records")}


# --- duplicates -----------------------------------------------------------------------------------


def test_the_same_project_and_clause_twice_makes_both_rows_invalid_and_the_others_are_computed():
    result = run(
        claim("甲", "P1", "tongzhou:3", investment_yuan=1_000_000),
        claim("甲", "P1", "tongzhou:3", investment_yuan=2_000_000),
        claim("甲", "P2", "tongzhou:3", investment_yuan=1_000_000),
    )
    rows = result.claims.to_dict("records")
    assert [r["status"] for r in rows] == ["invalid", "invalid", "granted"]
    assert "duplicate" in rows[0]["note"] and "rows 2, 3" in rows[0]["note"]
    assert rows[0]["amount_yuan"] is None and rows[0]["granted_yuan"] is None
    assert rows[2]["granted_yuan"] == D("300000.00")


def test_the_same_project_and_clause_in_two_years_is_not_a_duplicate():
    # 第八条: 5,000,000 over three years, claimed year by year
    result = run(
        claim("甲", "平台", "tongzhou:8", 2025),
        claim("甲", "平台", "tongzhou:8", 2026, awarded_before_yuan=2_000_000),
    )
    # each year within 第十条's 2,000,000: 5,000,000 → 2,000,000; then 3,000,000 → 2,000,000
    assert list(result.claims["status"]) == ["capped", "capped"]
    assert list(result.claims["amount_yuan"]) == [D("5000000.00"), D("3000000.00")]
    assert list(result.claims["granted_yuan"]) == [D("2000000.00"), D("2000000.00")]


# --- best clause, conflicts, stacking -------------------------------------------------------------


def test_one_project_under_one_policy_gets_its_best_clause_and_the_others_name_the_winner():
    # 第三条 on 5,000,000: 1,500,000; 第六条 on 4,000,000: 1,200,000 → 第三条 wins (第十条 从优不重复)
    result = by_project(
        run(
            claim("甲", "P1", "tongzhou:3", investment_yuan=5_000_000),
            claim("甲", "P1", "tongzhou:6", investment_yuan=4_000_000),
        )
    )
    assert result[("P1", "tongzhou:3")]["status"] == "granted"
    assert result[("P1", "tongzhou:3")]["granted_yuan"] == D("1500000.00")
    loser = result[("P1", "tongzhou:6")]
    assert loser["status"] == "superseded" and loser["granted_yuan"] == 0
    assert loser["amount_yuan"] == D("1200000.00")
    assert "tongzhou:3" in loser["note"] and "第十条" in loser["note"]


def test_etown_best_clause_per_project_cites_seven_two_three():
    # measure 10 grade A: 50% of 1,000,000 = 500,000; measure 11: 30% of 1,000,000 = 300,000
    result = by_project(
        run(
            claim("乙", "E1", "etown:10", boiler_grade="A", investment_yuan=1_000_000),
            claim("乙", "E1", "etown:11", investment_yuan=1_000_000),
        )
    )
    assert result[("E1", "etown:10")]["granted_yuan"] == D("500000.00")
    assert result[("E1", "etown:11")]["status"] == "superseded"
    assert "七(二)3" in result[("E1", "etown:11")]["note"] and "etown:10" in result[("E1", "etown:11")]["note"]


def test_equal_amounts_choose_the_clause_that_comes_first_in_the_catalog():
    rows = [
        claim("乙", "E1", "etown:11", investment_yuan=1_000_000),
        claim("乙", "E1", "etown:7", investment_yuan=1_000_000),
    ]
    for order in (rows, rows[::-1]):
        result = by_project(run(*order))
        assert result[("E1", "etown:7")]["status"] == "granted"
        assert result[("E1", "etown:11")]["status"] == "superseded"


def test_beijing_best_of_retrofit_measures_while_provider_award_and_loan_interest_stack():
    result = by_project(
        run(
            # 二(一) energy saving: min(1,200 × 1,000, 25% × 10,000,000, 30,000,000) = 1,200,000
            claim(
                "丙",
                "B1",
                "beijing:2.1",
                project_type="energy_saving",
                energy_saved_tce=1000,
                investment_yuan=10_000_000,
            ),
            # 二(二): 25% × 10,000,000 = 2,500,000 → the best of the retrofit measures
            claim("丙", "B1", "beijing:2.2", investment_yuan=10_000_000),
            # 一(二): 120,000 × 5 + 200,000 × 1 = 800,000 — stacks
            claim("丙", "B1", "beijing:1.2", enterprises_served=5, parks_served=1),
            # 八: 100,000,000 × 2% = 2,000,000 — stacks
            claim("丙", "B1", "beijing:8", loan_principal_yuan=100_000_000, loan_rate=0.035),
        )
    )
    assert result[("B1", "beijing:2.2")]["granted_yuan"] == D("2500000.00")
    assert result[("B1", "beijing:2.1")]["status"] == "superseded"
    assert "beijing:2.2" in result[("B1", "beijing:2.1")]["note"]
    assert result[("B1", "beijing:1.2")]["granted_yuan"] == D("800000.00")
    assert result[("B1", "beijing:8")]["granted_yuan"] == D("2000000.00")


def test_a_project_under_two_district_policies_is_a_conflict_and_the_municipal_claim_still_stacks():
    result = by_project(
        run(
            claim("丁", "X", "tongzhou:3", investment_yuan=1_000_000),
            claim("丁", "X", "etown:11", investment_yuan=1_000_000),
            claim("丁", "X", "beijing:2.2", investment_yuan=1_000_000),
        )
    )
    for key, other in ((("X", "tongzhou:3"), "etown:11"), (("X", "etown:11"), "tongzhou:3")):
        assert result[key]["status"] == "conflict"
        assert result[key]["granted_yuan"] == 0
        assert other in result[key]["note"]
    assert result[("X", "beijing:2.2")]["status"] == "granted"
    assert result[("X", "beijing:2.2")]["granted_yuan"] == D("250000.00")


def test_municipal_claims_stack_on_the_district_best_clause():
    # 第十条: "市级政策规定可以叠加的，从其规定" — Beijing 二(一) on top of Tongzhou 第三条
    result = by_project(
        run(
            claim("戊", "P", "tongzhou:3", investment_yuan=10_000_000),
            claim(
                "戊",
                "P",
                "beijing:2.1",
                project_type="energy_saving",
                energy_saved_tce=1000,
                investment_yuan=10_000_000,
            ),
        )
    )
    assert result[("P", "tongzhou:3")]["granted_yuan"] == D("2000000.00")
    assert result[("P", "beijing:2.1")]["granted_yuan"] == D("1200000.00")


# --- caps -----------------------------------------------------------------------------------------


def test_tongzhou_article_ten_cap_is_shared_in_proportion_to_the_cent():
    # three projects of 2,000,000 each (第三条's per-project maximum): 6,000,000 > 2,000,000
    result = run(*[claim("甲", f"P{k}", "tongzhou:3", investment_yuan=10_000_000) for k in (1, 2, 3)])
    granted = list(result.claims["granted_yuan"])
    assert sum(granted) == D("2000000.00")
    assert sorted(granted) == [D("666666.66"), D("666666.67"), D("666666.67")]
    assert set(result.claims["status"]) == {"capped"}
    assert all("第十条" in note for note in result.claims["note"])


def test_proportional_split_follows_the_amounts():
    # 2,000,000 + 900,000 = 2,900,000 → 2,000,000 × 20/29 and × 9/29
    result = by_project(
        run(
            claim("甲", "A", "tongzhou:3", investment_yuan=10_000_000),
            claim("甲", "B", "tongzhou:3", investment_yuan=3_000_000),
        )
    )
    assert result[("A", "tongzhou:3")]["granted_yuan"] == D("1379310.34")
    assert result[("B", "tongzhou:3")]["granted_yuan"] == D("620689.66")


def test_article_six_cap_then_article_ten_cap():
    # 第六条: two 1,500,000 claims → 2,000,000 between them; 第十条 with 第三条's 1,000,000: 3,000,000 → 2,000,000
    result = by_project(
        run(
            claim("甲", "R1", "tongzhou:6", investment_yuan=5_000_000),
            claim("甲", "R2", "tongzhou:6", investment_yuan=5_000_000),
            claim("甲", "M", "tongzhou:3", investment_yuan=3_333_333.33),
        )
    )
    granted = {k: r["granted_yuan"] for k, r in result.items()}
    assert sum(granted.values()) == D("2000000.00")
    assert granted[("R1", "tongzhou:6")] + granted[("R2", "tongzhou:6")] == D("1333333.33")
    assert "第六条" in result[("R1", "tongzhou:6")]["note"] and "第十条" in result[("R1", "tongzhou:6")]["note"]


def test_article_six_cap_alone():
    result = run(
        *[claim("甲", f"R{k}", "tongzhou:6", investment_yuan=5_000_000) for k in (1, 2)],
        claim("乙", "R1", "tongzhou:6", investment_yuan=5_000_000),
    )
    rows = result.claims.to_dict("records")
    assert rows[0]["granted_yuan"] == rows[1]["granted_yuan"] == D("1000000.00")
    assert rows[2]["granted_yuan"] == D("1500000.00") and rows[2]["status"] == "granted"


def test_caps_are_per_enterprise_and_year():
    result = run(
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=10_000_000),
        claim("甲", "P2", "tongzhou:3", 2026, investment_yuan=10_000_000),
        claim("乙", "P1", "tongzhou:3", 2025, investment_yuan=10_000_000),
    )
    assert list(result.claims["status"]) == ["granted"] * 3
    assert sum(result.claims["granted_yuan"]) == D("6000000.00")


def test_beijing_loan_interest_cap_of_ten_million_per_enterprise_year():
    # 400,000,000 × 2% = 8,000,000 each; two loans: 16,000,000 → 10,000,000 (八)
    result = run(
        claim("丙", "L1", "beijing:8", loan_principal_yuan=400_000_000, loan_rate=0.04),
        claim("丙", "L2", "beijing:8", loan_principal_yuan=400_000_000, loan_rate=0.04),
        claim("丙", "B1", "beijing:2.2", investment_yuan=10_000_000),  # not under that cap
    )
    rows = result.claims.to_dict("records")
    assert rows[0]["granted_yuan"] == rows[1]["granted_yuan"] == D("5000000.00")
    assert rows[0]["status"] == "capped" and "八" in rows[0]["note"]
    assert rows[2]["granted_yuan"] == D("2500000.00") and rows[2]["status"] == "granted"


def test_an_enterprise_is_its_credit_code_where_given():
    code = "91350100M000100Y43"
    result = run(
        claim("甲公司", "P1", "tongzhou:3", investment_yuan=10_000_000, uscc=code),
        claim("甲公司（简称）", "P2", "tongzhou:3", investment_yuan=10_000_000, uscc=code),
        claim("甲公司", "P3", "tongzhou:3", investment_yuan=10_000_000, uscc=""),  # same name, code elsewhere
    )
    assert sum(result.claims["granted_yuan"]) == D("2000000.00")
    assert len(result.by_enterprise_year) == 1


def test_split_cap_exact_total_no_zero_and_order_free():
    amounts = [("a", D("10000000")), ("b", D("0.01")), ("c", D("3333333.33"))]
    shares = split_cap(D("2000000"), amounts)
    assert sum(shares.values()) == D("2000000.00")
    assert shares["b"] == D("0.01")
    assert split_cap(D("2000000"), amounts[::-1]) == shares
    assert split_cap(D("100"), [("x", D("40")), ("y", D("50"))]) == {"x": D("40.00"), "y": D("50.00")}


# --- payments and validity ------------------------------------------------------------------------


def test_etown_two_stage_payment_years_from_the_dates():
    base = dict(
        boiler_grade="A",
        investment_yuan=1_000_000,
        start_date="2025-06-01",
        completion_date="2026-03-15",
        total_incl_tax_yuan=1_130_000,
    )
    result = run(
        claim("乙", "E1", "etown:10", paid_incl_tax_yuan=1_017_000, **base),  # exactly 90%
        claim("乙", "E2", "etown:10", paid_incl_tax_yuan=1_016_999.99, **base),
        claim("乙", "E3", "etown:10", boiler_grade="B", investment_yuan=1_000_000),  # no dates: the row's year
    )
    rows = result.claims.to_dict("records")
    assert (rows[0]["payment_1_year"], rows[0]["payment_1_yuan"], rows[0]["payment_1_status"]) == (
        2025,
        D("250000.00"),
        "due",
    )
    assert (rows[0]["payment_2_year"], rows[0]["payment_2_yuan"], rows[0]["payment_2_status"]) == (
        2026,
        D("250000.00"),
        "due",
    )
    assert rows[1]["payment_2_status"] == "pending" and rows[1]["payment_2_year"] == 2026
    assert (rows[2]["payment_1_year"], rows[2]["payment_2_year"], rows[2]["payment_2_status"]) == (
        2025,
        2025,
        "pending",
    )
    years = result.by_payment_year.set_index(["payment_year", "policy"])
    assert years.loc[(2025, "etown"), "due_yuan"] == D("650000.00")
    assert years.loc[(2026, "etown"), "due_yuan"] == D("250000.00")
    assert years.loc[(2026, "etown"), "pending_yuan"] == D("250000.00")


def test_one_off_payments_fall_in_the_claim_year_or_the_completion_year():
    result = run(
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=1_000_000),
        claim("甲", "P2", "tongzhou:3", 2025, investment_yuan=1_000_000, completion_date="2026-05-01"),
        claim("甲", "P3", "tongzhou:3", 2025, investment_yuan=1_000_000, completion_date="2024-05-01"),
    )
    assert list(result.claims["payment_1_year"]) == [2025, 2026, 2025]
    assert list(result.claims["payment_2_year"]) == [None, None, None]


def test_capped_amounts_are_paid_as_granted():
    result = run(*[claim("甲", f"P{k}", "tongzhou:3", investment_yuan=10_000_000) for k in (1, 2, 3)])
    assert sum(result.payments["amount_yuan"]) == D("2000000.00")


def test_the_year_is_checked_against_the_validity_window():
    result = by_project(
        run(
            claim("乙", "E1", "etown:27", 2024, capacity_kw=100),  # E-Town from 2025-05-17
            claim("乙", "E2", "etown:27", 2025, capacity_kw=100),  # 800 × 100 = 80,000
            claim("丙", "B1", "beijing:2.2", 2028, investment_yuan=1_000_000),  # Beijing to 2027-12-31
        )
    )
    assert result[("E1", "etown:27")]["status"] == "ineligible"
    assert "尚未施行" in result[("E1", "etown:27")]["note"]
    assert result[("E2", "etown:27")]["granted_yuan"] == D("80000.00")
    assert result[("B1", "beijing:2.2")]["status"] == "ineligible"
    assert "到期" in result[("B1", "beijing:2.2")]["note"]


# --- bad rows -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row, words",
    [
        (claim("甲", "P1", "tongzhou:33", investment_yuan=1), "unknown clause"),
        (claim("甲", "P1", "tongzhou:3", investment_yuan=-5), "investment_yuan"),
        (claim("甲", "P1", "tongzhou:3", investment_yuan="lots"), "investment_yuan"),
        (claim("甲", "P1", "tongzhou:3"), "investment_yuan"),
        (claim("甲", "P1", "tongzhou:10"), "non-monetary"),
        (claim("甲", "P1", "tongzhou:3", "", investment_yuan=1), "year"),
        (claim("甲", "P1", "tongzhou:3", "FY2025", investment_yuan=1), "year"),
        (claim("甲", "P1", "tongzhou:3", "25", investment_yuan=1), "year"),
        (claim("甲", "P1", "tongzhou:3", "二〇二五", investment_yuan=1), "year"),
        (claim("甲", "P1", "tongzhou:3", "2025年度", investment_yuan=1), "year"),
        (claim("甲", "", "tongzhou:3", investment_yuan=1), "project"),
        (claim("", "P1", "tongzhou:3", investment_yuan=1), "enterprise"),
        (claim("甲", "P1", "tongzhou:3", investment_yuan=1, uscc="91350100M000100Y44"), "check character"),
        (claim("甲", "P1", "etown:10", boiler_grade="C", investment_yuan=1), "boiler_grade"),
        (claim("甲", "P1", "etown:10", boiler_grade="A", investment_yuan=1, start_date="2025-13-01"), "start_date"),
        (
            claim(
                "甲",
                "P1",
                "etown:10",
                boiler_grade="A",
                investment_yuan=1,
                start_date="2026-01-01",
                completion_date="2025-01-01",
            ),
            "before",
        ),
    ],
)
def test_a_bad_row_is_invalid_with_the_reason_and_the_others_are_computed(row, words):
    result = run(row, claim("乙", "Q", "tongzhou:3", investment_yuan=1_000_000))
    bad, good = result.claims.to_dict("records")
    assert bad["status"] == "invalid"
    assert words in bad["note"]
    assert bad["amount_yuan"] is None and bad["granted_yuan"] is None and bad["payment_1_yuan"] is None
    assert good["status"] == "granted" and good["granted_yuan"] == D("300000.00")
    assert result.invalid == 1


@pytest.mark.parametrize("year", ["2025年", "2025.0", "２０２５", "２０２５年", " 2025 ", 2025.0, D("2025")])
def test_the_common_ways_of_writing_a_year_read_as_that_year(year):
    result = run(
        claim("甲", "P1", "tongzhou:3", year, investment_yuan=1_000_000),
        claim("甲", "P1", "tongzhou:3", 2025, investment_yuan=1_000_000),
    )
    # both rows are claims of 2025: the same project and clause twice is a duplicate
    assert result.column("status") == ["invalid", "invalid"]
    assert "duplicate" in result.column("note")[0]
    alone = run(claim("甲", "P1", "tongzhou:3", year, investment_yuan=1_000_000))
    assert alone.column("granted_yuan") == [D("300000.00")] and alone.column("payment_1_year") == [2025]
    assert list(alone.by_enterprise_year["year"]) == [2025]


def test_a_table_without_the_required_columns_is_refused():
    from policies import GreenAwardError

    with pytest.raises(GreenAwardError, match="year"):
        stack(pd.DataFrame([{"enterprise": "甲", "project": "P", "clause": "tongzhou:3"}]))


def test_unknown_columns_are_reported_and_ignored():
    result = run(claim("甲", "P", "tongzhou:3", investment_yuan=1_000_000, investmnet_yuan=5))
    assert any("investmnet_yuan" in w for w in result.warnings)
    assert result.claims["granted_yuan"][0] == D("300000.00")


# --- order independence, identifiers, summaries ---------------------------------------------------


def mixed_portfolio() -> list[dict]:
    return [
        claim("甲", "P1", "tongzhou:3", investment_yuan=10_000_000),
        claim("甲", "P2", "tongzhou:3", investment_yuan=7_777_777.77),
        claim("甲", "P3", "tongzhou:6", investment_yuan=3_333_333),
        claim("甲", "P3", "tongzhou:3", investment_yuan=3_000_000),
        claim("甲", "P4", "tongzhou:9", funding_yuan=1_234_567),
        claim("甲", "P1", "beijing:2.2", investment_yuan=1_000_000),
        claim("丙", "L1", "beijing:8", loan_principal_yuan=300_000_000, loan_rate=0.03),
        claim("丙", "L2", "beijing:8", loan_principal_yuan=123_456_789, loan_rate=0.05),
        claim("丙", "L3", "beijing:8", loan_principal_yuan=333_333_333, loan_rate=0.02),
        claim("乙", "E1", "etown:10", boiler_grade="A", investment_yuan=1_000_000),
        claim("乙", "E1", "etown:11", investment_yuan=3_000_000),
        claim("乙", "E2", "etown:27", capacity_kw=100),
        claim("乙", "E2", "etown:27", capacity_kw=100),
        claim("乙", "E3", "etown:99"),
    ]


def test_shuffled_rows_give_the_same_grants():
    rows = mixed_portfolio()
    expected = {k: (r["granted_yuan"], r["status"]) for k, r in by_project(run(*rows)).items() if k[1] != "etown:27"}
    assert sum(v[0] or 0 for v in expected.values()) > 0
    rng = random.Random(4)
    for _ in range(10):
        shuffled = rows[:]
        rng.shuffle(shuffled)
        got = {k: (r["granted_yuan"], r["status"]) for k, r in by_project(run(*shuffled)).items() if k[1] != "etown:27"}
        assert got == expected


def test_identifiers_stay_text():
    assert ident(1001.0) == "1001" and ident("001") == "001" and ident(" P-7 ") == "P-7" and ident("1001.0") == "1001"
    result = run(claim("甲", "001", "tongzhou:3", investment_yuan=1_000_000))
    assert result.claims["project"][0] == "001"


def test_dates_and_credit_codes():
    from datetime import date, datetime

    assert parse_date("2025-06-01") == parse_date("2025/6/1") == parse_date("2025年6月1日") == date(2025, 6, 1)
    assert parse_date(datetime(2025, 6, 1, 0, 0)) == date(2025, 6, 1)
    assert parse_date(45809.0) == date(2025, 6, 1)  # an Excel serial
    assert uscc_problem("91350100M000100Y43") is None
    assert "check" in uscc_problem("91350100M000100Y40")


def test_summaries():
    result = run(*mixed_portfolio())
    assert list(result.claims.columns[-len(added_columns()) :]) == added_columns()
    ey = result.by_enterprise_year.set_index("enterprise")
    assert ey.loc["甲", "granted_yuan"] == D("2250000.00")  # 第十条's 2,000,000 + Beijing 二(二) 250,000
    assert ey.loc["乙", "invalid"] == 3  # two duplicates and an unknown clause
    policy = result.by_policy.set_index("policy")
    assert policy.loc["tongzhou", "granted_yuan"] == D("2000000.00")
    assert policy.loc["beijing", "granted_yuan"] == D("10250000.00")  # 八's cap + 二(二) 250,000
    total = sum(result.by_payment_year["total_yuan"])
    assert total == result.granted_total
