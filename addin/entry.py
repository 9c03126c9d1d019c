"""The ``green-award`` script: the command line, or one line saying how to install it.

The command line's libraries (typer, rich, pandas, openpyxl, defusedxml) come with the ``cli``
extra; a plain ``pip install green-award`` (what xlwings Lite installs) has only the policy core
and the worksheet functions.
"""

from __future__ import annotations

import sys

CLI_LIBRARIES = ("typer", "rich", "pandas", "openpyxl", "defusedxml")


def main() -> None:
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
    cli_main()
