"""findings: source (review | ledger) instead of a text prefix

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

Until 0002 the findings the rules against the record gave (``record``) were told from the file's
own by their text, which began with "账本 Ledger: ". They are now told by a column: ``source`` is
``ledger`` for those (and the prefix is removed from the stored text), ``review`` for the rest.
The downgrade puts the prefix back. Both run in the one transaction of ``ledger upgrade``.
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: How 0002 marked the ledger's findings (frozen here: a later change of the program's texts does not change history).
MARK = "账本 Ledger: "
findings = sa.table("findings", sa.column("text", sa.Text()), sa.column("source", sa.String(10)))


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=10), nullable=False, server_default="review"))
    op.execute(
        findings.update()
        .where(sa.func.substr(findings.c.text, 1, len(MARK)) == MARK)
        .values(source="ledger", text=sa.func.substr(findings.c.text, len(MARK) + 1))
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.alter_column("source", existing_type=sa.String(length=10), server_default=None)
        batch_op.create_check_constraint(op.f("ck_findings_source"), "source IN ('review', 'ledger')")


def downgrade() -> None:
    op.execute(
        findings.update()
        .where(findings.c.source == "ledger")
        .values(text=sa.literal(MARK, sa.Text()) + findings.c.text)
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_findings_source"), type_="check")
        batch_op.drop_column("source")
