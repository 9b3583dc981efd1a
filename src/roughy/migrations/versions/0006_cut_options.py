"""cut options: a cut is the same one for the same asset, script and options

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Cuts gain ``options`` (every option resolved, by its API name) and their key becomes
``inputs_key``, sha256 of the script and the options (``roughy.cuts.service.inputs_key``).
A cut made before had the built-in defaults: it gets them, and its key is computed again, so a
repeat of its request with default options finds it. Both are written here as they were then,
not imported, so that this migration does the same whatever the code becomes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DEFAULTS: dict[str, Any] = {
    "max_pause_seconds": 0.4,
    "padding_before_seconds": 0.08,
    "padding_after_seconds": 0.16,
    "remove_fillers": True,
    "take": "last",
    "remove_repeats": True,
}

cuts = sa.table(
    "cuts",
    sa.column("id", sa.String),
    sa.column("script", sa.Text),
    sa.column("script_key", sa.String),
    sa.column("options", sa.JSON),
    sa.column("inputs_key", sa.String),
)


def inputs_key(script: str | None, options: dict[str, Any]) -> str:
    text = json.dumps(
        {"script": script, "options": options},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("cuts") as batch:
        batch.add_column(sa.Column("options", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("inputs_key", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    for cut_id, script in conn.execute(sa.select(cuts.c.id, cuts.c.script)).all():
        conn.execute(
            cuts.update()
            .where(cuts.c.id == cut_id)
            .values(options=DEFAULTS, inputs_key=inputs_key(script, DEFAULTS))
        )
    with op.batch_alter_table("cuts") as batch:
        batch.alter_column("options", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("inputs_key", existing_type=sa.String(length=64), nullable=False)
        batch.drop_constraint("uq_cuts_asset_script", type_="unique")
        batch.create_unique_constraint("uq_cuts_asset_inputs", ["asset_id", "inputs_key"])
        batch.drop_column("script_key")


def downgrade() -> None:
    """Back to one cut per (asset, script): cuts with other options than the built-in
    defaults cannot be told apart then, and are deleted."""
    with op.batch_alter_table("cuts") as batch:
        batch.add_column(sa.Column("script_key", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(cuts.c.id, cuts.c.script, cuts.c.inputs_key)).all()
    for cut_id, script, key in rows:
        if key != inputs_key(script, DEFAULTS):
            conn.execute(cuts.delete().where(cuts.c.id == cut_id))
            continue
        old = "" if script is None else hashlib.sha256(script.encode()).hexdigest()
        conn.execute(cuts.update().where(cuts.c.id == cut_id).values(script_key=old))
    with op.batch_alter_table("cuts") as batch:
        batch.alter_column("script_key", existing_type=sa.String(length=64), nullable=False)
        batch.drop_constraint("uq_cuts_asset_inputs", type_="unique")
        batch.create_unique_constraint("uq_cuts_asset_script", ["asset_id", "script_key"])
        batch.drop_column("inputs_key")
        batch.drop_column("options")
