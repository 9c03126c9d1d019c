"""The ledger's tables (SQLAlchemy 2): facts about claims and the decisions on them, never re-decided.

- ``enterprises`` by unified social credit code; ``projects`` by the enterprise's own identifier;
- ``submissions``: one claim as submitted (clause, year, inputs, declared and recomputed amounts,
  the review's granted amount, the file and its sha256, unique: the same file is recorded once);
- ``findings``: what the review found in a submission (``source`` ``review``), or the rules against
  the record when it was recorded (``ledger``: shown again when the same file comes again);
- ``decisions``: append-only. ``granted`` / ``reduced`` / ``rejected`` with who, when and why; a
  ``void`` names the decision it voids (``voids``), or, without one, voids the whole submission
  (a corrected resubmission replaced it). Nothing is updated in place or deleted;
- ``payments``: the stages of a grant (stage, due year, amount, due/pending, paid);
- ``users``, ``auth_tokens``, ``batches``: the web app's reviewers (argon2 hashes), their sessions and
  API tokens (only a token's sha256 is kept), and the review batches uploaded (``addin.web``).

Amounts are stored as whole cents (``Money``): exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ACTIONS = ("granted", "reduced", "rejected", "void")

# constraint names fixed, so that migrations can name them on every database
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def now() -> datetime:
    return datetime.now(UTC)


class Money(TypeDecorator):
    """A Decimal amount in yuan, stored as whole cents (BIGINT)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        cents = Decimal(value) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"an amount has at most two decimals, got {value}")
        return int(cents)

    def process_result_value(self, value, dialect):
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)

    projects: Mapped[list[Project]] = relationship(back_populates="enterprise")


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("enterprise_id", "code", name="uq_projects_enterprise_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    code: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(500))

    enterprise: Mapped[Enterprise] = relationship(back_populates="projects")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_identity", "enterprise_id", "project_id", "clause", "year"),
        Index("ix_submissions_event", "clause", "event"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    clause: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(200), default="")
    inputs: Mapped[dict] = mapped_column(JSON, default=dict)
    declared_yuan: Mapped[Decimal | None] = mapped_column(Money)
    recomputed_yuan: Mapped[Decimal | None] = mapped_column(Money)
    reviewed_yuan: Mapped[Decimal | None] = mapped_column(Money)  # the review's granted amount, after the record
    passed: Mapped[bool] = mapped_column(Boolean)
    file: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(20))  # review | import
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))

    enterprise: Mapped[Enterprise] = relationship()
    project: Mapped[Project] = relationship()
    findings: Mapped[list[Finding]] = relationship(back_populates="submission", order_by="Finding.id")
    decisions: Mapped[list[Decision]] = relationship(back_populates="submission", order_by="Decision.id")
    payments: Mapped[list[Payment]] = relationship(back_populates="submission", order_by="Payment.id")


FINDING_SOURCES = ("review", "ledger")


class Finding(Base):
    __tablename__ = "findings"
    __table_args__ = (
        CheckConstraint("kind IN ('problem', 'warning', 'note')", name="kind"),
        CheckConstraint("source IN ('review', 'ledger')", name="source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="review")  # review (the file) | ledger (the record)

    submission: Mapped[Submission] = relationship(back_populates="findings")


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (CheckConstraint("action IN ('granted', 'reduced', 'rejected', 'void')", name="action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    reviewer: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    voids_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))

    submission: Mapped[Submission] = relationship(back_populates="decisions")


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))  # None: the review's grant
    stage: Mapped[int] = mapped_column(Integer)
    due_year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10))  # due | pending (on a condition, e.g. completion)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    submission: Mapped[Submission] = relationship(back_populates="payments")


# --- the web app (addin.web): reviewers, their sessions and API tokens, uploaded batches -----------------


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # recorded as the reviewer of decisions
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, with its parameters and salt
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class AuthToken(Base):
    """A browser session (``session``, with its CSRF token) or a script's API token (``api``)."""

    __tablename__ = "auth_tokens"
    __table_args__ = (CheckConstraint("kind IN ('session', 'api')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # the token itself is never stored
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class Batch(Base):
    """A batch uploaded in the web app: its files' review report (the entries of ``review --json``, and the
    workbook ``review.write_xlsx`` wrote for people)."""

    __tablename__ = "batches"
    __table_args__ = (CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    files: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[list] = mapped_column(JSON, default=list)
    report_xlsx: Mapped[bytes | None] = mapped_column(LargeBinary)
