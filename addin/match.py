"""``green-award match``: an enterprise profile matched against every clause (``policies.matching``).

Reads a profile from YAML, JSON or a sheet of an xlsx (the layout of ``green-award template
profile``), prints the opportunities and the best combination, and writes them as JSON and as a
workbook people read. Also writes the empty profile workbook.

A batch (several profiles, or a folder of them: ``run_matches``) is matched over an executor
(``addin.executors``): each worker reads nothing and writes nothing, it is sent a profile's data and
returns its summary and the bytes of its workbook and JSON; this process writes them, one file per
profile in the ``--out`` and ``--json`` folders. A bad profile is one line and the batch goes on.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from concurrent.futures import Executor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from rich.console import Console
from rich.markup import escape

from policies import GreenAwardError, PolicyDataError, yaml_text
from policies.engine import find_clause
from policies.kinds import kinds
from policies.matching import (
    DATE_FIELDS,
    ENTERPRISE_FIELDS,
    SCALES,
    Match,
    MatchError,
    Result,
    match,
    profile_from_rows,
    profile_names,
)
from policies.registry import fields, zone_spec
from policies.schema import InputSpec

from . import console_tables as tables
from .executors import batch_executor, chunk_size
from .files import OutputError, ensure_writable_folder, write_atomically
from .portfolio import check_workbook, column_label
from .sheet_style import (
    HEADER_ALIGN,
    HEADER_FILL,
    HEADER_FONT,
    TITLE_FONT,
    Column,
    print_setup,
    text_width,
    write_table,
)

STATUS_LABELS = {
    "claimable": ("可申报", "claimable"),
    "possible": ("待确认", "possible"),
    "not_applicable": ("不适用", "not applicable"),
}
SHORT_STATUS = {
    "claimable": ("可申报", "claimable"),
    "possible": ("待确认", "possible"),
    "not_applicable": ("不适用", "n/a"),
}
STATUS_FILLS = {"claimable": "C6EFCE", "possible": "FFE699"}
PROFILE_SHEET = "profile"


# --- reading --------------------------------------------------------------------------------------


def _once(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose keys are given once each (as the YAML loader insists): the json module keeps
    the last of two silently, and a profile's second ``zone`` would overrule the first unseen."""
    data: dict[str, object] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"key {key!r} appears twice")
        data[key] = value
    return data


def read_profile(path: Path | str) -> dict:
    """A profile's data from a .yaml/.yml, .json or .xlsx file (its ``profile`` sheet, or the first)."""
    path = Path(path)
    if not path.is_file():
        raise GreenAwardError(f"{path}: no such file / 文件不存在")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        try:
            text = path.read_text(encoding="utf-8-sig")
            data = json.loads(text, object_pairs_hook=_once) if suffix == ".json" else yaml_text.load(text)
        except (ValueError, yaml_text.YAMLError, PolicyDataError) as exc:  # a key twice: PolicyDataError
            raise GreenAwardError(
                f"{path}: not a readable {suffix[1:]} file ({' '.join(str(exc).split())[:200]}) / 无法读取"
            ) from None
        if not isinstance(data, dict):
            raise GreenAwardError(
                f"{path}: a profile is a mapping with enterprise and projects / 须为含enterprise与projects的映射"
            )
        return data
    if suffix not in (".xlsx", ".xlsm"):
        raise GreenAwardError(f"{path}: expected a .yaml, .json or .xlsx profile / 须为yaml、json或xlsx")
    check_workbook(path)
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged or hostile file is that file's problem
        raise GreenAwardError(f"{path}: not a readable xlsx ({type(exc).__name__}) / 无法读取") from None
    try:
        names = {n.strip().lower(): n for n in book.sheetnames}
        sheet = book[names.get(PROFILE_SHEET, book.sheetnames[0])]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return profile_from_rows(rows)


def match_file(path: Path | str) -> Match:
    """Read and match a profile file; a bad profile is a MatchError naming the file, field and rule."""
    try:
        return match(read_profile(path))
    except MatchError as exc:
        raise MatchError(f"{path}: {exc}") from None


# --- the console ----------------------------------------------------------------------------------


def status_label(status: str) -> str:
    zh, en = STATUS_LABELS[status]
    return f"{zh} {en}"


