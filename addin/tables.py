"""CSV tables as users have them, and the one CSV writer of the project.

Reading (``read_csv``): the encodings Excel writes — UTF-8 with or without BOM, UTF-16 with its
BOM (Excel's "Unicode text", tab-separated) and GB18030 (a superset of GBK: Excel's "CSV (逗号分隔)"
on Chinese Windows) — decoded strictly in that order, never guessed into mojibake: bytes that do
not decode, that hold NUL, or that GB18030 would read as unassigned or private-use characters are
refused in one line.
(A limit: some single-byte Western text, e.g. Latin-1 ``ü`` before a letter, is also valid GB18030
and would read as Chinese characters; such files are not what Excel writes here.)
The delimiter (comma, semicolon or tab) is the one the header line uses most, outside quotes.

Writing (``write_csv``): comma-separated UTF-8 with a BOM whatever the input was, with text that a
spreadsheet program would run as a formula neutralised the OWASP way (``neutralise``); reading a
CSV back takes the mark off again (``unneutralise``), so a result fed in gives the same added
columns. Every CSV the project writes goes through ``write_csv``.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from policies import GreenAwardError

# --- neutralising formula text ------------------------------------------------------------------------

#: A cell beginning with one of these is run as a formula by Excel, LibreOffice or Google Sheets
#: (OWASP "CSV Injection": = + - @ tab CR), and the full-width forms some CJK versions of Excel
#: also take as formula starts.
FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")
#: A plain number (``-5``, ``+1.5``, ``-2e3``) is a number to a spreadsheet, not a formula: left as is.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula (OWASP).

    Decision: a cell that is a plain number (``-5``, ``+3.5``, ``-1e3``) is left unchanged: it
    cannot carry a formula, and prefixing it would turn a negative number into text.
    """
    if text and text[0] in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """The text ``neutralise`` was given: a ``'`` before a formula start is the mark, dropped."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


def csv_cell(value: object) -> str:
    """A cell as CSV text: nothing for None, numbers as they print, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, float) and value != value:
        return ""  # NaN: an empty cell
    return neutralise(str(value))


_FORMULA_AFTER_SEPARATOR = re.compile("\x1f[" + re.escape("".join(sorted(FORMULA_STARTS))) + "]")


def csv_row(row: Sequence[object]) -> Sequence[object]:
    """The row's cells as ``csv_cell`` has them. A row of text is looked at in one search (joined
    with a separator): most rows have nothing to neutralise, and 100,000s of rows are written."""
    try:
        if _FORMULA_AFTER_SEPARATOR.search("\x1f" + "\x1f".join(row)) is None:  # type: ignore[arg-type]
            return row
    except TypeError:  # not all text
        pass
    return [csv_cell(v) for v in row]


def write_csv(
    path: Path | str, header: Sequence[object], rows: Iterable[Sequence[object]], *, neutralised: bool = False
) -> None:
    """``header`` and ``rows`` as comma-separated UTF-8 with a BOM, each cell as ``csv_cell`` has it.
    ``neutralised``: the rows' cells are already as ``csv_row`` gives them, or None (nothing) or a
    number (as it prints): a caller that knows which of its cells are text neutralises only those."""
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(csv_row(header))
        writer.writerows(rows if neutralised else (csv_row(row) for row in rows))


# --- reading ------------------------------------------------------------------------------------------

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass
class CsvTable:
    """A CSV's header and rows of text cells, and how it was read."""

    header: list[str]
    rows: list[list[str]]
    encoding: str  # "UTF-8", "UTF-8 with BOM", "UTF-16", "GB18030"
    delimiter: str

    @property
    def described(self) -> str:
        return f"{self.encoding}, {DELIMITERS[self.delimiter]}-separated"


