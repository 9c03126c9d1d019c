"""The portfolio table on disk: reading it (csv or xlsx), writing the result, and the empty template.

``run_portfolio`` is what ``green-award portfolio INPUT -o OUTPUT`` calls: open the table, ``policies
.stacking.stack_source`` (a first pass over the rows), write (a second pass: csv, the claims; xlsx,
claims, summaries, payments and a chart), print a summary. A csv is read row by row, twice, and
never held whole. DataFrames of a result (``stack``, ``Frames``) are built here, at the edge: the
core gives lists. The table is documented in docs/portfolio.md.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from policies import GreenAwardError
from policies.engine import compiled
from policies.parameters import Reform
from policies.registry import fields, policies
from policies.schema import InputSpec
from policies.stacking import (
    ENTERPRISE_YEAR_COLUMNS,
    PAYMENT_COLUMNS,
    PAYMENT_YEAR_COLUMNS,
    POLICY_COLUMNS,
    REFORM_COLUMNS,
    REFORM_SUMMARY_COLUMNS,
    REQUIRED,
    STATUSES,
    Portfolio,
    added_columns,
    column_name,
    monetary_clauses,
    stack_source,
)

from . import console_tables as tables
from .executors import batch_executor
from .files import write_atomically
from .progress import progress_bar
from .safe_xlsx import DEFAULT_LIMITS, SafeZip, UnsafeWorkbook, parse_xml
from .tables import csv_cell, csv_row, open_csv, unneutralise
from .tables import write_csv as write_csv_rows

if TYPE_CHECKING:
    import pandas as pd

    from .sheet_style import Column

# ``addin.sheet_style`` (and openpyxl, numpy) is imported where a workbook is written: a csv result
# is written without them (0.15 s of the command's start).

#: Above this many rows the command shows a progress bar.
PROGRESS_MIN = 2000
#: From how many rows a local process pool runs the evaluations when ``--workers`` is not given
#: (``addin.executors.pool_size``). Measured again on the 2-core machine (load average 1.8, the
#: other sessions using about one core and a half), the batch path's evaluations are too cheap for
#: a pool to pay: 100,000 all-distinct rows took 4.95-5.31 s with 2 workers against 4.44-4.86 s in one
#: process, 1.06x-1.13x the time in every one of 4 rounds (and 1,000,000 rows 57.5 s against 54.0 s
#: earlier; docs/performance.md). So by default the command runs in one process; ``--workers N`` asks for N.
POOL_PAYS_FROM = 10_000_000

# A portfolio workbook may hold 100,000s of claims: larger limits than a declaration's, same guard.
PORTFOLIO_LIMITS = replace(
    DEFAULT_LIMITS, max_file_bytes=200 * 2**20, max_entry_bytes=1024 * 2**20, max_total_bytes=1536 * 2**20
)

#: The 中文 and English names of the columns the result and the template show that are no clause's
#: input (an input column takes its spec's label, ``input_labels``; a claim field its heading in
#: common.yaml), and of the values ``status`` and the payment status take (``policy``'s values are
#: the policies' labels). The one table of these names: sheets, help and console.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    **{name: (f.column.zh, f.column.en) for name, f in fields().items()},
    "policy": ("政策", "Policy"),
    "amount_yuan": ("测算金额（元）", "Amount (yuan)"),
    "granted_yuan": ("核定金额（元）", "Granted (yuan)"),
    "status": ("状态", "Status"),
    "note": ("说明", "Note"),
    "reform_status": ("改革后状态", "Status under the reform"),
    "reform_granted_yuan": ("改革后核定金额（元）", "Granted under the reform (yuan)"),
    "reform_difference_yuan": ("改革差额（元）", "Difference (yuan)"),
    "reform_note": ("改革后说明", "Note under the reform"),
    "claims": ("申报数", "Claims"),
    "granted_claims": ("获支持数", "Granted claims"),
    "granted": ("核定", "Granted"),
    "capped": ("封顶", "Capped"),
    "superseded": ("从优未选", "Superseded"),
    "conflict": ("政策冲突", "Conflict"),
    "duplicate": ("重复申报", "Duplicate"),
    "ineligible": ("不符合", "Ineligible"),
    "invalid": ("无效", "Invalid"),
    "payment_year": ("支付年度", "Payment year"),
    "claim_year": (fields()["year"].column.zh, fields()["year"].column.en),
    "stage": ("期次", "Stage"),
    "due": ("应付", "Due"),
    "pending": ("待条件", "Pending"),
    "due_yuan": ("应付（元）", "Due (yuan)"),
    "pending_yuan": ("待条件（元）", "Pending (yuan)"),
    "total_yuan": ("合计（元）", "Total (yuan)"),
}
#: How to fill the columns that are no clause's input (the template's help sheet and comments).
DETAIL_HELP = {name: f.help for name, f in fields().items() if f.help}
#: The enterprises sheet (keyed by enterprise) and the projects sheet (keyed by enterprise and project).
ENTERPRISE_COLUMNS = [name for name, f in fields().items() if f.of == "enterprise"]
PROJECT_COLUMNS = ["enterprise", "project", *(n for n, f in fields().items() if f.of == "project" and n != "project")]
TEXT_COLUMNS = {name for name, f in fields().items() if f.kind == "text"}


# --- reading --------------------------------------------------------------------------------------


def check_workbook(path: Path) -> None:
    """Refuse a workbook that is not a zip, whose directory declares a zip bomb, or any of whose XML
    parts declares a DTD (``addin.safe_xlsx``): one line, before openpyxl parses anything."""
    try:
        book = SafeZip(path, PORTFOLIO_LIMITS)
        for name in book.names:
            if name.lower().endswith((".xml", ".rels", ".vml")):
                _refuse_dtd(book.read(name), name)
    except UnsafeWorkbook as exc:
        raise GreenAwardError(f"{path}: {exc} / 工作簿不安全或已损坏") from None


def _refuse_dtd(data: bytes, name: str) -> None:
    """``safe_xlsx.parse_xml``'s refusal of a DTD, on the part's prolog only: a DTD stands before the
    root element, and parsing a 100 MB sheet into a tree here would cost more than reading it."""
    root = re.search(rb"<[A-Za-z_]", data)  # a UTF-16 part has none: its whole text is scanned
    head = data[: root.start()] if root else data
    if b"<!" in head or not root:
        parse_xml(head + b"<x/>" if root else data, name)


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text, blanks as '' (a credit code or project number never becomes a float)."""
    frame = frame.astype(object).where(frame.notna(), "")
    frame.columns = [column_name(c) for c in frame.columns]
    return frame.map(lambda v: unneutralise(v) if isinstance(v, str) else _cell_text(v))


