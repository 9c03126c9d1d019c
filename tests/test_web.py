"""The reviewers' desk (issue 12) through FastAPI's TestClient: who gets in, the guards on every route, uploads of
genuine, tampered and hostile files, decisions, exports, and the API's findings against `green-award review`'s."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import anyio
import openpyxl
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount
from web_support import (
    ADMIN,
    PASSWORD,
    REVIEWER,
    api_token,
    csrf_in,
    demo_declarations,
    login_form,
    make_app,
    make_ledger,
    tamper_award,
    wait_for,
)

from ledger_db import BACKENDS, fresh_database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> list[Path]:
    return demo_declarations(tmp_path_factory.mktemp("demo") / "declarations")


@pytest.fixture(params=BACKENDS)
def target(request, tmp_path):
    """A ledger with two reviewers: SQLite, and PostgreSQL when GREEN_AWARD_TEST_DATABASE_URL offers one."""
    with fresh_database(request.param, tmp_path) as name:
        yield make_ledger(name)


@pytest.fixture
def client(target):
    with TestClient(make_app(target)) as c:
        yield c


def by_name(demo: list[Path], words: str) -> Path:
    return next(p for p in demo if words in p.name)


def upload(client, files: dict[str, bytes], headers: dict | None = None) -> dict:
    response = client.post(
        "/api/batches", files=[("files", (name, data)) for name, data in files.items()], headers=headers or {}
    )
    assert response.status_code == 202, response.text
    return wait_for(client, response.json()["id"], headers)


# --- who gets in ---------------------------------------------------------------------------------------


def filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path).replace("ledger.1", "ledger.json")


def test_every_route_refuses_an_anonymous_request(client):
    """Every route of the app, as enumerated from app.routes, refuses anonymous requests: 401 or the login page."""
    app = client.app
    public = {("GET", "/login"), ("POST", "/login"), ("POST", "/api/login"), ("GET", "/openapi.json")}
    checked = 0
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static"
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            if (method, route.path) in public:
                continue
            path = filled(route.path)
            response = client.request(
                method, path, follow_redirects=False, files={"files": ("a.xlsx", b"x")} if method == "POST" else None
            )
            if path.startswith("/api/"):
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.headers["www-authenticate"] == "Bearer"
            else:
                assert response.status_code == 303, (method, path, response.status_code)
                assert response.headers["location"].startswith("/login"), (method, path)
            checked += 1
    assert checked >= 20
    # not a route, still not served: unknown paths, the interactive docs
    for path in ("/docs", "/redoc", "/nothing-here", "/static/../pyproject.toml"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (303, 404) and "green-award" not in response.text[:0], path
    assert client.get("/docs", follow_redirects=False).headers["location"].startswith("/login")
    # a wrong or expired token is no better than none
    assert client.get("/api/batches/1", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    client.cookies.set("ga_session", "nonsense")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_public_routes_serve_only_the_login_and_the_schema(client):
    login = client.get("/login")
    assert login.status_code == 200 and 'name="password"' in login.text and "登录" in login.text
    # the static files are the login page's own: every one is referenced by it
    static = sorted(p.name for p in (ROOT / "addin" / "web" / "static").iterdir())
    assert static == ["app.css", "app.js", "favicon.svg"]
    for name in static:
        assert f"/static/{name}" in login.text
        assert client.get(f"/static/{name}").status_code == 200
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/login", "/api/batches", "/api/batches/{batch_id}", "/api/submissions/{submission_id}/decision"):
        assert path in paths
    assert not any(p.startswith(("/submissions", "/batches", "/enterprises")) for p in paths)  # pages are not API
    assert "submissions" not in json.dumps(schema.json()).split('"paths"')[0]  # the schema holds no data


def test_login_logout_and_cookie_flags(client, target):
    wrong = login_form(client, password="not the password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert client.get("/", follow_redirects=False).status_code == 303
    ok = login_form(client, next_="/enterprises")
    assert ok.status_code == 303 and ok.headers["location"] == "/enterprises"
    cookie = next(c for c in ok.headers.get_list("set-cookie") if c.startswith("ga_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain HTTP: not Secure
    old = client.cookies.get("ga_session")
    inbox = client.get("/")
    assert inbox.status_code == 200 and ADMIN in inbox.text
    out = client.post("/logout", data={"csrf": csrf_in(inbox.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    client.cookies.set("ga_session", old)  # the old cookie, kept by someone: it no longer works
    assert client.get("/", follow_redirects=False).status_code == 303
    # an open redirect is not possible through next
    client.cookies.clear()
    assert login_form(client, next_="//evil.example/").headers["location"] == "/"


def test_secure_cookies_behind_a_tls_proxy(target):
    with TestClient(make_app(target, trusted_proxies="testclient")) as proxied:
        page = proxied.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in page.headers["set-cookie"]  # the login form's own cookie too
        proxied.cookies.set("ga_login_csrf", csrf_in(page.text))  # as a browser sends it over HTTPS
        response = proxied.post(
            "/login",
            data={"username": ADMIN, "password": PASSWORD, "csrf": csrf_in(page.text)},
            headers={"X-Forwarded-Proto": "https"},
            follow_redirects=False,
        )
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("ga_session="))
        assert "Secure" in cookie and "HttpOnly" in cookie
    with TestClient(make_app(target)) as direct:  # the same header from an untrusted client is not believed
        page = direct.get("/login", headers={"X-Forwarded-Proto": "https"})
        response = direct.post(
            "/login",
            data={"username": ADMIN, "password": PASSWORD, "csrf": csrf_in(page.text)},
            headers={"X-Forwarded-Proto": "https"},
            follow_redirects=False,
        )
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("ga_session="))
        assert "Secure" not in cookie


def test_csrf_is_refused_on_every_form_post(client):
    # the login form itself: without its token
    refused = client.post("/login", data={"username": ADMIN, "password": PASSWORD}, follow_redirects=False)
    assert refused.status_code == 403 and "ga_session" not in refused.headers.get("set-cookie", "")
    login_form(client)
    token = csrf_in(client.get("/").text)
    posts = [
        r
        for r in client.app.routes
        if isinstance(r, APIRoute) and "POST" in r.methods and r.path not in ("/login", "/api/login")
    ]
    assert {r.path for r in posts} >= {
        "/logout",
        "/batches",
        "/submissions/{submission_id}/decision",
        "/users",
        "/api/batches",
        "/api/submissions/{submission_id}/decision",
        "/api/logout",
    }
    for route in posts:
        path = filled(route.path)
        for data in ({}, {"csrf": "forged"}):
            response = client.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, data, response.status_code)
            assert "CSRF" in response.text
    still = client.get("/")
    assert still.status_code == 200  # no POST above logged us out
    # the right token passes (a decision on a submission that does not exist: 404, past the CSRF check)
    assert (
        client.post("/submissions/999/decision", data={"csrf": token, "action": "reject", "reason": "x"}).status_code
        == 404
    )
    # a script's Bearer token needs none
    headers = api_token(client)
    client.cookies.clear()
    response = client.post("/api/submissions/999/decision", json={"action": "reject", "reason": "x"}, headers=headers)
    assert response.status_code == 404


def test_login_attempts_are_rate_limited(client):
    for _ in range(5):
        assert client.post("/api/login", json={"username": REVIEWER, "password": "wrong password!"}).status_code == 401
    blocked = client.post("/api/login", json={"username": REVIEWER, "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0  # even with the right password
    page = client.get("/login")
    form = client.post("/login", data={"username": REVIEWER, "password": PASSWORD, "csrf": csrf_in(page.text)})
    assert form.status_code == 429 and "尝试次数过多" in form.text
    assert client.post("/api/login", json={"username": ADMIN, "password": PASSWORD}).status_code == 200  # another name


def test_the_rate_limit_window_and_the_per_address_limit():
    from addin.web.auth import LoginLimiter

    now = [0.0]
    limiter = LoginLimiter(per_name=2, per_address=3, window=60, clock=lambda: now[0])
    limiter.failed("1.2.3.4", "a")
    limiter.failed("1.2.3.4", "a")
    assert (
        limiter.wait("1.2.3.4", "a") == 61 and limiter.wait("1.2.3.4", "b") == 0 and limiter.wait("5.6.7.8", "a") == 0
    )
    limiter.failed("1.2.3.4", "b")
    assert limiter.wait("1.2.3.4", "c") > 0  # three failures from the address, whatever the names
    now[0] = 61
    assert limiter.wait("1.2.3.4", "a") == 0 and limiter.wait("1.2.3.4", "c") == 0


def test_accounts_keep_only_argon2_hashes_and_token_hashes(target, client):
    from sqlalchemy import select

    from addin.ledger.db import open_ledger
    from addin.ledger.models import AuthToken, User

    headers = api_token(client)
    ledger = open_ledger(target)
    try:
        with ledger.read() as session:
            hashes = [u.password_hash for u in session.scalars(select(User))]
            tokens = [t.token_sha256 for t in session.scalars(select(AuthToken))]
    finally:
        ledger.close()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    token = headers["Authorization"].split()[1]
    assert hashlib.sha256(token.encode()).hexdigest() in tokens and token not in tokens


def test_security_headers(client):
    login_form(client)
    response = client.get("/")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text and " style=" not in response.text and "onclick" not in response.text


# --- the size limit -------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_before_it_is_read(target):
    app = make_app(target, max_upload_bytes=50_000)
    with TestClient(app) as c:
        headers = api_token(c)
        big = b"x" * 60_000
        response = c.post("/api/batches", files={"files": ("big.xlsx", big)}, headers=headers)
        assert response.status_code == 413 and "MiB" in response.json()["detail"]

        # sent in chunks without a Content-Length: counted as it arrives
        def chunks():
            yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.xlsx"\r\n\r\n'
            for _ in range(20):
                yield b"y" * 5_000

        response = c.post(
            "/api/batches", content=chunks(), headers={**headers, "Content-Type": "multipart/form-data; boundary=b"}
        )
        assert response.status_code == 413
        # any other route takes a small body only
        assert (
            c.post(
                "/api/login", content=b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "application/json"}
            ).status_code
            == 413
        )
        assert c.get("/batches").status_code == 200 and "#1" not in c.get("/batches").text  # no batch was made

    # before reading: the app never asks for a byte of a body whose Content-Length is over the limit
    asked: list[int] = []
    sent: list[dict] = []

    async def receive():
        asked.append(1)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/batches",
        "raw_path": b"/api/batches",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-length", b"10000000000"),
            (b"content-type", b"multipart/form-data; boundary=b"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 413 and asked == []


# --- uploads: genuine, tampered, hostile ---------------------------------------------------------------


def hostile_files(tmp_path: Path) -> dict[str, bytes]:
    from test_safe_xlsx import BILLION_LAUGHS, minimal, write_zip_bomb

    write_zip_bomb(tmp_path / "zip_bomb.xlsx")
    return {
        "junk.xlsx": b"\x00\x01 not a workbook " * 100,
        "xml_bomb.xlsx": minimal({"xl/workbook.xml": BILLION_LAUGHS}),
        "zip_bomb.xlsx": (tmp_path / "zip_bomb.xlsx").read_bytes(),
    }


def test_upload_genuine_tampered_and_hostile_files(client, demo, tmp_path):
    headers = api_token(client)
    genuine = by_name(demo, "etown-27")
    files = {
        genuine.name: genuine.read_bytes(),
        "tampered.xlsx": tamper_award(by_name(demo, "tongzhou-6")),
        "macro.xlsm": by_name(demo, "etown-3__").read_bytes(),
        "~$lock.xlsx": b"lock",
        **hostile_files(tmp_path),
    }
    batch = upload(client, files, headers)
    assert batch["status"] == "done", batch["error"]
    got = {e["file"]: e for e in batch["submissions"]}
    assert list(got) == list(files)  # every file listed, in the order uploaded, under its own name
    assert got[genuine.name]["status"] == "pass" and got[genuine.name]["ledger_id"] == 1
    assert got["tampered.xlsx"]["status"] == "fail" and "tampered" in got["tampered.xlsx"]["codes"]
    assert got["macro.xlsm"]["status"] == "fail" and "macro" in got["macro.xlsm"]["codes"]
    assert got["~$lock.xlsx"]["status"] == "skipped"
    for name, code in (("junk.xlsx", "not_xlsx"), ("xml_bomb.xlsx", "xml_bomb"), ("zip_bomb.xlsx", "zip_bomb")):
        assert got[name]["status"] == "fail" and code in got[name]["codes"], got[name]
    for name, data in files.items():
        assert got[name]["sha256"] == hashlib.sha256(data).hexdigest()
    # the tampered one is flagged in the inbox and on its page
    login_form(client)
    flagged = client.get("/?flagged=1&state=failed").text
    tampered_id = got["tampered.xlsx"]["ledger_id"]
    assert (
        f'/submissions/{tampered_id}"' in flagged and f'/submissions/{got[genuine.name]["ledger_id"]}"' not in flagged
    )
    page = client.get(f"/submissions/{tampered_id}").text
    assert "未通过" in page and "篡改" in page and "Tampered" in page and "tampered" in page


def test_a_zip_is_checked_then_expanded_under_generated_names(client, demo, tmp_path):
    headers = api_token(client)
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as z:
        for path in demo[:3]:
            z.writestr(f"申报/{path.name}", path.read_bytes())
        z.writestr("__MACOSX/申报/._x.xlsx", b"resource fork")
        z.writestr("readme.txt", "not a declaration")
    slip = io.BytesIO()
    with zipfile.ZipFile(slip, "w") as z:
        z.writestr("ok.xlsx", demo[0].read_bytes())
        z.writestr("../../evil.xlsx", demo[0].read_bytes())
    from test_safe_xlsx import write_zip_bomb

    write_zip_bomb(tmp_path / "bomb.zip")
    batch = upload(
        client,
        {"good.zip": good.getvalue(), "slip.zip": slip.getvalue(), "bomb.zip": (tmp_path / "bomb.zip").read_bytes()},
        headers,
    )
    got = {e["file"]: e for e in batch["submissions"]}
    names = [f"good.zip/申报/{p.name}" for p in demo[:3]]
    assert list(got) == [*names, "good.zip/__MACOSX/申报/._x.xlsx", "good.zip/readme.txt", "slip.zip", "bomb.zip"]
    assert all(got[n]["status"] == "pass" for n in names)
    assert got["good.zip/__MACOSX/申报/._x.xlsx"]["status"] == "skipped"
    assert got["good.zip/readme.txt"]["status"] == "fail" and "file_type" in got["good.zip/readme.txt"]["codes"]
    assert got["slip.zip"]["codes"] == ["zip_slip"] and "nothing was extracted" in got["slip.zip"]["problems"][0]
    assert got["bomb.zip"]["codes"] == ["zip_bomb"]
    assert not (tmp_path / "evil.xlsx").exists() and not (tmp_path.parent / "evil.xlsx").exists()


def test_upload_names_never_become_paths(tmp_path, demo):
    from addin.web.uploads import Staging

    staging = Staging(str(tmp_path))
    try:
        for name in (
            "../../etc/passwd.xlsx",
            "C:\\Windows\\evil.xlsx",
            "/abs/a.xlsx",
            "a\x00b.xlsx",
            "a.xlsx",
            "a.xlsx",
            "noext",
            "x." + "y" * 30,
        ):
            staging.add(name, io.BytesIO(demo[0].read_bytes()))
        folder = staging.folder
        assert folder.parent == tmp_path and oct(folder.stat().st_mode & 0o777) == "0o700"
        assert sorted(p.name for p in folder.iterdir()) == [
            "0001.xlsx",
            "0002.xlsx",
            "0003.xlsx",
            "0004.xlsx",
            "0005.xlsx",
            "0006.xlsx",
            "0007",
            "0008",
        ]
        assert [i.name for i in staging.items] == [
            "passwd.xlsx",
            "evil.xlsx",
            "a.xlsx",
            "a\\x00b.xlsx",
            "a (2).xlsx",
            "a (3).xlsx",
            "noext",
            "x." + "y" * 30,
        ]
    finally:
        staging.cleanup()
    assert not folder.exists()


def test_too_many_files_in_one_batch(target, demo):
    with TestClient(make_app(target, max_files=2)) as c:
        headers = api_token(c)
        response = c.post("/api/batches", files=[("files", (f"{k}.xlsx", b"x")) for k in range(3)], headers=headers)
        assert response.status_code == 400 and "more than 2" in response.json()["detail"]
        assert c.post("/api/batches", files=[], headers=headers).status_code in (400, 422)


# --- the API's findings are the review's --------------------------------------------------------------


def test_api_findings_equal_green_award_review_on_a_fresh_ledger(client, demo, tmp_path):
    """The same files through POST /api/batches and through `green-award review --ledger --json`, each on a fresh
    ledger: the same entries, matched by each file's sha256."""
    files = {p.name: p.read_bytes() for p in demo[:12]}
    files["tampered.xlsx"] = tamper_award(by_name(demo, "tongzhou-3"))
    files["again.xlsx"] = demo[0].read_bytes()  # the same file twice: a duplicate in the batch
    files["macro.xlsm"] = demo[1].read_bytes()
    files["~$lock.xlsx"] = b"an Office lock file"
    files.update(hostile_files(tmp_path))
    web = upload(client, files, api_token(client))["submissions"]

    folder = tmp_path / "same"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    from addin.ledger.db import init_ledger

    init_ledger(str(tmp_path / "fresh.db")).close()
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "green-award"),
            "review",
            *files,
            "--ledger",
            str(tmp_path / "fresh.db"),
            "--json",
            str(tmp_path / "cli.json"),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 1, run.stderr[-2000:]  # some fail
    cli = json.loads((tmp_path / "cli.json").read_text(encoding="utf-8"))
    cli_by_sha = {}
    for entry in cli:
        sha = entry.get("sha256") or hashlib.sha256((folder / entry["file"]).read_bytes()).hexdigest()
        cli_by_sha.setdefault(sha, []).append(entry)
    assert len(web) == len(cli) == len(files)
    for entry in web:
        twin = cli_by_sha[entry["sha256"]].pop(0)
        assert {k: v for k, v in entry.items() if k != "sha256"} == {k: v for k, v in twin.items() if k != "sha256"}
    assert any(e["status"] == "fail" and "tampered" in e["codes"] for e in web)
    assert any("Duplicate" in p for e in web for p in e["problems"])


