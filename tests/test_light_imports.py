"""The policy core and the worksheet functions import without the command line's libraries.

xlwings Lite (Pyodide) installs the wheel with its plain dependencies only (pydantic, PyYAML,
xlwings); pandas, openpyxl, typer, rich and defusedxml come with the ``cli`` extra.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "openpyxl", "typer", "rich", "defusedxml")

# Refuses every heavy library, so any import of one by our code fails loudly (xlwings itself tries
# pandas and carries on without it, as it does in a Lite environment without pandas).
BLOCK = f"""
import sys
HEAVY = {HEAVY!r}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in HEAVY:
            raise ModuleNotFoundError(f'blocked: {{name}}', name=name)
sys.meta_path.insert(0, Block())
"""


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_importing_policies_loads_no_heavy_library() -> None:
    # without the blocker: nothing heavy is even looked at
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, policies, policies.stacking, policies.energy; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_worksheet_functions_work_with_the_heavy_libraries_refused() -> None:
    out = _run(
        "import udfs\n"
        "print(udfs.PV_SUBSIDY(100))\n"
        "print(udfs.GREEN_AWARD('beijing:2.1', 'project_type', 'energy_saving', 'energy_saved_tce', 1000,"
        " 'investment_yuan', 10000000))\n"
        "table = [['enterprise', 'project', 'clause', 'year', 'capacity_kw'], ['A', 'P1', 'etown:27', 2025, 100]]\n"
        "print(udfs.PORTFOLIO_AWARDS(table)[1][2])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    assert out.splitlines() == ["80000.0", "1200000.0", "80000.0", "[]"]


def test_the_command_line_libraries_are_the_cli_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    plain = {d.split(">")[0].split("=")[0].strip().lower() for d in project["dependencies"]}
    cli = {d.split(">")[0].split("=")[0].strip().lower() for d in project["optional-dependencies"]["cli"]}
    assert plain == {"pydantic", "pyyaml", "xlwings"}
    assert set(HEAVY) <= cli


def test_the_script_without_the_cli_extra_says_how_to_install_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK + "from addin.entry import main\nmain()"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2
    assert "pip install 'green-award[cli]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_csv_portfolio_is_computed_and_written_without_the_workbook_libraries(tmp_path: Path) -> None:
    """csv in, csv out: openpyxl (with numpy) and pandas are never imported (0.15-0.3 s of the start)."""
    source = tmp_path / "claims.csv"
    source.write_text("enterprise,project,clause,year,capacity_kw\n甲,P1,etown:27,2025,100\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from addin.cli import main\n"
        f"sys.argv = ['green-award', 'portfolio', {str(source)!r}, '-o', {str(tmp_path / 'out.csv')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('openpyxl', 'pandas', 'numpy', 'xlsxwriter')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert ",80000.00,80000.00,granted," in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
