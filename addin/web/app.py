"""The FastAPI application: pages for reviewers, a JSON API for scripts, and the guards around both.

The guards are ASGI middleware, so they hold for every route, the ones added later included:

- ``Guard``: nothing is served without a live session cookie or Bearer token except the login page,
  ``POST /login``, ``POST /api/login``, ``/openapi.json`` (the schema only: ``/docs`` is off) and
  ``/static/`` (the login page's stylesheet, script and icon). An anonymous request gets 401 (``/api/``)
  or a redirect to the login page, before its body is read;
- ``BodyLimit``: a body above the limit (``max_upload_bytes`` for the two upload routes,
  ``max_body_bytes`` elsewhere) is refused with 413 from its ``Content-Length`` before a byte is read,
  and, without one (chunked), as soon as the bytes received pass it;
- ``SecurityHeaders``: no framing, no sniffing, scripts and styles from this server only, no caching
  of pages (what they show is confidential);
- uvicorn's ``ProxyHeadersMiddleware``: behind a TLS proxy (``--trusted-proxy``), ``X-Forwarded-Proto``
  and ``X-Forwarded-For`` are believed, so cookies are ``Secure`` over HTTPS and the login limit
  counts the real addresses.

Every POST of a browser session carries the session's CSRF token (a form's ``csrf`` field or an
``X-CSRF-Token`` header: ``check_csrf``); the login form carries one of its own (a cookie set with
the page). Requests with a Bearer token need none.
"""

from __future__ import annotations

import hmac
import json
import secrets
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPBearer
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from policies.errors import GreenAwardError
from policies.numbers import to_decimal

from ..ledger.db import Ledger, open_ledger
from . import views
from .auth import Auth, LoginLimiter, authenticate, issue, lookup, revoke, utc
from .jobs import Jobs
from .uploads import Staging, UploadError

MiB = 1024 * 1024
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "ga_session"
LOGIN_COOKIE = "ga_login_csrf"
UPLOAD_PATHS = frozenset({"/batches", "/api/batches"})
PUBLIC = frozenset(
    {
        ("GET", "/login"),
        ("HEAD", "/login"),
        ("POST", "/login"),
        ("POST", "/api/login"),
        ("GET", "/openapi.json"),
        ("HEAD", "/openapi.json"),
    }
)


@dataclass(frozen=True)
class Settings:
    """One server: one ledger, and its limits."""

    ledger: str
    max_upload_bytes: int = 100 * MiB  # one upload request (files and zips together)
    max_body_bytes: int = 64 * 1024  # any other request (a login, a decision)
    max_files: int = 1000  # files in one batch, zip entries included
    session_hours: float = 12.0
    login_failures: int = 5  # per address and user name, in the window
    login_failures_per_address: int = 20
    login_window_seconds: float = 900.0
    trusted_proxies: str = "127.0.0.1"  # whose X-Forwarded-* headers are believed (comma-separated; "*" any)
    workers: int = 1  # review processes per batch (1: in the review thread)
    upload_dir: str | None = None  # where the private upload folders are made (default: the system's temp)


def is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC or (method in ("GET", "HEAD") and path.startswith("/static/"))


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


# --- middleware ----------------------------------------------------------------------------------------


