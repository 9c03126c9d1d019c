"""The worksheet layer's plumbing: how functions are declared to xlwings and how errors leave them.

Everything here is free of anything Windows-only at import time, so the same module serves
classic xlwings on Windows, xlwings Lite and xlwings Server. The values Excel sends are coerced by
the policy core (``policies.inputs``); this layer only reshapes ranges and arguments into
``evaluate`` calls and turns results into floats and 2-D lists.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any, Callable

from xlwings import arg, func

from policies import GreenAwardError

try:  # every runtime of xlwings ships it; Server shows a raised XlwingsError's message in production
    from xlwings import XlwingsError as _XlwingsBase
except ImportError:  # pragma: no cover
    _XlwingsBase = Exception

try:  # classic xlwings on Windows: pywin32's COM server
    from win32com.server.exception import COMException as _ComBase  # type: ignore[import-not-found]
except ImportError:
    _ComBase = None

CATEGORY = "green-award"
EXCEL_TEXT_LIMIT = 255  # Excel's limit for a function's and an argument's description in the wizard
MESSAGE_LIMIT = 255  # a cell shows at most this much of an error message comfortably

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
    # A bug of ours, not the user's input: still one readable line, never a traceback.
    return WorksheetError(
        f"{function}: internal error ({type(exc).__name__}: {exc}); please report it / 内部错误",
        clause=function, field="internal", rule=type(exc).__name__,
    )


def _has_cjk(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def worksheet_function(**arg_docs: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a worksheet function: its docstring and one bilingual doc per argument.

    The function is wrapped so that any exception leaves as a ``WorksheetError`` (one short line),
    then handed to xlwings' ``arg`` and ``func`` decorators. The argument docs are also kept on the
    function as ``arg_docs``: on Linux those decorators leave functions unchanged, and the tests
    check the docs against Excel's 255-character limit.
    """

    def declare(f: Callable[..., Any]) -> Callable[..., Any]:
        names = list(inspect.signature(f).parameters)
        if sorted(names) != sorted(arg_docs):
            raise TypeError(f"{f.__name__}: argument docs {sorted(arg_docs)} do not match the arguments {names}")

        @functools.wraps(f)
        def guarded(*args: Any) -> Any:
            try:
                return f(*args)
            except Exception as exc:  # every exception, so that no traceback reaches a cell
                raise as_worksheet_error(f.__name__, exc) from None

        declared: Callable[..., Any] = guarded
        for name in reversed(names):
            declared = arg(name, doc=arg_docs[name])(declared)
        declared = func(category=CATEGORY)(declared)
        declared.arg_docs = {name: arg_docs[name] for name in names}  # type: ignore[attr-defined]
        declared.is_worksheet_function = True  # type: ignore[attr-defined]
        return declared

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
