"""Dated parameters and reforms (issue 10, parts 2 and 3): which value is in force on a day, and what-ifs."""

from __future__ import annotations

import csv
import json
import pickle
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

import udfs
from addin.cli import app
from addin.pool import process_pool
from addin.portfolio import SHEETS, read_rows, stack_rows
from policies import InputError, PolicyDataError, clause_info, evaluate, load_reform, parse_reform, registry
from policies.engine import COMPILED_CACHES, compiled, compiled_for
from policies.stacking import REFORM_COLUMNS, added_columns

D = Decimal

PV = {"capacity_kw": 100, "ownership": "self"}
FROM_2027 = {"etown:27.per_kw": {"2027-01-01": 1000}}


# --- reforms of a clause's parameters ---------------------------------------------------------------


def test_done_when_a_reform_of_the_per_kw_rate() -> None:
    award = evaluate("etown:27", capacity_kw=100, ownership="self", reform={"etown:27.per_kw": 1000})
    assert award.amount == Decimal("100000.00") and award.eligible
    assert award.reform == {"etown:27.per_kw": Decimal(1000)}
    assert award.binding == "per_kw"
    assert any("per_kw[1,000]" in line for line in award.trace)
    assert any(line.startswith("决定金额 Binding: per_kw = 1,000 (unit_price; 改革 reform)") for line in award.trace)
    assert any(n.startswith("改革 Reform (what-if") and "etown:27.per_kw = 1,000" in n for n in award.notes)
    assert award.to_dict()["reform"] == {"etown:27.per_kw": "1000"}


def test_the_baseline_is_untouched_by_an_earlier_reform() -> None:
    evaluate("etown:27", reform={"etown:27.per_kw": 1000}, **PV)
    award = evaluate("etown:27", **PV)
    assert award.amount == Decimal("80000.00") and award.reform is None
    assert any("per_kw[800]" in line for line in award.trace)
    assert not any("改革" in line for line in (*award.trace, *award.notes))


@pytest.mark.parametrize(
    "on, amount",
    [
        (date(2026, 12, 31), "80000.00"),
        ("2026-06-30", "80000.00"),
        (2026, "80000.00"),
        (date(2027, 1, 1), "100000.00"),
        (datetime(2027, 3, 1, 9, 30), "100000.00"),
        ("2027", "100000.00"),
        (2030, "100000.00"),
    ],
)
def test_a_dated_reform_applies_only_from_its_date(on: object, amount: str) -> None:
    award = evaluate("etown:27", on=on, reform=FROM_2027, **PV)
    assert award.amount == Decimal(amount)
    assert award.reform == {"etown:27.per_kw": {date(2027, 1, 1): Decimal(1000)}}  # the reform concerns it either way
    reform_note = next(n for n in award.notes if n.startswith("改革 Reform"))
    if amount == "80000.00":
        assert "from 2027-01-01) not yet in force: the policy's value used" in reform_note
        assert any(line.startswith("参数 Parameter: per_kw = 800 元/kW (政策 policy)") for line in award.trace)
    else:
        assert "etown:27.per_kw = 1,000 from 2027-01-01" in reform_note
        assert any(
            line.startswith("参数 Parameter: per_kw = 1,000 元/kW (改革 reform, from 2027-01-01)")
            for line in award.trace
        )


def test_a_year_is_its_31_december_and_a_change_within_it_is_noted() -> None:
    reform = {"etown:27.per_kw": {"2027-07-01": 1000}}
    assert evaluate("etown:27", on="2027-06-30", reform=reform, **PV).amount == Decimal("80000.00")
    award = evaluate("etown:27", on=2027, reform=reform, **PV)
    assert award.amount == Decimal("100000.00")
    assert any(
        "per_kw changed during 2027: 800 on 2027-01-01, 1,000 from 2027-07-01; the value of 31 December" in n
        for n in award.notes
    )
    assert any("in force on 31 December 2027 (the year given)" in line for line in award.trace)


def test_without_a_date_the_latest_value_and_a_note() -> None:
    award = evaluate("etown:27", reform={"etown:27.per_kw": {2026: 900, "2028-01-01": 1100}}, **PV)
    assert award.amount == Decimal("110000.00")
    assert any("no date given, so its latest value 1,100 is used (from 2028-01-01)" in n for n in award.notes)


def test_several_parameters_and_values_by_date() -> None:
    reform = {"beijing:2.1.unit_price": {"2026-01-01": 1500}, "beijing:2.1.cap": 1_000_000}
    inputs = {"project_type": "energy_saving", "energy_saved_tce": 1000, "investment_yuan": 10_000_000}
    assert evaluate("beijing:2.1", on=2025, **inputs).amount == Decimal("1200000.00")  # baseline: 1,200 元/tce
    before = evaluate("beijing:2.1", on=2025, reform=reform, **inputs)
    assert before.amount == Decimal("1000000.00") and before.binding == "cap"  # the undated cap applies every day
    after = evaluate("beijing:2.1", on=2026, reform={"beijing:2.1.unit_price": {"2026-01-01": 1500}}, **inputs)
    assert after.amount == Decimal("1500000.00") and after.binding == "unit_price"


