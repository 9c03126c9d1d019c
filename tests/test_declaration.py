"""Declaration workbooks: templates from the clause definitions, filled at the XML level, written in batches."""

from __future__ import annotations

import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from addin import declaration_template as dt
from addin.declaration import (
    DeclarationError,
    DeclarationsExist,
    Job,
    declare_frame,
    file_names,
    make_declaration,
    safe_part,
    write_job,
    write_jobs,
)
from policies import evaluate
from policies.engine import compiled

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
FIRST_INPUTS = {
    "etown:27": {"capacity_kw": 100, "ownership": "self"},
    "etown:10": {"boiler_grade": "A", "investment_yuan": 1000000, "budget_unit": "是", "no_government_funding": "否"},
    "tongzhou:3": {"investment_yuan": 10000000, "zone": "tongzhou"},
}


def book(data: bytes, **kw) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data), **kw)


def content(wb: openpyxl.Workbook) -> dict:
    """What a template holds: cells (value, type, locked), validations, names, protection, visibility."""
    sheets = {}
    for ws in wb.worksheets:
        cells = {
            c.coordinate: (c.value, c.data_type, c.protection.locked, c.number_format)
            for row in ws.iter_rows()
            for c in row
            if c.value is not None or not c.protection.locked
        }
        validations = sorted(
            (str(v.sqref), v.type, v.operator, v.formula1, v.formula2) for v in ws.data_validations.dataValidation
        )
        sheets[ws.title] = (ws.sheet_state, ws.protection.sheet, ws.protection.password, cells, validations)
    names = {name: dn.attr_text for name, dn in wb.defined_names.items()}
    return {"sheets": sheets, "names": names}


@pytest.mark.slow
@pytest.mark.parametrize("clause_id", dt.monetary_clause_ids())
def test_committed_template_equals_what_the_generator_makes(clause_id):
    committed = dt.TEMPLATES / dt.template_name(clause_id)
    assert committed.exists(), f"{committed.name} missing: run python -m addin.declaration_template"
    assert content(book(committed.read_bytes())) == content(book(dt.template_bytes(clause_id))), (
        f"{committed.name} is stale: run python -m addin.declaration_template"
    )


@pytest.mark.slow
def test_layouts_read_from_the_templates_names_equal_what_the_generator_makes(monkeypatch):
    """No layout file is committed beside the templates: their defined names are the layout (issue 10)."""
    assert not list(dt.TEMPLATES.glob("*.json"))
    generated = {c: dt.build_cached(c)[1] for c in dt.monetary_clause_ids()}
    dt.layout.cache_clear()
    monkeypatch.setattr(
        dt.sheets, "build_cached", lambda c: pytest.fail(f"{c}: a workbook was built to learn a layout")
    )
    try:
        assert {c: dt.layout(c) for c in generated} == generated
    finally:
        dt.layout.cache_clear()
    names = dt.defined_names((dt.TEMPLATES / dt.template_name("etown:10")).read_bytes())
    assert names["ENTERPRISE_NAME"] == (1, "B3") and names["in_boiler_grade"][0] == 2 and "AWARD" in names
    assert {"cover_award", "check_zone", "rule_0", "stage_0_amount", "granted_note"} <= set(names)


def test_no_stray_templates():
    expected = {dt.template_name(c) for c in dt.monetary_clause_ids()}
    assert {p.name for p in dt.TEMPLATES.glob("declaration_*.xlsx")} == expected


def test_generation_is_deterministic():
    assert dt.template_bytes("etown:10") == dt.template_bytes("etown:10")
    with zipfile.ZipFile(io.BytesIO(dt.template_bytes("etown:10"))) as z:
        assert {i.date_time for i in z.infolist()} == {dt.FIXED_TIME}
        assert b"dcterms:created" not in z.read("docProps/core.xml")
    one, _ = make_declaration("etown:27", FIRST_INPUTS["etown:27"], DETAILS)
    two, _ = make_declaration("etown:27", FIRST_INPUTS["etown:27"], DETAILS)
    assert one == two


