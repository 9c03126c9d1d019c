"""`green-award users …` and `green-award serve` as users run them; the web tables' migration on an older ledger."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web_support import PASSWORD  # noqa: F401 - also makes password hashing cheap for these tests

from addin.cli import app
from addin.ledger.db import init_ledger, open_ledger
from addin.web.auth import authenticate

runner = CliRunner()
COMMAND = str(Path(sys.executable).parent / "green-award")


def said(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def target(tmp_path) -> str:
    name = str(tmp_path / "ledger.db")
    init_ledger(name).close()
    return name


def can_log_in(target: str, name: str, password: str) -> bool:
    ledger = open_ledger(target)
    try:
        return authenticate(ledger, name, password) is not None
    finally:
        ledger.close()


def test_users_add_from_a_prompt_or_stdin(target):
    added = runner.invoke(
        app, ["users", "add", "王审核", "--admin", "--ledger", target], input="long-enough-pw\nlong-enough-pw\n"
    )
    assert added.exit_code == 0, added.output
    assert "Added administrator 王审核" in said(added) and "long-enough-pw" not in added.output
    piped = runner.invoke(
        app, ["users", "add", "li", "--password-stdin", "--ledger", target], input="another-password\n"
    )
    assert (
        piped.exit_code == 0
        and can_log_in(target, "li", "another-password")
        and can_log_in(target, "王审核", "long-enough-pw")
    )
    assert not can_log_in(target, "li", "another-password\n") and not can_log_in(target, "li", "wrong")
    again = runner.invoke(
        app, ["users", "add", "li", "--password-stdin", "--ledger", target], input="another-password\n"
    )
    assert again.exit_code == 2 and "exists" in said(again)
    short = runner.invoke(app, ["users", "add", "zhao", "--password-stdin", "--ledger", target], input="short\n")
    assert short.exit_code == 2 and "at least 10" in said(short)
    mismatch = runner.invoke(
        app,
        ["users", "add", "qian", "--ledger", target],
        input="long-enough-pw\nother-password\nlong-enough-pw\nlong-enough-pw\n",
    )
    assert mismatch.exit_code == 0 and can_log_in(target, "qian", "long-enough-pw")  # asked again until they match
    listed = runner.invoke(app, ["users", "list", "--ledger", target])
    assert listed.exit_code == 0 and "王审核 admin" in said(listed) and "li reviewer" in said(listed)
    missing = runner.invoke(
        app,
        ["users", "add", "x", "--password-stdin", "--ledger", str(Path(target).parent / "typo.db")],
        input="long-enough-pw\n",
    )
    assert missing.exit_code == 2 and "no such file" in said(missing)


def test_passwd_disable_and_tokens(target):
    runner.invoke(app, ["users", "add", "li", "--password-stdin", "--ledger", target], input="first-password\n")
    token = runner.invoke(app, ["users", "token", "li", "--days", "7", "--ledger", target])
    assert token.exit_code == 0
    value = token.stdout.strip().splitlines()[0]
    from addin.web.auth import lookup

    ledger = open_ledger(target)
    try:
        assert lookup(ledger, value, "bearer").name == "li"
        assert runner.invoke(app, ["users", "disable", "li", "--ledger", target]).exit_code == 0
        assert lookup(ledger, value, "bearer") is None and not can_log_in(target, "li", "first-password")
        assert runner.invoke(app, ["users", "enable", "li", "--ledger", target]).exit_code == 0
        assert lookup(ledger, value, "bearer") is not None
        changed = runner.invoke(
            app, ["users", "passwd", "li", "--password-stdin", "--ledger", target], input="second-password\n"
        )
        assert changed.exit_code == 0 and lookup(ledger, value, "bearer") is None  # a new password ends the tokens
    finally:
        ledger.close()
    assert can_log_in(target, "li", "second-password") and not can_log_in(target, "li", "first-password")
    assert runner.invoke(app, ["users", "token", "li", "--days", "900", "--ledger", target]).exit_code == 2


def test_serve_refuses_a_ledger_without_accounts_or_an_old_schema(target, tmp_path):
    empty = runner.invoke(app, ["serve", "--ledger", target])
    assert empty.exit_code == 2 and "green-award users add" in said(empty)
    assert runner.invoke(app, ["serve", "--ledger", str(tmp_path / "typo.db")]).exit_code == 2


def test_an_older_ledger_is_upgraded_to_hold_the_accounts(tmp_path):
    """A ledger made before the web app (schema 0001): every command asks for `ledger upgrade`, which adds the tables."""
    from sqlalchemy import inspect

    from addin.ledger.db import head

    target = str(tmp_path / "old.db")
    init_ledger(target, revision="0001").close()
    refused = runner.invoke(
        app, ["users", "add", "li", "--password-stdin", "--ledger", target], input="long-enough-pw\n"
    )
    assert refused.exit_code == 2 and "ledger upgrade" in said(refused)
    upgraded = runner.invoke(app, ["ledger", "upgrade", target])
    assert upgraded.exit_code == 0 and f"0001 → {head()}" in said(upgraded)
    ledger = open_ledger(target)
    try:
        tables = set(inspect(ledger.engine).get_table_names())
    finally:
        ledger.close()
    assert {"users", "auth_tokens", "batches", "submissions"} <= tables
    assert (
        runner.invoke(
            app, ["users", "add", "li", "--password-stdin", "--ledger", target], input="long-enough-pw\n"
        ).exit_code
        == 0
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_green_award_serve_as_users_run_it(target):
    """`green-award users add` then `green-award serve`: the login page answers, everything else asks for a login."""
    subprocess.run(
        [COMMAND, "users", "add", "王审核", "--admin", "--password-stdin", "--ledger", target],
        input="long-enough-pw\n",
        text=True,
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [COMMAND, "serve", "--ledger", target, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                with urllib.request.urlopen(base + "/login", timeout=2) as response:
                    assert response.status == 200 and "登录" in response.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/api/batches/1", timeout=5)
        assert refused.value.code == 401
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirected:
            opener.open(base + "/", timeout=5)
        assert redirected.value.code == 303 and redirected.value.headers["location"].startswith("/login")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Reviewers' desk" in output and "long-enough-pw" not in output


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None