# --- decisions, pages, exports ------------------------------------------------------------------------


@pytest.fixture
def reviewed(client, demo):
    """Ten of the demo's declarations uploaded and reviewed; the client logged in through the form."""
    batch = upload(client, {p.name: p.read_bytes() for p in demo[:10]}, api_token(client))
    login_form(client)
    return batch


def test_decisions_are_recorded_with_the_reviewer_and_the_time(client, reviewed):
    first = reviewed["submissions"][0]
    sid, granted = first["ledger_id"], Decimal(str(first["granted_yuan"]))
    page = client.get(f"/submissions/{sid}")
    assert page.status_code == 200 and f"{granted:,.2f}" in page.text
    token = csrf_in(page.text)
    # more than the rules allow: refused, saying why, nothing recorded
    too_much = client.post(
        f"/submissions/{sid}/decision",
        data={"csrf": token, "action": "reduce", "amount": str(granted + 1), "reason": "试试"},
    )
    assert too_much.status_code == 400 and "more than" in too_much.text and "决定记录" in too_much.text
    reduced = client.post(
        f"/submissions/{sid}/decision",
        data={"csrf": token, "action": "reduce", "amount": "30万", "reason": "发票不符 invoices do not match"},
        follow_redirects=False,
    )
    assert reduced.status_code == 303
    shown = client.get(reduced.headers["location"]).text
    assert "已记录决定" in shown and "300,000.00" in shown and "发票不符" in shown and ADMIN in shown
    no_reason = client.post(f"/submissions/{sid}/decision", data={"csrf": token, "action": "reject", "reason": " "})
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    # the API: reject another one, as a script
    headers = api_token(client, REVIEWER)
    other = reviewed["submissions"][1]["ledger_id"]
    made = client.post(
        f"/api/submissions/{other}/decision", json={"action": "reject", "reason": "不在副中心"}, headers=headers
    )
    assert made.status_code == 200 and made.json()["action"] == "rejected" and made.json()["reviewer"] == REVIEWER
    assert made.json()["amount"] == 0 and made.json()["time"]
    bad = client.post(f"/api/submissions/{other}/decision", json={"action": "reduce", "reason": "x"}, headers=headers)
    assert bad.status_code == 400 and "amount" in bad.json()["detail"]
    assert (
        client.post(
            f"/api/submissions/{other}/decision", json={"action": "pay", "reason": "x"}, headers=headers
        ).status_code
        == 422
    )
    detail = client.get(f"/api/submissions/{sid}", headers=headers).json()
    assert detail["state"] == "reduced" and detail["granted"] == 300000
    assert [(d["action"], d["amount"], d["reviewer"]) for d in detail["decisions"]] == [("reduced", 300000, ADMIN)]
    # on the enterprise's page
    enterprise = client.get(f"/enterprises/{detail['uscc']}").text
    assert (
        f"#{sid}" in enterprise and "发票不符" in enterprise and "300,000.00" in enterprise and "已核减" in enterprise
    )
    # and in the ledger export, with the reviewer and time
    export = client.get("/export/ledger.json")
    assert export.headers["content-disposition"].startswith("attachment")
    decisions = export.json()["decisions"]
    assert [(d["submission"], d["action"], d["amount"], d["reviewer"]) for d in decisions] == [
        (sid, "reduced", 300000.0, ADMIN),
        (other, "rejected", 0.0, REVIEWER),
    ]
    assert all(d["time"] for d in decisions)


