"""Review of declarations: untouched ones pass; each problem of issue 6 is built and detected."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from addin.declaration import make_declaration
from addin.demo import read_sample
from addin.review import expected_content, review_file, review_paths, write_json, write_xlsx
from policies.engine import compiled

ROOT = Path(__file__).resolve().parent.parent
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
    "year": 2025,
}
OTHER_USCC = "91110000802100433B"  # valid check character


def yes_to_all(clause: str) -> dict:
    return {name: True for name in compiled(clause).conditions}


def declaration(clause: str, inputs: dict, **details) -> bytes:
    data, _ = make_declaration(clause, {**yes_to_all(clause), **inputs}, {**DETAILS, **details})
    return data


def pv(**kw) -> bytes:
    """etown:27, 100 kW own PV in the E-Town core: 80,000 yuan."""
    inputs = {"capacity_kw": 100, "zone": "etown_core"}
    inputs.update(kw.pop("inputs", {}))
    return declaration("etown:27", inputs, **kw)


def part(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name).decode("utf-8")


def replace_part(data: bytes, name: str, edit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == name:
                new = edit(body.decode("utf-8"))
                assert new != body.decode("utf-8"), f"the edit changed nothing in {name}"
                body = new.encode("utf-8")
            dst.writestr(info.filename, body)
    return out.getvalue()


def cell_pattern(ref: str) -> re.Pattern:
    return re.compile(rf'<c r="{ref}"(?=[ />])[^>]*?(?:/>|>.*?</c>)')


def set_cell(data: bytes, clause: str, key: str, xml: str | None = None, edit=None) -> bytes:
    """Rewrite the cell of a slot or formula key (``award``, ``capacity_kw``...) in the sheet XML."""
    exp = expected_content(clause)
    if key == "award":
        s, ref = exp.award
    elif key in exp.slots:
        s, ref, _ = exp.slots[key]
    else:
        from addin.declaration_template import layout

        s, ref = layout(clause).formulas[key]
    sheet = f"xl/worksheets/sheet{s + 1}.xml"

    def change(text: str) -> str:
        found = cell_pattern(ref).search(text)
        assert found, f"no cell {ref} in {sheet}"
        new = xml.replace("{ref}", ref) if xml is not None else edit(found[0])
        return text[: found.start()] + new + text[found.end() :]

    return replace_part(data, sheet, change)


def review_bytes(tmp_path: Path, data: bytes, name: str = "d.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return review_file(path)


def only(sub, words: str) -> str:
    found = [p for p in sub.problems if words in p]
    assert found, f"no problem with {words!r}: {sub.problems}"
    return found[0]


# --- untouched declarations pass ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory) -> Path:
    """The sample portfolio's declarations, as `declare` writes them: one per monetary clause at least."""
    from addin.declaration import declare_frame

    folder = tmp_path_factory.mktemp("declarations")
    batch = declare_frame(read_sample(), folder, workers=1)
    assert batch.written and not batch.problems
    return folder


@pytest.mark.slow
def test_untouched_sample_declarations_pass(sample_folder):
    files = sorted(sample_folder.glob("*.xlsx"))
    subs = review_paths(files, executor=ThreadPoolExecutor(2))
    bad = {s.file: s.problems for s in subs if not s.ok}
    assert not bad
    assert {s.clause for s in subs} >= set(c for c in (r["clause"] for r in read_sample().to_dict("records")))
    for sub in subs:
        assert sub.declared_yuan == sub.recomputed_yuan
        assert sub.granted_yuan is not None and sub.granted_yuan <= sub.declared_yuan


def test_untouched_declaration_passes_with_its_amounts(tmp_path):
    sub = review_bytes(tmp_path, pv())
    assert sub.ok, sub.problems
    assert not sub.warnings
    assert (sub.declared_yuan, sub.recomputed_yuan) == (Decimal("80000.00"), Decimal("80000.00"))
    assert (sub.clause, sub.enterprise) == ("etown:27", DETAILS["enterprise"])
    review_paths([tmp_path / "d.xlsx"])  # the batch sets the grant
    sub = review_paths([tmp_path / "d.xlsx"])[0]
    assert sub.granted_yuan == Decimal("80000.00")


# --- tampering ----------------------------------------------------------------------------------------


def test_award_formula_replaced_by_a_constant(tmp_path):
    data = set_cell(pv(), "etown:27", "award", '<c r="{ref}" s="15"><v>80000</v></c>')
    sub = review_bytes(tmp_path, data)
    assert not sub.ok
    assert "奖励测算 Award!" in only(sub, "replaced by the constant 80000")


