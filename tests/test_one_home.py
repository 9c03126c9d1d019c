"""One home per fact (issue 10 part 4): claim fields, zones, policy names and the Excel date epoch are
defined once, in ``policies/data/common.yaml``, the policy files or ``policies/years.py``, and every
module reads them from there."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from policies.registry import common, fields, policies, policy_names, zone_spec, zones
from policies.years import EXCEL_EPOCH, LAST_SERIAL, from_serial, to_serial

ROOT = Path(__file__).resolve().parent.parent
CODE = [p for folder in ("policies", "addin", "udfs") for p in sorted((ROOT / folder).rglob("*.py"))]


def code_with(pattern: str) -> list[str]:
    found = []
    for path in CODE:
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(pattern, line):
                found.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    return found


def test_the_excel_epoch_is_defined_once() -> None:
    assert code_with(r"1899,\s*12,\s*30|25569") == ["policies/years.py: EXCEL_EPOCH = date(1899, 12, 30)"]
    assert date(1899, 12, 30) == EXCEL_EPOCH
    assert from_serial(45658) == date(2025, 1, 1) and to_serial(date(2025, 1, 1)) == 45658
    assert from_serial(61) == date(1900, 3, 1) and from_serial(LAST_SERIAL) == date(9999, 12, 31)
    with pytest.raises(ValueError, match="must be a date"):
        from_serial(LAST_SERIAL + 1)


def test_excel_serials_read_the_same_in_a_table_a_declaration_and_a_worksheet_function() -> None:
    from addin.declaration import detail_cells
    from policies.stacking import parse_date
    from udfs.functions import _on

    assert parse_date(45658) == parse_date(45658.0) == _on(45658.0) == date(2025, 1, 1)
    cells = detail_cells({"start_date": "2025-01-01", "completion_date": 45659}, "etown:27", require=False)
    assert (cells["start_date"], cells["completion_date"]) == (45658, 45659)


def test_the_process_pool_is_made_in_one_place() -> None:
    assert code_with(r"ProcessPoolExecutor\(") == ["addin/pool.py: return ProcessPoolExecutor("]


def test_claim_field_labels_are_written_only_in_common_yaml() -> None:
    """The labels of the applicant and project fields, once in 5 modules, are in no module now."""
    for name, field in fields().items():
        for text in {field.label.zh, field.column.zh} - {"条款"}:  # 条款 is also a word of prose
            assert not code_with(re.escape(f'"{text}"')), (name, code_with(re.escape(f'"{text}"')))
    assert not code_with(r'"(地址|注册地址) ?(A|a)ddress')


def test_every_module_reads_the_same_fields() -> None:
    from addin import declaration, portfolio, review
    from addin.ledger import export
    from policies import stacking

    label = {name: f"{f.label.zh} {f.label.en}" for name, f in fields().items()}
    assert {k: label[k] for k, f in fields().items() if "review" in f.required} == review.REQUIRED
    assert declaration.REQUIRED_DETAILS["address"] == "注册地址 Address (address)"
    assert stacking.REQUIRED == ("enterprise", "project", "clause", "year")
    assert set(stacking.DETAILS) | set(stacking.REQUIRED) | {"zone"} == set(fields())
    assert portfolio.column_label("uscc") == ("统一社会信用代码", "Credit code") == export.field_column("uscc")[1:]
    assert portfolio.ENTERPRISE_COLUMNS == ["enterprise", "uscc", "address", "contact", "phone"]
    assert [c[0] for c in portfolio.template_columns()][:6] == [
        "enterprise",
        "uscc",
        "project",
        "project_name",
        "clause",
        "year",
    ]


def test_zones_are_defined_once_and_the_zone_input_offers_them_all() -> None:
    assert not code_with(r"etown_core.*yizhuang_new_town|Literal\[.*other_beijing")
    assert list(zones()) == ["tongzhou", "etown_core", "yizhuang_new_town", "other_beijing"]
    assert zone_spec().values == zones() and zone_spec().label == fields()["zone"].label
    from policies.engine import compiled

    assert compiled("etown:27").specs["zone"] is zone_spec()


def test_policy_names_and_labels_come_from_the_policy_files() -> None:
    assert common().policies == list(policies()) == ["beijing", "tongzhou", "etown"]
    assert policy_names()["经开区"] == "etown" and policy_names()["municipal"] == "beijing"
    assert not code_with(r'"北京市": "beijing"|"beijing": \("北京市"')
    from addin.portfolio import value_label
    from udfs.functions import _policy

    assert _policy("AWARD_CLAUSES", " E-Town ") == "etown" and value_label("tongzhou") == "通州区 tongzhou"
    with pytest.raises(Exception, match=r"beijing \(北京市\), tongzhou \(通州区\), etown \(经开区\)"):
        _policy("AWARD_CLAUSES", "海淀")