class Guard:
    """Who is asking: ``scope["state"]["auth"]``; anonymous requests end here, except for the public routes."""

    def __init__(self, app, ledger: Ledger):  # noqa: ANN001
        self.app, self.ledger = app, ledger

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].startswith("/static/") and scope["method"] in ("GET", "HEAD"):
            scope.setdefault("state", {})["auth"] = None  # public files: no need to know who asks
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        token, via = "", "cookie"
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            token, via = credentials.strip(), "bearer"
        else:
            for part in headers.get("cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == SESSION_COOKIE:
                    token = value.strip()
        auth = await run_in_threadpool(lookup, self.ledger, token, via) if token else None
        scope.setdefault("state", {})["auth"] = auth
        path, method = scope["path"], scope["method"]
        if auth is None and not is_public(method, path):
            if is_api(path):
                response: Response = JSONResponse(
                    {"detail": "login required: POST /api/login, then Authorization: Bearer TOKEN / 请先登录"},
                    401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            else:
                query = scope.get("query_string", b"").decode("latin-1")
                target = path + ("?" + query if query else "")
                response = RedirectResponse(
                    "/login?" + urlencode({"next": target}) if method == "GET" else "/login", 303
                )
            return await response(scope, receive, send)
        await self.app(scope, receive, send)


class TooLarge(StarletteHTTPException):
    def __init__(self, limit: int):
        super().__init__(
            413, f"the request is larger than {limit / MiB:,.1f} MiB (the limit) / 请求超过{limit / MiB:,.1f} MiB上限"
        )


class BodyLimit:
    """413 for a body above the limit: from Content-Length before reading, else while counting what arrives."""

    def __init__(self, app, settings: Settings):  # noqa: ANN001
        self.app, self.settings = app, settings

    def limit(self, path: str) -> int:
        return self.settings.max_upload_bytes if path in UPLOAD_PATHS else self.settings.max_body_bytes

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit(scope["path"])
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            return await self.refuse(scope, receive, send, limit)
        received, started = 0, False

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(limit)
            return message

        async def sending(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except TooLarge:
            if started:
                raise
            await self.refuse(scope, receive, send, limit)

    async def refuse(self, scope, receive, send, limit: int) -> None:  # noqa: ANN001
        detail = TooLarge(limit).detail
        response = (
            JSONResponse({"detail": detail}, 413)
            if is_api(scope["path"])
            else HTMLResponse(f"<!doctype html><meta charset='utf-8'><title>413</title><p>{detail}</p>", 413)
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class SecurityHeaders:
    def __init__(self, app):  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith("/static/")

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                    b"content-security-policy": CSP.encode(),
                }
                if not static:
                    extra[b"cache-control"] = b"no-store"
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in extra.items() if k not in present)
            await send(message)

        await self.app(scope, receive, sending)


# --- requests: who, CSRF, forms ----------------------------------------------------------------------


def who(request: Request) -> Auth:
    auth = getattr(request.state, "auth", None)
    if auth is None:  # the Guard lets no one through anonymously to here; a second line all the same
        raise HTTPException(401, "login required / 请先登录")
    return auth


class CsrfError(HTTPException):
    def __init__(self):
        super().__init__(
            403,
            "the form has expired or did not come from this site (CSRF token missing or wrong): "
            "reload the page and try again / 表单已过期或来源不明，请刷新页面后重试",
        )


async def check_csrf(request: Request) -> Auth:
    """Every POST of a browser session carries its CSRF token; a Bearer token (a script) needs none."""
    auth = who(request)
    if auth.via == "bearer":
        return auth
    sent: object = request.headers.get("x-csrf-token")
    if not sent:
        kind = request.headers.get("content-type", "")
        if kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            sent = (await request.form()).get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), auth.csrf.encode()):
        raise CsrfError()
    return auth


def https(request: Request) -> bool:
    return request.url.scheme == "https"


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or "\n" in target:
        return "/"
    return target


def parse_amount(text: str | None) -> Decimal | None:
    if text is None or not str(text).strip():
        return None
    try:
        return to_decimal(str(text).strip())
    except (GreenAwardError, ValueError, InvalidOperation):
        raise GreenAwardError(f"amount: {str(text)[:40]!r} is not an amount in yuan / 金额格式不正确") from None


class LoginIn(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class VoidIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000, description="why the decision is void (kept with the void)")


class DecisionIn(BaseModel):
    action: Literal["grant", "reduce", "reject"]
    amount: Decimal | None = Field(None, description="reduce: the amount granted, in yuan")
    reason: str = Field(min_length=1, max_length=4000)


# --- the application ---------------------------------------------------------------------------------


