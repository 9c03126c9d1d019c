"""``green-award ledger …``: create, inspect, decide on, export, import and back up a claims ledger.

SQLAlchemy is imported inside the commands, so that the rest of ``green-award`` starts as fast as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="The claims ledger: grants on record across years and batches / 申报台账", no_args_is_help=True)
console = Console()
T = TypeVar("T")

if TYPE_CHECKING:
    from .db import Ledger

LEDGER_HELP = "the ledger: a SQLite file or postgresql+psycopg://… (default: $GREEN_AWARD_LEDGER)"


def guard(call: Callable[[], T]) -> T:
    """``call()``, its errors as the command line reports them (one line, exit status 2)."""
    from ..cli import guarded

    return guarded(call)


@contextmanager
def opened(ledger: str | None) -> Iterator[Ledger]:
    """The ledger named by ``--ledger`` or ``GREEN_AWARD_LEDGER``, open for one command and closed after it."""
    from .db import open_ledger

    book = guard(lambda: open_ledger(ledger))
    try:
        yield book
    finally:
        book.close()


def _yuan(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


@app.command("init")
def init(target: str = typer.Argument(..., help="a new SQLite file, or an empty PostgreSQL database's URL")) -> None:
    """Create a ledger (never recreates one) / 新建台账."""
    from .db import init_ledger

    ledger = guard(lambda: init_ledger(target))
    console.print(f"已创建 Created ledger {ledger.name} (schema {ledger.revision()})", highlight=False)
    ledger.close()


@app.command("upgrade")
def upgrade(target: str | None = typer.Argument(None, help=LEDGER_HELP)) -> None:
    """Migrate a ledger to this version's schema (back it up first) / 升级台账结构."""
    from .db import shown, target_of, upgrade_ledger

    found, want = guard(lambda: upgrade_ledger(target))
    name = shown(target_of(target) or "")
    if found == want:
        console.print(f"{name} is at schema {want}: nothing to do / 已是最新", highlight=False)
    else:
        console.print(f"已升级 Upgraded {name}: schema {found} → {want}", highlight=False)


@app.command("enterprises")
def enterprises(ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP)) -> None:
    """List the enterprises on record / 列出企业."""
    from .repository import enterprises as listing

    with opened(ledger) as book:
        rows = guard(lambda: listing(book))
    table = Table(title=f"企业 Enterprises — {book.name}")
    table.add_column("统一社会信用代码 credit code", no_wrap=True, min_width=18)
    for column in ("企业 enterprise", "申报 submissions", "年度 years"):
        table.add_column(column)
    table.add_column("批准 granted (元)", justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            row["uscc"],
            row["enterprise"],
            str(row["submissions"]),
            ", ".join(map(str, row["years"])),
            _yuan(row["granted_yuan"]),
        )
    console.print(table)


@app.command("show")
def show(
    uscc: str = typer.Argument(..., help="the enterprise's unified social credit code"),
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
) -> None:
    """One enterprise's claims, grants and room left under each cap, by year / 企业台账."""
    from .repository import show as details

    with opened(ledger) as book:
        info = guard(lambda: details(book, uscc))
    console.print(f"[bold]{info['enterprise']}[/bold] {info['uscc']}", highlight=False)
    for year in info["years"]:
        table = Table(title=f"{year['year']} 年度 year")
        for column in (
            "#",
            "项目 project",
            "条款 clause",
            "申报 declared",
            "复核 recomputed",
            "批准 granted",
            "状态 state",
            "文件 file",
        ):
            table.add_column(column)
        for s in year["submissions"]:
            table.add_row(
                str(s["id"]),
                s["project"],
                s["clause"],
                _yuan(s["declared_yuan"]),
                _yuan(s["recomputed_yuan"]),
                _yuan(s["granted_yuan"]),
                s["state"],
                s["file"],
            )
        console.print(table)
        for cap in year["caps"]:
            console.print(
                f"  上限 Cap {cap['label']}: used {_yuan(cap['used_yuan'])} of {_yuan(cap['cap_yuan'])}, "
                f"left {_yuan(cap['left_yuan'])} 元",
                highlight=False,
            )
        for ev in year["events"]:
            console.print(
                f"  活动 Event «{ev['event']}» ({ev['clause']}, all co-funders): used {_yuan(ev['used_yuan'])} "
                f"of {_yuan(ev['cap_yuan'])}, left {_yuan(ev['left_yuan'])} 元",
                highlight=False,
            )
        for ov in year["over_years"]:
            console.print(
                f"  多年 Over the years {ov['clause']} project {ov['project']} (from {ov['first_year'] or '—'}): "
                f"used {_yuan(ov['used_yuan'])} of {_yuan(ov['cap_yuan'])}, left {_yuan(ov['left_yuan'])} 元",
                highlight=False,
            )