def test_a_decision_is_voided_in_the_web_app_as_with_ledger_void(client, reviewed):
    """The form and the API void a decision under `green-award ledger void`'s rules: a reason is required and
    recorded with the reviewer; the submission falls back to its previous standing; a void is not voided again."""
    first = reviewed["submissions"][0]
    sid, granted = first["ledger_id"], Decimal(str(first["granted_yuan"]))
    script = api_token(client, REVIEWER)
    headers = api_token(client)  # (logging in through the API also sets this client's session cookie)
    token = csrf_in(client.get(f"/submissions/{sid}").text)
    client.post(
        f"/submissions/{sid}/decision", data={"csrf": token, "action": "reduce", "amount": "1000", "reason": "核减"}
    )
    (reduced,) = client.get(f"/api/submissions/{sid}", headers=headers).json()["decisions"]
    assert (reduced["action"], reduced["amount"]) == ("reduced", 1000)
    page = client.get(f"/submissions/{sid}").text
    assert f'action="/decisions/{reduced["id"]}/void"' in page

    no_reason = client.post(f"/decisions/{reduced['id']}/void", data={"csrf": token, "reason": "  "})
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    assert client.post(f"/decisions/{reduced['id']}/void", data={"reason": "no token"}).status_code == 403
    assert client.post("/decisions/999999/void", data={"csrf": token, "reason": "x"}).status_code == 404
    assert len(client.get(f"/api/submissions/{sid}", headers=headers).json()["decisions"]) == 1  # nothing recorded

    voided = client.post(
        f"/decisions/{reduced['id']}/void",
        data={"csrf": token, "reason": "金额录错 wrong amount"},
        follow_redirects=False,
    )
    assert voided.status_code == 303 and voided.headers["location"].startswith(f"/submissions/{sid}?decided=")
    detail = client.get(f"/api/submissions/{sid}", headers=headers).json()
    assert [(d["action"], d["voids"], d["reviewer"], d["reason"]) for d in detail["decisions"]] == [
        ("reduced", None, ADMIN, "核减"),
        ("void", reduced["id"], ADMIN, "金额录错 wrong amount"),
    ]
    assert detail["state"] == "passed" and Decimal(str(detail["granted"])) == granted  # back to the review's grant
    shown = client.get(voided.headers["location"]).text
    assert "金额录错" in shown and f'action="/decisions/{reduced["id"]}/void"' not in shown

    again = client.post(f"/decisions/{reduced['id']}/void", data={"csrf": token, "reason": "again"})
    assert again.status_code == 400 and "already void" in again.text
    void_id = detail["decisions"][1]["id"]
    assert client.post(f"/api/decisions/{void_id}/void", json={"reason": "x"}, headers=script).status_code == 400
    assert client.post(f"/api/decisions/{void_id}/void", json={}, headers=script).status_code == 422

    # the API: grant, then void it as a script
    made = client.post(
        f"/api/submissions/{sid}/decision", json={"action": "grant", "reason": "材料齐全"}, headers=script
    ).json()
    assert made["action"] == "granted" and Decimal(str(made["amount"])) == granted
    undone = client.post(
        f"/api/decisions/{made['id']}/void", json={"reason": "误批 granted by mistake"}, headers=script
    )
    assert undone.status_code == 200
    assert [(d["action"], d["voids"], d["reviewer"], d["reason"]) for d in undone.json()] == [
        ("void", made["id"], REVIEWER, "误批 granted by mistake")
    ]
    export = client.get("/export/ledger.json").json()["decisions"]
    assert [(d["action"], d["voids"]) for d in export] == [
        ("reduced", None),
        ("void", reduced["id"]),
        ("granted", None),
        ("void", made["id"]),
    ]


