"""The ``green-award`` script: the command line, or one line saying how to install it.

The command line's libraries (typer, rich, pandas, openpyxl, defusedxml) come with the ``cli``
extra; a plain ``pip install green-award`` (what xlwings Lite installs) has only the policy core
and the worksheet functions.

``green-award calc CLAUSE name=value ...`` (no option) is answered without building the typer app: it
is the command people run one at a time, and typer with every command's imports costs more than the
calculation. Anything else (an option, ``--help``, an input that is not name=value, an error) goes to
the full command line, which prints the same result (``print_award``) and the errors and help.

The result is printed as plain lines, one a step (no rich console): a trace is read by people and by
scripts (grep, a file), and rich's wrapping at the console's width broke its lines mid-phrase, at 80
columns even into a file. A terminal wraps long lines itself; notes are dimmed on a colour terminal.
Keeping rich off this path also saves a sixth of the command's start-up.
"""

from __future__ import annotations

import gc
import os
import sys
from importlib.util import find_spec
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from policies import Award

CLI_LIBRARIES = ("typer", "rich", "pandas", "openpyxl", "defusedxml")


def main() -> None:
    # Start-up makes about 40,000 tracked objects (modules, pydantic's models, the cached catalog) and next to
    # no garbage (a collection after `calc` frees 498): the collector, left on, spent a fifth of `calc`'s
    # start scanning them again and again (benchmarks/bench_coldstart.py: 2.0x -> 1.84x). It is off
    # while the command starts; a quick `calc` ends before it would matter, and every other command turns it
    # back on with what start-up made frozen (never scanned again, nor copied by a forked pool's workers).
    gc.disable()
    if _quick_calc(sys.argv[1:]):
        return
    try:
        from .cli import main as cli_main
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in CLI_LIBRARIES:
            print(
                f"error 错误: the command line needs {exc.name}: pip install 'green-award[cli]' "
                f"/ 命令行需安装 cli 扩展",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
        raise
    gc.freeze()
    gc.enable()
    cli_main()


def print_award(award: Award, out: TextIO | None = None) -> None:
    """What ``green-award calc`` prints: the trace, the payments, the notes, a line each."""
    out = out or sys.stdout
    dim, plain = ("\033[2m", "\033[0m") if _colour(out) else ("", "")
    lines = [
        *award.trace,
        *(f"支付 Payment: {p.stage}: {p.amount:,} 元 ({p.status})" for p in award.payments),
        *(f"{dim}注 Note: {note}{plain}" for note in award.notes),
    ]
    print("\n".join(lines), file=out)


def _colour(out: TextIO) -> bool:
    """Whether ``out`` is a terminal that shows colour (https://no-color.org: NO_COLOR turns it off)."""
    return out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def input_values(items: list[str]) -> tuple[dict[str, str], str | None]:
    """``calc``'s inputs (``name=value``) by name, and the first item that is not name=value (or None)."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            return values, item
        values[name.strip()] = value
    return values, None


def _quick_calc(args: list[str]) -> bool:
    """``calc CLAUSE name=value ...`` computed and printed as the full command does; False (nothing
    printed) for anything the full command line should handle."""
    if len(args) < 2 or args[0] != "calc" or any(a.startswith("-") for a in args[1:]):
        return False
    values, bad = input_values(args[2:])
    if bad is not None:
        return False  # the full command says which input is not name=value
    if find_spec("typer") is None:
        return False  # the full command says what to install
    from policies import GreenAwardError, evaluate

    try:
        award = evaluate(args[1], on=None, reform=None, **values)
    except GreenAwardError:
        return False  # the full command prints it, as one line, and exits with 2
    print_award(award)
    return True
