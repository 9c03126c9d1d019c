"""``green-award excel``: the model workbook, its cached values, the committed copy, the command.

The cached values are what a spreadsheet without Python shows. They are held to the case tables
(tests/cases) for the awards, to the core for every worksheet-function cell, and to LibreOffice,
an independent engine, for every plain formula (NPV, IRR, SUMIFS, the guards).
"""

from __future__ import annotations

import html
import re
import subprocess
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

import udfs
from addin.cli import app
from addin.excel import (
    BEST,
    CONF,
    EXPLAIN,
    FUNCTIONS,
    INPUTS,
    MODEL,
    PROJECTS,
    QUICKSTART,
    REFORM_ROWS,
    SPREADSHEET_FUNCTIONS,
    TEMPLATE,
    Layout,
    evaluate_formula,
    formula_cells,
    function_names,
    reference_markdown,
    reference_rows,
    workbook_content,
    worksheet_functions,
    write_model_workbook,
)
from addin.files import OutputExistsError
from policies.engine import compiled
from policies.inputs import coercer

ROOT = Path(__file__).resolve().parent.parent
CUSTOM = {f.__name__ for f in worksheet_functions()}
LAY = Layout()


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    return write_model_workbook(tmp_path_factory.mktemp("excel") / "model.xlsm")


@pytest.fixture(scope="module")
def values(written: Path):
    return load_workbook(written, keep_vba=True, data_only=True)


@pytest.fixture(scope="module")
def cells(written: Path):
    return formula_cells(written)


def test_the_committed_copy_equals_what_the_command_writes(written: Path) -> None:
    assert TEMPLATE.exists(), "run: green-award excel -o workbook_templates/green_award_model.xlsm --overwrite"
    assert workbook_content(TEMPLATE) == workbook_content(written)


def test_the_output_is_deterministic(written: Path, tmp_path: Path) -> None:
    again = write_model_workbook(tmp_path / "again.xlsm")
    assert again.read_bytes() == written.read_bytes()


def test_built_on_the_xlwings_quickstart_workbook(written: Path) -> None:
    with zipfile.ZipFile(QUICKSTART) as original, zipfile.ZipFile(written) as ours:
        assert ours.read("xl/vbaProject.bin") == original.read("xl/vbaProject.bin")
        types = ours.read("[Content_Types].xml").decode()
        assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types


def conf_settings(ws) -> dict:
    """The settings as xlwings reads them: column A from A1 down to the first empty cell, values in B."""
    settings = {}
    for row in ws.iter_rows(min_row=1, max_col=2):
        if row[0].value in (None, ""):
            break
        settings[row[0].value] = row[1].value
    return settings


def test_the_xlwings_conf_sheet_names_the_module_and_no_interpreter(written: Path) -> None:
    wb = load_workbook(written, keep_vba=True)
    assert conf_settings(wb[CONF]) == {"UDF Modules": "udfs"}
    assert "_xlwings.conf" not in wb.sheetnames


def test_the_workbook_asks_for_no_recalculation_on_load(written: Path) -> None:
    xml = zipfile.ZipFile(written).read("xl/workbook.xml").decode()
    calc = re.search(r"<calcPr[^>]*>", xml)[0]
    assert 'fullCalcOnLoad="1"' not in calc
    assert int(re.search(r'calcId="(\d+)"', calc)[1]) >= 191029  # not below any Excel's engine: no recalculation


def test_every_formula_cell_carries_a_cached_value(written: Path, cells) -> None:
    with zipfile.ZipFile(written) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    formulas = sum(len(re.findall(r"<f[ >]", xml)) for xml in sheets)
    without = [m for xml in sheets for m in re.findall(r'<c r="([A-Z]+\d+)"[^>]*><f[^>]*>[^<]*</f></c>', xml)]
    assert formulas == len(cells) > 300 and not without, without[:5]
    assert any(function_names(c.formula) & CUSTOM for c in cells)


def test_no_legacy_array_formulas_libreoffice_would_recalculate(cells) -> None:
    # LibreOffice 7.4 recalculates array formulas on load (their cached values are ignored), so a
    # worksheet function in one shows #NAME? without Python; every cell is a normal formula instead.
    assert not [c for c in cells if c.block]


