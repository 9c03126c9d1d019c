"""``green-award excel --addin`` (classic xlwings) and ``--lite`` (xlwings Lite), as far as this machine allows.

No Excel here: the add-in is checked in its parts (xlwings' VBA project byte for byte, every ribbon
callback a procedure of that project's shipped source, the settings read back from the file, by
LibreOffice too). The Lite kit is installed in a fresh virtual environment with its requirements
only, and every function is called with the values Lite passes.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

import udfs
from addin.cli import app
from addin.excel_addin import RIBBON_SOURCE, XLWINGS_ADDIN, write_addin
from addin.excel_lite import main_py, requirements_txt, requires, wheel_name, write_lite

ROOT = Path(__file__).resolve().parent.parent
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
UI = "{http://schemas.microsoft.com/office/2006/01/customui}"


@pytest.fixture(scope="module")
def addin(tmp_path_factory) -> Path:
    return write_addin(tmp_path_factory.mktemp("addin") / "green_award.xlam")


# --- the add-in ----------------------------------------------------------------------------------


def test_the_add_in_is_xlwings_own_with_its_vba_project_byte_for_byte(addin: Path) -> None:
    changed = {"customUI/customUI.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"}
    with zipfile.ZipFile(XLWINGS_ADDIN) as original, zipfile.ZipFile(addin) as ours:
        assert ours.namelist() == original.namelist()
        assert ours.read("xl/vbaProject.bin") == original.read("xl/vbaProject.bin")
        for name in set(original.namelist()) - changed:
            assert ours.read(name) == original.read(name), name
        assert "application/vnd.ms-excel.addin.macroEnabled.main+xml" in ours.read("[Content_Types].xml").decode()


def _callbacks(ui: ElementTree.Element) -> set[str]:
    names = set()
    for element in ui.iter():
        for attribute in ("onAction", "onChange", "getText", "getVisible", "getLabel", "getPressed", "getEnabled"):
            if attribute in element.attrib:
                names.add(element.attrib[attribute])
    return names


def test_every_ribbon_callback_is_a_procedure_of_the_vba_project(addin: Path) -> None:
    with zipfile.ZipFile(addin) as z:
        ui = ElementTree.fromstring(z.read("customUI/customUI.xml"))
        vba = z.read("xl/vbaProject.bin")
    source = RIBBON_SOURCE.read_text(encoding="utf-8", errors="replace")
    assert 'Attribute VB_Name = "RibbonXlwings"' in source
    assert b"Module=RibbonXlwings" in vba  # the module is in the add-in's project (its PROJECT stream)
    callbacks = _callbacks(ui)
    assert {
        "RibbonXlwings.ImportFunctions",
        "RibbonXlwings.SetInterpreter",
        "RibbonXlwings.GetInterpreter",
    } <= callbacks
    for callback in callbacks:
        module, _, procedure = callback.partition(".")
        assert module == "RibbonXlwings", callback
        assert re.search(rf"^Sub {procedure}\(control As IRibbonControl", source, re.M), callback
    built_in = {e.attrib["idMso"] for e in ui.iter() if "idMso" in e.attrib}
    assert built_in == {"CalculateNow", "CalculateSheet"}  # Excel's own recalculation commands
    tab = ui.find(f".//{UI}tab")
    assert "green-award" in tab.attrib["label"] and re.search(r"[\u4e00-\u9fff]", tab.attrib["label"])
    guide = ui.find(f".//{UI}menu")
    steps = guide.findall(f"{UI}button")
    assert len(steps) >= 5 and all(re.search(r"[\u4e00-\u9fff]", b.attrib["description"]) for b in steps)
    assert not [b for b in steps if "onAction" in b.attrib]


def _settings(path: Path) -> tuple[str, dict]:
    """The add-in's first sheet read as xlwings' VBA reads it (GetConfigFromSheet): A1 down to the
    first empty cell, values in column B. An independent reader: ElementTree over the package."""
    with zipfile.ZipFile(path) as z:
        workbook = ElementTree.fromstring(z.read("xl/workbook.xml"))
        sheet = workbook.find(f"{MAIN}sheets/{MAIN}sheet")
        rid = sheet.attrib["{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"]
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = next(r.attrib["Target"] for r in rels.iter(f"{RELS}Relationship") if r.attrib["Id"] == rid)
        data = ElementTree.fromstring(z.read("xl/" + target))
    cells = {}
    for c in data.iter(f"{MAIN}c"):
        text = "".join(t.text or "" for t in c.iter(f"{MAIN}t"))
        cells[c.attrib["r"]] = text
    settings, row = {}, 1
    while cells.get(f"A{row}"):
        settings[cells[f"A{row}"]] = cells.get(f"B{row}", "")
        row += 1
    return sheet.attrib["name"], settings


def test_the_settings_read_back_name_the_module_and_no_interpreter(addin: Path) -> None:
    name, settings = _settings(addin)
    assert name == "xlwings.conf"  # the sheet xlwings' GetConfig reads in the add-in itself
    assert settings == {"UDF Modules": "udfs"}
    name, original = _settings(XLWINGS_ADDIN)
    assert original == {}


@pytest.mark.slow
def test_libreoffice_opens_the_add_in_and_reads_its_settings(addin: Path, tmp_path: Path) -> None:
    import shutil

    if not shutil.which("soffice"):
        if os.environ.get("GREEN_AWARD_REQUIRE_LIBREOFFICE"):
            pytest.fail("soffice is required")
        pytest.skip("soffice is not installed")
    copy = tmp_path / "addin.xlam"
    copy.write_bytes(addin.read_bytes())
    done = subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--infilter=Calc MS Excel 2007 VBA XML",
            "--convert-to",
            "csv",
            "--outdir",
            str(tmp_path),
            str(copy),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    csv = tmp_path / "addin.csv"
    assert csv.exists(), done.stderr
    assert csv.read_text(encoding="utf-8").strip() == "UDF Modules,udfs"


def test_the_add_in_is_deterministic_and_named_xlam(addin: Path, tmp_path: Path) -> None:
    assert write_addin(tmp_path / "again.xlam").read_bytes() == addin.read_bytes()
    with pytest.raises(ValueError, match="xlam"):
        write_addin(tmp_path / "addin.xlsm")


def test_the_add_in_command(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "ga.xlam"
    done = runner.invoke(app, ["excel", "--addin", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert _settings(out)[1] == {"UDF Modules": "udfs"}
    again = runner.invoke(app, ["excel", "--addin", "-o", str(out)])
    assert again.exit_code == 2 and "exists" in again.output
    both = runner.invoke(app, ["excel", "--addin", "--lite"])
    assert both.exit_code == 2


# --- the Lite kit --------------------------------------------------------------------------------


def test_the_committed_lite_kit_is_what_the_command_writes() -> None:
    assert (ROOT / "lite" / "main.py").read_text(encoding="utf-8") == main_py()
    assert (ROOT / "lite" / "requirements.txt").read_text(encoding="utf-8") == requirements_txt()
    names = re.findall(r"^    (\w+),$", main_py(), re.M)
    assert set(names) == {n for n in udfs.__all__ if n.isupper() and n != "WORKSHEET_FUNCTIONS"}
    assert "PORTFOLIO_AWARDS" in names


def test_the_lite_command(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "kit"
    done = runner.invoke(app, ["excel", "--lite", "-o", str(out), "--wheel-url", "https://h.example/w/"])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in out.iterdir()) == sorted(["main.py", "requirements.txt", wheel_name()])
    assert (out / "requirements.txt").read_text().splitlines()[-1] == f"https://h.example/w/{wheel_name()}"
    again = runner.invoke(app, ["excel", "--lite", "-o", str(out)])
    assert again.exit_code == 2 and "exists" in again.output
    assert (out / "requirements.txt").read_text().splitlines()[-1] == f"https://h.example/w/{wheel_name()}"
    assert runner.invoke(app, ["excel", "--wheel-url", "https://x/"]).exit_code == 2


def test_requirements_name_the_wheel_by_url() -> None:
    text = requirements_txt("https://files.example.org/kit")
    assert text.splitlines()[-1] == f"https://files.example.org/kit/{wheel_name()}"
    assert requirements_txt("https://h/x.whl").splitlines()[-1] == "https://h/x.whl"


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lite") / "kit"
    write_lite(folder)
    return folder


def test_the_wheel_is_valid_and_holds_only_the_core_and_the_functions(kit: Path) -> None:
    wheel = kit / wheel_name()
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        info = wheel_name().rsplit("-py3", 1)[0] + ".dist-info"
        record = z.read(f"{info}/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("RECORD"):
                continue
            data = z.read(name)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert int(size) == len(data)
        metadata = z.read(f"{info}/METADATA").decode()
    assert {n.split("/")[0] for n in names} == {"policies", "udfs", info}
    assert any(n.startswith("policies/data/") and n.endswith(".yaml") for n in names)
    assert re.findall(r"^Requires-Dist: (.+)$", metadata, re.M) == requires()
    assert sorted(r.split(">")[0].lower() for r in requires()) == ["pydantic", "pyyaml", "xlwings"]


def _imports(source: str) -> tuple[set[str], set[str]]:
    """(module-level imports, all imports) of a module's source, as top-level package names."""
    tree = ast.parse(source)
    top, every = set(), set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            every.add(name.split(".")[0])
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            continue  # for type hints only, never run
        bodies = [node] + (list(ast.walk(node)) if isinstance(node, (ast.Try, ast.If)) else [])
        for inner in bodies:
            if isinstance(inner, ast.Import):
                top |= {a.name.split(".")[0] for a in inner.names}
            elif isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
                top.add(inner.module.split(".")[0])
    return top, every


