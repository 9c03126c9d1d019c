"""Matching an enterprise to every clause it could claim (issue 15, docs/matching.md).

The profiles are written from the policy texts (/work/shared/seeds/); each expected amount is
worked out by hand in the comment beside it, citing the article.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from policies import registry
from policies.engine import COMPILED_CACHES
from policies.errors import PolicyDataError
from policies.kinds import check_kinds, kinds, load_kinds
from policies.matching import (
    MatchError,
    Profile,
    best,
    load_profile,
    match,
    match_results,
    monetary_clauses,
    profile_names,
)

ROOT = Path(__file__).resolve().parent.parent
D = Decimal


def by_status(results) -> dict[str, dict[tuple[str, str], Decimal | None]]:
    out: dict[str, dict] = {"claimable": {}, "possible": {}, "not_applicable": {}}
    for r in results:
        out[r.status][(r.project, r.clause)] = r.amount
    return out


def one(results, project: str, clause: str):
    return next(r for r in results if r.project == project and r.clause == clause)


# --- 1. a Tongzhou manufacturer -------------------------------------------------------------------

TONGZHOU_MANUFACTURER = {
    "enterprise": {
        "name": "通州精密制造有限公司",
        "credit_code": "91350100M000100Y43",
        "zone": "tongzhou",
        "kinds": ["manufacturer"],
        "scale": "medium",
    },
    "projects": [
        {
            "id": "T1",
            "name": "空压站节能改造",
            "kind": "energy_saving_retrofit",
            "year": 2025,
            "energy_saved_tce": 500,
            "investment_yuan": 6_000_000,
        },
        {
            "id": "T2",
            "name": "屋顶光伏",
            "kind": "distributed_pv",
            "year": 2025,
            "capacity_kw": 500,
            "investment_yuan": 1_000_000,
            "actual_investor": True,
        },
    ],
    "titles": [{"kind": "green_factory", "year": 2025, "honour_level": "municipal"}],
}


def test_a_tongzhou_manufacturer() -> None:
    results = match_results(TONGZHOU_MANUFACTURER)
    sets = by_status(results)
    assert sets["claimable"] == {
        # 京经信发〔2024〕20号 二(一): 节能改造 min(1,200 元/tce × 500 tce = 600,000, 25% × 6,000,000 = 1,500,000, 30,000,000)
        ("T1", "beijing:2.1"): D("600000.00"),
        # 通州 第三条: min(30% × 6,000,000 = 1,800,000, 2,000,000 per project)
        ("T1", "tongzhou:3"): D("1800000.00"),
        # 二(一) names renewable energy among a manufacturer's retrofits (reading, kinds.yaml): 25% × 1,000,000
        ("T2", "beijing:2.1"): D("250000.00"),
        # 第六条: 30% × 1,000,000 = 300,000 to the actual investor
        ("T2", "tongzhou:6"): D("300000.00"),
        # 第四条: municipal green factory 500,000 − no earlier honour 0
        ("green_factory", "tongzhou:4"): D("500000.00"),
    }
    assert sets["possible"] == {}
    # the E-Town clauses of the same kinds fail on the zone (七(一): E-Town only)
    for key in [("T1", "etown:23"), ("T2", "etown:27"), ("green_factory", "etown:13")]:
        assert one(results, *key).failed == ("zone",)
    # every other clause is not applicable by the project's kind
    assert one(results, "T1", "beijing:2.3").failed == ("kind",)
    assert one(results, "T2", "beijing:8").failed == ("kind",)
    assert len(results) == 3 * len(monetary_clauses())

    chosen = best(TONGZHOU_MANUFACTURER, results)
    # 第十条: 2,000,000 per enterprise per year across 1,800,000 + 300,000 + 500,000 = 2,600,000: shared
    # pro rata, so Tongzhou grants 2,000,000; Beijing (municipal, stacks) 600,000 + 250,000.
    assert chosen.total == D("2850000.00")
    tongzhou = [c for c in chosen.claims if c.policy == "tongzhou"]
    assert sum(c.granted for c in tongzhou) == D("2000000.00") and {c.status for c in tongzhou} == {"capped"}
    # 1,800,000 × 2,000,000 / 2,600,000 = 1,384,615.38… (to the cent by largest remainder)
    assert one(chosen.claims, "T1", "tongzhou:3").granted in (D("1384615.38"), D("1384615.39"))
    assert chosen.by_year == {2025: D("2850000.00")}
    assert chosen.payments_by_year == {2025: D("2850000.00")}


# --- 2. an E-Town logistics fleet -----------------------------------------------------------------

ETOWN_FLEET = {
    "enterprise": {
        "name": "亦庄绿运物流有限公司",
        "zone": "etown_core",
        # 八(二)1 and 8, true of the whole fleet
        "facts": {"nev_bev_or_fcev": True, "gate_control_networked": True},
    },
    "projects": [
        {"id": "F1", "kind": "zero_emission_fleet", "year": 2025, "fleet_size": 20, "nev_count": 19},
        {
            "id": "F2",
            "kind": "own_vehicle_replacement",
            "year": 2025,
            "vehicle_route": "guo5_replaced",
            "nev_price_yuan": 400_000,
            "vehicles": 5,
            "not_scrapped_near_mandatory_date": True,
            "not_registered_after_publication": True,
        },
        {
            "id": "F3",
            "kind": "leased_vehicle_replacement",
            "year": 2026,
            "vehicles": 3,
            "lease_at_least_one_year": True,
        },
    ],
}


def test_an_etown_logistics_fleet() -> None:
    results = match_results(ETOWN_FLEET)
    sets = by_status(results)
    assert sets["claimable"] == {
        # 19: 19 of 20 = 95% ≥ 90% → 300,000
        ("F1", "etown:19"): D("300000.00"),
        # 18: 国五 replaced: 30% × 400,000 × 5 vehicles = 600,000 (own vehicles: the kind says so)
        ("F2", "etown:18"): D("600000.00"),
    }
    # 20: 60,000 × 3 = 180,000 once the commitment to lease no more fuel trucks is confirmed
    assert sets["possible"] == {("F3", "etown:20"): D("180000.00")}
    assert one(results, "F3", "etown:20").missing == ("commits_no_fuel_leasing",)
    chosen = best(ETOWN_FLEET, results)
    assert chosen.total == D("900000.00") and chosen.by_year == {2025: D("900000.00")}


def test_the_same_fleet_in_tongzhou_fails_on_the_zone() -> None:
    moved = {**ETOWN_FLEET, "enterprise": {**ETOWN_FLEET["enterprise"], "zone": "tongzhou"}}
    result = one(match_results(moved), "F1", "etown:19")
    assert result.status == "not_applicable" and result.failed == ("zone",)
    assert best(moved).total == 0


# --- 3. a data centre -----------------------------------------------------------------------------

DATA_CENTRE = {
    "enterprise": {"name": "副中心云数据有限公司", "zone": "城市副中心（通州）", "kinds": ["data_centre"]},
    "projects": [
        {
            "id": "D1",
            "kind": "data_centre_retrofit",
            "year": 2025,
            "energy_saved_tce": 2000,
            "investment_yuan": 20_000_000,
        },
        {
            "id": "D2",
            "kind": "green_loan",
            "year": 2025,
            "loan_principal_yuan": 50_000_000,
            "loan_rate": 0.04,
            "fixed_asset_investment_yuan": 30_000_000,
        },
        {"id": "D3", "kind": "green_power_purchase", "year": 2025, "green_kwh": 10_000_000},
    ],
}


def test_a_data_centre() -> None:
    results = match_results(DATA_CENTRE)
    sets = by_status(results)
    assert sets["claimable"] == {
        # 二(三): min(1,200 × 2,000 = 2,400,000, 25% × 20,000,000 = 5,000,000, 30,000,000); a data-centre
        # operator is an information-software enterprise (reading, kinds.yaml)
        ("D1", "beijing:2.3"): D("2400000.00"),
        # 第三条: min(30% × 20,000,000, 2,000,000 per project)
        ("D1", "tongzhou:3"): D("2000000.00"),
    }
    # 八: 50,000,000 × min(2%, 4%) × 12/12 = 1,000,000, if the loan is a green fixed-asset loan for
    # construction in Beijing (the fact to confirm)
    assert sets["possible"] == {("D2", "beijing:8"): D("1000000.00")}
    assert one(results, "D2", "beijing:8").missing == ("green_fixed_asset_loan_in_beijing",)
    # 29 is an E-Town measure: not in Tongzhou
    assert one(results, "D3", "etown:29").failed == ("zone",)
    chosen = best(DATA_CENTRE, results)
    assert chosen.total == D("4400000.00")


def test_a_manufacturer_is_no_data_centre_for_beijing_2_3() -> None:
    """The enterprise's kinds answer the clause's condition: no kind meets it, so it fails."""
    profile = {**DATA_CENTRE, "enterprise": {**DATA_CENTRE["enterprise"], "kinds": ["manufacturer"]}}
    result = one(match_results(profile), "D1", "beijing:2.3")
    assert result.status == "not_applicable"
    assert result.failed == ("condition:software_enterprise_data_centre",)
    # an enterprise of unstated kind leaves the condition open: a fact to confirm
    profile = {**DATA_CENTRE, "enterprise": {**DATA_CENTRE["enterprise"], "kinds": []}}
    result = one(match_results(profile), "D1", "beijing:2.3")
    assert result.status == "possible" and result.amount == D("2400000.00")
    assert result.missing == ("software_enterprise_data_centre",)


# --- 4. a construction contractor -----------------------------------------------------------------

CONTRACTOR = {
    "enterprise": {"name": "亦城建设工程总承包有限公司", "zone": "etown_core", "kinds": ["construction_contractor"]},
    "projects": [
        {
            "id": "S1",
            "kind": "green_safe_site",
            "year": 2025,
            "site_title": "model_site",
            "completed": True,
            "no_environmental_penalty": True,
            "no_written_notice": True,
        },
        {"id": "S2", "kind": "site_electrification", "year": 2025},
        {
            "id": "S3",
            "kind": "air_membrane",
            "year": 2025,
            "investment_yuan": 1_000_000,
            "start_date": "2025-03-01",
            "completion_date": "2026-06-30",
        },
        {"id": "S4", "kind": "machinery_replacement", "year": 2026, "machine_price_yuan": 600_000, "machines": 2},
    ],
}


def test_a_construction_contractor() -> None:
    results = match_results(CONTRACTOR)
    sets = by_status(results)
    assert sets["claimable"] == {
        ("S1", "etown:12"): D("200000.00"),  # 12: 绿色安全样板工地 200,000 (general contractor: the kind)
        ("S2", "etown:22"): D("100000.00"),  # 22: electrification pilot 100,000
        ("S3", "etown:11"): D("300000.00"),  # 11: 30% × 1,000,000
    }
    # 21: 30% × 600,000 × 2 machines = 360,000, once the six facts of 21 and 八(二) are confirmed
    assert sets["possible"] == {("S4", "etown:21"): D("360000.00")}
    assert set(one(results, "S4", "etown:21").missing) == {
        "machine_owner",
        "six_machine_types",
        "registered_machine_code",
        "old_machine_scrapped",
        "nev_bev_or_fcev",
        "new_machine_registered",
    }
    chosen = best(CONTRACTOR, results)
    assert chosen.total == D("600000.00") and chosen.by_year == {2025: D("600000.00")}
    # 七(二)4: 11 is paid 50% once started (2025) and 50% once finished (2026); 12 and 22 once, in 2025
    assert chosen.payments_by_year == {2025: D("450000.00"), 2026: D("150000.00")}


# --- 5. an E-Town consultancy ---------------------------------------------------------------------

CONSULTANCY = {
    "enterprise": {"name": "亦庄碳服咨询有限公司", "zone": "yizhuang_new_town", "kinds": ["service_provider"]},
    "projects": [
        {"id": "C1", "kind": "energy_carbon_consulting", "year": 2025, "key_units_served": 6},
        {"id": "C2", "kind": "energy_carbon_consulting", "year": 2026},
        {
            "id": "C3",
            "kind": "green_diagnosis_service",
            "year": 2025,
            "enterprises_served": 3,
            "parks_served": 1,
            "chosen_by_competition": True,
            "diagnosis_free_of_charge": True,
            "clients_qualify": True,
        },
        {"id": "C4", "kind": "distributed_pv", "year": 2025, "capacity_kw": 100},
    ],
}


def test_an_etown_consultancy() -> None:
    results = match_results(CONSULTANCY)
    sets = by_status(results)
    assert sets["claimable"] == {
        ("C1", "etown:31"): D("100000.00"),  # 31: 100,000 a year with ≥ 5 key units served (6)
        ("C3", "beijing:1.2"): D("560000.00"),  # 一(二): 120,000 × 3 enterprises + 200,000 × 1 park
        ("C4", "etown:27"): D("80000.00"),  # 27: 800 元/kW × 100 kW, self-owned; 亦庄新城 is covered (七(一))
    }
    # 31 in 2026: 100,000 if it serves 5 key units or more (the threshold fact not given)
    assert sets["possible"] == {("C2", "etown:31"): D("100000.00")}
    assert one(results, "C2", "etown:31").missing == ("key_units_served",)
    # a consultancy is no manufacturer: beijing:2.1's condition fails for its PV
    assert one(results, "C4", "beijing:2.1").failed == ("condition:manufacturer",)
    chosen = best(CONSULTANCY, results)
    assert chosen.total == D("740000.00")


# --- the examples ------------------------------------------------------------------------


def _pv(zone: str) -> dict:
    return {
        "enterprise": {"name": "光伏业主", "zone": zone},
        "projects": [
            {"id": "PV", "kind": "distributed_pv", "year": 2025, "capacity_kw": 500, "investment_yuan": 2_000_000}
        ],
    }


def test_a_rooftop_pv_project_in_etown_core_gives_etown_27() -> None:
    result = one(match_results(_pv("etown_core")), "PV", "etown:27")
    assert result.status == "claimable" and result.amount == D("400000.00")  # 800 × 500 kW
    assert "no_major_penalty" in result.assumed  # 七(二)2: the general conditions stay assumed, noted
    assert one(match_results(_pv("etown_core")), "PV", "tongzhou:6").failed == ("zone",)


def test_the_same_in_tongzhou_gives_tongzhou_6_and_not_etown_27() -> None:
    results = match_results(_pv("tongzhou"))
    assert one(results, "PV", "etown:27").failed == ("zone",)
    six = one(results, "PV", "tongzhou:6")
    # 第六条: 30% × 2,000,000 = 600,000 to the project's actual investor (the fact to confirm)
    assert six.status == "possible" and six.amount == D("600000.00") and six.missing == ("actual_investor",)


def test_an_energy_saving_retrofit_gives_the_retrofit_clauses_of_beijing_and_the_district() -> None:
    profile = {
        "enterprise": {"name": "甲", "zone": "etown_core", "kinds": ["manufacturer"]},
        "projects": [
            {
                "id": "R",
                "kind": "energy_saving_retrofit",
                "year": 2025,
                "energy_saved_tce": 1000,
                "investment_yuan": 10_000_000,
                "municipal_award_yuan": 1_200_000,
                "project_completed": True,
                "municipal_final_review_published": True,
            }
        ],
    }
    sets = by_status(match_results(profile))
    # 二(一): min(1,200 × 1,000, 25% × 10,000,000, 30,000,000) = 1,200,000; E-Town 23: 1:1 of the municipal 1,200,000
    assert sets["claimable"] == {("R", "beijing:2.1"): D("1200000.00"), ("R", "etown:23"): D("1200000.00")}
    assert best(profile).total == D("2400000.00")


def test_a_missing_input_is_possible_without_an_amount_naming_every_missing_input() -> None:
    profile = {
        "enterprise": {"name": "甲", "zone": "etown_core", "kinds": ["manufacturer"]},
        "projects": [{"id": "R", "kind": "energy_saving_retrofit", "year": 2025}],
    }
    results = match_results(profile)
    retrofit = one(results, "R", "beijing:2.1")
    assert retrofit.status == "possible" and retrofit.amount is None
    assert set(retrofit.missing) == {"energy_saved_tce", "investment_yuan"}
    matching = one(results, "R", "etown:23")
    assert matching.amount is None
    assert matching.missing == ("municipal_award_yuan", "project_completed", "municipal_final_review_published")


def test_outside_the_policy_window_fails_on_validity() -> None:
    profile = {
        "enterprise": {"name": "甲", "zone": "etown_core", "kinds": ["manufacturer"]},
        "projects": [
            {
                "id": "R",
                "kind": "energy_saving_retrofit",
                "year": 2028,
                "energy_saved_tce": 10,
                "investment_yuan": 100_000,
            }
        ],
    }
    # 京经信发〔2024〕20号 runs to 2027-12-31
    assert one(match_results(profile), "R", "beijing:2.1").failed == ("validity",)


def test_a_profile_answer_prevails_over_the_kind_s() -> None:
    profile = {
        "enterprise": {"name": "甲", "zone": "tongzhou", "kinds": ["manufacturer"]},
        "projects": [
            {
                "id": "R",
                "kind": "green_retrofit",
                "year": 2025,
                "investment_yuan": 1_000_000,
                "manufacturer_or_data_centre": False,
            }
        ],
    }
    assert one(match_results(profile), "R", "tongzhou:3").failed == ("condition:manufacturer_or_data_centre",)


def test_a_cross_field_rule_broken_by_the_profile_is_an_input_code() -> None:
    profile = {
        "enterprise": {"name": "甲", "zone": "etown_core"},
        "projects": [{"id": "F", "kind": "zero_emission_fleet", "year": 2025, "fleet_size": 10, "nev_count": 12}],
    }
    result = one(match_results(profile), "F", "etown:19")
    assert result.status == "not_applicable" and result.failed == ("input:nev_count",)


# --- the best combination --------------------------------------------------------------------------


def test_one_district_policy_per_project_keeps_the_larger() -> None:
    """A project without a zone is assumed in either district: nothing is claimable until the zone is
    given; with both districts' clauses claimable (the zone given per clause through facts is not
    possible), ``best`` keeps one district."""
    from policies.matching import Result, one_district

    rows = [
        Result("P", "tongzhou:6", "tongzhou", 2025, "claimable", D("300000")),
        Result("P", "etown:27", "etown", 2025, "claimable", D("400000")),
        Result("P", "beijing:2.1", "beijing", 2025, "claimable", D("250000")),
    ]
    kept, left_out = one_district(rows)
    assert [r.clause for r in kept] == ["etown:27", "beijing:2.1"]
    assert [(p, c, s) for p, c, s, _ in left_out] == [("P", "tongzhou:6", "conflict")]


def test_best_of_within_a_policy_for_one_project() -> None:
    """E-Town 七(二)3: one project, its best measure only (15 and 13 for one rating upgrade here)."""
    profile = {
        "enterprise": {
            "name": "甲",
            "zone": "etown_core",
            "kinds": ["manufacturer"],
            "facts": {"key_industry": True, "heavy_pollution_key_industry": True},
        },
        "projects": [
            {
                "id": "U",
                "kind": "environmental_rating_upgrade",
                "year": 2025,
                "upgraded_to": "A",
                "three_years_a": True,
                "investment_yuan": 200_000,
            }
        ],
    }
    sets = by_status(match_results(profile))
    # 二(二): max(25% × 200,000 = 50,000, floor 100,000) = 100,000; E-Town 15: A 300,000 + three years A 200,000
    assert sets["claimable"] == {("U", "beijing:2.2"): D("100000.00"), ("U", "etown:15"): D("500000.00")}
    assert best(profile).total == D("600000.00")


# --- the profile ---------------------------------------------------------------------------------


def test_the_example_profile_loads_and_matches() -> None:
    data = yaml.safe_load((ROOT / "workbook_templates" / "profile_example.yaml").read_text(encoding="utf-8"))
    result = match(data)
    assert result.best.total > 0
    assert {r.status for r in result.results} == {"claimable", "possible", "not_applicable"}


@pytest.mark.parametrize(
    "change, words",
    [
        ({"kind": "solar"}, ["projects.0.kind", "not a project kind"]),
        ({"capacity_kwh": 5}, ["capacity_kwh", "did you mean 'capacity_kw'"]),
        ({"capacity_kw": -5}, ["capacity_kw", "≥ 0"]),
        ({"year": "next year"}, ["projects.0.year"]),
    ],
)
def test_a_bad_profile_is_one_line_naming_the_field(change: dict, words: list[str]) -> None:
    profile = {
        "enterprise": {"name": "甲"},
        "projects": [{"id": "P", "kind": "distributed_pv", "year": 2025, **change}],
    }
    with pytest.raises(MatchError) as caught:
        load_profile(profile)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_a_bad_credit_code_and_duplicate_ids_are_refused() -> None:
    with pytest.raises(MatchError, match="credit_code"):
        load_profile({"enterprise": {"name": "甲", "credit_code": "91350100M000100Y44"}})
    with pytest.raises(MatchError, match="appears twice"):
        load_profile(
            {"enterprise": {"name": "甲"}, "projects": [{"id": "P", "kind": "distributed_pv", "year": 2025}] * 2}
        )


def test_kinds_and_zones_take_their_labels() -> None:
    profile = load_profile(
        {
            "enterprise": {"name": "甲", "zone": "城市副中心（通州）", "kinds": "制造业企业、Data-centre enterprise"},
            "projects": [{"id": 7.0, "kind": "分布式光伏", "year": "2025"}],
        }
    )
    assert profile.enterprise.zone == "tongzhou" and profile.enterprise.kinds == ["manufacturer", "data_centre"]
    assert profile.projects[0].kind == "distributed_pv" and profile.projects[0].id == "7"


def test_the_profile_schema_is_published() -> None:
    schema = Profile.model_json_schema()
    assert {"enterprise", "projects", "titles"} <= set(schema["properties"])
    assert "kind" in schema["$defs"]["Project"]["required"]


# --- the data: kinds are a vocabulary, every monetary clause lists some -----------------------------


def test_every_monetary_clause_lists_project_kinds_of_the_vocabulary() -> None:
    vocabulary = kinds().project_kinds
    for policy in registry.policies().values():
        for clause in policy.clauses:
            assert bool(clause.kinds) == clause.monetary, clause.id
            assert set(clause.kinds) <= set(vocabulary), clause.id
    used = {k for p in registry.policies().values() for c in p.clauses for k in c.kinds}
    assert used == set(vocabulary)  # no kind that no clause applies to


def test_a_kind_naming_an_unknown_condition_does_not_load(tmp_path: Path) -> None:
    text = (registry.DATA_DIR / "kinds.yaml").read_text(encoding="utf-8")
    path = tmp_path / "kinds.yaml"
    path.write_text(text.replace("meets: [general_contractor]", "meets: [general_contractr]"), encoding="utf-8")
    with pytest.raises(PolicyDataError, match="general_contractr"):
        check_kinds(load_kinds(path))
    path.write_text(
        text.replace("inputs: {project_type: energy_saving}", "inputs: {project_type: saving}"), encoding="utf-8"
    )
    with pytest.raises(PolicyDataError, match="project_type"):
        check_kinds(load_kinds(path))


# --- a new policy file is matched with no code change ----------------------------------------------

EXTRA_POLICY = """\
id: shunyi
title: {zh: 顺义区光伏示范奖励（测试）, en: "Shunyi PV award (test fixture)"}
label: {zh: 顺义区, en: Shunyi}
encoding_version: "1"
source_file: none
validity: {start: 2025-01-01}
zones: [other_beijing]
schedules:
  once:
    label: {zh: 一次性, en: Once}
    cites: 第一条
    stages: [{share: 1, label: {zh: 一次性, en: Once}}]