def test_the_inbox_filters_and_sorts(client, reviewed):
    def ids(query: str) -> list[int]:
        return [int(n) for n in re.findall(r'aria-label="申报 (\d+) submission', client.get("/?" + query).text)]

    entries = reviewed["submissions"]
    assert sorted(ids("")) == [e["ledger_id"] for e in entries]
    assert ids("sort=id&order=asc") == sorted(ids(""))
    declared = {e["ledger_id"]: e["declared_yuan"] for e in entries}
    by_declared = ids("sort=declared&order=asc")
    assert [declared[i] for i in by_declared] == sorted(declared.values())
    assert ids("sort=declared&order=desc") == sorted(by_declared, key=lambda i: -declared[i]) or [
        declared[i] for i in ids("sort=declared&order=desc")
    ] == sorted(declared.values(), reverse=True)
    etown = [e["ledger_id"] for e in entries if e["clause"].startswith("etown:")]
    assert sorted(ids("policy=etown")) == sorted(etown) and etown
    name = entries[0]["enterprise"]
    assert sorted(ids("q=" + name)) == sorted(e["ledger_id"] for e in entries if e["enterprise"] == name)
    assert ids("state=rejected") == [] and sorted(ids("state=passed")) == sorted(
        e["ledger_id"] for e in entries if e["ok"]
    )
    assert sorted(ids(f"batch={reviewed['id']}")) == sorted(declared)
    assert ids("year=1999") == []