@pytest.mark.parametrize("clause_id", ["etown:10", "beijing:8", "tongzhou:5.2", "etown:32"])
def test_names_protection_and_metadata(clause_id):
    cc = compiled(clause_id)
    wb = book(dt.template_bytes(clause_id))
    names = dict(wb.defined_names.items())
    for name in ("CLAUSE_ID", "AWARD", "ENTERPRISE_NAME", "USCC", *(f"in_{n}" for n in cc.specs)):
        assert name in names, name
        sheet, ref = next(names[name].destinations)
        assert wb[sheet][ref.replace("$", "")] is not None
    lay = dt.layout(clause_id)
    for key, (s, ref, _kind) in lay.slots.items():
        locked = wb.worksheets[s][ref].protection.locked
        assert locked == (key == "granted_note"), key  # inputs unlocked; the generator's note locked
    for s, ref in lay.formulas.values():
        cell = wb.worksheets[s][ref]
        assert cell.data_type == "f" and cell.protection.locked
    for ws in wb.worksheets:
        assert ws.protection.sheet and not ws.protection.password
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.data_type == "s":
                    assert c.protection.locked
    meta = {r[0]: r[1] for r in wb["meta"].iter_rows(min_row=2, values_only=True)}
    assert wb["meta"].sheet_state == "hidden" and wb["lists"].sheet_state == "hidden"
    assert meta["template_version"] == dt.TEMPLATE_VERSION
    assert meta["policy_encoding_version"] == cc.policy.encoding_version
    assert meta["clause_id"] == cc.id


def test_inputs_come_from_the_definition_with_validation():
    cc = compiled("etown:27")
    wb = book(dt.template_bytes("etown:27"))
    ws = wb.worksheets[2]
    lay = dt.build("etown:27")[1]
    rows = {name: int(ref[1:]) for name, (s, ref, _) in lay.slots.items() if s == 2}
    for name, spec in cc.clause.inputs.items():
        r = rows[name]
        assert ws[f"A{r}"].value == f"{spec.label.zh}\n{spec.label.en}"
    validations = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    capacity = next(v for k, v in validations.items() if f"C{rows['capacity_kw']}" in k.split())
    assert capacity.type == "decimal" and capacity.operator == "greaterThanOrEqual" and capacity.formula1 == "0"
    ownership = next(v for k, v in validations.items() if f"C{rows['ownership']}" in k.split())
    assert ownership.type == "list" and ownership.formula1 == '"自有,第三方投资,第三方投资且场地业主为财政预算拨款单位"'
    conditions = [v for v in validations.values() if v.formula1 == '"是,否"']
    assert conditions  # each condition a yes/no question
    for name, condition in cc.conditions.items():
        assert ws[f"A{rows[name]}"].value == condition.label.zh


def test_a_long_list_comes_from_the_hidden_sheet(monkeypatch):
    monkeypatch.setattr(dt.sheets, "LIST_LIMIT", 20)  # where the choices are written
    wb, lay = dt.build("etown:28")
    ws = wb.worksheets[2]
    ref = lay.slots["heating_technology"][1]
    dv = next(v for v in ws.data_validations.dataValidation if ref in str(v.sqref).split())
    assert dv.formula1.startswith("'lists'!$")
    values = [c.value for c in wb["lists"][re.search(r"\$([A-Z]+)\$", dv.formula1)[1]][1:]]
    assert values == [label.zh for label in compiled("etown:28").clause.inputs["heating_technology"].values.values()]


@pytest.mark.slow
@pytest.mark.parametrize("clause_id", dt.monetary_clause_ids())
def test_the_untouched_file_carries_the_cores_amount(clause_id):
    """openpyxl does not recalculate: it reads the cached values the generator wrote."""
    cc = compiled(clause_id)
    inputs = FIRST_INPUTS.get(clause_id) or {
        n: ({"ratio": 0.03, "bool": None, "choice": None}.get(s.type, 1))
        for n, s in cc.clause.inputs.items()
        if s.default is None
    }
    inputs = {k: v for k, v in inputs.items() if v is not None}
    for name, spec in cc.clause.inputs.items():
        if spec.type == "choice" and name not in inputs and spec.default is None:
            inputs[name] = next(iter(spec.values))
    if clause_id == "etown:19":
        inputs.update(fleet_size=10, nev_count=9)
    try:
        award = evaluate(clause_id, on=2025, **inputs)
    except Exception as exc:  # a cross-field check the generic inputs break
        pytest.skip(str(exc))
    data, made = make_declaration(clause_id, inputs, DETAILS)
    assert made.amount == award.amount
    wb = book(data, data_only=True)
    sheet, ref = next(wb.defined_names["AWARD"].destinations)
    assert wb[sheet][ref.replace("$", "")].value == float(award.amount)