def _cell_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class Source:
    """A portfolio table as read: header, rows of text cells, and how it was read (for the user)."""

    header: list[str]
    rows: list[list]
    described: str  # e.g. "csv, GB18030, comma-separated"

    def read_line(self, path: Path | str) -> str:
        """What the commands print first: the file, how it was read, how many rows."""
        return read_line(path, self.described, len(self.rows))


def read_line(path: Path | str, described: str, rows: int) -> str:
    return f"读取 Read: {path} ({described}; {rows:,} rows 行)"


@dataclass
class Opened:
    """A portfolio table to read row by row (``read()``, as often as needed): a csv streams from
    its file; an xlsx is read into memory once (openpyxl reads the whole sheet anyway)."""

    header: list[str]
    read: Callable[[], Iterable[Sequence]]
    described: str
    estimate: int  # about how many rows (a csv's line breaks): for the executor and the progress bar


def open_source(path: Path | str) -> Opened:
    """The table of ``read_source``, opened to stream: a csv is not read here beyond its header."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in (".csv", ".txt", ".tsv"):
        csv_source = open_csv(path)
        return Opened(csv_source.header, csv_source.rows, f"csv, {csv_source.described}", max(csv_source.lines - 1, 0))
    source = read_source(path)
    rows = source.rows
    return Opened(source.header, lambda: rows, source.described, len(rows))


def read_table(path: Path | str) -> pd.DataFrame:
    """The claims of a portfolio file as a DataFrame, every column as text (see ``read_rows``)."""
    import pandas as pd

    header, rows = read_rows(path)
    return pd.DataFrame(rows, columns=header, dtype=object)


def read_rows(path: Path | str) -> tuple[list[str], list[list]]:
    """The claims of a portfolio file as a header and rows of text cells (``read_source``)."""
    source = read_source(path)
    return source.header, source.rows


def read_source(path: Path | str) -> Source:
    """The claims of a portfolio file, the one reader of ``portfolio`` and ``declare``.

    csv (or .txt/.tsv): the table itself, in any encoding and delimiter ``addin.tables.read_csv``
    reads. xlsx: the ``claims`` sheet (or the only sheet), with the columns of the optional
    ``enterprises`` sheet (keyed by ``enterprise``) and ``projects`` sheet (keyed by ``project``, and
    ``enterprise`` when it has that column) filled in where the claim leaves them blank. Rows without
    any value are left out; a ``'`` that neutralised formula text (``addin.tables``) is taken off.
    """
    path = Path(path)
    if not path.is_file():
        raise GreenAwardError(f"{path}: no such file / 文件不存在")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        table = open_csv(path)
        return Source(table.header, list(table.rows()), f"csv, {table.described}")
    if suffix not in (".xlsx", ".xlsm"):
        raise GreenAwardError(f"{path}: expected a .csv or .xlsx file / 须为csv或xlsx")
    check_workbook(path)
    import pandas as pd

    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - whatever a damaged or hostile file raises is that file's problem
        raise GreenAwardError(
            f"{path}: not a readable xlsx ({type(exc).__name__}: {str(exc)[:200]}) / 无法读取"
        ) from None
    names = {name.strip().lower(): name for name in sheets}
    if "claims" in names:
        claims = sheets[names["claims"]]
        used = names["claims"]
    elif len(sheets) == 1:
        used, claims = next(iter(sheets.items()))
    else:
        raise GreenAwardError(f"{path}: no sheet named 'claims' (sheets: {', '.join(sheets)}) / 缺少claims工作表")
    claims = _without_blank_rows(_text_frame(claims))
    detail = []
    for sheet, keys in (("enterprises", ["enterprise"]), ("projects", ["enterprise", "project"])):
        if sheet in names:
            claims = _fill_from(claims, _text_frame(sheets[names[sheet]]), keys, f"{path.name}:{sheet}")
            detail.append(names[sheet])
    described = f"xlsx, sheet {used}" + (f" with {' and '.join(detail)}" if detail else "")
    return Source(list(claims.columns), claims.to_numpy(dtype=object).tolist(), described)


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with no value at all (a spacer row in a sheet) are not claims."""
    if frame.empty:
        return frame
    filled = frame.apply(lambda column: column.astype(str).str.strip().ne("")).any(axis=1)
    return frame if filled.all() else frame[filled].reset_index(drop=True)


def _fill_from(claims: pd.DataFrame, detail: pd.DataFrame, keys: list[str], where: str) -> pd.DataFrame:
    """Blank claim cells filled from a detail sheet matched on ``keys`` (the last one is required)."""
    if keys[-1] not in detail.columns:
        raise GreenAwardError(f"{where}: needs a column {keys[-1]!r} to match the claims / 缺少匹配列")
    import pandas as pd

    keys = [k for k in keys if k in detail.columns]
    if any(k not in claims.columns for k in keys):
        return claims  # the claims sheet lacks a key column: stacking reports it
    detail = detail[[c for c in detail.columns if c and not c.startswith("Unnamed")]]
    detail = detail[detail[keys].ne("").all(axis=1)]
    doubled = detail.duplicated(keys, keep=False)
    if doubled.any():
        first = detail[doubled].iloc[0][keys].tolist()
        raise GreenAwardError(f"{where}: {' / '.join(first)} appears twice / 重复")
    lookup = detail.set_index(keys)
    claims = claims.copy()
    index = pd.MultiIndex.from_frame(claims[keys]) if len(keys) > 1 else pd.Index(claims[keys[0]])
    for column in lookup.columns:
        values = lookup[column].reindex(index).fillna("").tolist()
        if column in claims.columns:
            own = claims[column].tolist()
            claims[column] = [o if str(o).strip() else v for o, v in zip(own, values)]
        else:
            claims[column] = values
    return claims


# --- writing --------------------------------------------------------------------------------------