def decode(data: bytes, name: str = "file") -> tuple[str, str]:
    """(text, encoding) of a CSV's bytes, strictly: UTF-8 (BOM aware), UTF-16 by its BOM, GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        attempts = [("utf-8", "UTF-8 with BOM", 3)]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        attempts = [("utf-16", "UTF-16", 0)]
    else:
        attempts = [("utf-8", "UTF-8", 0), ("gb18030", "GB18030", 0)]
    for codec, label, skip in attempts:
        try:
            text = data[skip:].decode(codec)
        except UnicodeDecodeError:
            continue
        if _plausible(text, codec):
            return text, label
    tried = " or ".join(label for _, label, _ in attempts)
    raise GreenAwardError(
        f"{name}: not a text table in {tried}; save it as CSV UTF-8 (or Excel's CSV or Unicode text) "
        "/ 无法识别的编码，请另存为CSV UTF-8"
    )


def _plausible(text: str, codec: str) -> bool:
    """Text, not bytes misread: no NUL (a binary file, or UTF-16 without its BOM), and from GB18030
    no unassigned, private-use or surrogate character (what other bytes decode to there)."""
    if "\x00" in text:
        return False
    if codec != "gb18030" or text.isascii():
        return True
    return not any(unicodedata.category(c) in ("Cn", "Co", "Cs") for c in set(text))


def sniff_delimiter(header_line: str) -> str:
    """The delimiter the header line uses most (quoted parts left out); a comma when it uses none."""
    bare = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: bare.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(path: Path | str) -> CsvTable:
    """A CSV's header (stripped) and its rows that hold any value, every cell as text with
    ``unneutralise`` applied (``open_csv``, every row read into a list)."""
    source = open_csv(path)
    return CsvTable(source.header, list(source.rows()), source.encoding, source.delimiter)


@dataclass
class CsvSource:
    """A CSV opened to be read row by row, as many times as needed (``rows()``): a table of a
    million rows is never in memory at once. The encoding is decided on the whole file first."""

    path: Path
    header: list[str]
    encoding: str  # as ``CsvTable.encoding``
    codec: str
    delimiter: str
    lines: int  # the file's line breaks: about its rows (a quoted cell may hold more), known before reading

    @property
    def described(self) -> str:
        return f"{self.encoding}, {DELIMITERS[self.delimiter]}-separated"

    def rows(self) -> Iterator[list[str]]:
        """The rows that hold any value, after the header, each cell as ``read_csv`` has it."""
        with open(self.path, encoding=self.codec, newline="") as handle:
            parsed = csv.reader(handle, delimiter=self.delimiter)
            try:
                next(parsed, None)
                for row in parsed:
                    joined = "".join(row)
                    if not joined.strip():
                        continue  # a row without any value is not a claim
                    if "'" in joined:
                        row = [unneutralise(c) if c[:1] == "'" else c for c in row]
                    yield row
            except csv.Error as exc:  # e.g. a cell above the csv module's 131,072 characters
                raise GreenAwardError(
                    f"{self.path}: line {parsed.line_num}: not a readable csv ({exc}) / csv格式错误"
                ) from None


CHUNK_BYTES = 1 << 20


def open_csv(path: Path | str) -> CsvSource:
    """A CSV to read row by row: its encoding decided as ``decode`` does (strictly, on every byte,
    in chunks), its delimiter from the header line, its header read."""
    path = Path(path)
    encoding, codec, lines, head = _detect(path)
    header_line = head.split("\n", 1)[0]
    delimiter = sniff_delimiter(header_line)
    with open(path, encoding=codec, newline="") as handle:
        parsed = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(parsed, None)
        except csv.Error as exc:
            raise GreenAwardError(f"{path}: line 1: not a readable csv ({exc}) / csv格式错误") from None
    if not header or not "".join(header).strip():
        raise GreenAwardError(f"{path}: empty file, or no header line / 空文件或缺少表头")
    return CsvSource(path, [unneutralise(c).strip() for c in header], encoding, codec, delimiter, lines)


def _detect(path: Path) -> tuple[str, str, int, str]:
    """(encoding as shown, the codec to open it with, line breaks, the start of the text) of a CSV:
    ``decode``'s choice, made chunk by chunk so that a large file is never held whole."""
    with open(path, "rb") as handle:
        first = handle.read(4)
    if first.startswith(codecs.BOM_UTF8):
        attempts = [("utf-8-sig", "UTF-8 with BOM")]
    elif first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        attempts = [("utf-16", "UTF-16")]
    else:
        attempts = [("utf-8", "UTF-8"), ("gb18030", "GB18030")]
    for codec, label in attempts:
        found = _decodes(path, codec)
        if found is not None:
            return label, codec, found[0], found[1]
    tried = " or ".join(label for _, label in attempts)
    raise GreenAwardError(
        f"{path}: not a text table in {tried}; save it as CSV UTF-8 (or Excel's CSV or Unicode text) "
        "/ 无法识别的编码，请另存为CSV UTF-8"
    )


def _decodes(path: Path, codec: str) -> tuple[int, str] | None:
    """(line breaks, the first chunk's text) when the whole file decodes as ``codec`` and is
    ``_plausible`` text; else None."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    lines, head = 0, None
    with open(path, "rb") as handle:
        while True:
            data = handle.read(CHUNK_BYTES)
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError:
                return None
            if not _plausible(text, codec):
                return None
            lines += text.count("\n")
            if head is None and text:
                head = text
            elif head is not None and "\n" not in head and text:
                head += text  # a header line longer than a chunk
            if not data:
                return lines, head or ""