def test_edited_award_formula(tmp_path):
    data = set_cell(
        pv(),
        "etown:27",
        "award",
        edit=lambda c: re.sub(r",([A-Z]+\d+),0\)", r",\1*2,0)", c).replace("80000.00", "160000"),
    )
    sub = review_bytes(tmp_path, data)
    only(sub, "the formula was edited")
    only(sub, "is above what the inputs allow")  # 160,000 declared, 80,000 allowed


def test_edited_computation_formula(tmp_path):
    data = set_cell(pv(), "etown:27", "computed", edit=lambda c: c.replace("800*", "900*"))
    only(review_bytes(tmp_path, data), "the formula was edited")


def test_edited_label(tmp_path):
    data = replace_part(pv(), "xl/worksheets/sheet3.xml", lambda t: t.replace("装机容量", "装机容量（交流侧）", 1))
    sub = review_bytes(tmp_path, data)
    assert "label was edited" in only(sub, "装机容量（交流侧）")


def test_redirected_defined_name(tmp_path):
    data = replace_part(
        pv(), "xl/workbook.xml", lambda t: re.sub(r"(<definedName name=\"AWARD\">[^<]*\$)17<", r"\g<1>16<", t)
    )
    only(review_bytes(tmp_path, data), "defined name AWARD points to")


def test_removed_validation(tmp_path):
    data = replace_part(
        pv(),
        "xl/worksheets/sheet2.xml",
        lambda t: re.sub(r'<dataValidation [^>]*type="textLength".*?</dataValidation>', "", t),
    )
    only(review_bytes(tmp_path, data), "the data validation was removed")


def test_declared_amount_above_what_the_inputs_allow(tmp_path):
    """The formula is intact, but the cached value says more than the inputs give."""
    data = set_cell(pv(), "etown:27", "award", edit=lambda c: c.replace("<v>80000.00</v>", "<v>95000</v>"))
    sub = review_bytes(tmp_path, data)
    assert sub.problems == [only(sub, "95,000.00 元 is above what the inputs allow, 80,000.00 元")]
    assert sub.declared_yuan == Decimal("95000.00") and sub.recomputed_yuan == Decimal("80000.00")


def test_never_calculated(tmp_path):
    data = set_cell(pv(), "etown:27", "award", edit=lambda c: re.sub(r"<v>.*?</v>", "", c))
    sub = review_bytes(tmp_path, data)
    only(sub, "never calculated")
    assert sub.declared_yuan is None


# --- fields -------------------------------------------------------------------------------------------


def test_blanked_required_input(tmp_path):
    data = set_cell(pv(), "etown:27", "capacity_kw", '<c r="{ref}" s="13"/>')
    sub = review_bytes(tmp_path, data)
    assert "capacity_kw" in only(sub, "required")
    assert sub.recomputed_yuan is None


def test_blanked_enterprise_field(tmp_path):
    data = set_cell(pv(), "etown:27", "contact", '<c r="{ref}" s="7"/>')
    assert "联系人 Contact" in only(review_bytes(tmp_path, data), "is blank")


def test_wrong_credit_code_check_character(tmp_path):
    data = replace_part(
        pv(), "xl/worksheets/sheet2.xml", lambda t: t.replace("91350100M000100Y43", "91350100M000100Y44")
    )
    problem = only(review_bytes(tmp_path, data), "GB 32100-2015")
    assert "check character" in problem and "统一社会信用代码" in problem


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("phone", "12345", "phone number"),
        ("capacity_kw", "-5", "must be"),
        ("start_date", "2025-13-40", "date"),
        ("year", "二〇二五", "year"),
    ],
)
def test_bad_field_values(tmp_path, key, value, words):
    data = set_cell(pv(), "etown:27", key, f'<c r="{{ref}}" t="inlineStr"><is><t>{value}</t></is></c>')
    only(review_bytes(tmp_path, data), words)


def test_completion_before_start(tmp_path):
    only(review_bytes(tmp_path, pv(start_date="2025-06-01", completion_date="2025-01-01")), "before the start date")


def test_inputs_validated_by_the_core_model(tmp_path):
    """A choice outside the clause's values: the message is the core's pydantic model's."""
    data = set_cell(pv(), "etown:27", "ownership", '<c r="{ref}" t="inlineStr"><is><t>rented</t></is></c>')
    assert "must be one of self" in only(review_bytes(tmp_path, data), "ownership")


# --- eligibility --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition, words",
    [
        ("not_three_simultaneous", "三同时"),  # E-Town exclusions (七(二)5)
        ("no_government_funding", "政府财政资金"),
        ("data_centre_energy_review", "节能审查"),
        ("no_major_penalty", "行政处罚"),  # E-Town general conditions (七(二)2)
        ("not_seriously_dishonest", "失信"),
    ],
)
def test_condition_answered_no(tmp_path, condition, words):
    sub = review_bytes(tmp_path, pv(inputs={condition: False}))
    assert words in only(sub, "answered 否")
    assert sub.recomputed_yuan == 0 and not sub.ok