def test_batch_pages_and_report_downloads(client, reviewed):
    bid = reviewed["id"]
    page = client.get(f"/batches/{bid}").text
    for entry in reviewed["submissions"]:
        assert entry["file"] in page
    assert client.get("/batches").status_code == 200 and f"/batches/{bid}" in client.get("/batches").text
    as_json = client.get(f"/batches/{bid}/report.json")
    assert as_json.json() == reviewed["submissions"]
    xlsx = client.get(f"/batches/{bid}/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["汇总 Summary", "审核 Review"]
    rows = list(book["审核 Review"].iter_rows(values_only=True))
    files = [r[0] for r in rows if r and r[0] and r[0] in {e["file"] for e in reviewed["submissions"]}]
    assert files == [e["file"] for e in reviewed["submissions"]]
    summary = {r[0]: r[1] for r in book["汇总 Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["提交 Submissions"] == len(reviewed["submissions"])
    assert Decimal(str(summary["核定合计 Granted (元)"])) == sum(
        Decimal(str(e["granted_yuan"])) for e in reviewed["submissions"]
    )
    export = client.get("/export/ledger.xlsx")
    assert export.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(export.content)).sheetnames == [
        "申报 submissions",
        "决定 decisions",
        "支付 payments",
    ]
    assert client.get("/batches/999").status_code == 404


def test_enterprise_page_caps_and_payable_by_year(client, reviewed):
    from addin.ledger.db import open_ledger
    from addin.ledger.repository import show

    entry = reviewed["submissions"][0]
    uscc = client.get(f"/api/submissions/{entry['ledger_id']}").json()["uscc"]
    page = client.get(f"/enterprises/{uscc}").text
    ledger = open_ledger(client.app.state.settings.ledger)
    try:
        info = show(ledger, uscc)
    finally:
        ledger.close()
    for year in info["years"]:
        assert f"{year['year']} 年度" in page
        for cap in year["caps"]:
            assert cap["label"] in page and f"{cap['left_yuan']:,.2f}" in page
    granted = sum(s["granted_yuan"] for y in info["years"] for s in y["submissions"])
    assert f"{granted:,.2f}" in page and "待支付" in page
    data = client.get(f"/api/enterprises/{uscc}").json()
    assert sum(p["total"] for p in data["payable"]) == pytest.approx(float(granted))
    assert client.get("/enterprises").status_code == 200 and uscc in client.get("/enterprises").text
    assert client.get("/enterprises/91110000000000000X").status_code == 404


def test_policy_catalog_shows_each_clause_source(client):
    from policies import catalog
    from policies.engine import find_clause

    login_form(client)
    listing = client.get("/policies").text
    for row in catalog():
        assert f'href="/policies/{row["id"]}"' in listing
    page = client.get("/policies/etown:10").text
    _, clause = find_clause("etown:10")
    assert clause.source in page and clause.article in page
    zones = page[page.index("区域 Zones") :].split("</dd>")[0]  # by their names, with the code a table uses
    assert "E-Town core (60 km² and delegated areas)" in zones and "<code>etown_core</code>" in zones
    assert client.get("/policies/etown:999").status_code in (400, 404)


def test_users_page_is_for_administrators(client):
    login_form(client, REVIEWER)
    assert client.get("/users").status_code == 403
    client.cookies.clear()
    login_form(client, ADMIN)
    page = client.get("/users")
    added = client.post(
        "/users",
        data={"csrf": csrf_in(page.text), "name": "张三", "password": "another-password"},
        follow_redirects=False,
    )
    assert added.status_code == 303  # a reload of the page that follows does not post again
    shown = client.get(added.headers["location"]).text
    assert "已添加 Added 张三" in shown and "<td>张三</td>" in shown
    short = client.post("/users", data={"csrf": csrf_in(page.text), "name": "李四", "password": "short"})
    assert short.status_code == 400 and "at least 10" in short.text
    client.cookies.clear()
    assert login_form(client, "张三", "another-password").status_code == 303


def test_a_batch_left_running_by_a_stopped_server_is_marked_failed(target):
    from addin.ledger.db import open_ledger
    from addin.ledger.models import Batch
    from addin.web.jobs import INTERRUPTED

    ledger = open_ledger(target)
    try:
        with ledger.write() as session:
            session.add(Batch(created_by=ADMIN, status="running", files=3, report=[]))
    finally:
        ledger.close()
    with TestClient(make_app(target)) as c:
        batch = c.get("/api/batches/1", headers=api_token(c)).json()
    assert batch["status"] == "failed" and batch["error"] == INTERRUPTED


def test_structured_findings_are_shown_when_the_review_gives_them(client, reviewed):
    """The review's entries may carry `findings` (code, severity, cites, cells, refers_to, zh/en): the submission and
    batch pages show each in full; without them, `problems` with their `codes` and `warnings` (as today)."""
    from addin.ledger.db import open_ledger
    from addin.ledger.models import Batch

    entry = reviewed["submissions"][2]
    sid = entry["ledger_id"]
    findings = [
        {
            "code": "tampered",
            "severity": "problem",
            "cites": ["第六条"],
            "cells": ["奖励测算!D15"],
            "refers_to": [],
            "zh": "奖励金额公式被替换为常数",
            "en": "the award formula was replaced by a constant",
        },
        {
            "code": "annual_cap",
            "severity": "warning",
            "cites": "第十条",
            "cells": [],
            "refers_to": ["ledger #1 p1.xlsx"],
            "message": {"zh": "年度上限", "en": "the annual cap"},
        },
    ]
    ledger = open_ledger(client.app.state.settings.ledger)
    try:
        with ledger.write() as session:
            batch = session.get(Batch, reviewed["id"])
            report = [dict(e) for e in batch.report]
            report[2]["findings"] = findings
            batch.report = report
    finally:
        ledger.close()
    page = client.get(f"/submissions/{sid}").text
    for text in (
        "奖励金额公式被替换为常数",
        "the award formula was replaced by a constant",
        "第六条",
        "奖励测算!D15",
        "年度上限",
        "the annual cap",
        "第十条",
        "ledger #1 p1.xlsx",
        'href="/submissions/1"',
    ):
        assert text in page, text
    assert '审核发现 <span class="en">Findings</span> (2)' in page
    batch_page = client.get(f"/batches/{reviewed['id']}").text
    assert "奖励金额公式被替换为常数 / the award formula was replaced by a constant" in batch_page
    other = client.get(f"/submissions/{reviewed['submissions'][3]['ledger_id']}").text
    assert "奖励金额公式被替换为常数" not in other


def test_progress_while_a_batch_is_reviewed(client, demo, monkeypatch):
    """While the review runs, the batch page polls and the API says how far it is; then the results."""
    import threading

    import addin.review

    gate, started = threading.Event(), threading.Event()
    real = addin.review.review_paths

    def held(paths, **kw):
        progress = kw["progress"]
        progress(1, len(paths))
        started.set()
        assert gate.wait(60)
        return real(paths, **kw)

    monkeypatch.setattr(addin.review, "review_paths", held)
    headers = api_token(client)
    response = client.post(
        "/api/batches", files=[("files", (p.name, p.read_bytes())) for p in demo[:3]], headers=headers
    )
    bid = response.json()["id"]
    assert started.wait(60)
    running = client.get(f"/api/batches/{bid}", headers=headers).json()
    assert (running["status"], running["done"], running["total"]) == ("running", 1, 3) and "submissions" not in running
    page = client.get(f"/batches/{bid}").text
    assert f'data-poll="/api/batches/{bid}"' in page and "1 / 3" in page and 'http-equiv="refresh"' in page
    gate.set()
    done = wait_for(client, bid, headers)
    assert done["status"] == "done" and len(done["submissions"]) == 3 and (done["done"], done["total"]) == (3, 3)
    assert "data-poll" not in client.get(f"/batches/{bid}").text


def test_a_batch_reviewed_by_a_process_pool(target, demo):
    """`serve --workers 2`: the files of a batch reviewed by spawned processes, with the same results."""
    files = {p.name: p.read_bytes() for p in demo[:4]}
    with TestClient(make_app(target, workers=2)) as c:
        headers = api_token(c)
        batch = upload(c, files, headers)
        assert batch["status"] == "done" and [e["file"] for e in batch["submissions"]] == list(files)
        assert all(e["status"] == "pass" and e["ledger_id"] for e in batch["submissions"])
        # workers that die (killed, out of memory) after a batch do not break the next one: each batch has its pool
        for process in multiprocessing.active_children():  # the batch's pool, if it is still there
            process.kill()
        again = upload(c, {p.name: p.read_bytes() for p in demo[4:6]}, headers)
        assert again["status"] == "done" and all(e["status"] == "pass" for e in again["submissions"]), again["error"]
