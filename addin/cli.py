"""The ``green-award`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from policies import GreenAwardError, catalog, evaluate

app = typer.Typer(
    help="green-award: subsidies of three Beijing green and low-carbon policies / 北京绿色低碳政策奖励计算",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
T = TypeVar("T")
errors = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    errors.print(f"[red]error 错误:[/red] {message}", highlight=False)
    raise typer.Exit(code)


USER_ERRORS: tuple[type[Exception], ...] = (GreenAwardError, FileExistsError)


def guarded(call: Callable[[], T], also: tuple[type[Exception], ...] = ()) -> T:
    """``call()``, with a user's error (bad input, an existing output) as one line and exit status 2."""
    try:
        return call()
    except USER_ERRORS + also as exc:
        fail(str(exc))


@app.command()
def clauses(policy: Optional[str] = typer.Option(None, "--policy", "-p", help="beijing, tongzhou or etown")) -> None:
    """List the clauses of the catalog / 列出政策条款."""
    rows = guarded(lambda: catalog(policy))
    table = Table(title="条款 Clauses", show_lines=False)
    for column in ("id", "article 条款", "title 标题", "inputs 输入", "cap 上限"):
        table.add_column(column)
    for row in rows:
        inputs = ", ".join(i["name"] for i in row["inputs"] if i["kind"] == "input")
        cap = f"{row['max_amount']:,.0f}" if row["max_amount"] is not None else ("—" if row["monetary"] else "non-monetary")
        table.add_row(row["id"], row["article"], f"{row['title_zh']}\n{row['title_en']}", inputs, cap)
    console.print(table)


@app.command()
def calc(
    clause: str = typer.Argument(..., help="clause id, e.g. etown:27"),
    inputs: list[str] = typer.Argument(None, help="inputs as name=value, e.g. capacity_kw=100"),
    on: Optional[str] = typer.Option(None, "--on", help="check the policy's validity on this date or year"),
    as_json: bool = typer.Option(False, "--json", help="print the award as JSON"),
) -> None:
    """Compute one clause's award with its trace / 计算单项条款奖励."""
    values: dict[str, str] = {}
    for item in inputs or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"input {item!r} is not name=value / 输入须为 名称=值")
        values[name.strip()] = value
    award = guarded(lambda: evaluate(clause, on=on, **values))
    if as_json:
        console.print_json(json.dumps(award.to_dict(), ensure_ascii=False))
        return
    for step in award.trace:
        console.print(step, highlight=False)
    for payment in award.payments:
        console.print(f"支付 Payment: {payment.stage}: {payment.amount:,} 元 ({payment.status})", highlight=False)
    for note in award.notes:
        console.print(f"[dim]注 Note: {note}[/dim]", highlight=False)


@app.command()
def demo(
    out: Path = typer.Option(Path("green-award-demo"), "--out", "-o", help="folder for the results"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace files from an earlier run"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="also print the declarations to PDF with LibreOffice"),
) -> None:
    """Run the main job on the bundled sample portfolio / 用示例项目组合演示."""
    from .demo import run_demo

    raise typer.Exit(guarded(lambda: run_demo(out, overwrite=overwrite, console=console, pdf=pdf)))


@app.command()
def excel(
    out: Path = typer.Option(Path("green_award_model.xlsm"), "--out", "-o", help="the workbook to write (.xlsm)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
) -> None:
    """Write the macro-enabled finance-model workbook for xlwings / 生成Excel财务模型工作簿."""
    from .excel import write_model_workbook

    path = guarded(lambda: write_model_workbook(out, overwrite=overwrite), also=(ValueError,))
    console.print(f"已生成 Wrote {path}", highlight=False)


@app.command()
def review(
    paths: list[Path] = typer.Argument(None, help="declaration workbooks, or folders of them"),
    report: Optional[Path] = typer.Option(None, "--report", help="write a report workbook (.xlsx) for people"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the report as JSON"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing report files"),
) -> None:
    """Review submitted declarations: recompute, catch tampering and hostile files / 审核申报表."""
    from .review import run_review

    raise typer.Exit(run_review(paths or [], report=report, json_out=json_out, overwrite=overwrite, console=console))


@app.command()
def declare(
    portfolio: Path = typer.Argument(..., help="the portfolio table (.csv or .xlsx)"),
    out: Path = typer.Option(..., "--out", "-o", help="folder for the declaration workbooks"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace existing declarations"),
    workers: Optional[int] = typer.Option(None, "--workers", help="processes (default: all cores; 1: none)"),
    pdf: bool = typer.Option(False, "--pdf", help="also print each declaration to PDF (in <out>_pdf) with LibreOffice"),
) -> None:
    """Write a declaration workbook (申报表) per granted claim / 批量生成申报表."""
    from .declaration import run_declare

    raise typer.Exit(guarded(lambda: run_declare(portfolio, out, overwrite=overwrite, workers=workers, console=console,
                                                 pdf=pdf)))


@app.command()
def portfolio(
    source: Path = typer.Argument(..., help="the portfolio table (.csv, or .xlsx with a claims sheet)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="the result: .csv (claims) or .xlsx (claims, summaries, chart)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing result"),
) -> None:
    """Awards of a portfolio: best clause per project, stacking, caps, payments by year / 项目组合奖励测算."""
    from .portfolio import run_portfolio

    result = guarded(lambda: run_portfolio(source, out, overwrite=overwrite, console=console))
    raise typer.Exit(1 if result.invalid else 0)


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


def main() -> None:
    app()
