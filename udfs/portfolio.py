"""``PORTFOLIO_AWARDS(table)``: the portfolio computation (``policies.stacking``) for a worksheet range.

The range is laid out as the portfolio table (docs/portfolio.md), header row included; the result
spills the added columns with their own header row, one row per table row, so it sits beside the
table. A row left empty in the range (room for more claims) gives an empty result row. An invalid
row shows ``invalid`` and the reason in its status and note cells and leaves its amount cells empty
(never 0), so a guarded total such as ``=IF(COUNTIF(status,"invalid"),NA(),SUM(granted))`` refuses
to add up while any row is invalid.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from policies.stacking import added_columns, stack_rows

from ._sheet import bad, worksheet_function

EMPTY = ""  # an empty cell in a spilled array (None would be fine in classic xlwings, not everywhere)


def _cell(value: Any) -> Any:
    if value is None:
        return EMPTY
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _blank_row(row: list) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


@worksheet_function(
    table="组合表区域（含表头）：enterprise、project、clause、year及各条款输入列 / The portfolio table's range, "
    "header row included: enterprise, project, clause, year and one column per clause input",
)
def PORTFOLIO_AWARDS(table):
    """项目组合奖励（溢出）：政策、单项金额、核定金额、状态、说明及兑现年度（元）。/ A portfolio's awards (spills): policy, clause amount, granted after best-of and caps, status, note, payments by year; invalid rows leave amounts empty."""
    if not isinstance(table, list) or not table:
        raise bad(
            "PORTFOLIO_AWARDS", "table", "must be a range with a header row and one row per claim / 须为含表头的区域"
        )
    if not isinstance(table[0], list):  # a one-row range arrives flat: the header alone
        table = [table]
    header, body = table[0], [list(r) for r in table[1:]]
    if any(not isinstance(h, str) or not h.strip() for h in header if h is not None) or all(h is None for h in header):
        raise bad(
            "PORTFOLIO_AWARDS",
            "table",
            "the first row must be the header (enterprise, project, clause, year, …) / 首行须为表头",
        )
    header = ["" if h is None else h for h in header]
    claims = [i for i, row in enumerate(body) if not _blank_row(row)]
    names = added_columns()
    out: list[list[Any]] = [list(names)]
    result = stack_rows(header, [body[i] for i in claims], parallel=False) if claims else None
    filled = dict(zip(claims, result.added)) if result is not None else {}
    for i in range(len(body)):
        extra = filled.get(i)
        out.append([_cell(v) for v in extra] if extra is not None else [EMPTY] * len(names))
    return out
