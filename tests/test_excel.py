"""``green-award excel``: the workbook it writes, the committed copy, and what the model computes."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import udfs
from addin.cli import app
from addin.excel import (
    CONF,
    EXCEL_FUNCTIONS,
    MODEL,
    PORTFOLIO,
    QUICKSTART,
    TEMPLATE,
    evaluate_formula,
    workbook_content,
    write_model_workbook,
)
from addin.files import OutputExistsError
from policies import evaluate


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    return write_model_workbook(tmp_path_factory.mktemp("excel") / "model.xlsm")


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


def test_the_xlwings_conf_sheet_is_active_and_names_the_module(written: Path) -> None:
    ws = load_workbook(written, keep_vba=True)[CONF]
    # xlwings reads A1 down to the first empty row as a dict of settings.
    settings = {}
    for row in ws.iter_rows(min_row=1, max_col=2):
        if row[0].value is None:
            break
        settings[row[0].value] = row[1].value
    assert settings["UDF Modules"] == "udfs"
    assert settings["Interpreter_Win"] == "python"
    assert "_xlwings.conf" not in load_workbook(written, keep_vba=True).sheetnames


def test_every_model_formula_uses_known_functions(written: Path) -> None:
    wb = load_workbook(written, keep_vba=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                text = value.text if hasattr(value, "text") else value
                if isinstance(text, str) and text.startswith("="):
                    for name in re.findall(r"([A-Z_][A-Z0-9_]*)\(", text):
                        assert name in udfs.__all__ or name in EXCEL_FUNCTIONS, (cell.coordinate, name)


def test_expected_values_are_the_cores_amounts(written: Path) -> None:
    ws = load_workbook(written, keep_vba=True)[MODEL]
    by_project = {ws[f"A{r}"].value: ws[f"H{r}"].value for r in range(5, 5 + len(PORTFOLIO))}
    core = {
        "屋顶光伏 Rooftop PV, self-owned": evaluate("etown:27", capacity_kw=100).amount,
        "厂房光伏 PV by a third-party investor": evaluate("etown:27", capacity_kw=250, ownership="third_party").amount,
        "燃气锅炉A级 Gas boiler to grade A": evaluate("etown:10", boiler_grade="A", investment_yuan=1_200_000).amount,
        "电机系统节能 Motor-system energy saving (kWh saved)": evaluate(
            "beijing:2.1", project_type="energy_saving", energy_saved_tce="983.2", investment_yuan=10_000_000).amount,
        "产线改造 Production-line retrofit": evaluate("tongzhou:3", investment_yuan=5_000_000).amount,
        "绿电采购 Green-power purchase": evaluate("etown:29", green_kwh=3_000_000).amount,
        "绿色贷款贴息 Green-loan interest": evaluate("beijing:8", loan_principal_yuan=100_000_000, loan_rate=0.035, months=12).amount,
        "国五货车换新能源 Trucks to NEV": evaluate("etown:18", vehicle_route="guo5_replaced", nev_price_yuan=300_000, vehicles=5).amount,
        "光伏（区域输入）PV from an input range K:L": evaluate("etown:27", capacity_kw=60, ownership="self").amount,
    }
    assert by_project == {k: float(v) for k, v in core.items()}


def test_each_model_formula_recomputes_its_expected_value(written: Path) -> None:
    ws = load_workbook(written, keep_vba=True)[MODEL]
    for r in range(5, 5 + len(PORTFOLIO)):
        assert evaluate_formula(ws, ws[f"G{r}"].value) == ws[f"H{r}"].value


def test_totals_are_guarded(written: Path) -> None:
    ws = load_workbook(written, keep_vba=True)[MODEL]
    last = 4 + len(PORTFOLIO)
    total = last + 2
    assert ws[f"G{total}"].value == f"=IF(COUNT(G5:G{last})={len(PORTFOLIO)},SUM(G5:G{last}),NA())"
    assert "ISERROR(G5:G" in ws[f"I{total}"].value and "ISTEXT(G5:G" in ws[f"I{total}"].value
    wb = load_workbook(written, keep_vba=True)
    assert wb.defined_names["GA_Total"].attr_text == f"'{MODEL}'!$G${total}"


def test_the_bad_input_row_raises_and_explain_says_why(written: Path) -> None:
    ws = load_workbook(written, keep_vba=True)[MODEL]
    bad = next(r for r in range(1, ws.max_row + 1) if ws[f"A{r}"].value == "负装机容量 Negative capacity")
    with pytest.raises(udfs.WorksheetError, match="capacity_kw"):
        evaluate_formula(ws, ws[f"G{bad}"].value)
    explain = next(c.value for row in ws.iter_rows() for c in row if hasattr(c.value, "text") and "D%d" % bad in c.value.text)
    rows = evaluate_formula(ws, explain.text)
    first, last = re.match(r"([A-Z]+\d+):([A-Z]+\d+)", explain.ref).groups()
    assert int(last[1:]) - int(first[1:]) + 1 == len(rows)
    assert rows[0][0].startswith("输入有误 Input error")


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
    assert path.exists()
    again = runner.invoke(app, ["excel", "-o", str(path)])
    assert again.exit_code != 0 and "exists" in again.output
    forced = runner.invoke(app, ["excel", "-o", str(path), "--overwrite"])
    assert forced.exit_code == 0, forced.output