def test_function_cells_recomputed_by_the_core_equal_their_cached_values(cells, values) -> None:
    memo: dict = {}
    checked = 0
    for c in cells:
        if not function_names(c.formula) & CUSTOM:
            continue
        recomputed = evaluate_formula(c.formula, lambda sheet, ref, c=c: values[sheet or c.sheet][ref].value, memo)
        assert recomputed == (c.cached if c.cached is not None else ""), (c.sheet, c.ref, c.formula)  # "" reads as None
        checked += 1
    assert checked > 200


def _canonical(clause: str, inputs: dict) -> dict:
    specs = compiled(clause).specs
    return {name: coercer(specs[name])(value) for name, value in inputs.items()}


def _cases() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for path in (ROOT / "tests" / "cases").glob("*.yaml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")):
            out.setdefault(block["clause"], []).extend(block["cases"])
    return out


def test_cached_awards_and_payments_equal_the_case_tables(values) -> None:
    ws = values[MODEL]
    cases = _cases()
    for k, project in enumerate(PROJECTS):
        pr, ir = LAY.first + k, LAY.inputs + k
        clause = ws[f"I{pr}"].value
        inputs = {}
        for n in range(3):
            name = ws.cell(row=ir, column=2 + 2 * n).value
            if name:
                inputs[name] = ws.cell(row=ir, column=3 + 2 * n).value
        given = _canonical(clause, inputs)
        matching = [case for case in cases[clause] if "on" not in case and _canonical(clause, case["inputs"]) == given]
        assert matching, f"{project.name}: no case of {clause} has the inputs {given}"
        case = matching[0]
        assert Decimal(str(ws[f"H{ir}"].value)) == Decimal(str(case["amount"])), project.name
        if "payments" in case:
            stages = [ws[f"E{r}"].value for r in range(payments_top(values) + 2 * k, payments_top(values) + 2 * k + 2)]
            assert [Decimal(str(v)) for v in stages if v not in ("", None)] == [
                Decimal(str(p)) for p in case["payments"]
            ], project.name


def payments_top(values) -> int:
    ws = values[MODEL]
    title = next(r for r in range(1, ws.max_row) if str(ws[f"A{r}"].value or "").startswith("3 兑现安排"))
    return title + 2


def test_the_clause_dropdown_shows_chinese_labels_with_the_english_and_id_beside(written: Path, values) -> None:
    wb = load_workbook(written, keep_vba=True)
    ws = wb[MODEL]
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation if "G7" in str(dv.sqref)}
    assert len(lists) == 1 and "Lists" in lists.pop()
    for k, project in enumerate(PROJECTS):
        r = LAY.first + k
        label, english, clause = (values[MODEL][f"{c}{r}"].value for c in "GHI")
        assert re.search(r"[\u4e00-\u9fff]", label) and clause == project.clause
        assert english == udfs.AWARD_CLAUSES()[[row[0] for row in udfs.AWARD_CLAUSES()].index(clause)][3]


def test_every_input_cell_is_validated_with_a_chinese_prompt(written: Path) -> None:
    ws = load_workbook(written, keep_vba=True)[MODEL]
    covered = set()
    for dv in ws.data_validations.dataValidation:
        assert dv.showInputMessage and re.search(r"[\u4e00-\u9fff]", dv.prompt or "") and dv.promptTitle, dv.sqref
        if dv.type is not None:
            assert re.search(r"[\u4e00-\u9fff]", dv.error or ""), dv.sqref
        for part in str(dv.sqref).split():
            for row in ws[part] if ":" in part else [[ws[part]]]:
                for cell in row:
                    covered.add(cell.coordinate)
    inputs = {c.coordinate for row in ws.iter_rows() for c in row if c.fill.fgColor.rgb == "00FFF2CC"}
    assert inputs and inputs <= covered, sorted(inputs - covered)[:5]


def test_totals_refuse_to_add_up_with_rows_not_a_count(written: Path) -> None:
    ws = load_workbook(written, keep_vba=True)[MODEL]
    total = LAY.inputs_last + 1
    awards = f"H{LAY.inputs}:H{LAY.inputs_last}"
    assert ws[f"H{total}"].value == f"=IF(COUNT({awards})=ROWS({awards}),SUM({awards}),NA())"
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and "COUNT(" in cell.value:
                assert not re.search(r"COUNT\([^)]*\)=\d", cell.value), (cell.coordinate, cell.value)


