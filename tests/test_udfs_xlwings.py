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
    for required in ("GREEN_AWARD", "AWARD_EXPLAIN", "AWARD_CLAUSES", "AWARD_INPUTS", "TCE", "PV_SUBSIDY",
                     "ENERGY_SAVING_AWARD", "RETROFIT_AWARD", "GREEN_POWER_AWARD", "LOAN_INTEREST_SUBSIDY", "VEHICLE_AWARD"):
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
    "and", "as", "boolean", "byref", "byte", "byval", "call", "case", "const", "currency", "date", "declare", "dim",
    "do", "double", "each", "else", "elseif", "empty", "end", "enum", "erase", "error", "event", "exit", "false", "for",
    "friend", "function", "get", "global", "gosub", "goto", "if", "implements", "in", "integer", "is", "let", "like",
    "long", "loop", "lset", "me", "mod", "new", "next", "not", "nothing", "null", "object", "on", "optional", "or",
    "paramarray", "preserve", "private", "property", "public", "raiseevent", "redim", "rem", "resume", "return", "rset",
    "select", "set", "single", "static", "step", "stop", "string", "sub", "then", "to", "true", "type", "until",
    "variant", "wend", "while", "with", "xor", "name", "open", "close", "print", "put", "input", "line", "seek", "lock",
    "width", "write", "k", "argsarray",  # the last two are the generated wrapper's own variables
}


def test_argument_names_are_valid_vba_parameter_names() -> None:
    for function in public_functions():
        for name in inspect.signature(function).parameters:
            assert name.lower() not in VBA_KEYWORDS, (function.__name__, name)
            assert name.isidentifier() and name.isascii()


CLASSIC = textwrap.dedent(
    r'''
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
    '''
)


def run_classic() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CLASSIC], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
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
        if function.__name__ == "PORTFOLIO_AWARDS":
            continue  # issue 4's function, documented with the portfolio
        assert f"### `{function.__name__}(" in text, function.__name__
        assert function.__doc__ in text, function.__name__
        for name, doc in function.arg_docs.items():
            assert f"- `{name}`: {doc}" in text, (function.__name__, name)