def test_condition_not_answered(tmp_path):
    data = set_cell(pv(), "etown:27", "no_major_penalty", '<c r="{ref}" s="14"/>')
    only(review_bytes(tmp_path, data), "is not answered")


def test_waived_condition_may_stay_blank(tmp_path):
    """etown:10 budget units: 'no government funding' is waived (measure 10's 100%)."""
    inputs = {
        **yes_to_all("etown:10"),
        "boiler_grade": "A",
        "investment_yuan": 1_000_000,
        "budget_unit": True,
        "zone": "etown_core",
        "total_incl_tax_yuan": 1_130_000,
        "paid_incl_tax_yuan": 1_130_000,
    }
    del inputs["no_government_funding"]
    data, award = make_declaration("etown:10", inputs, DETAILS)
    sub = review_bytes(tmp_path, data)
    assert sub.ok, sub.problems
    assert sub.recomputed_yuan == award.amount == Decimal("1000000.00")


def test_wrong_zone(tmp_path):
    sub = review_bytes(tmp_path, pv(inputs={"zone": "tongzhou"}))
    assert "etown_core" in only(sub, "Zone City sub-centre (Tongzhou) [tongzhou] is not one of")


def test_claim_year_outside_the_policy(tmp_path):
    only(review_bytes(tmp_path, pv(year=2024)), "not yet in force")


# --- the template -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version, words", [("0", "is outdated"), ("99", "is unknown")])
def test_template_version(tmp_path, version, words):
    from addin.declaration_template import TEMPLATE_VERSION

    data = replace_part(
        pv(),
        "xl/worksheets/sheet7.xml",
        lambda t: re.sub(rf'(<c r="B2"[^>]*><is><t[^>]*>){TEMPLATE_VERSION}(</t>)', rf"\g<1>{version}\2", t),
    )
    problem = only(review_bytes(tmp_path, data), words)
    assert f"version '{version}'" in problem and f"version {TEMPLATE_VERSION}" in problem


def policy_version(data: bytes, version: str) -> bytes:
    return replace_part(
        data,
        "xl/worksheets/sheet7.xml",
        lambda t: re.sub(r'(<c r="B6"[^>]*><is><t[^>]*>)[^<]+(</t>)', rf"\g<1>{version}\2", t),
    )


def test_unknown_policy_version(tmp_path):
    for version in ("99", "2b"):  # etown is at version 2: a later or non-numeric version is no earlier one
        only(review_bytes(tmp_path, policy_version(pv(), version)), f"policy data version '{version}'")


def test_a_declaration_made_under_an_earlier_policy_version_is_reviewed_under_the_current_rules(tmp_path):
    """etown:27 made when (say) its rate was 700 元/kW: the form's figure and formula and its declared 70,000
    differ from today's form; they are warnings, and the amount is today's (issue 10 part 4)."""
    earlier = replace_part(
        policy_version(pv(), "1"),
        "xl/worksheets/sheet4.xml",
        lambda t: (
            t.replace("800 × 【装机容量】", "700 × 【装机容量】")
            .replace("ROUND(((800*in_capacity_kw)", "ROUND(((700*in_capacity_kw)")
            .replace("<v>80000.00</v>", "<v>70000.00</v>")
        ),
    )
    sub = review_bytes(tmp_path, earlier)
    assert sub.problems == [] and sub.recomputed_yuan == Decimal("80000.00"), sub.problems
    assert (
        "made under version 1 of etown's policy data, reviewed under the current rules (version 2)" in sub.warnings[0]
    )
    moved = [w for w in sub.warnings if w.startswith("版本不同 Earlier version: ")]
    assert any("700 × 【装机容量】" in w and "label was edited" in w for w in moved), sub.warnings
    assert any("formula was edited" in w for w in moved) and any(
        "Declared amount: 70,000.00" in w for w in sub.warnings
    )
    # what could run or hide content stays a problem, and so does eligibility under the current rules
    hostile = replace_part(
        earlier,
        "xl/worksheets/sheet4.xml",
        lambda t: t.replace('<c r="D9" s="17" t="str"><f>', '<c r="D9" s="17" t="str"><f>WEBSERVICE("http://x")&amp;'),
    )
    assert "WEBSERVICE" in only(review_bytes(tmp_path, hostile), "the formula was edited")
    above = replace_part(
        policy_version(pv(), "1"), "xl/worksheets/sheet4.xml", lambda t: t.replace("<v>80000.00</v>", "<v>90000.00</v>")
    )
    assert any(
        w.startswith("版本不同 Earlier version: 申报金额 Declared amount: 90,000.00")
        for w in review_bytes(tmp_path, above).warnings
    )
    outside = review_bytes(tmp_path, policy_version(pv(inputs={"zone": "tongzhou"}), "1"))
    assert "etown_core" in only(outside, "Zone City sub-centre (Tongzhou) [tongzhou] is not one of")
    extra = replace_part(
        policy_version(pv(), "1"),
        "xl/worksheets/sheet4.xml",
        lambda t: t.replace(
            "</sheetData>", '<row r="90"><c r="A90"><f>WEBSERVICE("http://x")</f></c></row></sheetData>'
        ),
    )
    only(review_bytes(tmp_path, extra), "is not part of the template")


