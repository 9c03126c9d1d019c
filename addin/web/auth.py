"""Who gets in: reviewer accounts in the ledger, sessions and API tokens, CSRF tokens, the login rate limit.

- Passwords are hashed with argon2id (``argon2-cffi``'s defaults: 64 MiB, 3 passes); a login for an
  unknown name verifies against a dummy hash, so it takes as long as a real one.
- A session or API token is 32 random bytes (``secrets``); the ledger keeps only its sha256, so a copy
  of the ledger gives no one a way in. A browser session carries its own CSRF token (``AuthToken.csrf``),
  which every form posts back; a script's Bearer token needs none (a browser never sends it by itself).
- Failed logins are counted per address and user name, and per address, in a sliding window
  (``LoginLimiter``): past the limit the login answers 429 with the seconds to wait, whatever the password.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import unicodedata
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from policies.errors import GreenAwardError

from ..ledger.db import Ledger
from ..ledger.models import AuthToken, User

PASSWORD_MIN = 10
NAME_MAX = 100
hasher = PasswordHasher()
_DUMMY = hasher.hash("not a password of anyone " + secrets.token_hex(8))


class AuthError(GreenAwardError):
    """An account that cannot be made or changed as asked (a name taken, a short password...)."""


def utc(moment: datetime) -> datetime:
    """A time from the ledger as an aware UTC time (SQLite gives back naive UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def clean_name(name: str) -> str:
    """A reviewer's name as stored (NFC, trimmed); one line of printable text, at most ``NAME_MAX`` characters."""
    text = unicodedata.normalize("NFC", (name or "").strip())
    if not text:
        raise AuthError("user name: empty / 用户名为空")
    if len(text) > NAME_MAX:
        raise AuthError(f"user name: at most {NAME_MAX} characters / 用户名过长")
    if any(unicodedata.category(c).startswith("C") for c in text):
        raise AuthError("user name: control characters are not allowed / 用户名含控制字符")
    return text


def check_password(password: str) -> str:
    if len(password or "") < PASSWORD_MIN:
        raise AuthError(f"password: at least {PASSWORD_MIN} characters / 密码至少{PASSWORD_MIN}个字符")
    return password


# --- accounts ----------------------------------------------------------------------------------------


def add_user(ledger: Ledger, name: str, password: str, *, admin: bool = False) -> User:
    name, password = clean_name(name), check_password(password)
    digest = hasher.hash(password)
    with ledger.write() as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise AuthError(
                f"user {name!r} exists; `green-award users passwd {name}` changes the password / 用户已存在"
            )
        user = User(name=name, password_hash=digest, is_admin=admin)
        session.add(user)
        session.flush()
        session.expunge(user)
        return user


def set_password(ledger: Ledger, name: str, password: str) -> None:
    """A new password; every session and token of the user ends."""
    name, password = clean_name(name), check_password(password)
    digest = hasher.hash(password)
    with ledger.write() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise AuthError(f"no user {name!r} / 无此用户")
        user.password_hash = digest
        for token in session.scalars(select(AuthToken).where(AuthToken.user_id == user.id)):
            token.revoked = True


def set_disabled(ledger: Ledger, name: str, disabled: bool) -> None:
    """Disable (or enable again) an account: a disabled one cannot log in and its tokens stop working."""
    name = clean_name(name)
    with ledger.write() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise AuthError(f"no user {name!r} / 无此用户")
        user.disabled = disabled


def users(ledger: Ledger) -> list[dict]:
    with ledger.read() as session:
        return [
            {"id": u.id, "name": u.name, "admin": u.is_admin, "disabled": u.disabled, "created_at": utc(u.created_at)}
            for u in session.scalars(select(User).order_by(User.name))
        ]


def authenticate(ledger: Ledger, name: str, password: str) -> User | None:
    """The user if the name and password match an enabled account; the same time spent either way."""
    try:
        name = clean_name(name)
    except AuthError:
        name = ""
    with ledger.read() as session:
        user = session.scalar(select(User).where(User.name == name)) if name else None
        digest = user.password_hash if user is not None else _DUMMY
        try:
            hasher.verify(digest, password or "")
        except (VerificationError, InvalidHashError):
            return None
        if user is None or user.disabled:
            return None
        session.expunge(user)
    if hasher.check_needs_rehash(digest):
        with ledger.write() as session:
            stored = session.get(User, user.id)
            if stored is not None:
                stored.password_hash = hasher.hash(password)
    return user


# --- sessions and tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Auth:
    """Who made a request, and how: ``cookie`` (a browser session: forms carry ``csrf``) or ``bearer`` (a script)."""

    user_id: int
    name: str
    admin: bool
    token_id: int
    csrf: str
    via: str


def issue(ledger: Ledger, user_id: int, *, kind: str = "session", lifetime: timedelta) -> tuple[str, datetime]:
    """A new token (returned once, never stored) and when it expires."""
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + lifetime
    with ledger.write() as session:
        session.add(
            AuthToken(
                user_id=user_id,
                kind=kind,
                token_sha256=token_hash(token),
                csrf=secrets.token_urlsafe(32),
                expires_at=expires,
            )
        )
    return token, expires


def lookup(ledger: Ledger, token: str, via: str) -> Auth | None:
    """The live token's user: not revoked, not expired, the account enabled."""
    if not token or len(token) > 200:
        return None
    with ledger.read() as session:
        row = session.scalar(select(AuthToken).where(AuthToken.token_sha256 == token_hash(token)))
        if row is None or row.revoked or utc(row.expires_at) <= datetime.now(UTC):
            return None
        user = row.user
        if user.disabled:
            return None
        return Auth(user.id, user.name, user.is_admin, row.id, row.csrf, via)


def revoke(ledger: Ledger, token_id: int) -> None:
    with ledger.write() as session:
        row = session.get(AuthToken, token_id)
        if row is not None:
            row.revoked = True


def api_token(ledger: Ledger, name: str, days: float) -> tuple[str, datetime]:
    """A script's token for ``name`` (``green-award users token``)."""
    name = clean_name(name)
    if not 0 < days <= 366:
        raise AuthError("token: --days between 1 and 366 / 有效期须在1至366天之间")
    with ledger.read() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None or user.disabled:
            raise AuthError(f"no enabled user {name!r} / 无此用户或已停用")
        user_id = user.id
    return issue(ledger, user_id, kind="api", lifetime=timedelta(days=days))


# --- the login rate limit ----------------------------------------------------------------------------


class LoginLimiter:
    """Failed logins in a sliding window: ``per_name`` per (address, name), ``per_address`` per address."""

    def __init__(self, per_name: int = 5, per_address: int = 20, window: float = 900.0, clock=time.monotonic):
        self.per_name, self.per_address, self.window, self.clock = per_name, per_address, window, clock
        self._failures: dict[tuple, deque] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple) -> deque:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= self.clock() - self.window:
            times.popleft()
        return times

    def wait(self, address: str, name: str) -> int:
        """Seconds until another attempt is allowed (0: now)."""
        with self._lock:
            waits = []
            for key, limit in (((address, name), self.per_name), ((address,), self.per_address)):
                times = self._recent(key)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window - self.clock())
            return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, address: str, name: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent((address, name)).append(now)
            self._recent((address,)).append(now)
            if len(self._failures) > 10_000:  # bounded memory: forget the keys with nothing recent
                for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
                    del self._failures[key]

    def succeeded(self, address: str, name: str) -> None:
        with self._lock:
            self._failures.pop((address, name), None)
