"""What xlwings itself makes of the module: help texts, the VBA wrapper, the error a cell shows.

On Linux ``xlwings.func``/``arg`` leave functions unchanged, so the classic (Windows) machinery is
run here with pywin32 stubbed out: xlwings' own ``xlfunc``/``xlarg`` record the help texts that
``Import Functions`` passes to Excel's ``MacroOptions`` (cut at 255 characters), and its own
``generate_vba_wrapper`` writes the VBA module. That runs in a subprocess, so the stubs never leak.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import udfs
from udfs._sheet import EXCEL_TEXT_LIMIT, doc_problems

ROOT = Path(__file__).resolve().parent.parent


def public_functions() -> list:
    return [getattr(udfs, name) for name in udfs.__all__ if callable(getattr(udfs, name)) and name.isupper()]


def test_every_public_function_is_declared_at_package_level() -> None:
    names = {f.__name__ for f in public_functions()}
    assert {f.__name__ for f in udfs.WORKSHEET_FUNCTIONS} <= names
    for required in (
        "GREEN_AWARD",
        "AWARD_EXPLAIN",
        "AWARD_CLAUSES",
        "AWARD_INPUTS",
        "TCE",
        "PV_SUBSIDY",
        "ENERGY_SAVING_AWARD",
        "RETROFIT_AWARD",
        "GREEN_POWER_AWARD",
        "LOAN_INTEREST_SUBSIDY",
        "VEHICLE_AWARD",
    ):
        assert required in names
    for function in public_functions():
        assert getattr(function, "is_worksheet_function", False), function.__name__


def test_every_function_and_argument_has_bilingual_help_within_255_characters() -> None:
    problems = [p for f in public_functions() for p in doc_problems(f)]
    assert not problems, "\n".join(problems)
    for function in public_functions():
        assert list(function.arg_docs) == list(inspect.signature(function).parameters)


def test_doc_problems_catches_what_it_should() -> None:
    def F(a):
        "English only, no Chinese"

    F.arg_docs = {"a": "中文 and English " + "x" * 300}
    problems = doc_problems(F)
    assert any("not in both" in p for p in problems) and any("more than 255" in p for p in problems)


VBA_KEYWORDS = {
    "and",
    "as",
    "boolean",
    "byref",
    "byte",
    "byval",
    "call",
    "case",
    "const",
    "currency",
    "date",
    "declare",
    "dim",
    "do",
    "double",
    "each",
    "else",
    "elseif",
    "empty",
    "end",
    "enum",
    "erase",
    "error",
    "event",
    "exit",
    "false",
    "for",
    "friend",
    "function",
    "get",
    "global",
    "gosub",
    "goto",
    "if",
    "implements",
    "in",
    "integer",
    "is",
    "let",
    "like",
    "long",
    "loop",
    "lset",
    "me",
    "mod",
    "new",
    "next",
    "not",
    "nothing",
    "null",
    "object",
    "on",
    "optional",
    "or",
    "paramarray",
    "preserve",
    "private",
    "property",
    "public",
    "raiseevent",
    "redim",
    "rem",
    "resume",
    "return",
    "rset",
    "select",
    "set",
    "single",
    "static",
    "step",
    "stop",
    "string",
    "sub",
    "then",
    "to",
    "true",
    "type",
    "until",
    "variant",
    "wend",
    "while",
    "with",
    "xor",
    "name",
    "open",
    "close",
    "print",
    "put",
    "input",
    "line",
    "seek",
    "lock",
    "width",
    "write",
    "k",
    "argsarray",  # the last two are the generated wrapper's own variables
}


def test_argument_names_are_valid_vba_parameter_names() -> None:
    for function in public_functions():
        for name in inspect.signature(function).parameters:
            assert name.lower() not in VBA_KEYWORDS, (function.__name__, name)
            assert name.isidentifier() and name.isascii()


CLASSIC = textwrap.dedent(
    r"""
    import io, json, sys, types

    # pywin32 stubs: just enough for xlwings.udfs to import on Linux.
    stubs = {}
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client", "win32com.server", "win32com.server.exception"):
        stubs[name] = sys.modules[name] = types.ModuleType(name)
    stubs["pythoncom"].CoInitialize = lambda: None
    class com_error(Exception):
        pass
    stubs["pywintypes"].com_error = com_error
    class COMException(com_error):  # pywin32's win32com.server.exception.COMException, reduced
        def __init__(self, description=None, scode=None, source=None, helpfile=None, helpContext=None, desc=None, hresult=None):
            self.description = description or desc
            self.scode, self.source = scode, source
            com_error.__init__(self, scode, self.description, None, -1)
    stubs["win32com.server.exception"].COMException = COMException
    stubs["win32com.client"].Dispatch = None
    stubs["win32com"].client = stubs["win32com.client"]

    import xlwings
    import xlwings.udfs as classic
    # What `from xlwings import func, arg, ret` gives on Windows.
    xlwings.func, xlwings.arg, xlwings.ret = classic.xlfunc, classic.xlarg, classic.xlret

    import udfs

    class Book:
        Name = "green_award_model.xlsm"

    vba = io.StringIO()
    classic.generate_vba_wrapper("udfs", udfs, vba, Book())
    functions = {}
    for name in dir(udfs):
        f = getattr(udfs, name)
        if hasattr(f, "__xlfunc__"):
            x = f.__xlfunc__
            functions[name] = {
                "description": x["ret"]["doc"],
                "category": x["category"],
                "args": [[a["name"], a["doc"], "optional" in a, a["vararg"], a["options"]] for a in x["args"]],
            }
    try:
        udfs.PV_SUBSIDY(-1.0)
    except Exception as exc:
        error = {"com": isinstance(exc, COMException), "description": exc.description, "str": str(exc)}
    print(json.dumps({"vba": vba.getvalue(), "functions": functions, "error": error}))
    """
)


def run_classic() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CLASSIC],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_classic_xlwings_registers_every_function_with_its_help() -> None:
    result = run_classic()
    functions = result["functions"]
    assert set(functions) == {f.__name__ for f in public_functions()}
    for function in public_functions():
        info = functions[function.__name__]
        assert info["description"] == function.__doc__ and len(info["description"]) <= EXCEL_TEXT_LIMIT
        assert info["category"] == "green-award"
        parameters = inspect.signature(function).parameters
        assert [a[0] for a in info["args"]] == list(parameters)
        for name, doc, optional, vararg, options in info["args"]:
            assert doc == function.arg_docs[name] and len(doc) <= EXCEL_TEXT_LIMIT
            assert optional == (parameters[name].default is not inspect.Parameter.empty)
            assert vararg == (parameters[name].kind is inspect.Parameter.VAR_POSITIONAL)
            # no type hints (Excel's values reach the core as they are), but an error cell arrives as
            # its text (#N/A) instead of as an empty cell: xlwings' err_to_str (issue 9 item 15)
            assert options == {"err_to_str": True}, (function.__name__, name, options)


@pytest.mark.slow
def test_classic_xlwings_vba_wrapper() -> None:
    vba = run_classic()["vba"]
    assert "Function GREEN_AWARD(clause, ParamArray inputs())" in vba
    assert "Function PV_SUBSIDY(kw, Optional ownership, Optional applicant)" in vba
    assert "Function TCE(quantity, kind, Optional coefficient)" in vba
    assert 'XLPy.CallUDF("udfs", "LOAN_INTEREST_SUBSIDY", Array(principal, rate, months, fixed_asset_investment)' in vba
    # A raised error becomes the cell's text: the wrapper's error handler returns Err.Description.
    assert "PV_SUBSIDY = Err.Description" in vba


@pytest.mark.slow
def test_on_windows_the_error_is_a_com_exception_carrying_only_the_message() -> None:
    error = run_classic()["error"]
    assert error["com"] is True, "pywin32 would otherwise put 'Unexpected Python Error: Traceback…' in the cell"
    assert error["description"] == "etown:27: capacity_kw: must be ≥ 0, got -1 / 须≥0"
    assert error["str"] == error["description"]


def test_portfolio_is_exported_when_it_exists() -> None:
    if (ROOT / "udfs" / "portfolio.py").exists():
        assert "PORTFOLIO_AWARDS" in udfs.__all__


def test_the_docs_reference_every_function_and_argument_as_the_wizard_shows_them() -> None:
    text = (ROOT / "docs" / "excel.md").read_text(encoding="utf-8")
    for function in public_functions():
        assert f"### `{function.__name__}(" in text, function.__name__
        assert function.__doc__ in text, function.__name__
        for name, doc in function.arg_docs.items():
            assert f"- `{name}`: {doc}" in text, (function.__name__, name)


# --- help texts rendered from the parameters (issue 10 part 4) ------------------------------------


def test_help_texts_write_figures_as_placeholders_never_by_hand() -> None:
    """A figure of a clause a function names (800, 1,200, 25%, 3000万…) is never typed into its help."""
    import re

    from policies.engine import find_clause
    from udfs._sheet import FIGURE_FORMATS

    for function in public_functions():
        for what, template in function.help_templates.items():
            clauses = set(re.findall(r"[a-z]+:\d+(?:\.\d+)?", template))
            bare = re.sub(r"\{[^{}]*\}", "", template)
            rendered = function.__doc__ if what == "(function)" else function.arg_docs[what]
            assert "{" not in rendered, (function.__name__, what, rendered)
            for clause_id in clauses:
                for name, parameter in find_clause(clause_id)[1].parameters.items():
                    for form, show in FIGURE_FORMATS.items():
                        text = show(parameter.value) + ("万" if form == "万" else "")
                        if len(text) < 2:
                            continue
                        found = re.search(rf"(?<![\d.,]){re.escape(text)}(?![\d,])", bare)
                        assert found is None, (
                            f"{function.__name__} {what}: {text} is {clause_id}.{name}, written by hand"
                        )


CHANGED_FIGURES = textwrap.dedent(
    r"""
    import pathlib, shutil, sys
    import policies.registry as registry

    data = pathlib.Path(sys.argv[1])
    shutil.copytree(registry.DATA_DIR, data)
    etown = data / "etown.yaml"
    text = etown.read_text(encoding="utf-8")
    assert 'per_kw: {value: 800,' in text
    etown.write_text(text.replace('per_kw: {value: 800,', 'per_kw: {value: 950,'), encoding="utf-8")
    registry.DATA_DIR = data
    import udfs
    print(udfs.PV_SUBSIDY.__doc__)
    print(udfs.PV_SUBSIDY(100.0))
    """
)


def test_a_changed_figure_changes_the_help(tmp_path: Path) -> None:
    """E-Town's PV rate edited in the YAML: the function's help says the new figure, and computes with it."""
    done = subprocess.run(
        [sys.executable, "-c", CHANGED_FIGURES, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc, amount = done.stdout.strip().splitlines()
    assert "950元/kW" in doc and "950 yuan per kW" in doc and "800" not in doc
    assert float(amount) == 95_000.0
    assert (
        "800元/kW" in udfs.PV_SUBSIDY.__doc__
        and udfs.PV_SUBSIDY.help_templates["(function)"].count("{etown:27.per_kw") == 2
    )


def test_a_placeholder_naming_no_parameter_fails_at_import() -> None:
    import pytest

    from udfs._sheet import figures

    assert figures("{tongzhou:6.cap|万}万, {tongzhou:6.rate|%}, {beijing:2.1.unit_price}") == "200万, 30%, 1,200"
    assert figures("{policies|en} / {policies|zh}") == "beijing, tongzhou or etown / beijing、tongzhou 或 etown"
    with pytest.raises(ValueError, match=r"\{etown:27.price\}.*no parameter of etown:27"):
        figures("{etown:27.price}")


def test_package_exports_every_worksheet_function_and_nothing_else():
    """udfs.__all__ is written out by hand: it must name exactly the worksheet functions (plus the two helpers)."""
    functions = {f.__name__ for f in udfs.WORKSHEET_FUNCTIONS} | {"AWARD_MATCH", "PORTFOLIO_AWARDS"}
    assert set(udfs.__all__) == functions | {"WORKSHEET_FUNCTIONS", "WorksheetError"}