def test_the_chart_plots_subsidy_by_year_and_policy(written: Path) -> None:
    with zipfile.ZipFile(written) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = z.read(charts[0]).decode()
    assert len(re.findall(r"<(?:c:)?ser>", xml)) == 3 and re.search(r'grouping val="stacked"', xml)
    assert "组合 Portfolio" in html.unescape(xml)


def test_the_reference_sheet_lists_every_function_as_the_code_has_it(written: Path) -> None:
    ws = load_workbook(written, keep_vba=True)[FUNCTIONS]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_col=4)]
    assert rows == reference_rows()
    names = [r[0] for r in rows]
    assert {"PORTFOLIO_AWARDS", "AWARD_WHATIF", "AWARD_MATCH"} <= set(names) and len(names) == len(CUSTOM) == 20
    assert set(names) == {n for n in udfs.__all__ if n.isupper() and n != "WORKSHEET_FUNCTIONS"}


def test_the_docs_reference_is_the_code_s() -> None:
    text = (ROOT / "docs" / "excel.md").read_text(encoding="utf-8")
    assert reference_markdown() in text, (
        "regenerate docs/excel.md's function reference from addin.excel.reference_markdown()"
    )


def test_explain_and_inputs_sheets_show_the_core_s_lines(values) -> None:
    explain = [c.value for row in values[EXPLAIN].iter_rows() for c in row if isinstance(c.value, str)]
    assert sum(line.startswith("决定金额 Binding") for line in explain) == len(PROJECTS)
    inputs = values[INPUTS]
    assert [inputs[f"A{r}"].value for r in range(5, 8)] == ["capacity_kw", "ownership", "applicant"]


def test_best_clause_from_the_portfolio_rules(values) -> None:
    model, best = values[MODEL], values[BEST]
    suggestions = {model[f"A{LAY.inputs + k}"].value: model[f"J{LAY.inputs + k}"].value for k in range(len(PROJECTS))}
    assert suggestions["燃气锅炉A级 Gas boiler to grade A"] == "etown:10"
    rows = {
        (best[f"A{r}"].value, best[f"B{r}"].value): (best[f"D{r}"].value, best[f"E{r}"].value) for r in range(6, 16)
    }
    assert rows[("燃气锅炉A级 Gas boiler to grade A", "etown:10")] == (500_000, 500_000)
    assert rows[("燃气锅炉A级 Gas boiler to grade A", "etown:9")] == (
        300_000,
        0,
    )  # 30%, superseded by the better clause


def whatif_rows(ws) -> tuple[int, int]:
    """The what-if block's reform table row and its projects' first row (found by the section's title)."""
    title = next(r for r in range(1, ws.max_row) if str(ws[f"A{r}"].value or "").startswith("6 假设情景"))
    return title + 2, title + 2 + REFORM_ROWS + 2


def test_the_what_if_block_under_1000_yuan_per_kw_from_2027(written: Path, values) -> None:
    ws = values[MODEL]
    reform, first = whatif_rows(ws)
    assert [ws[f"{c}{reform}"].value for c in "ABC"] == ["etown:27.per_kw", 1000, datetime(2027, 1, 1)]
    assert all(ws[f"{c}{r}"].value is None for c in "ABC" for r in range(reform + 1, reform + REFORM_ROWS))
    # etown:27: 每千瓦800元, 100 kW self-owned: 80,000.00; under 1,000 元/kW from 2027-01-01: 100,000.00
    # for a claim in 2027 (its 31 December), the policy's 80,000.00 for a claim before 2027
    per_kw, reformed, kw = Decimal(800), Decimal(1000), Decimal(100)
    expected = {
        "屋顶光伏 Rooftop PV": (2025, kw * per_kw, kw * per_kw),
        "二期屋顶光伏 Rooftop PV, phase 2": (2027, kw * per_kw, kw * reformed),
    }
    rows = {ws[f"A{first + k}"].value: first + k for k in range(len(PROJECTS))}
    assert list(rows) == [p.name for p in PROJECTS]
    for name, r in rows.items():
        year, baseline, whatif = (ws[f"{c}{r}"].value for c in "CDE")
        award = ws[f"H{LAY.inputs + [p.name for p in PROJECTS].index(name)}"].value
        if name in expected:
            assert (year, Decimal(str(baseline)), Decimal(str(whatif))) == expected[name], name
        else:  # the reform sets a parameter of etown:27 only
            assert whatif == baseline == award, name
        assert Decimal(str(ws[f"F{r}"].value)) == Decimal(str(whatif)) - Decimal(str(baseline)), name
    total = first + len(PROJECTS)
    assert ws[f"D{total}"].value == ws[f"H{LAY.inputs_last + 1}"].value == 6_060_000
    assert ws[f"E{total}"].value == 6_080_000 and ws[f"F{total}"].value == 20_000