def test_formula_injection_text_stays_text():
    hostile = {
        **DETAILS,
        "enterprise": '=HYPERLINK("http://x","a")',
        "project_name": "=1+1",
        "address": "+86 @SUM(A1)",
        "contact": "-2+3",
        "phone": "@cmd|' /C calc'!A0",
        "project": "=P1",
    }
    data, _ = make_declaration("etown:27", FIRST_INPUTS["etown:27"], hostile)
    wb = book(data)
    lay = dt.layout("etown:27")
    for key in ("enterprise", "project_name", "address", "contact", "phone", "project"):
        s, ref, _ = lay.slots[key]
        cell = wb.worksheets[s][ref]
        assert cell.value == hostile[key] and cell.data_type == "s", key
    raw = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml").decode()
    assert "<f>1+1</f>" not in raw and "<f>HYPERLINK" not in raw


def test_control_characters_do_not_break_the_xml():
    data, _ = make_declaration("etown:27", FIRST_INPUTS["etown:27"], {**DETAILS, "address": "a\x00b\x1fc<&>"})
    wb = book(data)
    s, ref, _ = dt.layout("etown:27").slots["address"]
    assert wb.worksheets[s][ref].value == "abc<&>"


def test_a_row_lacking_details_is_refused_with_the_reason():
    with pytest.raises(DeclarationError, match="address"):
        make_declaration("etown:27", FIRST_INPUTS["etown:27"], {**DETAILS, "address": " "})
    with pytest.raises(DeclarationError, match="uscc"):
        make_declaration("etown:27", FIRST_INPUTS["etown:27"], {**DETAILS, "uscc": "91350100M000100Y44"})
    with pytest.raises(DeclarationError, match="start_date"):
        make_declaration("etown:3", {"investment_yuan": 1}, {**DETAILS, "start_date": ""})


def _job(name: str, row: int = 0, enterprise: str = "甲公司") -> Job:
    return Job(row, "etown:27", {"capacity_kw": "100"}, {**DETAILS, "enterprise": enterprise}, "核定 granted", name)


def test_overwrite_refused_unless_asked(tmp_path):
    first = write_job(_job("a.xlsx"), str(tmp_path), False)
    assert first.error is None and Path(first.path).exists()
    before = Path(first.path).read_bytes()
    again = write_job(_job("a.xlsx", enterprise="乙公司"), str(tmp_path), False)
    assert again.error and "exists" in again.error
    assert Path(first.path).read_bytes() == before
    replaced = write_job(_job("a.xlsx", enterprise="乙公司"), str(tmp_path), True)
    assert replaced.error is None and Path(first.path).read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["a.xlsx"]  # no temporary file left behind


def test_parallel_writers_of_one_name_clash_and_one_wins(tmp_path):
    jobs = [_job("same.xlsx", row=i, enterprise=f"公司{i}") for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda j: write_job(j, str(tmp_path), False), jobs))
    assert sum(o.error is None for o in outcomes) == 1
    assert all("exists" in o.error for o in outcomes if o.error)
    with ThreadPoolExecutor(4) as pool:  # through the batch writer with an injected executor
        outcomes = write_jobs(jobs, tmp_path / "b", executor=pool, workers=4)
    assert sum(o.error is None for o in outcomes) == 1 and len(outcomes) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "same.xlsx"]


def test_file_names_are_unique_sortable_and_windows_safe():
    keys = [
        ("甲:公司", "", "P1", "etown:27", 2025),
        ("甲_公司", "", "P1", "etown:27", 2025),  # the same name once made safe
        ("ABC", "", "p/1", "tongzhou:5.1", 2025),
        ("abc", "", "P/1", "tongzhou:5.1", 2025),  # differs only in case (Windows ignores case)
        ("CON", "", "P2. ", "beijing:8", None),
    ]
    names = file_names(keys)
    assert len({n.casefold() for n in names}) == len(names)
    for name in names:
        assert not re.search(r'[<>:"/\\|?*\x00-\x1f]', name) and name.endswith(".xlsx")
        assert not name.startswith(("CON.", "CON__"))
    assert names[0].startswith("甲_公司__P1__etown-27__2025__")
    assert names[4] == "_CON__P2__beijing-8.xlsx"
    assert safe_part("a. . ", 10) == "a"