def _plain(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType":
        return None
    if hasattr(value, "item") and not isinstance(value, (str, Decimal)):
        return value.item()  # numpy scalar
    return value


#: The sheets of the xlsx result, in order: the summary first; ``claims`` (every input column and
#: every added one, as ``read_rows`` reads it back) last and hidden, so that printing the workbook
#: prints the readable sheets only (LibreOffice and Excel print hidden sheets never; unhide it to filter).
SHEETS = (
    "汇总 Summary",
    "申报 Claims",
    "按企业年度 By enterprise-year",
    "按政策 By policy",
    "按支付年度 By payment year",
    "支付 Payments",
)
FULL_SHEET = "claims"
#: The printed claims view: what a reader needs of each claim, one A4 landscape page wide.
VIEW_COLUMNS = ["enterprise", "project", "clause", "year", "amount_yuan", "granted_yuan", "status", "note"]
STATUS_FILLS = {"granted": "C6EFCE", "capped": "FFE699", "invalid": "F8CBAD", "conflict": "F8CBAD"}
_PAYMENT = re.compile(r"payment_(\d+)_(year|yuan|status)")


@lru_cache(maxsize=1)
def input_labels() -> dict[str, tuple[str, str]]:
    """(中文, English) of every name a monetary clause reads, from its spec; where clauses word a
    shared name differently (investment_yuan: 核定总投资, 纳入奖励范围的项目总投资, …) the shortest
    wording, the most general one."""
    out: dict[str, tuple[str, str]] = {}
    for clause_id in monetary_clauses():
        for name, spec in compiled(clause_id).specs.items():
            label = (spec.label.zh, spec.label.en)
            if name not in out or len(label[0]) < len(out[name][0]):
                out[name] = label
    return out


def column_label(name: str) -> tuple[str, str]:
    """(中文, English) of a column of the table or of the result; the name itself when unknown."""
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if name in policies():
        return policies()[name].label.zh, policies()[name].label.en
    if name in input_labels():
        return input_labels()[name]
    stage = _PAYMENT.fullmatch(name)
    if stage:
        n, part = stage.groups()
        return {
            "year": (f"第{n}期支付年度", f"Payment {n} year"),
            "yuan": (f"第{n}期支付（元）", f"Payment {n} (yuan)"),
            "status": (f"第{n}期支付状态", f"Payment {n} status"),
        }[part]
    return name, name


def value_label(value: object) -> object:
    """A status, payment status or policy id as people read it (``核定 granted``); other values as they are."""
    if isinstance(value, str) and (value in COLUMN_LABELS or value in policies()):
        return f"{column_label(value)[0]} {value}"
    return value


def _kind(name: str) -> str:
    if name.endswith("_yuan"):
        return "money"
    if name in ("year", "claim_year", "payment_year") or name.endswith("_year"):
        return "year"
    if name in ("claims", "granted_claims", "stage", *STATUSES):
        return "count"
    return "text"


def report_column(name: str, kind: str | None = None, max_width: float = 40) -> Column:
    """The column of a sheet people read: 中文 over English."""
    from .sheet_style import Column

    zh, en = column_label(name)
    return Column(zh, en, kind or _kind(name), max_width)


def _year(value: object) -> object:
    """A year typed as text ("2025") as a number, so it sorts and aligns as one."""
    text = str(value).strip() if value is not None else ""
    return int(text) if len(text) == 4 and text.isdigit() else value


# The result workbook is written with xlsxwriter in its constant-memory mode: each row is written
# out when the next begins, empty cells are not written at all, and the look is ``addin.sheet_style``'s
# (the same widths, heights, formats and print setup as its openpyxl tables).


class _Book:
    """The result workbook: xlsxwriter formats made once per look, tables written row by row."""

    def __init__(self, path: Path) -> None:
        import xlsxwriter

        self.workbook = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        self.formats: dict[tuple, object] = {}

    @staticmethod
    def width(ws, col: int, width: float) -> None:
        """Column ``col``'s width as ``sheet_style`` (and openpyxl) store it: xlsxwriter adds its 5
        pixels of padding to what it is given (Excel's UI width), so it is given them less."""
        ws.set_column(col, col, width - 5 / 7)

    def format(self, kind: str = "text", *, bold: bool = False, size: int = 0, fill: str = "", align: str = ""):
        """The format of a cell: ``kind``'s number format (``sheet_style.FORMATS``), wrap for ``wrap``,
        ``align`` top/header, a fill colour, bold or a title size; None for a plain cell."""
        from .sheet_style import FORMATS

        key = (kind, bold, size, fill, align)
        if key not in self.formats:
            spec: dict[str, object] = {}
            if kind in FORMATS:
                spec["num_format"] = FORMATS[kind]
            if align == "header":
                spec.update(text_wrap=True, valign="vcenter", align="center")
            elif kind == "wrap":
                spec.update(text_wrap=True, valign="top")
            elif align == "top":
                spec["valign"] = "top"
            if bold:
                spec["bold"] = True
            if size:
                spec["font_size"] = size
            if fill:
                spec.update(pattern=1, bg_color=f"#{fill}")
            self.formats[key] = self.workbook.add_format(spec) if spec else None
        return self.formats[key]

    def sheet(
        self, name: str, *, title: str = "", one_page: bool = False, title_rows: int | None = 1, grid: bool = True
    ):
        """A worksheet with ``sheet_style.print_setup``'s page: A4 landscape, one page wide, the header
        rows on every page, the sheet's name and title above, the page numbers below."""
        ws = self.workbook.add_worksheet(name)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 1 if one_page else 0)
        ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
        ws.set_header("&L&A" + (f"&R{title.replace('&', '&&')}" if title else ""), {"margin": 0.3})
        ws.set_footer("&C第 &P 页 共 &N 页 / page &P of &N", {"margin": 0.3})
        ws.hide_gridlines(0 if grid else 1)
        if title_rows:
            ws.repeat_rows(0, title_rows - 1)
        return ws

    def put(self, ws, row: int, col: int, value: object, fmt=None) -> None:
        """One cell; an empty one is not written at all. Text stays text (never a formula)."""
        if value is None or value == "":
            return
        if isinstance(value, str):
            if "\r" in value:  # as XML reads a CR (and openpyxl wrote it): a line feed, not _x000D_
                value = value.replace("\r\n", "\n").replace("\r", "\n")
            ws.write_string(row, col, value, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, (int, float, Decimal)):
            ws.write_number(row, col, value, fmt)  # type: ignore[arg-type]
        else:
            ws.write_string(row, col, str(value), fmt)

    def table(
        self,
        ws,
        columns: Sequence[Column],
        rows: Iterable[Sequence],
        *,
        sample: Sequence[Sequence] | None = None,
        fills: Iterable[str] | None = None,
        fill_at: int = 0,
        freeze: tuple[int, int] = (1, 0),
        blanks: bool = True,
    ) -> None:
        """``sheet_style.write_table``: the bilingual header, fitted widths (measured on ``sample``,
        default every row), frozen header, autofilter, each row as tall as its wrapped text;
        ``fills``: one colour (or "") per row for its cell at ``fill_at``. An empty cell is written
        only where its column has a format (an empty amount still shows as money when filled in),
        and not at all with ``blanks`` false (the wide full table: most of its cells are empty)."""
        from .sheet_style import HEADER_FILL, fit_widths, header_height, lines_height, row_height, shown

        if sample is None:
            rows = list(rows)
            sample = rows
        widths = fit_widths(columns, _distinct(sample))
        for k, width in enumerate(widths):
            self.width(ws, k, width)
        ws.freeze_panes(*freeze)
        ws.set_default_row(lines_height(1))
        header = self.format(bold=True, fill=HEADER_FILL.fgColor.rgb[-6:], align="header")
        ws.set_row(0, header_height(columns, widths))
        for k, column in enumerate(columns):
            ws.write_string(0, k, column.header, header)
        ws._write_single_row(1)  # the header row written out: the rows follow as XML (``_Rows``)
        wraps = [(k, w) for k, (c, w) in enumerate(zip(columns, widths)) if c.kind == "wrap"]
        align = "top" if wraps else ""
        formats = [self.format(c.kind, align=align) for c in columns]
        colours = {}
        if fills is not None:
            colours = {c: self.format(columns[fill_at].kind, fill=c, align=align) for c in STATUS_FILLS.values()}
        out = _Rows(ws, formats, blanks)
        heights: dict[tuple, float] = {}  # names and notes repeat: each distinct text measured once
        fill_of = iter(fills) if fills is not None else None
        last = 0
        for last, row in enumerate(rows, 1):
            height = 0.0
            for k, w in wraps:
                text = shown(row[k])
                found = heights.get((text, w))
                if found is None:
                    found = heights[(text, w)] = row_height([(text, w)]) or 0.0
                height = max(height, found)  # the row is as tall as its tallest wrapped cell
            colour = next(fill_of, "") if fill_of is not None else ""
            out.row(last, row, height or lines_height(1), (fill_at, colours[colour]) if colour else None)
        if last:
            ws._check_dimensions(last, len(columns) - 1)
        ws.autofilter(0, 0, max(last, 0), len(columns) - 1)

    def close(self) -> None:
        self.workbook.close()


