"""How a template looks and prints: fonts, fills, borders, number formats, column widths, and how tall a
row must be for its text (spreadsheet programs do not grow rows on load)."""

from __future__ import annotations

import re
import unicodedata

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "0"
NUMBER_FORMAT = "General"  # shows 0.8 and 1200 as they are (#,##0.###### shows "1,200.")
DATE_FORMAT = "yyyy-mm-dd"
# The footer's date: a template prints the day it is printed (&D); a declaration is given the day it
# was generated (``addin.declaration`` replaces this text in the sheet XML).
GENERATED_MARK = "生成日期 Generated &D"
GENERATED_XML = GENERATED_MARK.replace("&", "&amp;")  # how the sheet XML holds it

# Column widths (in widths of the digit 0 of the body font) of the printed sheets. 80 fill 93% of the
# width of A4 between margins of 2.5 cm (binding) and 1.5 cm in SimSun at 100% (Excel, WPS); where a
# wider font stands in for SimSun the sheet is shrunk to the page's width (LibreOffice here: 90%).
WIDTHS: dict[int, tuple[float, ...]] = {
    0: (19, 20, 18, 23),
    1: (24, 33, 23),
    2: (28, 9, 19, 24),
    3: (28, 15, 17, 20),
    4: (6, 37, 37),
    5: (40, 40),
    6: (26, 40),
}
BODY_FONT, HEAD_FONT = "SimSun", "SimHei"
SIZE = 10.5  # 五号, the body of Chinese official forms
BODY = Font(name=BODY_FONT, size=SIZE, charset=134)
BOLD = Font(name=BODY_FONT, size=SIZE, bold=True, charset=134)
SMALL = Font(name=BODY_FONT, size=9, charset=134)
TITLE = Font(name=HEAD_FONT, size=16, charset=134)
SUBTITLE = Font(name=HEAD_FONT, size=13, charset=134)
SECTION = Font(name=HEAD_FONT, size=12, charset=134)
HEADING = Font(name=HEAD_FONT, size=SIZE, charset=134)  # table headers
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
OPEN = Protection(locked=False)
LEFT = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
RIGHT = Alignment(wrap_text=True, vertical="center", horizontal="right")
MIN_HEIGHT = 18.0  # points: a row never lower than this, so a form has room to read and to write
SPACER = 9.0  # points: an empty row between sections
PAGE_HEIGHT = 728.0  # points of rows on an A4 page between the top and bottom margins (at 100%)
SHRINK_TO_ONE_PAGE = 1.3  # up to this much longer than a page: shrunk onto one page rather than run on

FIELD_FORMATS = {"year": COUNT_FORMAT, "date": DATE_FORMAT, "money": MONEY_FORMAT}
EXPECTED_TEXT = {
    "enterprise": "国" * 30,
    "address": "国" * 40,
    "project_name": "国" * 50,
}  # the longest text a row makes room for


# --- text on paper: how wide, how many lines ----------------------------------------------------------


def char_width(ch: str) -> float:
    """Width of a character in widths of the digit 0: a CJK character (and CJK punctuation) is two."""
    if unicodedata.east_asian_width(ch) in ("W", "F", "A"):
        return 2.0
    return 1.0  # SimSun's Latin letters and digits are half as wide as its CJK characters


def line_count(text: str, width: float) -> int:
    """Lines that ``text`` takes in a column ``width`` wide, wrapped as a spreadsheet wraps it: at
    spaces between Latin words, anywhere between CJK characters."""
    room = max(width - 1.0, 1.0)  # the cell's padding
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += 1
        used = 0.0
        for token in re.findall(r"[\x21-\x7e]+ *| +|.", paragraph):  # a Latin word with its spaces, or one character
            size = sum(char_width(c) for c in token)
            bare = sum(char_width(c) for c in token.rstrip(" "))
            if used + bare <= room:
                used += size
                continue
            if used > 0:
                lines += 1
            while bare > room:  # a word longer than the line is broken
                lines += 1
                bare -= room
            used = bare + (size - sum(char_width(c) for c in token.rstrip(" ")))
    return lines


def row_height(lines: int, size: float) -> float:
    """Points for ``lines`` lines of a font of ``size`` points (CJK fonts need about 1.45 em a line)."""
    return round(lines * size * 1.45 + 4, 1)


# --- references: how a formula reads a name ---------------------------------------------------------
