"""The worksheet layer's plumbing: how functions are declared to xlwings and how errors leave them.

Everything here is free of anything Windows-only at import time, so the same module serves
classic xlwings on Windows, xlwings Lite and xlwings Server. The values Excel sends are coerced by
the policy core (``policies.inputs``); this layer only reshapes ranges and arguments into
``evaluate`` calls and turns results into floats and 2-D lists.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, cast

from xlwings import arg, func

from policies import GreenAwardError
from policies.engine import find_clause
from policies.registry import policies

_XlwingsBase: type[Exception]
try:  # every runtime of xlwings ships it; Server shows a raised XlwingsError's message in production
    from xlwings import XlwingsError

    _XlwingsBase = XlwingsError
except ImportError:  # pragma: no cover
    _XlwingsBase = Exception

try:  # classic xlwings on Windows: pywin32's COM server (no stubs: pyproject's mypy section ignores it)
    from win32com.server.exception import COMException

    _ComBase = COMException
except ImportError:
    _ComBase = None

CATEGORY = "green-award"
LOG = logging.getLogger(__name__)
EXCEL_TEXT_LIMIT = 255  # Excel's limit for a function's and an argument's description in the wizard
MESSAGE_LIMIT = 255  # a cell shows at most this much of an error message comfortably

#: Excel's error values as xlwings hands them over with ``err_to_str=True`` (classic xlwings maps
#: COM's error codes to these texts, Lite and Server pass the text Excel shows); without that
#: option every runtime passes an error as an empty cell, so ``PV_SUBSIDY(100, #N/A)`` gave 80,000.
CELL_ERRORS = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
        "#DATA!",
        "#PYTHON!",
        "#EXTERNAL!",
        "#TIMEOUT!",
    }
)
#: The COM error codes of classic xlwings (``xlwings._xlwindows.cell_errors``), should one arrive unconverted.
COM_ERRORS = {
    -2146826281: "#DIV/0!",
    -2146826246: "#N/A",
    -2146826259: "#NAME?",
    -2146826288: "#NULL!",
    -2146826252: "#NUM!",
    -2146826265: "#REF!",
    -2146826273: "#VALUE!",
}

Cell = str | float | bool | None  # a value a worksheet function hands back to a cell
Table = list[list[Cell]]  # a spilled array, row by row

_BASES: tuple[type, ...] = (GreenAwardError, _XlwingsBase) + ((_ComBase,) if _ComBase is not None else ())


class WorksheetError(*_BASES):  # type: ignore[misc]
    """A bad input as a worksheet function reports it: one short line naming clause, field and rule.

    Classic xlwings: pywin32 turns an ordinary exception into "Unexpected Python Error: " plus the
    whole traceback, which xlwings' VBA wrapper writes into the cell. An exception derived from
    pywin32's ``COMException`` carries only its ``description`` instead, so on Windows this class
    derives from it and the cell shows just the message.
    """

    def __init__(self, message: str, *, clause: str = "", field: str = "", rule: str = ""):
        message = " ".join(message.split())  # one line: a cell shows no traceback-like block
        if len(message) > MESSAGE_LIMIT:
            message = message[: MESSAGE_LIMIT - 1] + "…"
        self.message = message
        self.clause, self.field, self.rule = clause, field, rule
        if _ComBase is not None:  # pragma: no cover - Windows only
            _ComBase.__init__(self, description=message, source="green-award")
        else:
            Exception.__init__(self, message)
        self.description = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"WorksheetError({self.message!r})"


def bad(function: str, field: str, rule: str, clause: str = "") -> WorksheetError:
    """A WorksheetError for a problem this layer finds itself (an argument's shape, a blank clause)."""
    where = f"{function} {clause}" if clause else function
    return WorksheetError(f"{where}: {field}: {rule}", clause=clause or function, field=field, rule=rule)


def as_worksheet_error(function: str, exc: BaseException) -> WorksheetError:
    if isinstance(exc, WorksheetError):
        return exc
    if isinstance(exc, GreenAwardError):
        return WorksheetError(
            str(exc),
            clause=getattr(exc, "clause_id", "") or "",
            field=getattr(exc, "field", "") or "",
            rule=getattr(exc, "rule", "") or str(exc),
        )
    # A bug of ours, not the user's input: one readable line in the cell (no Python words, no
    # traceback); the traceback goes to the log (xlwings' log file, or Lite's console).
    LOG.error("%s: internal error", function, exc_info=exc)
    return WorksheetError(
        f"{function}: 内部错误 internal error, not your input: please report it with the inputs",
        clause=function,
        field="internal",
        rule=type(exc).__name__,
    )


def cell_error(value: object) -> str | None:
    """The Excel error a value stands for (``#N/A``…), or None."""
    if isinstance(value, str):
        text = value.strip().upper()
        return text if text in CELL_ERRORS else None
    if isinstance(value, int) and not isinstance(value, bool):
        return COM_ERRORS.get(value)
    return None


def refuse_cell_errors(function: str, names: list[str], args: tuple[object, ...]) -> None:
    """An error value in any argument, or in any cell of a range, is an error of the call.

    ``names`` are the named arguments before any ``*inputs``: those after them are called by position.
    """
    for index, value in enumerate(args):
        where = names[index] if index < len(names) else f"argument {index + 1} / 第{index + 1}个参数"
        if isinstance(value, (list, tuple)):
            rows = value if value and isinstance(value[0], (list, tuple)) else [value]
            for r, row in enumerate(rows, start=1):
                for c, cell in enumerate(row if isinstance(row, (list, tuple)) else [row], start=1):
                    code = cell_error(cell)
                    if code:
                        raise bad(
                            function,
                            where,
                            f"row {r}, column {c} of the range holds the error {code} / 区域第{r}行第{c}列为错误值{code}",
                        )
        else:
            code = cell_error(value)
            if code:
                raise bad(function, where, f"the cell holds the error {code}; correct it first / 单元格为错误值{code}")


#: How a figure is written in help text: ``{clause.parameter}`` 1,200; ``|n`` 1200; ``|%`` 25%; ``|万`` 3000 (of 万).
FIGURE_FORMATS: dict[str, Callable[[Decimal], str]] = {
    "": lambda v: format(v.normalize(), ",f"),
    "n": lambda v: format(v.normalize(), "f"),
    "%": lambda v: format((v * 100).normalize(), "f") + "%",
    "万": lambda v: format((v / 10000).normalize(), "f"),
}
_FIGURE = re.compile(r"\{([a-z_]+:[0-9.]+)\.([a-z_][a-z0-9_]*)(?:\|([n%万]))?\}|\{policies\|(zh|en)\}")


def figures(text: str) -> str:
    """Help text with its figures taken from the policy data, so that a changed figure changes the help.

    ``{etown:27.per_kw}`` is the clause's parameter (formats: ``FIGURE_FORMATS``); ``{policies|zh}``
    and ``{policies|en}`` list the policy ids. A placeholder naming no parameter fails at import.
    """

    def fill(match: re.Match[str]) -> str:
        clause_id, name, form, language = match.groups()
        if language:
            ids = list(policies())
            word = "或" if language == "zh" else "or"
            return f"{('、' if language == 'zh' else ', ').join(ids[:-1])} {word} {ids[-1]}" if len(ids) > 1 else ids[0]
        parameter = find_clause(clause_id)[1].parameters.get(name)
        if parameter is None:
            raise ValueError(f"help text names {match[0]}, which is no parameter of {clause_id}")
        return FIGURE_FORMATS[form or ""](parameter.value)

    return _FIGURE.sub(fill, text)


class WorksheetFunction(Protocol):
    """A function declared by ``worksheet_function``: called as Excel calls it (by position), with its
    help kept on it."""

    __name__: str
    arg_docs: dict[str, str]  # each argument's doc, figures filled (what the function wizard shows)
    help_templates: dict[str, str]  # the function's and each argument's doc as written, figures unfilled
    is_worksheet_function: bool

    def __call__(self, *args: Any) -> Any: ...  # Excel's values in, a cell's value or a table out


def _has_cjk(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def worksheet_function(
    on_error: Callable[[WorksheetError], Any] | None = None, **arg_docs: str
) -> Callable[[Callable[..., Any]], WorksheetFunction]:
    """Declare a worksheet function: its docstring and one bilingual doc per argument.

    Figures in the texts are written as placeholders (``{etown:27.per_kw}``, see ``figures``) and
    filled from the policy data here, at import, before xlwings records the help.

    The function is wrapped so that an Excel error value among its arguments is refused and any
    exception leaves as a ``WorksheetError`` (one short line), or, with ``on_error``, becomes the
    value ``on_error`` makes of it; then it is handed to xlwings' ``arg`` and ``func`` decorators. The argument docs are also kept on the
    function as ``arg_docs``: on Linux those decorators leave functions unchanged, and the tests
    check the docs against Excel's 255-character limit.
    """

    def declare(f: Callable[..., Any]) -> WorksheetFunction:
        parameters = inspect.signature(f).parameters
        names = list(parameters)
        named = [n for n, p in parameters.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
        if sorted(names) != sorted(arg_docs):
            raise TypeError(f"{f.__name__}: argument docs {sorted(arg_docs)} do not match the arguments {names}")
        templates = {"(function)": f.__doc__ or "", **arg_docs}
        f.__doc__ = figures(f.__doc__ or "")  # before xlwings reads it (its arg and func decorators)
        docs = {name: figures(text) for name, text in arg_docs.items()}

        @functools.wraps(f)
        def guarded(*args: Any) -> Any:
            try:
                refuse_cell_errors(f.__name__, named, args)
                return f(*args)
            except Exception as exc:  # every exception, so that no traceback reaches a cell
                error = as_worksheet_error(f.__name__, exc)
                if on_error is None:
                    raise error from None
                return on_error(error)

        declared: Callable[..., Any] = guarded
        for name in reversed(names):  # err_to_str: an error cell arrives as its text (#N/A), not as empty
            declared = arg(name, doc=docs[name], err_to_str=True)(declared)
        function = cast(WorksheetFunction, func(category=CATEGORY)(declared))  # given its attributes here
        function.arg_docs = {name: docs[name] for name in names}
        function.help_templates = templates
        function.is_worksheet_function = True
        return function

    return declare


def doc_problems(function: Callable[..., Any]) -> list[str]:
    """What is missing or too long in a function's help: empty list when Excel can show it all."""
    name = function.__name__
    problems = []
    texts = {"(function)": function.__doc__ or ""}
    texts.update(getattr(function, "arg_docs", {}))
    for parameter in inspect.signature(function).parameters:
        if parameter not in texts:
            problems.append(f"{name}.{parameter}: no argument doc")
    for what, text in texts.items():
        if not text.strip():
            problems.append(f"{name} {what}: empty")
        elif len(text) > EXCEL_TEXT_LIMIT:
            problems.append(f"{name} {what}: {len(text)} characters, more than {EXCEL_TEXT_LIMIT}")
        elif not (_has_cjk(text) and re.search(r"[A-Za-z]{3}", text)):
            problems.append(f"{name} {what}: not in both Chinese and English")
    return problems