def test_a_reform_of_another_clause_changes_nothing_here_and_says_so() -> None:
    award = evaluate("etown:27", reform={"etown:29.per_kwh": 1}, **PV)
    assert award.amount == Decimal("80000.00") and award.reform == {}
    assert any("changes no parameter of this clause" in n for n in award.notes)


def test_a_policy_cap_in_a_reform_is_the_annual_cap_of_the_clauses_it_covers() -> None:
    cap = {"tongzhou.tongzhou_renewable_entity_year": 1_000_000}
    award = evaluate("tongzhou:6", investment_yuan=5_000_000, on=2025, reform=cap)  # 1,500,000 > the reformed cap
    assert award.amount == Decimal("1500000.00")  # one claim's amount: the cap acts across claims (stacking)
    assert award.reform == {"tongzhou.tongzhou_renewable_entity_year": Decimal(1_000_000)}
    assert any(n.startswith("单项金额超过年度上限 Above an annual cap") for n in award.notes)
    assert not any(
        n.startswith("单项金额超过") for n in evaluate("tongzhou:6", investment_yuan=5_000_000, on=2025).notes
    )


def test_a_reform_is_parsed_once_and_reused() -> None:
    reform = parse_reform({"etown:27.per_kw": 1000})
    assert parse_reform(reform) is reform and hash(reform) == hash(parse_reform({"etown:27.per_kw": 1000}))
    assert evaluate("etown:27", reform=reform, **PV).amount == Decimal("100000.00")
    assert reform.clauses == {"etown:27"}


