"""Helpers of the web app's tests: a ledger with two reviewers, the app on it, logging in, waiting for a batch,
and declarations to upload (the demo's own, a tampered one, hostile files)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from argon2 import PasswordHasher

import addin.web.auth
from addin.ledger.db import init_ledger, open_ledger
from addin.web.app import Settings, create_app
from addin.web.auth import add_user

# Tests hash with argon2id at its lowest cost (the server uses argon2-cffi's defaults: 64 MiB, 3 passes), so that
# the many logins of the tests do not take seconds each on a shared machine.
addin.web.auth.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

PASSWORD = "correct-horse-battery"
ADMIN, REVIEWER = "王审核", "li.reviewer"


def make_ledger(target: str) -> str:
    """A new ledger at ``target`` (a SQLite path or an empty PostgreSQL database) with an administrator and a
    reviewer (both with ``PASSWORD``)."""
    init_ledger(target).close()
    ledger = open_ledger(target)
    try:
        add_user(ledger, ADMIN, PASSWORD, admin=True)
        add_user(ledger, REVIEWER, PASSWORD)
    finally:
        ledger.close()
    return target


def make_app(target: str, **settings):
    return create_app(Settings(ledger=target, **settings))


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found[1]


def login_form(client, name: str = ADMIN, password: str = PASSWORD, next_: str = "/"):
    """Log in through the login page as a person does; the response to the POST."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf": csrf_in(page.text), "next": next_},
        follow_redirects=False,
    )


def api_token(client, name: str = ADMIN, password: str = PASSWORD) -> dict:
    response = client.post("/api/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": "Bearer " + response.json()["token"]}


def wait_for(client, batch_id: int, headers: dict | None = None, timeout: float = 120) -> dict:
    """The batch once reviewed (GET /api/batches/{id}, as a script polls it)."""
    end = time.monotonic() + timeout
    while True:
        batch = client.get(f"/api/batches/{batch_id}", headers=headers or {}).json()
        if batch["status"] in ("done", "failed"):
            return batch
        assert time.monotonic() < end, f"batch {batch_id} still {batch['status']} after {timeout} s"
        time.sleep(0.2)


def demo_declarations(folder: Path) -> list[Path]:
    """The demo's declaration workbooks (the sample portfolio's granted claims), as ``green-award demo`` writes them."""
    from addin.declaration import declare_portfolio
    from addin.demo import SAMPLE
    from addin.portfolio import run_portfolio

    result = run_portfolio(SAMPLE, None, quiet=True)
    declare_portfolio(result, folder, workers=1)
    return sorted(folder.glob("*.xlsx"))


def tamper_award(path: Path) -> bytes:
    """The declaration with its award formula replaced by a larger constant (the classic edit)."""
    from test_review import set_cell

    data = path.read_bytes()
    from addin.review import review_file

    clause = review_file(path).clause
    return set_cell(
        data, clause, "award", edit=lambda c: re.sub(r"<f>.*?</f>", "", re.sub(r"<v>.*?</v>", "<v>9999999</v>", c))
    )