def print_match(result: Match, console: Console, *, everything: bool = False) -> None:
    """The opportunities (claimable, possible; with ``everything`` the not-applicable ones whose kind
    matched as well, with the failed checks), then the best combination and its totals by year."""
    enterprise = result.profile.enterprise
    console.print(
        f"企业 Enterprise: {escape(enterprise.name)}"
        + (f" ({enterprise.credit_code})" if enterprise.credit_code else ""),
        highlight=False,
    )
    table = tables.table("申报机会 Opportunities")
    tables.name(table, "项目\nProject")
    tables.name(table, "条款\nClause")
    tables.name(table, "状态\nStatus")
    tables.figure(table, "金额（元）\nAmount")
    tables.figure(table, "待确认\nConfirm")
    shown = sorted(
        (r for r in result.results if r.status != "not_applicable" or (everything and r.failed != ("kind",))),
        key=lambda r: (STATUSES_ORDER[r.status], r.project),
    )
    for r in shown:
        table.add_row(
            r.project,
            r.clause,
            "\n".join(SHORT_STATUS[r.status]),
            tables.yuan(r.amount),
            str(len(r.missing)) if r.missing else "",
        )
    console.print(table)
    # what to confirm, and why not, below the table: names whole (a line wraps between names, never inside one)
    for r in shown:
        if r.missing:
            console.print(
                f"待确认或补充 To confirm or give — {r.project} {r.clause}: " + ", ".join(r.missing), highlight=False
            )
    for r in shown:
        if r.status == "not_applicable":
            console.print(
                f"不适用 Not applicable — {r.project} {r.clause}: " + escape("; ".join(r.reasons)), highlight=False
            )
    counts = {s: sum(1 for r in result.results if r.status == s) for s in STATUS_LABELS}
    console.print("结果 Results: " + ", ".join(f"{status_label(s)} {n}" for s, n in counts.items()), highlight=False)
    console.print(
        "金额为上限；待确认项为确认后的金额 Amounts are ceilings; a possible one's once confirmed", highlight=False
    )
    best = result.best
    table = tables.table("最优组合 Best combination")
    tables.name(table, "项目\nProject")
    tables.name(table, "条款\nClause")
    tables.figure(table, "年度\nYear")
    tables.figure(table, "核定（元）\nGranted")
    tables.text(table, "支付（年度：元）\nPayments", min_width=12)
    for c in best.claims:
        paid = "\n".join(f"{y}: {a:,.2f}" for y, a, _ in c.payments)
        table.add_row(c.project, c.clause, str(c.year), tables.yuan(c.granted), paid)
    console.print(table)
    console.print(f"合计 Total: {best.total:,.2f} 元", highlight=False)
    for label, years in (
        ("按申报年度 By claim year", best.by_year),
        ("按支付年度 By payment year", best.payments_by_year),
    ):
        console.print(f"{label}: " + ("; ".join(f"{y}: {a:,.2f}" for y, a in years.items()) or "—"), highlight=False)


STATUSES_ORDER = {"claimable": 0, "possible": 1, "not_applicable": 2}


# --- writing --------------------------------------------------------------------------------------


def json_text(result: Match) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"


def write_bytes(path: Path | str, data: bytes, *, overwrite: bool = False) -> Path:
    """``data`` written to ``path`` atomically (never over an existing file unless ``overwrite``)."""

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return write_atomically(Path(path), write, overwrite=overwrite)


def write_json(result: Match, path: Path | str, *, overwrite: bool = False) -> Path:
    return write_bytes(path, json_text(result).encode("utf-8"), overwrite=overwrite)


def _title(clause_id: str) -> str:
    return find_clause(clause_id)[1].title.zh


def _field(name: str) -> tuple[str, str]:
    """A claim field's label (common.yaml), as (中文, English)."""
    label = fields()[name].label
    return label.zh, label.en