def test_the_what_if_depends_on_the_claim_day_and_the_table(written: Path, values) -> None:
    """The phase-2 PV's AWARD_WHATIF cell, recomputed with another claim year or reform table."""
    formulas = load_workbook(written, keep_vba=True)[MODEL]
    ws = values[MODEL]
    reform, first = whatif_rows(ws)
    r = first + [p.name for p in PROJECTS].index("二期屋顶光伏 Rooftop PV, phase 2")
    formula = formulas[f"E{r}"].value
    assert formula.startswith(f"=AWARD_WHATIF($A${reform}:$C${reform + REFORM_ROWS - 1},") and f'"on",C{r})' in formula

    def award(changed: dict[str, object]) -> float:
        def lookup(sheet, ref):
            if sheet in (None, MODEL) and ref in changed:
                return changed[ref]
            return values[sheet or MODEL][ref].value

        return evaluate_formula(formula, lookup)

    assert award({}) == 100_000
    assert award({f"C{r}": 2026}) == 80_000  # 31 December 2026: before the reform
    assert award({f"C{reform}": datetime(2028, 1, 1)}) == 80_000  # the reform not yet in force in 2027
    assert award({f"C{reform}": None}) == 100_000  # no date: every day
    assert award({f"A{reform}": None, f"B{reform}": None, f"C{reform}": None}) == 80_000  # an empty table: the policy


def test_the_what_if_inputs_are_validated_and_its_totals_guarded(written: Path) -> None:
    ws = load_workbook(written, keep_vba=True)[MODEL]
    reform, first = whatif_rows(ws)
    kinds = {}
    for dv in ws.data_validations.dataValidation:
        for column in "ABC":
            if f"{column}{reform}:{column}{reform + REFORM_ROWS - 1}" in str(dv.sqref):
                kinds[column] = dv.type
    assert kinds == {"A": "list", "B": "decimal", "C": "date"}
    last = first + len(PROJECTS) - 1
    for column in "DEF":
        cells = f"{column}{first}:{column}{last}"
        assert ws[f"{column}{last + 1}"].value == f"=IF(COUNT({cells})=ROWS({cells}),SUM({cells}),NA())"


# --- the formulas we write and WPS ---------------------------------------------------------------


def _formulas(path: Path) -> list[tuple[str, str]]:
    """Every formula of a workbook: cells, data validations, conditional formats (where, text)."""
    wb = load_workbook(path, keep_vba=path.suffix == ".xlsm")
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type == "f":
                    out.append((f"{path.name}:{ws.title}!{cell.coordinate}", cell.value))
        for dv in ws.data_validations.dataValidation:
            for formula in (dv.formula1, dv.formula2):
                if formula:
                    out.append((f"{path.name}:{ws.title} validation {dv.sqref}", formula))
        for rng in ws.conditional_formatting:
            for rule in rng.rules:
                for formula in rule.formula or []:
                    out.append((f"{path.name}:{ws.title} format {rng.sqref}", formula))
    return out