_EDGE_SPACE = re.compile(r"^\s|\s$")  # as xlsxwriter decides to keep a text's spaces (xml:space)
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|^\s|\s$")


class _Rows:
    """A table's rows as the sheet's XML, written straight to a constant-memory sheet's row file: what
    xlsxwriter's ``_write_cell`` writes (text inline and escaped as it escapes it, a number with its
    column's format), without its bookkeeping per cell (5-7 µs a cell; the full table of 100,000
    claims has millions). xlsxwriter's parts used: the row file (``fh``), its escaping, the formats'
    indexes; the caller writes the header with xlsxwriter first and sets the dimensions after."""

    def __init__(self, ws, formats: list, blanks: bool) -> None:
        from xlsxwriter.utility import xl_col_to_name

        self.ws, self.write = ws, ws.fh.write
        self.letters = [xl_col_to_name(k) for k in range(len(formats))]
        self.styles = [f' s="{f._get_xf_index()}"' if f is not None else "" for f in formats]
        self.blanks = [bool(blanks and f is not None) for f in formats]
        self.texts: dict[str, str] = {}  # a text -> its <t> element (``_text``)

    def row(self, index: int, values: Sequence, height: float, fill: tuple[int, Any] | None) -> None:
        """Row ``index`` (0-based; 0 is the header) of ``height`` points; ``fill``: (column, format)."""
        number = str(index + 1)
        parts = [f'<row r="{number}" ht="{height:.16g}" customHeight="1">']
        letters, styles, blanks, texts = self.letters, self.styles, self.blanks, self.texts
        if fill is not None:
            styles = list(styles)
            styles[fill[0]] = f' s="{fill[1]._get_xf_index()}"'
        for k, value in enumerate(values):
            if value is None or value == "":  # most cells of the full table: looked at once
                if blanks[k]:
                    parts.append(f'<c r="{letters[k]}{number}"{styles[k]}/>')
            elif isinstance(value, str):
                text = texts.get(value)
                if text is None:
                    text = self._text(value)
                parts.append(f'<c r="{letters[k]}{number}"{styles[k]} t="inlineStr"><is>{text}</is></c>')
            elif isinstance(value, bool):
                parts.append(f'<c r="{letters[k]}{number}"{styles[k]} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, (int, Decimal)):
                parts.append(f'<c r="{letters[k]}{number}"{styles[k]}><v>{value}</v></c>')
            elif isinstance(value, float):
                parts.append(f'<c r="{letters[k]}{number}"{styles[k]}><v>{value:.16G}</v></c>')
            else:
                text = self._text(str(value))
                parts.append(f'<c r="{letters[k]}{number}"{styles[k]} t="inlineStr"><is>{text}</is></c>')
        parts.append("</row>")
        self.write("".join(parts))

    def _text(self, value: str) -> str:
        """The ``<t>`` element of a text, made once per distinct text (names, clauses, notes repeat)."""
        key = value
        if "\r" in value:  # as XML reads a CR (and openpyxl wrote it): a line feed, not _x000D_
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        space = ""
        if _NEEDS_ESCAPE.search(value):
            value = self.ws._escape_control_characters(value)
            space = ' xml:space="preserve"' if _EDGE_SPACE.search(value) else ""
            value = self.ws._escape_data(value)
        if len(self.texts) > 100_000:  # a bound: many texts (a project's number) appear once
            self.texts.clear()
        text = self.texts[key] = f"<t{space}>{value}</t>"
        return text


def _distinct(rows: Sequence[Sequence]) -> list[list]:
    """Rows holding each column's distinct values (what ``fit_widths`` measures: the widest), fewer
    to measure than the rows themselves."""
    columns = [
        list({(type(v), str(v)): v for v in column if v is not None and v != ""}.values()) for column in zip(*rows)
    ]  # keyed by the text too: Decimal("1.0") == Decimal("1.00") shows wider
    depth = max((len(c) for c in columns), default=0)
    return [[c[i] if i < len(c) else None for c in columns] for i in range(depth)]


def _full_sheet(book: _Book, portfolio: Portfolio) -> None:
    """Every input and added column, 中文 over the column name (the reader takes the name), hidden."""
    from itertools import islice

    from .sheet_style import Column

    ws = book.sheet(FULL_SHEET, title="claims")
    ws.hide()
    columns = []
    for name in portfolio.columns:
        zh, _ = column_label(name)
        kind = "money" if name in MONEY_COLUMNS else "text"
        columns.append(Column(zh, name, kind, 60 if name == "note" else 30))
    sample = list(islice(portfolio.records(), 1000))
    book.table(ws, columns, portfolio.records(), sample=sample, freeze=(1, 3), blanks=False)


def _view_sheet(book: _Book, portfolio: Portfolio) -> None:
    """The printed claims view: enterprise, project, clause, year, amounts, status and note, one page wide
    (under a reform, its granted amount and the difference before the note)."""
    ws = book.sheet(SHEETS[1], title="申报明细 Claims")
    reformed = ["reform_granted_yuan", "reform_difference_yuan"] if portfolio.reform is not None else []
    shown_names = [*VIEW_COLUMNS[4:-1], *reformed, VIEW_COLUMNS[-1]]
    at = [portfolio.header.index(n) for n in VIEW_COLUMNS[:4]]
    added = [portfolio.added_names.index(n) for n in shown_names]
    rows = [
        [row[at[0]], row[at[1]], row[at[2]], _year(row[at[3]]), *(extra[k] for k in added)]
        for row, extra in ((row, portfolio.extra(index)) for index, row in enumerate(portfolio.read()))
    ]
    statuses = [r[6] for r in rows]
    labels = {status: value_label(status) for status in set(statuses)}
    for r in rows:
        r[6] = labels[r[6]]
    columns = [
        report_column("enterprise", "wrap", 26),
        report_column("project", max_width=14),
        report_column("clause", max_width=14),
        report_column("year"),
        report_column("amount_yuan"),
        report_column("granted_yuan"),
        report_column("status", max_width=24),
        *(report_column(n) for n in reformed),
        report_column("note", "wrap", 64 - 14 * len(reformed)),
    ]
    fills = (STATUS_FILLS.get(s, "") for s in statuses)
    book.table(ws, columns, rows, fills=fills, fill_at=6, sample=rows[:5000])


def _frame_sheet(book: _Book, title: str, columns: list[str], table: list) -> None:
    """A summary (``columns`` naming the cells of each row of ``table``) as a sheet."""
    ws = book.sheet(title, title=title)
    labelled = [k for k, name in enumerate(columns) if name in ("policy", "status")]
    labels = {v: value_label(v) for k in labelled for v in {row[k] for row in table}}  # a handful, on many rows
    rows = [list(row) for row in table]
    for row in rows:
        for k in labelled:
            row[k] = labels[row[k]]
    book.table(ws, [report_column(name) for name in columns], rows)


def _summary_sheet(book: _Book, portfolio: Portfolio) -> None:
    """The first sheet: the figures, granted by year and policy (a table and a stacked chart)."""
    from .sheet_style import HEADER_FILL, lines_height

    ws = book.sheet(SHEETS[0], title="汇总 Summary", one_page=True, title_rows=None, grid=False)
    names = list(policies())
    for col, width in enumerate((30, 18, 18, 18, 18, 18)):
        book.width(ws, col, width)
    bold, money, count = book.format(bold=True), book.format("money"), book.format("count")
    row = 0

    def line(*cells: tuple[object, object], height: float | None = None) -> int:
        nonlocal row
        if height:
            ws.set_row(row, height)
        for col, (value, fmt) in enumerate(cells):
            book.put(ws, row, col, value, fmt)
        row += 1
        return row  # its number, 1-based

    line(("项目组合奖励测算 Portfolio awards", book.format(bold=True, size=14)), height=24)
    line((f"生成日期 Generated {date.today().isoformat()}", None))
    line()
    counts = Counter(portfolio.column("status"))
    figures = [
        ("申报 Claims", len(portfolio), count),
        *((" ".join(column_label(s)), counts.get(s, 0), count) for s in STATUSES),
        ("测算金额合计（元） Amount (yuan)", portfolio.amount_total, money),
        ("核定金额合计（元） Granted (yuan)", portfolio.granted_total, money),
    ]
    if portfolio.reform is not None:
        figures += [
            ("改革后核定金额合计（元） Granted under the reform (yuan)", portfolio.reform_granted_total, money),
            ("改革差额（元） Difference (yuan)", portfolio.reform_granted_total - portfolio.granted_total, money),
        ]
    for label, value, fmt in figures:
        line((label, bold), (value, fmt))
    if portfolio.invalid:
        line(
            (
                f"有{portfolio.invalid}行无效，合计不含这些行；见“申报 Claims”的说明列 / "
                f"{portfolio.invalid} invalid row(s) left out of the totals: see their note",
                book.format(bold=True, fill="F8CBAD"),
            )
        )
    if portfolio.reform is not None:
        reform = "; ".join(portfolio.reform.lines()) or "none / 无"
        line((f"改革（假设情景，非现行政策） Reform (what-if, not the policies as published): {reform}", bold))
    line(
        (
            "完整输入（全部列）见隐藏工作表 claims，取消隐藏即可查看 / Every input column: the hidden sheet claims (unhide it)",
            None,
        )
    )
    line()
    pivot: dict[int, dict[str, Decimal]] = {}
    for policy, year, *_, granted in (r[:6] for r in portfolio.policy_years()):
        pivot.setdefault(int(year), {})[policy] = granted
    line(("按年度和政策的核定金额（元） Granted by year and policy (yuan)", bold))
    head = [column_label("claim_year"), *(column_label(p) for p in names), ("合计", "Total")]
    header = book.format(bold=True, fill=HEADER_FILL.fgColor.rgb[-6:], align="header")
    top = line(*((f"{zh}\n{en}", header) for zh, en in head), height=lines_height(2))
    for year in sorted(pivot):
        values = [pivot[year].get(p, Decimal(0)) for p in names]
        line((year, book.format("year")), *((v, money) for v in values), (sum(values), money))
    if not pivot:
        return
    chart = book.workbook.add_chart({"type": "column", "subtype": "stacked"})
    for k in range(len(names)):
        chart.add_series(
            {
                "name": [ws.name, top - 1, 1 + k],
                "categories": [ws.name, top, 0, top + len(pivot) - 1, 0],
                "values": [ws.name, top, 1 + k, top + len(pivot) - 1, 1 + k],
                "overlap": 100,
            }
        )
    chart.set_title({"name": "按年度和政策的核定金额 Granted by year and policy"})
    chart.set_y_axis({"name": "元 yuan", "num_format": "#,##0"})
    chart.set_x_axis({"name": "年度 year"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": round(22 / 2.54 * 96), "height": round(11 / 2.54 * 96)})
    ws.insert_chart(top + len(pivot) + 1, 0, chart)


MONEY_COLUMNS = {
    "amount_yuan",
    "granted_yuan",
    "due_yuan",
    "pending_yuan",
    "total_yuan",
    *(c for c in [*added_columns(), *REFORM_COLUMNS] if c.endswith("_yuan")),
}


def write_csv(portfolio: Portfolio, path: Path) -> None:
    """The claims with the added columns (``addin.tables.write_csv``: UTF-8 with BOM, commas, formula
    text neutralised); amounts as exact decimal text, an empty amount as nothing. The input cells
    are text (``csv_row``); of the added ones only the text is neutralised: a number or None is
    written as the csv module prints it (``str``, nothing), as ``csv_cell`` would."""
    extra = portfolio.extra
    rows = (
        [*csv_row(row), *(csv_cell(v) if isinstance(v, str) else v for v in extra(index))]
        for index, row in enumerate(portfolio.read())
    )
    write_csv_rows(path, portfolio.columns, rows, neutralised=True)


def write_xlsx(portfolio: Portfolio, path: Path) -> None:
    """The result for people: summary and chart, the printed claims view, the summaries and payments,
    each with bilingual headers, fitted widths, filters and A4 print setup; then the hidden full table."""
    book = _Book(path)
    _summary_sheet(book, portfolio)
    _view_sheet(book, portfolio)
    reformed = REFORM_SUMMARY_COLUMNS if portfolio.reform is not None else []
    _frame_sheet(book, SHEETS[2], ENTERPRISE_YEAR_COLUMNS + reformed, portfolio.enterprise_years())
    _frame_sheet(book, SHEETS[3], POLICY_COLUMNS + reformed, portfolio.policy_years())
    _frame_sheet(book, SHEETS[4], PAYMENT_YEAR_COLUMNS, portfolio.payment_years())
    _frame_sheet(book, SHEETS[5], PAYMENT_COLUMNS, portfolio.payment_rows)
    _full_sheet(book, portfolio)
    book.close()


def write_result(portfolio: Portfolio, path: Path | str, *, overwrite: bool = False) -> Path:
    """The result by suffix: .csv the claims with the added columns; .xlsx everything and a chart."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_atomically(path, lambda tmp: write_csv(portfolio, tmp), overwrite=overwrite)
    if suffix == ".xlsx":
        return write_atomically(path, lambda tmp: write_xlsx(portfolio, tmp), overwrite=overwrite)
    raise GreenAwardError(f"{path}: the output must end in .csv or .xlsx / 输出须为csv或xlsx")


# --- DataFrames, at the edge ------------------------------------------------------------------------


class Frames(Portfolio):
    """A ``Portfolio`` with its tables as DataFrames (pandas imported when first asked for):
    ``claims`` (every row with its added columns), ``by_enterprise_year``, ``by_policy``,
    ``by_payment_year`` and ``payments``."""

    @classmethod
    def of(cls, portfolio: Portfolio) -> Frames:
        framed = cls.__new__(cls)
        framed.__dict__.update(portfolio.__dict__)
        return framed

    @cached_property
    def claims(self) -> pd.DataFrame:
        return _frame(list(self.records()), self.columns)

    @cached_property
    def by_enterprise_year(self) -> pd.DataFrame:
        frame = _frame(self.enterprise_years(), ENTERPRISE_YEAR_COLUMNS + self._reformed)
        frame["year"] = frame["year"].astype("Int64")
        return frame

    @cached_property
    def by_policy(self) -> pd.DataFrame:
        return _frame(self.policy_years(), POLICY_COLUMNS + self._reformed)

    @cached_property
    def by_payment_year(self) -> pd.DataFrame:
        return _frame(self.payment_years(), PAYMENT_YEAR_COLUMNS)

    @cached_property
    def payments(self) -> pd.DataFrame:
        return _frame(self.payment_rows, PAYMENT_COLUMNS)

    @property
    def _reformed(self) -> list[str]:
        return REFORM_SUMMARY_COLUMNS if self.reform is not None else []


def _frame(rows: list, columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns, dtype=object)


def stack(table: pd.DataFrame | Iterable[dict], **options) -> Frames:
    """``policies.stacking.stack_rows`` on a DataFrame (or a list of dicts), the result with DataFrames."""
    import pandas as pd

    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(list(table))
    return stack_rows(*frame_cells(frame), **options)


def frame_cells(frame: pd.DataFrame) -> tuple[list[object], list[list[object]]]:
    """A DataFrame as the header and rows the core stacks: pandas' missing cell (NaN, NA, NaT) is an
    empty cell (None), not a bad number."""
    import pandas as pd

    cells = frame.to_numpy(dtype=object, copy=True)  # a copy: an object frame's array is its own, read-only
    cells[pd.isna(cells)] = None
    return list(frame.columns), cells.tolist()


def stack_rows(header: Sequence[object], rows: Sequence[Sequence], **options) -> Frames:
    """``policies.stacking.stack_rows``, the result with DataFrames (``Frames``)."""
    from policies.stacking import stack_rows as stack_plain

    return Frames.of(stack_plain(header, rows, **options))


# --- the command ----------------------------------------------------------------------------------


def run_portfolio(
    source: Path | str,
    output: Path | str | None,
    *,
    overwrite: bool = False,
    console: Console | None = None,
    executor: Executor | None = None,
    quiet: bool = False,
    record=None,
    reform: Reform | None = None,
    workers: int | None = None,
    executor_spec: str | None = None,
) -> Frames:
    """Read ``source``, compute the portfolio, write ``output`` (when given) and print a summary.

    A csv is read twice, row by row (the first pass evaluates, the second writes each row with its
    added columns): its rows are never all in memory, nor is the output.
    ``workers``, ``executor_spec``: where the evaluations run (``addin.executors``) unless an
    ``executor`` is handed in.
    ``record``: the grants on record of a ledger (``policies.ledger_rules.Record``), read, never written;
    ``reform``: computed beside it (``policies.load_reform``): both side by side."""
    console = console or Console()
    if output is not None and Path(output).exists() and not overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite to replace it / 文件已存在")
    enabled = gc.isenabled()
    gc.disable()  # reading and computing make 100,000s of objects that live to the end
    try:
        table = open_source(source)
        with batch_executor(executor_spec, workers, items=table.estimate, pays_from=POOL_PAYS_FROM) as pool:
            result = Frames.of(_compute(table, executor or pool, console, quiet, record, reform))
        if not quiet:
            console.print(read_line(source, table.described, len(result)), highlight=False, soft_wrap=True)
        if output is not None:
            write_result(result, output, overwrite=overwrite)
        if not quiet:  # with the collector still off: it would walk every claim's objects (0.8 s at 100,000)
            print_summary(result, console)
    finally:
        if enabled:
            gc.enable()
    if not quiet and output is not None:
        console.print(f"结果 Result: {output}", highlight=False)
    return result


def _compute(
    table: Opened, executor: Executor | None, console: Console, quiet: bool, record, reform: Reform | None
) -> Portfolio:
    """Stack the table's claims, with a progress bar for a large one."""
    if table.estimate >= PROGRESS_MIN and not quiet:
        with progress_bar(console, "计算 Evaluating", total=table.estimate) as advance:
            return stack_source(
                table.header,
                table.read,
                executor=executor,
                progress=lambda done, total: advance(done, max(total, done, table.estimate)),
                record=record,
                reform=reform,
            )
    return stack_source(table.header, table.read, executor=executor, record=record, reform=reform)


def heading(name: str) -> str:
    """A console column's header: 中文 over English (``column_label``)."""
    return "\n".join(column_label(name))


#: Enterprise-years the console's summary lists (the largest grants); the result file has them all.
ENTERPRISE_YEARS_SHOWN = 40


def print_summary(portfolio: Portfolio, console: Console) -> None:
    """The claims by status, the enterprise-years and the payment years, in tables that fit 80 columns."""
    for warning in portfolio.warnings:
        console.print(f"[yellow]注意 Warning:[/yellow] {warning}", highlight=False)
    counts = Counter(portfolio.column("status"))
    console.print(
        "申报 claims: " + ", ".join(f"{value_label(s)} {int(counts.get(s, 0))}" for s in STATUSES if counts.get(s, 0)),
        highlight=False,
    )
    frame = portfolio.enterprise_years()
    table = tables.table("按企业年度 Per enterprise and year")
    tables.text(table, heading("enterprise"))
    tables.name(table, heading("year"))
    for column in ("claims", "amount_yuan", "granted_yuan", "capped", "invalid"):
        tables.figure(table, heading(column))
    at = {name: k for k, name in enumerate(ENTERPRISE_YEAR_COLUMNS)}
    shown = frame
    if len(frame) > ENTERPRISE_YEARS_SHOWN:  # the largest grants, in the table's own order
        largest = sorted(range(len(frame)), key=lambda i: frame[i][at["granted_yuan"]] or 0, reverse=True)
        shown = [frame[i] for i in sorted(largest[:ENTERPRISE_YEARS_SHOWN])]
    for row in shown:
        table.add_row(
            row[at["enterprise"]] or row[at["uscc"]] or "—",
            "—" if row[at["year"]] is None else str(row[at["year"]]),
            f"{row[at['claims']]:,}",
            tables.yuan(row[at["amount_yuan"]]),
            tables.yuan(row[at["granted_yuan"]]),
            str(row[at["capped"]]),
            str(row[at["invalid"]]),
        )
    if len(frame) > ENTERPRISE_YEARS_SHOWN:
        table.caption = (
            f"the {ENTERPRISE_YEARS_SHOWN} largest grants of {len(frame):,} enterprise-years; every one is in "
            f"the result file / 仅列核定金额最大的{ENTERPRISE_YEARS_SHOWN}项，全部见结果文件"
        )
    console.print(table)
    years = tables.table("按支付年度 Per payment year")
    tables.name(years, heading("payment_year"))
    tables.name(years, heading("policy"))
    for column in ("due_yuan", "pending_yuan"):
        tables.figure(years, heading(column))
    for year, policy, due, pending, _ in portfolio.payment_years():
        years.add_row(str(year), policy, tables.yuan(due), tables.yuan(pending))
    console.print(years)
    if portfolio.invalid:
        console.print(
            f"[red]{portfolio.invalid} invalid row(s)[/red]: their amounts are empty and the totals above leave them out; "
            "fix them (see the note column) / 有无效行，合计不完整",
            highlight=False,
        )
    console.print(f"granted total 核定合计: {portfolio.granted_total:,.2f} 元", highlight=False)
    if portfolio.reform is not None:
        print_reform(portfolio, console)


def print_reform(portfolio: Portfolio, console: Console) -> None:
    """Granted as the policies stand and under the reform, by policy and year, and in total."""
    assert portfolio.reform is not None
    console.print(
        "改革 Reform (what-if, not the policies as published): " + ("; ".join(portfolio.reform.lines()) or "none / 无"),
        highlight=False,
        soft_wrap=True,
    )
    table = tables.table("改革对比 Reform beside the policies, by policy and year")
    tables.name(table, heading("policy"))
    tables.name(table, heading("year"))
    for zh, en in (("核定（元）", "Granted"), ("改革后（元）", "Under reform"), ("差额（元）", "Difference")):
        tables.figure(table, f"{zh}\n{en}")
    for policy, year, _, _, _, granted, reformed, difference in portfolio.policy_years():
        table.add_row(policy, str(year), tables.yuan(granted), tables.yuan(reformed), _signed(difference))
    console.print(table)
    difference = portfolio.reform_granted_total - portfolio.granted_total
    console.print(
        f"under the reform 改革后核定合计: {portfolio.reform_granted_total:,.2f} 元 "
        f"(difference 差额 {_signed(difference)} 元)",
        highlight=False,
        soft_wrap=True,
    )


def _signed(value: Decimal) -> str:
    return f"{value:+,.2f}"


# --- the template ---------------------------------------------------------------------------------


def template_columns() -> list[tuple[str, InputSpec | None, list[str]]]:
    """(column, its spec or None, the clauses reading it) in the template's order."""
    seen: dict[str, tuple[InputSpec | None, list[str]]] = {}
    details = ENTERPRISE_COLUMNS[2:]  # the enterprise's address and contact: after the clauses' inputs
    for name, field in fields().items():  # the claim's fields first (common.yaml), payments among the inputs
        if name not in details and field.kind != "money":
            seen[name] = (None, [])
    inputs: dict[str, tuple[InputSpec, list[str]]] = {}
    conditions: dict[str, tuple[InputSpec, list[str]]] = {}
    for clause_id in monetary_clauses():
        cc = compiled(clause_id)
        for name, spec in cc.specs.items():
            bucket = conditions if name in cc.conditions else inputs
            if name == "zone":
                seen["zone"] = (spec, seen["zone"][1] + [clause_id])
                continue
            entry = bucket.setdefault(name, (spec, []))
            entry[1].append(clause_id)
    for name, entry in {**inputs, **conditions}.items():
        seen[name] = entry
    for name in details:
        seen[name] = (None, [])
    return [(name, spec, clauses) for name, (spec, clauses) in seen.items()]


def _choices(spec: InputSpec) -> list[str]:
    """The dropdown of a choice: its Chinese labels (the core reads a label as its value)."""
    return [label.zh for label in (spec.values or {}).values()]


def _help_text(name: str, spec: InputSpec | None, clauses: list[str]) -> tuple[str, str, str]:
    """(中文, English, how to fill) of one column."""
    zh, en = column_label(name)
    if spec is None:
        fill = {
            "year": "a year, e.g. 2025",
            "start_date": "YYYY-MM-DD",
            "completion_date": "YYYY-MM-DD",
            "uscc": "18 characters (text)",
            "clause": "one of the listed clause ids",
        }.get(name, "text")
        return zh, en, "; ".join(x for x in (DETAIL_HELP.get(name), fill) if x)
    labels = {value: f"{label.zh} ({value})" for value, label in (spec.values or {}).items()}
    fill = {
        "money": "yuan 元",
        "number": spec.unit or "number",
        "integer": "whole number",
        "ratio": "a fraction, e.g. 0.035",
        "bool": "是/否 (true/false)",
        "choice": "one of 之一: " + ", ".join(labels.values()),
        "text": "text",
    }[spec.type]
    if spec.default is not None:
        fill += f"; empty = {labels.get(str(spec.default), spec.default)}"
    elif spec.type == "bool":
        fill += "; empty = assumed (condition) or false (route)"
    if spec.help is not None:
        fill += f"; {spec.help.en}"
    return zh, en, fill


#: The template's example row (row 2 of claims): a Tongzhou 第三条 claim typed as a person would,
#: with a zone label and 是 (green-award portfolio gives it 1,500,000.00 = 30% of 5,000,000).
EXAMPLE = {
    "enterprise": "示例企业 Example Co.",
    "project": "EX-001",
    "project_name": "示例：数据中心节能改造",
    "clause": "tongzhou:3",
    "year": 2025,
    "zone": "城市副中心（通州）",
    "investment_yuan": 5000000,
    "manufacturer_or_data_centre": "是",
}


def write_template(path: Path | str, *, overwrite: bool = False) -> Path:
    """An empty portfolio workbook: claims, enterprises and projects sheets with dropdowns, and help."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise GreenAwardError(f"{path}: the template is an .xlsx workbook / 模板须为xlsx")
    return write_atomically(path, _write_template, overwrite=overwrite)


def _write_template(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    from .sheet_style import HEADER_FILL, PADDING, Column, fit_widths, print_setup, put_header, text_width, write_table

    rows = 1000
    columns = template_columns()
    specs = {name: (spec, used) for name, spec, used in columns}
    workbook = Workbook()
    claims = workbook.active
    claims.title = "claims"
    enterprises = workbook.create_sheet("enterprises")
    projects = workbook.create_sheet("projects")
    help_sheet = workbook.create_sheet("help")
    lists = workbook.create_sheet("lists")
    lists.sheet_state = "hidden"

    # the dropdown values live on the hidden lists sheet (an inline list is limited to 255 characters)
    list_ranges: dict[str, str] = {}

    def add_list(key: str, values: list[str]) -> str:
        col = get_column_letter(len(list_ranges) + 1)
        lists.cell(row=1, column=len(list_ranges) + 1, value=key)
        for i, value in enumerate(values, 2):
            lists.cell(row=i, column=len(list_ranges) + 1, value=value).data_type = "s"
        ref = f"{quote_sheetname('lists')}!${col}$2:${col}${len(values) + 1}"
        list_ranges[key] = ref
        return ref

    add_list("clause", monetary_clauses())
    add_list("yes_no", ["是", "否"])
    required_fill = PatternFill("solid", fgColor="FCE4D6")

    def header(ws, names: list[str]) -> None:
        """Row 1: 中文 over the input name (the reader takes the name, ``column_name``)."""
        heads = [Column(column_label(n)[0], n, max_width=max(24, text_width(n) + PADDING)) for n in names]
        widths = [max(12.0, w) for w in fit_widths(heads, [[EXAMPLE.get(n) for n in names]])]
        put_header(ws, heads, widths, [required_fill if n in REQUIRED else HEADER_FILL for n in names])
        for c, name in enumerate(names, 1):
            if name in TEXT_COLUMNS:
                for r in range(2, rows + 2):
                    ws.cell(row=r, column=c).number_format = "@"
        ws.freeze_panes = "B2"

    def validate(ws, c: int, name: str, spec: InputSpec | None, prompt: str) -> None:
        col = get_column_letter(c)
        area = f"{col}2:{col}{rows + 1}"
        dv = None
        if name == "clause":
            dv = DataValidation(type="list", formula1=list_ranges["clause"], allow_blank=True)
        elif name == "year":
            dv = DataValidation(type="whole", operator="between", formula1="2020", formula2="2100", allow_blank=True)
        elif name in fields() and fields()[name].kind == "date":
            dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True)
        elif spec is not None and spec.type == "choice":
            key = f"choice:{name}"
            ref = list_ranges.get(key) or add_list(key, _choices(spec))
            dv = DataValidation(type="list", formula1=ref, allow_blank=True)
            dv.errorStyle = "warning"  # the codes (etown_core, self) are accepted too
        elif spec is not None and spec.type == "bool":
            dv = DataValidation(type="list", formula1=list_ranges["yes_no"], allow_blank=True)
            dv.errorStyle = "warning"  # true/false and yes/no are accepted too
        elif spec is not None and spec.type in ("money", "number", "integer", "ratio"):
            low = spec.lower if spec.lower is not None else Decimal(0)
            kind = "whole" if spec.type == "integer" else "decimal"
            if spec.upper is not None:
                dv = DataValidation(
                    type=kind, operator="between", formula1=str(low), formula2=str(spec.upper), allow_blank=True
                )
            else:
                dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(low), allow_blank=True)
        if dv is None:
            dv = DataValidation(type="custom", formula1="TRUE", allow_blank=True)
        dv.promptTitle = name[:32]
        dv.prompt = prompt[:255]
        dv.showInputMessage = True
        dv.error = f"{name}: see the help sheet / 见help工作表"[:255]
        dv.errorTitle = "green-award"
        ws.add_data_validation(dv)
        dv.add(area)

    for ws, names in (
        (claims, [n for n, _, _ in columns]),
        (enterprises, ENTERPRISE_COLUMNS),
        (projects, PROJECT_COLUMNS),
    ):
        header(ws, names)
        for c, name in enumerate(names, 1):
            spec, used = specs.get(name, (None, []))
            zh, en, fill = _help_text(name, spec, used)
            validate(ws, c, name, spec, f"{zh} / {en}. {fill}")
            if ws is claims:
                ws.cell(row=1, column=c).comment = Comment(f"{zh}\n{en}\n{fill}"[:500], "green-award")
    names = [n for n, _, _ in columns]
    for name, value in EXAMPLE.items():
        claims.cell(row=2, column=names.index(name) + 1, value=value).data_type = "n" if isinstance(value, int) else "s"
    claims["A2"].comment = Comment("示例行：可覆盖或删除 / An example row: overwrite or delete it", "green-award")

    help_columns = [
        Column("列名", "Column"),
        Column("中文", "Chinese", "wrap", 30),
        Column("英文", "English", "wrap", 34),
        Column("填写说明", "How to fill", "wrap", 60),
        Column("适用条款", "Used by", "wrap", 34),
    ]
    help_rows = [
        [
            "—",
            "每行一项申报：企业、项目、条款、年度；只填该条款用到的列，其余留空。第2行为示例。",
            "One row per claim: enterprise, project, clause, year; fill only the columns the clause uses, leave the rest "
            "empty. Row 2 is an example. Then run: green-award portfolio THIS.xlsx -o result.xlsx",
            "",
            "",
        ],
        [
            "—",
            "表头为中文名称和列名（两行）；列名即程序读取的名称。选项可填中文名称或代码。",
            "A header is the Chinese name over the column name, which is what the program reads. A choice takes its "
            "Chinese label or its code.",
            "",
            "",
        ],
        [
            "—",
            "enterprises、projects工作表按enterprise、project匹配，补充claims中留空的列。",
            "The enterprises and projects sheets fill blank claim cells, matched by enterprise and project.",
            "",
            "",
        ],
    ]
    for name, spec, used in columns:
        zh, en, fill = _help_text(name, spec, used)
        need = "required 必填" if name in REQUIRED else ""
        help_rows.append(
            [
                name,
                zh,
                en,
                "; ".join(x for x in (need, fill) if x),
                ", ".join(used) if len(used) < 12 else f"{len(used)} clauses",
            ]
        )
    print_setup(help_sheet, title="填写说明 How to fill")
    write_table(help_sheet, help_columns, help_rows)
    workbook.save(path)