def portfolio_rows() -> list[dict]:
    base = {k: v for k, v in DETAILS.items() if k != "year"}
    return [
        {**base, "project": "P1", "clause": "etown:27", "year": "2025", "capacity_kw": "100"},
        {**base, "project": "P2", "clause": "etown:27", "year": "2025", "capacity_kw": "100", "address": ""},
        {
            **base,
            "project": "P3",
            "clause": "etown:1",
            "year": "2025",
            "rd_investment_yuan": "100",
            "after_review": "否",
        },
        {
            **base,
            "enterprise": "通州公司",
            "uscc": "91110112MA0000000X",
            "project": "T1",
            "clause": "tongzhou:3",
            "year": "2025",
            "zone": "tongzhou",
            "investment_yuan": "10000000",
        },
        {
            **base,
            "enterprise": "通州公司",
            "uscc": "91110112MA0000000X",
            "project": "T2",
            "clause": "tongzhou:3",
            "year": "2025",
            "zone": "tongzhou",
            "investment_yuan": "10000000",
        },
        {**base, "project": "P9", "clause": "nope:1", "year": "2025"},
    ]


def _valid_uscc(first17: str) -> str:
    from policies.uscc import check_character

    return first17 + check_character(first17)


def test_declare_a_portfolio(tmp_path):
    rows = portfolio_rows()
    code = _valid_uscc("91110112MA0000000")
    for row in rows[3:5]:
        row["uscc"] = code
    with ThreadPoolExecutor(2) as pool:
        batch = declare_frame(pd.DataFrame(rows).fillna(""), tmp_path, executor=pool, workers=2)
    written = sorted(Path(o.path).name for o in batch.written)
    assert len(written) == 3  # P1, and both capped Tongzhou claims
    assert all(":" not in n for n in written) and any("etown-27" in n for n in written)
    assert [(r, re.search("address", why) is not None) for r, _, why in batch.problems] == [(1, True)]
    assert batch.skipped == {"ineligible": 1, "invalid": 1}
    capped = [o for o in batch.written if "tongzhou" in o.path]
    assert len(capped) == 2 and all(o.amount == Decimal("2000000.00") for o in capped)
    wb = book(Path(capped[0].path).read_bytes(), data_only=True)
    s, ref, _ = dt.layout("tongzhou:3").slots["granted_note"]
    note = wb.worksheets[s][ref].value
    assert "封顶" in note and "1,000,000.00" in note
    with pytest.raises(DeclarationsExist, match="3 of the 3 declarations exist"):  # before any work, nothing written
        declare_frame(pd.DataFrame(rows).fillna(""), tmp_path, workers=1)
    assert [r for r, _, _ in batch.invalid] == [5] and "nope:1" in batch.invalid[0][2]


@pytest.mark.slow
def test_the_demo_declares_every_monetary_clause(tmp_path):
    from rich.console import Console

    from addin.demo import run_demo

    assert run_demo(tmp_path, console=Console(file=io.StringIO()), pdf=False) == 0  # PDFs: test_declaration_print
    files = sorted((tmp_path / "declarations").glob("*.xlsx"))
    declared = {f.name.split("__")[2] for f in files}
    assert declared == {c.replace(":", "-") for c in dt.monetary_clause_ids()}


def test_declare_command(tmp_path):
    from typer.testing import CliRunner

    from addin.cli import app

    rows = portfolio_rows()[:2]
    pd.DataFrame(rows).fillna("").to_csv(tmp_path / "claims.csv", index=False)
    runner = CliRunner()
    first = runner.invoke(app, ["declare", str(tmp_path / "claims.csv"), "-o", str(tmp_path / "out"), "--workers", "1"])
    assert first.exit_code == 1, first.output  # one row lacks its address: reported, the other written
    assert "address" in first.output and "written" in first.output
    assert len(list((tmp_path / "out").glob("*.xlsx"))) == 1
    again = runner.invoke(app, ["declare", str(tmp_path / "claims.csv"), "-o", str(tmp_path / "out"), "--workers", "1"])
    assert again.exit_code == 2 and "1 of the 1 declarations exist" in again.output
    forced = runner.invoke(app, ["declare", str(tmp_path / "claims.csv"), "-o", str(tmp_path / "out"), "--overwrite"])
    assert "exists" not in forced.output


