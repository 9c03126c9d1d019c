"""The ``green-award`` command."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from policies import GreenAwardError, Reform, evaluate, load_reform, parse_reform

from .entry import input_values, print_award
from .executors import EXECUTOR_HELP, WORKERS_HELP, ExecutorError, check_workers, parse_executor
from .files import OutputError, ensure_writable, ensure_writable_folder

app = typer.Typer(
    help="green-award: subsidies of three Beijing green and low-carbon policies / 北京绿色低碳政策奖励计算",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
T = TypeVar("T")
errors = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    errors.print(f"[red]error 错误:[/red] {message}", highlight=False, soft_wrap=True)  # one line, whatever the width
    raise typer.Exit(code)


USER_ERRORS: tuple[type[Exception], ...] = (GreenAwardError, FileExistsError, OutputError, ExecutorError)


def guarded(call: Callable[[], T], also: tuple[type[Exception], ...] = ()) -> T:
    """``call()``, with a user's error (bad input, an existing output, an output that cannot be
    written) as one line and exit status 2."""
    try:
        return call()
    except USER_ERRORS + also as exc:
        fail(str(exc))


def _checked_workers(value: int | None) -> int | None:
    return guarded(lambda: check_workers(value))  # when the options are read: before any work


def _checked_executor(value: str) -> str:
    guarded(lambda: parse_executor(value))
    return value


#: The batch commands' (portfolio, declare, review, match) options of where the work runs.
WORKERS_OPTION = typer.Option(None, "--workers", help=WORKERS_HELP, callback=_checked_workers)
EXECUTOR_OPTION = typer.Option("processes", "--executor", help=EXECUTOR_HELP, callback=_checked_executor)


@app.command()
def clauses(
    clause: str | None = typer.Argument(None, help="one clause to show in full, e.g. etown:10"),
    policy: str | None = typer.Option(None, "--policy", "-p", help="a policy's id or name, e.g. etown or 经开区"),
    kinds: bool = typer.Option(
        False, "--kinds", help="list the enterprise and project kinds a profile uses (green-award match)"
    ),
) -> None:
    """List the clauses, or show one in full / 列出政策条款或查看单项条款."""
    from .clause_view import print_clause, print_clauses

    if kinds:
        from .match import print_kinds

        guarded(lambda: print_kinds(console))
    elif clause is not None:
        guarded(lambda: print_clause(clause, console))
    else:
        guarded(lambda: print_clauses(policy, console))


REFORM_HELP = "a what-if: a YAML file of parameter values (docs/portfolio.md, Reforms)"
SET_HELP = (
    "a what-if value: clause.parameter=VALUE or =VALUE@DATE (from that date), e.g. etown:27.per_kw=1000; "
    "repeatable; after --reform's"
)


def reform_of(path: Path | None, sets: list[str] | None) -> Reform | None:
    """The reform of ``--reform FILE`` and ``--set NAME=VALUE[@DATE]`` (a --set replaces the file's entry)."""
    if path is None and not sets:
        return None
    entries: dict[str, object] = dict(load_reform(path).as_dict()) if path is not None else {}
    given: dict[str, dict[str, str]] = {}
    for item in sets or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise GreenAwardError(f"--set {item!r} is not name=value or name=value@date / 须为 名称=值 或 名称=值@日期")
        figure, at, day = value.partition("@")
        given.setdefault(name.strip(), {})[day.strip() if at else ""] = figure.strip()
    for name, values in given.items():
        if "" in values and len(values) > 1:
            raise GreenAwardError(
                f"--set {name}: give one value, or values by date (@DATE), not both / 单值与按日期取值不能并用"
            )
        entries[name] = values.get("", values)
    return parse_reform(entries)


@app.command()
def calc(
    clause: str = typer.Argument(..., help="clause id, e.g. etown:27"),
    inputs: list[str] = typer.Argument(None, help="inputs as name=value, e.g. capacity_kw=100"),
    on: str | None = typer.Option(None, "--on", help="the claim's date or year: the policy's validity, dated values"),
    as_json: bool = typer.Option(False, "--json", help="print the award as JSON"),
    sets: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    reform_file: Path | None = typer.Option(None, "--reform", help=REFORM_HELP),
) -> None:
    """Compute one clause's award with its trace / 计算单项条款奖励."""
    values, bad = input_values(inputs or [])
    if bad is not None:
        fail(f"input {bad!r} is not name=value / 输入须为 名称=值")
    reform = guarded(lambda: reform_of(reform_file, sets))
    award = guarded(lambda: evaluate(clause, on=on, reform=reform, **values))
    if as_json:
        console.print_json(json.dumps(award.to_dict(), ensure_ascii=False))
        return
    print_award(award)  # the same lines as the quick path of ``green-award calc`` (addin/entry.py)


@app.command()
def demo(
    out: Path = typer.Option(Path("green-award-demo"), "--out", "-o", help="folder for the results"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace files from an earlier run"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="also print the declarations to PDF with LibreOffice"),
) -> None:
    """Run the main job on the bundled sample portfolio / 用示例项目组合演示."""
    from .demo import run_demo

    guarded(lambda: ensure_writable_folder(out))
    raise typer.Exit(guarded(lambda: run_demo(out, overwrite=overwrite, console=console, pdf=pdf)))


@app.command()
def excel(
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="where to write: the model (.xlsm, default green_award_model.xlsm), "
        "the add-in (.xlam, default green_award.xlam) or the Lite kit's folder (default lite)",
    ),
    addin: bool = typer.Option(
        False, "--addin", help="write the Excel add-in (.xlam) that brings the functions to any workbook"
    ),
    lite: bool = typer.Option(
        False, "--lite", help="write the xlwings Lite kit: main.py, requirements.txt and the wheel"
    ),
    wheel_url: str | None = typer.Option(None, "--wheel-url", help="with --lite: the URL where you host the wheel"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing files"),
) -> None:
    """Write the finance-model workbook, the add-in or the xlwings Lite kit / 生成Excel财务模型、加载项或 Lite 套件."""
    if addin and lite:
        fail("--addin and --lite write different things: give one / 二者选一")
    if wheel_url and not lite:
        fail("--wheel-url goes with --lite / 仅用于 --lite")
    if addin:
        from .excel_addin import write_addin

        path = guarded(lambda: write_addin(out or Path("green_award.xlam"), overwrite=overwrite), also=(ValueError,))
        console.print(f"已生成 Wrote {path}", highlight=False)
    elif lite:
        from .excel_lite import write_lite

        for path in guarded(lambda: write_lite(out or Path("lite"), wheel_url=wheel_url, overwrite=overwrite)):
            console.print(f"已生成 Wrote {path}", highlight=False)
    else:
        from .excel import write_model_workbook

        path = guarded(
            lambda: write_model_workbook(out or Path("green_award_model.xlsm"), overwrite=overwrite), also=(ValueError,)
        )
        console.print(f"已生成 Wrote {path}", highlight=False)


@app.command()
def review(
    paths: list[Path] = typer.Argument(None, help="declaration workbooks, or folders of them"),
    report: Path | None = typer.Option(None, "--report", help="write a report workbook (.xlsx) for people"),
    json_out: Path | None = typer.Option(None, "--json", help="write the report as JSON"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing report files"),
    ledger: str | None = typer.Option(
        None,
        "--ledger",
        help="record the submissions in this ledger and check them against its grants (default $GREEN_AWARD_LEDGER)",
    ),
    workers: int | None = WORKERS_OPTION,
    executor: str = EXECUTOR_OPTION,
) -> None:
    """Review submitted declarations: recompute, catch tampering and hostile files / 审核申报表."""
    from .review import run_review

    for path in (report, json_out):
        if path is not None:
            guarded(partial(ensure_writable, path))  # before the review, not after it
    raise typer.Exit(
        guarded(
            lambda: run_review(
                paths or [],
                report=report,
                json_out=json_out,
                overwrite=overwrite,
                console=console,
                ledger=ledger,
                workers=workers,
                executor_spec=executor,
            )
        )
    )


@app.command()
def declare(
    portfolio: Path = typer.Argument(..., help="the portfolio table (.csv or .xlsx)"),
    out: Path = typer.Option(..., "--out", "-o", help="folder for the declaration workbooks"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing declarations"),
    workers: int | None = WORKERS_OPTION,
    executor: str = EXECUTOR_OPTION,
    pdf: bool = typer.Option(False, "--pdf", help="also print each declaration to PDF (in <out>_pdf) with LibreOffice"),
) -> None:
    """Write a declaration workbook (申报表) per granted claim / 批量生成申报表."""
    from .declaration import run_declare

    raise typer.Exit(
        guarded(
            lambda: run_declare(
                portfolio,
                out,
                overwrite=overwrite,
                workers=workers,
                executor_spec=executor,
                console=console,
                pdf=pdf,
            )
        )
    )


@app.command()
def portfolio(
    source: Path = typer.Argument(..., help="the portfolio table (.csv, or .xlsx with a claims sheet)"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="the result: .csv (claims) or .xlsx (claims, summaries, chart)"
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing result"),
    ledger: str | None = typer.Option(
        None, "--ledger", help="deduct and cite the grants of this ledger (read only; default $GREEN_AWARD_LEDGER)"
    ),
    reform_file: Path | None = typer.Option(
        None, "--reform", help=REFORM_HELP + ": computed beside the policies as they stand, side by side"
    ),
    sets: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    workers: int | None = WORKERS_OPTION,
    executor: str = EXECUTOR_OPTION,
) -> None:
    """Awards of a portfolio: best clause per project, stacking, caps, payments by year / 项目组合奖励测算."""
    from .ledger import grants_on_record
    from .portfolio import run_portfolio

    if out is not None:
        guarded(lambda: ensure_writable(out))  # before the computation, not after it
    reform = guarded(lambda: reform_of(reform_file, sets))
    record = guarded(lambda: grants_on_record(ledger))
    result = guarded(
        lambda: run_portfolio(
            source,
            out,
            overwrite=overwrite,
            console=console,
            record=record,
            reform=reform,
            workers=workers,
            executor_spec=executor,
        )
    )
    raise typer.Exit(1 if result.invalid else 0)


@app.command("match")
def match_command(
    profiles: list[Path] = typer.Argument(
        ...,
        help="the enterprise profile (.yaml, .json or .xlsx: green-award template profile); "
        "several, or folders of them, for a batch",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="write the opportunities and the best combination (.xlsx); in a batch, a folder (one per profile)",
    ),
    json_out: Path | None = typer.Option(
        None, "--json", help="write the results as JSON; in a batch, a folder (one per profile)"
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing output files"),
    everything: bool = typer.Option(
        False,
        "--all",
        help="also print the clauses that do not apply (other than by kind); one profile only, a batch prints a line each",
    ),
    workers: int | None = WORKERS_OPTION,
    executor: str = EXECUTOR_OPTION,
) -> None:
    """Which awards can the enterprise get? Every clause for its projects, and the best combination / 政策匹配."""
    from .match import run_match, run_matches

    if len(profiles) == 1 and not profiles[0].is_dir():  # one profile: matched here, printed in full
        for path in (out, json_out):
            if path is not None:
                guarded(partial(ensure_writable, path))
        guarded(
            lambda: run_match(
                profiles[0], out=out, json_out=json_out, overwrite=overwrite, everything=everything, console=console
            )
        )
        return
    results = guarded(
        lambda: run_matches(
            profiles,
            out=out,
            json_out=json_out,
            overwrite=overwrite,
            workers=workers,
            executor_spec=executor,
            console=console,
        )
    )
    raise typer.Exit(1 if any(m.error for m in results) else 0)


template_app = typer.Typer(help="Write an empty table to fill in / 生成空白模板", no_args_is_help=True)
app.add_typer(template_app, name="template")


@template_app.command("portfolio")
def template_portfolio(
    out: Path = typer.Option(Path("portfolio_template.xlsx"), "--out", "-o", help="the workbook to write (.xlsx)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
) -> None:
    """The empty portfolio table with dropdowns and help / 空白项目组合表（含下拉选项和说明）."""
    from .portfolio import write_template

    path = guarded(lambda: write_template(out, overwrite=overwrite))
    console.print(f"已生成 Wrote {path}", highlight=False)


@template_app.command("profile")
def template_profile(
    out: Path = typer.Option(Path("profile_template.xlsx"), "--out", "-o", help="the workbook to write (.xlsx)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
) -> None:
    """The empty enterprise profile with Chinese labels and dropdowns (green-award match) / 空白企业画像表."""
    from .match import write_template

    path = guarded(lambda: write_template(out, overwrite=overwrite))
    console.print(f"已生成 Wrote {path}", highlight=False)


def show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        from policies.registry import policies

        texts = ", ".join(f"{p.id} {p.encoding_version}" for p in policies().values())
        console.print(f"green-award {version('green-award')} (policies 政策编码: {texts})", highlight=False)
        raise typer.Exit()


@app.callback()
def options(
    version: bool = typer.Option(
        False, "--version", callback=show_version, is_eager=True, help="print the version and exit / 显示版本"
    ),
) -> None:
    """green-award: subsidies of three Beijing green and low-carbon policies / 北京绿色低碳政策奖励计算"""


from .ledger.cli import app as ledger_app  # noqa: E402 - the sub-app imports SQLAlchemy only when run

app.add_typer(ledger_app, name="ledger")

from .web.cli import serve, users_app  # noqa: E402 - FastAPI is imported only when serve runs

app.command("serve")(serve)
app.add_typer(users_app, name="users")


def main() -> None:
    try:
        app()
    except OSError as exc:  # what no guard named: the printed output itself (``> file`` on a full disk)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second failure at exit
        message = (
            f"{exc.filename}: {exc.strerror or exc}"
            if exc.filename
            else f"cannot write the standard output 标准输出: {exc.strerror or exc} / 无法写入输出"
        )
        errors.print(f"[red]error 错误:[/red] {message}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