RESULT_COLUMNS = [
    Column("项目", "Project"),
    Column(*_field("project_name"), "wrap", 24),
    Column("条款", "Clause"),
    Column("条款名称", "Clause title", "wrap", 30),
    Column("年度", "Year", "year"),
    Column("状态", "Status"),
    Column("金额（元）", "Amount (yuan)", "money"),
    Column("待确认/补充", "To confirm or give", "wrap", 40),
    Column("未通过的检查", "Failed checks", "wrap", 30),
    Column("说明", "Why", "wrap", 60),
]
BEST_COLUMNS = [
    Column("项目", "Project"),
    Column("条款", "Clause"),
    Column("条款名称", "Clause title", "wrap", 30),
    Column("年度", "Year", "year"),
    Column("金额（元）", "Amount (yuan)", "money"),
    Column("核定（元）", "Granted (yuan)", "money"),
    Column("状态", "Status"),
    Column("支付", "Payments", "wrap", 40),
    Column("说明", "Notes", "wrap", 60),
]
YEAR_COLUMNS = [
    Column("年度", "Year", "year"),
    Column("按申报年度核定（元）", "Granted by claim year", "money"),
    Column("按支付年度支付（元）", "Paid by payment year", "money"),
]


def _result_rows(result: Match, rows: list[Result]) -> list[list]:
    names = {item.id: item.name for item in result.profile.items}
    return [
        [
            r.project,
            names.get(r.project, ""),
            r.clause,
            _title(r.clause),
            r.year,
            status_label(r.status),
            r.amount,
            ", ".join(r.missing),
            ", ".join(r.failed),
            "; ".join(r.reasons),
        ]
        for r in rows
    ]


def write_xlsx(result: Match, path: Path | BinaryIO) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    book = Workbook(write_only=True)
    fills = {s: PatternFill("solid", fgColor=c) for s, c in STATUS_FILLS.items()}
    shown = sorted(
        (r for r in result.results if r.failed != ("kind",)), key=lambda r: (STATUSES_ORDER[r.status], r.project)
    )
    sheets = [("机会 Opportunities", shown), ("全部 All", list(result.results))]
    for title, rows in sheets:
        ws = book.create_sheet(title)
        print_setup(ws, title=f"{result.profile.enterprise.name} 申报机会 Opportunities")
        write_table(
            ws, RESULT_COLUMNS, _result_rows(result, rows), fills=[fills.get(r.status) for r in rows], fill_at=5
        )
    ws = book.create_sheet("最优组合 Best")
    print_setup(ws, title=f"{result.profile.enterprise.name} 最优组合 Best combination")
    best = result.best
    best_rows: list[list] = [
        [
            c.project,
            c.clause,
            _title(c.clause),
            c.year,
            c.amount,
            c.granted,
            c.status,
            "; ".join(f"{y}: {a:,.2f} ({s})" for y, a, s in c.payments),
            "; ".join(c.notes),
        ]
        for c in best.claims
    ]
    best_rows.append(["合计 Total", "", "", None, None, best.total, "", "", ""])
    write_table(ws, BEST_COLUMNS, best_rows)
    ws = book.create_sheet("按年 By year")
    print_setup(ws, title="按年度 By year")
    years = sorted({*best.by_year, *best.payments_by_year})
    write_table(
        ws,
        YEAR_COLUMNS,
        [[y, best.by_year.get(y, Decimal(0)), best.payments_by_year.get(y, Decimal(0))] for y in years],
    )
    book.save(path)


def write_result(result: Match, path: Path | str, *, overwrite: bool = False) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise GreenAwardError(f"{path}: the result is an .xlsx workbook / 结果须为xlsx")
    return write_atomically(path, lambda tmp: write_xlsx(result, tmp), overwrite=overwrite)


def run_match(
    source: Path,
    *,
    out: Path | None = None,
    json_out: Path | None = None,
    overwrite: bool = False,
    everything: bool = False,
    console: Console | None = None,
) -> Match:
    console = console or Console()
    result = match_file(source)
    print_match(result, console, everything=everything)
    if out is not None:
        console.print(f"已生成 Wrote {write_result(result, out, overwrite=overwrite)}", highlight=False)
    if json_out is not None:
        console.print(f"JSON: {write_json(result, json_out, overwrite=overwrite)}", highlight=False)
    return result


# --- a batch of profiles -------------------------------------------------------------------------

#: Profiles from which a pool of this machine's processes pays, without ``--workers`` (measured by
#: benchmarks/bench_executors.py; docs/performance.md).
PAYS_FROM = 100
PROFILE_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx", ".xlsm")


class ResultsExist(FileExistsError):
    """Results of this batch are already in the output folders and ``--overwrite`` was not given."""

    def __init__(self, names: list[Path], total: int):
        super().__init__(
            f"{len(names):,} result file(s) of the {total:,} profiles exist (e.g. {names[0]}); nothing written: "
            "pass --overwrite to replace them, or write to other folders / 结果文件已存在，未生成"
        )