def test_the_wheel_imports_only_pure_python_or_pyodide_packages(kit: Path) -> None:
    own = {"policies", "udfs"}
    light = {"pydantic", "yaml", "xlwings"}
    in_pyodide = {"pandas"}  # the DataFrames of the portfolio, imported inside the functions that build them
    optional = {"win32com"}  # tried, and skipped where absent (classic xlwings on Windows only)
    with zipfile.ZipFile(kit / wheel_name()) as z:
        for name in z.namelist():
            if not name.endswith(".py"):
                continue
            top, every = _imports(z.read(name).decode("utf-8"))
            outside = lambda names: {n for n in names if n not in sys.stdlib_module_names} - own - light  # noqa: E731
            assert not outside(top) - optional, (name, outside(top))
            assert not outside(every) - in_pyodide - optional, (name, outside(every))


#: (function, arguments as xlwings Lite passes them: int for whole numbers, float, str, None, nested
#: lists) -> the amount from the case tables (tests/cases).
LITE_CALLS = [
    ("GREEN_AWARD", ["etown:27", "capacity_kw", 100], 80000),
    ("GREEN_AWARD", ["etown:27", "capacity_kw", 100, "on", 2025], 80000),
    (
        "GREEN_AWARD",
        ["beijing:2.1", [["project_type", "energy_saving"], ["energy_saved_tce", 1000], ["investment_yuan", 10000000]]],
        1200000,
    ),
    ("GREEN_AWARD", ["etown:27", [["capacity_kw", 100], [None, None], ["ownership", "自有"]]], 80000),
    (
        "GREEN_AWARD",
        ["beijing:8", "loan_principal_yuan", 100000000, "loan_rate", 0.035, "fixed_asset_investment_yuan", 5000001],
        2000000,
    ),
    ("PV_SUBSIDY", [100], 80000),
    ("PV_SUBSIDY", [100, "third_party", None], 40000),
    ("ENERGY_SAVING_AWARD", [1000, 4000000, None], 1000000),
    ("DATA_CENTRE_AWARD", [1000, 2000000], 500000),
    ("RETROFIT_AWARD", [5000000, "tongzhou"], 1500000),
    ("RETROFIT_AWARD", [8000000, "beijing", False], 2000000),
    ("GREEN_POWER_AWARD", [1234567], 12345.67),
    ("LOAN_INTEREST_SUBSIDY", [100000000, 0.03, 6, 8000000], 1000000),
    ("VEHICLE_AWARD", ["guo5_replaced", 500000, None, 2], 300000),
    ("BOILER_AWARD", ["A", 1000000], 500000),
    ("FLEET_AWARD", [10, 10], 500000),
    ("MACHINERY_AWARD", [300000, 50000, 2], 80000),
    ("RENEWABLE_ENERGY_AWARD", [5000000], 1500000),
]
#: Table functions: compared with the same call made here with classic xlwings' floats.
LITE_TABLES = [
    ("TCE", [1000000, "electricity_kwh"]),
    ("TCE", [1000, "natural_gas_m3", 1.2]),
    ("AWARD_PAYMENTS", ["etown:10", "boiler_grade", "A", "investment_yuan", 1000000]),
    ("AWARD_EXPLAIN", ["etown:27", [["capacity_kw", 100]]]),
    ("AWARD_EXPLAIN", ["etown:27", "capacity_kw", -5]),
    ("AWARD_CLAUSES", ["etown"]),
    ("AWARD_INPUTS", ["beijing:8"]),
    (
        "PORTFOLIO_AWARDS",
        [
            [
                ["enterprise", "project", "clause", "year", "capacity_kw", "investment_yuan"],
                ["A", "P1", "etown:27", 2025, 100, None],
                ["A", "P2", "etown:9", 2025, None, 1000000],
                ["A", "P2", "etown:7", 2025, None, 1000000],
                [None, None, None, None, None, None],
            ]
        ],
    ),
]


