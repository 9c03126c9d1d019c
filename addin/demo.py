"""``green-award demo``: the main job on the bundled sample portfolio."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from policies.engine import compiled

from .files import OutputExistsError
from .portfolio import print_summary, write_result

SAMPLE = Path(__file__).resolve().parent.parent / "workbook_templates" / "sample_portfolio.csv"


def read_sample() -> pd.DataFrame:
    """The sample portfolio, every column as text (a credit code is never a number)."""
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


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
    table = Table(title="示例项目组合 Sample portfolio")
    for column in ("enterprise", "project", "clause", "amount 金额 (元)", "granted 核定 (元)", "status 状态"):
        table.add_column(column, justify="right" if "元" in column else "left")
    columns = result.columns
    for record in result.records():
        row = dict(zip(columns, record))
        amount, granted = row["amount_yuan"], row["granted_yuan"]
        table.add_row(
            str(row["enterprise"])[:12], str(row["project"]), str(row["clause"]),
            "—" if amount is None else f"{amount:,.2f}", "—" if granted is None else f"{granted:,.2f}", row["status"],
        )
    console.print(table)
    print_summary(result, console)
    path = write_result(result, target, overwrite=overwrite)
    console.print(f"结果 Results: {path}")
    from .declaration import declare_portfolio, print_batch, with_progress

    folder = out / "declarations"  # one declaration workbook per granted or capped claim
    batch = with_progress(console, lambda progress: declare_portfolio(result, folder, overwrite=overwrite, progress=progress))
    print_batch(batch, folder, console)
    converted = None
    if pdf:
        from .pdf import print_pdfs

        converted = print_pdfs([Path(o.path) for o in batch.written], folder, console, overwrite=overwrite)
    from .review import review_demo

    passed = review_demo(folder, console, overwrite=overwrite)  # the reviewer's view of the same files
    return 1 if batch.problems or not passed or (converted is not None and converted.problems) else 0