@dataclass
class Matched:
    """One profile of a batch, as a worker returns it: plain data (a summary, the files' bytes) or why not."""

    source: str
    enterprise: str = ""
    claimable: int = 0
    possible: int = 0
    total: Decimal | None = None
    xlsx: bytes | None = None
    json: bytes | None = None
    error: str | None = None
    written: tuple[str, ...] = ()


def profile_files(paths: Sequence[Path]) -> list[Path]:
    """The profiles named: files as given, and each folder's ``.yaml``, ``.yml``, ``.json`` and ``.xlsx``
    files (not its subfolders, hidden files or Excel's ``~$`` lock files), in name order; each once."""
    out: dict[Path, Path] = {}  # a profile named twice (itself and in its folder) is matched once
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in PROFILE_SUFFIXES and not p.name.startswith((".", "~$"))
            )
        else:
            found = [path]
        for p in found:
            out.setdefault(p.resolve(), p)
    return list(out.values())


def output_names(sources: Sequence[Path]) -> list[str]:
    """One file stem per profile: its own stem, with a short hash of its path where two would coincide
    (also ignoring case, as Windows does): ``a/x.yaml`` and ``b/x.json`` both get one."""
    counts: dict[str, int] = {}
    for path in sources:
        counts[path.stem.casefold()] = counts.get(path.stem.casefold(), 0) + 1
    return [
        path.stem
        if counts[path.stem.casefold()] == 1
        else f"{path.stem}__{hashlib.sha1(str(path).encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
        for path in sources
    ]


def match_profile(source: str, data: dict, xlsx: bool, as_json: bool) -> Matched:
    """Match one profile's data (in whichever process runs it); a bad profile is its outcome."""
    try:
        result = match(data)
        out = Matched(
            source,
            enterprise=result.profile.enterprise.name,
            claimable=sum(1 for r in result.results if r.status == "claimable"),
            possible=sum(1 for r in result.results if r.status == "possible"),
            total=result.best.total,
        )
        if xlsx:
            book = io.BytesIO()
            write_xlsx(result, book)
            out.xlsx = book.getvalue()
        if as_json:
            out.json = json_text(result).encode("utf-8")
    except GreenAwardError as exc:
        return Matched(source, error=f"{source}: {exc}")
    except Exception as exc:  # a fault of ours: this profile's, reported with its kind
        return Matched(source, error=f"{source}: could not be matched ({type(exc).__name__}: {exc}) / 匹配失败")
    return out


def warm() -> None:
    """Compile every monetary clause and load openpyxl's writer once, in this process: what each worker
    would otherwise do on its first profile."""
    import openpyxl  # noqa: F401 - imported for the forked workers

    profile_names()


def match_chunk(items: list[tuple[str, dict]], xlsx: bool, as_json: bool) -> list[Matched]:
    """The work sent to an executor: module-level, plain data in and out."""
    return [match_profile(source, data, xlsx, as_json) for source, data in items]


def _targets(names: list[str], out: Path | None, json_out: Path | None) -> list[Path]:
    return [
        folder / f"{name}{suffix}"
        for name in names
        for folder, suffix in ((out, ".xlsx"), (json_out, ".json"))
        if folder
    ]


def check_batch_folder(path: Path, option: str) -> None:
    """A batch writes one file per profile: ``--out``/``--json`` name folders (an .xlsx or .json name is a mistake)."""
    if path.is_file() or (not path.exists() and path.suffix.lower() in (".xlsx", ".json")):
        raise OutputError(
            path, f"{option}: with several profiles or a folder, give a folder (one file per profile) / 须为文件夹"
        )