# --- the command as users run it: long names, failures per row, one-line refusals, permissions --------

LONG_ENTERPRISE = (
    "北京经济技术开发区" + "绿色低碳智能制造与新能源科技发展" * 5 + "有限责任公司"
)  # 94 characters, 282 bytes
LONG_PROJECT = "年产十万套新能源汽车动力电池系统分布式光伏发电及储能一体化示范" * 3  # 90 characters


def test_long_names_are_cut_by_bytes_never_inside_a_character_and_stay_unique():
    keys = [
        (LONG_ENTERPRISE, "", LONG_PROJECT + "一期", "etown:27", 2025),
        (LONG_ENTERPRISE, "", LONG_PROJECT + "二期", "etown:27", 2025),  # differs only after the cut
        ("😀" * 40, "", "a" * 300, "beijing:2.1", None),  # 4-byte characters, a long ASCII part
        ("甲公司", "", "P1", "etown:27", 2025),  # short: as before, no hash
    ]
    names = file_names(keys)
    assert len(set(names)) == 4 and names[3] == "甲公司__P1__etown-27__2025.xlsx"
    for name in names:
        encoded = name.encode("utf-8")
        assert len(encoded) <= 200 and encoded.decode("utf-8") == name and name.endswith(".xlsx")
    for name, (_, _, _, clause, year) in zip(names[:3], keys):  # the clause and year survive, a hash is added
        parts = name.removesuffix(".xlsx").split("__")
        assert parts[2] == clause.replace(":", "-") and re.fullmatch(r"[0-9a-f]{8}", parts[-1])
        assert year is None or parts[3] == str(year)
    assert file_names(keys) == names  # deterministic


def declare_cli(monkeypatch, *args: str):
    """``green-award declare`` through typer's runner with the progress bar drawn, as in a terminal."""
    from typer.testing import CliRunner

    from addin import cli

    monkeypatch.setattr(cli.console, "is_interactive", True)
    return CliRunner().invoke(cli.app, ["declare", *args])


def claims_csv(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).fillna("").to_csv(path, index=False)
    return path


def etown_rows(n: int, **extra) -> list[dict]:
    base = {k: v for k, v in DETAILS.items() if k != "year"}
    return [
        {**base, "project": f"P{i:04d}", "clause": "etown:27", "year": "2025", "capacity_kw": "100", **extra}
        for i in range(n)
    ]