clauses:
  - id: "shunyi:1"
    article: 第一条
    title: {zh: 分布式光伏, en: Distributed PV}
    kinds: [distributed_pv]
    source: 每千瓦奖励300元。
    ceiling: false
    inputs:
      capacity_kw: {type: number, unit: kW, label: {zh: 装机容量, en: Capacity}}
    parameters:
      per_kw: {value: 300, kind: unit_price, unit: 元/kW, cites: 每千瓦奖励300元}
    amount: per_kw * capacity_kw
"""


@pytest.fixture()
def extra_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The bundled policies and one more file: whatever ``registry.policies()`` returns is matched."""
    path = tmp_path / "shunyi.yaml"
    path.write_text(EXTRA_POLICY, encoding="utf-8")
    monkeypatch.setenv(registry.POLICY_DIRS, str(tmp_path))  # a new district's file, as a deployment adds one
    caches = (*COMPILED_CACHES, profile_names, kinds)
    registry.reload(*caches)
    yield
    monkeypatch.undo()
    registry.reload(*caches)


def test_a_new_policy_file_is_matched_with_no_code_change(extra_policy) -> None:
    results = match_results(_pv("other_beijing"))
    new = one(results, "PV", "shunyi:1")
    assert new.status == "claimable" and new.amount == D("150000.00")  # 300 × 500 kW
    assert one(results, "PV", "etown:27").failed == ("zone",)
    assert best(_pv("other_beijing")).total == D("150000.00")


# --- the JSON ------------------------------------------------------------------------------------


def test_the_json_shape() -> None:
    data = json.loads(json.dumps(match(CONTRACTOR).to_dict()))
    assert set(data) == {"enterprise", "results", "best"}
    assert data["enterprise"]["name"] == "亦城建设工程总承包有限公司"
    row = next(r for r in data["results"] if r["project"] == "S4" and r["clause"] == "etown:21")
    assert row["status"] == "possible" and row["amount_yuan"] == 360000.0 and "machine_owner" in row["missing"]
    assert {"project", "clause", "status", "amount_yuan", "missing", "failed"} <= set(row)
    assert data["best"]["total_yuan"] == 600000.0
    assert data["best"]["by_year"] == {"2025": 600000.0}
    assert {c["clause"]: c["granted_yuan"] for c in data["best"]["claims"]} == {
        "etown:12": 200000.0,
        "etown:22": 100000.0,
        "etown:11": 300000.0,
    }