def run_matches(
    paths: Sequence[Path],
    *,
    out: Path | None = None,
    json_out: Path | None = None,
    overwrite: bool = False,
    workers: int | None = None,
    executor_spec: str | None = None,
    executor: Executor | None = None,
    console: Console | None = None,
) -> list[Matched]:
    """``green-award match`` on several profiles or folders of them: a summary line per profile, a
    workbook in ``out`` and a JSON in ``json_out`` (folders) per profile. A profile that cannot be read
    or matched is reported and the others go on. Raises (one line, exit 2) before any work when the
    output folders hold some of the results already and ``overwrite`` is not given, or the executor
    cannot start."""
    console = console or Console()
    for folder, option in ((out, "--out"), (json_out, "--json")):
        if folder is not None:
            check_batch_folder(folder, option)
    sources = profile_files(paths)
    if not sources:
        raise GreenAwardError(f"{', '.join(map(str, paths))}: no profile (.yaml, .json, .xlsx) there / 未找到企业画像")
    names = output_names(sources)
    if not overwrite:
        taken = [t for t in _targets(names, out, json_out) if t.exists()]
        if taken:
            raise ResultsExist(taken, len(sources))
    outcomes: dict[int, Matched] = {}
    todo: list[tuple[int, str, dict]] = []
    for i, path in enumerate(sources):
        try:
            todo.append((i, str(path), read_profile(path)))  # read here: the workers need no access to the files
        except GreenAwardError as exc:
            outcomes[i] = Matched(str(path), error=str(exc))
    with ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(batch_executor(executor_spec, workers, items=len(todo), pays_from=PAYS_FROM))
        for folder in (out, json_out):  # after the executor started: a scheduler that does not answer makes none
            if folder is not None:
                ensure_writable_folder(folder)
        for i, matched in _match_all(todo, out is not None, json_out is not None, executor, workers):
            outcomes[i] = _save(matched, names[i], out, json_out, overwrite)
    results = [outcomes[i] for i in range(len(sources))]
    print_matches(results, console, out, json_out)
    return results


def _match_all(
    todo: list[tuple[int, str, dict]], xlsx: bool, as_json: bool, executor: Executor | None, workers: int | None
):
    """(index, Matched) of each profile, in this process or over ``executor`` (as the chunks finish)."""
    if executor is None:
        for i, source, data in todo:
            yield i, match_profile(source, data, xlsx, as_json)
        return
    warm()  # before the first submit: a process pool forks then, and its workers inherit it
    size = chunk_size(len(todo), workers, most=8)
    futures = {
        executor.submit(match_chunk, [(source, data) for _, source, data in todo[k : k + size]], xlsx, as_json): todo[
            k : k + size
        ]
        for k in range(0, len(todo), size)
    }
    for future in as_completed(futures):
        chunk = futures[future]
        try:
            made = future.result()
        except Exception as exc:  # a worker lost: its profiles' problem, the rest goes on
            why = f"not matched: the executor lost the work ({type(exc).__name__}: {exc}) / 执行失败"
            made = [Matched(source, error=f"{source}: {why}") for _, source, _ in chunk]
        yield from zip((i for i, _, _ in chunk), made)


def _save(matched: Matched, name: str, out: Path | None, json_out: Path | None, overwrite: bool) -> Matched:
    """Write a matched profile's files (a file that cannot be written: that profile's problem)."""
    written = []
    try:
        for folder, suffix, data in ((out, ".xlsx", matched.xlsx), (json_out, ".json", matched.json)):
            if folder is not None and data is not None:
                written.append(str(write_bytes(folder / f"{name}{suffix}", data, overwrite=overwrite)))
    except OSError as exc:  # OutputExistsError (a parallel run got there first) and OutputError
        matched.error = f"{matched.source}: {exc}"
    matched.xlsx = matched.json = None  # written: not kept for the summary
    matched.written = tuple(written)
    return matched


def print_matches(results: list[Matched], console: Console, out: Path | None, json_out: Path | None) -> None:
    """A line per profile (enterprise, claimable and possible counts, the best combination's total),
    then the problems, one line each."""
    table = tables.table("政策匹配 Matches")
    tables.name(table, "画像\nProfile")
    tables.text(table, "企业\nEnterprise", min_width=12)
    tables.figure(table, "可申报\nClaimable")
    tables.figure(table, "待确认\nPossible")
    tables.figure(table, "最优组合（元）\nBest total")
    for m in results:
        if m.error is None:
            table.add_row(
                Path(m.source).name, escape(m.enterprise), str(m.claimable), str(m.possible), tables.yuan(m.total)
            )
    console.print(table)
    good = [m for m in results if m.error is None]
    total = sum((m.total or Decimal(0) for m in good), Decimal(0))
    console.print(
        f"画像 Profiles: {len(good):,} matched, {len(results) - len(good):,} with problems; "
        f"最优组合合计 Best totals: {total:,.2f} 元",
        highlight=False,
        soft_wrap=True,
    )
    for folder, what in ((out, "workbooks 工作簿"), (json_out, "JSON")):
        if folder is not None:
            console.print(f"已生成 Wrote {sum(1 for m in good if m.written)} {what} in {folder}", highlight=False)
    for m in results:
        if m.error is not None:
            console.print(f"[yellow]problem 问题[/yellow] {escape(m.error)}", highlight=False, soft_wrap=True)