def test_declare_writes_long_chinese_names(tmp_path, monkeypatch):
    rows = etown_rows(2, enterprise=LONG_ENTERPRISE)
    rows[0]["project"], rows[1]["project"] = LONG_PROJECT + "一期", LONG_PROJECT + "二期"
    result = declare_cli(monkeypatch, str(claims_csv(tmp_path / "claims.csv", rows)), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 2 and all(len(f.name.encode()) <= 200 for f in files)
    wb = book(files[0].read_bytes(), data_only=True)
    lay = dt.layout("etown:27")
    s, ref, _ = lay.slots["enterprise"]
    assert wb.worksheets[s][ref].value == LONG_ENTERPRISE  # the name is cut, the declaration's text is not
    s, ref = lay.formulas["award"]
    assert wb.worksheets[s][ref].value == 80000


def test_a_row_that_cannot_be_written_is_that_rows_problem(tmp_path, monkeypatch):
    csv = claims_csv(tmp_path / "claims.csv", etown_rows(3))
    out = tmp_path / "out"
    first = declare_cli(monkeypatch, str(csv), "-o", str(out), "--workers", "1")
    assert first.exit_code == 0, first.output
    blocked = sorted(out.iterdir())[1]
    blocked.unlink()
    blocked.mkdir()  # a folder where a declaration goes: it cannot be replaced
    again = declare_cli(monkeypatch, str(csv), "-o", str(out), "--overwrite", "--workers", "1")
    assert again.exit_code == 1, again.output
    assert "row 3" in again.output and "it is a folder" in again.output and "Traceback" not in again.output
    assert blocked.is_dir() and len(list(out.glob("*.xlsx"))) == 3  # the other two rewritten, the folder kept


def test_declare_exits_1_when_a_row_is_invalid_and_says_why(tmp_path, monkeypatch):
    rows = etown_rows(2)
    rows[1]["clause"] = "etown:999"
    result = declare_cli(monkeypatch, str(claims_csv(tmp_path / "claims.csv", rows)), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert "row 3" in result.output and "etown:999" in result.output
    assert len(list((tmp_path / "out").glob("*.xlsx"))) == 1


def test_declare_into_a_folder_of_its_files_is_one_line_and_exit_2(tmp_path, monkeypatch):
    csv = claims_csv(tmp_path / "claims.csv", etown_rows(70))
    out = tmp_path / "out"
    assert declare_cli(monkeypatch, str(csv), "-o", str(out), "--workers", "1").exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = declare_cli(monkeypatch, str(csv), "-o", str(out))
    lines = [line for line in again.output.strip().splitlines() if not line.startswith("读取 Read:")]
    assert again.exit_code == 2 and len(lines) == 1, again.output
    assert "70 of the 70 declarations exist" in lines[0] and "--overwrite" in lines[0]
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before  # nothing written


def test_declare_onto_a_file_is_one_line_and_exit_2(tmp_path, monkeypatch):
    csv = claims_csv(tmp_path / "claims.csv", etown_rows(2))
    (tmp_path / "taken.xlsx").write_bytes(b"mine")
    result = declare_cli(monkeypatch, str(csv), "-o", str(tmp_path / "taken.xlsx"))
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "it is a file; give a folder" in result.output
    assert (tmp_path / "taken.xlsx").read_bytes() == b"mine"


def test_declarations_get_the_mode_the_umask_gives(tmp_path, monkeypatch):
    import os
    import stat

    csv = claims_csv(tmp_path / "claims.csv", etown_rows(40))
    old = os.umask(0o022)
    try:
        result = declare_cli(monkeypatch, str(csv), "-o", str(tmp_path / "out"), "--workers", "2")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir()}
    assert modes == {0o644}


def test_declare_lists_twenty_rows_not_declared_and_counts_the_rest(tmp_path, monkeypatch):
    rows = etown_rows(123)
    for row in rows[3:]:
        row["capacity_kw"] = "-5"  # 120 invalid rows
    result = declare_cli(
        monkeypatch, str(claims_csv(tmp_path / "claims.csv", rows)), "-o", str(tmp_path / "out"), "--workers", "1"
    )
    assert result.exit_code == 1, result.output
    listed = [line for line in result.output.splitlines() if line.startswith("row ")]
    assert [line.split()[1] for line in listed] == [str(r) for r in range(5, 25)]  # rows 5-24: the first 20
    assert "… 100 more row(s) not declared (rows 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, …)" in result.output
    assert len(result.output.splitlines()) < 60 and len(list((tmp_path / "out").glob("*.xlsx"))) == 3


def test_declares_bar_knows_its_total_from_the_start(tmp_path):
    from addin.declaration import declare_frame

    seen: list[tuple[int, int]] = []
    declare_frame(
        pd.read_csv(claims_csv(tmp_path / "c.csv", etown_rows(3)), dtype=str),
        tmp_path / "out",
        workers=1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_the_batch_bar_shows_only_once_it_has_a_count():
    """Nothing while a batch is prepared (the declare of a table with no declaration to make drew "0/?"),
    then the count with its total."""
    import io

    from rich.console import Console

    from addin.progress import progress_bar

    unused, counted = io.StringIO(), io.StringIO()
    with progress_bar(Console(file=unused, force_terminal=True, width=80), "申报表 Declarations"):
        pass
    with progress_bar(Console(file=counted, force_terminal=True, width=80), "申报表 Declarations") as advance:
        advance(0, 3)
        advance(2, 3)
    assert unused.getvalue() == ""
    shown = counted.getvalue()
    assert "0/3" in shown and "2/3" in shown and "/?" not in shown