def test_every_formula_we_write_uses_functions_wps_computes(written: Path, tmp_path: Path) -> None:
    from addin.portfolio import write_template

    model = _formulas(written)
    others = [f for path in sorted((ROOT / "workbook_templates").glob("declaration_*.xlsx")) for f in _formulas(path)]
    others += _formulas(write_template(tmp_path / "portfolio_template.xlsx"))
    assert len(others) > 100 and len(model) > 300
    for where, formula in model:
        unknown = function_names(formula) - SPREADSHEET_FUNCTIONS - CUSTOM
        assert not unknown, (where, formula, unknown)
    for where, formula in others:  # the declarations and the portfolio template: no worksheet functions
        unknown = function_names(formula) - SPREADSHEET_FUNCTIONS
        assert not unknown, (where, formula, unknown)


def test_function_names_reads_calls_not_text() -> None:
    assert function_names("=IF(A1=\"SUM(x)\",INDEX('a (b)'!A1:A2,1),_xlfn.IFERROR(NA(),0))") == {
        "IF",
        "INDEX",
        "IFERROR",
        "NA",
    }


# --- LibreOffice: the plain formulas' cached values, and what a spreadsheet without Python shows ---


def _libreoffice():
    import libreoffice

    reason = libreoffice.unavailable()
    if reason:
        import os

        if os.environ.get(libreoffice.REQUIRE_ENV):
            pytest.fail(f"LibreOffice is required but unusable: {reason}")
        pytest.skip(f"LibreOffice unavailable: {reason}")
    return libreoffice


def _frozen(source: Path, target: Path, replace: dict[tuple[int, str], str] | None = None) -> None:
    """A copy with every worksheet-function formula replaced by its cached value (so that an engine
    without Python recalculates only the plain formulas), and cells of ``replace`` set to text."""
    custom = "|".join(sorted(CUSTOM, key=len, reverse=True))
    cell = re.compile(r'<c r="([A-Z]+\d+)"([^>]*?)>(<f[ >].*?</f>)(?:<v>(.*?)</v>|<v\s*/>)?</c>')

    def freeze(match: re.Match, sheet: int) -> str:
        ref, attrs, formula, value = match.groups()
        if (sheet, ref) in (replace or {}):
            text = html.escape(replace[(sheet, ref)], quote=False)
            attrs = re.sub(r' t="[^"]*"', "", attrs)
            return f'<c r="{ref}"{attrs} t="inlineStr"><is><t>{text}</t></is></c>'
        if not re.search(rf"\b({custom})\(", formula):
            return match[0]
        if ' t="str"' in attrs:
            attrs = attrs.replace(' t="str"', ' t="inlineStr"')
            return f'<c r="{ref}"{attrs}><is><t xml:space="preserve">{value or ""}</t></is></c>'
        return f'<c r="{ref}"{attrs}><v>{value}</v></c>'

    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for entry in zin.infolist():
            data = zin.read(entry.filename)
            found = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", entry.filename)
            if found:
                index = int(found[1]) - 1
                data = cell.sub(lambda m, i=index: freeze(m, i), data.decode("utf-8")).encode("utf-8")
            zout.writestr(entry, data)


def _same(cached, computed) -> bool:
    if isinstance(computed, dict):
        return False
    if isinstance(cached, bool) or isinstance(computed, bool):
        return cached == computed
    if isinstance(cached, (int, float)) and isinstance(computed, (int, float)):
        return abs(cached - computed) <= 1e-6 * max(1.0, abs(cached))
    return (cached if cached is not None else "") == computed


@pytest.mark.slow
def test_libreoffice_computes_every_plain_formula_to_its_cached_value(written: Path, cells, tmp_path: Path) -> None:
    libreoffice = _libreoffice()
    frozen = tmp_path / "frozen.xlsm"
    _frozen(written, frozen)
    result = libreoffice.recalculate([str(frozen)])[str(frozen)]
    assert result["error"] is None
    order = load_workbook(written, keep_vba=True).sheetnames
    plain = [c for c in cells if not function_names(c.formula) & CUSTOM]
    assert len(plain) > 150
    wrong = [
        (c.sheet, c.ref, c.formula, c.cached, result["formulas"].get(f"{order.index(c.sheet)}!{c.ref}"))
        for c in plain
        if not _same(c.cached, result["formulas"].get(f"{order.index(c.sheet)}!{c.ref}"))
    ]
    assert not wrong, wrong[:5]