@app.command("decide")
def decide(
    submission: int = typer.Argument(..., help="the submission's ledger id"),
    action: str = typer.Argument(..., help="grant | reduce | reject"),
    amount: str | None = typer.Argument(None, help="reduce: the amount granted (yuan)"),
    reason: str = typer.Option(..., "--reason", help="why (kept with the decision)"),
    reviewer: str = typer.Option(..., "--reviewer", help="who decides"),
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
) -> None:
    """Decide a submission: grant (what the rules allow now), reduce AMOUNT, or reject / 审核决定."""
    from .repository import decide as record_decision

    if action == "reduce" and amount is None:
        from ..cli import fail

        fail("decide reduce needs the AMOUNT, e.g. `ledger decide 12 reduce 300000` / 须给出金额")
    with opened(ledger) as book:
        made = guard(
            lambda: record_decision(
                book,
                submission,
                action,
                reviewer=reviewer,
                reason=reason,
                amount=Decimal(amount.replace(",", "")) if amount else None,
            )
        )
    console.print(
        f"决定 Decision #{made.id}: submission #{submission} {made.action} {_yuan(made.amount)} 元 by {made.reviewer}",
        highlight=False,
    )


@app.command("void")
def void(
    decision: int = typer.Argument(..., help="the decision's id"),
    reason: str = typer.Option(..., "--reason", help="why"),
    reviewer: str = typer.Option(..., "--reviewer", help="who"),
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
) -> None:
    """Void a decision (append-only: a new row says so) / 作废决定."""
    from .repository import void as record_void

    with opened(ledger) as book:
        made = guard(lambda: record_void(book, decision, reviewer=reviewer, reason=reason))
    console.print(
        f"决定 Decision #{made[0].id}: voids #{decision} (submission #{made[0].submission_id})", highlight=False
    )
    for row in made[1:]:
        console.print(f"决定 Decision #{row.id}: {row.action} {_yuan(row.amount)} 元 — {row.reason}", highlight=False)


@app.command("export")
def export(
    out: Path = typer.Option(..., "--out", "-o", help="FILE.json or FILE.xlsx"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
) -> None:
    """Everything on record: submissions, decisions, payments / 导出台账."""
    from .export import write_export
    from .repository import export as everything

    with opened(ledger) as book:
        data = guard(lambda: everything(book))
    path = guard(lambda: write_export(data, out, overwrite=overwrite))
    console.print(
        f"已导出 Exported {len(data['submissions'])} submissions, {len(data['decisions'])} decisions to {path}",
        highlight=False,
    )


@app.command("import")
def import_(
    table: Path = typer.Argument(..., help="a portfolio result (.csv or .xlsx) with uscc and granted_yuan"),
    reviewer: str = typer.Option(..., "--reviewer", help="who decided that season"),
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
) -> None:
    """Record a past season's grants from a portfolio result table / 导入往年批准记录."""
    from ..portfolio import read_rows
    from .repository import import_items, import_rows

    header, rows = guard(lambda: read_rows(table))
    items, problems = guard(lambda: import_rows(header, rows, source=table.name))
    for problem in problems:
        console.print(f"[yellow]跳过 Skipped:[/yellow] {problem}", highlight=False)
    with opened(ledger) as book:
        outcomes = guard(lambda: import_items(book, items, reviewer=reviewer, source=table.name))
    new = sum(1 for o in outcomes if o.new)
    console.print(
        f"已导入 Imported {new} rows ({len(outcomes) - new} already on record, {len(problems)} skipped)",
        highlight=False,
    )
    raise typer.Exit(1 if problems else 0)


@app.command("backup")
def backup(
    out: Path = typer.Option(..., "--out", "-o", help="the copy (a SQLite file)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing file"),
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
) -> None:
    """A consistent copy of a SQLite ledger while others use it (PostgreSQL: export or pg_dump) / 备份台账."""
    from ..files import write_atomically
    from .db import backup_sqlite

    with opened(ledger) as book:
        path = guard(lambda: write_atomically(out, lambda tmp: backup_sqlite(book, tmp), overwrite=overwrite))
    console.print(f"已备份 Backed up {book.name} to {path}", highlight=False)
