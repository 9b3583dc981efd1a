"""credit ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHARGE = "type = 'consume_asset'"


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ledger_account_created", "ledger_entries", ["account_id", "created_at"])
    op.create_index(
        "ux_ledger_asset_charge",
        "ledger_entries",
        ["asset_id"],
        unique=True,
        sqlite_where=sa.text(CHARGE),
        postgresql_where=sa.text(CHARGE),
    )


def downgrade() -> None:
    op.drop_index("ux_ledger_asset_charge", table_name="ledger_entries")
    op.drop_index("ix_ledger_account_created", table_name="ledger_entries")
    op.drop_table("ledger_entries")
