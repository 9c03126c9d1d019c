"""``green-award demo``: the main job on the bundled sample portfolio."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from policies import GreenAwardError, evaluate
from policies.engine import compiled

from .files import write_atomically

SAMPLE = Path(__file__).resolve().parent.parent / "workbook_templates" / "sample_portfolio.csv"


def read_sample() -> pd.DataFrame:
    """The sample portfolio, every column as text (a credit code is never a number)."""
    return pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)


def claim_inputs(row: dict, clause_id: str) -> dict[str, object]:
    """The row's values for the names the clause accepts; blank cells are left out."""
    names = compiled(clause_id).specs
    return {k: v for k, v in row.items() if k in names and str(v).strip() != ""}


def run_demo(out: Path, *, overwrite: bool = False, console: Console | None = None) -> int:
    console = console or Console()
    frame = read_sample()
    results = []
    for row in frame.to_dict("records"):
        try:
            award = evaluate(row["clause"], on=row.get("year") or None, **claim_inputs(row, row["clause"]))
            results.append({**row, "amount_yuan": float(award.amount), "eligible": award.eligible,
                            "binding": award.binding or "", "note": "; ".join(award.reasons)})
        except GreenAwardError as exc:
            results.append({**row, "amount_yuan": None, "eligible": False, "binding": "", "note": str(exc)})
    table = Table(title="示例项目组合 Sample portfolio")
    for column in ("enterprise", "project", "clause", "amount 金额 (元)", "binding 约束"):
        table.add_column(column)
    for r in results:
        amount = "invalid" if r["amount_yuan"] is None else f"{r['amount_yuan']:,.2f}"
        table.add_row(r["enterprise"], r["project"], r["clause"], amount, r["binding"] or r["note"])
    console.print(table)
    path = write_atomically(out / "results.xlsx", lambda tmp: pd.DataFrame(results).to_excel(tmp, index=False, sheet_name="claims"), overwrite=overwrite)
    console.print(f"结果 Results: {path}")
    return 0
