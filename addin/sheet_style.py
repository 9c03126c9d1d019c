"""The look of the workbooks people read: the portfolio result, its template and the review report.

One place for: a bilingual header row (中文 over English in one wrapped cell), column widths fitted
to the content (a CJK character counts as two), row heights for wrapped text (LibreOffice and Excel
keep a row's stored height on load, so wrapped text overprints the next row unless the row is made
tall enough here), ``#,##0.00`` for yuan, a frozen header row with an autofilter, and the A4 print
setup (one page wide, the header row repeated on every page, page numbers in the footer).

Works on normal and write-only openpyxl worksheets alike: ``write_table`` appends rows of cells, sets
a row's height before appending it and the sheet-wide settings before the first row (a write-only
sheet writes column widths and the frozen pane at its top).
"""

from __future__ import annotations

import unicodedata
import weakref
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

    AnySheet: TypeAlias = Worksheet | WriteOnlyWorksheet  # a normal or a write-only worksheet

MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"
YEAR_FORMAT = "0"
FORMATS = {"money": MONEY_FORMAT, "count": COUNT_FORMAT, "year": YEAR_FORMAT}
#: Points per line of 11 pt text (Excel's row of Calibri 11); a row is one line plus ``ROW_PAD``, so
#: that CJK text (drawn in a taller fallback font) does not touch the row's borders.
LINE_POINTS = 15.0
ROW_PAD = 3.0
PADDING = 2  # width units around a cell's text
MIN_WIDTH = 6
A4 = 9  # the paperSize code of A4

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)

KINDS = ("text", "wrap", "money", "count", "year")


@dataclass(frozen=True)
class Column:
    """One column of a table people read: its header (中文, English) and how its values show.

    kind: ``text`` (one line, the width fits the longest value up to ``max_width``), ``wrap`` (wraps
    at ``max_width``; the row grows), ``money`` (``#,##0.00``), ``count`` (``#,##0``), ``year``.
    """

    zh: str
    en: str
    kind: str = "text"
    max_width: float = 40

    @property
    def header(self) -> str:
        return f"{self.zh}\n{self.en}" if self.en and self.en != self.zh else self.zh


def text_width(text: str) -> int:
    """Display width in character cells: a wide (CJK) character counts as two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shown(value: object, kind: str = "text") -> str:
    """The text a cell shows for ``value`` (what its width is measured on)."""
    if value is None or value == "":
        return ""
    if kind == "money" and isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        return f"{value:,.2f}"
    if kind == "count" and isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes in a wrapped cell ``width`` units wide (words break at spaces,
    CJK text between any two characters); a slight overestimate rather than an overprint."""
    room = max(1.0, width - PADDING)
    if 2 * len(text) <= room and "\n" not in text:
        return 1  # fits even if every character were wide (the common case, without measuring)
    total = 0
    for paragraph in text.split("\n"):
        lines, used = 1, 0.0
        for word in _words(paragraph):
            size: float = text_width(word)
            if used and used + size > room:
                lines, used = lines + 1, 0.0
                word = word.lstrip()
                size = text_width(word)
            while size > room:  # a word longer than the line breaks inside
                lines += 1
                size -= room
            used += size
        total += lines
    return total


def _words(text: str) -> Iterable[str]:
    """Pieces a line may break between: a word with its leading space, or one wide character."""
    word = ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            if word:
                yield word
                word = ""
            yield ch
        elif ch == " " and word.strip():
            yield word
            word = ch
        else:
            word += ch
    if word:
        yield word


def fit_widths(columns: Sequence[Column], rows: Iterable[Sequence[object]]) -> list[float]:
    """Each column's width: its widest header line or shown value plus padding, within
    ``MIN_WIDTH``..``max_width`` (a wrap column takes ``max_width`` when a value needs it)."""
    widths = [max(text_width(line) for line in c.header.split("\n")) for c in columns]
    for row in rows:
        for k, (column, value) in enumerate(zip(columns, row)):
            if value is None or value == "":
                continue
            size = max(text_width(line) for line in shown(value, column.kind).split("\n"))
            if size > widths[k]:
                widths[k] = size
    return [max(MIN_WIDTH, min(c.max_width, w + PADDING)) for c, w in zip(columns, widths)]


def row_height(texts: Iterable[tuple[str, float]]) -> float | None:
    """The height (points) of a row whose wrapped cells hold these (text, column width); None for one line."""
    lines = max((wrapped_lines(t, w) for t, w in texts if t), default=1)
    return None if lines <= 1 else lines_height(lines)


def lines_height(lines: int) -> float:
    return round(lines * LINE_POINTS + ROW_PAD, 1)


def cell(
    ws: AnySheet,
    value: object,
    kind: str = "text",
    *,
    font: Font | None = None,
    fill: PatternFill | None = None,
    alignment: Alignment | None = None,
) -> object:
    """A cell to append: the bare value when it needs no style (fast for wide sheets), else a styled
    cell. Text is always data, never a formula (a name may start with '=')."""
    if value == "":
        value = None
    elif value is not None and not isinstance(value, (str, int, float, Decimal, bool, date)):
        value = str(value)
    formula_like = isinstance(value, str) and value.startswith("=")
    if kind == "text" and font is None and fill is None and alignment is None and not formula_like:
        return value
    out = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        out.data_type = "s"
    # the style registered once per workbook and kind, then copied (setting each part per cell is slow)
    styles = _styles.setdefault(ws.parent, {})
    key = (kind, font, fill, alignment)
    if key not in styles:
        if kind in FORMATS:
            out.number_format = FORMATS[kind]
        if alignment is not None:
            out.alignment = alignment
        elif kind == "wrap":
            out.alignment = WRAP
        if font is not None:
            out.font = font
        if fill is not None:
            out.fill = fill
        styles[key] = copy(out._style)
    else:
        out._style = copy(styles[key])
    return out


