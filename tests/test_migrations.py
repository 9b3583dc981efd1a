from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from roughy import migrate
from roughy.assets.models import Asset
from roughy.config import Settings
from roughy.cuts import service as cuts
from roughy.cuts.schemas import CutOptionsOut
from roughy.db import Database
from tests.conftest import database_for


def test_head_constant_names_the_newest_migration() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert script.get_current_head() == migrate.HEAD


def test_upgrade_is_idempotent_and_records_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert migrate.current_revision(url) is None
    migrate.upgrade(url)
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.HEAD


def test_cuts_made_before_options_are_found_again_with_default_options(
    database_url: str, tmp_path: Path
) -> None:
    """0006 gives the cuts made before it the built-in default options and the key of those:
    a repeat of their request (no options) finds them; a cut with other options is another.
    Going back to 0005 keeps the cuts it can tell apart (default options) and their old key."""
    url = Settings(database_url=database_for(database_url, tmp_path)).resolved_database_url
    command.upgrade(migrate.alembic_config(url), "0005")
    now = datetime.now(UTC)
    ids = {name: str(uuid.uuid4()) for name in ("account", "project", "asset", "bare", "said")}
    script = "Hello there.\nA second line, ünïcode."
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO accounts (id, email, created_at) VALUES (:id, :email, :now)"),
            {"id": ids["account"], "email": f"{ids['account']}@example.com", "now": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO projects (id, account_id, name, state, created_at, updated_at) "
                "VALUES (:id, :account, 'P', 'active', :now, :now)"
            ),
            {"id": ids["project"], "account": ids["account"], "now": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO assets (id, account_id, project_id, state, created_at, updated_at) "
                "VALUES (:id, :account, :project, 'ready', :now, :now)"
            ),
            {"id": ids["asset"], "account": ids["account"], "project": ids["project"], "now": now},
        )
        for name, text, key in (
            ("bare", None, ""),
            ("said", script, hashlib.sha256(script.encode()).hexdigest()),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO cuts (id, account_id, project_id, asset_id, script, script_key,"
                    " state, created_at) VALUES (:id, :account, :project, :asset, :script, :key,"
                    " 'completed', :now)"
                ),
                {
                    "id": ids[name],
                    "account": ids["account"],
                    "project": ids["project"],
                    "asset": ids["asset"],
                    "script": text,
                    "key": key,
                    "now": now,
                },
            )
    engine.dispose()
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.HEAD

    settings = Settings()
    database = Database(url)
    try:
        with database.session() as session:
            asset = session.get(Asset, ids["asset"])
            assert asset is not None
            for name, text in (("bare", None), ("said", script)):
                for given in ({}, {"take": "last", "max_pause_seconds": 0.4}):
                    cut, created = cuts.create(session, settings, asset, text, given)
                    assert (cut.id, created) == (ids[name], False)
                    assert CutOptionsOut.model_validate(cut.options).model_dump() == {
                        "max_pause_seconds": 0.4,
                        "padding_before_seconds": 0.08,
                        "padding_after_seconds": 0.16,
                        "remove_fillers": True,
                        "take": "last",
                        "remove_repeats": True,
                    }
            other, created = cuts.create(session, settings, asset, script, {"take": "best"})
            assert created and other.id not in ids.values()
    finally:
        database.dispose()

    command.downgrade(migrate.alembic_config(url), "0005")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, script_key FROM cuts ORDER BY id")).all()
    engine.dispose()
    assert sorted(rows) == sorted(
        [(ids["bare"], ""), (ids["said"], hashlib.sha256(script.encode()).hexdigest())]
    )
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.HEAD
