"""Alembic's environment for the ledger: always run programmatically (``addin.ledger.db``), on the
connection the caller passes in ``config.attributes["connection"]``; there is no alembic.ini."""

from alembic import context

from addin.ledger.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection, target_metadata=Base.metadata, render_as_batch=True, version_table="ledger_version"
)
with context.begin_transaction():
    context.run_migrations()