@pytest.mark.parametrize(
    "reform, words",
    [
        ({"etown:27.per_kwh": 1000}, ["etown:27.per_kwh", "no parameter 'per_kwh'", "did you mean 'etown:27.per_kw'"]),
        ({"etown:72.per_kw": 1000}, ["etown:72.per_kw", "unknown clause 'etown:72'", "did you mean 'etown:27.per_kw'"]),
        ({"etown:27": 1000}, ["names a clause, not one of its parameters", "etown:27.per_kw"]),
        ({"per_kw": 1000}, ['must be "<clause>.<parameter>"', "did you mean 'etown:27.per_kw'"]),
        (
            {"tongzhou.tongzhou_enterprise_yr": 1},
            ["no cap across claims", "did you mean 'tongzhou.tongzhou_enterprise_year'"],
        ),
        (
            {"tongzhu.tongzhou_enterprise_year": 1},
            ["unknown policy 'tongzhu'", "did you mean 'tongzhou.tongzhou_enterprise_year'"],
        ),
        ({"etown:5.rate": 1}, ["etown:5 has no parameters"]),
        ({"etown:27.per_kw": -1}, ["etown:27.per_kw", "must be ≥ 0"]),
        ({"etown:27.per_kw": "much"}, ["etown:27.per_kw", "must be a number"]),
        ({"etown:27.per_kw": True}, ["etown:27.per_kw", "not a yes/no value"]),
        ({"etown:27.per_kw": {}}, ["etown:27.per_kw", "no values by date"]),
        ({"etown:27.per_kw": {"soon": 1000}}, ["etown:27.per_kw", "must be a date (YYYY-MM-DD) or a year"]),
        ({"etown:27.per_kw": {"2027-01-01": 1, date(2027, 1, 1): 2}}, ["the date 2027-01-01 is given twice"]),
        ({" etown:27.per_kw": 1, "etown:27.per_kw": 2}, ["etown:27.per_kw", "given twice"]),
        ([("etown:27.per_kw", 1000)], ["must map names to values"]),
    ],
)
def test_a_bad_reform_is_an_input_error_naming_the_entry(reform: object, words: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        evaluate("etown:27", reform=reform, **PV)
    assert caught.value.clause_id == "reform"
    for word in words:
        assert word in str(caught.value), (word, str(caught.value))


def test_a_bad_on_with_a_reform_names_on() -> None:
    with pytest.raises(InputError, match=r"etown:27: on: must be a date"):
        evaluate("etown:27", on="someday", reform={"etown:27.per_kw": 1000}, **PV)


# --- the reform file ---------------------------------------------------------------------------------


def test_load_reform_reads_values_and_dated_values(tmp_path: Path) -> None:
    path = tmp_path / "pv.yaml"
    path.write_text(
        "# what if E-Town raises PV to 1,000 元/kW from 2027, and Tongzhou's cap to 3,000,000?\n"
        "etown:27.per_kw: {2027-01-01: 1000}\n"
        "beijing:2.1.cap: 1000000\n"
        "tongzhou.tongzhou_enterprise_year:\n"
        "  2026: 2500000\n"
        "  2028-01-01: 3000000\n",
        encoding="utf-8",
    )
    reform = load_reform(path)
    assert reform.get("etown:27.per_kw") == ((date(2027, 1, 1), Decimal(1000)),)
    assert reform.get("beijing:2.1.cap") == ((None, Decimal(1_000_000)),)
    assert reform.get("tongzhou.tongzhou_enterprise_year") == (
        (date(2026, 1, 1), Decimal(2_500_000)),
        (date(2028, 1, 1), Decimal(3_000_000)),
    )
    assert evaluate("etown:27", on=2026, reform=reform, **PV).amount == Decimal("80000.00")
    assert evaluate("etown:27", on=2027, reform=reform, **PV).amount == Decimal("100000.00")


@pytest.mark.parametrize(
    "text, words",
    [
        ("etown:27.per_kw: 1000\netown:27.per_kw: 900\n", ["appears twice"]),
        ("etown:27.per_kw: [1000\n", ["not a valid YAML file"]),
        ("- etown:27.per_kw\n", ["must be a mapping"]),
        ("etown:27.perkw: 1000\n", ["did you mean 'etown:27.per_kw'"]),
    ],
)
def test_a_bad_reform_file_is_one_line_naming_it(tmp_path: Path, text: str, words: list[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_reform(path)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_a_missing_reform_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_reform(tmp_path / "nowhere.yaml")


def test_an_empty_reform_file_is_a_reform_that_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    award = evaluate("etown:27", reform=load_reform(path), **PV)
    assert award.amount == Decimal("80000.00") and award.reform == {}


# --- dated parameters in a policy file ---------------------------------------------------------------

DATED_PV = (
    '      per_kw: {values: {2025-05-17: 800, 2027-01-01: 900}, kind: unit_price, unit: 元/kW, cites: "每千瓦800元"}'
)


def _use_policies(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    real = registry.load_all
    monkeypatch.setattr(registry, "load_all", lambda *_args, **_kw: real(directory))
    registry.reload(*COMPILED_CACHES)


@pytest.fixture()
def dated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The bundled policies with etown:27's per_kw at 800 from 2025-05-17 and 900 from 2027-01-01 (a fixture:
    no real policy text here has dated figures)."""
    for path in registry.DATA_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    etown = tmp_path / "etown.yaml"
    text = etown.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("      per_kw: {value: 800"))
    etown.write_text(text.replace(old, DATED_PV), encoding="utf-8")
    _use_policies(monkeypatch, tmp_path)
    yield tmp_path
    monkeypatch.undo()
    registry.reload(*COMPILED_CACHES)


@pytest.mark.parametrize(
    "on, amount, since",
    [
        (date(2025, 6, 1), "80000.00", "2025-05-17"),
        ("2026-12-31", "80000.00", "2025-05-17"),
        (date(2027, 1, 1), "90000.00", "2027-01-01"),
        (2026, "80000.00", "2025-05-17"),
        (2027, "90000.00", "2027-01-01"),
    ],
)
def test_a_dated_parameter_takes_the_value_in_force_on_the_day(
    dated: Path, on: object, amount: str, since: str
) -> None:
    award = evaluate("etown:27", on=on, **PV)
    assert award.amount == Decimal(amount) and award.reform is None
    line = next(line for line in award.trace if line.startswith("参数 Parameter: per_kw"))
    assert f"(from {since})" in line and f"= {Decimal(amount) / 100:,.0f} 元/kW" in line


def test_a_dated_parameter_without_a_date_takes_the_latest_value_noted(dated: Path) -> None:
    award = evaluate("etown:27", **PV)
    assert award.amount == Decimal("90000.00")
    assert any("no date given, so its latest value 900 is used (from 2027-01-01)" in n for n in award.notes)


def test_a_day_before_the_first_date_takes_the_first_value_noted(dated: Path) -> None:
    award = evaluate("etown:27", on="2025-01-01", **PV)
    assert award.amount == Decimal("0.00") and not award.eligible  # E-Town's measures start on 2025-05-17
    assert any("2025-01-01 is before its first date 2025-05-17; that first value 800 is used" in n for n in award.notes)


def test_a_reform_over_a_dated_parameter_replaces_it_from_its_date(dated: Path) -> None:
    reform = {"etown:27.per_kw": {"2028-01-01": 1000}}
    assert evaluate("etown:27", on=2026, reform=reform, **PV).amount == Decimal("80000.00")
    assert evaluate("etown:27", on=2027, reform=reform, **PV).amount == Decimal("90000.00")
    assert evaluate("etown:27", on=2028, reform=reform, **PV).amount == Decimal("100000.00")
    assert evaluate("etown:27", on=2026, reform={"etown:27.per_kw": 700}, **PV).amount == Decimal("70000.00")


def test_clause_info_lists_the_dated_values(dated: Path) -> None:
    per_kw = next(p for p in clause_info("etown:27")["parameters"] if p["name"] == "per_kw")
    assert per_kw["value"] == Decimal(900) and per_kw["unit"] == "元/kW" and per_kw["cites"] == "每千瓦800元"
    assert per_kw["values"] == [
        {"from": date(2025, 5, 17), "value": Decimal(800)},
        {"from": date(2027, 1, 1), "value": Decimal(900)},
    ]


def test_clause_info_lists_every_parameter() -> None:
    rows = {p["name"]: p for p in clause_info("tongzhou:3")["parameters"]}
    assert rows["rate"]["value"] == Decimal("0.3") and rows["cap"]["value"] == Decimal(2_000_000)
    assert rows["cap"]["kind"] == "cap" and rows["cap"]["cites"] and rows["cap"]["values"] == []
    assert clause_info("etown:5")["parameters"] == []


@pytest.mark.parametrize(
    "per_kw, message",
    [
        ("{values: {2027-01-01: 900, 2025-05-17: 800}, kind: unit_price, cites: x}", "ascending order"),
        ("{values: {2025-05-17: '800'}, kind: unit_price, cites: x}", "must be a number"),
        ("{values: {2025-05-17: true}, kind: unit_price, cites: x}", "must be a number"),
        ("{values: {2027: 900}, kind: unit_price, cites: x}", "must be a date YYYY-MM-DD"),
        ("{values: {}, kind: unit_price, cites: x}", "at least one date"),
        ("{kind: unit_price, cites: x}", "needs `value`, or `values` by date"),
        ("{value: 800, values: {2027-01-01: 900}, kind: unit_price, cites: x}", "not the latest of `values`"),
        ("{values: {2027-01-01: 900}, since: 2027, kind: unit_price, cites: x}", "since"),
    ],
)
def test_dated_values_are_validated(tmp_path: Path, per_kw: str, message: str) -> None:
    for path in registry.DATA_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    etown = tmp_path / "etown.yaml"
    text = etown.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("      per_kw: {value: 800"))
    etown.write_text(text.replace(old, "      per_kw: " + per_kw), encoding="utf-8")
    with pytest.raises(PolicyDataError) as caught:
        registry.load_all(tmp_path)
    assert "etown.yaml" in str(caught.value) and "etown:27" in str(caught.value) and message in str(caught.value)


# --- the fast path ---------------------------------------------------------------------------------


def test_no_dated_parameter_and_no_reform_is_the_cached_clause_itself() -> None:
    """The common case costs one test: no copy, no resolution, no new notes."""
    for clause in ("etown:27", "beijing:2.1", "tongzhou:3"):
        assert compiled_for(clause, 2026, None) is compiled(clause)
        assert compiled(clause).dated == () and compiled(clause).parameter_steps == ()
    assert not any(
        p.values for policy in registry.policies().values() for c in policy.clauses for p in c.parameters.values()
    )  # the shipped files have no dated figure (none in the texts)


def test_resolutions_are_cached() -> None:
    reform = parse_reform(FROM_2027)
    first = compiled_for("etown:27", 2027, reform)
    assert compiled_for("etown:27", 2027, parse_reform(FROM_2027)) is first
    assert compiled_for("etown:27", "2027-12-31", reform) is not first  # another day: its own (equal) resolution


# --- a portfolio beside a reform (policies.stacking) -------------------------------------------------


def claim(enterprise: str, project: str, clause: str, year: object = 2025, **inputs: object) -> dict:
    zone = {"tongzhou": "tongzhou", "etown": "etown_core", "beijing": "other_beijing"}[clause.split(":")[0]]
    return {"enterprise": enterprise, "project": project, "clause": clause, "year": year, "zone": zone, **inputs}


def portfolio(*rows: dict, reform: object = None, **options: object):
    table = pd.DataFrame(list(rows))
    cells = table.to_numpy(dtype=object)
    cells[pd.isna(cells)] = None
    return stack_rows(list(table.columns), cells.tolist(), reform=reform, **options)


def test_a_reform_of_tongzhou_s_annual_cap_through_stack_rows() -> None:
    """Three projects of 2,000,000 (第三条's most): 第十条's 2,000,000 a year shares them; at 3,000,000, each whole."""
    rows = [claim("甲", f"P{k}", "tongzhou:3", investment_yuan=10_000_000) for k in (1, 2, 3)]
    result = portfolio(*rows, reform={"tongzhou.tongzhou_enterprise_year": 3_000_000})
    claims = result.claims
    assert result.added_names == [*added_columns(), *REFORM_COLUMNS] and result.columns[-4:] == REFORM_COLUMNS
    assert list(claims["granted_yuan"]) == [D("666666.67"), D("666666.67"), D("666666.66")]
    assert list(claims["status"]) == ["capped"] * 3
    assert list(claims["reform_granted_yuan"]) == [D("1000000.00")] * 3
    assert list(claims["reform_status"]) == ["capped"] * 3  # 3 × 2,000,000 = 6,000,000 > 3,000,000
    assert list(claims["reform_difference_yuan"]) == [D("333333.33"), D("333333.33"), D("333333.34")]
    assert result.granted_total == D("2000000.00") and result.reform_granted_total == D("3000000.00")
    year = result.by_enterprise_year.iloc[0]
    assert (year["granted_yuan"], year["reform_granted_yuan"], year["reform_difference_yuan"]) == (
        D("2000000.00"),
        D("3000000.00"),
        D("1000000.00"),
    )
    policy = result.by_policy.iloc[0]
    assert (policy["policy"], policy["reform_granted_yuan"], policy["reform_difference_yuan"]) == (
        "tongzhou",
        D("3000000.00"),
        D("1000000.00"),
    )


def test_a_dated_cap_reform_applies_from_its_year() -> None:
    rows = [
        claim("甲", f"P{year}-{k}", "tongzhou:3", year, investment_yuan=10_000_000)
        for year in (2026, 2027)
        for k in (1, 2)
    ]
    result = portfolio(*rows, reform={"tongzhou.tongzhou_enterprise_year": {"2027-01-01": 4_000_000}})
    claims = result.claims
    assert list(claims["granted_yuan"]) == [D("1000000.00")] * 4
    assert list(claims["reform_granted_yuan"]) == [D("1000000.00")] * 2 + [D("2000000.00")] * 2
    assert list(claims["reform_status"]) == ["capped", "capped", "granted", "granted"]
    by_year = {int(r.year): r for r in result.by_enterprise_year.itertuples()}
    assert by_year[2026].reform_difference_yuan == D("0.00") and by_year[2027].reform_difference_yuan == D("2000000.00")


def test_a_clause_parameter_reform_side_by_side_from_its_date() -> None:
    rows = [claim("乙", f"PV{year}", "etown:27", year, capacity_kw=100) for year in (2026, 2027)]
    result = portfolio(*rows, reform=FROM_2027)
    claims = result.claims
    assert list(claims["granted_yuan"]) == [D("80000.00"), D("80000.00")]
    assert list(claims["reform_granted_yuan"]) == [D("80000.00"), D("100000.00")]
    assert list(claims["reform_difference_yuan"]) == [D("0.00"), D("20000.00")]
    assert "per_kw = 800" in claims["note"][1]  # the baseline's basis: the policy's figure
    assert "per_kw = 1,000 (unit_price; 改革 reform, from 2027-01-01)" in claims["reform_note"][1]


def test_the_cap_per_event_and_a_clause_paid_again_under_a_reform() -> None:
    """tongzhou:9's cap per event is a clause parameter; tongzhou:8 pays again less what was paid,
    evaluated again under the reform (5,000,000 → 12,000,000, with 第十条 at 4,000,000)."""
    event = [claim(e, "展会", "tongzhou:9", funding_yuan=1_600_000, event="绿色博览会") for e in ("甲", "乙")]
    result = portfolio(*event, reform={"tongzhou:9.cap": 2_000_000})
    assert list(result.claims["granted_yuan"]) == [D("500000.00")] * 2  # 800,000 each, 1,000,000 for the event
    assert list(result.claims["reform_granted_yuan"]) == [D("800000.00")] * 2
    again = [
        claim("丙", "平台", "tongzhou:8", 2025),
        claim("丙", "平台", "tongzhou:8", 2026, awarded_before_yuan=4_000_000),
    ]
    result = portfolio(*again, reform={"tongzhou:8.cap": 12_000_000, "tongzhou.tongzhou_enterprise_year": 4_000_000})
    assert list(result.claims["granted_yuan"]) == [D("2000000.00"), D("1000000.00")]
    assert list(result.claims["reform_granted_yuan"]) == [D("4000000.00"), D("4000000.00")]
    assert "(改革 reform: 4,000,000.00 instead of 2,000,000.00)" in result.claims["reform_note"][0]
    assert "改革" not in result.claims["note"][0]


def test_invalid_rows_have_no_reform_amount_and_a_bad_reform_fails_first() -> None:
    rows = [
        claim("甲", "P1", "tongzhou:3", investment_yuan=1_000_000),
        claim("甲", "", "tongzhou:3", investment_yuan=1),
    ]
    result = portfolio(*rows, reform={"tongzhou:3.rate": 0.5})
    assert list(result.claims["reform_granted_yuan"]) == [D("500000.00"), None]
    assert list(result.claims["reform_difference_yuan"]) == [D("200000.00"), None]
    assert list(result.claims["reform_status"]) == ["granted", "invalid"]
    with pytest.raises(InputError, match="did you mean 'tongzhou:3.rate'"):
        portfolio(*rows, reform={"tongzhou:3.rat": 0.5})


def test_a_result_fed_back_in_is_computed_afresh() -> None:
    result = portfolio(claim("甲", "P1", "tongzhou:3", investment_yuan=1_000_000), reform={"tongzhou:3.rate": 0.5})
    again = stack_rows(result.columns, [list(r) for r in result.records()])
    assert again.columns == [*result.header, *added_columns()] and again.reform is None
    assert list(again.claims["granted_yuan"]) == [D("300000.00")]


def test_a_reform_travels_to_worker_processes() -> None:
    reform = parse_reform(FROM_2027)
    assert pickle.loads(pickle.dumps(reform)) == reform
    rows = [claim("乙", f"PV{k}", "etown:27", 2027, capacity_kw=100 + k) for k in range(3)]
    with process_pool(1) as pool:
        result = portfolio(*rows, reform=reform, executor=pool)
    assert list(result.claims["reform_granted_yuan"]) == [D("100000.00"), D("101000.00"), D("102000.00")]


# --- the command line ---------------------------------------------------------------------------------

runner = CliRunner()


def test_calc_with_set_gives_the_reform_s_amount() -> None:
    result = runner.invoke(
        app, ["calc", "etown:27", "capacity_kw=100", "ownership=self", "--set", "etown:27.per_kw=1000"]
    )
    assert result.exit_code == 0, result.output
    assert "金额 Amount: 100,000 元" in result.output and "改革 Reform (what-if" in result.output
    as_json = runner.invoke(app, ["calc", "etown:27", "capacity_kw=100", "--set", "etown:27.per_kw=1000", "--json"])
    award = json.loads(as_json.output)
    assert award["amount"] == "100000.00" and award["reform"] == {"etown:27.per_kw": "1000"}


@pytest.mark.parametrize("on, amount", [("2026", "80000.00"), ("2026-12-31", "80000.00"), ("2027-01-01", "100000.00")])
def test_calc_with_a_dated_set(on: str, amount: str) -> None:
    result = runner.invoke(
        app, ["calc", "etown:27", "capacity_kw=100", "--on", on, "--json", "--set", "etown:27.per_kw=1000@2027-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["amount"] == amount


def test_calc_with_a_reform_file_and_a_set_over_it(tmp_path: Path) -> None:
    path = tmp_path / "reform.yaml"
    path.write_text("etown:27.per_kw: 1000\netown:27.split_share: 0.6\n", encoding="utf-8")
    base = ["calc", "etown:27", "capacity_kw=100", "ownership=third_party", "--json", "--reform", str(path)]
    assert json.loads(runner.invoke(app, base).output)["amount"] == "60000.00"  # 1,000 × 100 × 0.6
    over = runner.invoke(app, [*base, "--set", "etown:27.per_kw=900@2026", "--set", "etown:27.per_kw=1200@2028"])
    assert json.loads(over.output)["amount"] == "72000.00"  # no date: the latest, 1,200 × 100 × 0.6


@pytest.mark.parametrize(
    "args, words",
    [
        (["--set", "etown:27.per_kwh=1000"], ["did you mean 'etown:27.per_kw'"]),
        (["--set", "etown:27.per_kw"], ["is not name=value"]),
        (["--set", "etown:27.per_kw=1000", "--set", "etown:27.per_kw=900@2027"], ["not both"]),
        (["--set", "etown:27.per_kw=1000@someday"], ["must be a date (YYYY-MM-DD) or a year"]),
        (["--reform", "no_such_reform.yaml"], ["no_such_reform.yaml", "no such file"]),
    ],
)
def test_calc_with_a_bad_reform_is_one_line_and_status_2(args: list[str], words: list[str]) -> None:
    result = runner.invoke(app, ["calc", "etown:27", "capacity_kw=100", *args])
    assert result.exit_code == 2 and result.output.count("error 错误") == 1, result.output
    for word in words:
        assert word in result.output, result.output


PORTFOLIO = [
    ["enterprise", "project", "clause", "year", "zone", "investment_yuan", "capacity_kw"],
    ["甲公司", "T1", "tongzhou:3", "2027", "tongzhou", "10000000", ""],
    ["甲公司", "T2", "tongzhou:3", "2027", "tongzhou", "10000000", ""],
    ["乙公司", "PV1", "etown:27", "2026", "etown_core", "", "100"],
    ["乙公司", "PV2", "etown:27", "2027", "etown_core", "", "250"],
]
REFORM = "etown:27.per_kw: {2027-01-01: 1000}\ntongzhou.tongzhou_enterprise_year: 3000000\n"


def test_portfolio_with_a_reform_side_by_side(tmp_path: Path) -> None:
    source = tmp_path / "claims.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(PORTFOLIO)
    (tmp_path / "reform.yaml").write_text(REFORM, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["portfolio", str(source), "-o", str(out), "--reform", str(tmp_path / "reform.yaml")])
    assert result.exit_code == 0, result.output
    # baseline: 2 × 2,000,000 within 2,000,000 → 1,000,000 each; PV 80,000 and 200,000 → 2,280,000
    # reform: 2 × 2,000,000 within 3,000,000 → 1,500,000 each; PV 80,000 (2026) and 250,000 (2027) → 3,330,000
    assert "granted total 核定合计: 2,280,000.00 元" in result.output
    assert "under the reform 改革后核定合计: 3,330,000.00 元 (difference 差额 +1,050,000.00 元)" in result.output
    assert "etown:27.per_kw = 1,000 from 2027-01-01; tongzhou.tongzhou_enterprise_year = 3,000,000" in result.output
    header, rows = read_rows(out)
    assert header[-4:] == REFORM_COLUMNS
    got = {r[1]: dict(zip(header, r)) for r in rows}
    assert [got[p]["granted_yuan"] for p in ("T1", "T2", "PV1", "PV2")] == [
        "1000000.00",
        "1000000.00",
        "80000.00",
        "200000.00",
    ]
    assert [got[p]["reform_granted_yuan"] for p in ("T1", "T2", "PV1", "PV2")] == [
        "1500000.00",
        "1500000.00",
        "80000.00",
        "250000.00",
    ]
    assert [got[p]["reform_difference_yuan"] for p in ("T1", "T2", "PV1", "PV2")] == [
        "500000.00",
        "500000.00",
        "0.00",
        "50000.00",
    ]
    xlsx = tmp_path / "out.xlsx"
    done = runner.invoke(
        app, ["portfolio", str(source), "-o", str(xlsx), "--set", "tongzhou.tongzhou_enterprise_year=3000000"]
    )
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(xlsx)
    figures = {row[0].value: row[1].value for row in book[SHEETS[0]].iter_rows(max_col=2) if row[0].value}
    assert figures["核定金额合计（元） Granted (yuan)"] == 2_280_000
    assert figures["改革后核定金额合计（元） Granted under the reform (yuan)"] == 3_280_000
    assert figures["改革差额（元） Difference (yuan)"] == 1_000_000
    by_policy = [[c.value for c in row] for row in book["按政策 By policy"].iter_rows()]
    assert "改革后核定金额（元）\nGranted under the reform (yuan)" in by_policy[0]
    view = [[c.value for c in row] for row in book[SHEETS[1]].iter_rows(min_row=2)]
    assert [r[7] for r in view] == [1_500_000, 1_500_000, 80_000, 200_000] and [r[8] for r in view] == [
        500_000,
        500_000,
        0,
        0,
    ]
    hidden = read_rows(xlsx)
    assert hidden[0][-4:] == REFORM_COLUMNS


def test_portfolio_with_a_bad_reform_stops_before_computing(tmp_path: Path) -> None:
    source = tmp_path / "claims.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(PORTFOLIO)
    result = runner.invoke(app, ["portfolio", str(source), "-o", str(tmp_path / "out.csv"), "--set", "tongzhou.cap=1"])
    assert result.exit_code == 2 and "its caps: tongzhou.tongzhou_enterprise_year" in result.output, result.output
    assert not (tmp_path / "out.csv").exists()


# --- the worksheet function AWARD_WHATIF (called with the values Excel sends) ------------------------


def serial(day: date) -> float:
    return float((day - date(1899, 12, 30)).days)


def test_award_whatif_done_when_with_a_header_row_and_floats() -> None:
    reform = [["parameter 参数", "value 取值", "from 起始日期"], ["per_kw", 1000.0, None]]
    assert udfs.AWARD_WHATIF(reform, "etown:27", "capacity_kw", 100.0, "ownership", "self") == 100000.0
    assert udfs.AWARD_WHATIF([["per_kw", "1,000"]], "etown:27", "capacity_kw", 100.0) == 100000.0  # a number as text
    assert udfs.AWARD_WHATIF([["etown:27.per_kw", 1000.0]], "etown:27", "capacity_kw", 100.0) == 100000.0
    assert udfs.AWARD_WHATIF(["per_kw", 1000.0], "etown:27", "capacity_kw", 100.0) == 100000.0  # one row arrives flat


@pytest.mark.parametrize(
    "since",
    [
        serial(date(2027, 1, 1)),
        int(serial(date(2027, 1, 1))),
        serial(date(2027, 1, 1)) + 0.5,
        datetime(2027, 1, 1),
        date(2027, 1, 1),
        "2027-01-01",
        2027.0,
    ],
)
def test_award_whatif_applies_from_its_date_however_excel_sends_it(since: object) -> None:
    reform = [["per_kw", 1000.0, since], [None, None, None]]  # a blank row is skipped
    before = udfs.AWARD_WHATIF(reform, "etown:27", "capacity_kw", 100.0, "on", datetime(2026, 12, 31))
    after = udfs.AWARD_WHATIF(reform, "etown:27", "capacity_kw", 100.0, "on", serial(date(2027, 1, 1)))
    assert (before, after) == (80000.0, 100000.0)
    assert udfs.AWARD_WHATIF(reform, "etown:27", "capacity_kw", 100.0, "year", 2027.0) == 100000.0


def test_award_whatif_with_values_by_date_and_a_range_of_inputs() -> None:
    reform = [["per_kw", 900.0, 2026.0], ["per_kw", 1000.0, 2028.0], ["split_share", 0.6, None]]
    inputs = [["capacity_kw", 100.0], ["ownership", "第三方投资"]]
    assert udfs.AWARD_WHATIF(reform, "etown:27", inputs, "on", 2027.0) == 54000.0  # 900 × 100 × 0.6
    assert udfs.AWARD_WHATIF(reform, "etown:27", inputs, "on", 2028.0) == 60000.0
    assert udfs.AWARD_WHATIF(reform, "etown:27", inputs, "on", 2025.0) == 48000.0  # per_kw's own 800; 0.6 every day


def test_award_whatif_of_another_clause_or_an_empty_range_is_the_baseline() -> None:
    assert udfs.AWARD_WHATIF([["etown:29.per_kwh", 0.02]], "etown:27", "capacity_kw", 100.0) == 80000.0
    assert udfs.AWARD_WHATIF(None, "etown:27", "capacity_kw", 100.0) == 80000.0
    assert udfs.AWARD_WHATIF([[None, None], [None, None]], "etown:27", "capacity_kw", 100.0) == 80000.0
    assert udfs.AWARD_WHATIF([["tongzhou:3.cap", 1e6]], "tongzhou:3", "investment_yuan", 1e7) == 1e6


@pytest.mark.parametrize(
    "reform, words",
    [
        ([["per_kwh", 1000.0]], ["reform: etown:27.per_kwh", "did you mean 'etown:27.per_kw'"]),
        ([["per_kw", None]], ["reform_range", "row 1: per_kw has no value"]),
        ([[None, 1000.0]], ["reform_range", "row 1: the parameter must be a name"]),
        ([[1.0, 1000.0]], ["reform_range", "row 1: the parameter must be a name"]),
        ([["per_kw", 1000.0, None, None]], ["reform_range", "two or three columns", "row 1 has 4"]),
        ([["per_kw", -5.0]], ["etown:27.per_kw", "must be ≥ 0"]),
        ([["per_kw", "abc"]], ["etown:27.per_kw", "must be a number"]),
        ([["per_kw", 1000.0], ["per_kw", 900.0]], ["row 2: etown:27.per_kw is given twice"]),
        ([["per_kw", 1000.0], ["per_kw", 900.0, 2027.0]], ["row 2", "not both"]),
        ([["per_kw", 1000.0, "soon"]], ["etown:27.per_kw", "must be a date (YYYY-MM-DD) or a year"]),
        (1000.0, ["reform_range", "must be a range of two or three columns"]),
    ],
)
def test_award_whatif_bad_ranges_are_one_readable_line(reform: object, words: list[str]) -> None:
    with pytest.raises(udfs.WorksheetError) as caught:
        udfs.AWARD_WHATIF(reform, "etown:27", "capacity_kw", 100.0)
    message = str(caught.value)
    assert "\n" not in message and "AWARD_WHATIF" in message or "reform:" in message, message
    for word in words:
        assert word in message, message


def test_award_whatif_refuses_an_error_cell_in_the_range() -> None:
    with pytest.raises(udfs.WorksheetError, match="reform_range.*row 1, column 2.*#N/A"):
        udfs.AWARD_WHATIF([["per_kw", "#N/A"]], "etown:27", "capacity_kw", 100.0)


def test_clauses_shows_the_dated_values(dated: Path) -> None:
    result = runner.invoke(app, ["clauses", "etown:27"])
    assert result.exit_code == 0, result.output
    assert "800 from 2025-05-17" in result.output and "900 from 2027-01-01" in result.output
