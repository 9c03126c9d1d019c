"""The worksheet functions called exactly as Excel calls them, against ``policies.evaluate``.

Excel sends numbers as floats, empty cells as ``None``, booleans as bool or as text (是/否,
TRUE/FALSE), choices in Chinese or English or typed as a number, a one-row range as a flat list
and a larger one as a list of rows; classic xlwings sends a date cell as a datetime, xlwings Lite
as its serial number.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

import udfs
from policies import catalog, evaluate
from policies.engine import all_clauses

CASES_DIR = Path(__file__).parent / "cases"


def excel(value: object) -> object:
    """A value as xlwings hands it over from a cell: every number a float."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, date):  # classic xlwings: pywin32 gives a datetime
        return datetime(value.year, value.month, value.day)
    raise TypeError(value)


def serial(day: date) -> float:
    """A date as Excel stores it (and as xlwings Lite sends it): days since 1899-12-30."""
    return float((day - date(1899, 12, 30)).days)


def load_cases() -> list:
    params = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8")):
            for number, case in enumerate(group["cases"], start=1):
                params.append(pytest.param(group["clause"], case, id=f"{group['clause']}#{number}"))
    return params


CASES = load_cases()
MONETARY = [c.id for _, c in all_clauses() if c.monetary]


def pairs(case: dict, *, on_as_serial: bool = False) -> list:
    args: list = []
    for name, value in case.get("inputs", {}).items():
        args += [name, excel(value)]
    if case.get("on") is not None:
        on = case["on"]
        if isinstance(on, date) and on_as_serial:
            args += ["on", serial(on)]
        elif isinstance(on, str) and len(on) == 10:
            args += ["on", excel(date.fromisoformat(on))]
        else:
            args += ["on", excel(on)]
    return args


def expected(clause: str, case: dict) -> float:
    return float(evaluate(clause, on=case.get("on"), **case.get("inputs", {})).amount)


# --- GREEN_AWARD on every monetary clause ------------------------------------------------------


def test_every_monetary_clause_has_a_case() -> None:
    covered = {c.values[0] for c in CASES}
    assert set(MONETARY) <= covered, sorted(set(MONETARY) - covered)


@pytest.mark.parametrize("clause, case", CASES)
def test_green_award_with_pairs(clause: str, case: dict) -> None:
    assert udfs.GREEN_AWARD(clause, *pairs(case)) == expected(clause, case)


@pytest.mark.parametrize("clause, case", CASES)
def test_green_award_with_a_two_column_range(clause: str, case: dict) -> None:
    args = pairs(case, on_as_serial=True)
    rows = [[args[i], args[i + 1]] for i in range(0, len(args), 2)]
    rows.append([None, None])  # a range drawn larger than the filled rows
    value = rows[0] if len(rows) == 1 else rows  # one row arrives as a flat list
    result = udfs.GREEN_AWARD(clause, value)
    assert isinstance(result, float)
    assert result == expected(clause, case)


