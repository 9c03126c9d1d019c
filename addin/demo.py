"""``green-award demo``: the main job on the bundled sample portfolio."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console

from policies.engine import compiled

from . import console_tables as tables
from .files import OutputExistsError
from .portfolio import heading, print_summary, read_table, write_result

SAMPLE = Path(__file__).resolve().parent.parent / "workbook_templates" / "sample_portfolio.csv"
PROFILE_SAMPLE = Path(__file__).resolve().parent.parent / "workbook_templates" / "profile_example.yaml"


def read_sample() -> pd.DataFrame:
    """The sample portfolio, every column as text (a credit code is never a number)."""
    return read_table(SAMPLE)  # the one table reader of portfolio and declare


def claim_inputs(row: dict, clause_id: str) -> dict[str, object]:
    """The row's values for the names the clause accepts; blank cells are left out."""
    names = compiled(clause_id).specs
    return {k: v for k, v in row.items() if k in names and str(v).strip() != ""}


def run_demo(out: Path, *, overwrite: bool = False, console: Console | None = None, pdf: bool = True) -> int:
    """The sample portfolio through the portfolio computation (``green-award portfolio``): every
    rule at work (best clause, conflicts, stacking, caps, payment years, validity, invalid rows);
    writes ``out/results.xlsx`` (claims, summaries, payments and a chart), the declarations in
    ``out/declarations`` and, with LibreOffice installed and ``pdf``, their PDFs in ``out/declarations_pdf``."""
    from .portfolio import run_portfolio

    console = console or Console()
    target = out / "results.xlsx"
    if target.exists() and not overwrite:
        raise OutputExistsError(target)
    result = run_portfolio(SAMPLE, None, console=console, quiet=True)
    table = tables.table("示例项目组合 Sample portfolio")
    tables.text(table, heading("enterprise"))
    for column in ("project", "clause"):
        tables.name(table, heading(column))
    for column in ("amount_yuan", "granted_yuan"):
        tables.figure(table, heading(column))
    tables.name(table, heading("status"))
    columns = result.columns
    for record in result.records():
        row = dict(zip(columns, record))
        table.add_row(
            tables.line(str(row["enterprise"])),
            str(row["project"]),
            str(row["clause"]),  # names: results.xlsx
            tables.yuan(row["amount_yuan"]),
            tables.yuan(row["granted_yuan"]),
            row["status"],
        )
    console.print(table)
    print_summary(result, console)
    path = write_result(result, target, overwrite=overwrite)
    console.print(f"结果 Results: {path}")
    from .declaration import declare_portfolio, print_batch, with_progress

    folder = out / "declarations"  # one declaration workbook per granted or capped claim
    batch = with_progress(
        console, lambda progress: declare_portfolio(result, folder, overwrite=overwrite, progress=progress)
    )
    print_batch(batch, folder, console)
    converted = None
    if pdf:
        from .pdf import print_pdfs

        converted = print_pdfs([Path(o.path) for o in batch.written if o.path], folder, console, overwrite=overwrite)
    from .review import review_demo

    passed = review_demo(folder, console, overwrite=overwrite)  # the reviewer's view of the same files
    from .match import match_file, print_match

    console.rule("政策匹配 Which awards can the sample enterprise get? (green-award match)")
    print_match(match_file(PROFILE_SAMPLE), console)  # the enterprise's view: from its profile to the clauses
    return 1 if batch.problems or not passed or (converted is not None and converted.problems) else 0