#: workbook -> {(kind, font, fill, alignment): style}
_styles: weakref.WeakKeyDictionary[Workbook, dict[tuple[object, ...], object]] = weakref.WeakKeyDictionary()


class Sheet:
    """A worksheet written top to bottom, normal or write-only, that counts its rows."""

    def __init__(self, ws: AnySheet) -> None:
        self.ws = ws
        self.row = 0  # the last row written

    def append(self, cells: list[object], height: float | None = None) -> int:
        """Append a row (its height set first, as a write-only sheet needs) and return its number."""
        self.row += 1
        if height:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append(cells)
        return self.row


def header_height(columns: Sequence[Column], widths: Sequence[float]) -> float:
    """The height of a header row: its tallest header, wrapped at its column's width."""
    return lines_height(max(wrapped_lines(c.header, w) for c, w in zip(columns, widths)))


def header_row(sheet: Sheet, columns: Sequence[Column], widths: Sequence[float]) -> int:
    """Append the bilingual header row (bold, shaded, wrapped, as tall as its lines)."""
    cells = [cell(sheet.ws, c.header, font=HEADER_FONT, fill=HEADER_FILL, alignment=HEADER_ALIGN) for c in columns]
    return sheet.append(cells, header_height(columns, widths))


def put_header(
    ws: Worksheet, columns: Sequence[Column], widths: Sequence[float], fills: Sequence[PatternFill] | None = None
) -> None:
    """The header row 1 of a normal worksheet with its column widths (``fills``: one per column)."""
    for c, (column, width) in enumerate(zip(columns, widths), 1):
        ws.column_dimensions[get_column_letter(c)].width = width
        target = ws.cell(row=1, column=c, value=column.header)
        target.font, target.alignment = HEADER_FONT, HEADER_ALIGN
        target.fill = fills[c - 1] if fills else HEADER_FILL
    ws.row_dimensions[1].height = header_height(columns, widths)


def write_table(
    ws: AnySheet,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
    *,
    sample: Sequence[Sequence[object]] | None = None,
    fills: Iterable[PatternFill | None] | None = None,
    fill_at: int = 0,
    freeze: str = "A2",
    widths: Sequence[float] | None = None,
) -> list[float]:
    """A table from row 1: the bilingual header, fitted widths, frozen header, autofilter.

    ``sample``: the rows the widths are measured on (default: all ``rows``, read into a list first);
    ``fills``: one fill (or None) per row for its cell at ``fill_at``, e.g. a status colour. In a
    table with a wrap column every cell is top-aligned and each row as tall as its wrapped text.
    Returns the widths. The print setup is the caller's (``print_setup``, called first).
    """
    if sample is None:
        rows = list(rows)
        sample = rows
    widths = list(widths) if widths is not None else fit_widths(columns, sample)
    for k, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(k)].width = width
    ws.freeze_panes = freeze
    ws.sheet_format.defaultRowHeight = lines_height(1)
    ws.sheet_format.customHeight = True
    sheet = Sheet(ws)
    header_row(sheet, columns, widths)
    wraps = [(k, w) for k, (c, w) in enumerate(zip(columns, widths)) if c.kind == "wrap"]
    align = TOP if wraps else None
    fill_of = iter(fills) if fills is not None else None
    for row in rows:
        height = row_height((shown(row[k]), w) for k, w in wraps) if wraps else None
        cells = [
            cell(ws, value, c.kind, alignment=align if c.kind != "wrap" else None) for c, value in zip(columns, row)
        ]
        fill = next(fill_of, None) if fill_of is not None else None
        if fill is not None:
            cells[fill_at] = cell(ws, row[fill_at], columns[fill_at].kind, fill=fill, alignment=align)
        sheet.append(cells, height)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(sheet.row, 1)}"
    return widths


def print_setup(
    ws: AnySheet,
    *,
    landscape: bool = True,
    title_rows: int | None = 1,
    one_page: bool = False,
    title: str = "",
    grid: bool = True,
) -> None:
    """A4, one page wide (``one_page``: the whole sheet on one page), the header rows repeated on
    every page, the sheet's name and ``title`` in the page header, 第 N 页 共 M 页 in the footer,
    the grid printed (``grid``) as the table's lines.
    Call it before the first row of a write-only sheet (its properties are written at the top)."""
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.7, bottom=0.7, header=0.3, footer=0.3)
    ws.print_options.gridLines = grid
    if title_rows:
        ws.print_title_rows = f"1:{title_rows}"
    ws.oddHeader.left.text = "&A"
    if title:
        ws.oddHeader.right.text = title.replace("&", "&&")
    ws.oddFooter.center.text = "第 &P 页 共 &N 页 / page &P of &N"