@pytest.mark.parametrize("clause, case", CASES[:: max(1, len(CASES) // 40)])
def test_award_explain_ends_with_amount_and_binding(clause: str, case: dict) -> None:
    award = evaluate(clause, on=case.get("on"), **case.get("inputs", {}))
    rows = udfs.AWARD_EXPLAIN(clause, *pairs(case))
    assert all(isinstance(r, list) and len(r) == 1 and isinstance(r[0], str) for r in rows)
    amount_row, binding_row = rows[-2][0], rows[-1][0]
    assert f"〔{award.article}〕" in amount_row and f"〔{award.article}〕" in binding_row
    assert amount_row.startswith(("金额 Amount", "不符合条件 Not eligible"))
    assert binding_row.startswith("决定金额 Binding")
    if award.binding:
        assert award.binding in binding_row
    assert rows[0][0].startswith(clause)


def test_a_one_row_range_is_one_pair() -> None:
    assert udfs.GREEN_AWARD("etown:27", ["capacity_kw", 100.0]) == 80000.0


def test_labels_may_name_the_inputs() -> None:
    assert udfs.GREEN_AWARD("etown:27", [["装机容量", 100.0], ["投资模式", "第三方投资"]]) == 40000.0
    assert udfs.GREEN_AWARD("etown:27", "Installed capacity", 100.0) == 80000.0


def test_pairs_and_ranges_mix_and_empty_arguments_name_nothing() -> None:
    assert udfs.GREEN_AWARD("etown:10", "boiler_grade", "A", [["investment_yuan", 1_000_000.0]], None) == 500000.0


def test_a_year_or_date_checks_the_validity_window() -> None:
    assert udfs.GREEN_AWARD("beijing:8", "loan_principal_yuan", 1e8, "loan_rate", 0.035, "on", 2030.0) == 0.0
    assert (
        udfs.GREEN_AWARD("beijing:8", "loan_principal_yuan", 1e8, "loan_rate", 0.035, "on", datetime(2025, 6, 1)) == 2e6
    )
    assert (
        udfs.GREEN_AWARD("beijing:8", "loan_principal_yuan", 1e8, "loan_rate", 0.035, "year", serial(date(2025, 6, 1)))
        == 2e6
    )


# --- the named shortcuts -----------------------------------------------------------------------


def test_pv_subsidy_done_when() -> None:
    assert udfs.PV_SUBSIDY(100.0) == 80000.0


SHORTCUTS = [
    # (call, clause, inputs for evaluate)
    (lambda: udfs.PV_SUBSIDY(100.0), "etown:27", {"capacity_kw": 100}),
    (lambda: udfs.PV_SUBSIDY(100.0, "第三方投资", None), "etown:27", {"capacity_kw": 100, "ownership": "third_party"}),
    (
        lambda: udfs.PV_SUBSIDY(250.5, "third_party_budget_owner", "owner"),
        "etown:27",
        {"capacity_kw": 250.5, "ownership": "third_party_budget_owner", "applicant": "owner"},
    ),
    (lambda: udfs.PV_SUBSIDY(100.0, "Self-owned", "项目投资方"), "etown:27", {"capacity_kw": 100}),
    (
        lambda: udfs.ENERGY_SAVING_AWARD(1000.0, 10_000_000.0),
        "beijing:2.1",
        {"project_type": "energy_saving", "energy_saved_tce": 1000, "investment_yuan": 10_000_000},
    ),
    (
        lambda: udfs.ENERGY_SAVING_AWARD(100_000.0, 10_000_000.0, "是"),
        "beijing:2.1",
        {"project_type": "energy_saving", "energy_saved_tce": 100_000, "investment_yuan": 10_000_000, "leader": True},
    ),
    (
        lambda: udfs.ENERGY_SAVING_AWARD(100_000.0, 10_000_000.0, "FALSE"),
        "beijing:2.1",
        {"project_type": "energy_saving", "energy_saved_tce": 100_000, "investment_yuan": 10_000_000},
    ),
    (
        lambda: udfs.DATA_CENTRE_AWARD(500.0, 4_000_000.0, True),
        "beijing:2.3",
        {"energy_saved_tce": 500, "investment_yuan": 4_000_000, "leader": True},
    ),
    (
        lambda: udfs.RETROFIT_AWARD(10_000_000.0, "beijing"),
        "beijing:2.1",
        {"project_type": "other", "investment_yuan": 10_000_000},
    ),
    (
        lambda: udfs.RETROFIT_AWARD(10_000_000.0, "北京", "TRUE"),
        "beijing:2.1",
        {"project_type": "other", "investment_yuan": 10_000_000, "leader": True},
    ),
    (lambda: udfs.RETROFIT_AWARD(5_000_000.0, "tongzhou"), "tongzhou:3", {"investment_yuan": 5_000_000}),
    (lambda: udfs.RETROFIT_AWARD(10_000_000.0, "通州", "否"), "tongzhou:3", {"investment_yuan": 10_000_000}),
    (lambda: udfs.GREEN_POWER_AWARD(2_000_000.0), "etown:29", {"green_kwh": 2_000_000}),
    (
        lambda: udfs.LOAN_INTEREST_SUBSIDY(100_000_000.0, 0.035),
        "beijing:8",
        {"loan_principal_yuan": 100_000_000, "loan_rate": 0.035},
    ),
    (
        lambda: udfs.LOAN_INTEREST_SUBSIDY(50_000_000.0, 0.015, 6.0, 8_000_000.0),
        "beijing:8",
        {"loan_principal_yuan": 50_000_000, "loan_rate": 0.015, "months": 6, "fixed_asset_investment_yuan": 8_000_000},
    ),
    (
        lambda: udfs.LOAN_INTEREST_SUBSIDY(50_000_000.0, 0.03, None, 3_000_000.0),
        "beijing:8",
        {"loan_principal_yuan": 50_000_000, "loan_rate": 0.03, "fixed_asset_investment_yuan": 3_000_000},
    ),
    (
        lambda: udfs.VEHICLE_AWARD("guo5_replaced", 300_000.0, None, 2.0),
        "etown:18",
        {"vehicle_route": "guo5_replaced", "nev_price_yuan": 300_000, "vehicles": 2},
    ),
    (
        lambda: udfs.VEHICLE_AWARD("special_vehicle", 400_000.0, None, 1.0),
        "etown:18",
        {"vehicle_route": "special_vehicle", "nev_price_yuan": 400_000, "vehicles": 1},
    ),
    (
        lambda: udfs.VEHICLE_AWARD("guo4_retired", 300_000.0, 40_000.0, 3.0),
        "etown:18",
        {"vehicle_route": "guo4_retired", "nev_price_yuan": 300_000, "municipal_subsidy_yuan": 40_000, "vehicles": 3},
    ),
    (lambda: udfs.BOILER_AWARD("A", 1_000_000.0), "etown:10", {"boiler_grade": "A", "investment_yuan": 1_000_000}),
    (
        lambda: udfs.BOILER_AWARD("B", 1_000_000.0, "是"),
        "etown:10",
        {"boiler_grade": "B", "investment_yuan": 1_000_000, "budget_unit": True},
    ),
    (
        lambda: udfs.BOILER_AWARD("B", 0.0, False, True, 3.0),
        "etown:10",
        {"boiler_grade": "B", "investment_yuan": 0, "metering_only": True, "meter_sets": 3},
    ),
    (lambda: udfs.FLEET_AWARD(20.0, 19.0), "etown:19", {"fleet_size": 20, "nev_count": 19}),
    (lambda: udfs.FLEET_AWARD(20.0, 12.0), "etown:19", {"fleet_size": 20, "nev_count": 12}),
    (
        lambda: udfs.MACHINERY_AWARD(500_000.0, 20_000.0, 2.0),
        "etown:21",
        {"machine_price_yuan": 500_000, "higher_subsidy_yuan": 20_000, "machines": 2},
    ),
    (lambda: udfs.RENEWABLE_ENERGY_AWARD(3_000_000.0), "tongzhou:6", {"investment_yuan": 3_000_000}),
]


@pytest.mark.parametrize("call, clause, inputs", SHORTCUTS, ids=[f"{c}#{i}" for i, (_, c, _) in enumerate(SHORTCUTS)])
def test_shortcut_equals_evaluate(call, clause: str, inputs: dict) -> None:
    result = call()
    assert isinstance(result, float)
    assert result == float(evaluate(clause, **inputs).amount)


def test_shortcut_amounts_from_the_catalog() -> None:
    assert udfs.ENERGY_SAVING_AWARD(1000.0, 10_000_000.0) == 1_200_000.0  # worked example
    assert udfs.RETROFIT_AWARD(10_000_000.0, "tongzhou") == 2_000_000.0  # worked example
    assert udfs.FLEET_AWARD(20.0, 19.0) == 300_000.0  # worked example
    assert udfs.GREEN_POWER_AWARD(2_000_000.0) == 20_000.0
    assert udfs.LOAN_INTEREST_SUBSIDY(100_000_000.0, 0.035) == 2_000_000.0


def test_a_choice_typed_as_a_number() -> None:
    assert udfs.GREEN_AWARD("etown:16", "audit_level", 1.0) == float(evaluate("etown:16", audit_level="1").amount)


def test_a_threshold_fact_left_empty_is_assumed_and_said() -> None:
    rows = udfs.AWARD_EXPLAIN(
        "beijing:8", "loan_principal_yuan", 1e8, "loan_rate", 0.035, "fixed_asset_investment_yuan", None
    )
    assert any("假定满足 Assumed" in r[0] for r in rows)


def test_ineligible_is_zero_not_an_error() -> None:
    assert udfs.LOAN_INTEREST_SUBSIDY(50_000_000.0, 0.03, None, 3_000_000.0) == 0.0
    rows = udfs.AWARD_EXPLAIN(
        "beijing:8", "loan_principal_yuan", 5e7, "loan_rate", 0.03, "fixed_asset_investment_yuan", 3e6
    )
    assert rows[-2][0].startswith("不符合条件 Not eligible")


# --- tables -------------------------------------------------------------------------------------


def assert_table(rows: list) -> None:
    assert rows and all(isinstance(r, list) for r in rows)
    assert len({len(r) for r in rows}) == 1, "a spilled table must be rectangular"
    for row in rows:
        for cell in row:
            assert cell is not None
            assert isinstance(cell, (str, float, bool)), (row, cell)
            if isinstance(cell, float):
                assert not math.isnan(cell)


def test_award_clauses_is_the_catalog() -> None:
    rows = udfs.AWARD_CLAUSES()
    assert_table(rows)
    assert [r[0] for r in rows[1:]] == [c["id"] for c in catalog()]
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["tongzhou:3"][5] == 2_000_000.0 and by_id["tongzhou:3"][6] is True
    assert "capacity_kw" in by_id["etown:27"][4]
    assert [r[0] for r in udfs.AWARD_CLAUSES("通州")[1:]] == [c["id"] for c in catalog("tongzhou")]
    assert udfs.AWARD_CLAUSES(None) == udfs.AWARD_CLAUSES("")


def test_award_inputs_lists_unit_values_and_default() -> None:
    rows = udfs.AWARD_INPUTS("etown:27")
    assert_table(rows)
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["capacity_kw"][5] == "kW"
    assert "third_party" in by_name["ownership"][6] and by_name["ownership"][9] == "self"
    assert by_name["capacity_kw"][7] == 0.0
    assert "zone" in by_name


def test_award_payments_two_instalments() -> None:
    rows = udfs.AWARD_PAYMENTS("etown:10", "boiler_grade", "A", "investment_yuan", 1_000_000.0)
    assert_table(rows)
    assert [r[2] for r in rows[1:]] == [250_000.0, 250_000.0]
    assert [r[3] for r in rows[1:]] == ["due", "pending"]


def test_every_table_function_gives_rectangles_for_every_clause() -> None:
    for info in catalog():
        assert_table(udfs.AWARD_INPUTS(info["id"]))


# --- bad input: raises one readable line --------------------------------------------------------


def assert_raises_readable(call, *words: str) -> str:
    with pytest.raises(udfs.WorksheetError) as caught:
        result = call()
        pytest.fail(f"returned {result!r} instead of raising")
    message = str(caught.value)
    assert message and len(message) <= 255 and "\n" not in message
    assert "Traceback" not in message and 'File "' not in message
    for word in words:
        assert word in message, (word, message)
    return message


BAD = [
    # shortcut: negative, non-numeric, missing (an empty cell)
    (lambda: udfs.PV_SUBSIDY(-1.0), ["etown:27", "capacity_kw", "≥ 0"]),
    (lambda: udfs.PV_SUBSIDY("一百"), ["etown:27", "capacity_kw", "number"]),
    (lambda: udfs.PV_SUBSIDY(None), ["etown:27", "capacity_kw", "required"]),
    (lambda: udfs.PV_SUBSIDY(100.0, "rented"), ["etown:27", "ownership", "one of"]),
    (lambda: udfs.PV_SUBSIDY(100.0, None, True), ["etown:27", "applicant"]),
    (lambda: udfs.PV_SUBSIDY([[1.0], [2.0]]), ["etown:27", "capacity_kw"]),
    (lambda: udfs.ENERGY_SAVING_AWARD(-5.0, 1e6), ["beijing:2.1", "energy_saved_tce", "≥ 0"]),
    (lambda: udfs.ENERGY_SAVING_AWARD(5.0, "n/a"), ["beijing:2.1", "investment_yuan", "number"]),
    (lambda: udfs.ENERGY_SAVING_AWARD(None, 1e6), ["beijing:2.1", "energy_saved_tce", "required"]),
    (lambda: udfs.ENERGY_SAVING_AWARD(5.0, 1e6, "maybe"), ["beijing:2.1", "leader", "yes or no"]),
    (lambda: udfs.DATA_CENTRE_AWARD(5.0, -1.0), ["beijing:2.3", "investment_yuan", "≥ 0"]),
    (lambda: udfs.DATA_CENTRE_AWARD(5.0, None), ["beijing:2.3", "investment_yuan", "required"]),
    (lambda: udfs.RETROFIT_AWARD(-1.0, "beijing"), ["beijing:2.1", "investment_yuan", "≥ 0"]),
    (lambda: udfs.RETROFIT_AWARD(1e6, "shanghai"), ["RETROFIT_AWARD", "policy"]),
    (lambda: udfs.RETROFIT_AWARD(1e6, None), ["RETROFIT_AWARD", "policy"]),
    (lambda: udfs.RETROFIT_AWARD(1e6, "etown"), ["RETROFIT_AWARD", "policy"]),
    (lambda: udfs.RETROFIT_AWARD(1e6, "tongzhou", "是"), ["tongzhou:3", "leader", "beijing only"]),
    (lambda: udfs.RETROFIT_AWARD("abc", "tongzhou"), ["tongzhou:3", "investment_yuan", "number"]),
    (lambda: udfs.RETROFIT_AWARD(None, "tongzhou"), ["tongzhou:3", "investment_yuan", "required"]),
    (lambda: udfs.GREEN_POWER_AWARD(-1.0), ["etown:29", "green_kwh", "≥ 0"]),
    (lambda: udfs.GREEN_POWER_AWARD("lots"), ["etown:29", "green_kwh", "number"]),
    (lambda: udfs.GREEN_POWER_AWARD(None), ["etown:29", "green_kwh", "required"]),
    (lambda: udfs.LOAN_INTEREST_SUBSIDY(-1.0, 0.03), ["beijing:8", "loan_principal_yuan"]),
    (lambda: udfs.LOAN_INTEREST_SUBSIDY(1e6, "3%x"), ["beijing:8", "loan_rate", "number"]),
    (lambda: udfs.LOAN_INTEREST_SUBSIDY(1e6, 1.5), ["beijing:8", "loan_rate"]),
    (lambda: udfs.LOAN_INTEREST_SUBSIDY(1e6, None), ["beijing:8", "loan_rate", "required"]),
    (lambda: udfs.LOAN_INTEREST_SUBSIDY(1e6, 0.03, 13.0), ["beijing:8", "months"]),
    (lambda: udfs.LOAN_INTEREST_SUBSIDY(1e6, 0.03, 6.5), ["beijing:8", "months", "whole"]),
    (lambda: udfs.LOAN_INTEREST_SUBSIDY(1e6, 0.03, None, -5.0), ["beijing:8", "fixed_asset_investment_yuan"]),
    (lambda: udfs.VEHICLE_AWARD("bicycle", 3e5), ["etown:18", "vehicle_route", "one of"]),
    (lambda: udfs.VEHICLE_AWARD("guo5_replaced", -3e5, None, 1.0), ["etown:18", "nev_price_yuan", "≥ 0"]),
    (lambda: udfs.VEHICLE_AWARD("guo5_replaced", "cheap", None, 1.0), ["etown:18", "nev_price_yuan", "number"]),
    (lambda: udfs.VEHICLE_AWARD(None, 3e5, None, 1.0), ["etown:18", "vehicle_route"]),
    (lambda: udfs.VEHICLE_AWARD("guo5_replaced", 3e5, None, 1.5), ["etown:18", "vehicles", "whole"]),
    (lambda: udfs.BOILER_AWARD("C", 1e6), ["etown:10", "boiler_grade", "one of"]),
    (lambda: udfs.BOILER_AWARD("A", -1e6), ["etown:10", "investment_yuan", "≥ 0"]),
    (lambda: udfs.BOILER_AWARD("A", None), ["etown:10", "investment_yuan", "required"]),
    (lambda: udfs.FLEET_AWARD(20.0, 21.0), ["etown:19", "nev_count"]),
    (lambda: udfs.FLEET_AWARD(-20.0, 1.0), ["etown:19", "fleet_size"]),
    (lambda: udfs.FLEET_AWARD("twenty", 1.0), ["etown:19", "fleet_size", "number"]),
    (lambda: udfs.FLEET_AWARD(20.0, None), ["etown:19", "nev_count", "required"]),
    (lambda: udfs.MACHINERY_AWARD(-1.0, 0.0, 1.0), ["etown:21", "machine_price_yuan", "≥ 0"]),
    (lambda: udfs.MACHINERY_AWARD("x", 0.0, 1.0), ["etown:21", "machine_price_yuan", "number"]),
    (lambda: udfs.MACHINERY_AWARD(None, 0.0, 1.0), ["etown:21", "machine_price_yuan", "required"]),
    (lambda: udfs.RENEWABLE_ENERGY_AWARD(-1.0), ["tongzhou:6", "investment_yuan", "≥ 0"]),
    (lambda: udfs.RENEWABLE_ENERGY_AWARD("x"), ["tongzhou:6", "investment_yuan", "number"]),
    (lambda: udfs.RENEWABLE_ENERGY_AWARD(None), ["tongzhou:6", "investment_yuan", "required"]),
    # GREEN_AWARD: clause, names, shapes
    (lambda: udfs.GREEN_AWARD("etown:99", "capacity_kw", 1.0), ["unknown clause", "etown:99"]),
    (lambda: udfs.GREEN_AWARD(None, "capacity_kw", 1.0), ["GREEN_AWARD", "clause", "required"]),
    (lambda: udfs.GREEN_AWARD(27.0, "capacity_kw", 1.0), ["GREEN_AWARD", "clause"]),
    (
        lambda: udfs.GREEN_AWARD("etown:27", "capcity_kw", 1.0),
        ["etown:27", "capcity_kw", "unknown input", "capacity_kw"],
    ),
    (lambda: udfs.GREEN_AWARD("etown:27", "capacity_kw"), ["etown:27", "capacity_kw", "no value"]),
    (lambda: udfs.GREEN_AWARD("etown:27", "capacity_kw", [1.0, 2.0]), ["etown:27", "capacity_kw", "one cell"]),
    (lambda: udfs.GREEN_AWARD("etown:27", [["capacity_kw", 1.0, "kW"]]), ["etown:27", "two columns"]),
    (lambda: udfs.GREEN_AWARD("etown:27", [[None, 1.0]]), ["etown:27", "no name"]),
    (lambda: udfs.GREEN_AWARD("etown:27", 5.0, 1.0), ["etown:27", "text"]),
    (lambda: udfs.GREEN_AWARD("etown:27", "capacity_kw", 1.0, "装机容量", 2.0), ["etown:27", "capacity_kw", "twice"]),
    (lambda: udfs.GREEN_AWARD("etown:27", "capacity_kw", -100.0), ["etown:27", "capacity_kw", "≥ 0"]),
    (lambda: udfs.GREEN_AWARD("etown:27", [["capacity_kw", "abc"]]), ["etown:27", "capacity_kw", "number"]),
    (lambda: udfs.GREEN_AWARD("etown:27"), ["etown:27", "capacity_kw", "required"]),
    (lambda: udfs.GREEN_AWARD("etown:5"), ["etown:5", "non-monetary"]),
    (lambda: udfs.GREEN_AWARD("etown:27", "capacity_kw", 1.0, "on", "someday"), ["etown:27", "on"]),
    (
        lambda: udfs.AWARD_PAYMENTS("etown:10", "boiler_grade", "Z", "investment_yuan", 1.0),
        ["etown:10", "boiler_grade"],
    ),
    (lambda: udfs.AWARD_INPUTS("etown:99"), ["unknown clause"]),
    (lambda: udfs.AWARD_INPUTS(None), ["AWARD_INPUTS", "clause"]),
    (lambda: udfs.AWARD_CLAUSES("shanghai"), ["AWARD_CLAUSES", "policy"]),
    # TCE
    (lambda: udfs.TCE(-1.0, "electricity_kwh"), ["TCE", "quantity", "≥ 0"]),
    (lambda: udfs.TCE("many", "electricity_kwh"), ["TCE", "quantity", "number"]),
    (lambda: udfs.TCE(None, "electricity_kwh"), ["TCE", "quantity", "required"]),
    (lambda: udfs.TCE(1.0, "uranium"), ["TCE", "kind", "electricity_kwh"]),
    (lambda: udfs.TCE(1.0, None), ["TCE", "kind"]),
    (lambda: udfs.TCE(1.0, "electricity_kwh", -0.3), ["TCE", "coefficient", "> 0"]),
    (lambda: udfs.TCE(1.0, "electricity_kwh", "high"), ["TCE", "coefficient", "number"]),
    (lambda: udfs.TCE(1.0, "natural_gas_m3", 2.0), ["TCE", "coefficient", "1.1"]),
]


@pytest.mark.parametrize("call, words", BAD, ids=[f"bad#{i}" for i in range(len(BAD))])
def test_bad_input_raises_a_short_readable_error(call, words: list[str]) -> None:
    assert_raises_readable(call, *words)


GREEN_AWARD_BAD = [
    ("etown:27", ["capacity_kw", -1.0]),
    ("etown:27", ["capacity_kw", "abc"]),
    ("etown:27", []),
    ("etown:99", []),
    ("etown:27", ["capcity_kw", 1.0]),
    (None, []),
    ("etown:27", [[["capacity_kw", 1.0, 2.0]]]),
]


@pytest.mark.parametrize("clause, args", GREEN_AWARD_BAD)
def test_award_explain_says_why_instead_of_raising(clause, args) -> None:
    message = assert_raises_readable(lambda: udfs.GREEN_AWARD(clause, *args))
    rows = udfs.AWARD_EXPLAIN(clause, *args)
    assert_table(rows)
    assert rows[0][0] == "输入有误 Input error: " + message.replace("GREEN_AWARD", "AWARD_EXPLAIN")
    assert rows[-1][0].startswith("金额 Amount")


def test_an_internal_error_is_one_line_too(monkeypatch) -> None:
    import udfs.functions as functions

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(functions, "evaluate", broken)
    message = assert_raises_readable(lambda: udfs.PV_SUBSIDY(100.0), "PV_SUBSIDY", "internal error", "report")
    assert len(message) < 255 and "ZeroDivisionError" not in message and "division by zero" not in message


def test_a_long_message_is_cut_to_fit_a_cell() -> None:
    error = udfs.WorksheetError("x" * 400 + "\nTraceback")
    assert len(str(error)) == 255 and "\n" not in str(error)


# --- no Python words in a cell, no inf, error cells are errors (issue 9 item 15) ----------------

from datetime import time  # noqa: E402

from udfs._sheet import CELL_ERRORS, COM_ERRORS  # noqa: E402

PYTHON_WORDS = re.compile(
    r"datetime|got (list|tuple|dict|set|float|int|str|bool|time)\b|NoneType|Decimal\(|InvalidOperation|Overflow"
    r"|[A-Z][a-z]+Error\b|Exception|Traceback|object at 0x|<class"
)
TABLE = [
    ["enterprise", "project", "clause", "year", "capacity_kw"],
    ["北京绿色制造有限公司", "P-001", "etown:27", 2025.0, 100.0],
]
CALLS = [  # every worksheet function with arguments that work
    (udfs.GREEN_AWARD, ("etown:27", "capacity_kw", 100.0)),
    (udfs.AWARD_EXPLAIN, ("etown:27", "capacity_kw", 100.0)),
    (udfs.AWARD_WHATIF, ([["per_kw", 1000.0, 46388.0]], "etown:27", "capacity_kw", 100.0)),
    (udfs.AWARD_PAYMENTS, ("etown:10", "boiler_grade", "A", "investment_yuan", 1e6)),
    (udfs.AWARD_CLAUSES, ("etown",)),
    (udfs.AWARD_INPUTS, ("etown:27",)),
    (udfs.TCE, (1000.0, "electricity_kwh", 0.3)),
    (udfs.PV_SUBSIDY, (100.0, "self", "investor")),
    (udfs.ENERGY_SAVING_AWARD, (1000.0, 1e7, False)),
    (udfs.DATA_CENTRE_AWARD, (1000.0, 1e7, False)),
    (udfs.RETROFIT_AWARD, (1e6, "beijing", False)),
    (udfs.GREEN_POWER_AWARD, (1e6,)),
    (udfs.LOAN_INTEREST_SUBSIDY, (1e8, 0.035, 12.0, 1e7)),
    (udfs.VEHICLE_AWARD, ("guo5_replaced", 3e5, 0.0, 2.0)),
    (udfs.BOILER_AWARD, ("A", 1e6, False, False, 1.0)),
    (udfs.FLEET_AWARD, (20.0, 19.0)),
    (udfs.MACHINERY_AWARD, (5e5, 0.0, 1.0)),
    (udfs.RENEWABLE_ENERGY_AWARD, (1e6,)),
]
if hasattr(udfs, "PORTFOLIO_AWARDS"):
    CALLS.append((udfs.PORTFOLIO_AWARDS, (TABLE,)))
PROFILE_RANGE = [
    ["name", "甲"],
    ["zone", "etown_core"],
    ["project", "kind", "year", "capacity_kw"],
    ["P1", "distributed_pv", 2025.0, 100.0],
]
CALLS.append((udfs.AWARD_MATCH, (PROFILE_RANGE,)))
ODD = [
    datetime(2025, 1, 1),
    date(2025, 1, 1),
    time(12, 0),
    [1.0, 2.0],
    [[1.0, 2.0], [3.0, 4.0]],
    1e308,
    -1e308,
    math.nan,
    math.inf,
    -math.inf,
    10**40,
    1e25,
    "1e99999999",
    "-1e99999999",
    "x" * 10_000,
    "1e-400",
    True,
    45658,
]


def check_cell_value(value: object) -> None:
    if isinstance(value, float):
        assert math.isfinite(value), value
    elif isinstance(value, list):
        for row in value:
            for cell in row:
                check_cell_value(cell)
    elif isinstance(value, str):
        assert not PYTHON_WORDS.search(value), value


def test_every_worksheet_function_is_in_the_list() -> None:
    assert {f.__name__ for f, _ in CALLS} >= {f.__name__ for f in udfs.WORKSHEET_FUNCTIONS}


@pytest.mark.parametrize("function, args", CALLS, ids=[f.__name__ for f, _ in CALLS])
def test_odd_values_in_any_argument_give_plain_words_and_finite_numbers(function, args) -> None:
    """InvalidOperation, 'got datetime', 'got list', OverflowError reached cells; TCE returned inf."""
    check_cell_value(function(*args))
    for position in range(len(args)):
        for odd in ODD:
            call = list(args)
            call[position] = odd
            try:
                result = function(*call)
            except udfs.WorksheetError as error:
                assert not PYTHON_WORDS.search(str(error)), (function.__name__, position, odd, str(error))
                assert "internal error" not in str(error), (function.__name__, position, odd, str(error))
            else:
                check_cell_value(result)


@pytest.mark.parametrize("function, args", CALLS, ids=[f.__name__ for f, _ in CALLS])
def test_an_error_cell_in_any_argument_is_an_error(function, args) -> None:
    """An error cell used to read as empty: PV_SUBSIDY(100, #N/A) gave 80,000."""
    codes = sorted(CELL_ERRORS) + list(COM_ERRORS)
    for position in range(len(args)):
        for code in codes:
            call = list(args)
            call[position] = code
            shown = code if isinstance(code, str) else COM_ERRORS[code]
            if function is udfs.AWARD_EXPLAIN:
                rows = function(*call)
                assert rows[0][0].startswith("输入有误 Input error") and shown in rows[0][0]
                continue
            with pytest.raises(udfs.WorksheetError) as caught:
                function(*call)
            assert shown in str(caught.value) and "error" in str(caught.value)


def test_an_error_cell_inside_a_range_is_an_error() -> None:
    assert_raises_readable(lambda: udfs.GREEN_AWARD("etown:27", [["capacity_kw", "#REF!"]]), "#REF!", "row 1, column 2")
    assert_raises_readable(
        lambda: udfs.GREEN_AWARD("etown:27", [["capacity_kw", 100.0], ["ownership", "#N/A"]]), "#N/A", "row 2"
    )
    if hasattr(udfs, "PORTFOLIO_AWARDS"):
        table = [list(TABLE[0]), [*TABLE[1][:4], "#VALUE!"]]
        assert_raises_readable(lambda: udfs.PORTFOLIO_AWARDS(table), "#VALUE!", "row 2, column 5")


def test_the_reported_error_cell_case() -> None:
    assert udfs.PV_SUBSIDY(100.0, None) == 80000.0  # an empty cell is still empty
    assert_raises_readable(lambda: udfs.PV_SUBSIDY(100.0, "#N/A"), "PV_SUBSIDY", "ownership", "#N/A")
    assert_raises_readable(lambda: udfs.PV_SUBSIDY(100.0, -2146826246), "#N/A")  # classic's COM code
    assert_raises_readable(lambda: udfs.PV_SUBSIDY("#GETTING_DATA"), "kw", "#GETTING_DATA")


def test_tce_is_never_infinite() -> None:
    assert_raises_readable(lambda: udfs.TCE(1e308, "electricity_kwh"), "TCE", "quantity", "below")
    assert_raises_readable(lambda: udfs.TCE(1e6, "electricity_kwh", 1e308), "TCE", "coefficient")
    assert udfs.TCE(999_999_999_999.0, "gasoline_kg", 99.0) == 98_999_999_999.901


def test_lite_sends_a_date_cell_as_an_integer_serial() -> None:
    """xlwings Lite (Pyodide) passes a date cell as an int: 45809 is 2025-06-01."""
    day = int(serial(date(2025, 6, 1)))
    assert udfs.GREEN_AWARD("beijing:8", "loan_principal_yuan", 1e8, "loan_rate", 0.035, "on", day) == 2e6
    assert udfs.GREEN_AWARD("beijing:8", "loan_principal_yuan", 1e8, "loan_rate", 0.035, "on", 2030) == 0.0  # a year
    before = int(serial(date(2019, 3, 1)))
    assert udfs.GREEN_AWARD("tongzhou:3", "investment_yuan", 5e6, "on", before) == 0.0
    assert udfs.GREEN_AWARD("tongzhou:3", "investment_yuan", 5e6, "日期", int(serial(date(2024, 3, 1)))) == 1.5e6
    assert_raises_readable(lambda: udfs.GREEN_AWARD("tongzhou:3", "investment_yuan", 5e6, "on", 10**12), "on", "date")
