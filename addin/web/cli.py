"""``green-award serve`` and ``green-award users …``: the reviewers' desk and its accounts.

FastAPI, uvicorn and argon2 are imported inside the commands, so the rest of ``green-award`` starts as fast as before.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from ..ledger.cli import LEDGER_HELP, guard, opened  # one way to open a ledger for every command

users_app = typer.Typer(help="Reviewer accounts of the web app, kept in the ledger / 审核人账户", no_args_is_help=True)
console = Console()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return typer.prompt("密码 Password", hide_input=True, confirmation_prompt="再输一次 Repeat")


@users_app.command("add")
def add(
    name: str = typer.Argument(..., help="the reviewer's name (recorded with each decision)"),
    admin: bool = typer.Option(False, "--admin", help="may add reviewers in the web app"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
) -> None:
    """Add a reviewer account (password from a prompt, or --password-stdin) / 添加审核人."""
    from .auth import add_user

    with opened(ledger) as book:
        password = _password(password_stdin)
        user = guard(lambda: add_user(book, name, password, admin=admin))
    console.print(
        f"已添加 Added {'administrator' if user.is_admin else 'reviewer'} {user.name} to {book.name}", highlight=False
    )


@users_app.command("passwd")
def passwd(
    name: str = typer.Argument(..., help="the reviewer's name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
) -> None:
    """Set a new password (ends the user's sessions and tokens) / 修改密码."""
    from .auth import set_password

    with opened(ledger) as book:
        password = _password(password_stdin)
        guard(lambda: set_password(book, name, password))
    console.print(f"已修改 Password changed for {name}; their sessions and tokens ended", highlight=False)


@users_app.command("disable")
def disable(
    name: str = typer.Argument(...), ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP)
) -> None:
    """Disable an account: no login, its sessions and tokens stop working / 停用账户."""
    from .auth import set_disabled

    with opened(ledger) as book:
        guard(lambda: set_disabled(book, name, True))
    console.print(f"已停用 Disabled {name}", highlight=False)


@users_app.command("enable")
def enable(
    name: str = typer.Argument(...), ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP)
) -> None:
    """Enable a disabled account again / 启用账户."""
    from .auth import set_disabled

    with opened(ledger) as book:
        guard(lambda: set_disabled(book, name, False))
    console.print(f"已启用 Enabled {name}", highlight=False)


@users_app.command("list")
def list_users(ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP)) -> None:
    """The accounts / 列出账户."""
    from .auth import users

    with opened(ledger) as book:
        rows = guard(lambda: users(book))
    for row in rows:
        role = "admin" if row["admin"] else "reviewer"
        console.print(f"{row['name']}\t{role}{' (disabled 已停用)' if row['disabled'] else ''}", highlight=False)
    if not rows:
        console.print("没有账户 No accounts: `green-award users add NAME --admin`", highlight=False)


@users_app.command("token")
def token(
    name: str = typer.Argument(..., help="the reviewer the script acts for"),
    days: float = typer.Option(30, "--days", help="how long it works (1-366)"),
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
) -> None:
    """An API token for a script (Authorization: Bearer TOKEN); printed once, only its hash is kept / 脚本令牌."""
    from .auth import api_token

    with opened(ledger) as book:
        value, expires = guard(lambda: api_token(book, name, days))
    print(value)
    Console(stderr=True).print(
        f"API token for {name}, valid until {expires:%Y-%m-%d %H:%M} UTC; shown only now / 令牌只显示一次",
        highlight=False,
    )


def serve(
    ledger: str | None = typer.Option(None, "--ledger", "-l", help=LEDGER_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (keep 127.0.0.1 behind a TLS proxy)"),
    port: int = typer.Option(8000, "--port", help="port to listen on"),
    max_upload_mb: float = typer.Option(100, "--max-upload-mb", help="the largest upload (one request), MiB"),
    workers: int = typer.Option(1, "--workers", help="review processes per batch (1: in the review thread)"),
    trusted_proxy: str = typer.Option(
        "127.0.0.1", "--trusted-proxy", help="the TLS proxy whose X-Forwarded-Proto/-For are believed (comma-separated)"
    ),
    session_hours: float = typer.Option(12, "--session-hours", help="how long a login lasts"),
) -> None:
    """The reviewers' desk: a web app on the ledger (docs/web.md) / 审核台网页服务."""
    import uvicorn

    from ..cli import fail
    from ..ledger import target_of
    from .app import MiB, Settings, create_app
    from .auth import users

    if max_upload_mb <= 0 or workers < 1 or session_hours <= 0:
        fail("serve: --max-upload-mb, --workers and --session-hours must be positive / 参数须为正数")
    with opened(ledger) as book:
        accounts = guard(lambda: users(book))
    if not any(not a["disabled"] for a in accounts):
        fail(
            f"no reviewer accounts in {book.name}: add one first, e.g. `green-award users add NAME --admin --ledger "
            f"{book.name}` / 请先添加审核人账户"
        )
    settings = Settings(
        ledger=target_of(ledger) or "",
        max_upload_bytes=int(max_upload_mb * MiB),
        workers=workers,
        trusted_proxies=trusted_proxy,
        session_hours=session_hours,
    )
    app = guard(lambda: create_app(settings))
    console.print(
        f"审核台 Reviewers' desk: http://{host}:{port}/ (ledger 台账 {book.name}); Ctrl+C stops it", highlight=False
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(
            "[yellow]注意 Note:[/yellow] listening beyond this machine: serve it behind a TLS proxy (docs/web.md)",
            highlight=False,
        )
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False, log_level="info")
