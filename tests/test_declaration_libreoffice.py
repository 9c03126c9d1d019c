"""Declarations recalculated by LibreOffice show the core's amount, and the untouched file already carries it.

Every case of tests/cases/*.yaml (caps, floors, exact thresholds, ineligible answers, zones) becomes
a filled declaration; all are recalculated in ONE soffice start. For each: the recalculated AWARD
equals ``policies.evaluate`` on the same inputs, and every formula cell's cached value equals what
LibreOffice computes. Without LibreOffice these tests skip with the reason, unless
GREEN_AWARD_REQUIRE_LIBREOFFICE is set (``.ci/run`` sets it), when they fail.
"""

from __future__ import annotations

import io
import os
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import yaml

from addin.declaration import cell_inputs, make_declaration
from addin.declaration_template import build_cached, monetary_clause_ids
from policies import evaluate
from policies.engine import compiled

import libreoffice

pytestmark = pytest.mark.slow  # one LibreOffice start recalculates every case

CASES_DIR = Path(__file__).parent / "cases"
DETAILS = {
    "enterprise": "北京绿色制造有限公司",
    "uscc": "91350100M000100Y43",
    "address": "北京市经济技术开发区科创十三街1号",
    "contact": "张三",
    "phone": "010-12345678",
    "project": "P-001",
    "project_name": "节能改造项目",
    "start_date": "2025-06-01",
    "completion_date": "2025-12-20",
}
DEFAULT_YEAR = {"beijing": 2025, "tongzhou": 2025, "etown": 2025}
# Beyond the case tables: the claim year outside the policy's window, and text that looks like a formula.
EXTRA = [
    ("beijing:2.2", {"investment_yuan": 100000}, {"year": 2028}),
    ("etown:27", {"capacity_kw": 100}, {"year": 2024}),
    (
        "etown:27",
        {"capacity_kw": 100.5, "ownership": "third_party", "applicant": "owner"},
        {"enterprise": "=1+1", "project_name": "@SUM(A1)", "address": "+86 -1"},
    ),
    ("etown:40", {"area_ha": 0.8, "built": True}, {}),
    ("etown:32", {"neutral_category": "renewal_park"}, {}),  # threshold facts blank: assumed
    ("etown:19", {"fleet_size": 10, "nev_count": 8}, {}),  # exactly 80%
    ("beijing:8", {"loan_principal_yuan": 1e9, "loan_rate": 0.035}, {}),  # the cap
]


def claims() -> list[tuple[str, str, dict, dict]]:
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8")):
            for i, case in enumerate(group["cases"], 1):
                details = dict(DETAILS)
                on = case.get("on")
                policy = group["clause"].split(":")[0]
                details["year"] = int(str(on)[:4]) if on else DEFAULT_YEAR[policy]
                out.append((f"{group['clause']}#{i}", group["clause"], case["inputs"], details))
    for i, (clause, inputs, extra) in enumerate(EXTRA, 1):
        details = {**DETAILS, "year": 2025, **extra}
        out.append((f"{clause}#extra{i}", clause, inputs, details))
    return out


CLAIMS = claims()


def test_every_monetary_clause_is_covered():
    assert {clause for _, clause, _, _ in CLAIMS} == set(monetary_clause_ids())


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    reason = libreoffice.unavailable()
    if reason:
        if os.environ.get(libreoffice.REQUIRE_ENV):
            pytest.fail(f"LibreOffice is required ({libreoffice.REQUIRE_ENV} is set) but unusable: {reason}")
        pytest.skip(f"LibreOffice unavailable: {reason}")
    folder = tmp_path_factory.mktemp("declarations")
    files = {}
    for key, clause, inputs, details in CLAIMS:
        data, _ = make_declaration(clause, inputs, details)
        path = folder / (key.replace(":", "-").replace("#", "_") + ".xlsx")
        path.write_bytes(data)
        files[key] = str(path)
    names = ["AWARD", "ELIGIBLE", "ENTERPRISE_NAME", "CLAUSE_ID", "USCC"]
    result = libreoffice.recalculate(list(files.values()), names)
    return {key: (Path(path), result[os.path.abspath(path)]) for key, path in files.items()}


def _same(cached, computed) -> bool:
    if isinstance(cached, (int, float)) and not isinstance(cached, bool) and isinstance(computed, float):
        return abs(cached - computed) < 1e-9
    if cached is None:
        return computed in ("", None, 0.0)
    return cached == computed


@pytest.mark.parametrize("key,clause,inputs,details", CLAIMS, ids=[c[0] for c in CLAIMS])
def test_libreoffice_award_equals_the_core(recalculated, key, clause, inputs, details):
    path, result = recalculated[key]
    assert result["error"] is None, result["error"]
    # the core, on exactly what the file holds (numbers as doubles, yes/no as 是/否)
    cells = cell_inputs(clause, {k: v for k, v in inputs.items()})
    award = evaluate(clause, on=details.get("year"), **cells)
    recalculated_award = result["names"]["AWARD"]
    assert isinstance(recalculated_award, float), recalculated_award
    assert Decimal(repr(recalculated_award)).quantize(Decimal("0.01")) == award.amount
    assert result["names"]["ELIGIBLE"] == ("是" if award.eligible else "否")
    assert result["names"]["CLAUSE_ID"] == compiled(clause).id
    assert result["names"]["ENTERPRISE_NAME"] == details["enterprise"]  # text stays text, even "=1+1"
    # the untouched file carries every formula's value, and it is what LibreOffice computes
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), data_only=True)
    layout = build_cached(compiled(clause).id)[1]
    assert book.worksheets[3][layout.formulas["award"][1]].value == float(award.amount)
    for sheet, ref in layout.formulas.values():
        cached = book.worksheets[sheet][ref].value
        computed = result["formulas"][f"{sheet}!{ref}"]
        assert _same(cached, computed), f"{sheet}!{ref}: cached {cached!r}, LibreOffice {computed!r}"
    assert len(result["formulas"]) == len(layout.formulas)
