"""Writing a template's cells: values with their style and the row height they need, input slots, formula
cells (each one a defined name: the layout), data validations, the hidden lists, and the printed page."""

from __future__ import annotations

import re
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break

from policies.engine import compiled
from policies.numbers import fmt

from .definitions import SHEETS, Layout, q
from .styles import (
    BODY,
    BODY_FONT,
    BOX,
    GENERATED_MARK,
    HEAD_FONT,
    INPUT_FILL,
    LEFT,
    MIN_HEIGHT,
    OPEN,
    PAGE_HEIGHT,
    SHRINK_TO_ONE_PAGE,
    SIZE,
    SPACER,
    WIDTHS,
    line_count,
    row_height,
)


class Cells:
    """A template being written: its workbook, sheets, layout and the row heights its text needs."""

    def __init__(self, clause_id: str):
        self.cc = cc = compiled(clause_id)
        self.clause, self.policy = cc.clause, cc.policy
        self.wb = Workbook()
        self.wb._fonts = IndexedList([BODY])  # the default font, also of the Normal style: widths count its digit 0
        self.wb._named_styles["Normal"].font = BODY
        self.wb.remove(self.wb.active)
        self.sheets = [self.wb.create_sheet(title) for title in SHEETS]
        self.layout = Layout(clause_id)
        self.validations: dict[tuple[object, ...], DataValidation] = {}  # the same rule shared by its cells
        self.list_column = 0
        self.heights: dict[tuple[int, int], float] = {}  # (sheet, row) -> points its text needs
        self.fixed: dict[tuple[int, int], float] = {}  # (sheet, row) -> points asked for (signature space)
        self.sections: dict[int, list[int]] = {}  # sheet -> rows where a new page may start

    # cells
    def put(
        self,
        s: int,
        ref: str,
        value,
        *,
        font: Font = BODY,
        fmt_: str | None = None,
        box: bool = True,
        fill: PatternFill | None = None,
        span: int = 1,
        align: Alignment = LEFT,
        expect: str | None = None,
    ):
        """A cell (merged over ``span`` columns); its row grows to fit ``value`` or the ``expect``ed text."""
        ws = self.sheets[s]
        cell = ws[ref]
        cell.value = None if value == "" else value
        cell.font = font
        cell.alignment = align
        if fmt_:
            cell.number_format = fmt_
        if fill is not None:
            cell.fill = fill
        if span > 1:
            ws.merge_cells(
                start_row=cell.row, start_column=cell.column, end_row=cell.row, end_column=cell.column + span - 1
            )
        if box:
            for c in range(cell.column, cell.column + span):
                ws.cell(cell.row, c).border = BOX
        shown = (
            expect if expect is not None else (value if isinstance(value, str) and not value.startswith("=") else None)
        )
        if shown is None and isinstance(value, (int, float)):
            shown = fmt(Decimal(str(value)))
        if shown:
            widths = WIDTHS[s]
            width = sum(widths[cell.column - 1 : cell.column - 1 + span]) * SIZE / font.size
            if font.b or font.name == HEAD_FONT:
                width /= 1.08
            need = row_height(line_count(shown, width), font.size)
            key = (s, cell.row)
            self.heights[key] = max(self.heights.get(key, 0.0), need)
        return cell

    def text(self, s: int, ref: str, value: str, **kw):
        """A label: a string that is never a formula, even when it starts with '='."""
        cell = self.put(s, ref, value, **kw)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
        return cell

    def slot(
        self,
        s: int,
        ref: str,
        key: str,
        kind: str,
        number_format: str | None = None,
        name: str | None = None,
        span: int = 1,
        expect: str = "0",
    ):
        cell = self.put(
            s,
            ref,
            None,
            fill=INPUT_FILL,
            fmt_=number_format or ("@" if kind in ("text",) else None),
            span=span,
            expect=expect,
        )
        cell.protection = OPEN
        self.layout.slots[key] = (s, ref, kind)
        if name:
            self.name(name, s, ref)
        return cell

    def locked_slot(self, s: int, ref: str, key: str, kind: str, **kw):
        """A value the generator fills that the applicant does not edit (the granted amount note)."""
        self.put(s, ref, None, **kw)
        self.layout.slots[key] = (s, ref, kind)
        self.name(key, s, ref)

    def formula(
        self,
        s: int,
        ref: str,
        key: str,
        body: str,
        number_format: str | None = None,
        name: str | None = None,
        expect: str = "0",
        **kw,
    ):
        self.put(s, ref, "=" + body, fmt_=number_format, expect=expect, **kw)
        self.layout.formulas[key] = (s, ref)
        self.name(name or key, s, ref)  # every formula cell a declaration fills is named: the layout (see layout())

    def name(self, name: str, s: int, ref: str) -> None:
        match = re.fullmatch(r"([A-Z]+)(\d+)", ref)
        assert match is not None, f"a cell reference like B5, got {ref!r}"
        col, row = match.groups()
        self.wb.defined_names[name] = DefinedName(name, attr_text=f"{q(SHEETS[s])}!${col}${row}")

    def validate(self, s: int, ref: str, dv: DataValidation) -> None:
        key = (s, dv.type, dv.operator, dv.formula1, dv.formula2, dv.error, dv.prompt)
        existing = self.validations.get(key)
        if existing is None:
            self.sheets[s].add_data_validation(dv)
            self.validations[key] = existing = dv
        existing.add(ref)

    def list_range(self, title: str, values: list[tuple[str, str]]) -> tuple[str, str]:
        """Write (Chinese, English) label pairs to the hidden lists sheet; the range of the Chinese labels and of the pairs."""
        ws = self.sheets[5]
        c0 = 2 * self.list_column + 1
        self.list_column += 1
        a, b = ws.cell(1, c0).column_letter, ws.cell(1, c0 + 1).column_letter
        ws.cell(1, c0, title)
        for i, (zh, en) in enumerate(values, start=2):
            ws.cell(i, c0, zh).data_type = "s"
            ws.cell(i, c0 + 1, en).data_type = "s"
        last = len(values) + 1
        return f"{q(SHEETS[5])}!${a}$2:${a}${last}", f"{q(SHEETS[5])}!${a}$2:${b}${last}"

    # pieces

    def page_setup(self, s: int) -> None:
        """A4 portrait, one page wide, a binding margin, header and footer, rows as tall as their text."""
        ws = self.sheets[s]
        total = 0.0
        for row in range(1, ws.max_row + 1):
            if (s, row) in self.heights or (s, row) in self.fixed:
                points = max(self.heights.get((s, row), 0.0), self.fixed.get((s, row), 0.0), MIN_HEIGHT)
            else:
                points = SPACER
            ws.row_dimensions[row].height = points
            total += points
        last = chr(64 + len(WIDTHS[s]))
        ws.print_area = f"A1:{last}{ws.max_row}"
        if s > 0:
            ws.print_title_rows = "1:1"  # the sheet's title again on a second page
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "portrait"
        ws.page_setup.fitToWidth = 1
        # a sheet a little longer than a page is shrunk onto one; a longer one runs on, a section to a page
        ws.page_setup.fitToHeight = 1 if total <= PAGE_HEIGHT * SHRINK_TO_ONE_PAGE else 0
        if not ws.page_setup.fitToHeight:
            for row in self.sections.get(s, []):
                ws.row_breaks.append(Break(id=row - 1))  # the break goes after the row before the section
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        # inches: 2.5 cm on the left to bind, 1.5 cm on the right
        ws.page_margins.left, ws.page_margins.right = 0.98, 0.59
        ws.page_margins.top, ws.page_margins.bottom = 0.79, 0.79
        ws.page_margins.header, ws.page_margins.footer = 0.35, 0.35
        policy, clause = self.policy, self.clause
        for part, text in (
            (ws.oddHeader.left, policy.title.zh.replace("&", "&&")),
            (ws.oddHeader.right, f"申报表 {clause.id} {clause.article}".replace("&", "&&")),
            (ws.oddFooter.left, f"{clause.title.zh}".replace("&", "&&")),
            (ws.oddFooter.center, "第&P页 共&N页"),
            (ws.oddFooter.right, GENERATED_MARK),
        ):
            part.text, part.font, part.size = text, f"{BODY_FONT},Regular", 9