def test_a_workbook_that_is_not_a_declaration(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "hello"
    wb.save(tmp_path / "other.xlsx")
    only(review_file(tmp_path / "other.xlsx"), "no metadata sheet")


@pytest.mark.slow
def test_libreoffice_resaved_declaration_passes(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        import libreoffice  # the declaration tests' helper: the same switch makes LibreOffice compulsory in CI

        if os.environ.get(libreoffice.REQUIRE_ENV):
            pytest.fail(f"LibreOffice is required ({libreoffice.REQUIRE_ENV}) but soffice is not installed")
        pytest.skip("soffice (libreoffice-calc-nogui) is not installed")
    sources = {"pv.xlsx": pv()}
    inputs = {
        **yes_to_all("etown:10"),
        "boiler_grade": "B",
        "investment_yuan": 2_000_000,
        "zone": "etown_core",
        "total_incl_tax_yuan": 2_260_000,
        "paid_incl_tax_yuan": 2_100_000,
    }
    sources["boiler.xlsx"] = make_declaration("etown:10", inputs, DETAILS)[0]
    for name, data in sources.items():
        (tmp_path / name).write_bytes(data)
    out = tmp_path / "resaved"
    run = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            *(str(tmp_path / n) for n in sources),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    for name in sources:
        resaved = out / name
        assert resaved.exists(), f"LibreOffice wrote no {name} (exit {run.returncode}): {run.stderr[-500:]}"
        assert resaved.read_bytes() != (tmp_path / name).read_bytes()
        sub = review_file(resaved)
        assert sub.ok, sub.problems
        assert sub.declared_yuan == sub.recomputed_yuan


# --- across the batch ---------------------------------------------------------------------------------


def write_all(folder: Path, files: dict[str, bytes]) -> list[Path]:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / n for n in files]


def tz3(investment: int, project: str, **kw) -> bytes:
    return declaration("tongzhou:3", {"investment_yuan": investment, "zone": "tongzhou"}, project=project, **kw)


def test_same_project_and_clause_twice(tmp_path):
    paths = write_all(tmp_path, {"a.xlsx": pv(), "b.xlsx": pv(project_name="另一个名称")})
    a, b = review_paths(paths)
    assert "b.xlsx" in only(a, "Duplicate") and "a.xlsx" in only(b, "Duplicate")
    assert not a.ok and not b.ok and a.granted_yuan == 0


def test_a_one_off_clause_of_one_project_in_two_years_is_a_duplicate_in_the_batch(tmp_path):
    # etown:27 一次性奖励: the 2026 claim of the same 100 kW fails, citing the 2025 one (issue 11)
    paths = write_all(
        tmp_path, {"a.xlsx": pv(), "b.xlsx": pv(year=2026, start_date="2026-03-01", completion_date="2026-09-01")}
    )
    a, b = review_paths(paths)
    assert a.ok and a.granted_yuan == Decimal("80000.00")
    assert not b.ok and b.granted_yuan == 0 and "2025" in only(b, "Duplicate")
    assert [f.refers_to for f in b.findings if f.code == "duplicate"] == [(a.file,)]  # the earlier claim, by its file


def test_other_enterprise_same_project_id_is_no_duplicate(tmp_path):
    paths = write_all(tmp_path, {"a.xlsx": pv(), "b.xlsx": pv(uscc=OTHER_USCC, enterprise="另一家公司")})
    assert all(s.ok for s in review_paths(paths))


def test_two_clauses_of_one_policy_for_one_project(tmp_path):
    ai = declaration(
        "etown:3",
        {
            "investment_yuan": 1_000_000,
            "zone": "etown_core",
            "total_incl_tax_yuan": 1_130_000,
            "paid_incl_tax_yuan": 1_130_000,
        },
    )
    paths = write_all(tmp_path, {"pv.xlsx": pv(), "ai.xlsx": ai})
    subs = {Path(s.file).name: s for s in review_paths(paths)}
    assert not subs["pv.xlsx"].ok and not subs["ai.xlsx"].ok
    assert "etown:3" in " ".join(subs["pv.xlsx"].problems)
    assert "etown:27" in " ".join(subs["ai.xlsx"].problems)


def test_beijing_retrofit_measures_exclude_each_other_but_loan_interest_stacks(tmp_path):
    base = {
        "energy_saved_tce": 1000,
        "investment_yuan": 10_000_000,
        "project_type": "energy_saving",
        "zone": "other_beijing",
    }
    retrofit = declaration("beijing:2.1", base)
    demo = declaration("beijing:2.5", base)
    loan = declaration(
        "beijing:8",
        {
            "loan_principal_yuan": 10_000_000,
            "loan_rate": 0.035,
            "fixed_asset_investment_yuan": 8_000_000,
            "zone": "other_beijing",
        },
    )
    paths = write_all(tmp_path, {"retrofit.xlsx": retrofit, "demo.xlsx": demo, "loan.xlsx": loan})
    subs = {Path(s.file).name: s for s in review_paths(paths)}
    assert not subs["retrofit.xlsx"].ok and not subs["demo.xlsx"].ok
    assert subs["loan.xlsx"].ok, subs["loan.xlsx"].problems


def test_one_project_under_two_district_policies(tmp_path):
    paths = write_all(tmp_path, {"tz.xlsx": tz3(1_000_000, "P-001"), "et.xlsx": pv()})
    subs = {Path(s.file).name: s for s in review_paths(paths)}
    assert "tongzhou:3" in only(subs["et.xlsx"], "Conflict")
    assert "etown:27" in only(subs["tz.xlsx"], "Conflict")


def test_annual_cap_is_a_warning_with_the_amount_after_it(tmp_path):
    """Tongzhou 第十条: 2,000,000 per enterprise-year; two projects of 1,500,000 each get 1,000,000."""
    paths = write_all(tmp_path, {"p1.xlsx": tz3(5_000_000, "P-101"), "p2.xlsx": tz3(5_000_000, "P-102")})
    subs = review_paths(paths)
    for sub in subs:
        assert sub.ok, sub.problems
        assert sub.declared_yuan == Decimal("1500000.00")
        assert sub.granted_yuan == Decimal("1000000.00")
        warning = [w for w in sub.warnings if "Annual cap" in w]
        assert warning and "1,000,000.00 元 after the cap" in warning[0]


def test_beijing_loan_interest_cap(tmp_path):
    """Beijing 八: 10,000,000 per enterprise-year; two loans of 8,000,000 interest subsidy each get 5,000,000."""

    def loan(project: str) -> bytes:
        return declaration(
            "beijing:8",
            {
                "loan_principal_yuan": 400_000_000,
                "loan_rate": 0.035,
                "fixed_asset_investment_yuan": 8_000_000,
                "zone": "other_beijing",
            },
            project=project,
        )

    subs = review_paths(write_all(tmp_path, {"l1.xlsx": loan("L-1"), "l2.xlsx": loan("L-2")}))
    for sub in subs:
        assert sub.ok, sub.problems
        assert (sub.declared_yuan, sub.granted_yuan) == (Decimal("8000000.00"), Decimal("5000000.00"))
        assert any("5,000,000.00 元 after the cap" in w for w in sub.warnings)


def test_a_failed_submission_does_not_use_up_the_cap(tmp_path):
    bad = set_cell(
        tz3(5_000_000, "P-102"), "tongzhou:3", "award", edit=lambda c: re.sub(r"<v>.*?</v>", "<v>9000000</v>", c)
    )
    paths = write_all(tmp_path, {"p1.xlsx": tz3(5_000_000, "P-101"), "p2.xlsx": bad})
    good, failed = review_paths(paths)
    assert good.ok and good.granted_yuan == Decimal("1500000.00") and not good.warnings
    assert not failed.ok and failed.granted_yuan == 0


# --- the batch, the reports and the command -----------------------------------------------------------


@pytest.fixture
def mixed_folder(tmp_path) -> Path:
    """Issue 6's 'done when' folder."""
    from test_safe_xlsx import BILLION_LAUGHS, minimal, write_zip_bomb

    folder = tmp_path / "submissions"
    folder.mkdir()
    files = {
        "good_pv.xlsx": pv(),
        "good_tz.xlsx": tz3(1_000_000, "P-201", uscc=OTHER_USCC, enterprise="北京副中心制造有限公司"),
        "tampered_award.xlsx": set_cell(
            pv(project="P-002"), "etown:27", "award", '<c r="{ref}" s="15"><v>800000</v></c>'
        ),
        "blank_input.xlsx": set_cell(pv(project="P-003"), "etown:27", "capacity_kw", '<c r="{ref}" s="13"/>'),
        "bad_uscc.xlsx": replace_part(
            pv(project="P-004"),
            "xl/worksheets/sheet2.xml",
            lambda t: t.replace("91350100M000100Y43", "91350100M000100Y4X"),
        ),
        "junk.xlsx": b"\x00\x01 not a workbook " * 100,
        "xml_bomb.xlsx": minimal({"xl/workbook.xml": BILLION_LAUGHS}),
    }
    write_all(folder, files)
    write_zip_bomb(folder / "zip_bomb.xlsx")
    return folder


EXPECTED_MIXED = {
    "good_pv.xlsx": None,
    "good_tz.xlsx": None,
    "tampered_award.xlsx": "replaced by the constant",
    "blank_input.xlsx": "required",
    "bad_uscc.xlsx": "check character",
    "junk.xlsx": "not a zip",
    "xml_bomb.xlsx": "XML bomb",
    "zip_bomb.xlsx": "zip bomb",
}


@pytest.mark.slow
def test_mixed_folder_sorted_right_in_one_command(mixed_folder, tmp_path):
    """`green-award review DIR --json report.json --report report.xlsx` (issue 6, done when)."""
    from typer.testing import CliRunner

    from addin.cli import app

    report, xlsx = tmp_path / "report.json", tmp_path / "report.xlsx"
    result = CliRunner().invoke(app, ["review", str(mixed_folder), "--json", str(report), "--report", str(xlsx)])
    assert result.exit_code == 1, result.output
    rows = {Path(r["file"]).name: r for r in json.loads(report.read_text(encoding="utf-8"))}
    assert set(rows) == set(EXPECTED_MIXED)
    for name, words in EXPECTED_MIXED.items():
        row = rows[name]
        assert set(row) >= {
            "file",
            "ok",
            "problems",
            "warnings",
            "declared_yuan",
            "recomputed_yuan",
            "granted_yuan",
            "clause",
            "enterprise",
        }
        if words is None:
            assert row["ok"] and not row["problems"], (name, row["problems"])
        else:
            assert not row["ok"] and any(words in p for p in row["problems"]), (name, row["problems"])
    assert rows["good_pv.xlsx"]["declared_yuan"] == rows["good_pv.xlsx"]["granted_yuan"] == 80000.0
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["汇总 Summary", "审核 Review"]  # the summary first
    ws = wb["审核 Review"]
    fills = {Path(ws.cell(r, 1).value).name: ws.cell(r, 2).fill.fgColor.rgb for r in range(2, ws.max_row + 1)}
    assert fills["junk.xlsx"].endswith("F8CBAD") and fills["good_pv.xlsx"].endswith("C6EFCE")
    summary = {row[0]: row[1] for row in wb["汇总 Summary"].iter_rows(max_col=2, values_only=True)}
    assert summary["通过 Passed"] == 2 and summary["不通过 Failed"] == 6


def test_exit_codes(tmp_path):
    from typer.testing import CliRunner

    from addin.cli import app

    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.xlsx").write_bytes(pv())
    runner = CliRunner()
    assert runner.invoke(app, ["review", str(tmp_path / "ok")]).exit_code == 0
    (tmp_path / "ok" / "junk.xlsx").write_bytes(b"junk")
    assert runner.invoke(app, ["review", str(tmp_path / "ok")]).exit_code == 1
    assert runner.invoke(app, ["review", str(tmp_path / "missing")]).exit_code == 2
    (tmp_path / "empty").mkdir()
    assert runner.invoke(app, ["review", str(tmp_path / "empty")]).exit_code == 2
    assert runner.invoke(app, ["review"]).exit_code == 2
    (tmp_path / "r.json").write_text("[]")
    assert runner.invoke(app, ["review", str(tmp_path / "ok"), "--json", str(tmp_path / "r.json")]).exit_code == 2
    assert (
        runner.invoke(
            app, ["review", str(tmp_path / "ok"), "--json", str(tmp_path / "r.json"), "--overwrite"]
        ).exit_code
        == 1
    )


def test_reports_keep_text_as_text(tmp_path):
    path = tmp_path / "=cmd()|x.xlsx"
    path.write_bytes(b"junk")
    subs = review_paths([path])
    write_json(subs, tmp_path / "r.json")
    write_xlsx(subs, tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["审核 Review"]
    assert ws["A2"].data_type == "s" and ws["A2"].value == path.name  # relative to the folder the summary names
    with pytest.raises(FileExistsError):
        write_json(subs, tmp_path / "r.json")


def test_the_executor_is_injectable(tmp_path):
    paths = write_all(tmp_path, {f"{i}.xlsx": pv(project=f"P-{i}") for i in range(10)})

    class Counting(ThreadPoolExecutor):
        calls = 0

        def submit(self, fn, *args, **kwargs):
            Counting.calls += 1
            return super().submit(fn, *args, **kwargs)

    seen = []
    with Counting(2) as pool:
        subs = review_paths(paths, executor=pool, progress=lambda done, total: seen.append((done, total)))
    assert Counting.calls >= 1 and all(s.ok for s in subs)
    assert seen[-1] == (10, 10)
    assert [Path(s.file).name for s in subs] == [p.name for p in paths]


def test_process_pool_by_default(tmp_path):
    paths = write_all(tmp_path, {f"{i}.xlsx": pv(project=f"P-{i}") for i in range(10)})
    assert all(s.ok for s in review_paths(paths, workers=2))


#: The command, saying on exit whether dask.distributed ran in its process (a client to a LocalCluster).
RUN_SAYING_IF_DASK_RAN = (
    "import atexit, sys; "
    "atexit.register(lambda: print('dask ran:', 'distributed' in sys.modules, file=sys.stderr)); "
    "from addin.cli import main; main()"
)


@pytest.mark.slow
def test_review_on_a_dask_cluster_finds_what_one_process_finds(mixed_folder, tmp_path):
    """`green-award review --executor dask --workers 2` (a LocalCluster of 2 processes, each given the expected
    content built before it started) gives the JSON report of `--workers 1`, file for file."""
    (mixed_folder / "twice.xlsx").write_bytes(pv(project="P-002"))  # the tampered file's project: a duplicate
    reports = {}
    for name, options in (("one", ["--workers", "1"]), ("dask", ["--executor", "dask", "--workers", "2"])):
        out = tmp_path / f"{name}.json"
        done = subprocess.run(
            [sys.executable, "-c", RUN_SAYING_IF_DASK_RAN, "review", str(mixed_folder), "--json", str(out), *options],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
        assert done.returncode == 1, done.stderr[-2000:]  # some fail
        assert f"dask ran: {name == 'dask'}" in done.stderr  # the cluster did the work, or was never started
        reports[name] = json.loads(out.read_text(encoding="utf-8"))
    one, dask = reports["one"], reports["dask"]
    assert dask == one
    rows = {Path(r["file"]).name: r for r in one}
    assert rows["good_pv.xlsx"]["ok"] and rows["good_pv.xlsx"]["granted_yuan"] == 80000.0
    assert rows["tampered_award.xlsx"]["codes"][0] == "tampered" and rows["xml_bomb.xlsx"]["codes"] == ["xml_bomb"]
    assert "duplicate" in rows["twice.xlsx"]["codes"] and len(rows) == 9


def templates_built() -> int:
    """In a worker: how many clause templates this process generated."""
    from addin.declaration_template import build_cached

    return build_cached.cache_info().currsize


def test_workers_are_given_the_expected_content_and_never_rebuild_it(tmp_path):
    """The content each clause's declaration must hold is built once, in the process that starts the workers,
    before they start: a spawned worker reviews without generating any template itself."""
    from addin.pool import process_pool

    paths = write_all(tmp_path, {"pv.xlsx": pv(), "tz.xlsx": tz3(1_000_000, "P-201", uscc=OTHER_USCC)})
    with process_pool(1, "spawn") as pool:
        subs = review_paths(paths, executor=pool)
        built_there = pool.submit(templates_built).result()
    assert [s.ok for s in subs] == [True, True] and [s.granted_yuan for s in subs][0] == Decimal("80000.00")
    assert built_there == 0


def test_a_failure_of_the_batch_checks_is_a_problem_not_a_crash(tmp_path, monkeypatch):
    import policies.stacking

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(policies.stacking, "stack_rows", broken)
    (sub,) = review_paths(write_all(tmp_path, {"a.xlsx": pv()}))
    assert not sub.ok and "boom" in only(sub, "checks across submissions")


@pytest.mark.slow
def test_the_demo_reviews_its_own_declarations(tmp_path):
    from rich.console import Console

    from addin.demo import run_demo

    console = Console(record=True, width=200)
    assert run_demo(tmp_path / "out", console=console, pdf=False) == 0
    text = console.export_text()
    assert re.search(r"(\d+) submissions: \1 pass, 0 fail", text), text[-2000:]
    summary = openpyxl.load_workbook(tmp_path / "out" / "review.xlsx")["汇总 Summary"]
    rows = {row[0]: row[1] for row in summary.iter_rows(max_col=2, values_only=True)}
    assert rows["不通过 Failed"] == 0 and rows["提交 Submissions"] == len(
        list((tmp_path / "out" / "declarations").glob("*.xlsx"))
    )


# --- findings as data (issue 10 part 1) -----------------------------------------------------------------


def findings(sub, code: str) -> list[dict]:
    found = [f.to_dict() for f in sub.findings if f.code == code]
    assert found, f"no finding {code!r}: {[f.code for f in sub.findings]}"
    return found


def test_findings_are_data_in_the_json_report(tmp_path):
    """A 'no' to 七(二)5(1) and a declared 95,000 above the 80,000 the inputs allow (800 元/kW × 100 kW):
    each finding has its code, severity, the article, the cells; the report keeps the rendered messages."""
    bad = set_cell(
        pv(inputs={"not_three_simultaneous": False}),
        "etown:27",
        "award",
        edit=lambda c: re.sub(r"<v>.*?</v>", "<v>95000</v>", c),
    )
    sub = review_bytes(tmp_path, bad)
    s, ref, _ = expected_content("etown:27").slots["not_three_simultaneous"]
    title = expected_content("etown:27").sheets[s][0]
    (condition,) = findings(sub, "eligibility")
    assert condition["severity"] == "problem" and condition["cites"] == "七(二)5(1)"
    assert condition["cells"] == [f"{title}!{ref}"] and condition["refers_to"] == []
    assert (
        condition["message"]["en"].startswith("Eligibility: ") and condition["message"]["zh"] == "资格：不符合申报条件"
    )
    (amount,) = findings(sub, "declared_amount")
    s, ref = expected_content("etown:27").award
    assert amount["cites"] == "五(十一)27" and amount["cells"] == [f"{expected_content('etown:27').sheets[s][0]}!{ref}"]
    assert "95,000.00 元 is above what the inputs allow, 0.00 元" in amount["message"]["en"]

    write_json([sub], tmp_path / "r.json")
    (entry,) = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert entry["problems"] == [str(p) for p in sub.problems] and entry["codes"] == ["eligibility", "declared_amount"]
    assert [f["code"] for f in entry["findings"]] == entry["codes"]
    assert all(f["severity"] == "problem" for f in entry["findings"])
    assert entry["sha256"] == hashlib.sha256((tmp_path / "d.xlsx").read_bytes()).hexdigest()


def test_sha256_of_each_file_even_refused(tmp_path):
    ok, junk = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    ok.write_bytes(pv())
    junk.write_bytes(b"PK not a zip")
    a, b = review_paths([ok, junk])
    assert a.sha256 == hashlib.sha256(ok.read_bytes()).hexdigest() and a.ok
    assert b.sha256 == hashlib.sha256(junk.read_bytes()).hexdigest() and b.refused == "damaged"


def test_batch_findings_refer_to_the_other_submissions(tmp_path):
    paths = write_all(tmp_path, {"a.xlsx": pv(), "b.xlsx": pv(project_name="另一个名称")})
    a, b = review_paths(paths)
    (dup,) = findings(a, "duplicate")
    assert dup["refers_to"] == [str(tmp_path / "b.xlsx")]
    (tmp_path / "caps").mkdir()
    paths = write_all(tmp_path / "caps", {"p1.xlsx": tz3(5_000_000, "P-101"), "p2.xlsx": tz3(5_000_000, "P-102")})
    for sub in review_paths(paths):
        (cap,) = findings(sub, "annual_cap")
        assert cap["severity"] == "warning" and cap["cites"] == "第十条" and sub.ok


def test_a_large_batch_lists_only_the_files_with_something_to_say(sample_folder, tmp_path, monkeypatch):
    """Above LIST_EVERY_FILE_UP_TO files the console lists the flagged ones and counts the rest: a batch of
    thousands must not scroll its failures out of sight. The sample's 67 with one tampered, limit 10."""
    from typer.testing import CliRunner

    import addin.review.command as command
    from addin.cli import app

    folder = tmp_path / "batch"
    shutil.copytree(sample_folder, folder)
    pv_file = next(folder.glob("*__etown-27__*.xlsx"))
    pv_file.write_bytes(set_cell(pv_file.read_bytes(), "etown:27", "award", '<c r="{ref}" s="15"><v>80000</v></c>'))
    monkeypatch.setattr(command, "LIST_EVERY_FILE_UP_TO", 10)
    result = CliRunner().invoke(app, ["review", str(folder), "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 1, result.output
    entries = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    flagged = [e for e in entries if e["problems"] or e["warnings"]]
    assert len(entries) == 67 and 1 <= len(flagged) < 67
    assert "FAIL" in result.output and "replaced by the constant 80000" in " ".join(result.output.split())
    said = " ".join(result.output.split())  # the console wraps at 80 columns
    assert f"The other {67 - len(flagged)} pass with nothing to say" in said
    quiet = next(Path(e["file"]).name for e in entries if not (e["problems"] or e["warnings"]))
    assert quiet[:12] not in result.output  # a file with nothing to say is not listed