# --- the kinds ------------------------------------------------------------------------------------


def kind_rows() -> list[tuple[str, str, str, str, str]]:
    """(group, id, 中文, English, the clauses it applies to) of every enterprise and project kind."""
    from policies.registry import policies

    clauses: dict[str, list[str]] = {}
    for policy in policies().values():
        for clause in policy.clauses:
            for kind in clause.kinds:
                clauses.setdefault(kind, []).append(clause.id)
    vocabulary = kinds()
    rows = [
        ("enterprise", k, e.label.zh, e.label.en, "meets: " + ", ".join(e.meets))
        for k, e in vocabulary.enterprise_kinds.items()
    ]
    rows += [
        ("project", k, p.label.zh, p.label.en, ", ".join(clauses.get(k, [])))
        for k, p in vocabulary.project_kinds.items()
    ]
    return rows


def print_kinds(console: Console) -> None:
    table = tables.table("类型 Kinds (a profile's enterprise kinds and project kinds / 企业类型与项目类型)")
    tables.name(table, "类别\nGroup")
    tables.name(table, "类型\nKind")
    tables.text(table, "名称\nName", min_width=16)
    tables.text(table, "适用条款或满足条件\nClauses / meets", min_width=16)
    for group, kind, zh, en, used in kind_rows():
        table.add_row(group, kind, f"{zh}\n{en}", used)
    console.print(table)


# --- the empty profile workbook -------------------------------------------------------------------

#: Facts the template offers in the enterprise block (any catalog name may be added as a row).
TEMPLATE_FACTS = (
    "leader",
    "key_energy_unit",
    "heavy_pollution_key_industry",
    "key_industry",
    "no_major_penalty",
    "not_seriously_dishonest",
    "no_major_safety_accident",
    "no_environmental_incident",
)

#: The profile workbook's rows and columns: the claim fields' labels where a field is the same thing.
ENTERPRISE_LABELS = {
    "name": _field("enterprise"),
    "credit_code": _field("uscc"),
    "zone": _field("zone"),
    "kinds": ("企业类型（每格一个）", "Enterprise kinds (one per cell)"),
    "scale": ("企业规模", "Scale"),
}
PROJECT_LABELS = {
    "project": _field("project"),
    "name": _field("project_name"),
    "kind": ("项目类型", "Project kind"),
    "year": _field("year"),
    "zone": ("项目所在区域（默认同企业）", "Zone (empty: the enterprise's)"),
    "start_date": _field("start_date"),
    "completion_date": _field("completion_date"),
}
TEMPLATE_ROWS = 200


def template_inputs() -> list[tuple[str, InputSpec]]:
    """The input columns of the project table: the clauses' inputs, then their conditions."""
    names = profile_names()
    conditions = {n for n, s in names.items() if s.type == "bool" and s.default is None and not s.fact}
    return [(n, s) for n, s in names.items() if n not in conditions] + [
        (n, s) for n, s in names.items() if n in conditions
    ]


def write_template(path: Path | str, *, overwrite: bool = False) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise GreenAwardError(f"{path}: the template is an .xlsx workbook / 模板须为xlsx")
    return write_atomically(path, _write_template, overwrite=overwrite)


