"""job claims

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_claims",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("job", "key"),
    )
    # Assets left processing by an older version are owed their job: due at once.
    claims = sa.table(
        "job_claims",
        sa.column("job", sa.String),
        sa.column("key", sa.String),
        sa.column("holder", sa.String),
        sa.column("expires_at", sa.DateTime(timezone=True)),
        sa.column("attempts", sa.Integer),
    )
    assets = sa.table("assets", sa.column("id", sa.String), sa.column("state", sa.String))
    owed = sa.select(
        sa.literal("process_asset"),
        assets.c.id,
        sa.null(),
        sa.literal(datetime.now(UTC), sa.DateTime(timezone=True)),
        sa.literal(0),
    ).where(assets.c.state == "processing")
    op.execute(claims.insert().from_select(list(claims.c.keys()), owed))


def downgrade() -> None:
    op.drop_table("job_claims")