def _floats(value):
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


@pytest.mark.slow
def test_the_lite_kit_in_a_fresh_venv_without_the_command_line(kit: Path, tmp_path: Path) -> None:
    """A venv with the kit's requirements only (the wheel from its local file, as Lite fetches it by
    URL); the kit's main.py imported; every function called with Lite's values."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    requirements = tmp_path / "requirements.txt"
    lines = (kit / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert lines[-1].startswith("https://") and lines[-1].endswith(".whl")
    requirements.write_text("\n".join(lines[:-1] + [str(kit / wheel_name())]) + "\n", encoding="utf-8")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--prefer-binary", "-r", str(requirements)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    script = f"""
import importlib.util, json, sys
sys.path.insert(0, {str(kit)!r})
absent = [m for m in ("typer", "rich", "pandas", "openpyxl", "defusedxml", "addin") if importlib.util.find_spec(m)]
import main
calls = json.loads(sys.stdin.read())
out = []
for name, args in calls:
    try:
        out.append(["ok", getattr(main, name)(*args)])
    except Exception as exc:
        out.append(["error", type(exc).__name__ + ": " + str(exc)])
print(json.dumps({{"absent": absent, "results": out, "udfs": main.GREEN_AWARD.__module__}}, ensure_ascii=False))
"""
    calls = [[name, args] for name, args, _ in LITE_CALLS] + [[name, args] for name, args in LITE_TABLES]
    run = subprocess.run(
        [str(python), "-c", script], input=json.dumps(calls), capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["absent"] == [], f"installed without being asked for: {report['absent']}"
    results = report["results"]
    for (name, args, expected), (status, value) in zip(LITE_CALLS, results):
        assert status == "ok" and value == expected, (name, args, value)
    for (name, args), (status, value) in zip(LITE_TABLES, results[len(LITE_CALLS) :]):
        classic = getattr(udfs, name)(*_floats(args))
        assert status == "ok" and value == json.loads(json.dumps(classic, ensure_ascii=False)), (name, args)
