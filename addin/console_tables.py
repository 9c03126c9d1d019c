"""Console tables that fit the terminal, 80 columns included.

Figures, ids and the input names users type are never cut or folded (``no_wrap``: rich shrinks the
other columns first); free text (enterprise names, titles, notes) folds onto more lines instead.
Headers are two short lines (中文 over English), so that a figure's header is no wider than the
figure, and the table has no outer edge, to leave the text its room.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text


def table(title: str, **options) -> Table:
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), **options)


def figure(table: Table, header: str) -> None:
    """A column of amounts or counts: right-aligned, never cut."""
    table.add_column(header, justify="right", no_wrap=True)


def name(table: Table, header: str) -> None:
    """A column of ids or input names (what users type): never cut or folded."""
    table.add_column(header, no_wrap=True)


def text(table: Table, header: str, min_width: int = 10) -> None:
    """A column of free text: it gives way when the terminal is narrow, folding its text onto more
    lines (or cutting it with …, for a cell made by ``line``)."""
    table.add_column(header, overflow="fold", min_width=min_width)


def line(value: str) -> Text:
    """A cell of a ``text`` column kept to one line, cut with … when the column is narrow (a listing
    whose full text is elsewhere)."""
    return Text(value, no_wrap=True, overflow="ellipsis")


def yuan(value) -> str:
    """An amount as the tables show it (1,234,567.89), or — when there is none."""
    return "—" if value is None else f"{value:,.2f}"