def _write_template(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    ws = book.active
    ws.title = PROFILE_SHEET
    lists = book.create_sheet("lists")
    lists.sheet_state = "hidden"
    refs: dict[str, str] = {}

    def listed(key: str, values: list[str]) -> str:
        if key not in refs:
            col = len(refs) + 1
            lists.cell(row=1, column=col, value=key)
            for i, value in enumerate(values, 2):
                lists.cell(row=i, column=col, value=value).data_type = "s"
            letter = get_column_letter(col)
            refs[key] = f"{quote_sheetname('lists')}!${letter}$2:${letter}${len(values) + 1}"
        return refs[key]

    def dropdown(area: str, key: str, values: list[str], prompt: str) -> None:
        dv = DataValidation(type="list", formula1=listed(key, values), allow_blank=True)
        dv.errorStyle = "warning"  # the codes are accepted too
        dv.prompt, dv.showInputMessage = prompt[:255], True
        ws.add_data_validation(dv)
        dv.add(area)

    def label_cell(row: int, column: int, zh: str, name: str) -> None:
        cell = ws.cell(row=row, column=column, value=f"{zh}\n{name}")
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN

    vocabulary = kinds()
    zones = [label.zh for label in (zone_spec().values or {}).values()]
    ws["A1"] = "企业信息 Enterprise（每行一项；B列起填写 fill from column B）"
    ws["A1"].font = TITLE_FONT
    row = 2
    for name in ENTERPRISE_FIELDS:
        zh, en = ENTERPRISE_LABELS[name]
        label_cell(row, 1, zh, name)
        if name == "zone":
            dropdown(f"B{row}", "zone", zones, "所在区域 Zone")
        elif name == "kinds":
            dropdown(
                f"B{row}:D{row}",
                "enterprise_kinds",
                [k.label.zh for k in vocabulary.enterprise_kinds.values()],
                "企业类型，每格一个 One enterprise kind per cell",
            )
        elif name == "scale":
            dropdown(f"B{row}", "scale", list(SCALES), "large / medium / small / micro")
        elif name == "credit_code":
            ws[f"B{row}"].number_format = "@"
        row += 1
    for name in TEMPLATE_FACTS:
        fact = profile_names()[name]
        label_cell(row, 1, fact.label.zh, name)
        dropdown(f"B{row}", "yes_no", ["是", "否"], f"{fact.label.zh} / {fact.label.en}")
        row += 1
    row += 1
    ws.cell(
        row=row,
        column=1,
        value="项目与所获称号 Projects and titles held（每行一项 one per row; 只填用到的列 fill the columns you use）",
    ).font = TITLE_FONT
    header_row = row + 1
    columns: list[tuple[str, str, InputSpec | None]] = [
        (n, PROJECT_LABELS[n][0], None) for n in ("project", "name", "kind", "year", "zone", *DATE_FIELDS)
    ]
    columns += [(n, column_label(n)[0], s) for n, s in template_inputs()]
    first, last = header_row + 1, header_row + TEMPLATE_ROWS
    for c, (name, zh, spec) in enumerate(columns, 1):
        label_cell(header_row, c, zh, name)
        letter = get_column_letter(c)
        ws.column_dimensions[letter].width = max(14, min(30, text_width(zh) + 2, text_width(name) + 4))
        area = f"{letter}{first}:{letter}{last}"
        if name == "kind":
            dropdown(
                area, "project_kinds", [k.label.zh for k in vocabulary.project_kinds.values()], "项目类型 Project kind"
            )
        elif name == "zone":
            dropdown(area, "zone", zones, "项目所在区域，空则同企业 Zone (empty: the enterprise's)")
        elif spec is not None and spec.type == "choice":
            dropdown(
                area,
                f"choice:{name}",
                [label.zh for label in (spec.values or {}).values()],
                f"{spec.label.zh} / {spec.label.en}",
            )
        elif spec is not None and spec.type == "bool":
            dropdown(area, "yes_no", ["是", "否"], f"{spec.label.zh} / {spec.label.en}")
        elif name in ("project", "name"):
            for r in range(first, last + 1):
                ws.cell(row=r, column=c).number_format = "@"
    ws.column_dimensions["A"].width = 30
    ws.row_dimensions[header_row].height = 45
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    print_setup(ws, title="企业画像 Enterprise profile", title_rows=None)
    help_sheet = book.create_sheet("kinds")
    print_setup(help_sheet, title="类型 Kinds")
    write_table(
        help_sheet,
        [
            Column("类别", "Group"),
            Column("类型", "Kind"),
            Column("中文", "Chinese", "wrap", 30),
            Column("英文", "English", "wrap", 34),
            Column("适用条款或满足条件", "Clauses / meets", "wrap", 50),
        ],
        [list(r) for r in kind_rows()],
    )
    book.move_sheet("lists", offset=1)
    book.save(path)