def create_app(settings: Settings) -> FastAPI:
    """The app for one ledger (opened now: a missing or outdated ledger stops the server before it starts)."""
    ledger = open_ledger(settings.ledger)
    jobs = Jobs(ledger, workers=settings.workers)
    limiter = LoginLimiter(settings.login_failures, settings.login_failures_per_address, settings.login_window_seconds)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.filters["yuan"] = lambda v: "—" if v is None or v == "" else f"{Decimal(str(v)):,.2f}"
    env.filters["when"] = lambda v: "—" if not v else utc(v).astimezone().strftime("%Y-%m-%d %H:%M")
    env.globals.update(
        STATES=views.STATES,
        ACTIONS=views.ACTIONS,
        POLICY_NAMES=views.POLICY_NAMES,
        said=views.said,
        version=package_version("green-award"),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await run_in_threadpool(jobs.interrupted)
        yield
        await run_in_threadpool(jobs.shutdown)
        ledger.close()

    app = FastAPI(
        title="green-award reviewers' desk 审核台",
        version=package_version("green-award"),
        description="The review of declarations on the claims ledger. Log in with POST /api/login, then send "
        "`Authorization: Bearer TOKEN`.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ledger, app.state.jobs, app.state.settings, app.state.limiter = ledger, jobs, settings, limiter
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(Guard, ledger=ledger)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    bearer = HTTPBearer(auto_error=False, description="the token of POST /api/login")

    def page(
        request: Request, template: str, status: int = 200, headers: dict | None = None, **context
    ) -> HTMLResponse:
        auth = getattr(request.state, "auth", None)
        return templates.TemplateResponse(
            request,
            template,
            {"auth": auth, "csrf": auth.csrf if auth else "", **context},
            status_code=status,
            headers=headers,
        )

    # --- errors: a page for people, JSON for scripts ---------------------------------------------------

    plain = {404: "找不到 Not found", 405: "不支持此操作 Method not allowed", 401: "请先登录 Login required"}

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail
        if exc.status_code in plain and detail in ("Not Found", "Method Not Allowed", "Unauthorized"):
            detail = plain[exc.status_code]  # Starlette's own words, in both languages
        if is_api(request.url.path):
            return JSONResponse({"detail": detail}, exc.status_code, headers=getattr(exc, "headers", None))
        return page(request, "error.html", exc.status_code, headers=getattr(exc, "headers", None), message=str(detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        if is_api(request.url.path):
            return JSONResponse({"detail": jsonable_errors(exc)}, 422)
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors())
        return page(
            request, "error.html", 400, message=f"the form is incomplete or invalid ({fields}) / 表单不完整或无效"
        )

    @app.exception_handler(views.NotFound)
    async def not_found(request: Request, exc: views.NotFound):
        return await http_error(request, StarletteHTTPException(404, str(exc)))

    @app.exception_handler(GreenAwardError)
    async def refused(request: Request, exc: GreenAwardError):
        return await http_error(request, StarletteHTTPException(400, str(exc)))

    # --- logging in and out --------------------------------------------------------------------------

    def login_page(
        request: Request,
        status: int = 200,
        message: str = "",
        next_: str = "/",
        name: str = "",
        headers: dict | None = None,
    ) -> HTMLResponse:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        response = page(
            request,
            "login.html",
            status,
            headers=headers,
            login_csrf=token,
            message=message,
            next=safe_next(next_),
            username=name,
        )
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=https(request), path="/")
        return response

    def set_session(request: Request, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(settings.session_hours * 3600),
            httponly=True,
            samesite="lax",
            secure=https(request),
            path="/",
        )

    def new_session(user_id: int) -> tuple[str, datetime]:
        return issue(ledger, user_id, lifetime=timedelta(hours=settings.session_hours))

    def attempt(request: Request, name: str, password: str):  # noqa: ANN202
        """(user, seconds to wait): the rate limit first, then the password."""
        address = request.client.host if request.client else ""
        wait = limiter.wait(address, name)
        if wait:
            return None, wait
        user = authenticate(ledger, name, password)
        if user is None:
            limiter.failed(address, name)
        else:
            limiter.succeeded(address, name)
        return user, 0

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/"):  # noqa: A002 - the query parameter's name
        if getattr(request.state, "auth", None) is not None:
            return RedirectResponse(safe_next(next), 303)
        return login_page(request, next_=next)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf: str = Form(""),
        next: str = Form("/"),
    ):  # noqa: A002
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
            return login_page(request, 403, "表单已过期，请重试 The form expired: please try again", next, username)
        user, wait = attempt(request, username, password)
        if wait:
            return login_page(
                request,
                429,
                f"尝试次数过多，请{-(-wait // 60)}分钟后再试 Too many failed attempts: try again in "
                f"{-(-wait // 60)} minute(s)",
                next,
                username,
                headers={"Retry-After": str(wait)},
            )
        if user is None:
            return login_page(request, 401, "用户名或密码错误 Wrong user name or password", next, username)
        response = RedirectResponse(safe_next(next), 303)
        set_session(request, response, new_session(user.id)[0])
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    @app.post(
        "/api/login", tags=["auth"], summary="Log in: a token for Authorization: Bearer (also sets the session cookie)"
    )
    def api_login(request: Request, body: LoginIn):
        user, wait = attempt(request, body.username, body.password)
        if wait:
            return JSONResponse(
                {"detail": f"too many failed attempts: try again in {wait} s / 尝试次数过多"},
                429,
                headers={"Retry-After": str(wait)},
            )
        if user is None:
            return JSONResponse({"detail": "wrong user name or password / 用户名或密码错误"}, 401)
        token, expires = new_session(user.id)
        auth = lookup(ledger, token, "cookie")
        response = JSONResponse(
            {
                "token": token,
                "token_type": "bearer",
                "expires_at": expires.isoformat(),
                "user": user.name,
                "csrf": auth.csrf if auth else "",
            }
        )
        set_session(request, response, token)
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(auth: Auth = Depends(check_csrf)):
        revoke(ledger, auth.token_id)
        response = RedirectResponse("/login", 303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.post(
        "/api/logout",
        tags=["auth"],
        status_code=204,
        dependencies=[Depends(bearer)],
        summary="End this token (or session)",
    )
    def api_logout(auth: Auth = Depends(check_csrf)):
        revoke(ledger, auth.token_id)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- the inbox -----------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def inbox(
        request: Request,
        state: str = "",
        policy: str = "",
        q: str = Query("", max_length=200),
        year: str = "",
        batch: str = "",
        flagged: str = "",
        sort: str = "id",
        order: str = "desc",
        page_: int = Query(1, alias="page"),
    ):
        who(request)
        year_n = int(year) if year.isdigit() else None
        batch_n = int(batch) if batch.isdigit() else None
        data = views.inbox(
            ledger,
            state=state if state in views.STATES else "",
            policy=policy if policy in views.POLICY_NAMES else "",
            q=q,
            year=year_n,
            batch=batch_n,
            flagged=bool(flagged),
            sort=sort,
            order=order,
            page=page_,
        )
        filters = {
            "state": state,
            "policy": policy,
            "q": q,
            "year": year,
            "batch": batch,
            "flagged": flagged,
            "sort": sort,
            "order": order,
        }

        def link(**change) -> str:  # noqa: E306
            merged = {**filters, **change}
            return "/?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})

        return page(request, "inbox.html", data=data, filters=filters, link=link, active="inbox")

    # --- batches -------------------------------------------------------------------------------------

    def new_batch(auth: Auth, files: list[UploadFile]) -> int:
        staging = Staging(settings.upload_dir, max_files=settings.max_files)
        try:
            for upload in files:
                if not upload.filename and not upload.size:
                    continue  # the empty part a browser sends when nothing was chosen
                staging.add(upload.filename, upload.file)
            if not staging.items:
                raise UploadError("files: none chosen; choose declarations (.xlsx) or a .zip of them / 未选择文件")
            return jobs.start(staging, auth.name)
        except BaseException:
            staging.cleanup()
            raise

    @app.get("/batches", response_class=HTMLResponse, include_in_schema=False)
    def batches(request: Request):
        who(request)
        return page(request, "batches.html", batches=views.batches(ledger), settings=settings, active="batches")

    @app.post("/batches", include_in_schema=False)
    def upload(files: list[UploadFile] = File(default_factory=list), auth: Auth = Depends(check_csrf)):
        batch_id = new_batch(auth, files)
        return RedirectResponse(f"/batches/{batch_id}", 303)

    @app.get("/batches/{batch_id}", response_class=HTMLResponse, include_in_schema=False)
    def batch_page(request: Request, batch_id: int):
        who(request)
        data = views.batch(ledger, batch_id)
        return page(request, "batch.html", batch=data, progress=jobs.progress(batch_id), active="batches")

    @app.get("/batches/{batch_id}/report.json", include_in_schema=False)
    def batch_json(request: Request, batch_id: int):
        who(request)
        data = views.batch(ledger, batch_id)
        body = (json.dumps(data["report"], ensure_ascii=False, indent=2) + "\n").encode("utf-8", "backslashreplace")
        return Response(
            body,
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="review-batch-{batch_id}.json"'},
        )

    @app.get("/batches/{batch_id}/report.xlsx", include_in_schema=False)
    def batch_xlsx(request: Request, batch_id: int):
        who(request)
        data = views.batch_workbook(ledger, batch_id)
        if data is None:
            raise HTTPException(409, "the batch is not reviewed yet / 批次尚未审核完")
        return Response(
            data,
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="review-batch-{batch_id}.xlsx"'},
        )

    @app.post(
        "/api/batches",
        tags=["batches"],
        status_code=202,
        dependencies=[Depends(bearer)],
        summary="Upload declarations (.xlsx) or a .zip of them: a batch to review in the background",
    )
    def api_upload(
        request: Request,
        files: list[UploadFile] = File(..., description="one or more .xlsx or .zip"),
        auth: Auth = Depends(check_csrf),
    ):
        batch_id = new_batch(auth, files)
        return {"id": batch_id, "status": "queued", "url": f"/api/batches/{batch_id}"}

    @app.get(
        "/api/batches/{batch_id}",
        tags=["batches"],
        dependencies=[Depends(bearer)],
        summary="A batch's status; when done, its submissions (the entries of `green-award review --json`)",
    )
    def api_batch(request: Request, batch_id: int):
        who(request)
        data = views.batch(ledger, batch_id)
        done, total = jobs.progress(batch_id) or (
            (data["files"], data["files"]) if data["status"] == "done" else (0, 0)
        )
        out = {
            "id": data["id"],
            "status": data["status"],
            "files": data["files"],
            "done": done,
            "total": total,
            "created_by": data["created_by"],
            "created_at": data["created_at"].isoformat(),
            "finished_at": data["finished_at"].isoformat() if data["finished_at"] else None,
            "error": data["error"],
        }
        if data["status"] == "done":
            out["submissions"] = data["report"]
            out["summary"] = {k: (float(v) if isinstance(v, Decimal) else v) for k, v in data["summary"].items()}
        return out

    # --- submissions and decisions -------------------------------------------------------------------

    @app.get("/submissions/{submission_id}", response_class=HTMLResponse, include_in_schema=False)
    def submission_page(request: Request, submission_id: int, decided: int | None = None):
        who(request)
        return page(
            request,
            "submission.html",
            sub=views.submission(ledger, submission_id),
            decided=decided,
            form={},
            error="",
            active="inbox",
        )

    def decide(auth: Auth, submission_id: int, action: str, amount: Decimal | None, reason: str):
        from ..ledger.repository import decide as record_decision

        views.require_submission(ledger, submission_id)
        return record_decision(ledger, submission_id, action, reviewer=auth.name, reason=reason, amount=amount)

    def submission_refused(request: Request, submission_id: int, form: dict[str, object], exc: GreenAwardError):
        """The submission page again (400) with what was typed and why it was refused."""
        sub = views.submission(ledger, submission_id)
        return page(request, "submission.html", 400, sub=sub, decided=None, form=form, error=str(exc), active="inbox")

    @app.post("/submissions/{submission_id}/decision", include_in_schema=False)
    def decision_form(
        request: Request,
        submission_id: int,
        action: str = Form(""),
        amount: str = Form(""),
        reason: str = Form(""),
        auth: Auth = Depends(check_csrf),
    ):
        try:
            if action not in ("grant", "reduce", "reject"):
                raise GreenAwardError("action: choose grant, reduce or reject / 请选择批准、核减或驳回")
            made = decide(auth, submission_id, action, parse_amount(amount) if action == "reduce" else None, reason)
        except views.NotFound:
            raise
        except GreenAwardError as exc:
            return submission_refused(
                request, submission_id, {"action": action, "amount": amount, "reason": reason}, exc
            )
        return RedirectResponse(f"/submissions/{submission_id}?decided={made.id}#decisions", 303)

    @app.get(
        "/api/submissions/{submission_id}",
        tags=["submissions"],
        dependencies=[Depends(bearer)],
        summary="A submission: amounts, what it stands at, findings, decisions, earlier claims",
    )
    def api_submission(request: Request, submission_id: int):
        who(request)
        data = views.submission(ledger, submission_id)
        data.pop("clause_info", None)
        return json_safe(data)

    @app.post(
        "/api/submissions/{submission_id}/decision",
        tags=["submissions"],
        dependencies=[Depends(bearer)],
        summary="Decide: grant (what the rules allow now), reduce to `amount`, or reject; with a reason",
    )
    def api_decision(submission_id: int, body: DecisionIn, auth: Auth = Depends(check_csrf)):
        if body.action == "reduce" and body.amount is None:
            raise GreenAwardError("amount: reduce needs the amount granted / 核减须给出金额")
        made = decide(auth, submission_id, body.action, body.amount if body.action == "reduce" else None, body.reason)
        return views.decision_data(made)

    def void(auth: Auth, decision_id: int, reason: str) -> list:
        """``ledger void``'s rules: a reason, recorded with who and when, in one transaction."""
        from ..ledger.repository import void as record_void

        return record_void(ledger, decision_id, reviewer=auth.name, reason=reason)

    @app.post("/decisions/{decision_id}/void", include_in_schema=False)
    def void_form(request: Request, decision_id: int, reason: str = Form(""), auth: Auth = Depends(check_csrf)):
        submission_id = views.submission_of(ledger, decision_id)
        try:
            made = void(auth, decision_id, reason)
        except GreenAwardError as exc:
            return submission_refused(request, submission_id, {"void": decision_id, "void_reason": reason}, exc)
        return RedirectResponse(f"/submissions/{submission_id}?decided={made[0].id}#decisions", 303)

    @app.post(
        "/api/decisions/{decision_id}/void",
        tags=["submissions"],
        dependencies=[Depends(bearer)],
        summary="Void a decision, with a reason: the submission falls back to its previous standing (the decisions "
        "appended: the void, and a reduction should the caps no longer leave that standing)",
    )
    def api_void(decision_id: int, body: VoidIn, auth: Auth = Depends(check_csrf)):
        views.submission_of(ledger, decision_id)
        return [views.decision_data(d) for d in void(auth, decision_id, body.reason)]

    # --- enterprises, policies -----------------------------------------------------------------------

    @app.get("/enterprises", response_class=HTMLResponse, include_in_schema=False)
    def enterprises(request: Request):
        from ..ledger.repository import enterprises as listing

        who(request)
        return page(request, "enterprises.html", rows=listing(ledger), active="enterprises")

    @app.get("/enterprises/{uscc}", response_class=HTMLResponse, include_in_schema=False)
    def enterprise_page(request: Request, uscc: str):
        who(request)
        return page(request, "enterprise.html", info=views.enterprise(ledger, uscc), active="enterprises")

    @app.get(
        "/api/enterprises/{uscc}",
        tags=["enterprises"],
        dependencies=[Depends(bearer)],
        summary="An enterprise's claims by year, the room under each cap, what is still payable",
    )
    def api_enterprise(request: Request, uscc: str):
        who(request)
        return json_safe(views.enterprise(ledger, uscc))

    @app.get("/policies", response_class=HTMLResponse, include_in_schema=False)
    def policy_list(request: Request):
        who(request)
        return page(request, "policies.html", policies=views.policy_catalog(), active="policies")

    @app.get("/policies/{clause_id}", response_class=HTMLResponse, include_in_schema=False)
    def clause(request: Request, clause_id: str):
        who(request)
        return page(request, "clause.html", c=views.clause_page(clause_id), active="policies")

    # --- the ledger export ---------------------------------------------------------------------------

    @app.get("/export/ledger.{fmt}", include_in_schema=False)
    def ledger_export(request: Request, fmt: Literal["json", "xlsx"]):
        from ..ledger.export import write_export
        from ..ledger.repository import export

        who(request)
        data = export(ledger)
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        return temporary_download(
            lambda path: write_export(data, path, overwrite=True),
            f"ledger-{stamp}.{fmt}",
            XLSX if fmt == "xlsx" else "application/json",
        )

    # --- users (administrators) ----------------------------------------------------------------------

    def admin(request: Request) -> Auth:
        auth = who(request)
        if not auth.admin:
            raise HTTPException(403, "administrators only / 仅限管理员")
        return auth

    @app.get("/users", response_class=HTMLResponse, include_in_schema=False)
    def user_list(request: Request, added: str = Query("", max_length=100)):
        from .auth import users

        admin(request)
        return page(
            request,
            "users.html",
            users=users(ledger),
            message=f"已添加 Added {added}" if added else "",
            error="",
            active="users",
        )

    @app.post("/users", include_in_schema=False)
    def user_add(
        request: Request,
        name: str = Form(""),
        password: str = Form(""),
        is_admin: str = Form(""),
        auth: Auth = Depends(check_csrf),
    ):
        from .auth import add_user, users

        admin(request)
        try:
            add_user(ledger, name, password, admin=bool(is_admin))
        except GreenAwardError as exc:
            return page(request, "users.html", 400, users=users(ledger), message="", error=str(exc), active="users")
        return RedirectResponse("/users?" + urlencode({"added": name.strip()}), 303)

    return app


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def temporary_download(write, filename: str, media_type: str) -> FileResponse:  # noqa: ANN001
    """A file written into a private temporary folder, sent, then removed."""
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="green-award-download-"))
    try:
        path = folder / ("download" + Path(filename).suffix)
        write(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=media_type,
        filename=filename,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def json_safe(value):  # noqa: ANN001, ANN201
    """Decimals as numbers, times as ISO text, anything else as text: for the API's answers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def jsonable_errors(exc: RequestValidationError) -> list:
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