@pytest.mark.slow
def test_libreoffice_an_award_that_is_text_blocks_the_totals(written: Path, tmp_path: Path) -> None:
    libreoffice = _libreoffice()
    frozen = tmp_path / "bad.xlsm"
    # classic xlwings writes a raised error into the cell as text (here in an award and in a what-if award)
    reform, first = whatif_rows(load_workbook(written, keep_vba=True, data_only=True)[MODEL])
    message = "etown:27: capacity_kw: must be ≥ 0, got -5 / 须≥0"
    _frozen(written, frozen, {(0, f"H{LAY.inputs}"): message, (0, f"E{first}"): message})
    result = libreoffice.recalculate([str(frozen)], ["GA_Total", "GA_TotalCheck", "GA_WhatIfTotal"])[str(frozen)]
    assert result["names"]["GA_Total"] == {"error": 32767} or "error" in result["names"]["GA_Total"]
    assert "error" in result["names"]["GA_WhatIfTotal"]
    assert "error" in result["formulas"][f"0!F{first + len(PROJECTS)}"]  # the difference's total too
    assert result["formulas"][f"0!D{first + len(PROJECTS)}"] == 6_060_000  # the baseline's cells are all numbers
    assert result["names"]["GA_TotalCheck"].startswith("⚠ 1 ")
    wb = load_workbook(written, keep_vba=True)
    ws = wb[MODEL]
    by_year = next(r for r in range(1, ws.max_row) if str(ws[f"A{r}"].value or "").startswith("4 分年度")) + 2
    assert "error" in result["formulas"][f"0!B{by_year}"]
    npv_row = next(r for r in range(1, ws.max_row) if str(ws[f"A{r}"].value or "").startswith("净现值 NPV"))
    assert isinstance(result["formulas"][f"0!E{npv_row}"], float)  # without the subsidy: still a figure
    assert "error" in result["formulas"][f"0!F{npv_row}"]  # with it: refused


@pytest.mark.slow
def test_without_python_libreoffice_prints_the_cached_awards_cash_flow_and_chart(written: Path, tmp_path: Path) -> None:
    _libreoffice()
    profile = tmp_path / "profile"
    done = subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(written),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    pdf = tmp_path / "model.pdf"
    assert pdf.exists(), done.stderr
    first = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "3", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "#NAME" not in text and "#REF" not in text and "#VALUE" not in text
    for figure in ("80,000.00", "1,200,000.00", "6,060,000.00", "2,166,377.36", "9.52%"):
        assert figure in first, figure
    whatif = text[text.index("6 假设情景 What-if") :]
    assert "etown:27.per_kw" in whatif and "2027-01-01" in whatif
    assert re.search(r"Rooftop PV, phase 2\s+etown:27\s+2027\s+80,000.00\s+100,000.00\s+20,000.00", whatif)
    assert re.search(r"合计 Total.*6,060,000.00\s+6,080,000.00\s+20,000.00", whatif)
    assert "Payment year" in first and "E-Town" in first  # the chart's axis title and legend


# --- the command ---------------------------------------------------------------------------------


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsm"
    path.write_bytes(b"mine")
    with pytest.raises(OutputExistsError):
        write_model_workbook(path)
    assert path.read_bytes() == b"mine"
    write_model_workbook(path, overwrite=True)
    assert zipfile.is_zipfile(path)
    assert not [p for p in tmp_path.iterdir() if p.name != "m.xlsm"], "no temporary file left behind"


def test_the_name_must_be_xlsm(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="xlsm"):
        write_model_workbook(tmp_path / "model.xlsx")


def test_the_command(tmp_path: Path) -> None:
    runner = CliRunner()
    path = tmp_path / "out" / "model.xlsm"
    done = runner.invoke(app, ["excel", "-o", str(path)])
    assert done.exit_code == 0, done.output
    assert load_workbook(path, keep_vba=True, data_only=True)[MODEL][f"H{LAY.inputs_last + 1}"].value == 6_060_000
    again = runner.invoke(app, ["excel", "-o", str(path)])
    assert again.exit_code != 0 and "exists" in again.output
    forced = runner.invoke(app, ["excel", "-o", str(path), "--overwrite"])
    assert forced.exit_code == 0, forced.output
